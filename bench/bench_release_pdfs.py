"""Officials right after a release: every street's PDF downloaded, with and without preparation.

Builds once a SQLite database with the demo (``--responses``, 3,000 by default; kept in the
temporary directory), then for each mode, with an empty report cache, no wave snapshot and the
in-memory caches cleared (what a server sees for a wave it never reported on):

- ``on demand`` (the baseline, ``PREPARE_REPORTS`` off: the behaviour before issue 20): the
  manager releases wave 2026-Q4 through the web page, then the district official downloads
  every street's PDF, one after another, as the officials' portal links them;
- ``prepared`` (``PREPARE_REPORTS`` on, the default ``thread`` job backend): the same release,
  the preparation job runs in the background (its time is printed), then the same downloads.

Each download is timed from request to last byte through Flask's test client (in process, no
HTTP: the server's own time). Prints p50, p95, max and the first download of each mode and the
ratio; target (issue 20): a released wave's street PDF in at most 1 s, p95.

Usage: .venv/bin/python bench/bench_release_pdfs.py [--responses 3000] [--rebuild]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_P95 = 1.0
WAVE = "2026-Q4"


def build(path: Path, responses: int) -> None:
    from flask_migrate import upgrade

    from surveyapp import create_app
    from surveyapp.services.demo import load_demo

    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}", "PREPARE_REPORTS": False})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        load_demo(responses=responses, seed=20260901)
        from surveyapp.extensions import db

        db.session.remove()
        db.engine.dispose()
    tmp.rename(path)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (of 13 streets, p95 is the slowest download)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def scenario(database: Path, prepare: bool, work: Path) -> dict:
    from sqlalchemy import select

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import Survey, Wave
    from surveyapp.services import wave_design, wave_snapshot
    from surveyapp.services.reports import survey_streets

    copy = work / f"db-{int(prepare)}.sqlite"
    shutil.copy(database, copy)
    wave_snapshot._SNAPSHOTS.clear()
    wave_design.DESIGN_CACHE.clear()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{copy}",
            "REPORT_CACHE_DIR": str(work / f"cache-{int(prepare)}"),
            "SURVEYAPP_SNAPSHOT_DIR": str(work / f"snapshots-{int(prepare)}"),
            "WTF_CSRF_ENABLED": False,
            "PREPARE_REPORTS": prepare,
            "JOB_BACKEND": "thread",
        }
    )
    with app.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == WAVE))
        wave.released_at = None
        wave.released_by = None
        db.session.commit()
        wave_id, survey_id = wave.id, wave.survey_id
        streets = [s.code for s in survey_streets(db.session.get(Survey, survey_id))]
        db.session.remove()

    manager = app.test_client()
    manager.post("/auth/login", data={"username": "manager", "password": "manager-demo-2026"})
    before = set(threading.enumerate())
    start = time.perf_counter()
    response = manager.post(f"/manage/waves/{wave_id}/release")
    release = time.perf_counter() - start
    assert response.status_code == 302, response.status_code
    preparation = None
    jobs = [t for t in threading.enumerate() if t not in before and t.name.startswith("prepare-")]
    for job in jobs:
        job.join()
    if jobs:
        preparation = time.perf_counter() - start

    official = app.test_client()
    official.post("/auth/login", data={"username": "official", "password": "official-demo-2026"})
    times = []
    for code in streets:
        start = time.perf_counter()
        response = official.get(f"/officials/surveys/{survey_id}/waves/{WAVE}/streets/{code}.pdf")
        data = response.get_data()  # the last byte
        times.append(time.perf_counter() - start)
        assert response.status_code == 200 and data.startswith(b"%PDF"), (code, response.status)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return {"release": release, "preparation": preparation, "times": times}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=3000)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    database = Path(tempfile.gettempdir()) / f"surveyapp_bench_release_{args.responses}.sqlite"
    if args.rebuild or not database.exists():
        started = time.perf_counter()
        build(database, args.responses)
        print(f"built {database} (demo, {args.responses} responses) in "
              f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    with tempfile.TemporaryDirectory(prefix="surveyapp-release-") as tmp:
        results = {
            "on demand (baseline)": scenario(database, False, Path(tmp)),
            "prepared at release": scenario(database, True, Path(tmp)),
        }
    print(f"{'':22} {'release':>8} {'prepare':>8} {'first':>7} {'p50':>7} {'p95':>7} {'max':>7}")
    for label, r in results.items():
        t = r["times"]
        prep = "-" if r["preparation"] is None else f"{r['preparation']:.2f}s"
        print(
            f"{label:22} {r['release']:7.2f}s {prep:>8} {t[0]:6.2f}s "
            f"{statistics.median(t):6.3f}s {percentile(t, 0.95):6.3f}s {max(t):6.3f}s"
        )
    base = percentile(results["on demand (baseline)"]["times"], 0.95)
    p95 = percentile(results["prepared at release"]["times"], 0.95)
    verdict = "met" if p95 <= TARGET_P95 else "missed"
    print(f"street PDF p95 after release: {p95:.3f} s prepared against {base:.3f} s on demand "
          f"({base / p95:.0f}x); target <= {TARGET_P95} s {verdict}")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
