"""guests: guests of confirmed orders (guests/models.py)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 06:00:00

Besides the table, the guests of the orders already PAID or FREE are written (a BUYER
per order, a TICKET_HOLDER per ticket not canceled, with the tickets' check-ins), as the
orders' confirmation would have made them; no webhook is sent for them.
"""
import datetime as dt
import json
import uuid

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import boxoffice.db  # noqa: F401


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_BATCH = 500


def upgrade() -> None:
    op.create_table('guests',
    sa.Column('id', sa.String(length=36).with_variant(sa.String(length=36, collation='C'), 'postgresql'), nullable=False),
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=36).with_variant(sa.String(length=36, collation='C'), 'postgresql'), nullable=False),
    sa.Column('order_id', sa.String(length=36), nullable=False),
    sa.Column('order_number', sa.String(length=20).with_variant(sa.String(length=20, collation='C'), 'postgresql'), nullable=False),
    sa.Column('ticket_id', sa.String(length=36), nullable=True),
    sa.Column('ticket_number', sa.String(length=24).with_variant(sa.String(length=24, collation='C'), 'postgresql'), nullable=True),
    sa.Column('guest_type', sa.String(length=16), nullable=False),
    sa.Column('contact_id', sa.String(length=36).with_variant(sa.String(length=36, collation='C'), 'postgresql'), nullable=False),
    sa.Column('member_id', sa.String(length=36).with_variant(sa.String(length=36, collation='C'), 'postgresql'), nullable=True),
    sa.Column('attendance_status', sa.String(length=16), nullable=False),
    sa.Column('checked_in', sa.Boolean(), nullable=False),
    sa.Column('check_ins', sa.JSON(), nullable=False),
    sa.Column('created_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('updated_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('attendance_status_updated_date', boxoffice.db.UTCDateTime(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('guests', schema=None) as batch_op:
        batch_op.create_index('ix_guests_order', ['order_id'], unique=False)
        batch_op.create_index('ix_guests_site_created', ['site_id', 'created_date', 'id'], unique=False)
        batch_op.create_index('ix_guests_site_event_created', ['site_id', 'event_id', 'created_date', 'id'], unique=False)
        batch_op.create_index('ix_guests_ticket', ['ticket_id'], unique=True)
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table('guests', schema=None) as batch_op:
        batch_op.drop_index('ix_guests_ticket')
        batch_op.drop_index('ix_guests_site_event_created')
        batch_op.drop_index('ix_guests_site_created')
        batch_op.drop_index('ix_guests_order')

    op.drop_table('guests')


# --- the guests of the orders confirmed before this revision --------------------------------
# Self-contained (no application code): the tables as this revision knows them.

_orders = sa.table(
    'orders',
    sa.column('id', sa.String()), sa.column('site_id', sa.String()), sa.column('event_id', sa.String()),
    sa.column('order_number', sa.String()), sa.column('status', sa.String()), sa.column('email', sa.String()),
    sa.column('contact_id', sa.String()), sa.column('member_id', sa.String()),
)
_tickets = sa.table(
    'tickets',
    sa.column('id', sa.String()), sa.column('order_id', sa.String()), sa.column('ticket_number', sa.String()),
    sa.column('position', sa.Integer()), sa.column('guest_email', sa.String()), sa.column('canceled', sa.Boolean()),
    sa.column('checked_in_date', boxoffice.db.UTCDateTime()), sa.column('checked_in_by', sa.JSON()),
)
_guests = sa.table(
    'guests',
    sa.column('id', sa.String()), sa.column('site_id', sa.String()), sa.column('event_id', sa.String()),
    sa.column('order_id', sa.String()), sa.column('order_number', sa.String()), sa.column('ticket_id', sa.String()),
    sa.column('ticket_number', sa.String()), sa.column('guest_type', sa.String()), sa.column('contact_id', sa.String()),
    sa.column('member_id', sa.String()), sa.column('attendance_status', sa.String()), sa.column('checked_in', sa.Boolean()),
    sa.column('check_ins', sa.JSON()), sa.column('created_date', boxoffice.db.UTCDateTime()),
    sa.column('updated_date', boxoffice.db.UTCDateTime()),
    sa.column('attendance_status_updated_date', boxoffice.db.UTCDateTime()),
    sa.column('revision', sa.Integer()), sa.column('event_seq', sa.Integer()),
)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec='milliseconds') + 'Z'


def _entry(tk) -> dict:
    out = {'checkedIn': True, 'checkInDate': _iso(tk.checked_in_date)}
    by = tk.checked_in_by
    if isinstance(by, str):
        by = json.loads(by)
    if isinstance(by, dict):
        if by.get('staffMemberId'):
            out['checkedInByStaffMember'] = by['staffMemberId']
        else:
            ident = next((v for k, v in by.items() if k != 'identityType'), None)
            if ident:
                out['checkedInBy'] = ident
    return out


def _backfill() -> None:
    conn = op.get_bind()
    after = ''
    while True:
        batch = conn.execute(
            sa.select(_orders).where(_orders.c.status.in_(('PAID', 'FREE')), _orders.c.id > after)
            .order_by(_orders.c.id).limit(_BATCH)
        ).all()
        if not batch:
            return
        after = batch[-1].id
        tickets: dict = {}
        for tk in conn.execute(
            sa.select(_tickets).where(_tickets.c.order_id.in_([o.id for o in batch]), _tickets.c.canceled.is_(False))
            .order_by(_tickets.c.order_id, _tickets.c.position)
        ):
            tickets.setdefault(tk.order_id, []).append(tk)
        rows: list = []
        t = dt.datetime.now(dt.UTC)
        for o in batch:
            live = tickets.get(o.id, [])

            def guest(kind, tk, contact, member, checked, history):
                at = t + dt.timedelta(microseconds=len(rows))  # in order, as the service makes them
                return {
                    'id': str(uuid.uuid4()), 'site_id': o.site_id, 'event_id': o.event_id, 'order_id': o.id,
                    'order_number': o.order_number, 'ticket_id': tk.id if tk else None,
                    'ticket_number': tk.ticket_number if tk else None, 'guest_type': kind, 'contact_id': contact,
                    'member_id': member, 'attendance_status': 'ATTENDING', 'checked_in': checked, 'check_ins': history,
                    'created_date': at, 'updated_date': at, 'attendance_status_updated_date': at, 'revision': 1, 'event_seq': 0,
                }

            rows.append(guest(
                'BUYER', None, o.contact_id, o.member_id,
                bool(live) and all(tk.checked_in_date is not None for tk in live),
                {tk.ticket_number: _entry(tk) for tk in live if tk.checked_in_date is not None},
            ))
            buyer = (o.email or '').strip().lower()
            for tk in live:
                own = tk.guest_email is not None and tk.guest_email.strip().lower() != buyer
                contact = str(uuid.uuid5(uuid.NAMESPACE_URL, f'{o.site_id}:{tk.guest_email.strip().lower()}')) if own else o.contact_id
                rows.append(guest(
                    'TICKET_HOLDER', tk, contact, None if own else o.member_id, tk.checked_in_date is not None,
                    {tk.ticket_number: _entry(tk)} if tk.checked_in_date is not None else {},
                ))
        conn.execute(_guests.insert(), rows)
