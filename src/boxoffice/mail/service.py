"""Mail to buyers, queued in the caller's unit of work: the confirmation when an order
becomes confirmed (``orders.hooks.confirmed``), Resend Confirmation, the notice that an
order was canceled (``orders.hooks.canceled``) and that a payment is being refunded
because it came too late (``orders.hooks.refund_owed``).

Only the order's own e-mail address is ever a recipient (no caller names one), so no
tenant can use Boxoffice to send mail elsewhere. Sending is the worker's (worker.py).
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import after_commit, notify, now
from ..errors import FailedPrecondition, NotFound
from ..identity import Principal
from ..orders import service as orders
from ..orders.models import CONFIRMED, Order
from ..payments.models import PaymentRefund
from .models import MESSAGES_PER_ORDER_MAX, MailKind, MailMessage, MailStatus
from .worker import CHANNEL, committed

ORDER_NUMBER_MAX = 20


def _message_id(order: Order, kind: str, resend: bool) -> str:
    """An order's first message of a kind has a fixed id (queued twice, kept once);
    every resend a new one. (The sender adds ``@`` and the From address's domain.)"""
    tail = f".{uuid.uuid4().hex}" if resend else ""
    return f"{kind}.{order.id}{tail}"


def _announce(session: Session) -> None:
    """Wake this process's mail loop once the unit commits, and (PostgreSQL) the other
    processes' through NOTIFY, which is sent at COMMIT too."""
    if session.info.get("mail_queued"):
        return
    session.info["mail_queued"] = True
    after_commit(session, "mail.wake", committed.set)
    if session.get_bind().dialect.name == "postgresql":
        notify(session, CHANNEL)


def queue(session: Session, order: Order, kind: str = MailKind.CONFIRMATION, resend: bool = False) -> MailMessage:
    """Write one message for ``order``'s buyer into this unit (sent after it commits)."""
    message_id = _message_id(order, kind, resend)
    existing = session.scalars(
        select(MailMessage).where(MailMessage.site_id == order.site_id, MailMessage.message_id == message_id)
    ).first()
    if existing is not None:
        return existing
    t = now()
    m = MailMessage(
        id=str(uuid.uuid4()),
        site_id=order.site_id,
        order_id=order.id,
        kind=str(kind),
        message_id=message_id,
        recipient=order.email,
        status=MailStatus.PENDING,
        attempts=0,
        next_attempt_date=t,
        lease_until=None,
        last_error=None,
        sent_date=None,
        created_date=t,
    )
    session.add(m)
    _announce(session)
    return m


def queue_confirmation(session: Session, order: Order) -> None:
    """``orders.hooks.confirmed``: the order became PAID or FREE in this unit (a door
    sale without a buyer's address has nobody to write to)."""
    if order.email:
        queue(session, order, MailKind.CONFIRMATION)


def queue_cancellation(session: Session, order: Order) -> None:
    """``orders.hooks.canceled``: the organiser canceled the order (or its event)."""
    if order.email:
        queue(session, order, MailKind.CANCELLATION)


def queue_refund_notice(session: Session, order: Order, refund: PaymentRefund) -> None:
    """``orders.hooks.refund_owed``: the buyer paid, but the order could not be kept."""
    queue(session, order, MailKind.PAYMENT_REFUNDED)


orders.hooks.confirmed.append(queue_confirmation)
orders.hooks.canceled.append(queue_cancellation)
orders.hooks.refund_owed.append(queue_refund_notice)


def resend_confirmation(session: Session, principal: Principal, order_number: str) -> MailMessage:
    """Queue the confirmation again, as a new message, to the order's own address. Only a
    confirmed order's; one waiting at a time; at most MESSAGES_PER_ORDER_MAX ever."""
    if len(order_number) > ORDER_NUMBER_MAX:
        raise NotFound(f"Order {order_number[:ORDER_NUMBER_MAX]}... not found", code="ORDER_NOT_FOUND")
    order = orders.get(session, principal, None, order_number, lock_row=True)
    if order.status not in CONFIRMED:
        raise FailedPrecondition(
            f"Order {order_number} is {order.status}: only a paid or free order's confirmation can be sent",
            code="ORDER_NOT_CONFIRMED",
            data={"orderStatus": order.status},
        )
    counts: dict[str, int] = {
        status: n
        for status, n in session.execute(
            select(MailMessage.status, func.count())
            .where(MailMessage.site_id == order.site_id, MailMessage.order_id == order.id)
            .group_by(MailMessage.status)
        ).all()
    }
    if counts.get(MailStatus.PENDING):
        raise FailedPrecondition(
            f"A confirmation e-mail of order {order_number} is still waiting to be sent", code="MAIL_ALREADY_QUEUED"
        )
    if sum(counts.values()) >= MESSAGES_PER_ORDER_MAX:
        raise FailedPrecondition(
            f"Order {order_number} has had {MESSAGES_PER_ORDER_MAX} e-mails; no more are sent",
            code="MAIL_LIMIT_REACHED",
            data={"limit": MESSAGES_PER_ORDER_MAX},
        )
    m = queue(session, order, MailKind.CONFIRMATION, resend=True)
    session.flush()
    return m


def find_order_site(session: Session, order_number: str) -> list[str]:
    """The sites that have an order with this number (for the CLI without --site)."""
    return list(session.scalars(select(Order.site_id).where(Order.order_number == order_number).order_by(Order.site_id)))
