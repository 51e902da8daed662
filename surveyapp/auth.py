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


# The access rules live in :mod:`surveyapp.policy`; this name stays importable from here.
from .policy import may_see_survey  # noqa: E402, F401
