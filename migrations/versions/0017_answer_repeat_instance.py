"""answer: the repeat group and instance number of an answer given in a repeat group (a roster)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 15:20:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answer') as batch:
        batch.add_column(
            sa.Column('repeat_group', sa.String(length=80), nullable=False, server_default='')
        )
        batch.add_column(sa.Column('instance', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    # Answers given in a repeat group have no place without these columns.
    op.execute("DELETE FROM answer WHERE instance > 0")
    with op.batch_alter_table('answer') as batch:
        batch.drop_column('instance')
        batch.drop_column('repeat_group')
