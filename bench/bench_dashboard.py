"""The managers' dashboard figures (``GET /dashboard/waves/<id>/data.json``): CPU per request
in process, this checkout's ``fieldwork/dashboard.py`` against the one of another commit,
alternated round by round on the same database (so that the machine's load hits both alike).

A SQLite database with the demo (``--responses``), optionally grown as bench_pages.py's
``--enumerators`` does (N more enumerators with an assignment each, the wave's interviews
handed out among them); a manager logged in through the login form; ``--rounds`` rounds of
``--repeat`` requests of each implementation, each request with its own session (as under
gunicorn). Both implementations must send the same JSON (checked first).

Usage: .venv/bin/python bench/bench_dashboard.py [--against fa07d14] [--responses 1000]
       [--enumerators 0] [--repeat 5] [--rounds 6] [--db URL]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_load import setup  # noqa: E402
from bench_pages import grow  # noqa: E402

#: The last commit with the dashboard figures computed row by row in Python.
BEFORE = "fa07d14"


def _module_of(commit: str):
    """``surveyapp/fieldwork/dashboard.py`` as it was at ``commit``, imported as a sibling."""
    text = subprocess.run(
        ["git", "show", f"{commit}:surveyapp/fieldwork/dashboard.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="bench-dashboard-")) / "dashboard.py"
    path.write_text(text)
    name = "surveyapp.fieldwork._dashboard_" + commit
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", default=BEFORE, help="commit of the other implementation")
    parser.add_argument("--responses", type=int, default=1000)
    parser.add_argument("--enumerators", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    args = parser.parse_args()

    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-dash-')) / 'db.sqlite'}"
    setup(url, args.responses, 7)
    if args.enumerators:
        grow(url, args.enumerators)

    from sqlalchemy import func, select

    import surveyapp.web.dashboard as view
    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.fieldwork import dashboard as current
    from surveyapp.models import Assignment, Response, Wave

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-load", "WTF_CSRF_ENABLED": False}
    )
    with app.app_context():
        wave_id = db.session.scalar(select(Wave.id).where(Wave.code == "2026-Q4"))
        responses = db.session.scalar(
            select(func.count(Response.id)).where(Response.wave_id == wave_id)
        )
        assignments = db.session.scalar(
            select(func.count(Assignment.id)).where(Assignment.wave_id == wave_id)
        )
    client = app.test_client()
    login = {"username": "manager", "password": "manager-demo-2026"}
    assert client.post("/auth/login", data=login).status_code == 302
    url_path = f"/dashboard/waves/{wave_id}/data.json"
    kinds = {args.against: _module_of(args.against).dashboard_data, "this": current.dashboard_data}
    sent = {}
    for name, function in kinds.items():
        view.dashboard_data = function
        body = client.get(url_path).get_json()
        body.pop("generated_at")
        sent[name] = body
    assert sent[args.against] == sent["this"], "the two implementations send different figures"
    print(f"wave 2026-Q4: {responses} interviews, {assignments} assignments; same JSON")
    times: dict[str, list[float]] = {name: [] for name in kinds}
    for _ in range(args.rounds):
        for name, function in kinds.items():
            view.dashboard_data = function
            client.get(url_path).close()
            began = time.process_time()
            for _ in range(args.repeat):
                client.get(url_path).close()
            times[name].append(1000 * (time.process_time() - began) / args.repeat)
    for name, values in times.items():
        rounds = " ".join(f"{v:.1f}" for v in values)
        print(f"{name:>8}: median {statistics.median(values):6.1f} CPU ms per request ({rounds})")
    print("load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
