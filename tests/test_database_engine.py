"""How the application's connections to the database are checked (surveyapp/database.py).

On PostgreSQL through psycopg 3 no request pays a ``SELECT 1`` round trip before its first
statement (SQLAlchemy's ``pool_pre_ping``); instead a pooled connection whose socket the server
has closed (a restart, pg_terminate_backend) is replaced before the request uses it, so users
never see the error. Checked against the test server (backends ended by the server) and against
a private server restarted with pg_ctl.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from surveyapp import create_app
from surveyapp.database import pre_ping_needed
from surveyapp.extensions import db

from .conftest import PG_URL, _config


def test_only_drivers_without_a_cheaper_check_ping_the_database(tmp_path, monkeypatch):
    assert not pre_ping_needed("sqlite:////tmp/x.sqlite")
    assert not pre_ping_needed("postgresql+psycopg://surveyapp@/surveyapp?host=/tmp")
    assert pre_ping_needed("postgresql+psycopg2://surveyapp@db/surveyapp")
    assert pre_ping_needed("postgresql://surveyapp@db/surveyapp")  # psycopg2, SQLAlchemy's default
    assert pre_ping_needed("mysql+pymysql://surveyapp@db/surveyapp")
    monkeypatch.setenv("SURVEYAPP_INSTANCE_PATH", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    assert create_app(_config(url)).config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False
    # An explicit setting is kept.
    explicit = {**_config(url), "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}}
    assert create_app(explicit).config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


def _backend_pid() -> int:
    return db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only (scripts/with-postgres)")
def test_a_connection_the_server_ended_is_replaced_without_a_ping(demo, client, auth, monkeypatch):
    pings = []
    with demo.app_context():
        engine = db.engine
        ping = engine.dialect.do_ping
        monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or ping(conn))
        first = _backend_pid()
        db.session.remove()
    auth.login("official", "official-demo-2026")
    assert client.get("/officials/").status_code == 200
    import psycopg

    # Another client ends the backend, as a restart or an administrator would.
    with psycopg.connect(engine.url.set(drivername="postgresql").render_as_string(False)) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (first,))
        for _ in range(100):  # the backend ends asynchronously
            alive = other.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (first,)
            ).fetchone()[0]
            if not alive:
                break
            time.sleep(0.05)
    # The next request gets a new connection, not a 500.
    response = client.get("/officials/")
    assert response.status_code == 200, response.status_code
    with demo.app_context():
        assert _backend_pid() != first
        db.session.remove()
    assert pings == []  # no SELECT 1 before a request's statements


_VERSIONS = [p for p in glob.glob("/usr/lib/postgresql/*/bin") if p.split("/")[-2].isdigit()]
PGBIN = max(_VERSIONS, key=lambda p: int(p.split("/")[-2]), default="")


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.getuid() == 0 else args


@pytest.mark.slow
@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists(f"{PGBIN}/pg_ctl"), reason="PostgreSQL is not installed")
def test_after_a_postgresql_restart_every_pooled_connection_is_replaced(tmp_path, monkeypatch):
    """A real restart (pg_ctl restart, fast shutdown) of a private server while the pool holds
    three connections: the next three sessions all work, none reports an error."""
    # Not below tmp_path: the server's user must reach it, and a socket path is short.
    folder = Path(tempfile.mkdtemp(prefix="surveyapp-restart-test."))
    if os.getuid() == 0:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    port = 20000 + os.getpid() % 20000
    subprocess.run(
        _as_postgres([f"{PGBIN}/initdb", "-D", str(data), "-A", "trust", "-U", "surveyapp"]),
        check=True,
        capture_output=True,
    )
    options = f"-k {folder} -p {port} -c listen_addresses='' -c fsync=off"
    pg_ctl = [f"{PGBIN}/pg_ctl", "-D", str(data), "-l", str(folder / "log"), "-w", "-o", options]
    subprocess.run(_as_postgres([*pg_ctl, "start"]), check=True, capture_output=True)
    try:
        monkeypatch.setenv("SURVEYAPP_INSTANCE_PATH", str(tmp_path / "instance"))
        url = f"postgresql+psycopg://surveyapp@/postgres?host={folder}&port={port}"
        app = create_app(_config(url))
        with app.app_context():
            engine = db.engine
            held = [engine.connect() for _ in range(3)]
            before = {c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in held}
            for c in held:
                c.close()  # back to the pool
            assert engine.pool.checkedin() == 3
            subprocess.run(
                _as_postgres([*pg_ctl, "-m", "fast", "restart"]), check=True, capture_output=True
            )
            held = [engine.connect() for _ in range(3)]
            after = {c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in held}
            for c in held:
                c.close()
            assert not before & after
            engine.dispose()
    finally:
        subprocess.run(_as_postgres([*pg_ctl[:3], "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only (scripts/with-postgres)")
def test_read_only_requests_keep_the_statements_psycopg_prepared(demo, client, auth):
    """psycopg prepares a statement run five times on a connection, and forgets them all at a
    ROLLBACK: requests that only read end with COMMIT, so their statements stay prepared."""
    auth.login("official", "official-demo-2026")
    for _ in range(8):
        assert client.get("/officials/").status_code == 200
    with demo.app_context():
        prepared = db.session.execute(text("SELECT count(*) FROM pg_prepared_statements"))
        assert prepared.scalar_one() > 0


def _name(app) -> str:
    from sqlalchemy import select

    from surveyapp.models import User

    with app.app_context():
        return db.session.scalar(select(User.display_name).where(User.username == "official"))


def test_changes_left_uncommitted_are_still_rolled_back(demo):
    """Whatever way a request wrote without committing, its end discards it (only a
    transaction that ran nothing but SELECTs is committed)."""
    from sqlalchemy import select, update

    from surveyapp.models import User

    before = _name(demo)
    official = select(User).where(User.username == "official")
    writes = {
        "flushed": lambda: (
            setattr(db.session.scalar(official), "display_name", "x") or db.session.flush()
        ),
        "pending": lambda: setattr(db.session.scalar(official), "display_name", "x"),
        "ORM statement": lambda: db.session.execute(
            update(User).where(User.username == "official").values(display_name="x")
        ),
        "text": lambda: db.session.execute(
            text("UPDATE user_account SET display_name = 'x' WHERE username = 'official'")
        ),
        "Core on the connection": lambda: db.session.connection().execute(
            update(User.__table__).where(User.username == "official").values(display_name="x")
        ),
    }
    for how, write in writes.items():
        with demo.app_context():
            db.session.scalar(official)  # a SELECT first, as a request would
            write()
            db.session.scalar(select(User.id))  # and another after the write
        assert _name(demo) == before, how
