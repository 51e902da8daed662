"""CPU per request of each kind of bench_load.py's mix, in process (no server, no clients).

A SQLite database with the demo (``--responses``, built once per run in a temporary
directory), Flask's test client, ``time.process_time`` over ``--repeat`` requests of each kind
after three warm ones, and the static file as the baseline; optionally the statements each
request runs and a cProfile of one kind. On scripts/with-postgres's server (``--db
"$SURVEYAPP_TEST_DATABASE_URL"``) also the CPU its processes spent per request (from /proc).
What a gunicorn worker spends per request on top is the same for every kind (parsing the
request, writing the answer), so the ratios here say where the application's own time goes;
bench_load.py gives the throughput.

``--enumerators N`` grows the current wave as bench_day.py's world does: N more enumerators,
each with a door-to-door assignment in a community, and the wave's interviews handed out among
them (so that per-enumerator figures have N rows to count, not the demo's few).

Usage: .venv/bin/python bench/bench_pages.py [--repeat 50] [--profile KIND] [--db URL]
       [--enumerators N] [--kinds "dashboard data,static"] [--officials]
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import pstats
import random
import sys
import tempfile
import time
import uuid as uuidlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_load import postgres_master, setup, tree_cpu  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--responses", type=int, default=1000)
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    parser.add_argument("--profile", help="cProfile this kind and print the top functions")
    parser.add_argument("--sql", action="store_true", help="print the statements per request")
    parser.add_argument("--only", help="profile output: only functions whose path matches")
    parser.add_argument(
        "--sort", default="cumulative", help="profile order (cumulative, tottime, ncalls, ...)"
    )
    parser.add_argument("--dump", help="write the profile's pstats to this file")
    parser.add_argument("--enumerators", type=int, default=0, help="grow the wave (see above)")
    parser.add_argument("--kinds", help="comma-separated kinds to run (default: all)")
    parser.add_argument(
        "--engine-options",
        type=json.loads,
        help="SQLALCHEMY_ENGINE_OPTIONS to compare, as JSON (e.g. '{\"pool_pre_ping\": true}')",
    )
    parser.add_argument(
        "--officials",
        action="store_true",
        help="also the officials' other requests of bench_day.py: a street's PDF, the results",
    )
    args = parser.parse_args()

    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-pages-')) / 'db.sqlite'}"
    world = setup(url, args.responses, 7)
    if args.enumerators:
        grow(url, args.enumerators)

    from sqlalchemy import event

    from surveyapp import create_app
    from surveyapp.extensions import db

    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench-load",
        "WTF_CSRF_ENABLED": False,
        # A cache of this run's own: the officials' report cache in instance/ holds the bundles
        # of earlier runs, whose databases have other response times but the same settings,
        # so their "latest" pointers were served (or refreshed in a background thread, whose
        # CPU was counted) instead of this run's.
        "REPORT_CACHE_DIR": tempfile.mkdtemp(prefix="bench-pages-reports-"),
    }
    if args.engine_options is not None:
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = args.engine_options
    app = create_app(settings)
    enumerator, official, tablet = app.test_client(), app.test_client(), app.test_client()
    manager = app.test_client()
    for client, (user, password) in (
        (enumerator, ("enumerator", "enumerator-demo-2026")),
        (official, ("official", "official-demo-2026")),
        (manager, ("manager", "manager-demo-2026")),
    ):
        response = client.post("/auth/login", data={"username": user, "password": password})
        assert response.status_code == 302, (user, response.status_code)
    rng = random.Random(1)

    def submit():
        body = {
            "uuid": str(uuidlib.UUID(int=rng.getrandbits(128))),
            "assignment": world.assignment_id,
            "locality": world.grid,
            "mode": "door",
            "language": "zh_CN",
            "started_at": "2026-11-23T09:30:00+08:00",
            "ended_at": "2026-11-23T09:38:00+08:00",
            "answers": rng.choice(world.answers),
        }
        return tablet.post(
            "/api/v1/submissions",
            data=json.dumps(body),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {world.token}"},
        )

    held: dict[str, str] = {}

    def assignments_again():
        headers = {"Accept": "application/json"}
        if held.get("etag"):
            headers["If-None-Match"] = held["etag"]
        response = enumerator.get("/api/v1/assignments", headers=headers)
        held["etag"] = response.headers.get("ETag", "")
        return response

    kinds = {
        "static": lambda: tablet.get("/static/css/app.css"),
        "offline page": lambda: enumerator.get("/offline/"),
        "assignments": lambda: enumerator.get(
            "/api/v1/assignments", headers={"Accept": "application/json"}
        ),
        # a tablet that holds the list it loaded last: If-None-Match, a 304 when unchanged
        "assignments 304": assignments_again,
        "submit": submit,
        "official": lambda: official.get(world.official_path),
        "dashboard data": lambda: manager.get(
            f"/dashboard/waves/{wave_id}/data.json", headers={"Accept": "application/json"}
        ),
    }
    if args.officials:
        from sqlalchemy import select

        from surveyapp.models import Locality

        with app.app_context():
            street = db.session.scalar(
                select(Locality.code).where(Locality.level == "street").order_by(Locality.code)
            )
        wave_path = world.official_path.rsplit("/", 1)[0]
        kinds["official pdf"] = lambda: official.get(f"{wave_path}/streets/{street}.pdf")
        kinds["official page"] = lambda: official.get(f"{wave_path}/results")
    # bench_load.py's mix (interview=4, submit=4, official=2) one unit a call, interleaved as
    # a worker meets them (what one kind leaves on a pooled connection meets the next kind);
    # an interview unit is the offline page and the assignments.
    units = itertools.cycle(["interview", "submit", "official", "interview", "submit"] * 2)
    each = dict(kinds)

    def mix_unit():
        unit = next(units)
        if unit == "interview":
            each["offline page"]().close()
            return each["assignments"]()
        return each[unit]()

    kinds["mix unit"] = mix_unit
    if args.kinds:
        wanted = [k.strip() for k in args.kinds.split(",")]
        kinds = {k: kinds[k] for k in wanted}
    counted: list[str] = []
    with app.app_context():
        engine = db.engine
        from surveyapp.models import Assignment

        wave_id = db.session.get(Assignment, world.assignment_id).wave_id
    postgres = postgres_master(url)
    pg_column = f" {'PostgreSQL CPU ms':>18}" if postgres else ""
    print(
        f"{'request':<14} {'CPU ms':>8} {'vs static':>10} {'statements':>11}{pg_column}", flush=True
    )
    base = None
    for name, call in kinds.items():
        for _ in range(3):
            response = call()
            assert response.status_code < 400, (name, response.status_code)
            response.close()
        counted.clear()
        listener = lambda *a: counted.append(a[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        call().close()
        event.remove(engine, "before_cursor_execute", listener)
        statements = len(counted)
        profile = cProfile.Profile(time.process_time) if name == args.profile else None
        pg_began = tree_cpu(postgres) if postgres else 0.0
        began = time.process_time()
        if profile:
            profile.enable()
        for _ in range(args.repeat):
            call().close()
        if profile:
            profile.disable()
        ms = 1000 * (time.process_time() - began) / args.repeat
        if postgres:
            pg_ms = 1000 * (tree_cpu(postgres) - pg_began) / args.repeat
            pg_column = f" {pg_ms:>18.2f}"
        base = base or ms
        print(f"{name:<14} {ms:>8.2f} {ms / base:>9.1f}x {statements:>11}{pg_column}", flush=True)
        if args.sql:
            for statement in counted:
                print("      " + " ".join(statement.split())[:150])
        if profile:
            if args.dump:
                profile.dump_stats(args.dump)
            stats = pstats.Stats(profile).sort_stats(args.sort)
            if args.only:
                stats.print_stats(args.only, 45)
            else:
                stats.print_stats(45)


def grow(url: str, enumerators: int) -> None:
    """Add ``enumerators`` enumerators with an assignment each to the current wave (as
    bench_day.py does) and hand the wave's interviews out among them."""
    from sqlalchemy import insert, select, update

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import Assignment, Locality, Response, User, Wave

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-load"})
    with app.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))
        communities = db.session.scalars(
            select(Locality).where(Locality.level == "community").order_by(Locality.id)
        ).all()
        ids = db.session.scalars(
            insert(User).returning(User.id),
            [
                {
                    "username": f"day-{i:04d}",
                    "display_name": f"调查员{i:04d}",
                    "password_hash": "unused",
                    "role": "enumerator",
                }
                for i in range(enumerators)
            ],
        ).all()
        db.session.execute(
            insert(Assignment),
            [
                {
                    "wave_id": wave.id,
                    "enumerator_id": uid,
                    "locality_id": communities[i % len(communities)].id,
                    "mode": "door",
                    "target": 20,
                    "locality_editable": True,
                }
                for i, uid in enumerate(ids)
            ],
        )
        responses = db.session.scalars(
            select(Response.id).where(Response.wave_id == wave.id).order_by(Response.id)
        ).all()
        for i, rid in enumerate(responses):
            db.session.execute(
                update(Response).where(Response.id == rid).values(enumerator_id=ids[i % len(ids)])
            )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
