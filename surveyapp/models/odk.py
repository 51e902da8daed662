"""App credentials for ODK Collect and Enketo (OpenRosa clients), like ODK Central's app users.

One active credential per enumerator: issuing a new one revokes the previous. The password is
random and shown once; only its SHA-256 (for HTTP Basic) and the HTTP Digest ``HA1`` value
(MD5 of ``username:realm:password``, which Digest needs on the server) are stored.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .users import User


class OdkCredential(db.Model):
    """An enumerator's app password for the OpenRosa endpoints (never the web password)."""

    __tablename__ = "odk_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    password_sha256: Mapped[str] = mapped_column(String(64))
    digest_ha1: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=datetime.utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
