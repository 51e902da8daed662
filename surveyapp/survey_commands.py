"""The ``surveyapp surveys`` and ``surveyapp waves`` commands: create surveys and run waves.

Each prints what it made or changed (``--format json`` for scripts); a request that cannot be
done exits with status 1 and a message naming the option at fault.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from .cli_text import CliError, fail, say, text, translated
from .errors import N_

FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json: one JSON document, for scripts.",
)


#: Service fields that are options of these commands (a message names them ``--field``).
OPTIONS = ("name", "questionnaire", "district", "modes", "owner", "survey", "code", "start", "end")


def _fail(exc) -> None:
    from .extensions import db

    db.session.rollback()
    message = translated(exc)  # in the command line's language
    if exc.field in OPTIONS and exc.message.startswith(f"{exc.field}:"):
        # "questionnaire: …" (问卷：…) names the field: the command line names its option
        cut = min((i for i in (message.find(":"), message.find("：")) if i >= 0), default=-1)
        message = f"--{exc.field}{message[cut:]}" if cut >= 0 else f"--{exc.field}: {message}"
    elif exc.field and exc.field not in OPTIONS and exc.field != "state":
        message = f"--settings: {message}"
    raise CliError(message)


def _echo_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def survey_document(survey) -> dict:
    """A survey as the commands print it (with its waves)."""
    from .services.surveys import survey_overview

    return next(s for s in survey_overview() if s["id"] == survey.id)


def _print_survey(doc: dict) -> None:
    about = text(
        N_("%(questionnaire)s, %(district)s, %(modes)s, owner %(owner)s, settings v%(version)s"),
        questionnaire=doc["questionnaire"],
        district=doc["district"],
        modes=",".join(doc["modes"]),
        owner=doc["owner"] or "-",
        version=doc["settings_version"],
    )
    click.echo(f"{doc['id']:>4}  {doc['name']}  ({about})")
    for w in doc["waves"]:
        _print_wave(w, indent="        ")


def _print_wave(w: dict, indent: str = "") -> None:
    released = text(N_("released") if w["released"] else N_("not released"))
    state = text(STATES[w["state"]]) if w["state"] in STATES else w["state"]
    counts = text(
        N_("%(counted)s counted / %(responses)s responses"),
        counted=w["counted_responses"],
        responses=w["responses"],
    )
    wave = text(N_("wave"))
    click.echo(
        f"{indent}{wave} {w['code']:<10} {state:<8} {released:<13} "
        f"{w['questionnaire']:<34} {w['starts_on'] or '?'}..{w['ends_on'] or '?'} {counts:>7}"
    )


#: A wave's states, as the commands print them.
STATES = {"planned": N_("planned"), "open": N_("open"), "closed": N_("closed")}


# ----------------------------------------------------------------------------- surveys


@click.group("surveys")
def surveys_group() -> None:
    """Create, change and list surveys."""


@surveys_group.command("list")
@FORMAT
@with_appcontext
def surveys_list(fmt: str) -> None:
    """List the surveys with their waves (state, release, questionnaire) and response counts."""
    from .services.surveys import survey_overview

    rows = survey_overview()
    if fmt == "json":
        _echo_json(rows)
        return
    for s in rows:
        _print_survey(s)


@surveys_group.command("create")
@click.option("--name", required=True, help="The survey's name, e.g. 鼓楼区群众安全感满意度调查.")
@click.option(
    "--questionnaire", required=True, help="A published questionnaire: NAME (latest) or NAME@N."
)
@click.option("--district", required=True, help="The district's locality code.")
@click.option("--modes", default="door,phone", show_default=True, help="door, phone or both.")
@click.option("--owner", required=True, help="The user name of the manager who runs it.")
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A JSON file of settings (design, weighting, ci_method, level, reports, fieldwork).",
)
@FORMAT
@with_appcontext
def surveys_create(name, questionnaire, district, modes, owner, settings_file, fmt) -> None:
    """Create a survey (then add its waves with ``surveyapp waves create``)."""
    from .services.surveys import create_survey
    from .services.waves import SurveyOperationError

    settings = _read_settings(settings_file) if settings_file else None
    try:
        survey = create_survey(
            name=name,
            questionnaire=questionnaire,
            district=district,
            modes=modes,
            owner=owner,
            settings=settings,
        )
    except SurveyOperationError as exc:
        _fail(exc)
    doc = survey_document(survey)
    if fmt == "json":
        _echo_json(doc)
    else:
        say(N_("Created survey %(id)s."), id=survey.id)
        _print_survey(doc)


def _read_settings(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(
            N_("--settings: cannot read %(file)s (%(error)s)"), file=path, error=exc
        ) from exc
    except json.JSONDecodeError as exc:
        raise fail(
            N_("--settings: %(file)s line %(line)s column %(column)s: not JSON (%(error)s)"),
            file=path,
            line=exc.lineno,
            column=exc.colno,
            error=exc.msg,
        ) from exc


@surveys_group.command("edit")
@click.option("--survey", "survey_id", required=True, help="The survey's id.")
@click.option("--name", default=None)
@click.option("--district", default=None, help="The district's locality code.")
@click.option("--modes", default=None, help="door, phone or both.")
@click.option("--owner", default=None, help="The user name of the manager who runs it.")
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A JSON file with the whole new settings (a change after responses exist makes a "
    "new settings version).",
)
@FORMAT
@with_appcontext
def surveys_edit(survey_id, name, district, modes, owner, settings_file, fmt) -> None:
    """Change a survey's name, district, modes, owner or settings."""
    from .services.survey_settings import change_settings
    from .services.surveys import find_survey, update_survey
    from .services.waves import SurveyOperationError

    settings = _read_settings(settings_file) if settings_file else None
    try:
        survey = find_survey(survey_id)
        update_survey(survey, name=name, district=district, modes=modes, owner=owner)
        if settings is not None:
            change_settings(survey, settings)
    except SurveyOperationError as exc:
        _fail(exc)
    doc = survey_document(survey)
    if fmt == "json":
        doc["settings"] = survey.settings
        _echo_json(doc)
    else:
        _print_survey(doc)


# ----------------------------------------------------------------------------- waves


@click.group("waves")
def waves_group() -> None:
    """Create waves and open, close, reopen or release them."""


SURVEY = click.option("--survey", "survey_id", required=True, help="The survey's id.")
CODE = click.option("--code", required=True, help="The wave's code, e.g. 2027-Q1.")


@waves_group.command("list")
@SURVEY
@FORMAT
@with_appcontext
def waves_list(survey_id: str, fmt: str) -> None:
    """List a survey's waves."""
    from .services.surveys import find_survey
    from .services.waves import SurveyOperationError

    try:
        survey = find_survey(survey_id)
    except SurveyOperationError as exc:
        _fail(exc)
    waves = survey_document(survey)["waves"]
    if fmt == "json":
        _echo_json(waves)
        return
    for w in waves:
        _print_wave(w)


@waves_group.command("create")
@SURVEY
@CODE
@click.option("--start", required=True, help="First day of fieldwork (YYYY-MM-DD).")
@click.option("--end", required=True, help="Last day of fieldwork (YYYY-MM-DD).")
@click.option("--name", default="", help="A name to show (default: the code).")
@click.option(
    "--questionnaire",
    default=None,
    help="NAME@N: the questionnaire version (default: the latest published).",
)
@FORMAT
@with_appcontext
def waves_create(survey_id, code, start, end, name, questionnaire, fmt) -> None:
    """Add a planned wave to a survey (assign enumerators, then open it)."""
    from .services.surveys import find_survey
    from .services.waves import SurveyOperationError, create_wave

    try:
        survey = find_survey(survey_id)
        wave = create_wave(
            survey,
            code=code,
            starts_on=start,
            ends_on=end,
            name=name,
            questionnaire=questionnaire,
        )
    except SurveyOperationError as exc:
        _fail(exc)
    _print_one(
        survey,
        wave,
        fmt,
        text(N_("Created wave %(wave)s of survey %(id)s."), wave=wave.code, id=survey.id),
    )


@waves_group.command("edit")
@SURVEY
@CODE
@click.option("--start", default=None, help="New first day (YYYY-MM-DD).")
@click.option("--end", default=None, help="New last day (YYYY-MM-DD).")
@click.option("--name", default=None, help="New name to show.")
@click.option(
    "--questionnaire",
    default=None,
    help="NAME@N: another questionnaire version (only while the wave has no interviews).",
)
@FORMAT
@with_appcontext
def waves_edit(survey_id, code, start, end, name, questionnaire, fmt) -> None:
    """Change a wave's dates or name (and its questionnaire version before any interview)."""
    from .services.surveys import find_survey
    from .services.waves import SurveyOperationError, find_wave, update_wave

    try:
        survey = find_survey(survey_id)
        wave = update_wave(
            find_wave(survey, code),
            name=name,
            starts_on=start,
            ends_on=end,
            questionnaire=questionnaire,
        )
    except SurveyOperationError as exc:
        _fail(exc)
    _print_one(
        survey,
        wave,
        fmt,
        text(N_("Wave %(wave)s of survey %(id)s saved."), wave=wave.code, id=survey.id),
    )


def _print_one(survey, wave, fmt: str, message: str) -> None:
    doc = next(w for w in survey_document(survey)["waves"] if w["id"] == wave.id)
    if fmt == "json":
        _echo_json(doc)
    else:
        click.echo(message)
        _print_wave(doc)


def _transition_command(name: str, help_text: str, done: str):
    @waves_group.command(name, help=help_text)
    @SURVEY
    @CODE
    @FORMAT
    @with_appcontext
    def command(survey_id: str, code: str, fmt: str) -> None:
        from .services import waves
        from .services.surveys import find_survey

        step = getattr(waves, f"{name}_wave")
        try:
            survey = find_survey(survey_id)
            wave = step(waves.find_wave(survey, code))
        except waves.SurveyOperationError as exc:
            _fail(exc)
        _print_one(survey, wave, fmt, text(done, wave=wave.code, id=survey.id))

    return command


_transition_command(
    "open",
    "Open a planned wave: interviews are accepted.",
    N_("Wave %(wave)s of survey %(id)s is open."),
)
_transition_command(
    "close",
    "Close an open wave: no more interviews.",
    N_("Wave %(wave)s of survey %(id)s is closed."),
)
_transition_command(
    "reopen",
    "Open a closed (not released) wave again.",
    N_("Wave %(wave)s of survey %(id)s is open again."),
)
_transition_command(
    "release",
    "Release a wave's results: officials see them from now on.",
    N_("Wave %(wave)s of survey %(id)s is released."),
)
