"""Behind a reverse proxy (SURVEYAPP_PROXY_FIX=1): the scheme, host and client address the
proxy saw are used; without it the forwarding headers are ignored (a client could forge them)."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import AuditEvent

from ..conftest import PG_URL, _config

FORWARDED = {
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "survey.example.org",
}


@pytest.fixture(params=[0, 1], ids=["direct", "behind-proxy"])
def proxied(request, demo_database, tmp_path, monkeypatch):
    if PG_URL:
        pytest.skip("does not depend on the database")
    monkeypatch.setenv("SURVEYAPP_INSTANCE_PATH", str(tmp_path / "instance"))
    copy = tmp_path / "p.sqlite"
    shutil.copy(demo_database, copy)
    app = create_app({**_config(f"sqlite:///{copy}"), "PROXY_FIX": request.param})
    yield app, request.param
    with app.app_context():
        db.engine.dispose()


def test_audit_address(proxied):
    app, hops = proxied
    client = app.test_client()
    client.post(
        "/auth/login", data={"username": "admin", "password": "wrong-password"}, headers=FORWARDED
    )
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login_failed"))
        assert event.ip == ("203.0.113.9" if hops else "127.0.0.1")


def test_https_origin_of_the_offline_app(proxied):
    """The offline app posts with its session from https://host; the API compares the Origin
    with the URL the request came to, which only the proxy headers tell."""
    app, hops = proxied
    client = app.test_client()
    response = client.post(
        "/auth/login", data={"username": "enumerator", "password": "enumerator-demo-2026"}
    )
    assert response.status_code == 302
    response = client.post(
        "/api/v1/submissions",
        json=[],
        headers={**FORWARDED, "Origin": "https://survey.example.org"},
    )
    if hops:
        assert response.status_code == 400  # an empty batch: past the origin check
    else:
        assert response.status_code == 403
        assert response.get_json()["code"] == "cross_origin"  # the message is translated
