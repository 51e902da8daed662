"""Reading a large wave from PostgreSQL: ``COPY … TO STDOUT`` against the row-by-row path.

Builds a throwaway PostgreSQL database (scripts/with-postgres, which this script calls itself
when SURVEYAPP_TEST_DATABASE_URL is not set): migrations, the demo, then copies of the current
wave's responses and answers (``INSERT … SELECT``) until the wave has ``--responses``. Then
times, in one process and alternating, the extraction of the wave's answers into columns
(``services.wave_data.read_wave``, what every estimate of a wave not yet in a snapshot
needs) with ``COPY (SELECT …) TO STDOUT`` parsed by pandas (``wave_data.USE_COPY``) and
with the row-by-row cursor (the baseline; what SQLite uses), checks that both give the same
data, and prints the ratio. ``--sqlite`` also builds the same wave in SQLite and times its
path in the same run.

Usage: .venv/bin/python bench/bench_wave_read.py [--responses 1000000] [--repeat 2] [--sqlite]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TEMPLATES = 1000
COLUMNS = (
    "survey_id, wave_id, questionnaire_version_id, mode, enumerator_id, language, "
    "started_at, ended_at, submitted_at, locality_id, district_id, street_id, "
    "community_id, grid_id, status, content_hash"
)


def build(app, responses: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from surveyapp.extensions import db
    from surveyapp.services.demo import load_demo

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        load_demo(responses=TEMPLATES, seed=7)
        db.session.remove()
        with db.engine.begin() as conn:
            wave_id = conn.execute(text("SELECT max(id) FROM wave")).scalar_one()
            conn.execute(
                text(
                    "CREATE TEMP TABLE orig AS SELECT id, row_number() OVER (ORDER BY id) AS k "
                    "FROM response WHERE wave_id = :w"
                ),
                {"w": wave_id},
            )
            n_orig, lo, hi = conn.execute(text("SELECT count(*), min(id), max(id) FROM orig")).one()
            picked = ", ".join("r." + c.strip() for c in COLUMNS.split(","))
            copy = 1
            while n_orig * (copy + 1) <= responses:
                base = conn.execute(text("SELECT max(id) FROM response")).scalar_one()
                conn.execute(
                    text(
                        f"INSERT INTO response (id, uuid, {COLUMNS}) SELECT :b + o.k, "
                        f"substr(r.uuid, 1, 24) || '-' || :c, {picked} "
                        "FROM response r JOIN orig o ON o.id = r.id ORDER BY o.k"
                    ),
                    {"b": base, "c": str(copy)},
                )
                conn.execute(
                    text(
                        "INSERT INTO answer (response_id, question, value, number, multiple) "
                        "SELECT :b + o.k, a.question, a.value, a.number, a.multiple "
                        "FROM answer a JOIN orig o ON o.id = a.response_id "
                        # the range keeps the read to the originals (an index range, not a
                        # scan of the growing table)
                        "WHERE a.response_id BETWEEN :lo AND :hi ORDER BY a.id"
                    ),
                    {"b": base, "lo": lo, "hi": hi},
                )
                copy += 1
                if copy % 100 == 0:
                    print(f"    {n_orig * copy} responses…", flush=True)
            if db.engine.dialect.name == "postgresql":
                conn.execute(
                    text("SELECT setval('response_id_seq', (SELECT max(id) FROM response))")
                )
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(
                text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE")
            )
        db.engine.dispose()


def time_read(app, use_copy: bool):
    from sqlalchemy import select

    from surveyapp.extensions import db
    from surveyapp.models import Wave
    from surveyapp.services import wave_data

    with app.app_context():
        wave = db.session.scalar(select(Wave).order_by(Wave.id.desc()))
        schema = wave.questionnaire_version.schema
        wave_data.USE_COPY = use_copy
        began, cpu = time.perf_counter(), time.process_time()
        data = wave_data.read_wave(wave, schema)
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu
        wave_data.USE_COPY = False
        db.session.remove()
    return wall, cpu, data


def same(a, b) -> bool:
    import numpy as np

    ok = np.array_equal(a.response_ids, b.response_ids)
    ok &= all(a.columns[k].tolist() == b.columns[k].tolist() for k in a.columns)
    ok &= all(np.array_equal(a.values[k], b.values[k], equal_nan=True) for k in a.values)
    ok &= all(
        np.array_equal(a.shares[q][c], b.shares[q][c], equal_nan=True)
        for q in a.shares
        for c in a.shares[q]
    )
    return bool(ok)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--sqlite", action="store_true", help="also time SQLite's path")
    args = parser.parse_args()
    url = os.environ.get("SURVEYAPP_TEST_DATABASE_URL")
    if not url:
        return subprocess.call([str(ROOT / "scripts" / "with-postgres"), sys.executable, *sys.argv])
    os.environ.setdefault("SURVEYAPP_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-read-"))
    from surveyapp import create_app

    apps = {"PostgreSQL": create_app({"SQLALCHEMY_DATABASE_URI": url})}
    tmp = Path(tempfile.mkdtemp(prefix="bench-read-"))
    if args.sqlite:
        apps["SQLite"] = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'w.sqlite'}"})
    for label, app in apps.items():
        print(f"{label}: building a wave of {args.responses} responses…", flush=True)
        began = time.perf_counter()
        build(app, args.responses)
        print(f"  built in {time.perf_counter() - began:.0f} s", flush=True)

    print(f"load average {os.getloadavg()[0]:.1f}; best of {args.repeat}, alternating")
    runs = [("PostgreSQL, COPY … TO STDOUT", "PostgreSQL", True)]
    runs.append(("PostgreSQL, rows (baseline)", "PostgreSQL", False))
    if args.sqlite:
        runs.append(("SQLite, rows", "SQLite", False))
    best: dict[str, tuple[float, float]] = {}
    data = {}
    for _ in range(args.repeat):
        for name, label, use_copy in runs:
            wall, cpu, data[name] = time_read(apps[label], use_copy)
            if name not in best or wall < best[name][0]:
                best[name] = (wall, cpu)
    n = data[runs[0][0]].response_ids.size
    base = best[runs[1][0]][0]
    print(f"  {'path':<32} {'wall s':>8} {'CPU s':>8} {'responses/s':>12} {'vs rows':>8}")
    for name, _label, _c in runs:
        wall, cpu = best[name]
        print(f"  {name:<32} {wall:>8.2f} {cpu:>8.2f} {n / wall:>12.0f} {base / wall:>7.2f}x")
    ok = all(same(data[runs[0][0]], data[name]) for name, _l, _c in runs[1:])
    print(f"  eligible responses read: {n}; same data on every path: {'yes' if ok else 'NO'}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
