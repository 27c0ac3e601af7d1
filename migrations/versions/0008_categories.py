"""categories

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 00:15:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import boxoffice.db  # noqa: F401


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('categories',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=30).with_variant(sa.String(length=30, collation='C'), 'postgresql'), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('state_manual', sa.Boolean(), nullable=False),
    sa.Column('state_auto', sa.Boolean(), nullable=False),
    sa.Column('state_recurring_event', sa.Boolean(), nullable=False),
    sa.Column('state_hidden', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site_id', 'name', name='uq_categories_site_name')
    )
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.create_index('ix_categories_site_created', ['site_id', 'created_date', 'id'], unique=False)

    op.create_table('category_events',
    sa.Column('category_id', sa.String(length=36), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('sort_index', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('category_id', 'event_id')
    )
    with op.batch_alter_table('category_events', schema=None) as batch_op:
        batch_op.create_index('ix_category_events_category_sort', ['category_id', 'sort_index'], unique=False)
        batch_op.create_index('ix_category_events_event', ['event_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('category_events', schema=None) as batch_op:
        batch_op.drop_index('ix_category_events_event')
        batch_op.drop_index('ix_category_events_category_sort')

    op.drop_table('category_events')
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_index('ix_categories_site_created')

    op.drop_table('categories')
