"""App passwords for ODK Collect and Enketo: issued once, one active per enumerator, revocable.

As ODK Central's app users: the password is random and only for the OpenRosa endpoints (never
the web login). Only hashes are stored: its SHA-256 for HTTP Basic, and for HTTP Digest the
``HA1`` value MD5(``username:realm:password``) that Digest needs on the server side. HA1 is
enough to answer a Digest challenge, so it is as secret as a password for this server; revoke
the credential (issue a new one) if the database may have leaked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import zlib
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..errors import N_, Text, UserError
from ..extensions import db
from ..models import User
from ..models.odk import OdkCredential

#: The HTTP authentication realm of the OpenRosa endpoints (part of the Digest HA1).
REALM = "surveyapp"
# As for API tokens: a write on every request would make every form download a write.
_TOUCH_EVERY = timedelta(minutes=5)


class CredentialError(UserError):
    """The credential cannot be issued as asked; the message says why."""


def password_sha256(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def digest_ha1(username: str, password: str, realm: str = REALM) -> str:
    """HTTP Digest's HA1 (RFC 7616, MD5): MD5 of ``username:realm:password``."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()  # noqa: S324


def _enumerator(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise CredentialError(Text(N_("no user named '%(name)s'"), name=username))
    if not user.active:
        raise CredentialError(Text(N_("user '%(name)s' is deactivated"), name=username))
    if user.role != "enumerator":
        raise CredentialError(
            Text(
                N_(
                    "user '%(name)s' is a %(role)s: only enumerators collect interviews with "
                    "ODK Collect"
                ),
                name=username,
                role=user.role,
            )
        )
    return user


def revoke_app_passwords(user: User, now: datetime | None = None) -> int:
    """Revoke every active app password of ``user``; return how many (not committed)."""
    result = db.session.execute(
        update(OdkCredential)
        .where(OdkCredential.user_id == user.id, OdkCredential.revoked_at.is_(None))
        .values(revoked_at=now or datetime.utcnow())
    )
    return result.rowcount or 0


def issue_app_password(username: str) -> tuple[str, User]:
    """Create a new app password for the enumerator ``username``, revoking the previous one.

    Return the password (the only time it is seen) and the user.
    """
    user = _enumerator(username)
    now = datetime.utcnow()
    revoke_app_passwords(user, now)
    # Letters and digits only: typed on a tablet's keyboard when the QR code cannot be used.
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    password = "".join(secrets.choice(alphabet) for _ in range(24))
    db.session.add(
        OdkCredential(
            user_id=user.id,
            password_sha256=password_sha256(password),
            digest_ha1=digest_ha1(user.username, password),
            created_at=now,
        )
    )
    from ..services import audit

    audit.record("odk_app_password_issued", user.username)
    db.session.commit()
    return password, user


def revoke(username: str) -> tuple[int, User]:
    """Revoke the app passwords of ``username``; return how many and the user."""
    user = _enumerator(username)
    count = revoke_app_passwords(user)
    from ..services import audit

    audit.record("odk_app_password_revoked", user.username, revoked=count)
    db.session.commit()
    return count, user


def credential_of(user: User) -> OdkCredential | None:
    """The newest app credential of ``user`` not revoked, or None."""
    return db.session.scalar(
        select(OdkCredential)
        .where(OdkCredential.user_id == user.id, OdkCredential.revoked_at.is_(None))
        .order_by(OdkCredential.id.desc())
    )


def active_credential(username: str) -> OdkCredential | None:
    """The active app credential of the active enumerator ``username``, or None."""
    if not username or len(username) > 64:
        return None
    row = db.session.scalar(
        select(OdkCredential)
        .join(User, OdkCredential.user_id == User.id)
        .where(
            User.username == username,
            User.active.is_(True),
            User.role == "enumerator",
            OdkCredential.revoked_at.is_(None),
        )
        .order_by(OdkCredential.id.desc())
    )
    return row


def check_password(username: str, password: str) -> User | None:
    """The enumerator whose active app password is ``password`` (HTTP Basic), or None."""
    row = active_credential(username)
    if row is None or not hmac.compare_digest(row.password_sha256, password_sha256(password)):
        return None
    return used(row)


def used(row: OdkCredential) -> User:
    """Note that ``row`` authenticated a request (at most every few minutes); its user."""
    now = datetime.utcnow()
    if row.last_used_at is None or now - row.last_used_at > _TOUCH_EVERY:
        row.last_used_at = now
        db.session.commit()
    return row.user


def collect_settings(server_url: str, username: str, password: str, project: str) -> dict:
    """ODK Collect's project settings for this server (what its QR code carries)."""
    return {
        "general": {
            "server_url": server_url,
            "username": username,
            "password": password,
            "protocol": "odk_default",
        },
        "admin": {},
        "project": {"name": project, "icon": "S", "color": "#1565c0"},
    }


def collect_settings_code(settings: dict) -> str:
    """The text of ODK Collect's settings QR code: the JSON, zlib-compressed, base64."""
    raw = json.dumps(settings, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.b64encode(zlib.compress(raw)).decode("ascii")


def collect_settings_png(settings: dict, scale: int = 6) -> bytes:
    """A PNG of ODK Collect's settings QR code (Collect: Project → Add project → scan)."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make_qr(collect_settings_code(settings), error="m").save(
        buffer, kind="png", scale=scale, border=4
    )
    return buffer.getvalue()
