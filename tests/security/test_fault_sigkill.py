"""Fault test: the server is killed with SIGKILL while a client streams submissions.

gunicorn serves the app on a free loopback port against a temporary SQLite database (a copy
of the demo). Four client threads send interviews one by one through POST /api/v1/submissions
with a token; after a third of them are acknowledged the whole server (master and workers) is
killed with SIGKILL, with requests in flight, and started again. The clients keep retrying
every interview that was not acknowledged (201 created, or 200 duplicate when the server had
stored it but the answer was lost). In the end every interview is stored exactly once, with
all its answers.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid as uuidlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import Answer, Assignment, Response, User

from ..conftest import PG_URL, ROOT, _config
from ..fieldwork.conftest import full_answers

pytestmark = pytest.mark.slow

INTERVIEWS = 90
CLIENTS = 4
GUNICORN = [
    sys.executable,
    "-m",
    "gunicorn",
    "--workers",
    "2",
    "--threads",
    "2",
    "--graceful-timeout",
    "1",
    "--log-level",
    "warning",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn in its own process group, so that SIGKILL reaches master and workers."""

    def __init__(self, port: int, env: dict, log: Path):
        self.port, self.env, self.log = port, env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [*GUNICORN, "--bind", f"127.0.0.1:{self.port}", "wsgi:app"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60  # importing the app is slow on a busy machine
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/v1/openapi.yaml")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("gunicorn did not start within 60 s")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def _post(port: int, token: str, body: dict) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "POST",
            "/api/v1/submissions",
            body=json.dumps(body),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.mark.skipif(bool(PG_URL), reason="runs on its own SQLite file (in the SQLite pass)")
def test_sigkill_mid_stream_then_retry_stores_each_interview_once(demo_database, tmp_path):
    db_file = tmp_path / "fault.sqlite"
    shutil.copy(demo_database, db_file)
    url = f"sqlite:///{db_file}"
    env = {
        **os.environ,
        "SURVEYAPP_DATABASE_URL": url,
        "SURVEYAPP_INSTANCE_PATH": str(tmp_path / "instance"),
        "SURVEYAPP_SECRET_KEY": "fault-test",
    }
    env.pop("SURVEYAPP_TEST_DATABASE_URL", None)

    app = create_app(_config(url))
    from surveyapp.fieldwork.tokens import issue_token

    with app.app_context():
        token, user = issue_token("enumerator", label="fault test")
        assignment = db.session.scalar(
            select(Assignment)
            .where(Assignment.enumerator_id == user.id, Assignment.mode == "door")
            .order_by(Assignment.id)
        )
        grid = assignment.locality.children[0].code
        assignment_id = assignment.id
        before = db.session.scalar(select(func.count(Response.id)))
        db.engine.dispose()
    answer_sets = [full_answers(app, seed) for seed in range(1, 6)]
    interviews = {}
    for i in range(INTERVIEWS):
        body = {
            "uuid": str(uuidlib.uuid4()),
            "assignment": assignment_id,
            "locality": grid,
            "mode": "door",
            "language": "zh_CN",
            "started_at": "2026-11-23T09:30:00+08:00",
            "ended_at": "2026-11-23T09:38:00+08:00",
            "answers": answer_sets[i % len(answer_sets)],
        }
        interviews[body["uuid"]] = body

    server = Server(_free_port(), env, tmp_path / "gunicorn.log")
    pending = list(interviews)
    acknowledged: dict[str, int] = {}
    failures = []  # (uuid, what) of attempts that got no answer
    lock = threading.Lock()
    killed = threading.Event()
    deadline = [time.monotonic() + 3600]  # set once the server is up

    def client() -> None:
        while time.monotonic() < deadline[0]:
            with lock:
                if not pending:
                    return
                uid = pending.pop(0)
            try:
                status = _post(server.port, token, interviews[uid])
            except (OSError, http.client.HTTPException) as exc:
                # refused, reset, the answer never came or was cut off (IncompleteRead,
                # BadStatusLine when the kill lands while the response is being written)
                with lock:
                    failures.append((uid, type(exc).__name__))
                    pending.append(uid)
                time.sleep(0.05)
                continue
            with lock:
                if status in (200, 201):
                    acknowledged[uid] = status
                else:
                    failures.append((uid, f"HTTP {status}"))
                    pending.append(uid)

    try:
        server.start()
        deadline[0] = time.monotonic() + 30
        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        while len(acknowledged) < INTERVIEWS // 3 and time.monotonic() < deadline[0]:
            time.sleep(0.005)
        server.kill()
        killed.set()
        acked_at_kill = len(acknowledged)
        time.sleep(0.3)  # the clients meet a dead server for a while
        server.start()
        deadline[0] = time.monotonic() + 30  # the clients' time to catch up after the restart
        for t in threads:
            t.join(timeout=31)
    finally:
        server.stop()

    assert killed.is_set() and 0 < acked_at_kill < INTERVIEWS
    assert failures, "the kill should have cut some requests off"
    assert not [f for f in failures if f[1].startswith("HTTP 5")], failures
    assert set(acknowledged) == set(interviews), (
        f"{INTERVIEWS - len(acknowledged)} interviews never acknowledged; see {server.log}"
    )

    with app.app_context():
        stored = dict(
            db.session.execute(
                select(Response.uuid, func.count(Response.id))
                .where(Response.uuid.in_(list(interviews)))
                .group_by(Response.uuid)
            ).all()
        )
        assert stored == {uid: 1 for uid in interviews}, "each interview exactly once"
        assert db.session.scalar(select(func.count(Response.id))) == before + INTERVIEWS
        # Nothing partial: every stored interview has all its answer rows.
        for uid, body in interviews.items():
            response = db.session.scalar(select(Response).where(Response.uuid == uid))
            n = db.session.scalar(
                select(func.count(Answer.id)).where(Answer.response_id == response.id)
            )
            expected = sum(
                len(v) if isinstance(v, list) else 1
                for v in body["answers"].values()
                if v not in ("", [], None)
            )
            assert n == expected, (uid, n, expected)
        enumerator = db.session.scalar(select(User).where(User.username == "enumerator"))
        assert {
            r.enumerator_id
            for r in db.session.scalars(select(Response).where(Response.uuid.in_(list(interviews))))
        } == {enumerator.id}
        db.engine.dispose()
