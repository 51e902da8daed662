"""safety index: definition versions and monthly administrative values per street

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 08:00:00

``safety_index_definition`` keeps every version of an index definition (its YAML text, the
first month it applies to, who stored it); ``safety_index_value`` one value of an
administrative series per street and month, with who uploaded it, when, and from which file.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'safety_index_definition',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=80), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('effective_from', sa.String(length=7), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('source_text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('slug', 'version'),
    )
    op.create_table(
        'safety_index_value',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('series', sa.String(length=64), nullable=False),
        sa.Column('locality_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('value', sa.Double(), nullable=False),
        sa.Column('unit', sa.String(length=16), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', sa.DateTime(), nullable=False),
        sa.Column('upload', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['locality_id'], ['locality.id']),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('series', 'locality_id', 'month'),
    )
    with op.batch_alter_table('safety_index_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safety_index_value_series'), ['series'])
        batch_op.create_index(batch_op.f('ix_safety_index_value_locality_id'), ['locality_id'])
        batch_op.create_index(batch_op.f('ix_safety_index_value_month'), ['month'])


def downgrade():
    with op.batch_alter_table('safety_index_value', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_index_value_month'))
        batch_op.drop_index(batch_op.f('ix_safety_index_value_locality_id'))
        batch_op.drop_index(batch_op.f('ix_safety_index_value_series'))
    op.drop_table('safety_index_value')
    op.drop_table('safety_index_definition')
