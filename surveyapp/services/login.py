"""Check a login: throttled per client address, per account name and per both, counted
atomically in the database, with the same work and the same answer whether the account
exists or not.

Every attempt first reserves its place in three counters, each with one
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement, so parallel attempts cannot all read
the same old count; only then is the password checked. A successful login gives its places
back. The limits:

* one address and one account name: ``ADDRESS_ACCOUNT_LIMIT`` attempts per ``WINDOW``;
* one address, any names: ``ADDRESS_LIMIT`` failed attempts per ``WINDOW`` (successful logins
  do not count, so a police station's tablets behind one address can all log in);
* one account name, any addresses: ``ACCOUNT_FREE`` attempts per ``WINDOW``, then a wait that
  doubles from one second up to ``ACCOUNT_MAX_DELAY`` between attempts. Never a lock: one
  address alone cannot reach ``ACCOUNT_FREE`` (its own limit is less than half of it), and a
  distributed attack only slows the account's logins down, so nobody can lock the
  administrator out.

Counters are keyed by the name as typed (lower-cased), whether an account has it or not, and
an unknown name costs one password hash like a known one, so neither the answer, its status nor
its timing tells whether an account exists (OWASP Authentication Cheat Sheet).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache
from math import ceil

from sqlalchemy import case, delete, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from .. import sessions
from ..extensions import db
from ..models import LoginThrottle, User

WINDOW = 15 * 60
ADDRESS_ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 30
#: More than one address can make in one window (its limit twice, across its own window's
#: end), so that one address alone never slows an account down for the others.
ACCOUNT_FREE = 2 * ADDRESS_ACCOUNT_LIMIT + 1
ACCOUNT_MAX_DELAY = 60
#: Rows untouched this long are deleted (now and then, on a successful login).
FORGET_AFTER = 24 * 3600


@dataclass(frozen=True)
class LoginResult:
    """``ok`` (then ``user`` is set), ``wrong`` (unknown name or wrong password: one answer),
    ``throttled`` (``retry_after`` seconds) or ``disabled`` (right password, disabled account)."""

    outcome: str
    user: User | None = None
    retry_after: int = 0


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Made with the same method and parameters as real passwords (User.set_password).
    return generate_password_hash(secrets.token_hex(16))


def _key(kind: str, address: str, name: str) -> str:
    return hashlib.sha256(f"{kind}\0{address}\0{name}".encode()).hexdigest()


def _insert(values: dict):
    table = LoginThrottle.__table__
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).values(**values)


def _count_in_window(key: str, kind: str, now: float) -> tuple[int, float]:
    """Add one attempt to a fixed-window counter; return (attempts, window start)."""
    t = LoginThrottle.__table__.c
    stale = t.first_at <= now - WINDOW
    statement = _insert(
        {"key": key, "kind": kind, "attempts": 1, "first_at": now, "last_at": now}
        | {"blocked_until": 0.0}
    )
    statement = statement.on_conflict_do_update(
        index_elements=[t.key],
        set_={
            "attempts": case((stale, 1), else_=t.attempts + 1),
            "first_at": case((stale, now), else_=t.first_at),
            "last_at": now,
        },
    ).returning(t.attempts, t.first_at)
    attempts, first_at = db.session.execute(statement).one()
    db.session.commit()
    return attempts, first_at


def _delay_after(attempts) -> object:
    """SQL: the wait after an account's ``attempts``-th attempt, from the ACCOUNT_FREE-th on:
    1, 2, 4 … seconds up to ACCOUNT_MAX_DELAY."""
    steps, delay = [], 1
    while delay < ACCOUNT_MAX_DELAY:
        steps.append((attempts == ACCOUNT_FREE + len(steps), float(delay)))
        delay *= 2
    return case(*steps, else_=float(ACCOUNT_MAX_DELAY))


def _count_account(key: str, now: float) -> int | None:
    """Add one attempt to an account's counter unless it must still wait; return the seconds
    to wait (0: go on). The count restarts every WINDOW."""
    t = LoginThrottle.__table__.c
    stale = t.first_at <= now - WINDOW
    attempts = case((stale, 1), else_=t.attempts + 1)
    statement = _insert(
        {"key": key, "kind": "account", "attempts": 1, "first_at": now, "last_at": now}
        | {"blocked_until": 0.0}
    )
    statement = statement.on_conflict_do_update(
        index_elements=[t.key],
        set_={
            "attempts": attempts,
            "first_at": case((stale, now), else_=t.first_at),
            "last_at": now,
            # Below ACCOUNT_FREE the row is left as it is: a parallel attempt whose clock
            # read a moment earlier must not find itself blocked.
            "blocked_until": case(
                (attempts < ACCOUNT_FREE, t.blocked_until), else_=now + _delay_after(attempts)
            ),
        },
        where=t.blocked_until <= now,
    ).returning(t.attempts)
    counted = db.session.execute(statement).first()
    if counted is None:
        blocked_until = db.session.scalar(
            select(LoginThrottle.blocked_until).where(LoginThrottle.key == key)
        )
        db.session.commit()
        return max(1, ceil((blocked_until or now) - now))
    db.session.commit()
    return 0


def _give_back(key: str) -> None:
    db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key, LoginThrottle.attempts > 0)
        .values(attempts=LoginThrottle.attempts - 1)
    )


def authenticate(username: str, password: str, address: str) -> LoginResult:
    """Check ``username`` and ``password`` sent from ``address``, within the limits."""
    db.session.commit()  # the counters below run in transactions of their own
    now = sessions.clock()
    name = username.strip().lower()
    pair = _key("address_account", address, name)
    client = _key("address", address, "")
    account = _key("account", "", name)

    attempts, first_at = _count_in_window(pair, "address_account", now)
    if attempts > ADDRESS_ACCOUNT_LIMIT:
        return LoginResult("throttled", retry_after=max(1, ceil(first_at + WINDOW - now)))
    attempts, first_at = _count_in_window(client, "address", now)
    if attempts > ADDRESS_LIMIT:
        _give_back(pair)
        db.session.commit()
        return LoginResult("throttled", retry_after=max(1, ceil(first_at + WINDOW - now)))
    wait = _count_account(account, now)
    if wait:
        # Refused before any check: the attempt costs this address nothing, so a distributed
        # attack on the account does not use up the owner's own attempts.
        _give_back(pair)
        _give_back(client)
        db.session.commit()
        return LoginResult("throttled", retry_after=wait)

    user = db.session.scalar(select(User).where(User.username == username))
    matches = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    if user is None or not matches:
        return LoginResult("wrong")
    if not user.active:
        return LoginResult("disabled")
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_([pair, account])))
    _give_back(client)
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.last_at < now - FORGET_AFTER))
    db.session.commit()
    return LoginResult("ok", user=user)
