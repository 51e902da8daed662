"""Login lockout after repeated failures, and the append-only audit log."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import AuditEvent, User
from surveyapp.models.audit import AppendOnlyError


def test_account_locks_after_five_failures(demo, client, auth):
    for _ in range(5):
        assert auth.login("enumerator", "wrong").status_code == 401
    locked = auth.login("enumerator", "enumerator-demo-2026")
    assert locked.status_code == 429
    assert "锁定" in locked.get_data(as_text=True)
    with demo.app_context():
        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        assert user.locked_until > datetime.utcnow() + timedelta(minutes=14)
        user.locked_until = datetime.utcnow() - timedelta(seconds=1)  # the lock expires
        db.session.commit()
    assert auth.login("enumerator", "enumerator-demo-2026").status_code == 302


def test_audit_log_records_and_is_admin_only(demo, client, auth):
    auth.login("enumerator", "wrong")
    auth.login("manager", "manager-demo-2026")
    assert client.get("/admin/audit").status_code == 403
    auth.logout()
    auth.login("admin", "admin-demo-2026")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "login_failed" in page and "manager" in page
    csv_text = client.get("/admin/audit.csv").get_data().decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "id,at,user,action,target,detail,ip"
    with demo.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert actions[:4] == ["login_failed", "login", "logout", "login"]
        assert actions[-1] == "audit_exported"
        event = db.session.scalar(select(AuditEvent))
        event.action = "tampered"
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(AppendOnlyError):
            db.session.delete(db.session.scalar(select(AuditEvent)))
            db.session.commit()
