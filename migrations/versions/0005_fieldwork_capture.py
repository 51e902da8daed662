"""fieldwork: when a response's answers were last replaced (revised_at)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 11:00:00

A sent-back interview corrected by its enumerator keeps its row and gets new answers;
``revised_at`` records when, so that cached reports notice the change.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revised_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('revised_at')
