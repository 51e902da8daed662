"""assignments: when a manager ended one (nothing more is filed under it)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 07:50:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignment') as batch:
        batch.add_column(sa.Column('ended_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('assignment') as batch:
        batch.drop_column('ended_at')
