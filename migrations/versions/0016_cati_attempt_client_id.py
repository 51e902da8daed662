"""cati: the desk's own id of a call outcome, so an outcome queued offline is stored once

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 09:15:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cati_attempt') as batch:
        batch.add_column(sa.Column('client_id', sa.String(length=36), nullable=True))
        batch.create_unique_constraint('uq_cati_attempt_client_id', ['client_id'])


def downgrade():
    with op.batch_alter_table('cati_attempt') as batch:
        batch.drop_constraint('uq_cati_attempt_client_id', type_='unique')
        batch.drop_column('client_id')
