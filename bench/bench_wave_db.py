"""All indicators of a 1,000,000-response wave, from the database, in process.

Builds (once, cached in bench/.cache/, not committed) a SQLite database holding the demo
survey whose current wave has 1,000,000 responses: the demo generator draws 4,000 respondents
(answers walk the questionnaire's skip logic), and the current wave's ones are copied with
INSERT ... SELECT until the wave has a million (about 36 million answer rows). Then times, in
one process, with the wave snapshot directory (SURVEYAPP_SNAPSHOT_DIR) a fresh temporary one:

- full read: extracting the wave from the database with no snapshot (and writing the
  snapshot), then every indicator by street (``estimate_survey(by="street")``; the baseline);
- new process: the in-memory caches cleared (what a new worker sees), every indicator by
  street again: the snapshot is verified against the database and loaded (the issue's
  measure, target under 2 seconds), and the snapshot load alone;
- incremental: 1,000 responses added (copies of existing ones, in a transaction rolled back
  at the end, so the cached database is unchanged), caches cleared, every indicator by street:
  the snapshot is verified and only the new responses are read and appended.

Usage: .venv/bin/python bench/bench_wave_db.py [--responses N] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache"
TARGET_SECONDS = 2.0
TEMPLATES = 4000


def build(path: Path, responses: int) -> None:
    """Create the database: migrations, the demo, then copies of the current wave."""
    from flask_migrate import upgrade

    from surveyapp import create_app
    from surveyapp.services.demo import load_demo

    tmp = path.with_suffix(".building")
    if tmp.exists():
        tmp.unlink()
    os.environ.setdefault("SURVEYAPP_INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-wave-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}"})
    with app.app_context():
        upgrade()
        load_demo(responses=TEMPLATES, seed=7)
        from surveyapp.extensions import db

        db.session.remove()
        db.engine.dispose()
    con = sqlite3.connect(tmp)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    wave_id = con.execute("SELECT max(id) FROM wave").fetchone()[0]
    con.execute(
        "CREATE TEMP TABLE orig AS SELECT id, row_number() OVER (ORDER BY id) AS k "
        "FROM response WHERE wave_id = ?",
        (wave_id,),
    )
    n_orig = con.execute("SELECT count(*) FROM orig").fetchone()[0]
    columns = (
        "survey_id, wave_id, questionnaire_version_id, mode, enumerator_id, language, "
        "started_at, ended_at, submitted_at, locality_id, district_id, street_id, "
        "community_id, grid_id, status, content_hash"
    )
    copy = 1
    while n_orig * (copy + 1) <= responses:
        base = con.execute("SELECT max(id) FROM response").fetchone()[0]
        con.execute(
            f"INSERT INTO response (id, uuid, {columns}) SELECT ? + o.k, r.uuid || '-' || ?, "
            f"{', '.join('r.' + c.strip() for c in columns.split(','))} "
            "FROM response r JOIN orig o ON o.id = r.id ORDER BY o.k",
            (base, copy),
        )
        con.execute(
            "INSERT INTO answer (response_id, question, value, number, multiple) "
            "SELECT ? + o.k, a.question, a.value, a.number, a.multiple "
            "FROM answer a JOIN orig o ON o.id = a.response_id ORDER BY a.id",
            (base,),
        )
        copy += 1
        if copy % 50 == 0:
            con.commit()
            print(f"  {n_orig * copy} responses…", flush=True)
    con.commit()
    con.execute("ANALYZE")
    con.close()
    tmp.rename(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    ignore = CACHE / ".gitignore"  # the multi-gigabyte database is never committed
    if not ignore.exists():
        ignore.write_text("*\n")
    path = CACHE / f"wave-{args.responses}.sqlite"
    if args.rebuild and path.exists():
        path.unlink()
    if not path.exists():
        print(f"building {path} (once; several minutes)…", flush=True)
        t = time.perf_counter()
        build(path, args.responses)
        print(f"built in {time.perf_counter() - t:.0f} s", flush=True)

    instance = tempfile.mkdtemp(prefix="bench-wave-")
    os.environ["SURVEYAPP_INSTANCE_PATH"] = instance
    os.environ["SURVEYAPP_SNAPSHOT_DIR"] = os.path.join(instance, "wave-snapshots")
    from sqlalchemy import text

    from surveyapp import create_app
    from surveyapp.estimate_command import estimate_survey
    from surveyapp.extensions import db
    from surveyapp.models import Survey
    from surveyapp.services import wave_design, wave_snapshot
    from surveyapp.services.wave_selection import wave_version
    from surveyapp.services.wave_snapshot import extract_wave, read_snapshot, snapshot_path

    def forget() -> None:  # what a new process starts with
        wave_snapshot._SNAPSHOTS.clear()
        wave_design.DESIGN_CACHE.clear()

    def streets() -> tuple[str, float]:
        t = time.perf_counter()
        out = estimate_survey(survey.id, by="street", fmt="json")
        return out, time.perf_counter() - t

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()  # a database cached by an older checkout gets the newer migrations' indexes
        survey = db.session.get(Survey, 1)
        wave = survey.waves[-1]
        schema = wave_version(survey, wave).schema
        wave_code = wave.code
        t = time.perf_counter()
        data = extract_wave(wave, schema)
        t_read = time.perf_counter() - t
        n_full = data.n
        table_full, t_est_full = streets()
        t_full = t_read + t_est_full
        size = snapshot_path(wave, schema).stat().st_size

        forget()
        table_snap, t_first = streets()
        t = time.perf_counter()
        estimate_survey(survey.id, by="street", fmt="json")
        t_again = time.perf_counter() - t
        forget()
        t = time.perf_counter()
        extract_wave(wave, schema)
        t_load = time.perf_counter() - t
        t = time.perf_counter()
        read_snapshot(snapshot_path(wave, schema))
        t_file = time.perf_counter() - t

        # 1,000 new responses (copies of the wave's first ones), rolled back afterwards.
        con = db.session.connection()
        base = con.execute(text("SELECT max(id) FROM response")).scalar()
        cols = (
            "survey_id, wave_id, questionnaire_version_id, mode, enumerator_id, language, "
            "started_at, ended_at, submitted_at, locality_id, district_id, street_id, "
            "community_id, grid_id, status, content_hash"
        )
        con.execute(
            text(
                "CREATE TEMP TABLE added AS SELECT id, row_number() OVER (ORDER BY id) "
                "AS k FROM response WHERE wave_id = :w AND status != 'rejected' "
                "ORDER BY id LIMIT 1000"
            ),
            {"w": wave.id},
        )
        con.execute(
            text(
                f"INSERT INTO response (id, uuid, {cols}) SELECT :b + a.k, r.uuid || '-new', "
                f"{', '.join('r.' + c.strip() for c in cols.split(','))} "
                "FROM response r JOIN added a ON a.id = r.id ORDER BY a.k"
            ),
            {"b": base},
        )
        con.execute(
            text(
                "INSERT INTO answer (response_id, question, value, number, multiple) "
                "SELECT :b + a.k, x.question, x.value, x.number, x.multiple "
                "FROM answer x JOIN added a ON a.id = x.response_id ORDER BY x.id"
            ),
            {"b": base},
        )
        forget()
        table_incr, t_incr = streets()
        n_incr = extract_wave(wave, schema).n
        db.session.rollback()
    assert table_snap == table_full, "the snapshot gives other estimates than the full read"
    assert n_incr > n_full and table_incr != table_full
    rows = table_full.count('"indicator"')
    print(
        f"wave {wave_code}: {n_full} eligible responses; all indicators x all streets "
        f"(estimate_survey by street, {rows} rows); snapshot {size / 2**20:.0f} MiB"
    )
    print(
        f"full read from the database + estimate (no snapshot): {t_full:7.2f} s "
        f"(read {t_read:.2f} s, estimate {t_est_full:.2f} s)  (baseline)"
    )
    print(
        f"new process, snapshot on disk, estimate:               {t_first:7.2f} s  "
        f"ratio {t_full / t_first:6.1f}x faster; target < {TARGET_SECONDS:.0f} s: "
        f"{'met' if t_first < TARGET_SECONDS else 'NOT met'}"
    )
    print(
        f"  of which verify + load the snapshot:                 {t_load:7.2f} s "
        f"(reading the file {t_file:.2f} s)"
    )
    print(f"  the same call again (wave and weights in memory):    {t_again:7.2f} s")
    print(
        f"1,000 responses added, caches cleared, estimate:       {t_incr:7.2f} s  "
        f"ratio {t_full / t_incr:6.1f}x faster ({n_incr - n_full} new eligible appended)"
    )
    print(
        f"(measured on a shared 2-core machine under load; load average {os.getloadavg()[0]:.1f})"
    )
    shutil.rmtree(instance, ignore_errors=True)  # the snapshot of a million responses
    return 0


if __name__ == "__main__":
    sys.exit(main())
