"""Authentication (Flask-Login) and the role checks that every view declares."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Flask, abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from .extensions import csrf, db, login_manager

F = TypeVar("F", bound=Callable)


@login_manager.user_loader
def load_user(user_id: str):
    """The session's user, if the session is still theirs (see ``surveyapp.sessions``)."""
    from . import sessions
    from .models import User

    try:
        user = db.session.get(User, int(user_id))
    except ValueError:
        user = None
    if user is None or not sessions.is_current(user):
        sessions.end()
        return None
    return user


def roles_required(*roles: str) -> Callable[[F], F]:
    """Let only logged-in users with one of ``roles`` through; others get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    csrf.init_app(app)


def may_see_survey(user, survey) -> bool:
    """Tell whether ``user`` may see ``survey`` and its waves.

    Admins see every survey; a manager the surveys they created; an official those whose
    district overlaps their jurisdiction; an enumerator those they have an assignment in.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.role == "admin":
        return True
    if user.role == "manager":
        return survey.created_by_id == user.id
    if user.role == "official":
        jurisdiction = user.locality
        if jurisdiction is None:
            return False
        district = survey.district
        return district.is_within(jurisdiction) or jurisdiction.is_within(district)
    if user.role == "enumerator":
        from sqlalchemy import exists, select

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
