"""A wave's life: created (planned), opened, closed, reopened, and its results released.

Every wave pins the questionnaire version its interviews use (the latest published version of
the survey's questionnaire unless told otherwise). The web pages, the commands and the demo
all go through these functions, which check each transition and write it to the audit log.

Errors are :class:`SurveyOperationError`: an English message (the command line prints it) whose
text is a msgid of the catalogs, so the web shows it in the interface language.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from flask import has_request_context
from sqlalchemy import func, select

from ..errors import N_, Text, UserError
from ..extensions import db
from ..models import QuestionnaireVersion, Survey, User, Wave
from . import audit

#: A wave's code: letters, digits, '-', '_', '.'; e.g. 2027-Q1.
WAVE_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}\Z")
#: How a questionnaire is named on the command line: slug, slug@2 or slug@v2.
QUESTIONNAIRE_REF_RE = re.compile(r"([A-Za-z0-9_.\-]+?)(?:@v?(\d{1,6}))?\Z")

#: Fieldwork states; whether results are released is apart (``Wave.is_released``).
STATES = ("planned", "open", "closed")


class SurveyOperationError(UserError):
    """A survey or wave cannot be created or changed as asked; ``message`` says why.

    ``template`` is an English msgid with ``%(name)s`` placeholders filled from ``params``;
    ``field`` names the form field or option at fault (empty: the request as a whole).
    """

    def __init__(self, template: str, *, field: str = "", status: int = 400, **params):
        self.template = template
        # The field is a parameter too: a message may name it (``%(field)s``).
        self.params = {"field": field, **params}
        self.field = field
        self.status = status
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return self.template % self.params

    def translated(self) -> str:
        """The message in the interface language (English outside a request)."""
        if not has_request_context():
            return self.message
        from flask_babel import gettext

        params = {k: v.translated() if isinstance(v, Text) else v for k, v in self.params.items()}
        return gettext(self.template, **params)


def audit_actor(user: User | None) -> dict:
    """Audit keyword arguments: the user, or the command line when there is none."""
    if user is not None:
        return {"user": user}
    if has_request_context():
        return {}
    return {"username": "(command line)", "source": "cli"}


# ----------------------------------------------------------------------------- questionnaires


def latest_published(slug: str) -> QuestionnaireVersion | None:
    """The newest published version of questionnaire ``slug``."""
    return db.session.scalar(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.slug == slug, QuestionnaireVersion.status == "published")
        .order_by(QuestionnaireVersion.version.desc())
        .limit(1)
    )


def find_questionnaire(ref: str, *, field: str = "questionnaire") -> QuestionnaireVersion:
    """The published version ``ref`` names: ``slug`` (the latest), ``slug@N`` or ``slug@vN``."""
    text = (ref or "").strip()
    m = QUESTIONNAIRE_REF_RE.match(text)
    if not m:
        raise SurveyOperationError(
            N_("questionnaire: '%(ref)s' is not a questionnaire name like public-security@2"),
            field=field,
            ref=text[:80],
        )
    slug, number = m.group(1), m.group(2)
    if number is None:
        version = latest_published(slug)
        if version is None:
            raise SurveyOperationError(
                N_(
                    "questionnaire: no published questionnaire '%(slug)s' "
                    "(import or publish it first)"
                ),
                field=field,
                slug=slug,
            )
        return version
    version = db.session.scalar(
        select(QuestionnaireVersion).where(
            QuestionnaireVersion.slug == slug, QuestionnaireVersion.version == int(number)
        )
    )
    if version is None:
        raise SurveyOperationError(
            N_("questionnaire: there is no version %(version)s of '%(slug)s'"),
            field=field,
            slug=slug,
            version=int(number),
        )
    if version.status != "published":
        raise SurveyOperationError(
            N_("questionnaire: version %(version)s of '%(slug)s' is a draft: publish it first"),
            field=field,
            slug=slug,
            version=version.version,
        )
    return version


def _wave_questionnaire(survey: Survey, questionnaire) -> QuestionnaireVersion:
    slug = survey.questionnaire_version.slug
    if questionnaire is None or questionnaire == "":
        version = latest_published(slug)
        if version is None:  # the survey's own version is published (a survey needs one)
            version = survey.questionnaire_version
        return version
    version = (
        questionnaire
        if isinstance(questionnaire, QuestionnaireVersion)
        else find_questionnaire(str(questionnaire))
    )
    if version.status != "published":
        raise SurveyOperationError(
            N_("questionnaire: version %(version)s of '%(slug)s' is a draft: publish it first"),
            field="questionnaire",
            slug=version.slug,
            version=version.version,
        )
    if version.slug != slug:
        raise SurveyOperationError(
            N_(
                "questionnaire: this survey uses questionnaire '%(slug)s', not '%(other)s' "
                "(a different questionnaire needs a new survey)"
            ),
            field="questionnaire",
            slug=slug,
            other=version.slug,
        )
    return version


# ----------------------------------------------------------------------------- waves


def find_wave(survey: Survey, code: str) -> Wave:
    """The wave of ``survey`` with ``code``, or a :class:`SurveyOperationError` (404)."""
    code = (code or "").strip()
    wave = db.session.scalar(select(Wave).where(Wave.survey_id == survey.id, Wave.code == code))
    if wave is None:
        raise SurveyOperationError(
            N_("code: survey %(survey)s has no wave '%(code)s'"),
            field="code",
            status=404,
            survey=survey.id,
            code=code[:40],
        )
    return wave


#: The date fields' messages: (missing, not a date), one msgid each for the catalogs.
_DATE_MESSAGES = {
    "start": (
        "start: the first day is needed (YYYY-MM-DD)",
        "start: '%(value)s' is not a date like 2027-01-01",
    ),
    "end": (
        "end: the last day is needed (YYYY-MM-DD)",
        "end: '%(value)s' is not a date like 2027-03-31",
    ),
}


def _parse_date(value, field: str) -> date:
    if isinstance(value, date):
        return value
    missing, wrong = _DATE_MESSAGES[field]
    text = str(value or "").strip()
    if not text:
        raise SurveyOperationError(missing, field=field)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SurveyOperationError(wrong, field=field, value=text[:40]) from None


def _check_dates(starts_on: date, ends_on: date) -> None:
    if ends_on < starts_on:
        raise SurveyOperationError(
            N_("end: the wave ends (%(end)s) before it starts (%(start)s)"),
            field="end",
            start=starts_on.isoformat(),
            end=ends_on.isoformat(),
        )


def create_wave(
    survey: Survey,
    *,
    code: str,
    starts_on,
    ends_on,
    name: str = "",
    questionnaire=None,
    user: User | None = None,
    commit: bool = True,
) -> Wave:
    """Add a planned wave to ``survey`` (not open yet: assign, then open it).

    ``questionnaire``: a published version or its name (``slug@N``) of the survey's
    questionnaire; the latest published version when omitted.
    """
    code = (code or "").strip()
    if not WAVE_CODE_RE.match(code):
        raise SurveyOperationError(
            N_(
                "code: '%(code)s' is not a wave code (1 to 32 letters, digits, '-', '_' or '.', "
                "e.g. 2027-Q1)"
            ),
            field="code",
            code=code[:40],
        )
    if db.session.scalar(select(Wave.id).where(Wave.survey_id == survey.id, Wave.code == code)):
        raise SurveyOperationError(
            N_("code: survey %(survey)s already has a wave '%(code)s'"),
            field="code",
            status=409,
            survey=survey.id,
            code=code,
        )
    name = (name or "").strip()
    if len(name) > 120:
        raise SurveyOperationError(N_("name: at most 120 characters"), field="name")
    start = _parse_date(starts_on, "start")
    end = _parse_date(ends_on, "end")
    _check_dates(start, end)
    version = _wave_questionnaire(survey, questionnaire)
    position = db.session.scalar(
        select(func.coalesce(func.max(Wave.position) + 1, 0)).where(Wave.survey_id == survey.id)
    )
    wave = Wave(
        survey=survey,
        code=code,
        name=name or code,
        position=position,
        starts_on=start,
        ends_on=end,
        is_open=False,
        questionnaire_version=version,
    )
    db.session.add(wave)
    db.session.flush()
    audit.record(
        "wave_created",
        f"survey {survey.id} wave {code}",
        **audit_actor(user),
        survey=survey.id,
        wave=wave.id,
        starts_on=start.isoformat(),
        ends_on=end.isoformat(),
        questionnaire=f"{version.slug}@{version.version}",
    )
    if commit:
        db.session.commit()
    return wave


def update_wave(
    wave: Wave,
    *,
    name: str | None = None,
    starts_on=None,
    ends_on=None,
    questionnaire=None,
    user: User | None = None,
) -> Wave:
    """Change a wave's name or dates; its questionnaire only while it has no interviews."""
    from ..models import Response

    changes: dict = {}
    if name is not None:
        name = name.strip()
        if len(name) > 120:
            raise SurveyOperationError(N_("name: at most 120 characters"), field="name")
        if name and name != wave.name:
            changes["name"] = [wave.name, name]
            wave.name = name
    start = _parse_date(starts_on, "start") if starts_on not in (None, "") else wave.starts_on
    end = _parse_date(ends_on, "end") if ends_on not in (None, "") else wave.ends_on
    if start and end:
        _check_dates(start, end)
    if start != wave.starts_on:
        changes["starts_on"] = [str(wave.starts_on), str(start)]
        wave.starts_on = start
    if end != wave.ends_on:
        changes["ends_on"] = [str(wave.ends_on), str(end)]
        wave.ends_on = end
    if questionnaire not in (None, ""):
        version = _wave_questionnaire(wave.survey, questionnaire)
        if version.id != wave.questionnaire_version_id:
            if db.session.scalar(select(Response.id).where(Response.wave_id == wave.id).limit(1)):
                raise SurveyOperationError(
                    N_(
                        "questionnaire: wave %(code)s already has interviews: its questionnaire "
                        "version cannot change (create a new wave)"
                    ),
                    field="questionnaire",
                    status=409,
                    code=wave.code,
                )
            old = wave.questionnaire_version
            changes["questionnaire"] = [
                f"{old.slug}@{old.version}" if old else None,
                f"{version.slug}@{version.version}",
            ]
            wave.questionnaire_version = version
    if changes:
        audit.record(
            "wave_edited",
            f"survey {wave.survey_id} wave {wave.code}",
            **audit_actor(user),
            wave=wave.id,
            changes=changes,
        )
    db.session.commit()
    return wave


def _refuse(wave: Wave, template: str) -> None:
    raise SurveyOperationError(template, field="state", status=409, code=wave.code)


def open_wave(wave: Wave, user: User | None = None) -> Wave:
    """Open a planned wave: enumerators may interview from now on."""
    state = wave.state
    if state == "open":
        _refuse(wave, "wave %(code)s is already open")
    if state == "closed":
        _refuse(wave, "wave %(code)s was closed: reopen it instead")
    return _transition(wave, "wave_opened", user, is_open=True, opened_at=datetime.utcnow())


def close_wave(wave: Wave, user: User | None = None) -> Wave:
    """Close an open wave: no more interviews are accepted (sync answers 409)."""
    if wave.state != "open":
        _refuse(wave, "wave %(code)s is not open: only an open wave can be closed")
    return _transition(wave, "wave_closed", user, is_open=False, closed_at=datetime.utcnow())


def reopen_wave(wave: Wave, user: User | None = None) -> Wave:
    """Open a closed wave again, unless its results are released (they would change)."""
    if wave.state != "closed":
        _refuse(wave, "wave %(code)s is not closed: only a closed wave can be reopened")
    if wave.is_released:
        _refuse(
            wave,
            "wave %(code)s is released: its published results would change, so it cannot "
            "be reopened",
        )
    return _transition(wave, "wave_reopened", user, is_open=True)


def release_wave(wave: Wave, user: User | None = None, *, prepare: bool = True) -> Wave:
    """Release a wave's results: officials see its reports and exports from now on.

    Usually after closing it; an open wave may be released too, and officials then follow
    its results as interviews come in. With ``prepare`` (and ``PREPARE_REPORTS`` on), its
    report data and PDFs are then prepared by a background job (services/jobs.py).
    """
    if wave.is_released:
        _refuse(wave, "wave %(code)s is already released")
    if wave.state == "planned":
        _refuse(wave, "wave %(code)s has not been opened: it has no results to release")
    wave = _transition(wave, "wave_released", user, released_at=datetime.utcnow(), released_by=user)
    from .jobs import prepare_reports_soon  # the report data and PDFs, in the background

    if prepare:
        prepare_reports_soon(wave)
    return wave


def _transition(wave: Wave, action: str, user: User | None, **values) -> Wave:
    before = (wave.state, wave.is_released)
    for key, value in values.items():
        setattr(wave, key, value)
    audit.record(
        action,
        f"survey {wave.survey_id} wave {wave.code}",
        **audit_actor(user),
        wave=wave.id,
        before={"state": before[0], "released": before[1]},
        after={"state": wave.state, "released": wave.is_released},
    )
    db.session.commit()
    return wave


def wave_summary(wave: Wave, counted: int | None = None) -> dict:
    """A wave as the commands and pages show it."""
    version = wave.questionnaire_version
    out = {
        "id": wave.id,
        "code": wave.code,
        "name": wave.name,
        "state": wave.state,
        "open": wave.is_open,
        "released": wave.is_released,
        "starts_on": wave.starts_on.isoformat() if wave.starts_on else None,
        "ends_on": wave.ends_on.isoformat() if wave.ends_on else None,
        "questionnaire": f"{version.slug}@{version.version}" if version else None,
        "questionnaire_version_id": wave.questionnaire_version_id,
        "opened_at": _when(wave.opened_at),
        "closed_at": _when(wave.closed_at),
        "released_at": _when(wave.released_at),
    }
    if counted is not None:
        out["counted_responses"] = counted
    return out


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def all_waves() -> list[Wave]:
    """Every wave, by survey and position in it."""
    return list(db.session.scalars(select(Wave).order_by(Wave.survey_id, Wave.position)))
