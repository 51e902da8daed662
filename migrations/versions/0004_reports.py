"""reports: background jobs of the officials' portal

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:00:00

The report cache itself lives on disk (keyed by content); only the jobs need a table, so
that any process (web worker, RQ worker) can report and read their progress.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_job',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('wave_id', sa.Integer(), nullable=True),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('result_path', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_report_job_user_id_user_account')),
        sa.ForeignKeyConstraint(['survey_id'], ['survey.id'],
                                name=op.f('fk_report_job_survey_id_survey')),
        sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_report_job_wave_id_wave')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_job')),
    )
    with op.batch_alter_table('report_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_job_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('report_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_job_user_id'))
    op.drop_table('report_job')
