"""staff_members

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 02:30:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import boxoffice.db  # noqa: F401


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_members',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120).with_variant(sa.String(length=120, collation='C'), 'postgresql'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('all_events', sa.Boolean(), nullable=False),
    sa.Column('permissions', sa.String(length=100), nullable=False),
    sa.Column('extended_fields', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('updated_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.create_index('ix_staff_members_site_created', ['site_id', 'created_date', 'id'], unique=False)

    op.create_table('staff_member_events',
    sa.Column('staff_member_id', sa.String(length=36), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_member_id'], ['staff_members.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('staff_member_id', 'event_id')
    )
    with op.batch_alter_table('staff_member_events', schema=None) as batch_op:
        batch_op.create_index('ix_staff_member_events_event', ['event_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff_member_events', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_member_events_event')

    op.drop_table('staff_member_events')
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_members_site_created')

    op.drop_table('staff_members')
