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
    """The session's user, if the session is still theirs (see ``surveyapp.sessions``).

    Every request of a logged-in user passes here, so it costs one plain query: the account's
    row (its columns, no ORM loading), checked against the session, then made the session's
    ``User`` as a query would have (persistent, its relationships loaded when used).
    """
    from . import sessions

    try:
        row = db.session.execute(_account_row(), {"id": int(user_id)}).one_or_none()
    except ValueError:
        row = None
    if row is None or not sessions.is_current(row):
        sessions.end()
        return None
    from .models import User

    return User.from_row(row)


_ACCOUNT_ROW = None


def _account_row():
    """``SELECT`` every column of ``user_account`` by ``:id`` (built once)."""
    global _ACCOUNT_ROW
    if _ACCOUNT_ROW is None:
        from sqlalchemy import bindparam, select

        from .models import User

        table = User.__table__
        _ACCOUNT_ROW = select(table).where(table.c.id == bindparam("id"))
    return _ACCOUNT_ROW


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
    from .sessions import CookieSessions

    app.session_interface = CookieSessions()
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    csrf.init_app(app)


# The access rules live in :mod:`surveyapp.policy`; this name stays importable from here.
from .policy import may_see_survey  # noqa: E402, F401
