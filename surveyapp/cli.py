"""The ``surveyapp`` command: a Flask CLI group with the project's own commands.

The group is light: ``surveyapp --help`` and the commands that need no database import neither
the web application nor SQLAlchemy, alembic, reportlab or scipy. Its commands are found by name
in ``LAZY_COMMANDS`` (name -> module and attribute) and imported only when one is run; the app
is built by ``create_app()`` (through Flask's ``ScriptInfo``) only when a command that needs it
runs (``@with_appcontext``). ``flask --app surveyapp …`` still attaches every command to the
built app (``register_commands``), and any command the app has that the table misses is still
found, by building the app (``tests/test_cli_lazy.py`` checks the table is complete).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import FlaskGroup, with_appcontext

from .cli_text import CliError, fail, say, text, translated
from .commands import LAZY_COMMANDS, lazy_command
from .errors import N_, Text

if TYPE_CHECKING:
    from flask import Flask


def _create_app() -> Flask:
    from .app import create_app

    return create_app()


class LazyFlaskGroup(FlaskGroup):
    """Flask's command group, with the project's commands imported by name when used.

    Listing (``--help``) shows the table's names and help without importing the modules whose
    help the table gives; running a command imports its module only. Names the table does not
    know fall back to Flask's behaviour (plugins, then the app's own ``app.cli``).
    """

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = self.commands.get(name) or lazy_command(name)
        if command is not None:
            return command
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(LAZY_COMMANDS))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows: list[tuple[str, str]] = []
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(n) for n in names), default=0)
        for name in names:
            known = self.commands.get(name)
            entry = LAZY_COMMANDS.get(name)
            if known is None and entry is not None and entry[2]:
                rows.append((name, click.utils.make_default_short_help(entry[2], limit)))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def attach_subcommands() -> None:
    """Add the subcommands other modules contribute to the groups defined here (idempotent).

    :func:`surveyapp.commands.lazy_command` calls it when it loads a command of this module.
    """
    from .design_commands import questionnaire_export, questionnaire_pdf  # questionnaire design
    from .odk_commands import users_odk  # ODK Collect app passwords
    from .user_commands import add_user_commands  # accounts

    questionnaire_group.add_command(questionnaire_export)
    questionnaire_group.add_command(questionnaire_pdf)
    users_group.add_command(users_odk)
    add_user_commands(users_group)


@click.group(cls=LazyFlaskGroup, create_app=_create_app)
def cli() -> None:
    """Public-security satisfaction surveys: fieldwork, estimates and reports."""


def main() -> None:
    """Run the ``surveyapp`` console script."""
    # The database a command creates, backups, exports and cached files: owner only.
    os.umask(0o077)
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

    content = _read_text(file)
    try:
        result = import_localities(content, source=str(file))
    except LocalityImportError as exc:
        for problem in map(translated, exc.problems):
            if problem.startswith(str(file)):
                click.echo(problem, err=True)
            else:
                say(N_("%(where)s: %(message)s"), where=file, message=problem, err=True)
        say(N_("Nothing was imported."), err=True)
        sys.exit(1)
    say(
        N_("%(created)s created, %(updated)s updated, %(unchanged)s unchanged."),
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
    )


@localities_group.command("boundaries")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def localities_boundaries(file: Path) -> None:
    """Store locality outlines for maps from a GeoJSON FeatureCollection (properties.code)."""
    from .services.boundaries import BoundaryError, import_boundaries

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(N_("%(file)s: cannot read the file (%(error)s)"), file=file, error=exc) from exc
    try:
        report = import_boundaries(data, source=str(file))
    except BoundaryError as exc:
        for problem in exc.problems:
            click.echo(translated(problem), err=True)
        say(N_("Nothing was imported."), err=True)
        sys.exit(1)
    say(N_("%(count)s outline(s) stored."), count=len(report.updated))


# --- questionnaires ---------------------------------------------------------------------


@click.group("questionnaire")
def questionnaire_group() -> None:
    """Validate and load questionnaire files."""


@questionnaire_group.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def questionnaire_validate(files: tuple[Path, ...]) -> None:
    """Check questionnaire files; print every problem with file, line and field."""
    from .questionnaire import validate_file
    from .services.questionnaires import publish_languages

    failed = False
    for file in files:
        if file.suffix.lower() in (".xlsx", ".xlsm", ".xls"):  # XLSForm: converted, then checked
            from .design_commands import validate_xlsform_file

            problems = validate_xlsform_file(file)
        else:
            problems = validate_file(file, required_languages=publish_languages())
        for problem in problems:  # in the operator's language (the default: Chinese)
            click.echo(translated(problem.as_text()))
        if problems:
            failed = True
        else:
            say(N_("%(file)s: OK"), file=file)
    sys.exit(1 if failed else 0)


@questionnaire_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--draft",
    is_flag=True,
    help="Store it as a draft (any languages; what publishing needs is printed as warnings).",
)
@with_appcontext
def questionnaire_import(file: Path, draft: bool) -> None:
    """Store a questionnaire file (YAML or XLSForm .xlsx/.xls) as a published version."""
    from .questionnaire import QuestionnaireError
    from .services.questionnaires import store_questionnaire

    if file.suffix.lower() in (".xlsx", ".xlsm", ".xls"):  # an XLSForm (ODK, KoboToolbox)
        from .design_commands import import_xlsform_file

        return import_xlsform_file(file, draft=draft)
    if draft:
        from .design_commands import import_draft_text

        return import_draft_text(_read_text(file), file)
    try:
        version, created = store_questionnaire(file.read_text(encoding="utf-8"), source=str(file))
    except QuestionnaireError as exc:
        for problem in exc.problems:  # in the operator's language (the default: Chinese)
            click.echo(translated(problem.as_text()), err=True)
        sys.exit(1)
    except UnicodeDecodeError as exc:
        raise fail(
            N_(
                "%(file)s: not a UTF-8 text (byte %(byte)s): a questionnaire file is YAML text, "
                "an XLSForm is a .xlsx or .xls workbook"
            ),
            file=file,
            byte=exc.start,
        ) from exc
    except OSError as exc:
        raise fail(N_("%(file)s: cannot read the file (%(error)s)"), file=file, error=exc) from exc
    from .design_commands import say_stored

    say_stored(version, created)


# --- users ------------------------------------------------------------------------------


@click.group("users")
def users_group() -> None:
    """Manage user accounts."""


@users_group.command("create")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["admin", "manager", "enumerator", "official", "clerk"]),
    required=True,
)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default="", help="Name shown in the interface.")
@click.option(
    "--locality",
    "locality_code",
    default=None,
    help="Jurisdiction (officials, managers): a locality code.",
)
@with_appcontext
def users_create(
    username: str, role: str, password: str, display_name: str, locality_code: str | None
) -> None:
    """Create a user account."""
    from .services.users import AccountError, create_user

    try:
        user = create_user(
            username, role, password, display_name=display_name, locality_code=locality_code
        )
    except AccountError as exc:
        raise CliError(translated(exc)) from exc
    say(
        N_("Created %(role)s '%(username)s' (id %(id)s)."),
        role=role_word(user.role),
        username=user.username,
        id=user.id,
    )


#: The roles, as words of a message (translated with it).
ROLE_WORDS = {
    "admin": N_("administrator"),
    "manager": N_("survey manager"),
    "enumerator": N_("enumerator"),
    "official": N_("official"),
    "clerk": N_("clerk"),
}


def role_word(role: str):
    """A role as a word of a message: a Text translated with the message (the code if unknown)."""
    return Text(ROLE_WORDS[role]) if role in ROLE_WORDS else role


# --- demo -------------------------------------------------------------------------------


@click.command("demo")
@click.option("--responses", default=3000, show_default=True, help="Synthetic responses to add.")
@click.option("--seed", default=20260901, show_default=True, help="Random seed.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has data.")
@with_appcontext
def demo(responses: int, seed: int, if_empty: bool) -> None:
    """Create the demo district, users, survey with two waves and synthetic responses."""
    from .services.demo import load_demo

    report = load_demo(
        responses=responses,
        seed=seed,
        if_empty=if_empty,
        progress=lambda msg: click.echo(translated(msg), err=True),
    )
    click.echo(translated(report))


# --- backup -----------------------------------------------------------------------------


@click.command("backup")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The backup file to write (gzip-compressed JSON lines).",
)
@with_appcontext
def backup(output: Path) -> None:
    """Write the whole database to one portable file."""
    from .services.backup import BackupError, write_backup

    try:
        counts = write_backup(output)
    except BackupError as exc:
        raise CliError(translated(exc)) from exc
    say(
        N_("%(file)s: %(rows)s rows in %(tables)s tables, verified."),
        file=output,
        rows=sum(counts.values()),
        tables=len(counts),
    )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore(file: Path) -> None:
    """Load a backup into a new, migrated, empty database."""
    from .services.backup import BackupError, restore_backup

    try:
        counts = restore_backup(file)
    except BackupError as exc:
        raise CliError(translated(exc)) from exc
    say(
        N_("%(file)s: %(rows)s rows restored in %(tables)s tables."),
        file=file,
        rows=sum(counts.values()),
        tables=len(counts),
    )


# --- fieldwork: API tokens, CATI call lists, samples, quotas, rates, back-checks -----------


@users_group.command("token")
@click.argument("username")
@click.option("--label", default="", help="What the token is for, e.g. the tablet's name.")
@click.option("--revoke-others", is_flag=True, help="Revoke the user's earlier tokens.")
@with_appcontext
def users_token(username: str, label: str, revoke_others: bool) -> None:
    """Print a new API token for the sync API (shown only this once)."""
    from .fieldwork.tokens import TokenError, issue_token

    try:
        token, user = issue_token(username, label=label, revoke_others=revoke_others)
    except TokenError as exc:
        raise CliError(translated(exc)) from exc
    click.echo(token)
    say(
        N_(
            "API token for %(role)s '%(username)s'; send it as "
            "'Authorization: Bearer <token>'. It is not stored and cannot be shown again."
        ),
        role=role_word(user.role),
        username=user.username,
        err=True,
    )


def _wave(value: str):
    """Find a wave by id, or by code when exactly one survey has a wave with that code."""
    from sqlalchemy import select

    from .extensions import db
    from .models import Wave

    wave = db.session.get(Wave, int(value)) if value.isdigit() else None
    if wave is None:
        waves = db.session.scalars(select(Wave).where(Wave.code == value)).all()
        if len(waves) > 1:
            raise fail(
                N_(
                    "several surveys have a wave '%(wave)s'; give the wave id "
                    "(surveyapp surveys list --format json)"
                ),
                wave=value,
            )
        wave = waves[0] if waves else None
    if wave is None:
        raise fail(N_("no wave '%(wave)s' (surveyapp surveys list shows them)"), wave=value)
    return wave


def _print_import(report, file: Path) -> None:
    for problem in report.problems:
        click.echo(translated(problem), err=True)
    if report.problems:
        say(N_("Nothing was imported."), err=True)
        sys.exit(1)
    for code, (frame, drawn) in report.drawn_by_street.items():
        say(
            N_("  street %(street)s: %(drawn)s drawn from %(frame)s"),
            street=code,
            drawn=drawn,
            frame=frame,
        )
    if report.already_listed:
        rows = ", ".join(map(str, report.already_listed[:20]))
        rows += " …" if len(report.already_listed) > 20 else ""
        say(
            N_("%(file)s: %(count)s numbers added; %(listed)s already listed (rows %(rows)s)."),
            file=file,
            count=report.created,
            listed=len(report.already_listed),
            rows=rows,
        )
    else:
        say(N_("%(file)s: %(count)s numbers added."), file=file, count=report.created)


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(
            N_("%(file)s: cannot read the file as UTF-8 text (%(error)s)"), file=file, error=exc
        ) from exc


@click.group("cati")
def cati_group() -> None:
    """Telephone interviewing: call lists, samples, quotas, response rates."""


@cati_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--wave", "wave_ref", required=True, help="Wave id (or code).")
@with_appcontext
def cati_import(file: Path, wave_ref: str) -> None:
    """Add a call list (CSV: phone, locality, notes) to a wave; problems are reported by row."""
    from .fieldwork.cati import import_call_list

    _print_import(import_call_list(_wave(wave_ref), _read_text(file), source=str(file)), file)


@cati_group.command("sample")
@click.argument("frame", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--wave", "wave_ref", required=True, help="Wave id (or code).")
@click.option(
    "--per-street",
    type=click.IntRange(min=1),
    required=True,
    help="Numbers to draw in each street.",
)
@click.option("--seed", type=int, required=True, help="Random seed (note it with the sample).")
@with_appcontext
def cati_sample(frame: Path, wave_ref: str, per_street: int, seed: int) -> None:
    """Draw a simple random sample per street from a frame (CSV like a call list)."""
    from .fieldwork.cati import draw_sample

    report = draw_sample(_wave(wave_ref), _read_text(frame), per_street, seed, source=str(frame))
    _print_import(report, frame)


@cati_group.command("quota")
@click.option("--wave", "wave_ref", required=True, help="Wave id (or code).")
@click.option("--street", required=True, help="Street code.")
@click.option("--target", type=click.IntRange(min=0), required=True)
@click.option("--sex", type=click.Choice(["", "m", "f"]), default="")
@click.option("--age-group", default="", help="e.g. 16_24, 25_34 … 65p (empty: any).")
@with_appcontext
def cati_quota(wave_ref: str, street: str, target: int, sex: str, age_group: str) -> None:
    """Set the number of interviews wanted in a street (or in one of its sex x age cells)."""
    from .fieldwork.cati import CatiError, set_quota

    try:
        quota = set_quota(_wave(wave_ref), street, target, sex=sex, age_group=age_group)
    except CatiError as exc:
        raise CliError(translated(exc)) from exc
    cell = " ".join(x for x in (quota.sex, quota.age_group) if x)
    say(
        N_("Quota for street %(street)s (%(cell)s): %(target)s."),
        street=street,
        cell=cell or Text(N_("all")),
        target=quota.target,
    )


@cati_group.command("rates")
@click.option("--wave", "wave_ref", required=True, help="Wave id (or code).")
@click.option(
    "--e",
    "e_value",
    type=click.FloatRange(0, 1),
    default=None,
    help="Eligible share of unknown cases (default: estimated from resolved cases).",
)
@with_appcontext
def cati_rates(wave_ref: str, e_value: float | None) -> None:
    """Print AAPOR response, cooperation, refusal and contact rates, overall and per street."""
    from .fieldwork.cati import wave_rates

    table = wave_rates(_wave(wave_ref), e=e_value)
    names = table.overall.RATE_NAMES

    def fmt(value):
        return "   -  " if value is None else f"{value:6.3f}"

    cases, everyone = text(N_("cases")), text(N_("all"))
    click.echo(f"{'':12} {cases:>5} {'e':>6} " + " ".join(f"{n:>6}" for n in names))
    for label, rates in [(everyone, table.overall)] + [(s.code, r) for s, r in table.by_street]:
        click.echo(
            f"{label:12} {rates.counts.total:>5} {fmt(rates.e)} "
            + " ".join(fmt(v) for v in rates.rates().values())
        )
    click.echo(f"e: {translated(table.overall.e_method)}")
