"""Database binding: SQLAlchemy and Flask-Migrate, and SQLite settings that keep data safe."""

from __future__ import annotations

import os
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
        raise ValueError(f"SURVEYAPP_SQLITE_SYNCHRONOUS must be one of "
                         f"{', '.join(SYNCHRONOUS_LEVELS)}, not '{level}'")
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


def init_app(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)
    from . import models  # noqa: F401  (registers the tables with the metadata)
