"""The fixed CPU cost of a logged-in request, in process: a trivial page against the static file.

Every page of a logged-in user pays the same work before and after its view: the session
cookie read and checked, the user loaded and the session checked against the database
(revocation), the forced password change, the interface language, the security headers, the
session cookie written back. This script measures that work alone: it adds one trivial view
to the application (``/bench/logged-in``: a role check and one translated word, no template,
no query of its own), and a page that is only the layout every page extends (``base.html``:
the menu, about a dozen translated words), and times them with Flask's test client
(``time.process_time`` over ``--repeat`` requests, best of ``--rounds``) against the static
file without a session (``bench_pages.py``'s baseline) and with a logged-in user's cookie.

Usage: .venv/bin/python bench/bench_logged_in.py [--repeat 500] [--rounds 5] [--db URL]
       [--profile KIND] [--sql]
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "Kestrel-Harbour-42"


def build(url: str):
    from flask import render_template
    from flask_babel import gettext as _
    from sqlalchemy import text

    from surveyapp import create_app
    from surveyapp.auth import roles_required
    from surveyapp.extensions import db
    from surveyapp.services import users as user_service

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-logged-in", "WTF_CSRF_ENABLED": False}
    )

    @roles_required("enumerator", "manager", "admin", "official", "clerk")
    def logged_in_trivial():
        return _("Log out")

    layout_only = app.jinja_env.from_string('{% extends "base.html" %}')

    @roles_required("enumerator", "manager", "admin", "official", "clerk")
    def logged_in_menu():
        return render_template(layout_only)

    app.add_url_rule("/bench/logged-in", "bench_logged_in", logged_in_trivial)
    app.add_url_rule("/bench/logged-in-menu", "bench_logged_in_menu", logged_in_menu)
    with app.app_context():
        from flask_migrate import upgrade

        if url.startswith("postgresql"):
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        logging.disable(logging.INFO)  # alembic's progress lines
        upgrade()
        user_service.create_user("wang", "enumerator", PASSWORD)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    parser.add_argument("--profile", help="cProfile this kind and print the top functions")
    parser.add_argument("--sql", action="store_true", help="print the statements per request")
    args = parser.parse_args()

    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-logged-in-')) / 'db.sqlite'}"
    app = build(url)
    from sqlalchemy import event

    from surveyapp.extensions import db

    anonymous, user = app.test_client(), app.test_client()
    response = user.post("/auth/login", data={"username": "wang", "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    kinds = {
        "static": lambda: anonymous.get("/static/css/app.css"),
        "static, logged in": lambda: user.get("/static/css/app.css"),
        "logged-in trivial": lambda: user.get("/bench/logged-in"),
        "empty page (menu)": lambda: user.get("/bench/logged-in-menu"),
    }
    with app.app_context():
        engine = db.engine
    print(f"{'request':<20} {'CPU ms':>8} {'- static':>9} {'statements':>11} {'cookie':>7}")
    base = None
    counted: list[str] = []
    listener = lambda *a: counted.append(a[2])  # noqa: E731
    for name, call in kinds.items():
        for _ in range(3):
            response = call()
            assert response.status_code == 200, (name, response.status_code)
            response.close()
        counted.clear()
        event.listen(engine, "before_cursor_execute", listener)
        response = call()
        event.remove(engine, "before_cursor_execute", listener)
        cookie = "set" if "Set-Cookie" in response.headers else "-"
        response.close()
        best = None
        for _ in range(args.rounds):
            began = time.process_time()
            for _ in range(args.repeat):
                call().close()
            ms = 1000 * (time.process_time() - began) / args.repeat
            best = ms if best is None else min(best, ms)
        base = base or best
        print(
            f"{name:<20} {best:>8.3f} {best - base:>9.3f} {len(counted):>11} {cookie:>7}",
            flush=True,
        )
        if args.sql:
            for statement in counted:
                print("      " + " ".join(statement.split())[:150])
        if name == args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.repeat):
                call().close()
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(50)
            pstats.Stats(profile).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
