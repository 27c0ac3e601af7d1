"""reservations, orders, tickets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 14:30:09.430500
"""
from alembic import op
import sqlalchemy as sa
import boxoffice.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_reservations',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('expiration_date', boxoffice.db.UTCDateTime(), nullable=True),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('updated_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=True),
    sa.Column('visitor_id', sa.String(length=36), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('extended_fields', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('tags', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_reservations', schema=None) as batch_op:
        batch_op.create_index('ix_reservations_due', ['status', 'expiration_date'], unique=False)
        batch_op.create_index('ix_reservations_site_created', ['site_id', 'created_date'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('order_number', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('reservation_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('method', sa.String(length=30), nullable=True),
    sa.Column('payment_provider', sa.String(length=20), nullable=False),
    sa.Column('payment_id', sa.String(length=64), nullable=True),
    sa.Column('first_name', sa.String(length=50).with_variant(sa.String(length=50, collation='C'), 'postgresql'), nullable=False),
    sa.Column('last_name', sa.String(length=50).with_variant(sa.String(length=50, collation='C'), 'postgresql'), nullable=False),
    sa.Column('email', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('member_id', sa.String(length=36), nullable=True),
    sa.Column('contact_id', sa.String(length=36), nullable=False),
    sa.Column('checkout_form', sa.JSON(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('subtotal_cents', sa.Integer(), nullable=False),
    sa.Column('fees_added_cents', sa.Integer(), nullable=False),
    sa.Column('revenue_cents', sa.Integer(), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('invoice', sa.JSON(), nullable=False),
    sa.Column('tickets_quantity', sa.Integer(), nullable=False),
    sa.Column('hold_expires', boxoffice.db.UTCDateTime(), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('updated_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['reservation_id'], ['ticket_reservations.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reservation_id'),
    sa.UniqueConstraint('site_id', 'order_number', name='uq_orders_site_number')
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_site_created', ['site_id', 'created_date'], unique=False)
        batch_op.create_index('ix_orders_site_event_created', ['site_id', 'event_id', 'created_date'], unique=False)

    op.create_table('reservation_lines',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('reservation_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('ticket_definition_id', sa.String(length=36), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('fee_type', sa.String(length=32), nullable=False),
    sa.Column('ticket_name', sa.String(length=30).with_variant(sa.String(length=30, collation='C'), 'postgresql'), nullable=False),
    sa.Column('policy', sa.String(length=1000).with_variant(sa.String(length=1000, collation='C'), 'postgresql'), nullable=True),
    sa.Column('pricing_option_id', sa.String(length=36), nullable=True),
    sa.Column('pricing_option_name', sa.String(length=200).with_variant(sa.String(length=200, collation='C'), 'postgresql'), nullable=True),
    sa.Column('guest_price_cents', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['reservation_id'], ['ticket_reservations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reservation_lines', schema=None) as batch_op:
        batch_op.create_index('ix_lines_definition', ['ticket_definition_id'], unique=False)
        batch_op.create_index('ix_lines_reservation', ['reservation_id', 'position'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('ticket_number', sa.String(length=24), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('order_number', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('ticket_definition_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=30).with_variant(sa.String(length=30, collation='C'), 'postgresql'), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('free', sa.Boolean(), nullable=False),
    sa.Column('policy', sa.String(length=1000).with_variant(sa.String(length=1000, collation='C'), 'postgresql'), nullable=True),
    sa.Column('pricing_option_id', sa.String(length=36), nullable=True),
    sa.Column('pricing_option_name', sa.String(length=200).with_variant(sa.String(length=200, collation='C'), 'postgresql'), nullable=True),
    sa.Column('guest_first_name', sa.String(length=50).with_variant(sa.String(length=50, collation='C'), 'postgresql'), nullable=True),
    sa.Column('guest_last_name', sa.String(length=50).with_variant(sa.String(length=50, collation='C'), 'postgresql'), nullable=True),
    sa.Column('guest_email', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=True),
    sa.Column('guest_assigned', sa.Boolean(), nullable=False),
    sa.Column('guest_form', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('checked_in_date', boxoffice.db.UTCDateTime(), nullable=True),
    sa.Column('checked_in_by', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('canceled', sa.Boolean(), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site_id', 'ticket_number', name='uq_tickets_site_number')
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_order', ['order_id', 'position'], unique=False)
        batch_op.create_index('ix_tickets_site_event', ['site_id', 'event_id', 'ticket_number'], unique=False)

    with op.batch_alter_table('ticket_definitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_hold_expiry', boxoffice.db.UTCDateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('ticket_definitions', schema=None) as batch_op:
        batch_op.drop_column('next_hold_expiry')

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_site_event')
        batch_op.drop_index('ix_tickets_order')

    op.drop_table('tickets')
    with op.batch_alter_table('reservation_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_lines_reservation')
        batch_op.drop_index('ix_lines_definition')

    op.drop_table('reservation_lines')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_site_event_created')
        batch_op.drop_index('ix_orders_site_created')

    op.drop_table('orders')
    with op.batch_alter_table('ticket_reservations', schema=None) as batch_op:
        batch_op.drop_index('ix_reservations_site_created')
        batch_op.drop_index('ix_reservations_due')

    op.drop_table('ticket_reservations')
