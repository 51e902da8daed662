"""Create user accounts."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import ROLES, Locality, User

MIN_PASSWORD_LENGTH = 8


class UserError(Exception):
    """The account cannot be created as asked; the message says why."""


def create_user(username: str, role: str, password: str, *, display_name: str = "",
                locality_code: str | None = None) -> User:
    if role not in ROLES:
        raise UserError(f"unknown role '{role}'; choose one of {', '.join(ROLES)}")
    if not username or len(username) > 64:
        raise UserError("a user name has 1 to 64 characters")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if db.session.scalar(select(User).where(User.username == username)):
        raise UserError(f"user '{username}' already exists")
    locality = None
    if locality_code:
        locality = db.session.scalar(select(Locality).where(Locality.code == locality_code))
        if locality is None:
            raise UserError(f"no locality with code '{locality_code}'")
    elif role == "official":
        raise UserError("an official needs a jurisdiction: give --locality CODE")
    user = User(username=username, role=role, display_name=display_name or username,
                locality=locality)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user
