"""Per-user API tokens for the sync API: issued once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

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


#: The token with its user, in one query (every request of a tablet asks it); built once.
_TOKEN = (
    select(ApiToken)
    .where(ApiToken.token_hash == bindparam("hash"), ApiToken.revoked_at.is_(None))
    .options(joinedload(ApiToken.user))
)


def user_for_token(token: str) -> User | None:
    """Return the active user holding the unrevoked ``token``, or None."""
    if not token or len(token) > 200:
        return None
    row = db.session.scalar(_TOKEN, {"hash": token_hash(token)})
    if row is None or not row.user.active:
        return None
    now = datetime.utcnow()
    if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
        row.last_used_at = now
        db.session.commit()
    return row.user
