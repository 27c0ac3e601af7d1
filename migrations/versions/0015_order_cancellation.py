"""order_cancellation: orders canceled and refunded by the organiser (orders/models.py, payments/models.py)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 06:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import boxoffice.db  # noqa: F401


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payment_refunds') as b:
        b.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        b.add_column(sa.Column('next_attempt_date', boxoffice.db.UTCDateTime(), nullable=True))
        b.add_column(sa.Column('lease_until', boxoffice.db.UTCDateTime(), nullable=True))
        b.add_column(sa.Column('last_error', sa.String(length=200), nullable=True))
    op.create_index('ix_payment_refunds_due', 'payment_refunds', ['status', 'next_attempt_date'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_payment_refunds_due', table_name='payment_refunds')
    with op.batch_alter_table('payment_refunds') as b:
        b.drop_column('last_error')
        b.drop_column('lease_until')
        b.drop_column('next_attempt_date')
        b.drop_column('attempts')
