"""All indicators of a 1,000,000-response wave, from the database, in process.

Builds (once, cached in bench/.cache/, not committed) a SQLite database holding the demo
survey whose current wave has 1,000,000 responses: the demo generator draws 4,000 respondents
(answers walk the questionnaire's skip logic), and the current wave's ones are copied with
INSERT ... SELECT until the wave has a million (about 30 million answer rows). Then times
``wave_results`` (every indicator and score, overall, by street and by community, compared
with the district and the previous wave, rank intervals, multiple-choice shares):

- cold: the first call in the process, reading the answers from the database;
- warm: a second call, which finds the wave's columnar snapshot (keyed by the wave's content)
  and only estimates;
- streets: ``estimate_survey(by="street")``, every indicator and score overall and by street
  with confidence intervals (the issue's measure), on the snapshot.

The baseline is the cold call measured in the same run; the target is the streets table
under 2 seconds. Usage: .venv/bin/python bench/bench_wave_db.py [--responses N] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
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
    con.execute("CREATE TEMP TABLE orig AS SELECT id, row_number() OVER (ORDER BY id) AS k "
                "FROM response WHERE wave_id = ?", (wave_id,))
    n_orig = con.execute("SELECT count(*) FROM orig").fetchone()[0]
    columns = ("survey_id, wave_id, questionnaire_version_id, mode, enumerator_id, language, "
               "started_at, ended_at, submitted_at, locality_id, district_id, street_id, "
               "community_id, grid_id, status, content_hash")
    copy = 1
    while n_orig * (copy + 1) <= responses:
        base = con.execute("SELECT max(id) FROM response").fetchone()[0]
        con.execute(
            f"INSERT INTO response (id, uuid, {columns}) SELECT ? + o.k, r.uuid || '-' || ?, "
            f"{', '.join('r.' + c.strip() for c in columns.split(','))} "
            "FROM response r JOIN orig o ON o.id = r.id ORDER BY o.k", (base, copy))
        con.execute(
            "INSERT INTO answer (response_id, question, value, number, multiple) "
            "SELECT ? + o.k, a.question, a.value, a.number, a.multiple "
            "FROM answer a JOIN orig o ON o.id = a.response_id ORDER BY a.id", (base,))
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
    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import Survey
    from surveyapp.services.estimates import estimate_survey, wave_results

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        survey = db.session.get(Survey, 1)
        wave = survey.waves[-1]
        t = time.perf_counter()
        cold = wave_results(survey, wave)
        t_cold = time.perf_counter() - t
        t = time.perf_counter()
        warm = wave_results(survey, wave)
        t_warm = time.perf_counter() - t
        # The measure: every indicator and score, overall and by street, with CIs.
        t = time.perf_counter()
        table = estimate_survey(survey.id, by="street", fmt="json")
        t_streets = time.perf_counter() - t
    assert warm.n == cold.n
    for a, b in zip(cold.items, warm.items, strict=True):
        assert a.overall == b.overall and a.by_street == b.by_street, a.id
    cells = sum(1 + len(i.by_street) + len(i.by_community) for i in warm.items)
    print(f"wave {warm.wave_code}: {warm.n} eligible responses, {len(warm.items)} indicators "
          f"and scores, {cells} estimates (+ comparisons, ranks, shares)")
    rows = table.count('"indicator"')
    print(f"cold wave_results (answers read from the database): {t_cold:7.2f} s  (baseline)")
    print(f"warm wave_results (snapshot of the wave, full report): {t_warm:7.2f} s  "
          f"ratio {t_cold / t_warm:5.1f}x faster")
    print(f"all indicators x all streets (estimate_survey --by street, {rows} rows): "
          f"{t_streets:7.2f} s  ratio {t_cold / t_streets:5.1f}x faster; target < "
          f"{TARGET_SECONDS:.0f} s: {'met' if t_streets < TARGET_SECONDS else 'NOT met'}")
    print("(measured on a shared 2-core machine under load)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
