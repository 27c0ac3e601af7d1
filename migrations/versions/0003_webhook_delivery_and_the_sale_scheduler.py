"""webhook delivery and the sale scheduler

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 14:52:27.452571
"""
from alembic import op
import sqlalchemy as sa
import boxoffice.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_keys',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('private_pem', sa.String(length=4000), nullable=False),
    sa.Column('public_pem', sa.String(length=2000), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('webhook_subscriptions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('event_types', sa.JSON(), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_subscriptions_site', ['site_id'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('subscription_id', sa.String(length=36), nullable=False),
    sa.Column('outbox_position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('entity_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('lease_until', boxoffice.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('delivered_date', boxoffice.db.UTCDateTime(), nullable=True),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['outbox_position'], ['outbox_events.position'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_due', ['status', 'next_attempt_date'], unique=False)
        batch_op.create_index('ix_deliveries_order', ['subscription_id', 'entity_id', 'id'], unique=False)

    with op.batch_alter_table('ticket_definitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sale_started_for', boxoffice.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('sale_ended_for', boxoffice.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('next_sale_transition', boxoffice.db.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_td_next_sale_transition', ['next_sale_transition'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket_definitions', schema=None) as batch_op:
        batch_op.drop_index('ix_td_next_sale_transition')
        batch_op.drop_column('next_sale_transition')
        batch_op.drop_column('sale_ended_for')
        batch_op.drop_column('sale_started_for')

    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_order')
        batch_op.drop_index('ix_deliveries_due')

    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_subscriptions_site')

    op.drop_table('webhook_subscriptions')
    op.drop_table('webhook_keys')
