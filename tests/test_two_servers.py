"""Two application servers, one PostgreSQL, Redis and an RQ worker (issue 20; see
deploy/multi-server.md).

Two gunicorn processes with separate instance folders (as two machines), the same environment
otherwise (database, secret key, Redis, a shared report cache), Debian's redis-server started
here, and an RQ worker: interviews are sent to both, a report job is requested on one and
downloaded from the other, a logout on one is refused on the other, and both compute the same
estimates. Runs on PostgreSQL only:
`scripts/with-postgres .venv/bin/pytest tests/test_two_servers.py`.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid as uuidlib
import zipfile

import pytest
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Assignment, Locality, Response

from .conftest import PG_URL, ROOT
from .fieldwork.conftest import full_answers
from .security.test_fault_sigkill import Server, _free_port, _post

SECRET = secrets.token_hex(16)  # one key for both servers, as in deploy/multi-server.md
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
BASE = "/officials/surveys/1/waves/2026-Q4"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL: scripts/with-postgres"),
    pytest.mark.skipif(not os.path.exists(REDIS), reason="redis-server is not installed"),
]


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def _login(session, port: int, username: str, password: str) -> None:
    page = session.get(f"http://127.0.0.1:{port}/auth/login", timeout=30)
    response = session.post(
        f"http://127.0.0.1:{port}/auth/login",
        data={"username": username, "password": password, "csrf_token": _csrf(page.text)},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:500]


def test_two_servers_share_everything_through_postgres_redis_and_the_cache(demo, tmp_path):
    requests = pytest.importorskip("requests")
    pytest.importorskip("rq")
    redis_port = _free_port()
    redis = subprocess.Popen(
        [
            REDIS,
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    common = {
        **os.environ,
        "SURVEYAPP_DATABASE_URL": PG_URL,
        "SURVEYAPP_SECRET_KEY": SECRET,
        "SURVEYAPP_JOB_BACKEND": "rq",
        "SURVEYAPP_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "SURVEYAPP_REPORT_CACHE_DIR": str(tmp_path / "shared-cache"),
        "SURVEYAPP_PREPARE_REPORTS": "false",
    }
    common.pop("SURVEYAPP_TEST_DATABASE_URL", None)
    servers = []
    for name in ("a", "b"):
        env = {**common, "SURVEYAPP_INSTANCE_PATH": str(tmp_path / f"instance-{name}")}
        servers.append(Server(_free_port(), env, tmp_path / f"gunicorn-{name}.log"))
    a, b = servers

    from surveyapp.fieldwork.tokens import issue_token

    with demo.app_context():
        token, user = issue_token("enumerator", label="two servers")
        assignment = db.session.scalar(
            select(Assignment)
            .where(Assignment.enumerator_id == user.id, Assignment.mode == "door")
            .order_by(Assignment.id)
        )
        grid = assignment.locality.children[0].code
        assignment_id = assignment.id
        first_assignment = db.session.scalar(
            select(Assignment).where(Assignment.enumerator_id == user.id).order_by(Assignment.id)
        )
        locality_id = first_assignment.locality_id
        before = db.session.scalar(select(func.count(Response.id)))
        db.session.remove()
    answers = full_answers(demo, 1)
    try:
        for server in servers:
            server.start()
        # Interviews to both servers.
        for server in servers:
            for _ in range(2):
                body = {
                    "uuid": str(uuidlib.uuid4()),
                    "assignment": assignment_id,
                    "locality": grid,
                    "mode": "door",
                    "language": "zh_CN",
                    "started_at": "2026-11-23T09:30:00+08:00",
                    "ended_at": "2026-11-23T09:38:00+08:00",
                    "answers": answers,
                }
                assert _post(server.port, token, body) == 201
        with demo.app_context():
            assert db.session.scalar(select(func.count(Response.id))) == before + 4
            db.session.remove()

        # The tablets' assignment list: the same bytes from both servers, a 304 from either
        # for them, and a locality renamed elsewhere shows at once on both.
        def assignments(server, etag=None):
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            if etag:
                headers["If-None-Match"] = etag
            url = f"http://127.0.0.1:{server.port}/api/v1/assignments"
            return requests.get(url, headers=headers, timeout=60)

        first = [assignments(server) for server in servers]
        assert [r.status_code for r in first] == [200, 200]
        assert first[0].content == first[1].content
        etag = first[0].headers["ETag"]
        assert [assignments(server, etag).status_code for server in servers] == [304, 304]
        with demo.app_context():
            db.session.get(Locality, locality_id).name_zh = "两台服务器之外改的名"
            db.session.commit()
            db.session.remove()
        for server in servers:
            renamed = assignments(server, etag)
            assert renamed.status_code == 200
            assert "两台服务器之外改的名" in renamed.json()["assignments"][0]["locality"]["path"]

        # A report job requested on A, run by the RQ worker, downloaded from B.
        official = requests.Session()
        _login(official, a.port, "official", "official-demo-2026")
        page = official.get(f"http://127.0.0.1:{a.port}{BASE}", timeout=60)
        assert page.status_code == 200
        started = official.post(
            f"http://127.0.0.1:{a.port}{BASE}/jobs",
            data={"csrf_token": _csrf(page.text), "kind": "zip", "lang": "zh_CN"},
            allow_redirects=False,
            timeout=60,
        )
        assert started.status_code == 302, started.text[:500]
        job_url = started.headers["Location"].split("://", 1)[-1]
        job_path = job_url[job_url.index("/officials/") :]
        worker = subprocess.run(
            [
                sys.executable,
                "-m",
                "rq.cli",
                "worker",
                "--burst",
                "--url",
                common["SURVEYAPP_REDIS_URL"],
                "surveyapp",
            ],  # fmt: skip
            cwd=ROOT,
            env={**common, "SURVEYAPP_INSTANCE_PATH": str(tmp_path / "instance-worker")},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert worker.returncode == 0, worker.stderr[-2000:]
        download = official.get(f"http://127.0.0.1:{b.port}{job_path}/download", timeout=60)
        assert download.status_code == 200, download.text[:500]
        names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
        assert len(names) == 14 and all(n.endswith(".pdf") for n in names)

        # The same estimates from both servers.
        estimates = [
            official.get(f"http://127.0.0.1:{s.port}{BASE}/estimates.csv", timeout=120)
            for s in servers
        ]
        assert [e.status_code for e in estimates] == [200, 200]
        assert estimates[0].content == estimates[1].content

        # A logout on A: the same session cookie is refused on B.
        cookies = official.cookies.copy()
        page = official.get(f"http://127.0.0.1:{a.port}{BASE}", timeout=60)
        out = official.post(
            f"http://127.0.0.1:{a.port}/auth/logout",
            data={"csrf_token": _csrf(page.text)},
            allow_redirects=False,
            timeout=30,
        )
        assert out.status_code == 302
        replay = requests.Session()
        replay.cookies.update(cookies)
        refused = replay.get(f"http://127.0.0.1:{b.port}{BASE}", allow_redirects=False, timeout=30)
        assert refused.status_code in (302, 401), refused.status_code
        if refused.status_code == 302:
            assert "/auth/login" in refused.headers["Location"]
    finally:
        for server in servers:
            server.stop()
        redis.send_signal(signal.SIGTERM)
        try:
            redis.wait(timeout=10)
        except subprocess.TimeoutExpired:
            redis.kill()
        time.sleep(0)
