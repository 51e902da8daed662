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
# never brings back a value that named other rows. The statements are written out whole (no
# SQL built at run time: tests/security/test_hardening.py).
POSTGRES = (
    "INSERT INTO change_stamp (name, stamp) "
    "VALUES ('locality', md5(random()::text || clock_timestamp()::text))",
    "CREATE FUNCTION change_stamp_locality() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE change_stamp SET stamp = md5(random()::text || clock_timestamp()::text) "
    "WHERE name = 'locality'; RETURN NULL; END $$",
    "CREATE TRIGGER locality_change_stamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
    "ON locality FOR EACH STATEMENT EXECUTE PROCEDURE change_stamp_locality()",
)
SQLITE = (
    "INSERT INTO change_stamp (name, stamp) VALUES ('locality', lower(hex(randomblob(16))))",
    "CREATE TRIGGER locality_change_stamp_insert AFTER INSERT ON locality BEGIN "
    "UPDATE change_stamp SET stamp = lower(hex(randomblob(16))) WHERE name = 'locality'; END",
    "CREATE TRIGGER locality_change_stamp_update AFTER UPDATE ON locality BEGIN "
    "UPDATE change_stamp SET stamp = lower(hex(randomblob(16))) WHERE name = 'locality'; END",
    "CREATE TRIGGER locality_change_stamp_delete AFTER DELETE ON locality BEGIN "
    "UPDATE change_stamp SET stamp = lower(hex(randomblob(16))) WHERE name = 'locality'; END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS locality_change_stamp_insert",
    "DROP TRIGGER IF EXISTS locality_change_stamp_update",
    "DROP TRIGGER IF EXISTS locality_change_stamp_delete",
)


def upgrade():
    op.create_table(
        'change_stamp',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('stamp', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_change_stamp')),
    )
    postgres = op.get_bind().dialect.name == 'postgresql'
    for statement in POSTGRES if postgres else SQLITE:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS locality_change_stamp ON locality")
        op.execute("DROP FUNCTION IF EXISTS change_stamp_locality()")
    else:
        for statement in SQLITE_DROP:
            op.execute(statement)
    op.drop_table('change_stamp')
