"""schedule

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 00:15:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import boxoffice.db  # noqa: F401


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('schedule_drafts',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('changed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('schedule_drafts', schema=None) as batch_op:
        batch_op.create_index('ix_schedule_drafts_site_changed', ['site_id', 'changed'], unique=False)

    op.create_table('schedule_items',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('draft', sa.Boolean(), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=120).with_variant(sa.String(length=120, collation='C'), 'postgresql'), nullable=False),
    sa.Column('description', sa.String(length=10000).with_variant(sa.String(length=10000, collation='C'), 'postgresql'), nullable=False),
    sa.Column('stage_name', sa.String(length=30).with_variant(sa.String(length=30, collation='C'), 'postgresql'), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('start', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('end', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('time_zone_id', sa.String(length=100), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('updated_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', 'draft')
    )
    with op.batch_alter_table('schedule_items', schema=None) as batch_op:
        batch_op.create_index('ix_schedule_items_site_created', ['site_id', 'created_date', 'id'], unique=False)
        batch_op.create_index('ix_schedule_items_site_event', ['site_id', 'event_id', 'draft', 'start'], unique=False)

    op.create_table('schedule_item_tags',
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('draft', sa.Boolean(), nullable=False),
    sa.Column('tag', sa.String(length=30).with_variant(sa.String(length=30, collation='C'), 'postgresql'), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['item_id', 'draft'], ['schedule_items.id', 'schedule_items.draft'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', 'draft', 'tag')
    )
    with op.batch_alter_table('schedule_item_tags', schema=None) as batch_op:
        batch_op.create_index('ix_schedule_item_tags_site_tag', ['site_id', 'tag'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('schedule_item_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_schedule_item_tags_site_tag')

    op.drop_table('schedule_item_tags')
    with op.batch_alter_table('schedule_items', schema=None) as batch_op:
        batch_op.drop_index('ix_schedule_items_site_event')
        batch_op.drop_index('ix_schedule_items_site_created')

    op.drop_table('schedule_items')
    with op.batch_alter_table('schedule_drafts', schema=None) as batch_op:
        batch_op.drop_index('ix_schedule_drafts_site_changed')

    op.drop_table('schedule_drafts')
