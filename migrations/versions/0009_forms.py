"""forms

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 02:30:00

Registration forms (issue 11, step 3): one row per event whose form was changed; an
event without a row has the default form (made lazily, so no backfill).
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import boxoffice.db  # noqa: F401


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event_forms',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('controls', sa.JSON(), nullable=False),
    sa.Column('messages', sa.JSON(), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('updated_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('event_forms', schema=None) as batch_op:
        batch_op.create_index('ix_event_forms_site', ['site_id', 'event_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('event_forms', schema=None) as batch_op:
        batch_op.drop_index('ix_event_forms_site')

    op.drop_table('event_forms')
