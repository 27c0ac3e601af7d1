from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Cents, Text, UTCDateTime


class ReservationStatus(StrEnum):
    """Wix's ``TicketReservation.status`` (a str, so rows and wire carry the plain name)."""

    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    CANCELED = "CANCELED"
    CANCELED_MANUALLY = "CANCELED_MANUALLY"
    EXPIRED = "EXPIRED"


def status_at(status: str, expiration_date: dt.datetime | None, t: dt.datetime) -> str:
    """Expiry is lazy: PENDING past its expiration reads EXPIRED before anything writes it."""
    if status == ReservationStatus.PENDING and expiration_date is not None and expiration_date <= t:
        return ReservationStatus.EXPIRED
    return status


@dataclass
class NewReservationRow:
    """A reservation a batch accepted, as plain values: the batch writes it with one bulk
    INSERT (``vars(row)``) and presents it without an ORM object (the hot path)."""

    id: str
    site_id: str
    revision: int
    status: str
    expiration_date: dt.datetime
    created_date: dt.datetime
    updated_date: dt.datetime
    member_id: str | None
    visitor_id: str | None
    currency: str
    settings: dict[str, Any]
    extended_fields: dict[str, Any] | None
    tags: dict[str, Any] | None
    event_seq: int

    def status_at(self, t: dt.datetime) -> str:
        return status_at(self.status, self.expiration_date, t)


@dataclass
class NewLineRow:
    id: str
    reservation_id: str
    position: int
    event_id: str
    ticket_definition_id: str
    quantity: int
    price_cents: int
    fee_type: str
    ticket_name: str
    policy: str | None
    pricing_option_id: str | None
    pricing_option_name: str | None
    guest_price_cents: int | None


class TicketReservation(Base):
    """A buyer's hold on tickets. While PENDING its lines count in the definitions'
    ``reserved_count``; CONFIRMED moves them to ``sold_count``; any end releases them
    exactly once (every status change is a guarded ``UPDATE ... WHERE status = ...``)."""

    __tablename__ = "ticket_reservations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    expiration_date: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    created_date: Mapped[Any] = mapped_column(UTCDateTime())
    updated_date: Mapped[Any] = mapped_column(UTCDateTime())
    member_id: Mapped[str | None] = mapped_column(String(36))
    visitor_id: Mapped[str | None] = mapped_column(String(36))
    currency: Mapped[str] = mapped_column(String(3))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    extended_fields: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    tags: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    event_seq: Mapped[int] = mapped_column(Integer, default=0)

    def status_at(self, t: dt.datetime) -> str:
        return status_at(self.status, self.expiration_date, t)

    __table_args__ = (
        Index("ix_reservations_site_created", "site_id", "created_date"),
        Index("ix_reservations_due", "status", "expiration_date"),
    )


class ReservationLine(Base):
    """One ticket line of a reservation, with the price snapshot taken at reservation."""

    __tablename__ = "reservation_lines"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # ticketLineItemId
    reservation_id: Mapped[str] = mapped_column(ForeignKey("ticket_reservations.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(36))
    ticket_definition_id: Mapped[str] = mapped_column(String(36))
    quantity: Mapped[int] = mapped_column(Integer)
    price_cents: Mapped[int] = mapped_column(Cents())
    fee_type: Mapped[str] = mapped_column(String(32))
    ticket_name: Mapped[str] = mapped_column(Text(30))
    policy: Mapped[str | None] = mapped_column(Text(1000))
    pricing_option_id: Mapped[str | None] = mapped_column(String(36))
    pricing_option_name: Mapped[str | None] = mapped_column(Text(200))
    guest_price_cents: Mapped[int | None] = mapped_column(Cents())

    __table_args__ = (
        Index("ix_lines_reservation", "reservation_id", "position"),
        Index("ix_lines_definition", "ticket_definition_id"),
    )
