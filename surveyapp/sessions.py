"""Login sessions checked on the server: revocable, with an absolute and an idle time limit.

Flask keeps the session in a signed cookie, which stays valid wherever it is copied; so the
session carries the account's ``session_generation`` and two timestamps, and every request
checks them against the database and the clock. Adding one to the generation
(``services.users.revoke_sessions``) ends every session of the account at once.
"""

from __future__ import annotations

import time

from flask import current_app, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from .caching import BoundedCache

#: Keys this module keeps in the session, beside Flask-Login's own.
GENERATION, LOGIN_AT, SEEN_AT = "_gen", "_login_at", "_seen_at"
_FLASK_LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember", "_remember_seconds")

#: The idle timestamp is rewritten at most this often (seconds), so that not every request
#: sends a new cookie.
_SEEN_RESOLUTION = 30


def clock() -> float:
    """Seconds since the epoch (tests replace it to move time forward)."""
    return time.time()


def fields(user) -> dict:
    """What a new session of ``user`` holds beside Flask-Login's keys."""
    now = int(clock())
    return {GENERATION: user.session_generation, LOGIN_AT: now, SEEN_AT: now}


def start(user) -> None:
    """Stamp the session of a user who has just logged in (after ``login_user``)."""
    session.permanent = True  # the cookie itself expires after PERMANENT_SESSION_LIFETIME
    session.update(fields(user))


def end() -> None:
    """Drop the login from the session (the language choice stays)."""
    for key in (*_FLASK_LOGIN_KEYS, GENERATION, LOGIN_AT, SEEN_AT):
        session.pop(key, None)


def is_current(user) -> bool:
    """Tell whether the session still belongs to ``user`` (a ``User`` or its ``user_account``
    row): same generation, account active, not too old, not idle too long. Refreshes the idle
    timestamp when it is."""
    current = session._get_current_object()  # type: ignore[attr-defined]  (once, not per key)
    generation, login_at, seen_at = (
        current.get(GENERATION),
        current.get(LOGIN_AT),
        current.get(SEEN_AT),
    )
    if not (type(generation) is int and type(login_at) is int and type(seen_at) is int):
        return False  # a session from before these checks, or not made by ``start``
    now = clock()
    config = current_app.config
    if (
        generation != user.session_generation
        or not user.active
        or now - login_at > config["SESSION_LIFETIME"]
        or now - seen_at > config["SESSION_IDLE_TIMEOUT"]
    ):
        return False
    if now - seen_at >= _SEEN_RESOLUTION:
        current[SEEN_AT] = int(now)
    return True


#: Values a remembered cookie may hold: immutable, so that every request's session is a copy.
_PLAIN = (str, int, float, bool, type(None))


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, remembering the cookies this process has verified.

    A browser sends the same cookie until its session changes (the idle stamp: at most every
    30 s), and checking its signature and decoding it again cost about 0.1 ms a request. The
    very same cookie string under the same keys has the same contents: it is taken from here
    without that work, its age still checked as Flask checks it. A cookie never verified, or
    holding anything but plain values (flashed messages), goes through Flask's own path.
    """

    #: Cookies remembered per process (the least recently used go first).
    LIMIT = 4096

    def __init__(self) -> None:
        self._verified: BoundedCache[tuple[dict, int]] = BoundedCache(self.LIMIT)

    def open_session(self, app, request):
        value = request.cookies.get(self.get_cookie_name(app))
        if not value or not app.secret_key:
            return super().open_session(app, request)
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = self._verified.get((value, keys))
        if known is not None:
            data, signed_at = known
            age = int(time.time()) - signed_at
            if 0 <= age <= max_age:  # as itsdangerous: neither expired nor from the future
                return self.session_class(data)
            return self.session_class()
        try:
            data, signed_at = self.get_signing_serializer(app).loads(
                value, max_age=max_age, return_timestamp=True
            )
        except BadSignature:
            return self.session_class()
        if isinstance(data, dict) and all(type(v) in _PLAIN for v in data.values()):
            self._verified.put((value, keys), (data, int(signed_at.timestamp())))
        return self.session_class(data)
