"""user accounts: a session generation (server-side revocation) and a forced password change

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:40:00

Every login stores the account's ``session_generation`` in the (signed, client-side) session;
every request compares it with the database. Logging out, disabling the account, changing or
resetting its password add one to it, which ends every session of the account at once.
``must_change_password`` is set by an administrator's password reset: the temporary password
only opens the page that changes it.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('session_generation')
