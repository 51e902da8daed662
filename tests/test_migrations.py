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
