"""Login throttling after repeated failures, and the append-only audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import AuditEvent
from surveyapp.models.audit import AppendOnlyError


def test_five_failures_throttle_the_address_for_the_account(demo, client, auth, monkeypatch):
    """Five failures from one address make that address wait for the account; the account is
    not locked (others still log in: tests/web/test_login_throttle.py)."""
    from surveyapp import sessions

    now = [1_800_000_000.0]
    monkeypatch.setattr(sessions, "clock", lambda: now[0])
    start = _last_event(demo)  # the demo's own events (surveys, waves) come before
    for _ in range(5):
        assert auth.login("enumerator", "wrong").status_code == 401
    throttled = auth.login("enumerator", "enumerator-demo-2026")
    assert throttled.status_code == 429
    assert "分钟后再试" in throttled.get_data(as_text=True)
    assert int(throttled.headers["Retry-After"]) == 15 * 60
    with demo.app_context():
        actions = _actions_since(start)
        assert actions == ["login_failed"] * 5 + ["login_throttled"]
    now[0] += 15 * 60  # the window passes
    assert auth.login("enumerator", "enumerator-demo-2026").status_code == 302


def test_audit_log_records_and_is_admin_only(demo, client, auth):
    start = _last_event(demo)
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
        actions = _actions_since(start)
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


def _last_event(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def _actions_since(start: int) -> list[str]:
    query = select(AuditEvent).where(AuditEvent.id > start).order_by(AuditEvent.id)
    return [e.action for e in db.session.scalars(query)]
