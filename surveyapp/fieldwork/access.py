"""Who may supervise which wave's fieldwork: admins any, managers the surveys they run."""

from __future__ import annotations

from ..auth import may_see_survey
from ..models import Survey, User


def may_supervise(user: User, survey: Survey) -> bool:
    """Admins supervise every survey; a manager those they may see (the ones they created),
    by the same rule as the rest of the application (:func:`surveyapp.auth.may_see_survey`)."""
    return user.role in ("admin", "manager") and may_see_survey(user, survey)
