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
    op.add_column('user_account', sa.Column('session_generation', sa.Integer(),
                                            server_default='0', nullable=False))
    op.add_column('user_account', sa.Column('must_change_password', sa.Boolean(),
                                            server_default=sa.false(), nullable=False))


def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch operation would copy and drop
    # user_account, which other tables reference, and fail on a database with data.
    op.drop_column('user_account', 'must_change_password')
    op.drop_column('user_account', 'session_generation')
