"""Commands of questionnaire design: ``questionnaire export`` and XLSForm ``questionnaire import``.

They are attached to the ``questionnaire`` group of :mod:`surveyapp.cli`; the work is done by
:mod:`surveyapp.questionnaire.export`, :mod:`surveyapp.questionnaire.xlsform` and the services.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from .cli_text import CliError, fail, say, translated
from .errors import N_

XLSFORM_SUFFIXES = (".xlsx", ".xlsm", ".xls")


def find_version(reference: str):
    """Return the version named by ``reference``: an id, ``slug`` (latest published) or ``slug@N``.

    Raise :class:`click.ClickException` naming what was not found.
    """
    from sqlalchemy import select

    from .extensions import db
    from .models import QuestionnaireVersion

    reference = reference.strip()
    if reference.isdigit():
        version = db.session.get(QuestionnaireVersion, int(reference))
        if version is None:
            raise fail(N_("no questionnaire version with id %(id)s"), id=reference)
        return version
    slug, _, number = reference.partition("@")
    query = select(QuestionnaireVersion).where(QuestionnaireVersion.slug == slug)
    if number:
        if not number.isdigit():
            raise fail(
                N_("'%(reference)s': write slug@N with a version number N"), reference=reference
            )
        query = query.where(QuestionnaireVersion.version == int(number))
    else:
        query = query.where(QuestionnaireVersion.status == "published")
    version = db.session.scalar(query.order_by(QuestionnaireVersion.version.desc()))
    if version is None:
        raise fail(
            N_(
                "no questionnaire '%(reference)s' (give a version id, a name or name@version; "
                "see the designer's list)"
            ),
            reference=reference,
        )
    return version


@click.command("export")
@click.argument("reference", metavar="ID")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="FILE.yaml (the questionnaire file as stored) or FILE.xlsx (an XLSForm).",
)
@with_appcontext
def questionnaire_export(reference: str, output: Path) -> None:
    """Write questionnaire version ID (id, name or name@version) to a YAML or XLSForm file."""
    from .questionnaire import QuestionnaireError
    from .questionnaire.xlsform import to_xlsform

    version = find_version(reference)
    suffix = output.suffix.lower()
    try:
        if suffix in XLSFORM_SUFFIXES:
            try:
                schema = version.schema
            except QuestionnaireError as exc:
                for problem in exc.problems:  # in the operator's language (the default: Chinese)
                    click.echo(translated(problem.as_text()), err=True)
                raise fail(
                    N_("this draft has problems: fix them before exporting it as an XLSForm")
                ) from None
            output.write_bytes(to_xlsform(schema))
        elif suffix in (".yaml", ".yml"):
            # The stored text itself: comments and layout kept, byte for byte.
            output.write_text(version.source_text, encoding="utf-8")
        else:
            raise fail(N_("%(file)s: the file name must end in .yaml, .yml or .xlsx"), file=output)
    except OSError as exc:
        raise fail(
            N_("%(file)s: cannot write the file (%(error)s)"), file=output, error=exc
        ) from exc
    say(
        N_("%(slug)s v%(version)s (%(status)s) written to %(file)s."),
        slug=version.slug,
        version=version.version,
        status=status_word(version.status),
        file=output,
    )


#: A questionnaire version's status, as a word of a message (translated with it).
STATUS_WORDS = {"draft": N_("draft"), "published": N_("published")}


def status_word(status: str):
    """A version's status as a word of a message (the code itself when unknown)."""
    from .errors import Text

    return Text(STATUS_WORDS[status]) if status in STATUS_WORDS else status


def import_xlsform_file(file: Path, draft: bool = False) -> None:
    """Convert an XLSForm and store it as a published version (or a draft); print what was
    left out."""
    from .questionnaire import QuestionnaireError
    from .questionnaire.xlsform import xlsform_to_draft_yaml, xlsform_to_yaml
    from .services.questionnaires import publish_languages, store_questionnaire

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(N_("%(file)s: cannot read the file (%(error)s)"), file=file, error=exc) from exc
    try:
        if draft:
            text, warnings = xlsform_to_draft_yaml(data, source=str(file))
        else:
            text, warnings = xlsform_to_yaml(
                data, source=str(file), required_languages=publish_languages()
            )
        for warning in warnings:
            say(N_("warning: %(message)s"), message=translated(warning), err=True)
        if draft:
            return import_draft_text(text, file)
        version, created = store_questionnaire(text, source=str(file))
    except QuestionnaireError as exc:
        for problem in exc.problems:  # in the operator's language (the default: Chinese)
            click.echo(translated(problem.as_text()), err=True)
        say(N_("Nothing was imported."), err=True)
        sys.exit(1)
    say_stored(version, created)


def say_stored(version, created: bool) -> None:
    """Print that a questionnaire version was stored (or was already)."""
    say(
        N_("%(slug)s v%(version)s stored (id %(id)s).")
        if created
        else N_("%(slug)s v%(version)s already stored (id %(id)s)."),
        slug=version.slug,
        version=version.version,
        id=version.id,
    )


def import_draft_text(text: str, file: Path) -> None:
    """Store a questionnaire text as a draft; print what publishing it will still need."""
    from .services.design import DesignError, draft_from_text, draft_problems

    try:
        draft = draft_from_text(text, source=str(file))
    except DesignError as exc:
        raise fail(N_("%(where)s: %(message)s"), where=file, message=translated(exc)) from exc
    problems = draft_problems(draft)
    for problem in problems:
        say(
            N_("warning: before publishing: %(problem)s"),
            problem=translated(problem.as_text()),
            err=True,
        )
    params = {"slug": draft.slug, "version": draft.version, "id": draft.id}
    if problems:
        say(
            N_(
                "%(slug)s v%(version)s stored as a draft (id %(id)s); %(count)s problem(s) to "
                "fix in the designer before publishing."
            ),
            count=len(problems),
            **params,
        )
    else:
        say(
            N_(
                "%(slug)s v%(version)s stored as a draft (id %(id)s); it can be published as it is."
            ),
            **params,
        )


def validate_xlsform_file(file: Path) -> list:
    """Return the problems of an XLSForm as ``questionnaire validate`` lists them.

    What the conversion leaves out is printed as warnings (they are not problems).
    """
    from .errors import Text
    from .questionnaire import Problem, QuestionnaireError
    from .questionnaire.xlsform import xlsform_to_yaml
    from .services.questionnaires import publish_languages

    try:
        data = file.read_bytes()
    except OSError as exc:
        text = Text(N_("cannot read the file (%(error)s)"), error=exc.strerror)
        return [Problem(str(file), 1, "", str(text), text)]
    try:
        _text, warnings = xlsform_to_yaml(
            data, source=str(file), required_languages=publish_languages()
        )
    except QuestionnaireError as exc:
        return list(exc.problems)
    for warning in warnings:
        say(N_("warning: %(message)s"), message=translated(warning), err=True)
    return []


@click.command("pdf")
@click.argument("reference", metavar="ID")
@click.option(
    "--language",
    "language",
    default=None,
    help="A language code of the questionnaire (default: its default language).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="FILE.pdf to write.",
)
@with_appcontext
def questionnaire_pdf(reference: str, language: str | None, output: Path) -> None:
    """Write questionnaire version ID (id, name or name@version) as a printable PDF (the paper
    questionnaire for fieldwork), in one of its languages; right-to-left ones right-aligned."""
    from .questionnaire import QuestionnaireError
    from .reports.questionnaire_pdf import QuestionnairePdfError, build_questionnaire_pdf
    from .services.design import printable_schema

    version = find_version(reference)
    try:
        schema, marker = printable_schema(version)
    except QuestionnaireError as exc:
        for problem in exc.problems:  # in the operator's language (the default: Chinese)
            click.echo(translated(problem.as_text()), err=True)
        raise fail(N_("this draft has problems: fix them before printing it")) from None
    code = language or schema.default_language
    if schema.language(code) is None:
        codes = ", ".join(lang.code for lang in schema.languages)
        refusal = fail(
            N_("--language: '%(code)s' is not a language of %(slug)s v%(version)s (%(codes)s)"),
            code=code,
            slug=version.slug,
            version=version.version,
            codes=codes,
        )
        refusal.exit_code = 2  # a bad option, as click's own
        raise refusal
    try:
        data = build_questionnaire_pdf(schema, code, marker)
    except QuestionnairePdfError as exc:
        raise CliError(translated(exc)) from None
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise fail(
            N_("%(file)s: cannot write the file (%(error)s)"), file=output, error=exc
        ) from exc
    say(
        N_("%(slug)s v%(version)s (%(language)s) written to %(file)s."),
        slug=version.slug,
        version=version.version,
        language=code,
        file=output,
    )
