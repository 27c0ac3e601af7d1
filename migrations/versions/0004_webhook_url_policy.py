"""webhook URL policy: subscriptions an operator allowed to reach non-public addresses

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:00:00.000000
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing subscriptions get false: from now on they are delivered to non-public
    # addresses only if BOXOFFICE_WEBHOOK_ALLOW_PRIVATE_URLS is on (or the operator adds
    # them again with `boxoffice webhooks add`).
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allow_private', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_column('allow_private')
