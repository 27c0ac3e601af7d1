from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Text, UTCDateTime

# registration.tickets.ticketLimitPerOrder of an event that sets none (Wix: default 20,
# at most 50). Not limitPerCheckout, which is per ticket definition.
DEFAULT_TICKET_LIMIT_PER_ORDER = 20

# The event_reminder webhooks (the typings: "In total there are 6 reminders: 7 days,
# 3 days, 1 day, 2 hours, 1 hour, 30 minutes" before the start), earliest first, each
# with its ``startsIn`` (a TimeDuration).
REMINDERS: tuple[tuple[dt.timedelta, dict[str, int]], ...] = (
    (dt.timedelta(days=7), {"days": 7}),
    (dt.timedelta(days=3), {"days": 3}),
    (dt.timedelta(days=1), {"days": 1}),
    (dt.timedelta(hours=2), {"hours": 2}),
    (dt.timedelta(hours=1), {"hours": 1}),
    (dt.timedelta(minutes=30), {"minutes": 30}),
)


class EventState(StrEnum):
    """What an organiser decided; the wire ``status`` adds the clock (UPCOMING/STARTED/ENDED)."""

    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    CANCELED = "CANCELED"


class Event(Base):
    """An Events v3 event. ``state`` is what was decided (DRAFT/PUBLISHED/CANCELED);
    the wire ``status`` (UPCOMING/STARTED/ENDED...) is derived from it and the clock."""

    __tablename__ = "events"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(Text(120))
    short_description: Mapped[str | None] = mapped_column(Text(500))
    slug: Mapped[str] = mapped_column(Text(200))
    state: Mapped[str] = mapped_column(String(16))
    date_tbd: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    end_date: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    date_settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    location: Mapped[dict[str, Any]] = mapped_column(JSON)
    initial_type: Mapped[str] = mapped_column(String(16))
    registration_type: Mapped[str] = mapped_column(String(16))
    registration: Mapped[dict[str, Any]] = mapped_column(JSON)  # the rest of `registration`
    currency: Mapped[str | None] = mapped_column(String(3))
    created_date: Mapped[Any] = mapped_column(UTCDateTime())
    updated_date: Mapped[Any] = mapped_column(UTCDateTime())
    published_date: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    event_seq: Mapped[int] = mapped_column(Integer, default=0)  # last entityEventSequence used
    # What an organiser sets besides the above, as the wire spells it (events/wire.py's
    # FIELDSETS says which fieldset returns which): the REST image object, the deprecated
    # plain-text description, the RichContent description, and ``settings`` =
    # {guestListSettings, onlineConferencing, seoSettings, agendaSettings,
    # eventDisplaySettings, eventPageUrl}. ``user_id``: who created the event.
    main_image: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    detailed_description: Mapped[str | None] = mapped_column(Text(50_000))
    description: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    user_id: Mapped[str | None] = mapped_column(String(64))
    # The scheduler's bookkeeping (event_started / event_ended / event_reminder), as
    # ticket definitions keep theirs: the start and end an event_started / event_ended
    # was emitted for, the time up to which reminders are dealt with, and when the
    # scheduler next has something to do for this event (indexed; NULL = nothing).
    started_for: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    ended_for: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    reminded_until: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    next_lifecycle: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)

    def status_at(self, t: dt.datetime) -> str:
        """The wire status: DRAFT / CANCELED as decided, else UPCOMING / STARTED / ENDED by the clock."""
        if self.state in (EventState.DRAFT, EventState.CANCELED):
            return self.state
        if self.end_date is not None and self.end_date <= t:
            return "ENDED"
        if self.start_date is not None and self.start_date <= t:
            return "STARTED"
        return "UPCOMING"

    __table_args__ = (
        UniqueConstraint("site_id", "slug", name="uq_events_site_slug"),
        Index("ix_events_site_created", "site_id", "created_date", "id"),
        Index("ix_events_next_lifecycle", "next_lifecycle"),
    )
