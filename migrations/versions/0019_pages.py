"""pages: sessions and login links (pages/models.py): the dashboard's and the door scanner's sign-ins

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 08:24:15.189198
"""
from alembic import op
import sqlalchemy as sa
import boxoffice.db


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('page_login_links',
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('expires_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('used_date', boxoffice.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('site_id', 'id')
    )
    op.create_table('page_sessions',
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('api_key_id', sa.String(length=36), nullable=True),
    sa.Column('identity_type', sa.String(length=16), nullable=False),
    sa.Column('identity_id', sa.String(length=64), nullable=False),
    sa.Column('permissions', sa.String(length=500), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('expires_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('site_id', 'id')
    )


def downgrade() -> None:
    op.drop_table('page_sessions')
    op.drop_table('page_login_links')
