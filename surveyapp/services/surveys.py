"""Read-only views of surveys: overview with response counts, counts per street."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import func, select

from ..errors import N_
from ..extensions import db
from ..models import Locality, Response, Survey, Wave


def all_surveys() -> list[Survey]:
    """Every survey, in the order they were created."""
    return list(db.session.scalars(select(Survey).order_by(Survey.id)))


def survey_overview(visible: Mapping[int, Collection[int] | None] | None = None) -> list[dict]:
    """Return the surveys with their waves (state, release, questionnaire version) and their
    response counts: ``responses`` stored, ``counted_responses`` those the estimates count
    (all but the ones rejected in review).

    ``visible`` (survey id -> the street ids whose responses count, or None for the whole
    survey) limits the list and the counts, as :func:`surveyapp.policy.visible_streets`
    says; without it every survey is listed whole (the command line).
    """
    from .responses import counted_response_filter
    from .waves import wave_summary

    by_street: dict[int, dict[int, list[int]]] = {}
    counted = func.count(Response.id).filter(counted_response_filter())
    for wave_id, street_id, n, kept in db.session.execute(
        select(Response.wave_id, Response.street_id, func.count(Response.id), counted).group_by(
            Response.wave_id, Response.street_id
        )
    ):
        by_street.setdefault(wave_id, {})[street_id] = [n, kept]
    out = []
    for survey in db.session.scalars(select(Survey).order_by(Survey.id)):
        if visible is not None and survey.id not in visible:
            continue
        streets = visible.get(survey.id) if visible is not None else None
        counts = {
            wave_id: [
                sum(n[i] for street, n in per.items() if streets is None or street in streets)
                for i in (0, 1)
            ]
            for wave_id, per in by_street.items()
        }
        qv = survey.questionnaire_version
        waves = []
        for w in survey.waves:
            stored, kept = counts.get(w.id, (0, 0))
            row = wave_summary(w, counted=kept)
            row["responses"] = stored
            waves.append(row)
        out.append(
            {
                "id": survey.id,
                "name": survey.name,
                "questionnaire": f"{qv.slug} v{qv.version}",
                "district": survey.district.code,
                "modes": survey.mode_list,
                "owner": survey.created_by.username if survey.created_by else None,
                "settings_version": survey.settings_version,
                "waves": waves,
                "responses": sum(w["responses"] for w in waves),
                "counted_responses": sum(w["counted_responses"] for w in waves),
            }
        )
    return out


def counts_by_street(wave: Wave) -> list[tuple[Locality, int]]:
    """Return each street of the survey's district with the wave's response count."""
    counts = dict(
        db.session.execute(
            select(Response.street_id, func.count(Response.id))
            .where(Response.wave_id == wave.id)
            .group_by(Response.street_id)
        ).all()
    )
    streets = db.session.scalars(
        select(Locality)
        .where(Locality.parent_id == wave.survey.district_id, Locality.level == "street")
        .order_by(Locality.code)
    )
    return [(street, counts.get(street.id, 0)) for street in streets]


# ----------------------------------------------------------------------------- creating


def _mode_list(modes) -> list[str]:
    from ..models.surveys import MODES
    from .waves import SurveyOperationError

    items = modes.split(",") if isinstance(modes, str) else list(modes or ())
    items = [m.strip() for m in items if m and m.strip()]
    unknown = [m for m in items if m not in MODES]
    if unknown or not items:
        raise SurveyOperationError(
            N_("modes: '%(modes)s' is not a list of modes: door, phone or door,phone"),
            field="modes",
            modes=",".join(items)[:40] or "",
        )
    return [m for m in MODES if m in items]


def find_district(code: str) -> Locality:
    from .waves import SurveyOperationError

    code = (code or "").strip()
    district = db.session.scalar(select(Locality).where(Locality.code == code))
    if district is None:
        raise SurveyOperationError(
            N_("district: no locality with code '%(code)s'"), field="district", code=code[:40]
        )
    if district.level != "district":
        raise SurveyOperationError(
            N_("district: %(code)s is a %(level)s, not a district"),
            field="district",
            code=code,
            level=district.level,
        )
    return district


def find_owner(username: str):
    from ..models import User
    from .waves import SurveyOperationError

    name = (username or "").strip()
    owner = db.session.scalar(select(User).where(User.username == name))
    if owner is None or owner.role not in ("manager", "admin"):
        raise SurveyOperationError(
            N_("owner: no manager named '%(name)s'"), field="owner", name=name[:64]
        )
    if not owner.active:
        raise SurveyOperationError(
            N_("owner: '%(name)s' is disabled"), field="owner", name=owner.username
        )
    return owner


def _check_name(name: str, survey: Survey | None = None) -> str:
    from .waves import SurveyOperationError

    name = (name or "").strip()
    if not name or len(name) > 200:
        raise SurveyOperationError(
            N_("name: a survey needs a name of 1 to 200 characters"), field="name"
        )
    query = select(Survey.id).where(Survey.name == name)
    if survey is not None:
        query = query.where(Survey.id != survey.id)
    if db.session.scalar(query):
        raise SurveyOperationError(
            N_("name: a survey named '%(name)s' exists already"),
            field="name",
            status=409,
            name=name,
        )
    return name


def create_survey(
    *,
    name: str,
    questionnaire,
    district,
    modes,
    owner,
    settings: dict | None = None,
    user=None,
) -> Survey:
    """Create a survey (no wave yet) and record it in the audit log.

    ``questionnaire``: a published version or its name (``slug`` or ``slug@N``); ``district``
    a locality or its code; ``owner`` the manager who runs it (a user or a user name).
    """
    from ..models import QuestionnaireVersion
    from . import audit
    from .survey_settings import DEFAULT_SURVEY_SETTINGS, check_settings
    from .waves import audit_actor, find_questionnaire

    name = _check_name(name)
    version = (
        questionnaire
        if isinstance(questionnaire, QuestionnaireVersion)
        else find_questionnaire(str(questionnaire or ""))
    )
    if not isinstance(district, Locality):
        district = find_district(str(district or ""))
    if isinstance(owner, str):
        owner = find_owner(owner)
    mode_text = ",".join(_mode_list(modes))
    checked = check_settings(settings if settings is not None else DEFAULT_SURVEY_SETTINGS)
    survey = Survey(
        name=name,
        questionnaire_version=version,
        district=district,
        modes=mode_text,
        created_by=owner,
        settings=checked,
        settings_version=1,
    )
    db.session.add(survey)
    db.session.flush()
    audit.record(
        "survey_created",
        f"survey {survey.id}",
        **audit_actor(user),
        survey=survey.id,
        name=name,
        questionnaire=f"{version.slug}@{version.version}",
        district=district.code,
        modes=mode_text,
        owner=owner.username if owner else None,
        settings=checked,
        settings_version=1,
    )
    db.session.commit()
    return survey


def find_survey(survey_id) -> Survey:
    from .waves import SurveyOperationError

    survey = db.session.get(Survey, int(survey_id)) if str(survey_id).isdigit() else None
    if survey is None:
        raise SurveyOperationError(
            N_("survey: there is no survey %(id)s (surveyapp surveys list shows them)"),
            field="survey",
            status=404,
            id=str(survey_id)[:20],
        )
    return survey


def update_survey(
    survey: Survey, *, name=None, district=None, modes=None, owner=None, user=None
) -> dict:
    """Change a survey's name, district, modes or owner; return the changes (audited).

    The district cannot change once the survey has responses (they carry its localities),
    and a mode cannot be dropped while assignments of that mode exist.
    """
    from ..models import Assignment
    from . import audit
    from .survey_settings import has_responses
    from .waves import SurveyOperationError, audit_actor

    changes: dict = {}
    if name is not None and name.strip() != survey.name:
        new_name = _check_name(name, survey)
        changes["name"] = [survey.name, new_name]
        survey.name = new_name
    if district not in (None, ""):
        place = district if isinstance(district, Locality) else find_district(str(district))
        if place.id != survey.district_id:
            if has_responses(survey):
                raise SurveyOperationError(
                    N_(
                        "district: survey %(id)s has responses in district %(code)s: its district "
                        "cannot change (create a new survey)"
                    ),
                    field="district",
                    status=409,
                    id=survey.id,
                    code=survey.district.code,
                )
            changes["district"] = [survey.district.code, place.code]
            survey.district = place
    if modes not in (None, ""):
        new_modes = _mode_list(modes)
        dropped = [m for m in survey.mode_list if m not in new_modes]
        if dropped:
            used = db.session.scalar(
                select(Assignment.mode)
                .join(Wave, Wave.id == Assignment.wave_id)
                .where(Wave.survey_id == survey.id, Assignment.mode.in_(dropped))
                .limit(1)
            )
            if used:
                raise SurveyOperationError(
                    N_(
                        "modes: survey %(id)s has %(mode)s assignments: end them before dropping "
                        "that mode"
                    ),
                    field="modes",
                    status=409,
                    id=survey.id,
                    mode=used,
                )
        text = ",".join(new_modes)
        if text != survey.modes:
            changes["modes"] = [survey.modes, text]
            survey.modes = text
    if owner not in (None, ""):
        person = find_owner(owner) if isinstance(owner, str) else owner
        if person.id != survey.created_by_id:
            changes["owner"] = [
                survey.created_by.username if survey.created_by else None,
                person.username,
            ]
            survey.created_by = person
    if changes:
        audit.record(
            "survey_edited",
            f"survey {survey.id}",
            **audit_actor(user),
            survey=survey.id,
            changes=changes,
        )
    db.session.commit()
    return changes
