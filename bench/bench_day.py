"""A fieldwork day at scale (issue 20, "a realistic day"): 2,000 enumerators' tablets, 50
officials and 5 managers against gunicorn on loopback, on PostgreSQL (default) or SQLite.

Setup (not timed): the demo (``--responses``), then ``--enumerators`` more enumerator
accounts, each with a door-to-door assignment in a community of the current wave (the
enumerator may choose a grid below it) and an API token, as `surveyapp users token` gives
them; 50 official sessions and 5 manager sessions (logged in through the login form).

The load is open: every actor acts on its own clock, whatever the server's speed, so a slow
server builds a queue (measured: latency counts from the moment the request was due):

- each enumerator's tablet asks for a page every ``--page-every`` seconds (20): its
  assignments from the sync API (what the offline app loads when it opens or syncs; the
  interview screens themselves run on the tablet), and submits one interview every
  ``--submit-every`` seconds (420: one every 7 minutes) to ``POST /api/v1/submissions``;
- each official downloads every ``--official-every`` seconds (20), in turn, the wave's
  estimates CSV, a street's prepared PDF and the results page;
- each manager's dashboard asks for its figures every 15 s (the page's own poll) and reloads
  the page itself once a minute.

Printed: per kind the requests due and done, requests per second, p50/p95/p99 latency and
errors; whether every acknowledged interview is stored exactly once; the CPU time of the
gunicorn workers, of PostgreSQL and of this load generator (which shares the cores) over the
run, and the load average (what saturates first). Targets: p95 of pages at most 200 ms, no
errors, every acknowledged interview stored once.

Usage: .venv/bin/python bench/bench_day.py [--db postgresql|sqlite] [--duration 300]
       [--enumerators 2000] [--workers 4] [--threads 1] [--pool 400]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_load import Session, free_port, percentile, postgres_master, tree_cpu  # noqa: E402

WAVE = "2026-Q4"


@dataclass
class World:
    tokens: list[tuple[str, int, str]] = field(default_factory=list)  # token, assignment, grid
    answers: list[dict] = field(default_factory=list)
    official_urls: list[str] = field(default_factory=list)
    dashboard: str = ""
    dashboard_data: str = ""
    submitted: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def setup(url: str, args) -> World:
    import secrets

    from sqlalchemy import insert, select, text
    from werkzeug.security import generate_password_hash

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.fieldwork.tokens import PREFIX, token_hash
    from surveyapp.models import Assignment, Locality, User, Wave
    from surveyapp.models.fieldwork import ApiToken
    from surveyapp.services.demo import _Generator, load_demo

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-day"})
    world = World()
    rng = random.Random(args.seed)
    with app.app_context():
        from flask import url_for
        from flask_migrate import upgrade

        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        load_demo(responses=args.responses, seed=args.seed)
        wave = db.session.scalar(select(Wave).where(Wave.code == WAVE))
        communities = db.session.scalars(
            select(Locality).where(Locality.level == "community").order_by(Locality.id)
        ).all()
        grids = {c.id: [g.code for g in c.children] or [c.code] for c in communities}
        # The accounts are made in bulk; a password is never checked (tablets use tokens).
        unused = generate_password_hash(secrets.token_urlsafe(16))
        ids = db.session.scalars(
            insert(User).returning(User.id),
            [
                {
                    "username": f"day-{i:04d}",
                    "display_name": f"调查员{i:04d}",
                    "password_hash": unused,
                    "role": "enumerator",
                }
                for i in range(args.enumerators)
            ],
        ).all()
        places = [communities[i % len(communities)] for i in range(len(ids))]
        assignment_ids = db.session.scalars(
            insert(Assignment).returning(Assignment.id),
            [
                {
                    "wave_id": wave.id,
                    "enumerator_id": uid,
                    "locality_id": place.id,
                    "mode": "door",
                    "target": 20,
                    "locality_editable": True,
                }
                for uid, place in zip(ids, places, strict=True)
            ],
        ).all()
        tokens = [PREFIX + secrets.token_urlsafe(32) for _ in ids]
        db.session.execute(
            insert(ApiToken),
            [
                {"user_id": uid, "token_hash": token_hash(tok), "label": "day"}
                for uid, tok in zip(ids, tokens, strict=True)
            ],
        )
        db.session.commit()
        world.tokens = [
            (tok, aid, rng.choice(grids[place.id]))
            for tok, aid, place in zip(tokens, assignment_ids, places, strict=True)
        ]
        schema = wave.survey.questionnaire_version.schema
        grid = db.session.scalar(select(Locality).where(Locality.level == "grid"))
        while len(world.answers) < 40:
            raw = _Generator(schema, rng).respondent(0.0, grid, {})
            if raw.get("resident_6m") == "yes" and raw.get("age_16plus") == "yes":
                world.answers.append(
                    {k: (str(v) if isinstance(v, int) else v) for k, v in raw.items()}
                )
        streets = [s.code for s in wave.survey.district.children if s.level == "street"]
        with app.test_request_context():
            sw = {"survey_id": wave.survey_id, "wave_code": wave.code}
            world.official_urls = [
                url_for("officials.estimates", fmt="csv", **sw),
                *(url_for("officials.street_report", street_code=s, **sw) for s in streets),
                url_for("officials.results", **sw),
            ]
            world.dashboard = url_for("dashboard.wave", wave_id=wave.id)
            world.dashboard_data = url_for("dashboard.data", wave_id=wave.id)
        db.session.remove()
        db.engine.dispose()
    return world


def stored_once(url: str, uuids: list[str]) -> tuple[int, int]:
    from bench_load import stored_once as check

    return check(url, uuids)


# --- the schedule ----------------------------------------------------------------------


@dataclass(order=True)
class Event:
    due: float
    kind: str = field(compare=False)
    actor: int = field(compare=False)


def schedule(args, rng: random.Random) -> list[Event]:
    """Every request of the run, each at its own time (seconds from the start)."""
    events: list[Event] = []

    def every(kind: str, actors: int, period: float) -> None:
        for actor in range(actors):
            t = rng.uniform(0, period)
            while t < args.duration:
                events.append(Event(t, kind, actor))
                t += period

    every("page", args.enumerators, args.page_every)
    every("submit", args.enumerators, args.submit_every)
    every("official", args.officials, args.official_every)
    every("dashboard data", args.managers, 15.0)
    every("dashboard page", args.managers, 60.0)
    events.sort()
    return events


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    service: list[float] = field(default_factory=list)
    errors: int = 0
    examples: list[str] = field(default_factory=list)


def run(
    port: int, world: World, args, on_start: Callable[[], object]
) -> tuple[dict[str, Tally], float, int]:
    rng = random.Random(args.seed + 1)
    events = schedule(args, rng)
    officials = []
    for _ in range(args.officials):
        s = Session(port)
        s.login("official", "official-demo-2026")
        officials.append(s)
    managers = []
    for _ in range(args.managers):
        s = Session(port)
        s.login("manager", "manager-demo-2026")
        managers.append(s)
    tallies: dict[str, Tally] = {}
    lock = threading.Lock()
    work: queue.Queue[Event | None] = queue.Queue()
    official_turn = [0] * args.officials
    start = [0.0]

    def act(event: Event) -> int:
        if event.kind == "page":
            token, _a, _g = world.tokens[event.actor]
            s = Session(port)
            return s.request(
                "GET",
                "/api/v1/assignments",
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )[0]
        if event.kind == "submit":
            token, assignment, grid = world.tokens[event.actor]
            r = random.Random(event.due * 1e6 + event.actor)
            uid = str(uuidlib.UUID(int=r.getrandbits(128)))
            body = {
                "uuid": uid,
                "assignment": assignment,
                "locality": grid,
                "mode": "door",
                "language": "zh_CN",
                "started_at": "2026-11-23T09:30:00+08:00",
                "ended_at": "2026-11-23T09:38:00+08:00",
                "answers": r.choice(world.answers),
            }
            status = Session(port).request(
                "POST",
                "/api/v1/submissions",
                json.dumps(body).encode(),
                {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )[0]
            if status == 201:
                with world.lock:
                    world.submitted.append(uid)
            return status
        if event.kind == "official":
            turn = official_turn[event.actor]
            official_turn[event.actor] += 1
            target = world.official_urls[(event.actor + turn) % len(world.official_urls)]
            return officials[event.actor].request("GET", target)[0]
        s = managers[event.actor]
        if event.kind == "dashboard page":
            return s.request("GET", world.dashboard)[0]
        return s.request("GET", world.dashboard_data, headers={"Accept": "application/json"})[0]

    def worker() -> None:
        while True:
            event = work.get()
            if event is None:
                return
            began = time.monotonic()
            try:
                status = act(event)
                problem = None if 200 <= status < 400 else f"HTTP {status}"
            except Exception as exc:  # noqa: BLE001 - any failure is an error of the run
                problem = f"{type(exc).__name__}: {exc}"
            done = time.monotonic()
            with lock:
                t = tallies.setdefault(event.kind, Tally())
                t.latencies.append(done - (start[0] + event.due))
                t.service.append(done - began)
                if problem:
                    t.errors += 1
                    if len(t.examples) < 3:
                        t.examples.append(problem)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.pool)]
    for t in threads:
        t.start()
    on_start()  # the clock starts: the logins above are not part of the day
    start[0] = time.monotonic()
    for event in events:
        delay = start[0] + event.due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        work.put(event)
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join()
    return tallies, time.monotonic() - start[0], len(events)


# --- one database ----------------------------------------------------------------------


def run_database(label: str, url: str, args, tmp: Path) -> bool:
    print(
        f"{label}: setting up ({args.responses} demo responses, {args.enumerators} enumerators)…",
        flush=True,
    )
    world = setup(url, args)
    port = free_port()
    env = {
        **os.environ,
        "SURVEYAPP_DATABASE_URL": url,
        "SURVEYAPP_SECRET_KEY": "bench-day",
        "SURVEYAPP_INSTANCE_PATH": str(tmp / "instance"),
    }
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    log = open(out / f"day-gunicorn-{label}.log", "wb")  # noqa: SIM115  (closed below)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if Session(port).request("GET", "/static/css/app.css", timeout=2)[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"gunicorn did not start; see {log.name}") from None
                time.sleep(0.2)
        # Warm up (not timed): the officials' estimates and PDFs as after a release.
        warm = Session(port)
        warm.login("official", "official-demo-2026")
        for target in world.official_urls:
            warm.request("GET", target)
        pg = postgres_master(url)

        def cpu() -> tuple[float, float, float]:
            return tree_cpu(server.pid), tree_cpu(pg) if pg else 0.0, time.process_time()

        # Read when the clock starts, after the officials' and managers' logins (each hashes a
        # password at production cost), as bench_load.py does.
        start: list = []
        tallies, wall, due = run(
            port, world, args, lambda: start.append((cpu(), os.getloadavg()[0]))
        )
        cpu1 = cpu()
        load1 = os.getloadavg()[0]
        cpu0, load0 = start[0]
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        log.close()

    print(f"  {label}: {due} requests due in {args.duration:g} s, run took {wall:.0f} s")
    print(
        f"    {'kind':<15} {'done':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6}  (latency from when the request was due)"
    )
    every = Tally()
    pages = Tally()
    for kind, t in sorted(tallies.items()):
        every.latencies += t.latencies
        every.errors += t.errors
        every.examples += t.examples
        if kind != "submit":
            pages.latencies += t.latencies
            pages.errors += t.errors
        _row(kind, t, wall)
    _row("pages", pages, wall)
    _row("all", every, wall)
    for example in every.examples[:5]:
        print(f"    error example: {example}")
    found, not_once = stored_once(url, world.submitted)
    print(
        f"    interviews acknowledged 201: {len(world.submitted)}, stored: {found}, "
        f"stored other than once: {not_once}"
    )
    cores = os.cpu_count() or 1
    parts = {
        "gunicorn (master + workers)": cpu1[0] - cpu0[0],
        "PostgreSQL": cpu1[1] - cpu0[1],
        "this load generator": cpu1[2] - cpu0[2],
    }
    print(f"    CPU over the run ({cores} cores = {cores * wall:.0f} core-seconds available):")
    for name, seconds in parts.items():
        if seconds or name != "PostgreSQL" or pg:
            print(f"      {name:<28} {seconds:7.1f} s  ({seconds / wall:.2f} cores)")
    print(f"    load average: {load0:.1f} at the start, {load1:.1f} at the end")
    p95 = percentile(pages.latencies, 95) * 1000
    ok = every.errors == 0 and found == len(world.submitted) and not not_once
    print(
        f"    target p95 page <= 200 ms: {'met' if p95 <= 200 else 'MISSED'} ({p95:.0f} ms); "
        f"errors: {every.errors}"
    )
    if not ok:
        print(f"    server log: {log.name}")
    return ok


def _row(kind: str, t: Tally, wall: float) -> None:
    n = len(t.latencies)
    print(
        f"    {kind:<15} {n:>7} {n / wall:>7.1f} {percentile(t.latencies, 50) * 1000:>8.1f} "
        f"{percentile(t.latencies, 95) * 1000:>8.1f} {percentile(t.latencies, 99) * 1000:>8.1f} "
        f"{t.errors:>6}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--duration", type=float, default=300.0)
    parser.add_argument("--enumerators", type=int, default=2000)
    parser.add_argument("--officials", type=int, default=50)
    parser.add_argument("--managers", type=int, default=5)
    parser.add_argument("--page-every", type=float, default=20.0)
    parser.add_argument("--submit-every", type=float, default=420.0)
    parser.add_argument("--official-every", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pool", type=int, default=400, help="client threads")
    parser.add_argument("--responses", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    print(
        f"{args.enumerators} enumerators, {args.officials} officials, {args.managers} managers, "
        f"{args.duration:g} s; gunicorn {args.workers} worker(s) x {args.threads} thread(s), "
        f"{os.cpu_count()} CPU(s)",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="bench-day-"))
    try:
        if args.db == "sqlite":
            ok = run_database("SQLite", f"sqlite:///{tmp / 'day.sqlite'}", args, tmp)
        else:
            url = os.environ.get("SURVEYAPP_TEST_DATABASE_URL")
            if not url:
                return subprocess.call(
                    [str(ROOT / "scripts" / "with-postgres"), sys.executable, *sys.argv]
                )
            ok = run_database("PostgreSQL", url, args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("errors: none" if ok else "FAILED: errors or interviews not stored exactly once")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
