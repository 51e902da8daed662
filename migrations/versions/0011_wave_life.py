"""waves: their own questionnaire version, opening, closing and release; survey settings version

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 07:45:00

Each wave pins the questionnaire version its interviews use (filled here with its survey's
version, the only one a wave could use before), and records when it was opened, closed and
released (officials see a wave's results only once released). Every wave that exists already
was visible to officials before this revision: it counts as released, so that nobody loses a
report they had. Open waves count as opened now, closed ones as opened and closed now.

The columns are added with ALTER TABLE ADD COLUMN, never by recreating ``wave`` (SQLite's
batch mode): with foreign keys on, dropping the old table of a recreation fails (or cascades)
as soon as assignments or responses refer to it, which is every real database. That is also
why ``wave.questionnaire_version_id`` stays nullable in the schema (the waves service always
sets it).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

FK_VERSION = 'fk_wave_questionnaire_version_id_questionnaire_version'
FK_RELEASED_BY = 'fk_wave_released_by_id_user_account'
# Written out in full: no SQL is built from strings at run time (tests/security).
SQLITE_ADD = {
    'questionnaire_version_id': (
        'ALTER TABLE wave ADD COLUMN questionnaire_version_id INTEGER '
        'CONSTRAINT fk_wave_questionnaire_version_id_questionnaire_version '
        'REFERENCES questionnaire_version (id)'
    ),
    'released_by_id': (
        'ALTER TABLE wave ADD COLUMN released_by_id INTEGER '
        'CONSTRAINT fk_wave_released_by_id_user_account REFERENCES user_account (id)'
    ),
}


def _add_reference(column: str, table: str, name: str) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a column with its REFERENCES clause in place (ALTER TABLE cannot add
        # a constraint on its own); the constraint is named as the models name it.
        op.execute(SQLITE_ADD[column])
    else:
        op.add_column('wave', sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(name, 'wave', table, [column], ['id'])


def upgrade():
    _add_reference('questionnaire_version_id', 'questionnaire_version', FK_VERSION)
    _add_reference('released_by_id', 'user_account', FK_RELEASED_BY)
    op.add_column('wave', sa.Column('opened_at', sa.DateTime(), nullable=True))
    op.add_column('wave', sa.Column('closed_at', sa.DateTime(), nullable=True))
    op.add_column('wave', sa.Column('released_at', sa.DateTime(), nullable=True))
    op.add_column('survey', sa.Column('settings_version', sa.Integer(), nullable=False,
                                      server_default='1'))
    op.execute(
        'UPDATE wave SET questionnaire_version_id = (SELECT survey.questionnaire_version_id '
        'FROM survey WHERE survey.id = wave.survey_id)'
    )
    op.execute('UPDATE wave SET opened_at = CURRENT_TIMESTAMP, released_at = CURRENT_TIMESTAMP')
    op.execute(
        sa.text('UPDATE wave SET closed_at = CURRENT_TIMESTAMP WHERE is_open = :no')
        .bindparams(no=False)
    )


def downgrade():
    # SQLite (3.35 and later) drops a column in place, its REFERENCES clause with it.
    op.drop_column('survey', 'settings_version')
    op.drop_column('wave', 'released_at')
    op.drop_column('wave', 'closed_at')
    op.drop_column('wave', 'opened_at')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(FK_RELEASED_BY, 'wave', type_='foreignkey')
        op.drop_constraint(FK_VERSION, 'wave', type_='foreignkey')
    op.drop_column('wave', 'released_by_id')
    op.drop_column('wave', 'questionnaire_version_id')
