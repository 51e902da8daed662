"""odk: app credentials of enumerators for ODK Collect and Enketo (OpenRosa)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 07:40:00

One row per issued app password: its SHA-256 (HTTP Basic) and its HTTP Digest HA1; a new
password revokes the previous one (revoked_at).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'odk_credential',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('password_sha256', sa.String(length=64), nullable=False),
        sa.Column('digest_ha1', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_odk_credential_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_odk_credential')),
    )
    with op.batch_alter_table('odk_credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_odk_credential_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('odk_credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_odk_credential_user_id'))
    op.drop_table('odk_credential')
