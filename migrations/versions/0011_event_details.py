"""event_details

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 02:30:00

The whole Events v3 Event (main image, descriptions, settings, who created it) and the
scheduler's bookkeeping for event_started / event_ended / event_reminder. Existing
events get empty settings; published ones with dates are planned as if published now:
boundaries already behind them count as done, reminders due before now are skipped.
"""
import datetime as dt

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import boxoffice.db  # noqa: F401


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# events.models.REMINDERS, as of this revision
REMINDERS = (dt.timedelta(days=7), dt.timedelta(days=3), dt.timedelta(days=1),
             dt.timedelta(hours=2), dt.timedelta(hours=1), dt.timedelta(minutes=30))


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('main_image', sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column('detailed_description', sa.String(length=50000).with_variant(sa.String(length=50000, collation='C'), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('description', sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column('settings', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('user_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('started_for', boxoffice.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('ended_for', boxoffice.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('reminded_until', boxoffice.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('next_lifecycle', boxoffice.db.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_events_next_lifecycle', ['next_lifecycle'], unique=False)
    _plan_existing()


def _plan_existing() -> None:
    """Published events with dates: what is behind them is done, the rest is due."""
    events = sa.table(
        'events', sa.column('id', sa.String()), sa.column('state', sa.String()), sa.column('date_tbd', sa.Boolean()),
        sa.column('start_date', boxoffice.db.UTCDateTime()), sa.column('end_date', boxoffice.db.UTCDateTime()),
        sa.column('started_for', boxoffice.db.UTCDateTime()), sa.column('ended_for', boxoffice.db.UTCDateTime()),
        sa.column('reminded_until', boxoffice.db.UTCDateTime()), sa.column('next_lifecycle', boxoffice.db.UTCDateTime()),
    )
    bind = op.get_bind()
    t = dt.datetime.now(dt.UTC)
    rows = bind.execute(
        sa.select(events.c.id, events.c.start_date, events.c.end_date).where(
            events.c.state == 'PUBLISHED', events.c.date_tbd.is_(False),
            events.c.start_date.is_not(None), events.c.end_date.is_not(None),
        )
    ).all()
    for event_id, start, end in rows:
        started = start if start <= t else None
        ended = end if end <= t else None
        pending = [x for x, done in ((start, started), (end, ended)) if done is None]
        pending += [r for r in (start - before for before in REMINDERS) if t < r][:1]
        bind.execute(
            events.update().where(events.c.id == event_id).values(
                started_for=started, ended_for=ended, reminded_until=t, next_lifecycle=min(pending) if pending else None
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_next_lifecycle')
        batch_op.drop_column('next_lifecycle')
        batch_op.drop_column('reminded_until')
        batch_op.drop_column('ended_for')
        batch_op.drop_column('started_for')
        batch_op.drop_column('user_id')
        batch_op.drop_column('settings')
        batch_op.drop_column('description')
        batch_op.drop_column('detailed_description')
        batch_op.drop_column('main_image')
