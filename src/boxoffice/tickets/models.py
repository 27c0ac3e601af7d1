from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Cents, Text, UTCDateTime


class Ticket(Base):
    """One seat of an order; what check-in marks."""

    __tablename__ = "tickets"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    ticket_number: Mapped[str] = mapped_column(String(24))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    order_number: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(36))
    ticket_definition_id: Mapped[str] = mapped_column(String(36))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text(30))
    price_cents: Mapped[int] = mapped_column(Cents())
    currency: Mapped[str] = mapped_column(String(3))
    free: Mapped[bool] = mapped_column(Boolean)
    policy: Mapped[str | None] = mapped_column(Text(1000))
    pricing_option_id: Mapped[str | None] = mapped_column(String(36))
    pricing_option_name: Mapped[str | None] = mapped_column(Text(200))
    guest_first_name: Mapped[str | None] = mapped_column(Text(50))
    guest_last_name: Mapped[str | None] = mapped_column(Text(50))
    guest_email: Mapped[str | None] = mapped_column(Text(255))
    guest_assigned: Mapped[bool] = mapped_column(Boolean, default=False)
    guest_form: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    checked_in_date: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    checked_in_by: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    canceled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_date: Mapped[Any] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("site_id", "ticket_number", name="uq_tickets_site_number"),
        Index("ix_tickets_order", "order_id", "position"),
        Index("ix_tickets_site_event", "site_id", "event_id", "ticket_number"),
    )
