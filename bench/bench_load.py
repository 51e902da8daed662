"""Load test: 100 concurrent clients for 60 s against gunicorn on loopback, on SQLite and on
PostgreSQL, with a trivial static file measured in the same run as the baseline.

Setup (not timed): a database with the demo (``--responses`` synthetic interviews), gunicorn
serving ``wsgi:app`` as ``make serve`` does (``--workers``, default 4), and per client a
logged-in session (enumerator or official, CSRF token read from the pages) or an API token.

Then, for each database:

1. **baseline**: the clients GET a static file (``/static/css/app.css``) for a quarter of the
   duration: what the server stack costs without the application's work;
2. **mix**: for ``--duration`` seconds every client repeats a request drawn from the mix
   (``--mix interview=4,submit=4,official=2``): ``interview`` opens the offline interview app
   and the assignments it loads (enumerator session; two requests); ``submit`` sends one
   complete interview to POST /api/v1/submissions (token); ``official`` downloads the wave's
   estimates CSV from the officials' portal as the district official (the survey's wave page
   when the portal is not there). Kinds are functions in ``KINDS``: add one to extend the mix.

Printed per phase and kind: requests, requests per second, p50/p95/p99 latency, errors (any
status other than 2xx/3xx, or no answer), HTTP requests per second (an ``interview`` is two
HTTP requests counted as one request of the mix); then the ratios of the mix to the baseline,
by the mix's requests (the figure reported since November) and by HTTP requests. Every
interview acknowledged with 201 must be stored exactly once (checked at the end).

PostgreSQL runs through scripts/with-postgres (a throwaway server; fsync off), which this
script calls itself when SURVEYAPP_TEST_DATABASE_URL is not set.

Usage: .venv/bin/python bench/bench_load.py [--clients 100] [--duration 60] [--db both]
       [--workers 4] [--mix interview=4,submit=4,official=2] [--responses 1000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- an HTTP client with cookies ----------------------------------------------------------


class Session:
    """One client: a cookie jar over plain http.client (a new connection per request, as
    gunicorn's sync workers close them)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict | None = None,
        timeout: float = 180,
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            all_headers = dict(headers or {})
            if self.cookies:
                all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";", 1)[0]
            return response.status, data
        finally:
            conn.close()

    def form(self, path: str, fields: dict | list) -> tuple[int, bytes]:
        body = urlencode(fields, doseq=True).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def login(self, username: str, password: str) -> None:
        _status, page = self.request("GET", "/auth/login")
        self.csrf = _csrf(page)
        status, _ = self.form(
            "/auth/login", {"csrf_token": self.csrf, "username": username, "password": password}
        )
        if status != 302:
            raise RuntimeError(f"login of {username} failed: HTTP {status}")


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1).decode()


# --- what the clients do -----------------------------------------------------------------


@dataclass
class World:
    """Ids and credentials the kinds of requests need (made during setup)."""

    assignment_id: int = 0
    grid: str = ""
    token: str = ""
    answers: list[dict] = field(default_factory=list)
    official_path: str = ""
    submitted: list[str] = field(default_factory=list)  # uuids acknowledged with 201
    lock: threading.Lock = field(default_factory=threading.Lock)


def interview(session: Session, world: World, rng: random.Random) -> list[int]:
    """Open the interview app as an enumerator's tablet does: the offline app's page, then
    the assignments it loads from the sync API (interviews themselves run on the device; the
    old start page only redirects there)."""
    status, _page = session.request("GET", "/offline/")
    if status != 200:
        return [status]
    second, _ = session.request(
        "GET", "/api/v1/assignments", headers={"Accept": "application/json"}
    )
    return [status, second]


def submit(session: Session, world: World, rng: random.Random) -> list[int]:
    """Send one complete interview through the sync API."""
    uid = str(uuidlib.UUID(int=rng.getrandbits(128)))
    body = {
        "uuid": uid,
        "assignment": world.assignment_id,
        "locality": world.grid,
        "mode": "door",
        "language": "zh_CN",
        "started_at": "2026-11-23T09:30:00+08:00",
        "ended_at": "2026-11-23T09:38:00+08:00",
        "answers": rng.choice(world.answers),
    }
    status, _ = session.request(
        "POST",
        "/api/v1/submissions",
        json.dumps(body).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {world.token}"},
    )
    if status == 201:
        with world.lock:
            world.submitted.append(uid)
    return [status]


def official(session: Session, world: World, rng: random.Random) -> list[int]:
    """Download the wave's estimates as the district official."""
    status, _ = session.request("GET", world.official_path)
    return [status]


def static(session: Session, world: World, rng: random.Random) -> list[int]:
    status, _ = session.request("GET", "/static/css/app.css")
    return [status]


#: Who each kind logs in as before the clock starts (a client holds one session per user).
LOGINS = {
    "interview": ("enumerator", "enumerator-demo-2026"),
    "official": ("official", "official-demo-2026"),
}

KINDS: dict[str, Callable[[Session, World, random.Random], list[int]]] = {
    "interview": interview,
    "submit": submit,
    "official": official,
    "static": static,
}


# --- running a phase ---------------------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    http: int = 0  # HTTP requests made (an ``interview`` is two: the page and its assignments)


def run_phase(
    port: int,
    world: World,
    mix: dict[str, int],
    clients: int,
    duration: float,
    seed: int,
    on_start: Callable[[], object] | None = None,
) -> tuple[dict[str, Tally], float]:
    tallies = {kind: Tally() for kind in mix}
    lock = threading.Lock()
    kinds = [k for k, w in mix.items() for _ in range(w)]
    start_gate = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        sessions = {}
        try:
            for kind in mix:
                sessions[kind] = Session(port)
                if kind in LOGINS:
                    sessions[kind].login(*LOGINS[kind])
        finally:
            start_gate.wait()
        while time.monotonic() < stop_at[0]:
            kind = rng.choice(kinds)
            began = time.perf_counter()
            statuses = [0]
            try:
                statuses = KINDS[kind](sessions[kind], world, rng)
                bad = [s for s in statuses if not 200 <= s < 400]
                problem = f"HTTP {bad[0]}" if bad else None
            except (OSError, http.client.HTTPException, RuntimeError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            elapsed = time.perf_counter() - began
            with lock:
                tally = tallies[kind]
                tally.latencies.append(elapsed)
                tally.http += len(statuses)
                if problem:
                    tally.errors += 1
                    if len(tally.error_examples) < 3:
                        tally.error_examples.append(problem)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + 3600
    start_gate.wait()  # every client has logged in
    stop_at[0] = time.monotonic() + duration
    if on_start is not None:
        on_start()
    began = time.monotonic()
    for t in threads:
        t.join()
    return tallies, time.monotonic() - began


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(name: str, tallies: dict[str, Tally], wall: float) -> dict:
    rows = {}
    every = Tally()
    for kind, t in tallies.items():
        every.latencies += t.latencies
        every.http += t.http
        every.errors += t.errors
        every.error_examples += t.error_examples
        rows[kind] = t
    rows["all"] = every
    print(f"  {name} ({wall:.0f} s)")
    print(
        f"    {'kind':<10} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'errors':>7} {'HTTP/s':>8}"
    )
    out = {}
    for kind, t in rows.items():
        n = len(t.latencies)
        figures = {
            "n": n,
            "rps": n / wall,
            "p50": percentile(t.latencies, 50) * 1000,
            "p95": percentile(t.latencies, 95) * 1000,
            "p99": percentile(t.latencies, 99) * 1000,
            "errors": t.errors,
            "http_rps": t.http / wall,
        }
        out[kind] = figures
        print(
            f"    {kind:<10} {n:>9} {figures['rps']:>8.1f} {figures['p50']:>8.1f} "
            f"{figures['p95']:>8.1f} {figures['p99']:>8.1f} {t.errors:>7} "
            f"{figures['http_rps']:>8.1f}"
        )
    for example in every.error_examples[:5]:
        print(f"    error example: {example}")
    return out


# --- setup and the two databases ---------------------------------------------------------


def setup(url: str, responses: int, seed: int) -> World:
    from sqlalchemy import select, text

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.fieldwork.tokens import issue_token
    from surveyapp.models import Assignment, User, Wave
    from surveyapp.services.demo import _Generator, load_demo

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-load"})
    world = World()
    with app.app_context():
        from flask_migrate import upgrade

        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        load_demo(responses=responses, seed=seed)
        world.token, user = issue_token("enumerator", label="bench")
        assignment = db.session.scalar(
            select(Assignment)
            .where(Assignment.enumerator_id == user.id, Assignment.mode == "door")
            .order_by(Assignment.id)
        )
        grid = assignment.locality.children[0]
        world.assignment_id, world.grid = assignment.id, grid.code
        wave = db.session.get(Wave, assignment.wave_id)
        schema = wave.survey.questionnaire_version.schema
        rng = random.Random(seed)
        while len(world.answers) < 20:
            raw = _Generator(schema, rng).respondent(0.0, grid, {})
            if raw.get("resident_6m") == "yes" and raw.get("age_16plus") == "yes":
                world.answers.append(
                    {k: (str(v) if isinstance(v, int) else v) for k, v in raw.items()}
                )
        if "officials.estimates" in app.view_functions:
            with app.test_request_context():
                from flask import url_for

                world.official_path = url_for(
                    "officials.estimates", survey_id=wave.survey_id, wave_code=wave.code, fmt="csv"
                )
        else:
            world.official_path = f"/manage/waves/{wave.id}"
        assert db.session.scalar(select(User).where(User.username == "official"))
        db.session.remove()
        db.engine.dispose()
    return world


def stored_once(url: str, uuids: list[str]) -> tuple[int, int]:
    from sqlalchemy import func, select

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import Response

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-load"})
    with app.app_context():
        counts = []
        for i in range(0, len(uuids), 500):
            counts += db.session.execute(
                select(Response.uuid, func.count(Response.id))
                .where(Response.uuid.in_(uuids[i : i + 500]))
                .group_by(Response.uuid)
            ).all()
        db.engine.dispose()
    return len(counts), sum(1 for _uuid, n in counts if n != 1)


def run_database(label: str, url: str, args, tmp: Path) -> dict:
    print(f"{label}: setting up ({args.responses} demo responses)…", flush=True)
    world = setup(url, args.responses, args.seed)
    port = free_port()
    env = {
        **os.environ,
        "SURVEYAPP_DATABASE_URL": url,
        "SURVEYAPP_SECRET_KEY": "bench-load",
        "SURVEYAPP_INSTANCE_PATH": str(tmp / "instance"),
    }
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    log = open(out / f"load-gunicorn-{label}.log", "wb")  # noqa: SIM115  (closed below)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--timeout",
            "120",
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
        deadline = time.monotonic() + 180  # a loaded machine imports slowly
        while True:
            try:
                if Session(port).request("GET", "/static/css/app.css", timeout=2)[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"gunicorn did not start; see {log.name}") from None
                time.sleep(0.2)
        # Warm up (not timed): one request of each kind, so that the officials' estimates are
        # computed once, as they would be on a server that has been running.
        warm = Session(port)
        for kind in args.mix:
            if kind in LOGINS:
                warm.cookies.clear()
                warm.login(*LOGINS[kind])
            KINDS[kind](warm, world, random.Random(0))
        # The CPU counters are read when the clock starts (after every client has logged in:
        # a login hashes a password at production cost) and when the phase ends.
        postgres = postgres_master(url)
        cpu: list[tuple[float, float]] = []
        base, base_wall = run_phase(
            port,
            world,
            {"static": 1},
            args.clients,
            max(5.0, args.duration / 4),
            args.seed,
            on_start=lambda: cpu.append(server_cpu(server.pid, postgres)),
        )
        baseline = summary("baseline: static file", base, base_wall)
        print_cpu(cpu[-1], server_cpu(server.pid, postgres), base)
        spies: list[subprocess.Popen] = []

        def start_mix() -> None:
            cpu.append(server_cpu(server.pid, postgres))
            spies.append(start_profile(args, label, server.pid))

        mixed, wall = run_phase(
            port, world, args.mix, args.clients, args.duration, args.seed + 1, on_start=start_mix
        )
        after = server_cpu(server.pid, postgres)
        for spy in spies:
            if spy is not None:
                spy.wait(timeout=60)
        figures = summary("mix: " + ", ".join(f"{k}={w}" for k, w in args.mix.items()), mixed, wall)
        print_cpu(cpu[-1], after, mixed)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        log.close()
    found, not_once = stored_once(url, world.submitted)
    print(
        f"    interviews acknowledged 201: {len(world.submitted)}, stored: {found}, "
        f"stored other than once: {not_once}"
    )
    b, m = baseline["all"], figures["all"]
    print(
        f"    ratio mix/baseline: throughput {m['rps'] / b['rps']:.3f} (the mix's kinds; "
        f"{m['http_rps'] / b['http_rps']:.3f} in HTTP requests), "
        f"p50 {m['p50'] / b['p50']:.1f}x, p95 {m['p95'] / b['p95']:.1f}x, "
        f"p99 {m['p99'] / b['p99']:.1f}x",
        flush=True,
    )
    ok = m["errors"] == 0 and b["errors"] == 0 and found == len(world.submitted) and not not_once
    if not ok:
        print(f"    server log: {log.name}")
    return {"ok": ok}


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by ``root`` and its descendants, living or ended: each living
    process's own time plus that of its children that have ended (cutime, cstime), so that a
    process started or ended between two readings is counted once, in full."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            stats[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in stats:
            total += sum(int(f) for f in stats[pid][11:15])  # utime stime cutime cstime
        stack.extend(children.get(pid, []))
    return total / os.sysconf("SC_CLK_TCK")


def postgres_master(url: str) -> int | None:
    """The postmaster of scripts/with-postgres's throwaway server (its socket directory is the
    URL's host; the data directory is below it), or None."""
    if not url.startswith("postgresql") or "host=" not in url:
        return None
    host = url.split("host=", 1)[1].split("&", 1)[0]
    try:
        return int((Path(host) / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def server_cpu(master: int, postgres: int | None = None) -> tuple[float, float]:
    """CPU seconds used so far by gunicorn (master and workers) and by PostgreSQL's server
    (every process of it: backends, WAL writer, checkpointer…; 0 without one)."""
    return tree_cpu(master), tree_cpu(postgres) if postgres else 0.0


def print_cpu(before: tuple[float, float], after: tuple[float, float], tallies) -> None:
    requests = max(1, sum(len(t.latencies) for t in tallies.values()))
    server, postgres = after[0] - before[0], after[1] - before[1]
    print(
        f"    server CPU: {server:.1f} s, {1000 * server / requests:.2f} ms "
        f"per request; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    if postgres:
        print(
            f"    PostgreSQL CPU: {postgres:.1f} s, "
            f"{1000 * postgres / requests:.2f} ms per request",
            flush=True,
        )


def start_profile(args, label: str, master: int) -> subprocess.Popen | None:
    """With ``--profile DIR``: sample every gunicorn worker with py-spy during the mix, as
    collapsed stacks (one line per stack and its count) for bench/pyspy_summary.py."""
    if not args.profile:
        return None
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    directory = Path(args.profile)
    directory.mkdir(parents=True, exist_ok=True)
    mix = "-".join(f"{k}{w}" for k, w in args.mix.items())
    output = directory / f"{label.lower()}-{mix}.txt"
    print(f"    profiling the workers with py-spy into {output}", flush=True)
    return subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(master),
            "--subprocesses",
            "--nonblocking",
            "--rate",
            "250",
            "--format",
            "raw",
            "--duration",
            str(int(args.duration)),
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def parse_mix(text: str) -> dict[str, int]:
    mix = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        name = name.strip()
        if name not in KINDS:
            raise argparse.ArgumentTypeError(f"unknown kind '{name}'; known: {', '.join(KINDS)}")
        mix[name] = int(weight or 1)
    return mix


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the mix")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--mix", type=parse_mix, default=parse_mix("interview=4,submit=4,official=2")
    )
    parser.add_argument("--responses", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--profile", metavar="DIR", help="sample the workers with py-spy during the mix"
    )
    args = parser.parse_args()

    pg_url = os.environ.get("SURVEYAPP_TEST_DATABASE_URL")
    print(
        f"{args.clients} clients, {args.duration:g} s, gunicorn {args.workers} worker(s) x "
        f"{args.threads} thread(s), {os.cpu_count()} CPU(s)",
        flush=True,
    )
    ok = True
    if args.db in ("sqlite", "both"):
        tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
        try:
            ok &= run_database("SQLite", f"sqlite:///{tmp / 'load.sqlite'}", args, tmp)["ok"]
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.db in ("postgresql", "both"):
        if pg_url:
            tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
            try:
                ok &= run_database("PostgreSQL", pg_url, args, tmp)["ok"]
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        else:
            argv = [a for a in sys.argv[1:]]
            if "--db" in argv:
                i = argv.index("--db")
                del argv[i : i + 2]
            code = subprocess.call(
                [
                    str(ROOT / "scripts" / "with-postgres"),
                    sys.executable,
                    __file__,
                    *argv,
                    "--db",
                    "postgresql",
                ]
            )
            ok &= code == 0
    print("errors: none" if ok else "FAILED: errors or interviews not stored exactly once")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
