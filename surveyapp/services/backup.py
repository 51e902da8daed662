"""Backup and restore of the whole database as one portable file (SQLite and PostgreSQL alike).

The file is gzip-compressed JSON lines: a header (format, schema revision, table list), then
one line per row, tables in foreign-key order. Restoring needs an empty database at the same
schema revision (``surveyapp db upgrade`` first); it runs in one transaction, so a failed
restore leaves nothing behind.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.types import Date, DateTime, LargeBinary

from ..extensions import db

FORMAT = "surveyapp-backup/1"


class BackupError(Exception):
    """The backup cannot be written or restored; the message says why. Nothing was changed."""


def _revision() -> str | None:
    try:
        return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001  (no alembic table: not a migrated database)
        db.session.rollback()
        return None


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def _decoder(column) -> Callable[[Any], Any]:
    if isinstance(column.type, DateTime):
        return lambda v: None if v is None else dt.datetime.fromisoformat(v)
    if isinstance(column.type, Date):
        return lambda v: None if v is None else dt.date.fromisoformat(v)
    if isinstance(column.type, LargeBinary):
        return lambda v: None if v is None else base64.b64decode(v)
    return lambda v: v


def write_backup(path: Path, progress: Callable[[str], None] = lambda _m: None) -> dict[str, int]:
    """Write every table to ``path``; return the row count per table."""
    tables = db.metadata.sorted_tables
    counts: dict[str, int] = {}
    tmp = path.with_suffix(path.suffix + ".partial")
    try:
        with gzip.open(tmp, "wt", encoding="utf-8") as out:
            out.write(
                json.dumps(
                    {
                        "format": FORMAT,
                        "revision": _revision(),
                        "created": dt.datetime.utcnow().isoformat(),
                        "tables": [t.name for t in tables],
                    }
                )
                + "\n"
            )
            for table in tables:
                n = 0
                order = [c for c in table.primary_key.columns] or list(table.columns)
                for row in db.session.execute(select(table).order_by(*order)):
                    out.write(
                        json.dumps([table.name, [_encode(v) for v in row]], ensure_ascii=False)
                        + "\n"
                    )
                    n += 1
                counts[table.name] = n
                progress(f"{table.name}: {n} rows")
        tmp.replace(path)  # only a complete file takes the final name
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"{path}: cannot write the backup ({exc})") from exc
    return counts


def restore_backup(path: Path, progress: Callable[[str], None] = lambda _m: None) -> dict[str, int]:
    """Load ``path`` into the current, empty database; return the row count per table."""
    try:
        handle = gzip.open(path, "rt", encoding="utf-8")
        header = json.loads(handle.readline())
    except (OSError, EOFError, ValueError, gzip.BadGzipFile) as exc:
        raise BackupError(f"{path}: not a surveyapp backup ({exc})") from exc
    with handle:
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise BackupError(f"{path}: not a surveyapp backup (format {header!r})")
        revision = _revision()
        if header.get("revision") != revision:
            raise BackupError(
                f"{path}: made at schema revision {header.get('revision')}, the database is at "
                f"{revision}; run `surveyapp db upgrade` (or downgrade) to the same revision"
            )
        tables = {t.name: t for t in db.metadata.sorted_tables}
        for name in tables:
            if db.session.scalar(select(func.count()).select_from(tables[name])):
                raise BackupError(
                    f"the database is not empty (table {name} has rows); "
                    "restore into a new database"
                )
        decoders = {name: [_decoder(c) for c in t.columns] for name, t in tables.items()}
        names = {name: [c.name for c in t.columns] for name, t in tables.items()}
        counts: dict[str, int] = {name: 0 for name in tables}
        batch: dict[str, list[dict]] = {}
        order = list(tables)
        try:
            for number, line in enumerate(handle, start=2):
                try:
                    name, values = json.loads(line)
                    row = {
                        k: dec(v)
                        for k, dec, v in zip(names[name], decoders[name], values, strict=True)
                    }
                except (ValueError, KeyError, TypeError) as exc:
                    raise BackupError(f"{path}: line {number} is damaged ({exc})") from exc
                # Rows come in foreign-key order; flush earlier tables before a later one.
                for earlier in order[: order.index(name)]:
                    if batch.get(earlier):
                        db.session.execute(insert(tables[earlier]), batch.pop(earlier))
                batch.setdefault(name, []).append(row)
                counts[name] += 1
                if len(batch[name]) >= 1000:
                    db.session.execute(insert(tables[name]), batch.pop(name))
            for name in order:
                if batch.get(name):
                    db.session.execute(insert(tables[name]), batch.pop(name))
            _reset_sequences(tables)
            db.session.commit()
        except BackupError:
            db.session.rollback()
            raise
        except Exception as exc:
            db.session.rollback()
            raise BackupError(f"{path}: restore failed, nothing was changed ({exc})") from exc
    for name, n in counts.items():
        progress(f"{name}: {n} rows")
    return counts


def _reset_sequences(tables) -> None:
    """PostgreSQL keeps id sequences apart from the rows: move them past the restored ids."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in tables.values():
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and pk[0].autoincrement and pk[0].type.python_type is int:
            # Names go in as bound parameters and the maximum through the ORM: no SQL is
            # built from strings.
            following = (db.session.scalar(select(func.max(pk[0]))) or 0) + 1
            db.session.execute(
                text("SELECT setval(pg_get_serial_sequence(:table, :column), :value, false)"),
                {"table": table.name, "column": pk[0].name, "value": following},
            )
