"""fieldwork: capture, review and CATI additions (filled by the fieldwork work)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 11:00:00

Reserved so that work on separate areas can chain its schema changes without creating
several Alembic heads; an empty upgrade is a no-op.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
