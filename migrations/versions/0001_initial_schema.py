"""initial schema: sites, keys, events, ticket definitions, outbox

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 13:46:34.582149
"""
import secrets

from alembic import op
import sqlalchemy as sa
import boxoffice.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('instance_secrets',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('outbox_events',
    sa.Column('position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=120), nullable=False),
    sa.Column('entity_fqdn', sa.String(length=100), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('entity_id', sa.String(length=36), nullable=False),
    sa.Column('entity_event_sequence', sa.Integer(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('identity', sa.JSON(), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('position'),
    sa.UniqueConstraint('event_id')
    )
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_site_entity', ['site_id', 'entity_id', 'entity_event_sequence'], unique=False)

    op.create_table('sites',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('api_keys',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('identity_type', sa.String(length=16), nullable=False),
    sa.Column('identity_id', sa.String(length=36), nullable=False),
    sa.Column('permissions', sa.String(length=500), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_site_id'), ['site_id'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=120).with_variant(sa.String(length=120, collation='C'), 'postgresql'), nullable=False),
    sa.Column('short_description', sa.String(length=500).with_variant(sa.String(length=500, collation='C'), 'postgresql'), nullable=True),
    sa.Column('slug', sa.String(length=200).with_variant(sa.String(length=200, collation='C'), 'postgresql'), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('date_tbd', sa.Boolean(), nullable=False),
    sa.Column('start_date', boxoffice.db.UTCDateTime(), nullable=True),
    sa.Column('end_date', boxoffice.db.UTCDateTime(), nullable=True),
    sa.Column('date_settings', sa.JSON(), nullable=False),
    sa.Column('location', sa.JSON(), nullable=False),
    sa.Column('initial_type', sa.String(length=16), nullable=False),
    sa.Column('registration_type', sa.String(length=16), nullable=False),
    sa.Column('registration', sa.JSON(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('updated_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('published_date', boxoffice.db.UTCDateTime(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site_id', 'slug', name='uq_events_site_slug')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_site_created', ['site_id', 'created_date', 'id'], unique=False)

    op.create_table('ticket_definitions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('updated_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('name', sa.String(length=30).with_variant(sa.String(length=30, collation='C'), 'postgresql'), nullable=False),
    sa.Column('description', sa.String(length=500).with_variant(sa.String(length=500, collation='C'), 'postgresql'), nullable=True),
    sa.Column('policy_text', sa.String(length=1000).with_variant(sa.String(length=1000, collation='C'), 'postgresql'), nullable=True),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('limited', sa.Boolean(), nullable=False),
    sa.Column('initial_limit', sa.Integer(), nullable=True),
    sa.Column('actual_limit', sa.Integer(), nullable=True),
    sa.Column('fixed_price_cents', sa.BigInteger(), nullable=True),
    sa.Column('guest_price_cents', sa.BigInteger(), nullable=True),
    sa.Column('price_options', sa.JSON(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('pricing_type', sa.String(length=16), nullable=False),
    sa.Column('free', sa.Boolean(), nullable=False),
    sa.Column('fee_type', sa.String(length=32), nullable=False),
    sa.Column('sale_start', boxoffice.db.UTCDateTime(), nullable=True),
    sa.Column('sale_end', boxoffice.db.UTCDateTime(), nullable=True),
    sa.Column('display_not_on_sale', sa.Boolean(), nullable=False),
    sa.Column('sort_index', sa.Integer(), nullable=False),
    sa.Column('extended_fields', sa.JSON(), nullable=True),
    sa.Column('sold_count', sa.Integer(), nullable=False),
    sa.Column('reserved_count', sa.Integer(), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticket_definitions', schema=None) as batch_op:
        batch_op.create_index('ix_td_site_created', ['site_id', 'created_date', 'id'], unique=False)
        batch_op.create_index('ix_td_site_event_created', ['site_id', 'event_id', 'created_date', 'id'], unique=False)
        batch_op.create_index('ix_td_event_sort', ['event_id', 'sort_index'], unique=False)

    # The installation's own secret for signing query cursors (see auth.InstanceSecret).
    op.bulk_insert(
        sa.table('instance_secrets', sa.column('name', sa.String), sa.column('value', sa.String)),
        [{'name': 'cursor', 'value': secrets.token_urlsafe(48)}],
    )



def downgrade() -> None:
    with op.batch_alter_table('ticket_definitions', schema=None) as batch_op:
        batch_op.drop_index('ix_td_event_sort')
        batch_op.drop_index('ix_td_site_event_created')
        batch_op.drop_index('ix_td_site_created')

    op.drop_table('ticket_definitions')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_site_created')

    op.drop_table('events')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_site_id'))

    op.drop_table('api_keys')
    op.drop_table('sites')
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_site_entity')

    op.drop_table('outbox_events')
    op.drop_table('instance_secrets')
