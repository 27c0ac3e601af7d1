"""pos_checkout: selling at the door and updating a checkout (orders/models.py)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 06:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import boxoffice.db  # noqa: F401


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Order.channel: ONLINE (checkout) or OFFLINE_POS (Pos Checkout); every order so far was ONLINE
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=20), server_default='ONLINE', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('channel')
