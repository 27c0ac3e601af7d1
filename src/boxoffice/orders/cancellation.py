"""Cancel Order (with its refund) and Cancel Event with its orders: an organiser's
decision to end a sale that was made (Boxoffice's own methods: the SDK has none).

What canceling an order does, all in the caller's unit of work:

* the order becomes CANCELED and its tickets canceled (check-in and scanning refuse them
  with ``TICKET_CANCELED``); its seats go back to the definitions (a sold order's
  reservation CONFIRMED -> CANCELED, a pending one's hold released), so ``unsoldCount``
  and the live counter move at COMMIT; ``OrderUpdated`` says so;
* a paid order's money is owed back (``payments.refunds.owe``, once per payment): through
  its provider (Stripe: a refund of the PaymentIntent, made after COMMIT, then retried by
  the background refunder until made), or BY_HAND when it was paid in person or marked
  paid, which the organiser settles and Boxoffice records. ``refund=False`` keeps the
  money (an event whose policy says no refunds);
* ``hooks.canceled`` run: the buyer's e-mail saying so (and what is refunded), the guests.

An order still awaiting an online payment is canceled too (its PaymentIntent is
canceled after COMMIT; a payment that succeeds anyway is refunded by the webhook, as
any late payment is); an AUTHORIZED one's authorization is let go the same way. Lock order: event, then orders (by id), then definitions
(``inventory.move``), as everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import now
from ..errors import FailedPrecondition, PermissionDenied
from ..events import service as events_service
from ..events.models import Event, EventState
from ..identity import Permission, Principal
from ..payments import refunds as payment_refunds
from ..payments.models import ORDER_CANCELED, PaymentRefund
from ..reservations import service as reservations
from ..reservations.models import ReservationStatus, TicketReservation
from . import service
from .models import CONFIRMED, OPEN, Order, OrderStatus

# Cancel Event's orders go in one unit (all or none): at most this many.
EVENT_ORDERS_MAX = 20_000


@dataclass
class Canceled:
    """One canceled order, the refund it owes (None: nothing paid, or kept), and the
    online payment to stop after COMMIT (an order canceled while awaiting it)."""

    order: Order
    refund: PaymentRefund | None
    stop_payment: tuple[str, str] | None  # (provider, payment id)


def _cancel(session: Session, principal: Principal, order: Order, refund: bool) -> Canceled:
    t = now()
    status = order.status_at(t)
    if status not in CONFIRMED + OPEN:
        raise FailedPrecondition(
            f"Order {order.order_number} is {status}: only a paid, free or unpaid order can be canceled",
            code="ORDER_ACTION_NOT_AVAILABLE",
            data={"orderStatus": status},
        )
    identity = principal.webhook_identity()
    r = session.get(TicketReservation, order.reservation_id)
    stop = None
    if r is not None:
        if order.status == OrderStatus.PENDING:
            reservations.release_hold(session, r, ReservationStatus.CANCELED, identity, t)
        else:
            reservations.release_sale(session, r, ReservationStatus.CANCELED, identity, t)
    if order.status in (OrderStatus.PENDING, OrderStatus.AUTHORIZED) and order.payment_id:
        stop = (order.payment_provider, order.payment_id)  # not taken: canceled (or voided), not refunded
    paid = order.status == OrderStatus.PAID and order.total_cents > 0
    service.end(session, identity, order, OrderStatus.CANCELED, t)
    owed = None
    # the payment a refund is owed for: a provider's payment id; money taken by hand is
    # keyed by the order (a door sale's paymentDetailsId is whatever the seller typed, and
    # two sales given the same one must each owe their own refund)
    by_hand = service.paid_by_hand(order)
    payment = order.id if by_hand else str(order.payment_id)
    # an order its organiser confirmed while it awaited a card payment was paid by hand
    provider = "manual" if by_hand and order.payment_provider not in payment_refunds.BY_HAND_PROVIDERS else order.payment_provider
    if paid and refund:
        owed = payment_refunds.owe(
            session, order.site_id, order.id, provider, payment, order.total_cents, order.currency, ORDER_CANCELED, t,
        )
    elif paid:  # kept: recorded (a provider's success event again refunds nothing; the buyer is told)
        payment_refunds.kept(session, order.site_id, order.id, provider, payment, order.total_cents, order.currency, t)
    for hook in service.hooks.canceled:
        hook(session, order)
    return Canceled(order, owed, stop)


def cancel_order(session: Session, principal: Principal, event_id: str, order_number: str, refund: bool = True) -> Canceled:
    """Cancel one order of ``event_id`` (Manage Orders)."""
    order = service.get(session, principal, event_id, order_number, lock_row=True)
    return _cancel(session, principal, order, refund)


def cancel_event(session: Session, principal: Principal, event_id: str, refund: bool = True) -> tuple[Event, list[Canceled]]:
    """Cancel Event (if it is not canceled already) and every order of it that is paid,
    free or awaiting payment, in this one unit. Needs both Manage Events and Manage Orders."""
    if not (principal.can(Permission.MANAGE_EVENTS) and principal.can(Permission.MANAGE_ORDERS)):
        raise PermissionDenied('Canceling an event with its orders requires both "Manage Events" and "Manage Orders"')
    event = events_service.lock_for_update(session, principal.site_id, event_id)
    if event.state != EventState.CANCELED:
        events_service.cancel(session, principal, event_id)
    orders = list(
        session.scalars(
            select(Order)
            .where(Order.site_id == principal.site_id, Order.event_id == event_id, Order.status.in_(CONFIRMED + OPEN))
            .order_by(Order.id)
            .limit(EVENT_ORDERS_MAX + 1)
            .with_for_update()
        )
    )
    if len(orders) > EVENT_ORDERS_MAX:
        raise FailedPrecondition(
            f"The event has more than {EVENT_ORDERS_MAX} orders to cancel: cancel them in parts (Cancel Order)",
            code="TOO_MANY_ORDERS",
            data={"limit": EVENT_ORDERS_MAX},
        )
    t = now()
    done = [_cancel(session, principal, o, refund) for o in orders if o.status_at(t) in CONFIRMED + OPEN]
    session.flush()
    return event, done
