"""reports: report cache and background jobs (filled by the reports work)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:00:00

Reserved so that work on separate areas can chain its schema changes without creating
several Alembic heads; an empty upgrade is a no-op.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
