"""login throttling counted in one table per address, account and both; no lock on the account

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:00:00

The counters ``failed_logins`` and ``locked_until`` of user accounts were incremented in Python
(parallel attempts each saw the old count) and locked the account itself, which anyone could do
to anyone. ``login_throttle`` replaces them: one row per hashed key, updated by a single
INSERT … ON CONFLICT DO UPDATE … RETURNING per attempt (surveyapp/services/login.py).
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('first_at', sa.Float(), nullable=False),
    sa.Column('last_at', sa.Float(), nullable=False),
    sa.Column('blocked_until', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttle_last_at'), ['last_at'], unique=False)
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch operation would copy and drop
    # user_account, which other tables reference, and fail on a database with data.
    op.drop_column('user_account', 'locked_until')
    op.drop_column('user_account', 'failed_logins')


def downgrade():
    op.add_column('user_account', sa.Column('failed_logins', sa.Integer(), server_default='0',
                                            nullable=False))
    op.add_column('user_account', sa.Column('locked_until', sa.DateTime(), nullable=True))
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttle_last_at'))
    op.drop_table('login_throttle')
