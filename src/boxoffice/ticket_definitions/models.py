from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Text, UTCDateTime


class SaleStatus(StrEnum):
    SALE_SCHEDULED = "SALE_SCHEDULED"
    SALE_STARTED = "SALE_STARTED"
    SALE_ENDED = "SALE_ENDED"


class TicketDefinition(Base):
    """Ticket Definitions v3.

    Money is kept in integer cents (exact and comparable on both databases).
    ``sold_count``/``reserved_count`` are the inventory counters that reservations
    move with one conditional UPDATE; ``salesDetails`` is derived from them.
    """

    __tablename__ = "ticket_definitions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    created_date: Mapped[Any] = mapped_column(UTCDateTime())
    updated_date: Mapped[Any] = mapped_column(UTCDateTime())
    name: Mapped[str] = mapped_column(Text(30))
    description: Mapped[str | None] = mapped_column(Text(500))
    policy_text: Mapped[str | None] = mapped_column(Text(1000))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    limited: Mapped[bool] = mapped_column(Boolean)
    initial_limit: Mapped[int | None] = mapped_column(Integer)
    actual_limit: Mapped[int | None] = mapped_column(Integer)
    # exactly one of: fixed price / guest (minimum) price / price options
    fixed_price_cents: Mapped[int | None] = mapped_column(BigInteger)
    guest_price_cents: Mapped[int | None] = mapped_column(BigInteger)
    price_options: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    currency: Mapped[str] = mapped_column(String(3))
    pricing_type: Mapped[str] = mapped_column(String(16))
    free: Mapped[bool] = mapped_column(Boolean)
    fee_type: Mapped[str] = mapped_column(String(32))
    sale_start: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    sale_end: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    display_not_on_sale: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_index: Mapped[int] = mapped_column(Integer)
    extended_fields: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    sold_count: Mapped[int] = mapped_column(Integer, default=0)
    reserved_count: Mapped[int] = mapped_column(Integer, default=0)
    event_seq: Mapped[int] = mapped_column(Integer, default=0)  # last entityEventSequence used
    # Earliest expiry among PENDING holds (may lag behind, never ahead): while it is in
    # the future no hold is overdue and reads need not look at reservations at all.
    next_hold_expiry: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    # The scheduler's bookkeeping: the sale start/end a sale_started/sale_ended was
    # emitted for, and when it next has something to emit (indexed; NULL = nothing).
    sale_started_for: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    sale_ended_for: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    next_sale_transition: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_td_site_event_created", "site_id", "event_id", "created_date", "id"),
        Index("ix_td_site_created", "site_id", "created_date", "id"),
        Index("ix_td_event_sort", "event_id", "sort_index"),
        Index("ix_td_next_sale_transition", "next_sale_transition"),
    )
