"""The ``surveyapp index`` commands: the safety index's definition, monthly data, results."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from .cli_text import CliError, fail, say, translated
from .errors import N_


@click.group("index")
def index_group() -> None:
    """The monthly safety index (平安指数): definition, data, computation, bulletin."""


@index_group.group("definition")
def definition_group() -> None:
    """Check and store versions of the index definition."""


def _read(file: Path) -> str:
    try:
        return file.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise fail(
            N_("%(file)s: cannot read the file (%(error)s)"), file=file, error=exc.strerror or exc
        ) from exc
    except UnicodeDecodeError as exc:
        raise fail(N_("%(file)s: not UTF-8 text; save it as UTF-8"), file=file) from exc


@definition_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def definition_check(file: Path) -> None:
    """Print every problem of a definition file with its line and field."""
    from .safety_index import validate_definition_text

    problems = validate_definition_text(_read(file), str(file))
    for problem in problems:
        click.echo(translated(problem.as_text()))
    if problems:
        sys.exit(1)
    say(N_("%(file)s: OK"), file=file)


@definition_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def definition_import(file: Path) -> None:
    """Store a definition file as a version (months from its effective_from use it)."""
    from .safety_index import DefinitionError
    from .services.safety_index import SafetyIndexError, store_definition

    try:
        row, created = store_definition(_read(file), str(file))
    except DefinitionError as exc:
        for problem in exc.problems:
            click.echo(translated(problem.as_text()), err=True)
        say(N_("Nothing was stored."), err=True)
        sys.exit(1)
    except SafetyIndexError as exc:
        raise CliError(translated(exc)) from exc
    say(
        N_("%(slug)s v%(version)s (from %(month)s) stored.")
        if created
        else N_("%(slug)s v%(version)s (from %(month)s) already stored."),
        slug=row.slug,
        version=row.version,
        month=row.effective_from,
    )


@index_group.group("data")
def data_group() -> None:
    """Monthly administrative series per street."""


@data_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Correct values already stored (audited).")
@click.option("--user", "username", default=None, help="Record the upload under this account.")
@click.option("--dry-run", is_flag=True, help="Check and preview only; store nothing.")
@with_appcontext
def data_import(file: Path, replace: bool, username: str | None, dry_run: bool) -> None:
    """Import monthly values (CSV or XLSX: street, month, series, value, unit).

    Every problem is listed with its row; if there is any, nothing is stored.
    """
    from sqlalchemy import select

    from .extensions import db
    from .models import User
    from .services.safety_index import SafetyIndexError, check_upload, import_upload

    user = None
    if username:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise fail(N_("no user '%(username)s'"), username=username)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(
            N_("%(file)s: cannot read the file (%(error)s)"), file=file, error=exc.strerror
        ) from exc
    try:
        preview = check_upload(str(file), data, user, replace=replace)
    except SafetyIndexError as exc:
        raise CliError(translated(exc)) from exc
    for problem in preview.problems:
        click.echo(translated(problem), err=True)
    if preview.problems:
        say(N_("%(count)s problem(s); nothing was stored."), count=len(preview.problems), err=True)
        sys.exit(1)
    summary = preview.summary()
    say(
        N_(
            "%(file)s: %(rows)s values, %(streets)s streets, months %(first)s..%(last)s, "
            "series %(series)s"
        ),
        file=file,
        rows=summary["rows"],
        streets=summary["streets"],
        first=summary["months"][0],
        last=summary["months"][-1],
        series=", ".join(summary["series"]),
    )
    for row, old in preview.replaced:
        say(
            N_("  correction: %(series)s %(street)s %(month)s: %(old)s -> %(new)s"),
            series=row.series,
            street=row.street.code,
            month=row.month,
            old=f"{old:g}",
            new=f"{row.value:g}",
        )
    if dry_run:
        say(N_("Dry run: nothing was stored."))
        return
    result = import_upload(preview, user)
    say(
        N_("%(stored)s stored, %(unchanged)s already stored unchanged."),
        stored=result["stored"],
        unchanged=result["unchanged"],
    )


@index_group.command("compute")
@click.option("--district", "district_code", required=True, help="District code.")
@click.option("--month", default=None, help="YYYY-MM (default: the latest month with data).")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table")
@click.option("--lang", default="zh_CN", show_default=True, help="zh_CN or en (names).")
@with_appcontext
def compute(district_code: str, month: str | None, fmt: str, lang: str) -> None:
    """Compute the index of a month: per street, with intervals, ranks and change."""
    from .safety_index import as_dict
    from .services.safety_index import SafetyIndexError, compute_index, district_by_code

    try:
        out = compute_index(district_by_code(district_code), month)
    except SafetyIndexError as exc:
        raise CliError(translated(exc)) from exc
    if fmt == "json":
        click.echo(
            json.dumps(
                as_dict(out.result, district_code, out.definition, lang),
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    r = out.result
    note = "; ".join(translated(part) for part in r.survey_note)
    click.echo(f"{out.definition.title(lang)} {r.month} (v{r.definition_version}); {note}")
    for s in r.streets:
        change = "" if s.change is None else f"{s.change:+6.1f}"
        click.echo(
            f"{s.rank:>3} [{s.rank_low}-{s.rank_high}]  {s.code:<12} {s.name(lang):<10} "
            f"{s.index:6.1f} ({s.index_low:5.1f}-{s.index_high:5.1f}) {change}"
        )
    for line in r.definition_changes:
        say(N_("definition change: %(change)s"), change=translated(line))


@index_group.command("report")
@click.option("--district", "district_code", required=True, help="District code.")
@click.option("--month", default=None, help="YYYY-MM (default: the latest month with data).")
@click.option("--street", "street_code", default=None, help="One street's page instead.")
@click.option("--lang", default="zh_CN", show_default=True, help="zh_CN or en.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def report(
    district_code: str, month: str | None, street_code: str | None, lang: str, output: Path
) -> None:
    """Write the monthly bulletin (平安指数月报) of a district, or one street's page, as PDF."""
    from .services.safety_index import SafetyIndexError, bulletin_pdf, district_by_code

    try:
        pdf = bulletin_pdf(district_by_code(district_code), month, lang, street_code)
    except SafetyIndexError as exc:
        raise CliError(translated(exc)) from exc
    try:
        output.write_bytes(pdf)
    except OSError as exc:
        raise fail(
            N_("%(file)s: cannot write the file (%(error)s)"), file=output, error=exc.strerror
        ) from exc
    say(N_("%(file)s: %(size)s bytes"), file=output, size=len(pdf))
