"""Database binding: SQLAlchemy and Flask-Migrate, and SQLite settings that keep data safe."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

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


def init_app(app: Flask) -> None:
    db.init_app(app)
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
