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


#: The user holding an unrevoked token, with the token's id and last use, in one query (every
#: request of a tablet asks it); built once. The token itself is not loaded as an object.
_TOKEN = (
    select(User, ApiToken.id, ApiToken.last_used_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("hash"), ApiToken.revoked_at.is_(None))
)
_TOUCH = (
    update(ApiToken)
    .where(ApiToken.id == bindparam("token_id"))
    .values(last_used_at=bindparam("now"))
    .execution_options(synchronize_session=False)
)


def user_for_token(token: str) -> User | None:
    """Return the active user holding the unrevoked ``token``, or None."""
    if not token or len(token) > 200:
        return None
    row = db.session.execute(_TOKEN, {"hash": token_hash(token)}).first()
    if row is None:
        return None
    user, token_id, last_used_at = row
    if not user.active:
        return None
    now = datetime.utcnow()
    if last_used_at is None or now - last_used_at > _TOUCH_EVERY:
        db.session.execute(_TOUCH, {"token_id": token_id, "now": now})
        db.session.commit()
    return user
