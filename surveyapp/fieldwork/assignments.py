"""Managers assign enumerators to localities of a wave (community, grid, or a street/district
for telephone work) with a target number of interviews; progress counts non-rejected ones.

:func:`check_filing` is the one assignment rule: where and how a response may be filed under an
assignment. The web form, the sync API, the CATI desk and review all ask it.
"""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import Assignment, Locality, Response, User, Wave
from ..models.fieldwork import CatiCase
from ..models.surveys import MODES
from .review import counted_response_filter

LEVELS = {"door": ("street", "community", "grid"), "phone": ("district", "street", "community")}


class AssignmentError(Exception):
    """The assignment cannot be made as asked; the message names the field."""


class FilingRefused(Exception):
    """A response cannot be filed under an assignment: ``status`` is 403 (not allowed there or
    so) or 400 (the request itself is wrong); the message says why."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.message = message
        self.status = status


def filing_localities(assignment: Assignment) -> list[Locality]:
    """The localities a door-to-door response of ``assignment`` may be filed under: the assigned
    locality and, when the enumerator may choose (``locality_editable``), every locality below
    it. The lowest ones (grids) come first, in tree order, so that forms offer the most precise
    locality by default; the assigned locality and the levels between follow."""
    root = assignment.locality
    if not assignment.locality_editable:
        return [root]
    leaves: list[Locality] = []
    inner: list[Locality] = []
    stack = [root]
    while stack:
        node = stack.pop()
        (inner if node.children else leaves).append(node)
        stack.extend(reversed(node.children))
    return leaves + inner


def check_filing(
    assignment: Assignment,
    *,
    locality: Locality,
    mode: str,
    wave: Wave | None = None,
    case: CatiCase | None = None,
    uuid: str | None = None,
) -> None:
    """Refuse (raise :class:`FilingRefused`) a response that may not be filed under
    ``assignment``; return None when it may.

    - The mode belongs to the assignment: a door-to-door assignment files door-to-door
      interviews only, a telephone assignment telephone interviews only.
    - A door-to-door interview lies in the assignment's locality, or below it when the
      assignment lets the enumerator choose (:func:`filing_localities`); it has no CATI case.
    - A telephone interview is made from the CATI desk for a case of the assignment's wave:
      the case is one the enumerator holds (or the one this very interview, ``uuid``,
      completed), it lies within the assignment's locality, and the response lies within the
      case's locality.
    - The response belongs to the assignment's wave, and the assignment has not ended.
    """
    if wave is not None and wave.id != assignment.wave_id:
        raise FilingRefused(
            f"assignment {assignment.id} belongs to wave {assignment.wave.code}, not {wave.code}",
            400,
        )
    if mode not in MODES:
        raise FilingRefused(f"mode: '{mode[:16]}' is not a mode (door or phone)", 400)
    if getattr(assignment, "ended_at", None) is not None:
        raise FilingRefused(f"assignment {assignment.id} has ended")
    if mode != assignment.mode:
        raise FilingRefused(
            f"assignment {assignment.id} is {_MODE_TEXT[assignment.mode]}: "
            f"a {_MODE_TEXT[mode]} interview cannot be filed under it"
        )
    if mode == "door":
        if case is not None:
            raise FilingRefused(
                "a CATI case belongs to a telephone interview, not door to door", 400
            )
        if locality.id not in {loc.id for loc in filing_localities(assignment)}:
            raise FilingRefused(
                f"locality {locality.code} is not part of assignment {assignment.id} "
                f"({assignment.locality.code})"
            )
        return
    if case is None:
        raise FilingRefused(
            "telephone interviews are made from the CATI desk, for a case of the wave "
            "(send 'cati_case')"
        )
    if case.wave_id != assignment.wave_id:
        raise FilingRefused(f"case {case.id} belongs to another wave", 400)
    holds = case.status == "claimed" and case.claimed_by_id == assignment.enumerator_id
    completed_by_this = uuid is not None and case.response_uuid == uuid
    if not (holds or completed_by_this):
        raise FilingRefused(f"case {case.id} is not an open case of yours")
    if not case.locality.is_within(assignment.locality):
        raise FilingRefused(
            f"case {case.id} lies outside assignment {assignment.id} ({assignment.locality.code})"
        )
    if not locality.is_within(case.locality) or (
        not assignment.locality_editable and locality.id != case.locality_id
    ):
        raise FilingRefused(
            f"locality {locality.code} is not the locality of case {case.id} "
            f"({case.locality.code}) or below it"
        )


_MODE_TEXT = {"door": "door to door", "phone": "telephone"}


def filing_assignment(
    assignments: list[Assignment],
    *,
    wave: Wave,
    locality: Locality,
    mode: str,
    case: CatiCase | None = None,
    uuid: str | None = None,
) -> Assignment:
    """The first of ``assignments`` in ``wave`` a response may be filed under, or raise the
    refusal of the closest one (same mode first)."""
    candidates = [a for a in assignments if a.wave_id == wave.id]
    if not candidates:
        raise FilingRefused(f"you have no assignment in wave {wave.code}")
    candidates.sort(key=lambda a: a.mode != mode)
    first_error: FilingRefused | None = None
    for a in candidates:
        try:
            check_filing(a, locality=locality, mode=mode, wave=wave, case=case, uuid=uuid)
        except FilingRefused as exc:
            first_error = first_error or exc
            continue
        return a
    assert first_error is not None
    raise first_error


def may_file(assignment: Assignment, response: Response) -> bool:
    """Whether a stored ``response`` lies where ``assignment`` files responses (its wave, mode
    and localities); telephone responses need only lie within the assignment's locality, since
    their case is closed once they are stored."""
    if response.wave_id != assignment.wave_id or response.mode != assignment.mode:
        return False
    if assignment.mode == "phone":
        return response.locality.is_within(assignment.locality)
    return response.locality_id in {loc.id for loc in filing_localities(assignment)}


def assign(
    wave: Wave,
    username: str,
    locality_code: str,
    mode: str,
    target: int,
    locality_editable: bool = True,
) -> tuple[Assignment, bool]:
    """Create an assignment, or change the target of an existing one; return (it, created)."""
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None or user.role != "enumerator":
        raise AssignmentError(f"enumerator: no enumerator named '{username.strip()[:64]}'")
    if not user.active:
        raise AssignmentError(f"enumerator: '{user.username}' is deactivated")
    if mode not in MODES or mode not in wave.survey.mode_list:
        raise AssignmentError(
            f"mode: '{mode[:16]}' is not a mode of this survey ({', '.join(wave.survey.mode_list)})"
        )
    locality = db.session.scalar(select(Locality).where(Locality.code == locality_code.strip()))
    if locality is None:
        raise AssignmentError(f"locality: no locality with code '{locality_code.strip()[:40]}'")
    if not locality.is_within(wave.survey.district):
        raise AssignmentError(f"locality: {locality.code} is outside the survey's district")
    if locality.level not in LEVELS[mode]:
        raise AssignmentError(
            f"locality: {mode} work is assigned to a "
            f"{' / '.join(LEVELS[mode])}, not a {locality.level}"
        )
    if target < 0 or target > 100000:
        raise AssignmentError("target: a number of interviews from 0 to 100000")
    if wave.state == "closed":  # a planned wave takes assignments before it opens
        raise AssignmentError(f"wave {wave.code} is closed")
    found = db.session.scalar(
        select(Assignment).where(
            Assignment.wave_id == wave.id,
            Assignment.enumerator_id == user.id,
            Assignment.locality_id == locality.id,
        )
    )
    created = found is None
    if created:
        found = Assignment(wave_id=wave.id, enumerator_id=user.id, locality_id=locality.id)
        db.session.add(found)
    found.mode = mode
    found.target = target
    found.locality_editable = locality_editable
    db.session.commit()
    return found, created


def progress(wave: Wave) -> list[tuple[Assignment, int]]:
    """Each assignment of ``wave`` with its enumerator's counted interviews within it."""
    rows = []
    for a in db.session.scalars(
        select(Assignment)
        .where(Assignment.wave_id == wave.id)
        .order_by(Assignment.enumerator_id, Assignment.id)
    ):
        level = {
            "district": Response.district_id,
            "street": Response.street_id,
            "community": Response.community_id,
            "grid": Response.grid_id,
        }.get(a.locality.level, Response.locality_id)
        done = (
            db.session.scalar(
                select(func.count(Response.id)).where(
                    Response.wave_id == wave.id,
                    Response.enumerator_id == a.enumerator_id,
                    Response.mode == a.mode,
                    level == a.locality_id,
                    counted_response_filter(),
                )
            )
            or 0
        )
        rows.append((a, done))
    return rows
