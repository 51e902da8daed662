"""The ``surveyapp`` command: a Flask CLI group with the project's own commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext


def _create_app() -> Flask:
    from . import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def cli() -> None:
    """Public-security satisfaction surveys: fieldwork, estimates and reports."""


def main() -> None:
    """Run the ``surveyapp`` console script."""
    argv = sys.argv[1:]
    # Estimating from a CSV file needs neither Flask nor the database: skip importing them,
    # which is most of the start-up time of a short command.
    if argv[:1] == ["estimate"] and any(a == "--data" or a.startswith("--data=") for a in argv):
        from .estimate_command import main_data

        sys.exit(main_data(argv[1:]))
    cli.main(args=argv, prog_name="surveyapp")


# --- localities -------------------------------------------------------------------------


@click.group("localities")
def localities_group() -> None:
    """Manage the locality tree (district > street > community > grid)."""


@localities_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def localities_import(file: Path) -> None:
    """Create or update localities from a CSV file (see the README for its columns)."""
    from .services.localities import LocalityImportError, import_localities

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: cannot read the file as UTF-8 text ({exc})") from exc
    try:
        result = import_localities(text, source=str(file))
    except LocalityImportError as exc:
        for problem in exc.problems:
            click.echo(f"{file}: {problem}" if not problem.startswith(str(file)) else problem,
                       err=True)
        click.echo("Nothing was imported.", err=True)
        sys.exit(1)
    click.echo(
        f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged."
    )


# --- questionnaires ---------------------------------------------------------------------


@click.group("questionnaire")
def questionnaire_group() -> None:
    """Validate and load questionnaire files."""


@questionnaire_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def questionnaire_validate(files: tuple[Path, ...]) -> None:
    """Check questionnaire files; print every problem with file, line and field."""
    from .questionnaire import validate_file

    failed = False
    for file in files:
        problems = validate_file(file)
        for problem in problems:
            click.echo(str(problem))
        if problems:
            failed = True
        else:
            click.echo(f"{file}: OK")
    sys.exit(1 if failed else 0)


@questionnaire_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def questionnaire_import(file: Path) -> None:
    """Store a questionnaire file as a published version (unchanged files are not duplicated)."""
    from .questionnaire import QuestionnaireError
    from .services.questionnaires import store_questionnaire

    try:
        version, created = store_questionnaire(file.read_text(encoding="utf-8"), source=str(file))
    except QuestionnaireError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    except OSError as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    state = "stored" if created else "already stored"
    click.echo(f"{version.slug} v{version.version} {state} (id {version.id}).")


# --- surveys ----------------------------------------------------------------------------


@click.group("surveys")
def surveys_group() -> None:
    """List surveys."""


@surveys_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@with_appcontext
def surveys_list(fmt: str) -> None:
    """List surveys with their IDs, waves and response counts."""
    from .services.surveys import survey_overview

    rows = survey_overview()
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for s in rows:
        click.echo(f"{s['id']:>4}  {s['name']}  ({s['questionnaire']}, {s['district']})")
        for w in s["waves"]:
            click.echo(f"        wave {w['code']:<10} {w['responses']:>7} responses")


# --- users ------------------------------------------------------------------------------


@click.group("users")
def users_group() -> None:
    """Manage user accounts."""


@users_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "manager", "enumerator", "official"]),
              required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default="", help="Name shown in the interface.")
@click.option("--locality", "locality_code", default=None,
              help="Jurisdiction (officials, managers): a locality code.")
@with_appcontext
def users_create(username: str, role: str, password: str, display_name: str,
                 locality_code: str | None) -> None:
    """Create a user account."""
    from .services.users import UserError, create_user

    try:
        user = create_user(username, role, password, display_name=display_name,
                           locality_code=locality_code)
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.role} '{user.username}' (id {user.id}).")


# --- demo -------------------------------------------------------------------------------


@click.command("demo")
@click.option("--responses", default=3000, show_default=True, help="Synthetic responses to add.")
@click.option("--seed", default=20260901, show_default=True, help="Random seed.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has data.")
@with_appcontext
def demo(responses: int, seed: int, if_empty: bool) -> None:
    """Create the demo district, users, survey with two waves and synthetic responses."""
    from .services.demo import load_demo

    report = load_demo(responses=responses, seed=seed, if_empty=if_empty,
                       progress=lambda msg: click.echo(msg, err=True))
    click.echo(report)


def register_commands(app: Flask) -> None:
    """Attach the project's commands to the app's CLI (``flask`` and ``surveyapp`` alike)."""
    from .estimate_command import estimate

    for command in (localities_group, questionnaire_group, surveys_group, users_group, demo,
                    estimate):
        app.cli.add_command(command)
