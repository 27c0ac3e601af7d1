"""mail: the outbox of e-mails to buyers (the order confirmation with its tickets)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 03:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import boxoffice.db  # noqa: F401


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mail_messages',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('recipient', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('lease_until', boxoffice.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('sent_date', boxoffice.db.UTCDateTime(), nullable=True),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site_id', 'message_id', name='uq_mail_messages_site_message')
    )
    with op.batch_alter_table('mail_messages', schema=None) as batch_op:
        batch_op.create_index('ix_mail_messages_due', ['status', 'next_attempt_date'], unique=False)
        batch_op.create_index('ix_mail_messages_site_order', ['site_id', 'order_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mail_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_messages_site_order')
        batch_op.drop_index('ix_mail_messages_due')

    op.drop_table('mail_messages')
