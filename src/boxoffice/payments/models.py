"""Refunds owed to buyers, one per payment (at most once)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Cents, UTCDateTime


class RefundStatus(StrEnum):
    PENDING = "PENDING"  # decided in the order's unit; the provider not yet asked (or its answer lost)
    SUCCEEDED = "SUCCEEDED"  # the provider made it: ``refund_id``
    BY_HAND = "BY_HAND"  # paid in person (or marked paid): the organiser gives the money back, Boxoffice records it
    FAILED = "FAILED"  # the provider refused it REFUND_ATTEMPTS_MAX times: the operator must look (``last_error``)
    # the organiser canceled a paid order and kept the money (Cancel Order ``refund: false``): the
    # record that this payment is not owed back, so that no later event of it refunds it
    KEPT = "KEPT"


# A refund the provider could not make is tried again by the background refunder, at
# most this many times, waiting REFUND_BACKOFF_SECONDS * 2**attempts (capped at an hour).
REFUND_ATTEMPTS_MAX = 12
REFUND_BACKOFF_SECONDS = 30.0

# Why a refund is owed (``PaymentRefund.reason``, and the e-mail the buyer gets).
LATE_PAYMENT = "PAID_AFTER_HOLD_EXPIRED"
AMOUNT_MISMATCH = "AMOUNT_MISMATCH"
ORDER_CANCELED = "ORDER_CANCELED"


class PaymentRefund(Base):
    """Money to give back for one payment: a payment that came for an order that could
    not be sold any more (it succeeded after the order's hold expired, or for another
    amount), or a paid order its organiser canceled. Written in the unit that ends the
    order, made at the provider outside it (``refunds.make``), retried by the
    background refunder until it is made (leased, so one process at a time asks)."""

    __tablename__ = "payment_refunds"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))
    payment_id: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(Cents())
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    refund_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_date: Mapped[Any] = mapped_column(UTCDateTime())
    refunded_date: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_date: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    lease_until: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (
        UniqueConstraint("site_id", "provider", "payment_id", name="uq_payment_refunds_payment"),
        Index("ix_payment_refunds_site_order", "site_id", "order_id"),
        Index("ix_payment_refunds_due", "status", "next_attempt_date"),
    )
