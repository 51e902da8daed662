"""The ``surveyapp assignments`` commands: create, import (CSV) and list a wave's assignments,
through the same service as the assignment pages (surveyapp.fieldwork.assignments)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from .cli_text import CliError, fail, say, text, translated
from .errors import N_, Text

FORMATS = click.Choice(["text", "json"])


def _survey_wave(survey_id: int, code: str):
    """The wave ``code`` of survey ``survey_id``, or exit 1 naming what is missing."""
    from .extensions import db
    from .models import Survey

    survey = db.session.get(Survey, survey_id)
    if survey is None:
        raise fail(N_("no survey with id %(id)s (see `surveyapp surveys list`)"), id=survey_id)
    for wave in survey.waves:
        if wave.code == code:
            return wave
    raise fail(
        N_("survey %(id)s has no wave '%(wave)s'; its waves: %(waves)s"),
        id=survey_id,
        wave=code,
        waves=", ".join(w.code for w in survey.waves) or Text(N_("none")),
    )


def _line(record: dict) -> str:
    target, ended = text(N_("target")), text(N_("ended"))
    done = f" {record['completed']}/" if "completed" in record else f" {target} "
    state = f" {ended}" if record["ended_at"] else ""
    return (
        f"{record['id']:>5}  {record['wave']}  {record['enumerator']:<16} {record['mode']:<5} "
        f"{record['locality']} ({record['locality_name']}, {record['level']})"
        f"{done}{record['target']}{state}"
    )


@click.group("assignments")
def assignments_group() -> None:
    """Assign enumerators to localities of a wave (door to door or by telephone)."""


@assignments_group.command("create")
@click.option("--survey", "survey_id", type=int, required=True, help="The survey's id.")
@click.option("--wave", "wave_code", required=True, help="The wave's code, e.g. 2027-Q1.")
@click.option("--user", "username", required=True, help="The enumerator's user name.")
@click.option("--locality", required=True, help="The locality's code.")
@click.option("--mode", type=click.Choice(["door", "phone"]), required=True)
@click.option("--target", required=True, help="The number of interviews to make.")
@click.option(
    "--fixed-locality",
    is_flag=True,
    help="The enumerator may not choose a grid below the locality.",
)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@with_appcontext
def assignments_create(
    survey_id: int,
    wave_code: str,
    username: str,
    locality: str,
    mode: str,
    target: str,
    fixed_locality: bool,
    fmt: str,
) -> None:
    """Create an assignment (or change the target of the same one); print it with its id."""
    from .extensions import db
    from .fieldwork.assignments import AssignmentError, assign, assignment_record

    wave = _survey_wave(survey_id, wave_code)
    try:
        found, created = assign(wave, username, locality, mode, target, not fixed_locality)
    except AssignmentError as exc:
        db.session.rollback()
        raise CliError(translated(exc)) from exc
    record = assignment_record(found)
    record["created"] = created
    if fmt == "json":
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        say(
            N_("created %(assignment)s") if created else N_("changed %(assignment)s"),
            assignment=_line(record).strip(),
        )


@assignments_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--survey", "survey_id", type=int, required=True, help="The survey's id.")
@click.option("--wave", "wave_code", required=True, help="The wave's code.")
@click.option("--dry-run", is_flag=True, help="Check the file and print what it would do.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@with_appcontext
def assignments_import(file: Path, survey_id: int, wave_code: str, dry_run: bool, fmt: str) -> None:
    """Create or change assignments from a CSV file (enumerator, locality, mode, target,
    optionally locality_editable): all rows, or none when any row has a problem."""
    from .extensions import db
    from .fieldwork.assignments import (
        AssignmentImportError,
        assignment_record,
        import_assignments,
        preview_upload,
    )

    wave = _survey_wave(survey_id, wave_code)
    try:
        content = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(
            N_("%(file)s: cannot read the file as UTF-8 text (%(error)s)"), file=file, error=exc
        ) from exc
    try:
        if dry_run:
            done = preview_upload(wave, content)
            db.session.rollback()
            if done.problems:
                raise AssignmentImportError(done.problems)
        else:
            done = import_assignments(wave, content)
    except AssignmentImportError as exc:
        db.session.rollback()
        for problem in exc.problems:
            say(N_("%(where)s: %(message)s"), where=file, message=translated(problem), err=True)
        say(N_("Nothing was stored."), err=True)
        sys.exit(1)
    if fmt == "json":
        rows = [assignment_record(r.stored) for r in done.rows if r.stored is not None]
        click.echo(
            json.dumps(
                {
                    "created": done.created,
                    "changed": done.changed,
                    "stored": not dry_run,
                    "assignments": rows,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        say(
            N_("%(created)s assignment(s) would be created, %(changed)s changed.")
            if dry_run
            else N_("%(created)s assignment(s) were created, %(changed)s changed."),
            created=done.created,
            changed=done.changed,
        )


@assignments_group.command("list")
@click.option("--survey", "survey_id", type=int, required=True, help="The survey's id.")
@click.option("--wave", "wave_code", required=True, help="The wave's code.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@with_appcontext
def assignments_list(survey_id: int, wave_code: str, fmt: str) -> None:
    """List the wave's assignments with their completed interviews and targets."""
    from .fieldwork.assignments import assignment_record, progress

    wave = _survey_wave(survey_id, wave_code)
    records = [assignment_record(a, done) for a, done in progress(wave)]
    if fmt == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    if not records:
        say(N_("wave %(wave)s has no assignments."), wave=wave.code)
    for record in records:
        click.echo(_line(record))
