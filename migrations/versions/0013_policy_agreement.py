"""policy agreement: every policy revision's words, and what an order agreed to

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 03:10:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import boxoffice.db  # noqa: F401


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('policy_texts',
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('policy_id', sa.String(length=36), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40).with_variant(sa.String(length=40, collation='C'), 'postgresql'), nullable=False),
    sa.Column('body', sa.String(length=50000).with_variant(sa.String(length=50000, collation='C'), 'postgresql'), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('policy_id', 'revision')
    )
    with op.batch_alter_table('policy_texts', schema=None) as batch_op:
        batch_op.create_index('ix_policy_texts_site', ['site_id'], unique=False)
    # the words of the policies that exist now (their earlier revisions are gone)
    op.execute(
        "INSERT INTO policy_texts (site_id, policy_id, revision, name, body, created_date) "
        "SELECT site_id, id, revision, name, body, updated_date FROM policies"
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('policy_agreement', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('policy_agreement')
    with op.batch_alter_table('policy_texts', schema=None) as batch_op:
        batch_op.drop_index('ix_policy_texts_site')
    op.drop_table('policy_texts')
