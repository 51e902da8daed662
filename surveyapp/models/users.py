"""Users and their roles; an official's or manager's jurisdiction is a locality."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Float, ForeignKey, String, false
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, make_transient_to_detached, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .localities import Locality

ROLES = ("admin", "manager", "enumerator", "official", "clerk")


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    locality_id: Mapped[int | None] = mapped_column(ForeignKey("locality.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # Stored in every session at login and compared on every request: adding one ends every
    # session of the account at once (logout, disabling, a password change or reset).
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # Set by an administrator's password reset: the temporary password opens only the page
    # that changes it.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)

    locality: Mapped[Locality | None] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @classmethod
    def from_row(cls, row) -> User:
        """The ``User`` of a row holding every column of ``user_account`` (and maybe others),
        in the database session as if queried: persistent, no pending change, relationships
        loaded when used; the session's own object when it already holds this account."""
        session = db.session()
        key = sa_inspect(cls).identity_key_from_primary_key((row.id,))
        user = session.identity_map.get(key)
        if user is None:
            mapping = row._mapping
            # A new instance filled as a load fills it (its __dict__, without the
            # constructor's attribute events: a third of the session check's own time);
            # make_transient_to_detached then keeps it as loaded, no change pending.
            user = cls._sa_class_manager.new_instance()
            user.__dict__.update({name: mapping[name] for name in _COLUMN_KEYS})
            make_transient_to_detached(user)
            session.add(user)
        return user

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


_COLUMN_KEYS = tuple(column.key for column in User.__table__.c)


class LoginThrottle(db.Model):
    """Login attempts counted per client address, per account name, and per both
    (``services/login.py``). The key is a hash: no typed name or address is kept here."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # address, account, address_account
    attempts: Mapped[int]
    # Seconds since the epoch (plain numbers: the same arithmetic in SQL on every database).
    first_at: Mapped[float] = mapped_column(Float)
    last_at: Mapped[float] = mapped_column(Float, index=True)
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)
