from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Cents, Text, UTCDateTime, now


class OrderStatus(StrEnum):
    """Wix's legacy ``Order.status``."""

    NA_ORDER_STATUS = "NA_ORDER_STATUS"
    FREE = "FREE"
    PENDING = "PENDING"
    PAID = "PAID"
    OFFLINE_PENDING = "OFFLINE_PENDING"
    INITIATED = "INITIATED"
    CANCELED = "CANCELED"
    DECLINED = "DECLINED"
    AUTHORIZED = "AUTHORIZED"  # a card payment authorized, not yet taken (Stripe manual capture): seats sold, tickets not valid
    VOIDED = "VOIDED"  # the authorization let go (Void Authorized Payment): seats back


class ChannelType(StrEnum):
    """Wix's ``Order.channel``: where the order was made."""

    ONLINE = "ONLINE"  # the buyer checked out (a site, an app)
    OFFLINE_POS = "OFFLINE_POS"  # sold at the door by a staff member or the organiser (Pos Checkout)


# Confirmed: the seats are sold and the tickets valid at the door.
CONFIRMED = (OrderStatus.PAID, OrderStatus.FREE)
# Open: seats held (or sold: pay in person, authorized card), not paid for.
OPEN = (OrderStatus.PENDING, OrderStatus.OFFLINE_PENDING, OrderStatus.AUTHORIZED)


def fully_checked_in(tickets: list[Any]) -> bool:
    live = [t for t in tickets if not t.canceled and not t.archived]
    return bool(live) and all(t.checked_in_date is not None for t in live)


class Order(Base):
    """A checked-out reservation: buyer, totals in the reservation's currency, payment."""

    __tablename__ = "orders"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    order_number: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(36))
    reservation_id: Mapped[str] = mapped_column(ForeignKey("ticket_reservations.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    method: Mapped[str | None] = mapped_column(String(30))
    payment_provider: Mapped[str] = mapped_column(String(20))
    payment_id: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str] = mapped_column(Text(50))
    last_name: Mapped[str] = mapped_column(Text(50))
    email: Mapped[str] = mapped_column(Text(255))
    member_id: Mapped[str | None] = mapped_column(String(36))
    contact_id: Mapped[str] = mapped_column(String(36))
    checkout_form: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The event's policies the buyer agreed to by checking out (policies.service.agreement):
    # {"policies": [{policyId, revision, name}], "agreedDate", "via"}; None when it had none.
    policy_agreement: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_cents: Mapped[int] = mapped_column(Cents())
    fees_added_cents: Mapped[int] = mapped_column(Cents())
    revenue_cents: Mapped[int] = mapped_column(Cents())  # subtotal less included fees
    total_cents: Mapped[int] = mapped_column(Cents())
    invoice: Mapped[dict[str, Any]] = mapped_column(JSON)
    tickets_quantity: Mapped[int] = mapped_column(Integer)
    # A PENDING online order ends with its reservation's hold: past this it reads CANCELED
    # (lazily, as the reservation reads EXPIRED) until the sweeper writes it. An
    # OFFLINE_PENDING order's seats are held until this too (Settings.offline_hold_hours,
    # never past the event's start); then the scheduler cancels it and frees them.
    hold_expires: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_date: Mapped[Any] = mapped_column(UTCDateTime())
    updated_date: Mapped[Any] = mapped_column(UTCDateTime())
    event_seq: Mapped[int] = mapped_column(Integer, default=0)
    channel: Mapped[str] = mapped_column(String(20), default=ChannelType.ONLINE.value, server_default=ChannelType.ONLINE.value)

    def status_at(self, t: dt.datetime | None = None) -> str:
        """PENDING past its reservation's hold reads CANCELED before the scheduler writes it."""
        if self.status == OrderStatus.PENDING and self.hold_expires is not None and self.hold_expires <= (t or now()):
            return OrderStatus.CANCELED
        return self.status

    __table_args__ = (
        UniqueConstraint("site_id", "order_number", name="uq_orders_site_number"),
        Index("ix_orders_site_event_created", "site_id", "event_id", "created_date"),
        Index("ix_orders_site_created", "site_id", "created_date"),
        Index("ix_orders_due", "status", "hold_expires"),
    )
