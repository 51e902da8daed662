"""Login throttling against a real server: gunicorn with several worker processes and threads,
CSRF on, 40 parallel wrong passwords for one account from one address. The review saw 20
password checks before the first 429; the limit is 5."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import threading
import urllib.parse

import pytest
from sqlalchemy import select

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import AuditEvent

from ..conftest import PG_URL, _config
from .test_fault_sigkill import Server, _free_port

pytestmark = pytest.mark.slow

ATTEMPTS = 40


def _session(port: int) -> tuple[str, str]:
    """A cookie and CSRF token from the login page, as a browser would have them."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/auth/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    token = token or re.search(r'name="csrf_token" value="([^"]+)"', page)
    conn.close()
    return cookie, token.group(1)


def _login(port: int, cookie: str, token: str, password: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = urllib.parse.urlencode(
        {"csrf_token": token, "username": "enumerator", "password": password}
    )
    conn.request(
        "POST",
        "/auth/login",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    status = conn.getresponse().status
    conn.close()
    return status


@pytest.mark.skipif(bool(PG_URL), reason="runs on its own SQLite file (in the SQLite pass)")
def test_forty_parallel_wrong_passwords_on_gunicorn(demo_database, tmp_path):
    db_file = tmp_path / "throttle.sqlite"
    shutil.copy(demo_database, db_file)
    url = f"sqlite:///{db_file}"
    env = {
        **os.environ,
        "SURVEYAPP_DATABASE_URL": url,
        "SURVEYAPP_INSTANCE_PATH": str(tmp_path / "instance"),
        "SURVEYAPP_SECRET_KEY": "throttle-test",
    }
    env.pop("SURVEYAPP_TEST_DATABASE_URL", None)
    server = Server(_free_port(), env, tmp_path / "gunicorn.log")
    server.start()
    try:
        sessions = [_session(server.port) for _ in range(ATTEMPTS)]
        statuses: list[int] = []
        lock = threading.Lock()
        barrier = threading.Barrier(ATTEMPTS)

        def attempt(cookie: str, token: str, i: int) -> None:
            barrier.wait()
            status = _login(server.port, cookie, token, f"wrong-{i}")
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=attempt, args=(*s, i)) for i, s in enumerate(sessions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert sorted(statuses) == [401] * 5 + [429] * (ATTEMPTS - 5)
        # The right password from the same address waits too.
        assert _login(server.port, *sessions[0], "enumerator-demo-2026") == 429
    finally:
        server.stop()
    app = create_app(_config(url))
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("login%"))
        ).all()
        db.engine.dispose()
    assert actions.count("login_failed") == 5  # five password checks, no more
    assert actions.count("login_throttled") == ATTEMPTS - 5 + 1
