"""Sync API under load: 50 simulated tablets send batches of 20 interviews at once to the app
served by gunicorn on loopback (SQLite), against the raw SQLite insert rate of the same rows.

Setup (not timed): a migrated SQLite database with the demo district and questionnaire, 50
enumerators each with a door-to-door assignment and an API token, and per tablet ``--batches``
batches of 20 valid interviews (answers drawn like the demo's synthetic respondents). Then:

1. gunicorn (``--workers``, default 4) serves ``wsgi:app`` on 127.0.0.1; 50 client threads
   start together and each POSTs its batches to /api/v1/submissions, one after another (a
   tablet syncing its queue). Throughput = interviews stored / wall time.
2. Every tablet resends its last batch (a lost acknowledgement): all must come back 200
   ``duplicate``.
3. Checks: every interview stored exactly once (zero lost, zero duplicated), answer rows
   equal to those sent.
4. Baseline: the same response, answer and paradata rows, read back from the served database,
   inserted with Python's sqlite3 ``executemany`` into a copy of the database as it was before
   the run, one transaction per batch of 20 (as the server commits), in the same WAL mode.

Usage: .venv/bin/python bench/bench_sync.py [--tablets 50] [--batches 5] [--workers 4]
       [--synchronous FULL|NORMAL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuidlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BATCH = 20
TARGET = 1000.0  # interviews per second on SQLite, the issue's target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(db_path: Path, tablets: int, batches: int, seed: int) -> list[dict]:
    """Create the database, users, assignments and tokens; return one plan per tablet."""
    from sqlalchemy import select

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.fieldwork.tokens import issue_token
    from surveyapp.models import Assignment, Locality, User, Wave
    from surveyapp.services.demo import _Generator, load_demo

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": "bench"})
    plans = []
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        load_demo(responses=0, seed=seed)
        wave = db.session.scalar(
            select(Wave).where(Wave.is_open.is_(True)).order_by(Wave.position.desc())
        )
        schema = wave.survey.questionnaire_version.schema
        grids = db.session.scalars(
            select(Locality).where(Locality.level == "grid").order_by(Locality.code)
        ).all()
        rng = random.Random(seed)
        for t in range(tablets):
            name = f"tablet{t:02d}"
            user = User(username=name, display_name=name, role="enumerator")
            user.set_password(uuidlib.uuid4().hex)
            db.session.add(user)
            grid = grids[t % len(grids)]
            db.session.flush()
            db.session.add(
                Assignment(
                    wave_id=wave.id,
                    enumerator_id=user.id,
                    locality_id=grid.id,
                    mode="door",
                    target=200,
                    locality_editable=False,
                )
            )
            db.session.commit()
            token, _user = issue_token(name, label="bench")
            plan = {"token": token, "batches": []}
            assignment_id = db.session.scalar(
                select(Assignment.id).where(Assignment.enumerator_id == user.id)
            )
            for _b in range(batches):
                items = []
                for _i in range(BATCH):
                    raw = _Generator(schema, rng).respondent(0.0, grid, {})
                    items.append(
                        {
                            "uuid": str(uuidlib.UUID(int=rng.getrandbits(128), version=4)),
                            "assignment": assignment_id,
                            "mode": "door",
                            "language": "zh_CN",
                            "started_at": "2026-11-23T09:30:00+08:00",
                            "ended_at": "2026-11-23T09:38:00+08:00",
                            "answers": {
                                k: (str(v) if isinstance(v, int) else v) for k, v in raw.items()
                            },
                            "paradata": {
                                "device": "bench tablet",
                                "group_seconds": {"screening": 9},
                            },
                        }
                    )
                plan["batches"].append(json.dumps({"submissions": items}).encode())
            plans.append(plan)
        db.session.remove()
        db.engine.dispose()
    return plans


def wait_for(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/openapi.yaml")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def tablet(port: int, plan: dict, start: threading.Barrier, out: dict, key: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Authorization": f"Bearer {plan['token']}", "Content-Type": "application/json"}
    outcomes: dict[str, int] = {}
    start.wait()
    for body in plan["batches"]:
        conn.request("POST", "/api/v1/submissions", body=body, headers=headers)
        response = conn.getresponse()
        payload = json.loads(response.read())
        if response.status != 200:
            outcomes[f"http {response.status}"] = outcomes.get(f"http {response.status}", 0) + 1
            continue
        for k, v in payload["counts"].items():
            outcomes[k] = outcomes.get(k, 0) + v
    out[key] = outcomes
    conn.close()


def resend_last(port: int, plan: dict) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request(
        "POST",
        "/api/v1/submissions",
        body=plan["batches"][-1],
        headers={"Authorization": f"Bearer {plan['token']}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    counts = json.loads(response.read()).get("counts", {})
    conn.close()
    return counts


TABLES = ("response", "answer", "response_paradata")


def raw_insert_rate(
    served: Path, before: Path, work: Path, synchronous: str = "FULL"
) -> tuple[float, int]:
    """Insert the served run's new rows into a copy of the pre-run database with sqlite3."""
    target = work / "raw.sqlite"
    shutil.copy(before, target)
    src = sqlite3.connect(served)
    rows: dict[str, list] = {}
    cols: dict[str, list[str]] = {}
    for table in TABLES:
        cur = src.execute(f"SELECT * FROM {table} ORDER BY id")
        cols[table] = [d[0] for d in cur.description]
        rows[table] = cur.fetchall()
    src.close()
    by_response: dict[int, dict[str, list]] = {}
    for table in TABLES:
        key = cols[table].index("id" if table == "response" else "response_id")
        for row in rows[table]:
            by_response.setdefault(row[key], {t: [] for t in TABLES})[table].append(row)
    ids = sorted(by_response)
    dst = sqlite3.connect(target, isolation_level=None)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA foreign_keys=ON")
    dst.execute(f"PRAGMA synchronous={synchronous}")
    sql = {
        t: f"INSERT INTO {t} ({', '.join(cols[t])}) VALUES ({', '.join('?' * len(cols[t]))})"
        for t in TABLES
    }
    started = time.perf_counter()
    for i in range(0, len(ids), BATCH):
        chunk = ids[i : i + BATCH]
        dst.execute("BEGIN")
        for table in TABLES:
            dst.executemany(sql[table], [r for rid in chunk for r in by_response[rid][table]])
        dst.execute("COMMIT")
    elapsed = time.perf_counter() - started
    dst.close()
    return len(ids) / elapsed, len(ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tablets", type=int, default=50)
    parser.add_argument("--batches", type=int, default=5, help="batches of 20 per tablet")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument(
        "--synchronous",
        choices=("FULL", "NORMAL"),
        default="FULL",
        help="SQLite synchronous level of the server and of the raw baseline "
        "(SURVEYAPP_SQLITE_SYNCHRONOUS; the application's default is FULL)",
    )
    args = parser.parse_args()
    if shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None:
        print("gunicorn is not installed: pip install -e '.[test]' (make bench does)")
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    try:
        db_path = work / "served.sqlite"
        t0 = time.perf_counter()
        plans = setup(db_path, args.tablets, args.batches, args.seed)
        before = work / "before.sqlite"
        shutil.copy(db_path, before)
        expected = args.tablets * args.batches * BATCH
        print(
            f"setup: {args.tablets} tablets x {args.batches} batches x {BATCH} interviews "
            f"= {expected} in {time.perf_counter() - t0:.1f} s"
        )

        port = free_port()
        env = dict(
            os.environ,
            SURVEYAPP_DATABASE_URL=f"sqlite:///{db_path}",
            SURVEYAPP_INSTANCE_PATH=str(work),
            SURVEYAPP_SECRET_KEY="bench",
            SURVEYAPP_SQLITE_SYNCHRONOUS=args.synchronous,
        )
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        proc = subprocess.Popen(
            [
                gunicorn,
                "--workers",
                str(args.workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "--timeout",
                "300",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            wait_for(port, proc)
            start = threading.Barrier(args.tablets + 1)
            out: dict[int, dict] = {}
            threads = [
                threading.Thread(target=tablet, args=(port, plan, start, out, i))
                for i, plan in enumerate(plans)
            ]
            for t in threads:
                t.start()
            start.wait()
            began = time.perf_counter()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - began
            resent: dict[str, int] = {}
            for plan in plans:
                for k, v in resend_last(port, plan).items():
                    resent[k] = resent.get(k, 0) + v
        finally:
            proc.terminate()
            proc.wait(30)

        totals: dict[str, int] = {}
        for outcomes in out.values():
            for k, v in outcomes.items():
                totals[k] = totals.get(k, 0) + v
        con = sqlite3.connect(db_path)
        stored, distinct = con.execute(
            "SELECT COUNT(*), COUNT(DISTINCT uuid) FROM response"
        ).fetchone()
        sent_uuids = {
            item["uuid"]
            for plan in plans
            for body in plan["batches"]
            for item in json.loads(body)["submissions"]
        }
        stored_uuids = {u for (u,) in con.execute("SELECT uuid FROM response")}
        answers = con.execute("SELECT COUNT(*) FROM answer").fetchone()[0]
        con.close()
        lost = len(sent_uuids - stored_uuids)
        duplicated = stored - distinct
        throughput = totals.get("created", 0) / elapsed
        raw_rate, raw_n = raw_insert_rate(db_path, before, work, args.synchronous)

        print(
            f"served: gunicorn --workers {args.workers}, SQLite (WAL, "
            f"synchronous={args.synchronous}), 127.0.0.1"
        )
        print(f"outcomes: {totals}; resent last batches: {resent}")
        print(
            f"stored {stored} responses ({answers} answer rows); lost {lost}, "
            f"duplicated {duplicated}"
        )
        print(
            f"sync API throughput:  {throughput:8.0f} interviews/s "
            f"({totals.get('created', 0)} in {elapsed:.2f} s)"
        )
        print(
            f"raw SQLite inserts:   {raw_rate:8.0f} interviews/s (same {raw_n} interviews "
            f"with their answer and paradata rows, executemany, one commit per {BATCH}, "
            f"synchronous={args.synchronous})"
        )
        print(
            f"ratio API / raw insert: {throughput / raw_rate:.3f}; "
            f"target {TARGET:.0f}/s: {'met' if throughput >= TARGET else 'NOT met'}"
        )
        print("(measured on a shared 2-core machine under load from other work)")
        ok = (
            lost == 0
            and duplicated == 0
            and stored == expected
            and resent.get("duplicate", 0) == args.tablets * BATCH
        )
        if not ok:
            print("FAILED: lost, duplicated or unexpected outcomes")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
