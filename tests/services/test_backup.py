"""Backup and restore: a round trip reproduces every row; bad files change nothing."""

from __future__ import annotations

import gzip
import json

from sqlalchemy import func, select

from surveyapp import create_app
from surveyapp.extensions import db
from surveyapp.models import Answer, Response, User


def snapshot() -> dict[str, list[tuple]]:
    """Every table the backup holds (all but the change stamps, which the database keeps)."""
    from surveyapp.services.backup import backed_up_tables

    out = {}
    for table in backed_up_tables():
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

    from tests.conftest import PG_URL, wipe_postgres

    if PG_URL:
        target_app = demo
        with demo.app_context():
            wipe_postgres()
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
        assert again.exit_code != 0 and "数据库不是空的（表" in again.output  # Chinese, the default
        assert db.session.scalar(select(func.count(Response.id))) == len(before["response"])


def test_damaged_backup_changes_nothing(app, runner, tmp_path):
    bad = tmp_path / "bad.gz"
    bad.write_bytes(b"not gzip at all")
    result = runner.invoke(args=["restore", str(bad)])
    assert result.exit_code != 0 and "不是 surveyapp 备份" in result.output
    good = tmp_path / "good.gz"
    runner.invoke(args=["backup", "-o", str(good)])
    with gzip.open(good, "rt") as f:
        header = f.readline()
    damaged = tmp_path / "damaged.gz"
    with gzip.open(damaged, "wt") as f:
        f.write(header)
        # A valid locality row, whatever columns the table has (then a damaged line).
        from surveyapp.models import Locality as _Locality

        values = {"id": 1, "code": "X", "level": "district", "name_zh": "区", "name_en": ""}
        row = [values.get(c.name) for c in _Locality.__table__.columns]
        f.write(json.dumps(["locality", row], ensure_ascii=False) + "\n")
        f.write("{broken\n")
    result = runner.invoke(args=["restore", str(damaged)])
    assert result.exit_code != 0 and "第 3 行已损坏" in result.output
    with app.app_context():
        from surveyapp.models import Locality

        assert db.session.scalar(select(func.count(Locality.id))) == 0


def _empty_target(demo, migrated_database, tmp_path):
    """A migrated, empty database to restore into (PostgreSQL: the demo's, emptied)."""
    import shutil

    from tests.conftest import PG_URL, wipe_postgres

    if PG_URL:
        with demo.app_context():
            wipe_postgres()
        return demo
    empty = tmp_path / "empty.sqlite"
    shutil.copy(migrated_database, empty)
    return create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{empty}"}
    )


def test_backup_of_a_live_server_restores(demo, runner, tmp_path, migrated_database):
    """Interviews stream in through the sync API while the backup runs: the file is one
    snapshot (it restores, foreign keys and all) holding every interview acknowledged before
    the backup started. The backup waits, after each table, for the stream to store more."""
    import os
    import stat
    import threading
    import time

    from surveyapp.services.backup import write_backup
    from tests.fieldwork.conftest import bearer, submission

    result = runner.invoke(args=["users", "token", "enumerator", "--label", "backup test"])
    assert result.exit_code == 0, result.output
    headers = bearer(result.stdout.strip().splitlines()[0])
    with demo.app_context():
        from surveyapp.models import Assignment

        user = db.session.scalar(select(User).where(User.username == "enumerator"))
        assignment = db.session.scalar(
            select(Assignment)
            .where(Assignment.enumerator_id == user.id, Assignment.mode == "door")
            .order_by(Assignment.id)
        )
        door = {"id": assignment.id, "grid": assignment.locality.children[0].code}

    acknowledged: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    def stream():
        client = demo.test_client()
        while not stop.is_set():
            body = submission(door)
            response = client.post("/api/v1/submissions", json=body, headers=headers)
            if response.status_code == 201:
                acknowledged.append(body["uuid"])
            else:
                failures.append(f"{response.status_code} {response.get_data(as_text=True)}")
                return

    def wait_for_more(_message: str) -> None:
        seen = len(acknowledged)
        deadline = time.monotonic() + 5
        while len(acknowledged) <= seen and time.monotonic() < deadline and not failures:
            time.sleep(0.005)

    file = tmp_path / "live.jsonl.gz"
    writer = threading.Thread(target=stream)
    writer.start()
    try:
        while len(acknowledged) < 3 and not failures:
            time.sleep(0.01)
        before = list(acknowledged)
        with demo.app_context():
            counts = write_backup(file, progress=wait_for_more)
    finally:
        stop.set()
        writer.join()
    assert not failures, failures
    assert len(acknowledged) > len(before) + 5  # interviews were stored during the backup
    assert stat.S_IMODE(os.stat(file).st_mode) == 0o600
    assert not list(tmp_path.glob(".*partial"))

    target = _empty_target(demo, migrated_database, tmp_path)
    restored = target.test_cli_runner().invoke(args=["restore", str(file)])
    assert restored.exit_code == 0, restored.output
    with target.app_context():
        uuids = set(db.session.scalars(select(Response.uuid)))
        assert set(before) <= uuids
        assert len(uuids) == counts["response"]
        orphans = db.session.scalar(
            select(func.count(Answer.id)).where(~Answer.response_id.in_(select(Response.id)))
        )
        assert orphans == 0


def test_an_inconsistent_file_fails_verification(demo, runner, tmp_path):
    """The read-back check names a row pointing nowhere (what the old backup wrote)."""
    import pytest

    from surveyapp.services.backup import BackupError, verify_backup

    good = tmp_path / "good.gz"
    assert runner.invoke(args=["backup", "-o", str(good)]).exit_code == 0
    with gzip.open(good, "rt") as f:
        lines = f.readlines()
    answer = next(line for line in lines[1:] if line.startswith('["answer"'))
    import json

    name, values = json.loads(answer)
    values[1] = 10**9  # response_id
    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wt") as f:
        f.writelines(lines + [json.dumps([name, values]) + "\n"])
    with demo.app_context():
        verify_backup(good)
        with pytest.raises(BackupError, match=r"answer\.response_id name no response row"):
            verify_backup(bad)
