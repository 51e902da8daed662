"""Record what users do (append-only audit log), and read it back for admins."""

from __future__ import annotations

import io
import json
from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import insert, select

from ..database import commit_keeping_state, one_statement_write
from ..extensions import db
from ..models import AuditEvent, User
from ..reports.cells import CsvWriter


def record(
    action: str, target: str = "", *, user: User | None = None, commit: bool = False, **detail
) -> AuditEvent:
    """Add an audit event (in the caller's transaction unless ``commit``)."""
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user._get_current_object()
    ip = ""
    if has_request_context():
        # Not X-Forwarded-For itself: any client can send one. Behind a reverse proxy,
        # SURVEYAPP_PROXY_FIX makes remote_addr the address the proxy saw.
        ip = request.remote_addr or ""
    event = AuditEvent(
        at=datetime.utcnow(),
        user_id=user.id if user else None,
        username=user.username if user else str(detail.pop("username", "")),
        action=action,
        target=target[:200],
        detail=detail,
        ip=ip[:64],
    )
    db.session.add(event)
    if commit:
        db.session.commit()
    return event


_INSERT = insert(AuditEvent.__table__)


def record_now(action: str, target: str = "", **detail) -> None:
    """Add an audit event and commit it at once, as one INSERT, by the current user.

    For a request that only reads (a download): :func:`record` with ``commit`` builds an ORM
    object (a flush) and its commit expires every object the request loaded, which are then
    read again if anything touches them. Here the session's objects stay as they are: they
    were read in this transaction, and the request ends with it. When nothing was written
    before it, the INSERT is the transaction's only statement that writes: on PostgreSQL it
    runs alone, without BEGIN and COMMIT (:func:`surveyapp.database.one_statement_write`).
    """
    user = None
    if has_request_context() and current_user.is_authenticated:
        user = current_user._get_current_object()
    ip = (request.remote_addr or "") if has_request_context() else ""  # see record()
    connection = db.session.connection()
    with one_statement_write(connection):  # PostgreSQL: no BEGIN and COMMIT around it
        connection.execute(
            _INSERT,
            {
                "at": datetime.utcnow(),
                "user_id": user.id if user else None,
                "username": user.username if user else str(detail.pop("username", "")),
                "action": action,
                "target": target[:200],
                "detail": detail,
                "ip": ip[:64],
            },
        )
    commit_keeping_state()


def recent(limit: int = 200, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def export_csv() -> bytes:
    """The whole log as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese)."""
    buf = io.StringIO()
    writer = CsvWriter(buf)
    writer.writerow(["id", "at", "user", "action", "target", "detail", "ip"])
    for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        writer.writerow(
            [
                e.id,
                e.at.isoformat(timespec="seconds"),
                e.username,
                e.action,
                e.target,
                json.dumps(e.detail, ensure_ascii=False),
                e.ip,
            ]
        )
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
