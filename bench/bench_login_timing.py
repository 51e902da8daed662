"""Wrong-password logins for known and unknown user names take the same time.

Creates 21 accounts on a fresh SQLite database, then sends alternately a wrong password for a
known name and for an unknown one (each name once, each from its own address, so no throttle
interferes), and prints the median, minimum and maximum time of each kind and their ratio. An
unknown name costs one password hash like a known one (surveyapp/services/login.py); before
that change the review measured 0.04 s against 0.36 s.

Usage: .venv/bin/python bench/bench_login_timing.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    os.environ["SURVEYAPP_INSTANCE_PATH"] = tempfile.mkdtemp()
    from flask_migrate import upgrade

    from surveyapp import create_app
    from surveyapp.services.users import create_user

    path = os.path.join(tempfile.mkdtemp(), "bench.sqlite")
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench"}
    app = create_app({**config, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
        for i in range(args.rounds + 1):
            create_user(f"user{i}", "enumerator", "Kestrel-Harbour-42")

    def attempt(name: str, i: int) -> float:
        client = app.test_client()
        start = time.perf_counter()
        response = client.post(
            "/auth/login",
            data={"username": name, "password": "wrong"},
            environ_base={"REMOTE_ADDR": f"10.9.{i}.1"},
        )
        elapsed = time.perf_counter() - start
        assert response.status_code == 401, response.status_code
        return elapsed

    attempt(f"user{args.rounds}", 250)  # warm up
    attempt("nobody-warm", 251)
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(args.rounds):
        times["known"].append(attempt(f"user{i}", i))
        times["unknown"].append(attempt(f"nobody{i}", i))
    for kind, values in times.items():
        print(
            f"{kind:8} median {statistics.median(values) * 1000:6.1f} ms  "
            f"min {min(values) * 1000:6.1f}  max {max(values) * 1000:6.1f}"
        )
    ratio = statistics.median(times["unknown"]) / statistics.median(times["known"])
    print(f"unknown / known (medians): {ratio:.2f}")


if __name__ == "__main__":
    main()
