"""change stamps per wave: triggers replace a wave's stamp whenever one of its responses changes

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 21:30:00
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# The officials' report keys read a wave's stamp (row 'responses:<wave id>' of change_stamp)
# instead of aggregating the wave's responses on every download. Every insert, update or
# delete of a response replaces the stamp of its wave (on an update both the old and the new
# wave's: a response moved); a new wave gets a stamp of its own (SQLite gives a deleted wave's
# id to the next one). Random, as the locality stamp of 0018: a restored backup or an emptied
# table never brings back a value that named other rows.
#
# PostgreSQL: the stamp rows are written at COMMIT (a deferred constraint trigger), not when
# the response is stored: an upsert at INSERT time would hold the wave's stamp row locked
# for the rest of the transaction, so that concurrent submissions into one wave would wait
# for each other's whole request. A row trigger notes the waves a transaction touched in a
# transaction-local setting (no lock); at COMMIT the first deferred trigger writes their
# stamps in wave order (two transactions touching the same waves never lock them in
# opposite orders: no deadlock) and empties the note, the later ones find it empty. TRUNCATE
# replaces every wave's stamp. The statements are written out whole (no SQL built at run
# time: tests/security/test_hardening.py).
POSTGRES = (
    "INSERT INTO change_stamp (name, stamp) "
    "SELECT 'responses:' || id, md5(random()::text || clock_timestamp()::text || id::text) "
    "FROM wave",
    # The waves touched by the transaction, as ',1,5,' (a setting local to the transaction:
    # rolled back with it, and with a rolled-back savepoint).
    "CREATE FUNCTION change_stamp_response_note() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE waves text := coalesce(current_setting('surveyapp.response_waves', true), ''); "
    "noted text := waves; "
    "BEGIN "
    "IF waves = '' THEN waves := ','; END IF; "
    "IF TG_OP <> 'INSERT' AND strpos(waves, ',' || OLD.wave_id || ',') = 0 THEN "
    "waves := waves || OLD.wave_id || ','; END IF; "
    "IF TG_OP <> 'DELETE' AND strpos(waves, ',' || NEW.wave_id || ',') = 0 THEN "
    "waves := waves || NEW.wave_id || ','; END IF; "
    "IF waves <> noted THEN "
    "PERFORM set_config('surveyapp.response_waves', waves, true); END IF; "
    "RETURN NULL; END $$",
    "CREATE FUNCTION change_stamp_response_apply() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE waves text := current_setting('surveyapp.response_waves', true); "
    "BEGIN "
    "IF waves IS NULL OR waves = '' THEN RETURN NULL; END IF; "
    "PERFORM set_config('surveyapp.response_waves', '', true); "
    "INSERT INTO change_stamp (name, stamp) "
    "SELECT 'responses:' || w, md5(random()::text || clock_timestamp()::text || w::text) "
    "FROM unnest(string_to_array(trim(both ',' from waves), ',')::integer[]) AS w ORDER BY w "
    "ON CONFLICT (name) DO UPDATE SET stamp = EXCLUDED.stamp; "
    "RETURN NULL; END $$",
    "CREATE FUNCTION change_stamp_response_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE change_stamp SET stamp = md5(random()::text || clock_timestamp()::text "
    "|| name) WHERE name LIKE 'responses:%'; RETURN NULL; END $$",
    "CREATE FUNCTION change_stamp_wave() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN INSERT INTO change_stamp (name, stamp) VALUES ('responses:' || NEW.id, "
    "md5(random()::text || clock_timestamp()::text || NEW.id::text)) "
    "ON CONFLICT (name) DO UPDATE SET stamp = EXCLUDED.stamp; RETURN NULL; END $$",
    "CREATE TRIGGER response_change_stamp_note AFTER INSERT OR UPDATE OR DELETE ON response "
    "FOR EACH ROW EXECUTE PROCEDURE change_stamp_response_note()",
    "CREATE CONSTRAINT TRIGGER response_change_stamp AFTER INSERT OR UPDATE OR DELETE "
    "ON response DEFERRABLE INITIALLY DEFERRED "
    "FOR EACH ROW EXECUTE PROCEDURE change_stamp_response_apply()",
    "CREATE TRIGGER response_change_stamp_truncate AFTER TRUNCATE ON response "
    "FOR EACH STATEMENT EXECUTE PROCEDURE change_stamp_response_truncate()",
    "CREATE TRIGGER wave_change_stamp AFTER INSERT ON wave "
    "FOR EACH ROW EXECUTE PROCEDURE change_stamp_wave()",
)
POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS wave_change_stamp ON wave",
    "DROP TRIGGER IF EXISTS response_change_stamp_truncate ON response",
    "DROP TRIGGER IF EXISTS response_change_stamp ON response",
    "DROP TRIGGER IF EXISTS response_change_stamp_note ON response",
    "DROP FUNCTION IF EXISTS change_stamp_wave()",
    "DROP FUNCTION IF EXISTS change_stamp_response_truncate()",
    "DROP FUNCTION IF EXISTS change_stamp_response_apply()",
    "DROP FUNCTION IF EXISTS change_stamp_response_note()",
    "DELETE FROM change_stamp WHERE name LIKE 'responses:%'",
)
# SQLite: one writer at a time, so no lock to keep short; row triggers upsert at once.
SQLITE = (
    "INSERT INTO change_stamp (name, stamp) "
    "SELECT 'responses:' || id, lower(hex(randomblob(16))) FROM wave",
    "CREATE TRIGGER response_change_stamp_insert AFTER INSERT ON response BEGIN "
    "INSERT INTO change_stamp (name, stamp) "
    "VALUES ('responses:' || NEW.wave_id, lower(hex(randomblob(16)))) "
    "ON CONFLICT (name) DO UPDATE SET stamp = excluded.stamp; END",
    "CREATE TRIGGER response_change_stamp_update AFTER UPDATE ON response BEGIN "
    "INSERT INTO change_stamp (name, stamp) "
    "VALUES ('responses:' || OLD.wave_id, lower(hex(randomblob(16)))) "
    "ON CONFLICT (name) DO UPDATE SET stamp = excluded.stamp; "
    "INSERT INTO change_stamp (name, stamp) "
    "SELECT 'responses:' || NEW.wave_id, lower(hex(randomblob(16))) "
    "WHERE NEW.wave_id IS NOT OLD.wave_id "
    "ON CONFLICT (name) DO UPDATE SET stamp = excluded.stamp; END",
    "CREATE TRIGGER response_change_stamp_delete AFTER DELETE ON response BEGIN "
    "INSERT INTO change_stamp (name, stamp) "
    "VALUES ('responses:' || OLD.wave_id, lower(hex(randomblob(16)))) "
    "ON CONFLICT (name) DO UPDATE SET stamp = excluded.stamp; END",
    "CREATE TRIGGER wave_change_stamp AFTER INSERT ON wave BEGIN "
    "INSERT INTO change_stamp (name, stamp) "
    "VALUES ('responses:' || NEW.id, lower(hex(randomblob(16)))) "
    "ON CONFLICT (name) DO UPDATE SET stamp = excluded.stamp; END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS wave_change_stamp",
    "DROP TRIGGER IF EXISTS response_change_stamp_delete",
    "DROP TRIGGER IF EXISTS response_change_stamp_update",
    "DROP TRIGGER IF EXISTS response_change_stamp_insert",
    "DELETE FROM change_stamp WHERE name LIKE 'responses:%'",
)


def upgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    for statement in POSTGRES if postgres else SQLITE:
        op.execute(statement)


def downgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    for statement in POSTGRES_DROP if postgres else SQLITE_DROP:
        op.execute(statement)
