"""Backup and restore: a round trip reproduces every row; bad files change nothing."""

from __future__ import annotations

import gzip

from sqlalchemy import func, select

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import Answer, Response, User


def snapshot() -> dict[str, list[tuple]]:
    out = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns)
        out[table.name] = [tuple(r) for r in db.session.execute(select(table).order_by(*order))]
    return out


def test_round_trip(demo, runner, tmp_path, migrated_database, monkeypatch):
    file = tmp_path / "backup.jsonl.gz"
    result = runner.invoke(args=["backup", "-o", str(file)])
    assert result.exit_code == 0, result.output
    with demo.app_context():
        before = snapshot()
        n_answers = db.session.scalar(select(func.count(Answer.id)))
    assert n_answers > 0

    # A fresh, migrated, empty database receives the backup.
    import shutil

    from tests.conftest import PG_URL

    if PG_URL:
        target_app = demo
        with demo.app_context():
            tables = ", ".join(f'"{t.name}"' for t in reversed(db.metadata.sorted_tables))
            with db.engine.begin() as conn:
                conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    else:
        empty = tmp_path / "empty.sqlite"
        shutil.copy(migrated_database, empty)
        target_app = create_app(
            {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{empty}"}
        )
    restored = target_app.test_cli_runner().invoke(args=["restore", str(file)])
    assert restored.exit_code == 0, restored.output
    with target_app.app_context():
        assert snapshot() == before
        # New rows still get fresh ids after a restore.
        user = User(username="after-restore", role="manager", password_hash="x")
        db.session.add(user)
        db.session.commit()
        assert user.id > max(r[0] for r in before["user_account"])
        # Restoring twice is refused: the database is no longer empty.
        again = target_app.test_cli_runner().invoke(args=["restore", str(file)])
        assert again.exit_code != 0 and "not empty" in again.output
        assert db.session.scalar(select(func.count(Response.id))) == len(before["response"])


def test_damaged_backup_changes_nothing(app, runner, tmp_path):
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"not gzip at all")
    result = runner.invoke(args=["restore", str(bad)])
    assert result.exit_code != 0 and "not a surveyapp backup" in result.output
    good = tmp_path / "good.gz"
    runner.invoke(args=["backup", "-o", str(good)])
    with gzip.open(good, "rt") as f:
        header = f.readline()
    damaged = tmp_path / "damaged.gz"
    with gzip.open(damaged, "wt") as f:
        f.write(header)
        f.write('["locality", [1, "X", null, "district", "区", "", 10]]\n')
        f.write("{broken\n")
    result = runner.invoke(args=["restore", str(damaged)])
    assert result.exit_code != 0 and "line 3 is damaged" in result.output
    with app.app_context():
        from surveyapp.models import Locality

        assert db.session.scalar(select(func.count(Locality.id))) == 0
