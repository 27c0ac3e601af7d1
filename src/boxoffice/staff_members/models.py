"""Event staff (`@wix/auto_sdk_events_staff-members`): a site's staff members and the
events each is assigned to by name."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Text, UTCDateTime

# The typings' bounds: name 1-120 characters, at most 4 permissions.
NAME_MAX = 120
PERMISSIONS_MAX = 4


class StaffMemberStatus(StrEnum):
    PENDING = "PENDING"  # has not logged in yet
    HAS_ACCESS = "HAS_ACCESS"  # logged in at least once
    ACCESS_PAUSED = "ACCESS_PAUSED"  # set by the owner: Login, Join, Access and its keys are refused


class StaffPermission(StrEnum):
    """What the staff member may do in the Check-in app (the typings' ``Permission``).
    Boxoffice serves ``CHECK_IN_GUESTS`` (the guest list, check-in, scanning) and
    ``READ_GUEST_FORM`` (the guests' form answers in what it reads) and ``SELL_TICKETS``
    (selling at the door: the legacy Create/Cancel Reservation and Pos Checkout, see
    ``orders.service.seller``); the others are kept and shown but grant nothing here."""

    CHECK_IN_GUESTS = "CHECK_IN_GUESTS"
    SELL_TICKETS = "SELL_TICKETS"
    ADD_GUESTS = "ADD_GUESTS"
    READ_ANALYTICS = "READ_ANALYTICS"
    READ_GUEST_FORM = "READ_GUEST_FORM"


class StaffMember(Base):
    """A person who runs a site's events. ``all_events``: assigned to every event of the
    site, present and future; otherwise to the events in ``staff_member_events``."""

    __tablename__ = "staff_members"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(Text(NAME_MAX), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    all_events: Mapped[bool] = mapped_column(Boolean)
    permissions: Mapped[str] = mapped_column(String(100))  # comma-separated StaffPermission values
    extended_fields: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    revision: Mapped[int] = mapped_column(Integer)
    created_date: Mapped[Any] = mapped_column(UTCDateTime())
    updated_date: Mapped[Any] = mapped_column(UTCDateTime())
    event_seq: Mapped[int] = mapped_column(Integer, default=0)  # last entityEventSequence used

    @property
    def permission_list(self) -> list[str]:
        return [p for p in self.permissions.split(",") if p]

    __table_args__ = (Index("ix_staff_members_site_created", "site_id", "created_date", "id"),)


class StaffMemberEvent(Base):
    """One event a staff member is assigned to (``position``: the order it was given in)."""

    __tablename__ = "staff_member_events"
    staff_member_id: Mapped[str] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_staff_member_events_event", "event_id"),)
