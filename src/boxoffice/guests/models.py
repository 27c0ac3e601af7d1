"""Event guests (`@wix/auto_sdk_events_guests`): one row per guest of a confirmed order.

A confirmed (PAID or FREE) order has one ``BUYER`` guest and one ``TICKET_HOLDER`` guest
per ticket. The rows are written in the order's own unit of work, through the hooks of
the slices below (guests/service.py), and deleted when the order is canceled: Query
Guests lists exactly the guests of an event's confirmed orders. What a guest row keeps
is what Query Guests filters and sorts by and what only the guest knows (its check-in
history, its revision); the names, e-mail and form answers are read from the order and
the ticket when the guest is presented, so an edited form shows at once."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Text, UTCDateTime


class GuestType(StrEnum):
    RSVP = "RSVP"  # an RSVP event's guest: Boxoffice has no RSVP registration, so none are made
    BUYER = "BUYER"
    TICKET_HOLDER = "TICKET_HOLDER"


class AttendanceStatus(StrEnum):
    """The Guest Attendance Status Mapping: a guest of a PAID, FREE (or OFFLINE_PENDING)
    order is ATTENDING; a canceled order's guests are NOT_ATTENDING in their last
    webhooks, then deleted. IN_WAITLIST is for RSVP guests only."""

    NOT_ATTENDING = "NOT_ATTENDING"
    ATTENDING = "ATTENDING"
    IN_WAITLIST = "IN_WAITLIST"


class Guest(Base):
    """One guest. ``ticket_id`` / ``ticket_number``: a TICKET_HOLDER's ticket (NULL for a
    BUYER). ``checked_in``: a ticket holder's ticket is checked in; a buyer's every
    ticket (not canceled) is. ``check_ins``: ``{ticket number: GuestCheckInDetails as
    the wire has it}`` for each of the guest's tickets with a check-in history (a buyer:
    all of the order's, at most 50; a ticket holder: its one)."""

    __tablename__ = "guests"
    id: Mapped[str] = mapped_column(Text(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(Text(36))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    order_number: Mapped[str] = mapped_column(Text(20))
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), nullable=True)
    ticket_number: Mapped[str | None] = mapped_column(Text(24), nullable=True)
    guest_type: Mapped[str] = mapped_column(String(16))
    contact_id: Mapped[str] = mapped_column(Text(36))
    member_id: Mapped[str | None] = mapped_column(Text(36), nullable=True)
    attendance_status: Mapped[str] = mapped_column(String(16))
    checked_in: Mapped[bool] = mapped_column(Boolean)
    check_ins: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_date: Mapped[Any] = mapped_column(UTCDateTime())
    updated_date: Mapped[Any] = mapped_column(UTCDateTime())
    attendance_status_updated_date: Mapped[Any] = mapped_column(UTCDateTime())
    revision: Mapped[int] = mapped_column(Integer)
    event_seq: Mapped[int] = mapped_column(Integer, default=0)  # last entityEventSequence used

    __table_args__ = (
        # Query Guests: by event (the usual filter) and over the site, in the default order
        Index("ix_guests_site_event_created", "site_id", "event_id", "created_date", "id"),
        Index("ix_guests_site_created", "site_id", "created_date", "id"),
        # the hooks: an order's guests (confirmed, canceled), a ticket's holder (check-in)
        Index("ix_guests_order", "order_id"),
        Index("ix_guests_ticket", "ticket_id", unique=True),
    )
