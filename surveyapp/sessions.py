"""Login sessions checked on the server: revocable, with an absolute and an idle time limit.

Flask keeps the session in a signed cookie, which stays valid wherever it is copied; so the
session carries the account's ``session_generation`` and two timestamps, and every request
checks them against the database and the clock. Adding one to the generation
(``services.users.revoke_sessions``) ends every session of the account at once.
"""

from __future__ import annotations

import time

from flask import current_app, session

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
    stamps = generation, login_at, seen_at = [
        session.get(k) for k in (GENERATION, LOGIN_AT, SEEN_AT)
    ]
    if not all(type(v) is int for v in stamps):
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
        session[SEEN_AT] = int(now)
    return True
