"""Authentication (Flask-Login) and the role checks that every view declares."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from hashlib import sha512
from typing import TypeVar

from flask import Flask, abort, current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_login.config import EXEMPT_METHODS

from .extensions import csrf, db, login_manager

F = TypeVar("F", bound=Callable)


@login_manager.user_loader
def load_user(user_id: str):
    """The session's user, if the session is still theirs (see ``surveyapp.sessions``).

    Every request of a logged-in user passes here, so it costs one plain query: the account's
    row (its columns, no ORM loading), checked against the session, then made the session's
    ``User`` as a query would have (persistent, its relationships loaded when used).
    """
    statement, sessions, user_class = _LOADER or _loader()
    try:
        account_id = int(user_id)
    except ValueError:
        row = None
    else:
        # Core on the session's connection (as the token check): the ORM's per-statement
        # work is not needed for one plain row.
        row = db.session.connection().execute(statement, {"id": account_id}).one_or_none()
    if row is None or not sessions.is_current(row):
        sessions.end()
        return None
    return user_class.from_row(row)


_LOADER: tuple | None = None


def _loader() -> tuple:
    """``SELECT`` every column of ``user_account`` by ``:id``, the session checks and
    ``User``: imported and built at the first request, not at every one."""
    global _LOADER
    from sqlalchemy import bindparam, select

    from . import sessions
    from .models import User

    table = User.__table__
    _LOADER = (select(table).where(table.c.id == bindparam("id")), sessions, User)
    return _LOADER


def roles_required(*roles: str) -> Callable[[F], F]:
    """Let only logged-in users with one of ``roles`` through; others get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            # Flask-Login's login_required, then the role, with current_user read once (every
            # page of a logged-in user passes here).
            user = current_user._get_current_object()
            if (
                request.method not in EXEMPT_METHODS
                and not current_app.config.get("LOGIN_DISABLED")
                and not user.is_authenticated
            ):
                return current_app.login_manager.unauthorized()
            if user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def session_identifier() -> str:
    """Flask-Login's identifier of the client a session was opened by (``_create_identifier``:
    a hash of its address and browser, compared on every request of a logged-in user), read
    from the WSGI environment instead of through the request's header proxies: the same text
    at a quarter of the cost (tests/web/test_sessions.py compares the two)."""
    environ = request.environ
    address = environ.get("HTTP_X_FORWARDED_FOR", environ.get("REMOTE_ADDR"))
    if address is not None:
        address = address.encode("utf-8").split(b",")[0].strip()
    user_agent = environ.get("HTTP_USER_AGENT")
    if user_agent is not None:
        user_agent = user_agent.encode("utf-8")
    return sha512(f"{address}|{user_agent}".encode()).hexdigest()


def init_app(app: Flask) -> None:
    from .sessions import CookieSessions

    app.session_interface = CookieSessions()
    login_manager.init_app(app)
    login_manager._session_identifier_generator = session_identifier
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    csrf.init_app(app)


# The access rules live in :mod:`surveyapp.policy`; this name stays importable from here.
from .policy import may_see_survey  # noqa: E402, F401
