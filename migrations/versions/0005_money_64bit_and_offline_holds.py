"""money columns 64-bit; offline holds end (orders due index)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 23:10:00

Money in cents was a 32-bit INTEGER on PostgreSQL: a price of 21,474,837.00 or an order
of 50 tickets at 1,000,000.00 overflowed it (a 500 after the seats were held). SQLite's
INTEGER is 64-bit already, so only PostgreSQL's columns change type.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

MONEY = {
    "orders": ("subtotal_cents", "fees_added_cents", "revenue_cents", "total_cents"),
    "reservation_lines": ("price_cents", "guest_price_cents"),
    "tickets": ("price_cents",),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in MONEY.items():
            for c in columns:
                op.alter_column(table, c, type_=sa.BigInteger(), existing_type=sa.Integer())
    op.create_index("ix_orders_due", "orders", ["status", "hold_expires"])


def downgrade() -> None:
    op.drop_index("ix_orders_due", table_name="orders")
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in MONEY.items():
            for c in columns:
                op.alter_column(table, c, type_=sa.Integer(), existing_type=sa.BigInteger())
