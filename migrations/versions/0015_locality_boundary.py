"""localities: the outline of a locality for maps (a GeoJSON geometry)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 08:40:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases: a batch operation would copy and drop the locality
# table on SQLite, which every other table references.
def upgrade():
    op.add_column('locality', sa.Column('boundary', sa.JSON(), nullable=True))


def downgrade():
    op.drop_column('locality', 'boundary')
