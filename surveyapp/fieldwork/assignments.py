"""Managers assign enumerators to localities of a wave (community, grid, or a street/district
for telephone work) with a target number of interviews; progress counts non-rejected ones."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import Assignment, Locality, Response, User, Wave
from ..models.surveys import MODES
from .review import counted_response_filter

LEVELS = {"door": ("street", "community", "grid"), "phone": ("district", "street", "community")}


class AssignmentError(Exception):
    """The assignment cannot be made as asked; the message names the field."""


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
    if not wave.is_open:
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
