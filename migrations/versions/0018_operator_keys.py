"""operator_keys: an API key's last use and its revocation, for `boxoffice keys list` / `keys revoke` (auth.py)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 09:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import boxoffice.db  # noqa: F401


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # both unknown (None) for every key so far: never used since recording began, and live
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_date', boxoffice.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('revoked_date', boxoffice.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    # (a revoked key would come back to life: delete those first)
    op.execute("DELETE FROM api_keys WHERE revoked_date IS NOT NULL")
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('revoked_date')
        batch_op.drop_column('last_used_date')
