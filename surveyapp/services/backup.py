"""Backup and restore of the whole database as one portable file (SQLite and PostgreSQL alike).

The file is gzip-compressed JSON lines: a header (format, schema revision, table list), then
one line per row, tables in foreign-key order, all read from one snapshot of the database
(a backup of a live server is consistent), verified after writing and renamed into place
only then; the file is readable by its owner only (0600). Restoring needs an empty database
at the same schema revision (``surveyapp db upgrade`` first); it runs in one transaction, so
a failed restore leaves nothing behind.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import gzip
import io
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, inspect, select, text
from sqlalchemy.types import Date, DateTime, LargeBinary

from ..errors import N_, Text, UserError
from ..extensions import db

FORMAT = "surveyapp-backup/1"


class BackupError(UserError):
    """The backup cannot be written or restored; the message says why. Nothing was changed."""


def _revision(conn: Connection | None = None) -> str | None:
    if conn is not None:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
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


def backed_up_tables() -> list:
    """The tables a backup holds, in foreign-key order: all but those marked
    ``info={"backup": False}`` (state the database keeps itself, as ``change_stamp``)."""
    return [t for t in db.metadata.sorted_tables if t.info.get("backup", True)]


def write_backup(path: Path, progress: Callable[[str], None] = lambda _m: None) -> dict[str, int]:
    """Write every table to ``path`` from one snapshot, verify the file, then give it its name.

    All tables are read in one read-only transaction (:func:`_snapshot`), so interviews
    stored meanwhile are either wholly in the file or not at all. The file is written under a
    temporary name with mode 0600, synced to disk, read back (:func:`verify_backup`: every
    line parses, the row counts match, every foreign key points to a row of the file) and
    only then renamed over ``path``. Return the row count per table.
    """
    path = Path(path)
    tables = backed_up_tables()
    counts: dict[str, int] = {}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an older partial file keeps its mode otherwise
        with os.fdopen(fd, "wb") as raw:
            with (
                _snapshot() as conn,
                gzip.GzipFile(filename="", mode="wb", fileobj=raw) as packed,
                io.TextIOWrapper(packed, encoding="utf-8") as out,
            ):
                out.write(
                    json.dumps(
                        {
                            "format": FORMAT,
                            "revision": _revision(conn),
                            "created": dt.datetime.utcnow().isoformat(),
                            "tables": [t.name for t in tables],
                        }
                    )
                    + "\n"
                )
                for table in tables:
                    n = 0
                    order = [c for c in table.primary_key.columns] or list(table.columns)
                    for row in conn.execute(select(table).order_by(*order)):
                        out.write(
                            json.dumps([table.name, [_encode(v) for v in row]], ensure_ascii=False)
                            + "\n"
                        )
                        n += 1
                    counts[table.name] = n
                    progress(f"{table.name}: {n} rows")
            raw.flush()
            os.fsync(raw.fileno())
        verify_backup(tmp, counts)
        os.replace(tmp, path)  # only a complete, verified file takes the final name
        _fsync_directory(path.parent)
    except BackupError:
        tmp.unlink(missing_ok=True)
        raise
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(
            Text(N_("%(path)s: cannot write the backup (%(reason)s)"), path=path, reason=exc)
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return counts


@contextlib.contextmanager
def _snapshot() -> Iterator[Connection]:
    """A connection inside one read-only transaction that sees one state of the database.

    PostgreSQL: REPEATABLE READ READ ONLY (every statement sees the snapshot taken at the
    first one). SQLite: an explicit ``BEGIN`` on a connection the driver does not manage; in
    WAL mode the reads see the database as of the first read while writers go on.
    """
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin() as transaction:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield conn
                transaction.rollback()
        elif conn.dialect.name == "sqlite":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN")
            try:
                yield conn
            finally:
                conn.exec_driver_sql("ROLLBACK")
        else:  # pragma: no cover - the application runs on SQLite and PostgreSQL only
            raise BackupError(
                Text(
                    N_("backups of %(dialect)s databases are not supported"),
                    dialect=conn.dialect.name,
                )
            )


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot sync a directory; the file itself is synced
    finally:
        os.close(fd)


def _damaged(path: Path, number: int, exc: Exception) -> BackupError:
    """Line ``number`` of the backup at ``path`` cannot be read as a row (``exc``)."""
    return BackupError(
        Text(
            N_("%(path)s: line %(line)s is damaged (%(reason)s)"),
            path=path,
            line=number,
            reason=exc,
        )
    )


def verify_backup(path: Path, expected: dict[str, int] | None = None) -> dict[str, int]:
    """Read ``path`` back: every line parses, the counts are ``expected``, and every foreign
    key value of every row names a row in the file. Return the row count per table; raise
    :class:`BackupError` naming the first problem.

    Memory grows with the distinct key values that foreign keys use (ids of responses,
    localities, users …), not with the rows that refer to them (answers, paradata).
    """
    tables = {t.name: t for t in backed_up_tables()}
    position = {name: {c.name: i for i, c in enumerate(t.columns)} for name, t in tables.items()}
    # Per table: (column positions, set) pairs collecting the keys present in the file and the
    # values its rows refer to; checks: (table, fk columns, referenced table, referring, keys).
    collect: dict[str, list[tuple[tuple[int, ...], set, bool]]] = {n: [] for n in tables}
    keys: dict[tuple[str, tuple[str, ...]], set] = {}
    checks = []
    for name, table in tables.items():
        for fk in table.foreign_key_constraints:
            target = fk.referred_table.name
            columns = tuple(e.column.name for e in fk.elements)
            if (target, columns) not in keys:
                keys[target, columns] = set()
                at = tuple(position[target][c] for c in columns)
                collect[target].append((at, keys[target, columns], False))
            referring: set = set()
            at = tuple(position[name][c.name] for c in fk.columns)
            collect[name].append((at, referring, True))
            label = ", ".join(c.name for c in fk.columns)
            checks.append((name, label, target, referring, keys[target, columns]))

    counts = {name: 0 for name in tables}
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            header = json.loads(handle.readline())
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise BackupError(Text(N_("%(path)s: not a surveyapp backup"), path=path))
            for number, line in enumerate(handle, start=2):
                try:
                    name, values = json.loads(line)
                    counts[name] += 1
                    for at, found, nullable in collect[name]:
                        value = tuple(values[i] for i in at)
                        if not (nullable and None in value):
                            found.add(value)
                except (ValueError, KeyError, TypeError, IndexError) as exc:
                    raise _damaged(path, number, exc) from exc
    except (OSError, EOFError, ValueError, gzip.BadGzipFile) as exc:
        raise BackupError(
            Text(N_("%(path)s: the backup cannot be read back (%(reason)s)"), path=path, reason=exc)
        ) from exc
    if expected is not None and counts != expected:
        raise BackupError(
            Text(
                N_("%(path)s: read back %(read)s, written %(written)s"),
                path=path,
                read=counts,
                written=expected,
            )
        )
    for name, label, target, referring, present in checks:
        missing = referring - present
        if missing:
            raise BackupError(
                Text(
                    N_(
                        "%(path)s: %(n)s value(s) of %(column)s name no %(target)s row "
                        "(e.g. %(example)s): the backup is inconsistent"
                    ),
                    path=path,
                    n=len(missing),
                    column=f"{name}.{label}",
                    target=target,
                    example=sorted(missing, key=repr)[0],
                )
            )
    return counts


def restore_backup(path: Path, progress: Callable[[str], None] = lambda _m: None) -> dict[str, int]:
    """Load ``path`` into the current, empty database; return the row count per table."""
    try:
        handle = gzip.open(path, "rt", encoding="utf-8")
        header = json.loads(handle.readline())
    except (OSError, EOFError, ValueError, gzip.BadGzipFile) as exc:
        raise BackupError(
            Text(N_("%(path)s: not a surveyapp backup (%(reason)s)"), path=path, reason=exc)
        ) from exc
    with handle:
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise BackupError(
                Text(
                    N_("%(path)s: not a surveyapp backup (format %(format)s)"),
                    path=path,
                    format=repr(header),
                )
            )
        revision = _revision()
        if header.get("revision") != revision:
            raise BackupError(
                Text(
                    N_(
                        "%(path)s: made at schema revision %(made)s, the database is at "
                        "%(revision)s; run `surveyapp db upgrade` (or downgrade) to the same "
                        "revision"
                    ),
                    path=path,
                    made=header.get("revision"),
                    revision=revision,
                )
            )
        tables = {t.name: t for t in backed_up_tables()}
        for name in tables:
            if db.session.scalar(select(func.count()).select_from(tables[name])):
                raise BackupError(
                    Text(
                        N_(
                            "the database is not empty (table %(table)s has rows); "
                            "restore into a new database"
                        ),
                        table=name,
                    )
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
                    raise _damaged(path, number, exc) from exc
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
            raise BackupError(
                Text(
                    N_("%(path)s: restore failed, nothing was changed (%(reason)s)"),
                    path=path,
                    reason=exc,
                )
            ) from exc
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
