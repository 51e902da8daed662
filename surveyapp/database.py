"""Database binding: SQLAlchemy and Flask-Migrate, and SQLite settings that keep data safe."""

from __future__ import annotations

import contextlib
import math
import os
import select
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from flask import Flask, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from .extensions import db, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


#: ``synchronous`` levels one may choose with SURVEYAPP_SQLITE_SYNCHRONOUS.
SYNCHRONOUS_LEVELS = ("FULL", "NORMAL", "EXTRA")
_SYNCHRONOUS_PRAGMAS = {
    "FULL": "PRAGMA synchronous=FULL",
    "NORMAL": "PRAGMA synchronous=NORMAL",
    "EXTRA": "PRAGMA synchronous=EXTRA",
}


def sqlite_synchronous() -> str:
    """The SQLite ``synchronous`` level: FULL unless SURVEYAPP_SQLITE_SYNCHRONOUS says otherwise.

    FULL (the default) syncs the WAL to disk at every commit, so an interview the sync API has
    acknowledged survives a power cut (the tablet deletes its copy on the acknowledgement).
    NORMAL with WAL keeps the database consistent and survives a crash of the application, but
    the last commits before a power cut or OS crash may be lost; it saves one fsync per commit.
    """
    level = os.environ.get("SURVEYAPP_SQLITE_SYNCHRONOUS", "FULL").strip().upper() or "FULL"
    if level not in SYNCHRONOUS_LEVELS:
        raise ValueError(
            f"SURVEYAPP_SQLITE_SYNCHRONOUS must be one of "
            f"{', '.join(SYNCHRONOUS_LEVELS)}, not '{level}'"
        )
    return level


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # noqa: ARG001
    # Foreign keys are off by default in SQLite; WAL lets readers work during a write.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(_SYNCHRONOUS_PRAGMAS[sqlite_synchronous()])
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
        add_math_functions(dbapi_connection)


def _math(function: Callable[..., float]) -> Callable[..., float | None]:
    """``function`` as SQLite's own maths functions behave: NULL in, NULL out; NULL outside
    its domain (``sqrt(-1)``, ``asin(2)``) instead of an error."""

    def call(*args):
        if any(a is None for a in args):
            return None
        try:
            return function(*(float(a) for a in args))
        except (ValueError, OverflowError, TypeError):
            return None

    return call


#: The maths functions queries use (the dashboard's distance of an interview from its area),
#: for a SQLite built without SQLITE_ENABLE_MATH_FUNCTIONS (Debian's has them; some Python
#: builds bundle one without).
MATH_FUNCTIONS: dict[str, tuple[int, Callable[..., float]]] = {
    "sin": (1, math.sin),
    "cos": (1, math.cos),
    "asin": (1, math.asin),
    "acos": (1, math.acos),
    "sqrt": (1, math.sqrt),
    "radians": (1, math.radians),
    "degrees": (1, math.degrees),
    "atan2": (2, math.atan2),
    "power": (2, math.pow),
}


def add_math_functions(connection, force: bool = False) -> bool:
    """Give a SQLite connection the maths functions it lacks; True if they were added."""
    if not force:
        try:
            connection.execute("SELECT sin(0), sqrt(4), radians(180), asin(1)").fetchone()
            return False
        except sqlite3.OperationalError:
            pass
    for name, (arity, function) in MATH_FUNCTIONS.items():
        connection.create_function(name, arity, _math(function), deterministic=True)
    return True


def commit_keeping_state() -> None:
    """Commit the request's session without expiring the objects it loaded.

    For writes whose rows the session already holds as written (a batch's new responses, their
    ids back from the INSERT) or that touched no loaded object (an audit row): reading every
    loaded locality, wave and survey again after the commit would only cost time.
    """
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


_write_locks: dict[str, tuple[threading.Lock, int, int]] = {}
_write_locks_guard = threading.Lock()


@contextlib.contextmanager
def sqlite_write_lock() -> Iterator[None]:
    """Hold the writers' queue of the SQLite database file while a write transaction runs.

    SQLite lets one writer in at a time; the others wait in its busy handler, which polls with
    sleeps of 1, 2, 5, 10 … 100 ms, so under many concurrent writers the lock is often free
    while everyone sleeps. Writers that take this lock first (an ``flock`` on a file next to the
    database, plus a thread lock within the process) queue instead and start the moment the
    previous one commits. It only orders writers; SQLite's own locking still guarantees
    correctness, for writers that do not use it too. Other databases: no-op.
    """
    engine = db.engine
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:" or path.startswith("file:"):
        yield
        return
    import fcntl

    lock_path = os.path.abspath(path) + "-writers.lock"
    with _write_locks_guard:
        if lock_path not in _write_locks or _write_locks[lock_path][2] != os.getpid():
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            _write_locks[lock_path] = (threading.Lock(), fd, os.getpid())
        thread_lock, fd, _pid = _write_locks[lock_path]
    with thread_lock:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


def pre_ping_needed(url: str) -> bool:
    """Whether the pool must test a connection with a round trip (``pool_pre_ping``) before
    lending it to a request.

    SQLite: no (a file cannot disconnect). psycopg 3: no, :func:`_drop_dead_connection` checks
    it without a round trip. Any other server driver: yes.
    """
    from sqlalchemy.engine import make_url

    drivername = make_url(url).drivername
    return not (drivername.startswith("sqlite") or drivername == "postgresql+psycopg")


def _drop_dead_connection(dbapi_connection, connection_record, connection_proxy) -> None:  # noqa: ARG001
    """Pessimistic disconnect handling for psycopg 3 without a round trip to the server.

    A connection at rest in the pool has nothing to read: the server only talks when asked.
    When PostgreSQL restarts (or ends the backend: pg_terminate_backend, idle timeouts), the
    backend sends its last message and closes the socket, which becomes readable. So a pooled
    connection whose socket is readable, closed or broken is dropped here, and the pool hands
    out a new connection (SQLAlchemy's checkout protocol: raising DisconnectionError), instead
    of the request failing on its first statement. This replaces ``pool_pre_ping``'s
    ``SELECT 1``, a round trip on every request (and at most a stray notice costs a reconnect).
    A server that vanishes without closing the socket (a cut cable) is not seen by either
    before the TCP timeout; a connection that dies while a request holds it fails that
    request, and SQLAlchemy then invalidates the pool (optimistic handling), as before.
    """
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None or type(dbapi_connection).__module__.split(".")[0] != "psycopg":
        return
    try:
        dead = dbapi_connection.closed or dbapi_connection.broken
        if not dead:
            dead = bool(select.select([pgconn.socket], [], [], 0)[0])
    except Exception:  # noqa: BLE001 - an unusable socket is a dead connection
        dead = True
    if dead:
        raise DisconnectionError("the database closed this pooled connection")


#: Set in a connection's ``info`` while its transaction has run anything but a SELECT.
_WROTE = "surveyapp_wrote"
#: Set in a connection's ``info`` while this module, not SQLAlchemy, owns its psycopg
#: ``autocommit`` (a web request's connection that opens its transaction at its first write).
_LAZY = "surveyapp_lazy_transaction"
#: Set in a connection's ``info`` inside :func:`one_statement_write`: True before its write,
#: False after it.
_ONE = "surveyapp_one_statement"


def _reads_only(context) -> bool:
    """Whether a statement SQLAlchemy compiled is a plain SELECT: no lock (``FOR UPDATE`` and
    the like), no DML. A textual or driver-level statement counts as a write."""
    compiled = getattr(context, "compiled", None)
    if compiled is None:
        return False
    statement = compiled.statement
    return bool(getattr(statement, "is_select", False)) and (
        getattr(statement, "_for_update_arg", None) is None
    )


def _lazy_transactions_possible(dbapi_connection) -> bool:
    """Whether a request's connection may read without a transaction: a web request, the
    server's READ COMMITTED level (where every statement of a transaction takes its own
    snapshot anyway) and no isolation level, read-only or deferrable mode chosen through
    SQLAlchemy's execution options (services/backup.py reads in REPEATABLE READ)."""
    from psycopg import IsolationLevel

    return (
        has_request_context()
        and not dbapi_connection.autocommit
        and dbapi_connection.isolation_level in (None, IsolationLevel.READ_COMMITTED)
        and dbapi_connection.read_only is None
        and dbapi_connection.deferrable is None
        and dbapi_connection.pgconn.transaction_status == 0  # IDLE
    )


def _transaction_begins(conn) -> None:
    """A SQLAlchemy transaction begins on a psycopg connection: in a web request, without
    BEGIN (the connection in autocommit) until its first write (:func:`_note_writes`)."""
    info = conn.info
    info[_WROTE] = False
    dbapi_connection = conn.connection.dbapi_connection
    if info.get(_LAZY) or _lazy_transactions_possible(dbapi_connection):
        # A transaction that began lazily and wrote ended with COMMIT or ROLLBACK: idle again.
        if not dbapi_connection.autocommit:
            dbapi_connection.autocommit = True
        info[_LAZY] = True


def _note_writes(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ARG001
    if _reads_only(context):
        return
    info = conn.info
    info[_WROTE] = True  # DML, DDL, a lock, a textual or driver-level statement: a write
    if info.get(_LAZY) and cursor.connection.autocommit:
        one = info.get(_ONE)
        if one is None:
            # The transaction's first write: psycopg sends BEGIN before it, and every later
            # statement of the transaction runs in it, up to its COMMIT or ROLLBACK.
            cursor.connection.autocommit = False
        elif one:
            info[_ONE] = False  # the declared single statement: alone, atomic by itself
        else:
            raise RuntimeError(
                "one_statement_write(): a second write; the first one is already committed"
            )


def _end_lazy_transaction(dbapi_connection, connection_record) -> None:
    """On the way back to the pool (after the pool's rollback, which sends nothing when no
    transaction is open): the connection starts its next transactions with BEGIN again, for
    whoever takes it (a command, a job)."""
    if connection_record is not None and connection_record.info.pop(_LAZY, False):
        connection_record.info.pop(_ONE, None)
        if dbapi_connection is not None and dbapi_connection.autocommit:
            try:
                dbapi_connection.autocommit = False
            except Exception:  # noqa: BLE001 - still in a transaction: the pool must drop it
                connection_record.invalidate()


@contextlib.contextmanager
def one_statement_write(connection) -> Iterator[None]:
    """Run the one write statement inside the block on its own, without BEGIN and COMMIT.

    For a request that only read and then writes one row it commits at once (the officials'
    audit INSERT of a download): on PostgreSQL the statement runs in autocommit, atomic by
    itself, which saves two round trips. Only when the transaction has written nothing yet
    and the session holds no pending change (else a transaction as always); a second write
    in the block raises RuntimeError (the first one is already committed, so this is a
    programming error to catch in tests). The caller commits the session after the block, as
    it would anyway. SQLite and other connections: no effect.
    """
    info = connection.info
    session = db.session()
    use = (
        info.get(_LAZY)
        and not info.get(_WROTE, True)
        and not (session.new or session.dirty or session.deleted)
    )
    if not use:
        yield
        return
    info[_ONE] = True
    try:
        yield
    finally:
        info.pop(_ONE, None)


def _end_reading_transaction(exc: BaseException | None) -> None:
    """End a request's transaction that only read with COMMIT rather than ROLLBACK.

    The two are the same for a transaction that wrote nothing, but psycopg 3 forgets its
    prepared statements at every ROLLBACK (and then sends DEALLOCATE ALL): since most requests
    only read and Flask-SQLAlchemy ends them with a rollback, no statement stayed prepared and
    PostgreSQL parsed and planned every statement of every request. Committed only when the
    request raised nothing, the session holds no pending change and every statement the
    transaction ran through SQLAlchemy was a SELECT (anything else, or an unknown connection:
    the rollback as before). Writing through a raw DBAPI cursor is not seen here: such code
    commits or rolls back itself. Runs before Flask-SQLAlchemy's ``session.remove()``.
    A web request's reading transaction sent no BEGIN (:func:`_transaction_begins`): nothing
    to end, the rollback of ``session.remove()`` sends nothing either.
    """
    if exc is not None or not db.session.registry.has():
        return
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    # Without expiring the instances, as the rollback in session.close() leaves them: objects
    # loaded here and used after the request (detached) keep their attributes.
    expire = session.expire_on_commit
    try:
        connection = session.connection()
        if connection.info.get(_LAZY) and connection.connection.dbapi_connection.autocommit:
            return
        if not connection.info.get(_WROTE, True):
            session.expire_on_commit = False
            session.commit()
    except Exception:  # noqa: BLE001 - session.remove() (next) rolls back whatever is left
        return
    finally:
        session.expire_on_commit = expire


class _DescribedResult:
    """What psycopg's ``Column`` reads from a cursor, kept for one result."""

    __slots__ = ("pgresult", "_encoding", "adapters")

    def __init__(self, pgresult, encoding: str, adapters) -> None:
        self.pgresult = pgresult
        self._encoding = encoding
        self.adapters = adapters


class LazyDescription(Sequence):
    """A psycopg cursor's ``description`` whose ``Column`` objects are made when first read.

    psycopg builds the list anew at every access (a ``Column`` per column: its name decoded,
    its type looked up: 8 µs for 12 columns), and SQLAlchemy reads it after every statement
    that returns rows, but only uses it the first time a compiled statement runs: later runs
    take the result's columns from the compiled statement's cache and only check that a
    description exists. Same length, items and ``None`` when no rows, as psycopg's list.
    """

    __slots__ = ("_source", "_columns")

    def __init__(self, source: _DescribedResult) -> None:
        self._source = source
        self._columns: list | None = None

    def _built(self) -> list:
        if self._columns is None:
            from psycopg import Column

            source = self._source
            self._columns = [Column(source, i) for i in range(source.pgresult.nfields)]
        return self._columns

    def __len__(self) -> int:
        return self._source.pgresult.nfields

    def __getitem__(self, index):
        return self._built()[index]

    def __iter__(self):
        return iter(self._built())

    def __repr__(self) -> str:
        return repr(self._built())


def _lazy_description_cursor() -> type:
    """psycopg's client cursor with a :class:`LazyDescription`, made once."""
    global _LazyCursor
    if _LazyCursor is None:
        import psycopg
        from psycopg import pq

        rows = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.SINGLE_TUPLE, pq.ExecStatus.TUPLES_CHUNK)

        class Cursor(psycopg.Cursor):
            __slots__ = ()
            __module__ = __name__

            @property
            def description(self):
                result = self.pgresult
                if result and (result.nfields or result.status in rows):
                    return LazyDescription(_DescribedResult(result, self._encoding, self.adapters))
                return None

        _LazyCursor = Cursor
    return _LazyCursor


_LazyCursor: type | None = None


def _psycopg_connects(dbapi_connection, connection_record) -> None:  # noqa: ARG001
    import psycopg

    if dbapi_connection.cursor_factory is psycopg.Cursor:  # not one chosen in connect_args
        dbapi_connection.cursor_factory = _lazy_description_cursor()


def init_app(app: Flask) -> None:
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("pool_pre_ping", pre_ping_needed(app.config["SQLALCHEMY_DATABASE_URI"]))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    with app.app_context():
        psycopg = [e for e in db.engines.values() if e.dialect.driver == "psycopg"]
    for engine in psycopg:
        if not options["pool_pre_ping"]:
            event.listen(engine, "checkout", _drop_dead_connection)
        event.listen(engine, "begin", _transaction_begins)
        event.listen(engine, "before_cursor_execute", _note_writes)
        event.listen(engine, "checkin", _end_lazy_transaction)
        event.listen(engine, "connect", _psycopg_connects)
    if psycopg:
        app.teardown_appcontext(_end_reading_transaction)  # runs before the session's removal
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)
    from . import models  # noqa: F401  (registers the tables with the metadata)


def out_of_range(error: Exception) -> bool:
    """Whether ``error`` is an integer too large for the database (SQLite's driver raises
    OverflowError; PostgreSQL answers "value out of range", a DataError): bad input, not a
    server fault."""
    from sqlalchemy.exc import DataError, StatementError

    if isinstance(error, OverflowError | DataError):
        return True
    return isinstance(error, StatementError) and isinstance(error.orig, OverflowError)
