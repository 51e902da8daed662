"""change stamps: a random token replaced by triggers whenever the locality table changes

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 18:40:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# Caches shared by several servers (the tablets' assignment lists) read the stamp in the same
# statement as their other rows. Random, not a counter: a restored backup or an emptied table
# never brings back a value that named other rows.
SQLITE_NEW = "lower(hex(randomblob(16)))"
POSTGRES_NEW = "md5(random()::text || clock_timestamp()::text)"


def upgrade():
    op.create_table(
        'change_stamp',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('stamp', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_change_stamp')),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"INSERT INTO change_stamp (name, stamp) VALUES ('locality', {POSTGRES_NEW})")
        op.execute(
            "CREATE FUNCTION change_stamp_locality() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN UPDATE change_stamp SET stamp = {POSTGRES_NEW} WHERE name = 'locality'; "
            "RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER locality_change_stamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            "ON locality FOR EACH STATEMENT EXECUTE PROCEDURE change_stamp_locality()"
        )
    else:
        op.execute(f"INSERT INTO change_stamp (name, stamp) VALUES ('locality', {SQLITE_NEW})")
        for event in ('insert', 'update', 'delete'):
            op.execute(
                f"CREATE TRIGGER locality_change_stamp_{event} AFTER {event.upper()} ON locality "
                f"BEGIN UPDATE change_stamp SET stamp = {SQLITE_NEW} WHERE name = 'locality'; END"
            )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS locality_change_stamp ON locality")
        op.execute("DROP FUNCTION IF EXISTS change_stamp_locality()")
    else:
        for event in ('insert', 'update', 'delete'):
            op.execute(f"DROP TRIGGER IF EXISTS locality_change_stamp_{event}")
    op.drop_table('change_stamp')
