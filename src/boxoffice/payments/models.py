"""Refunds a provider was asked to make, one per payment (at most once)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Cents, UTCDateTime


class RefundStatus(StrEnum):
    PENDING = "PENDING"  # decided in the order's unit; the provider not yet asked (or its answer lost)
    SUCCEEDED = "SUCCEEDED"  # the provider made it: ``refund_id``


class PaymentRefund(Base):
    """A payment that came for an order that could not be sold any more (it succeeded
    after the order's hold expired, or for another amount): written in the unit that
    ends the order, then made at the provider outside it (orders/routes.py)."""

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

    __table_args__ = (
        UniqueConstraint("site_id", "provider", "payment_id", name="uq_payment_refunds_payment"),
        Index("ix_payment_refunds_site_order", "site_id", "order_id"),
    )
