"""Who may supervise which wave: admins any, managers the surveys they run."""

from __future__ import annotations

from ..models import Survey, User, Wave


def may_supervise(user: User, survey: Survey) -> bool:
    """Admins supervise every survey; a manager those they created or whose district lies in
    their own jurisdiction (if they have one)."""
    if user.role == "admin":
        return True
    if user.role != "manager":
        return False
    if survey.created_by_id == user.id:
        return True
    return user.locality is not None and survey.district.is_within(user.locality)


def supervised_waves(user: User, waves: list[Wave]) -> list[Wave]:
    return [w for w in waves if may_supervise(user, w.survey)]
