"""Per-user API tokens for the sync API: issued once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update

from ..errors import N_, Text, UserError
from ..extensions import db
from ..models import User
from ..models.fieldwork import ApiToken

PREFIX = "sa_"
# Writing last_used_at on every request would make every sync a write; once in a while is
# enough to tell which tokens are in use.
_TOUCH_EVERY = timedelta(minutes=5)


class TokenError(UserError):
    """The token cannot be issued as asked; the message says why."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(username: str, label: str = "", revoke_others: bool = False) -> tuple[str, User]:
    """Create a token for ``username`` and return it (the only time it is seen) with the user."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise TokenError(Text(N_("no user named '%(name)s'"), name=username))
    if not user.active:
        raise TokenError(Text(N_("user '%(name)s' is deactivated"), name=username))
    if len(label) > 80:
        raise TokenError(Text(N_("a token label has at most 80 characters")))
    now = datetime.utcnow()
    if revoke_others:
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    token = PREFIX + secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(user_id=user.id, token_hash=token_hash(token), label=label, created_at=now)
    )
    db.session.commit()
    return token, user


#: The account row of an unrevoked token's holder with the token's id and last use, in one
#: plain query (every request of a tablet asks it; no ORM loading); built once.
_users = User.__table__
_tokens = ApiToken.__table__
_TOKEN = (
    select(_users, _tokens.c.id.label("token_id"), _tokens.c.last_used_at.label("token_used_at"))
    .select_from(_users.join(_tokens, _tokens.c.user_id == _users.c.id))
    .where(_tokens.c.token_hash == bindparam("hash"), _tokens.c.revoked_at.is_(None))
)
_TOUCH = (
    _tokens.update()
    .where(_tokens.c.id == bindparam("token_id"))
    .values(last_used_at=bindparam("now"))
)


def user_for_token(token: str) -> User | None:
    """Return the active user holding the unrevoked ``token``, or None."""
    if not token or len(token) > 200:
        return None
    connection = db.session.connection()
    row = connection.execute(_TOKEN, {"hash": token_hash(token)}).first()
    if row is None or not row.active:
        return None
    now = datetime.utcnow()
    if row.token_used_at is None or now - row.token_used_at > _TOUCH_EVERY:
        connection.execute(_TOUCH, {"token_id": row.token_id, "now": now})
        db.session.commit()
    return User.from_row(row)
