"""A web request's transaction on PostgreSQL begins at its first write (surveyapp/database.py).

A request that only reads sends no BEGIN and no COMMIT (each a round trip of ~0.2 ms of the
application's CPU with psycopg 3); a request that writes runs every write, from the first one
on, in one transaction that commits or rolls back as a whole. The officials' audit row of a
download is the request's only write and runs alone (``one_statement_write``). The commands
psycopg sends (BEGIN, COMMIT, ROLLBACK) are counted on the driver itself.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text, update

from surveyapp.database import one_statement_write
from surveyapp.extensions import db
from surveyapp.models import AuditEvent, User

from .conftest import PG_URL

postgres_only = pytest.mark.skipif(not PG_URL, reason="PostgreSQL only (scripts/with-postgres)")
WAVE = "2026-Q4"


@pytest.fixture
def commands(monkeypatch):
    """The transaction commands psycopg sends to the server, in order."""
    import psycopg

    sent: list[str] = []
    original = psycopg.Connection._exec_command

    def record(self, command, *args, **kwargs):
        text_ = command if isinstance(command, bytes) else command.as_string(self).encode()
        sent.append(text_.decode().split()[0])
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "_exec_command", record)
    return sent


class Statements:
    """The statements a request runs, with whether psycopg ran each in autocommit (registered
    after the application's own listener, so it sees the state the statement runs in)."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.seen: list[tuple[str, bool]] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        autocommit = getattr(cursor.connection, "autocommit", False)
        self.seen.append((statement.split()[0].upper(), bool(autocommit)))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self)


def _engine(app):
    with app.app_context():
        return db.engine


@postgres_only
def test_requests_that_only_read_send_no_begin_and_no_commit(demo, client, auth, commands):
    assert auth.login("enumerator", "enumerator-demo-2026").status_code == 302
    for url in ("/offline/", "/api/v1/assignments", "/offline/"):
        client.get(url)  # warm
        commands.clear()
        response = client.get(url)
        assert response.status_code == 200, url
        assert commands == [], (url, commands)


@postgres_only
def test_the_officials_download_writes_its_audit_row_alone(demo, client, auth, commands):
    assert auth.login("official", "official-demo-2026").status_code == 302
    url = f"/officials/surveys/1/waves/{WAVE}/estimates.csv"
    assert client.get(url).status_code == 200  # computes and caches the estimates
    with Statements(_engine(demo)) as statements:
        commands.clear()
        assert client.get(url).status_code == 200
    assert commands == []
    assert statements.seen[-1] == ("INSERT", True)  # the audit row, in autocommit
    assert [s for s in statements.seen if s[0] != "SELECT" and s[0] != "WITH"] == [("INSERT", True)]
    with demo.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-2:] == ["export", "export"]


@postgres_only
def test_a_request_that_writes_runs_every_write_in_one_transaction(demo, client, auth, commands):
    """The login writes (the session, the throttle, the audit log): BEGIN before its first
    write, one COMMIT; no write runs in autocommit."""
    with Statements(_engine(demo)) as statements:
        assert auth.login("manager", "manager-demo-2026").status_code == 302
    writes = [s for s in statements.seen if s[0] not in ("SELECT", "WITH")]
    assert writes and all(not autocommit for _, autocommit in writes), statements.seen
    assert commands.count("BEGIN") == commands.count("COMMIT") >= 1
    assert "ROLLBACK" not in commands


def _name(app) -> str:
    with app.app_context():
        return db.session.scalar(select(User.display_name).where(User.username == "official"))


def test_writes_after_reads_roll_back_as_a_whole(demo):
    """In a request: reads (no transaction on PostgreSQL), then two writes of which the
    second fails; the first is rolled back with it."""
    before = _name(demo)
    with demo.test_request_context("/"):
        db.session.scalar(select(User).where(User.username == "official"))
        db.session.execute(
            update(User).where(User.username == "official").values(display_name="changed")
        )
        with pytest.raises(Exception, match="(?i)unique|duplicate"):
            db.session.execute(
                update(User).where(User.username == "official").values(username="manager")
            )
        db.session.rollback()
        db.session.scalar(select(User.id))  # the request goes on reading
    assert _name(demo) == before


def test_a_request_left_uncommitted_is_rolled_back(demo):
    """Writes a request did not commit are discarded at its end, whatever statement came
    first (on PostgreSQL the transaction begins at the first write)."""
    before = _name(demo)
    for first_read in (True, False):
        with demo.test_request_context("/"):
            if first_read:
                db.session.scalar(select(User).where(User.username == "official"))
            db.session.execute(
                text("UPDATE user_account SET display_name = 'x' WHERE username = 'official'")
            )
            db.session.scalar(select(User.id))
        assert _name(demo) == before


def test_one_statement_write_refuses_a_second_write(demo):
    with demo.test_request_context("/"):
        db.session.scalar(select(User.id))
        connection = db.session.connection()
        if PG_URL:
            with pytest.raises(RuntimeError, match="second write"):
                with one_statement_write(connection):
                    connection.execute(text("UPDATE user_account SET display_name = display_name"))
                    connection.execute(text("UPDATE user_account SET display_name = display_name"))
        else:  # no effect on SQLite: one transaction, as always
            with one_statement_write(connection):
                connection.execute(text("UPDATE user_account SET display_name = display_name"))
                connection.execute(text("UPDATE user_account SET display_name = display_name"))
        db.session.rollback()


@postgres_only
def test_one_statement_write_after_another_write_stays_in_the_transaction(demo, commands):
    before = _name(demo)
    commands.clear()
    with demo.test_request_context("/"):
        db.session.execute(
            update(User).where(User.username == "official").values(display_name="changed")
        )
        connection = db.session.connection()
        with one_statement_write(connection):
            connection.execute(text("UPDATE user_account SET display_name = display_name"))
        db.session.rollback()
    assert commands[:2] == ["BEGIN", "ROLLBACK"]
    assert _name(demo) == before


@postgres_only
def test_a_lock_opens_the_transaction(demo, commands):
    """SELECT … FOR UPDATE holds its lock until the transaction ends: it begins one."""
    with demo.test_request_context("/"):
        db.session.scalar(select(User.id).where(User.username == "official"))
        assert commands == []
        db.session.scalar(select(User.id).where(User.username == "official").with_for_update())
        assert commands == ["BEGIN"]
        db.session.rollback()


@postgres_only
def test_connections_leave_requests_with_transactions_as_before(demo, client, auth):
    """After a request, the pooled connection is no longer in autocommit (commands and jobs
    get transactions as always), and an isolation level chosen through SQLAlchemy is kept."""
    assert auth.login("official", "official-demo-2026").status_code == 302
    assert client.get("/officials/").status_code == 200
    engine = _engine(demo)
    with demo.app_context():
        with engine.connect() as connection:
            assert connection.connection.dbapi_connection.autocommit is False
            connection.execute(text("SELECT 1"))
            assert connection.connection.dbapi_connection.info.transaction_status != 0
        with demo.test_request_context("/"):
            with engine.connect() as connection:
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
                connection.execute(text("SELECT 1"))
                assert connection.connection.dbapi_connection.autocommit is False
                level = connection.execute(text("SHOW transaction_isolation")).scalar_one()
                assert level == "repeatable read"


@postgres_only
def test_the_description_of_a_result_is_psycopgs_made_when_read(demo):
    """The cursors describe their results as psycopg's own do, and a description read after
    the cursor moved on still describes its own result."""
    import psycopg

    from surveyapp.database import LazyDescription

    query = "SELECT 1 AS a, 'x'::varchar(5) AS b, now() AS c"
    with demo.app_context():
        dbapi = db.session.connection().connection.dbapi_connection
        cursor = dbapi.cursor()
        cursor.execute(query)
        first = cursor.description
        assert isinstance(first, LazyDescription) and len(first) == 3
        cursor.execute("SELECT 2 AS z")
        assert [c.name for c in cursor.description] == ["z"]
        with psycopg.Cursor(dbapi) as plain:
            plain.execute(query)
            expected = plain.description
        assert [tuple(c) for c in first] == [tuple(c) for c in expected]
        assert first[1].type_display == expected[1].type_display == "varchar(5)"
        cursor.execute("UPDATE user_account SET display_name = display_name WHERE false")
        assert cursor.description is None
        cursor.close()
        db.session.rollback()
