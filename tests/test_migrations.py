"""The schema exists only through migrations: the migrated database matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from surveyapp.extensions import db


def test_migrations_create_exactly_the_models_schema(app):
    """A model change without its migration (or the reverse) shows up here as a difference."""
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
    assert differences == [], "\n".join(str(d) for d in differences)


def test_every_migration_goes_down_and_up_again(demo):
    """Each revision's downgrade runs on a database with data, and upgrading again gives back
    the models' schema with every row of the demo."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    with demo.app_context():
        tables = ("locality", "survey", "wave", "response", "answer", "user_account")
        counts = {
            t: db.session.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in tables
        }
        db.session.remove()
        downgrade(revision="0008")
        upgrade()
        db.session.remove()
        after = {
            t: db.session.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in tables
        }
        assert after == counts
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        assert differences == [], "\n".join(str(d) for d in differences)


def test_the_waves_change_stamps_go_down_and_up(demo):
    """Migration 0019: every existing wave gets a stamp, the triggers replace it when one of
    its responses changes; downgraded, the triggers and the waves' stamps are gone."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select, update

    from surveyapp.models import ChangeStamp, Response, Wave, responses_stamp

    def stamps() -> dict[str, str]:
        rows = db.session.execute(select(ChangeStamp.name, ChangeStamp.stamp)).all()
        return {name: stamp for name, stamp in rows if name.startswith("responses:")}

    with demo.app_context():
        waves = db.session.scalars(select(Wave.id)).all()
        db.session.remove()
        downgrade(revision="0018")
        assert stamps() == {}
        db.session.execute(update(Response).values(status="submitted"))
        db.session.commit()
        assert stamps() == {}  # no trigger left
        upgrade()
        db.session.remove()
        first = stamps()
        assert set(first) == {responses_stamp(w) for w in waves}
        response = db.session.scalar(select(Response).order_by(Response.id))
        response.status = "rejected"
        db.session.commit()
        now = stamps()
        changed = responses_stamp(response.wave_id)
        assert now[changed] != first[changed]
        assert {k: v for k, v in now.items() if k != changed} == {
            k: v for k, v in first.items() if k != changed
        }
