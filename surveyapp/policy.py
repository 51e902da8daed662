"""Who may see or change what: the one place for the application's access rules.

Views, commands and background jobs ask these functions; none of them compares roles,
creators or jurisdictions itself. The rules:

- an **admin** sees and manages every survey;
- a **manager** sees and manages the surveys they created, and no other (their locality,
  if they have one, grants nothing: a survey belongs to whoever runs it);
- an **official** sees the surveys whose district overlaps their jurisdiction, read-only:
  the whole survey (district report, exports, every street) when the district lies within
  their jurisdiction, else only the streets that lie within it;
- an **enumerator** sees the surveys they have an assignment in, and only for fieldwork.

The command line acts for the operator of the server (who holds the database anyway) and
asks no rule. A wave is visible when its survey is, except that officials see a wave only
once its results are released (:func:`may_see_wave`; managers see it live, marked 未发布).
Functions take the user object (``flask_login.current_user`` works) and never abort: the
caller turns ``False`` into 403 or 404 (an official asking for an unreleased wave gets 404,
as if it did not exist).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import exists, select

from .extensions import db

if TYPE_CHECKING:
    from .models import Locality, QuestionnaireVersion, Survey, User, Wave
    from .models.reports import ReportJob


def _authenticated(user) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def _role(user) -> str | None:
    return user.role if _authenticated(user) else None


# ----------------------------------------------------------------------------- surveys


def may_see_survey(user: User, survey: Survey) -> bool:
    """Tell whether ``user`` may see ``survey`` at all (some of its waves or streets)."""
    role = _role(user)
    if role == "admin":
        return True
    if role == "manager":
        return survey.created_by_id == user.id
    if role == "official":
        place = user.locality
        if place is None:
            return False
        district = survey.district
        return district.is_within(place) or place.is_within(district)
    if role == "enumerator":
        from .models import Assignment, Wave

        return bool(
            db.session.scalar(
                select(
                    exists().where(
                        Assignment.enumerator_id == user.id,
                        Assignment.wave_id == Wave.id,
                        Wave.survey_id == survey.id,
                    )
                )
            )
        )
    return False


def may_manage_survey(user: User, survey: Survey) -> bool:
    """Tell whether ``user`` runs ``survey``: its fieldwork, review, CATI, plan, settings."""
    return _role(user) in ("admin", "manager") and may_see_survey(user, survey)


def may_see_wave(user: User, wave: Wave) -> bool:
    """Tell whether ``user`` may see ``wave``: when they may see its survey and, for an
    official, once the wave's results are released (admins and managers see it live)."""
    if not may_see_survey(user, wave.survey):
        return False
    if _role(user) == "official":
        return wave.is_released
    return True


def visible_waves(user: User, survey: Survey) -> list[Wave]:
    """The waves of ``survey`` that ``user`` may see, in order."""
    return [w for w in survey.waves if may_see_wave(user, w)]


def may_manage_wave(user: User, wave: Wave) -> bool:
    """Tell whether ``user`` runs the fieldwork of ``wave``."""
    return may_manage_survey(user, wave.survey)


# ----------------------------------------------------------------------------- streets


@dataclass(frozen=True)
class StreetView:
    """The streets of a survey a user may see, and whether they see the whole district
    (the district report, the ZIP of all streets, the exports, district totals)."""

    streets: tuple  # localities, or plain rows with the same fields (visible_streets_in)
    whole: bool

    def __bool__(self) -> bool:
        return self.whole or bool(self.streets)

    @property
    def street_ids(self) -> frozenset[int]:
        return frozenset(s.id for s in self.streets)


def visible_streets(
    user: User, survey: Survey, streets: list[Locality] | None = None
) -> StreetView:
    """The streets of ``survey`` (``streets``: the survey's streets, when the caller has
    them) that ``user`` may see, and whether they see the whole survey."""
    if streets is None:
        streets = survey_street_list(survey)
    chain = [place.id for place in survey.district.ancestors()] if _role(user) == "official" else []
    return visible_streets_in(user, survey, chain, streets)


def visible_streets_in(
    user: User, survey: Survey, district_chain: Sequence[int], streets: Sequence
) -> StreetView:
    """:func:`visible_streets` from plain values, without a query: ``district_chain`` the ids
    of the survey's district and of the localities above it, ``streets`` the district's
    streets (objects with an ``id``: localities or plain rows)."""
    role = _role(user)
    if role in ("admin", "manager"):
        if may_manage_survey(user, survey):
            return StreetView(tuple(streets), True)
        return StreetView((), False)
    place = user.locality_id if role == "official" else None
    if place is not None:
        if place in district_chain:  # the district lies within the official's place
            return StreetView(tuple(streets), True)
        # A street lies within the place when it is the place (the place is not above it).
        return StreetView(tuple(s for s in streets if s.id == place), False)
    return StreetView((), False)


def may_see_wave_in(user: User, wave: Wave, view: StreetView) -> bool:
    """:func:`may_see_wave` for a user who sees ``view`` of the wave's survey (from
    :func:`visible_streets`), without a query when they see some of it."""
    if not view:
        return may_see_wave(user, wave)
    # Seeing part of a survey is seeing the survey: what remains is an official's release.
    if _role(user) == "official":
        return wave.is_released
    return True


def may_see_whole_survey(user: User, survey: Survey) -> bool:
    """Tell whether ``user`` may see district-wide results of ``survey`` (reports, exports)."""
    return visible_streets(user, survey).whole


def survey_street_list(survey: Survey) -> list[Locality]:
    """The streets of the survey's district."""
    return [s for s in survey.district.children if s.level == "street"]


# ----------------------------------------------------------------------------- questionnaires


def may_edit_draft(user: User, version: QuestionnaireVersion) -> bool:
    """Drafts belong to the manager who started them (and to admins); published versions
    change for nobody."""
    role = _role(user)
    if version.status != "draft":
        return False
    if role == "admin":
        return True
    return role == "manager" and version.created_by_id in (None, user.id)


def may_read_questionnaire(user: User, version_id: int) -> bool:
    """Managers and admins read any questionnaire; enumerators those of their assignments."""
    role = _role(user)
    if role in ("admin", "manager"):
        return True
    if role != "enumerator":
        return False
    from .fieldwork.offline import user_assignments

    return any(a.wave.questionnaire_version_id == version_id for a in user_assignments(user))


# ----------------------------------------------------------------------------- jobs


def may_see_job(user: User, job: ReportJob) -> bool:
    """A background job's progress and file are its starter's (and the admins'), while its
    wave is one they may see."""
    role = _role(user)
    if not (role == "admin" or (role is not None and job.user_id == user.id)):
        return False
    if job.wave_id is not None:
        from .models import Wave

        wave = db.session.get(Wave, job.wave_id)
        return wave is not None and may_see_wave(user, wave)
    return True


def may_run_job(user: User, survey: Survey, wave: Wave | None = None) -> bool:
    """Background jobs (ZIP of all streets, response exports) need the whole survey (and the
    wave, if any, visible); checked when the job is started and again when it runs (a
    jurisdiction may have changed)."""
    if wave is not None and not may_see_wave(user, wave):
        return False
    return may_see_whole_survey(user, survey)


# ----------------------------------------------------------------------------- safety index

#: Roles that upload the safety index's monthly series (data clerks, managers, admins).
SAFETY_INDEX_UPLOADERS = ("admin", "manager", "clerk")
#: Roles that change the safety index's definition.
SAFETY_INDEX_EDITORS = ("admin", "manager")
#: Roles that see the safety index (their jurisdiction only).
SAFETY_INDEX_VIEWERS = ("admin", "manager", "official", "clerk")


def safety_index_streets(user: User, district: Locality) -> StreetView:
    """The streets of ``district`` whose safety index ``user`` may see, and whether they see
    the whole district (league table, bulletin, exports). The index belongs to a district,
    not to a survey: managers, officials and clerks see it by their jurisdiction."""
    streets = [s for s in district.children if s.level == "street"]
    role = _role(user)
    if role == "admin":
        return StreetView(tuple(streets), True)
    place = user.locality if role in SAFETY_INDEX_VIEWERS else None
    if place is None:
        return StreetView((), False)
    if district.is_within(place):
        return StreetView(tuple(streets), True)
    return StreetView(tuple(s for s in streets if s.is_within(place)), False)


def may_upload_safety_data(user: User) -> bool:
    return _role(user) in SAFETY_INDEX_UPLOADERS


def may_edit_safety_definition(user: User) -> bool:
    return _role(user) in SAFETY_INDEX_EDITORS
