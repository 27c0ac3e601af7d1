"""Recording refunds (the ``payment_refunds`` table): decided in a unit of work, made at
the provider after it commits, marked made in a unit of its own."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import PaymentRefund, RefundStatus


def find(session: Session, site_id: str, provider: str, payment_id: str) -> PaymentRefund | None:
    stmt = select(PaymentRefund).where(
        PaymentRefund.site_id == site_id, PaymentRefund.provider == provider, PaymentRefund.payment_id == payment_id
    )
    return session.scalars(stmt).first()


def owe(
    session: Session, site_id: str, order_id: str, provider: str, payment_id: str, amount_cents: int, currency: str,
    reason: str, t: dt.datetime,
) -> PaymentRefund:
    """The refund of ``payment_id``, written PENDING unless it exists (once per payment)."""
    row = find(session, site_id, provider, payment_id)
    if row is None:
        row = PaymentRefund(
            id=str(uuid.uuid4()), site_id=site_id, order_id=order_id, provider=provider, payment_id=payment_id,
            amount_cents=amount_cents, currency=currency, reason=reason, status=RefundStatus.PENDING,
            refund_id=None, created_date=t, refunded_date=None,
        )
        session.add(row)
        session.flush()
    return row


def made(session: Session, site_id: str, provider: str, payment_id: str, refund_id: str, t: dt.datetime) -> None:
    row = find(session, site_id, provider, payment_id)
    if row is not None and row.status != RefundStatus.SUCCEEDED:
        row.status, row.refund_id, row.refunded_date = RefundStatus.SUCCEEDED, refund_id, t
        session.flush()
