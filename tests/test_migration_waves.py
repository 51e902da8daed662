"""Migration 0011 on a database with data: waves keep their rows, get their survey's
questionnaire version, count as released, and the way down keeps every row too."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from surveyapp.extensions import db


def _rows(table: str) -> int:
    return db.session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def test_waves_migrate_down_and_up_with_their_data(demo):
    with demo.app_context():
        counts = {t: _rows(t) for t in ("wave", "assignment", "response", "answer", "survey")}
        assert counts["response"] and counts["assignment"]
        db.session.remove()
        downgrade(revision="0010")
        assert "released_at" not in {c["name"] for c in inspect(db.engine).get_columns("wave")}
        # A wave closed before the migration (the demo's first) and an open one.
        db.session.execute(
            text("UPDATE wave SET is_open = :no WHERE code = '2026-Q3'"), {"no": False}
        )
        db.session.commit()
        db.session.remove()
        upgrade()
        assert {t: _rows(t) for t in counts} == counts
        rows = db.session.execute(
            text(
                "SELECT wave.code, wave.questionnaire_version_id = survey.questionnaire_version_id,"
                " opened_at IS NOT NULL, closed_at IS NOT NULL, released_at IS NOT NULL"
                " FROM wave JOIN survey ON survey.id = wave.survey_id ORDER BY wave.code"
            )
        ).all()
        assert [tuple(bool(v) if i else v for i, v in enumerate(r)) for r in rows] == [
            ("2026-Q3", True, True, True, True),
            ("2026-Q4", True, True, False, True),
        ]
        assert db.session.execute(text("SELECT settings_version FROM survey")).scalar_one() == 1
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []
