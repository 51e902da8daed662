"""response: the enumerator's index holds the wave too (the interviews an enumerator filed in a wave are counted in the index alone)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 21:30:00
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    # Every tablet's assignment list counts its enumerator's interviews in each assigned wave:
    # with the enumerator alone in the index, every one of them was a row read from the table.
    # The new index serves every query the old one served (same leading column).
    op.create_index('ix_response_enumerator_wave', 'response', ['enumerator_id', 'wave_id'])
    op.drop_index('ix_response_enumerator_id', table_name='response')


def downgrade():
    op.create_index('ix_response_enumerator_id', 'response', ['enumerator_id'])
    op.drop_index('ix_response_enumerator_wave', table_name='response')
