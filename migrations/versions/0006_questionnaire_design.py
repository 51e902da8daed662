"""questionnaire design: drafts and published versions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 11:00:00

A questionnaire version is a draft (edited in the designer) or published (frozen). Versions
stored before this revision were all published on import, so they become 'published'.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('questionnaire_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False,
                                      server_default='published'))
        batch_op.add_column(sa.Column('based_on_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_questionnaire_version_status'), "status in ('draft', 'published')")
        batch_op.create_foreign_key(
            op.f('fk_questionnaire_version_based_on_id_questionnaire_version'),
            'questionnaire_version', ['based_on_id'], ['id'])
        batch_op.create_foreign_key(
            op.f('fk_questionnaire_version_created_by_id_user_account'),
            'user_account', ['created_by_id'], ['id'])


def downgrade():
    # Drafts have no meaning without the designer: drop them, keep the published versions.
    op.execute("DELETE FROM questionnaire_version WHERE status = 'draft'")
    with op.batch_alter_table('questionnaire_version', schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f('fk_questionnaire_version_created_by_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(
            op.f('fk_questionnaire_version_based_on_id_questionnaire_version'),
            type_='foreignkey')
        batch_op.drop_constraint(op.f('ck_questionnaire_version_status'), type_='check')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('based_on_id')
        batch_op.drop_column('status')
