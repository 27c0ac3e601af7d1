"""Refunds (the ``payment_refunds`` table): decided in a unit of work, made at the
provider after it commits, marked made in a unit of its own.

Whoever owes a refund writes it PENDING in the unit that ends the order, leased to
itself for ``FIRST_TRY_SECONDS`` so that it can try at once after COMMIT (the Stripe
webhook, Cancel Order); whatever that try does not finish (Stripe unreachable, the
process killed between COMMIT and the call) the background :class:`Refunder` finds
once the lease has run out, and tries again with backoff. Refunds are leased like
e-mails and webhook deliveries, so two processes never ask the provider at once; the
provider side is idempotent as well (``StripeProvider.refund`` looks for a refund
already made on the payment, and sends an idempotency key).

A payment taken in person (or marked paid by a manager) has no provider to ask: its
refund is written BY_HAND, the organiser's record that the money is to be given back.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from ..db import Database, now
from ..errors import Unavailable, WixError
from .models import REFUND_ATTEMPTS_MAX, REFUND_BACKOFF_SECONDS, PaymentRefund, RefundStatus

if TYPE_CHECKING:
    from . import Payments

log = logging.getLogger("boxoffice.refunds")

# The owing request's own try after COMMIT must finish within this; then the refunder may.
FIRST_TRY_SECONDS = 60.0
# How long one background attempt may hold a refund (the Stripe client times out at 10 s).
LEASE_SECONDS = 60.0
# paid in person, marked paid by a manager, sold at the door: no provider holds the money
BY_HAND_PROVIDERS = frozenset({"offline", "manual", "pos"})


def find(session: Session, site_id: str, provider: str, payment_id: str) -> PaymentRefund | None:
    stmt = select(PaymentRefund).where(
        PaymentRefund.site_id == site_id, PaymentRefund.provider == provider, PaymentRefund.payment_id == payment_id
    )
    return session.scalars(stmt).first()


def of_order(session: Session, site_id: str, order_id: str) -> PaymentRefund | None:
    stmt = select(PaymentRefund).where(PaymentRefund.site_id == site_id, PaymentRefund.order_id == order_id)
    return session.scalars(stmt.order_by(PaymentRefund.created_date)).first()


def owe(
    session: Session, site_id: str, order_id: str, provider: str, payment_id: str, amount_cents: int, currency: str,
    reason: str, t: dt.datetime,
) -> PaymentRefund:
    """The refund of ``payment_id``, written unless it exists (once per payment): PENDING
    and leased to the caller for its first try, or BY_HAND for a payment taken in person."""
    row = find(session, site_id, provider, payment_id)
    if row is None:
        by_hand = provider in BY_HAND_PROVIDERS
        row = PaymentRefund(
            id=str(uuid.uuid4()), site_id=site_id, order_id=order_id, provider=provider, payment_id=payment_id,
            amount_cents=amount_cents, currency=currency, reason=reason,
            status=RefundStatus.BY_HAND if by_hand else RefundStatus.PENDING,
            refund_id=None, created_date=t, refunded_date=t if by_hand else None, attempts=0,
            next_attempt_date=None if by_hand else t,
            lease_until=None if by_hand else t + dt.timedelta(seconds=FIRST_TRY_SECONDS), last_error=None,
        )
        session.add(row)
        session.flush()
    return row


def kept(
    session: Session, site_id: str, order_id: str, provider: str, payment_id: str, amount_cents: int, currency: str,
    t: dt.datetime,
) -> PaymentRefund:
    """The record that ``payment_id`` is kept (a paid order canceled with ``refund: false``),
    unless a refund of it exists: a provider's event of it that comes again later finds
    this row and refunds nothing."""
    row = find(session, site_id, provider, payment_id)
    if row is None:
        row = PaymentRefund(
            id=str(uuid.uuid4()), site_id=site_id, order_id=order_id, provider=provider, payment_id=payment_id,
            amount_cents=amount_cents, currency=currency, reason="KEPT_ON_CANCEL", status=RefundStatus.KEPT,
            refund_id=None, created_date=t, refunded_date=None, attempts=0, next_attempt_date=None,
            lease_until=None, last_error=None,
        )
        session.add(row)
        session.flush()
    return row


def made(session: Session, site_id: str, provider: str, payment_id: str, refund_id: str, t: dt.datetime) -> None:
    row = find(session, site_id, provider, payment_id)
    if row is not None and row.status != RefundStatus.SUCCEEDED:
        row.status, row.refund_id, row.refunded_date = RefundStatus.SUCCEEDED, refund_id, t
        row.lease_until, row.next_attempt_date, row.last_error = None, None, None
        session.flush()


@dataclass(frozen=True)
class Owed:
    """A refund to make now, outside any unit of work (plain values: no row crosses COMMIT)."""

    id: str
    site_id: str
    provider: str
    payment_id: str
    reason: str
    attempts: int
    lease_until: dt.datetime | None

    @classmethod
    def of(cls, row: PaymentRefund) -> Owed:
        return cls(row.id, row.site_id, row.provider, row.payment_id, row.reason, row.attempts, row.lease_until)


def _failed(session: Session, owed: Owed, error: str, t: dt.datetime) -> None:
    attempts = owed.attempts + 1
    values: dict[str, object] = {"attempts": attempts, "lease_until": None, "last_error": error[:200]}
    if attempts >= REFUND_ATTEMPTS_MAX:
        values["status"] = RefundStatus.FAILED
        log.error("refund %s of payment %s failed %d times: %s; giving up (FAILED)", owed.id, owed.payment_id, attempts, error)
    else:
        wait = min(REFUND_BACKOFF_SECONDS * 2 ** (attempts - 1), 3600.0)
        values["next_attempt_date"] = t + dt.timedelta(seconds=wait)
    session.execute(
        update(PaymentRefund)
        .where(PaymentRefund.id == owed.id, PaymentRefund.status == RefundStatus.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def make(db: Database, payments: Payments, owed: Owed) -> str | None:
    """Ask the provider for ``owed``; record the answer in a unit of its own. Returns the
    provider's refund id, or None when it could not be made now (retried later)."""
    provider = payments.provider(owed.provider)
    try:
        if provider is None:
            raise Unavailable(f"the payment provider {owed.provider!r} is not configured in this process")
        refund_id = provider.refund(owed.payment_id, owed.reason)
    except WixError as e:
        error = str(e)
        db.write(lambda s: _failed(s, owed, error, now()))
        return None
    db.write(lambda s: made(s, owed.site_id, owed.provider, owed.payment_id, refund_id, now()))
    return refund_id


def _claimable(t: dt.datetime) -> object:
    R = PaymentRefund
    return and_(R.status == RefundStatus.PENDING, R.next_attempt_date <= t, or_(R.lease_until.is_(None), R.lease_until <= t))


def claim(session: Session, t: dt.datetime, limit: int = 20) -> list[Owed]:
    rows = list(
        session.scalars(
            select(PaymentRefund)
            .where(_claimable(t))  # type: ignore[arg-type]
            .order_by(PaymentRefund.next_attempt_date, PaymentRefund.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    lease = t + dt.timedelta(seconds=LEASE_SECONDS)
    for row in rows:
        row.lease_until = lease
    session.flush()
    return [Owed.of(r) for r in rows]


def make_due(db: Database, payments: Payments, limit: int = 20) -> int:
    """One round of the refunder: every refund whose first try did not finish."""
    due = db.write(lambda s: claim(s, now(), limit))
    return sum(make(db, payments, owed) is not None for owed in due)


class Refunder:
    """Runs :func:`make_due` every ``interval`` seconds until stopped (a Background thread)."""

    def __init__(self, db: Database, payments: Payments, interval: float = 5.0) -> None:
        self.db, self.payments, self.interval = db, payments, interval

    def serve(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            try:
                make_due(self.db, self.payments)
            except Exception:
                log.exception("refund round failed")
