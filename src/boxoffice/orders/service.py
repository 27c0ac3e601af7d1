"""Checkout and Orders: Checkout, List/Get/Update Orders, Confirm Order, Get Summary,
and the payment providers.

Payment providers:

* ``free``: an order whose total is 0 is FREE at once.
* ``offline`` (``options.payInPerson``): OFFLINE_PENDING; the seats are sold at once and
  held for good until Confirm Order makes it PAID or the reservation is canceled.
* ``test`` (every other order): an online payment simulator for development and CI.
  The order is PENDING and its seats stay held (reservation PENDING, with its expiry)
  until ``POST /boxoffice/v1/test-payments/{orderNumber}/pay`` (PAID; the seats become
  sold) or ``.../decline`` (DECLINED; the seats are released). Unpaid at expiry, the
  reservation expires and the order is CANCELED.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Select, func, inspect, or_, select, true
from sqlalchemy.orm import Session

from .. import outbox
from .. import query as q
from ..db import advisory_lock, now
from ..errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from ..events import service as events_service
from ..events.models import DEFAULT_TICKET_LIMIT_PER_ORDER, Event, EventState
from ..forms import service as forms
from ..identity import SYSTEM_IDENTITY, IdentityType, Permission, Principal
from ..limits import MAX_ORDER_TOTAL_CENTS
from ..money import legacy_money
from ..payments import Charge, PaymentReport, Payments
from ..payments import refunds as payment_refunds
from ..payments.models import AMOUNT_MISMATCH, LATE_PAYMENT, ORDER_CANCELED, PaymentRefund, RefundStatus
from ..policies import service as policies
from ..reservations import service as reservations
from ..reservations.models import ReservationLine, ReservationStatus, TicketReservation
from ..reservations.schemas import (
    AdditionalReservationSettings,
    CreateTicketReservationRequest,
    TicketInfo,
    TicketLineItemIn,
    TicketReservationIn,
)
from ..staff_members import service as staff
from ..staff_members.models import StaffMember, StaffMemberStatus, StaffPermission
from ..ticket_definitions import inventory
from ..ticket_definitions.models import SaleStatus
from ..ticket_definitions.models import TicketDefinition as TD
from ..ticket_definitions.service import sale_status_expr
from ..tickets.models import Ticket
from ..timefmt import iso
from . import wire
from .models import CONFIRMED, OPEN, ChannelType, Order, OrderStatus, fully_checked_in
from .schemas import (
    BulkUpdateOrdersRequest,
    CheckoutRequest,
    CreateReservationRequest,
    GetInvoiceRequest,
    PosCheckoutRequest,
    QueryAvailableTicketsRequest,
    UpdateCheckoutRequest,
)

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def _number(session: Session, site_id: str) -> str:
    """Short, unique, readable: ``7KQ2-M9XD``."""
    while True:
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
        n = f"{raw[:4]}-{raw[4:]}"
        taken = session.scalars(select(Order.id).where(Order.site_id == site_id, Order.order_number == n)).first()
        if taken is None:
            return n


def fee_cents(price_cents: int, rate: Decimal) -> int:
    """Service fee per ticket, rounded half-up to the cent."""
    return int((Decimal(price_cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def build_invoice(
    lines: list[ReservationLine], currency: str, rate: Decimal
) -> tuple[dict[str, Any], int, int, int, int]:
    """-> (invoice, subtotal, fees added on top, grand total, revenue), in cents."""
    items = []
    subtotal = added = included = 0
    fees_by_type: dict[str, int] = {}
    for ln in lines:
        total = ln.price_cents * ln.quantity
        subtotal += total
        item: dict[str, Any] = {
            "id": ln.id,
            "quantity": ln.quantity,
            "name": ln.ticket_name,
            "price": legacy_money(ln.price_cents, currency),
            "total": legacy_money(total, currency),
            "fees": [],
        }
        if ln.price_cents > 0 and ln.fee_type in ("FEE_ADDED_AT_CHECKOUT", "FEE_INCLUDED"):
            f = fee_cents(ln.price_cents, rate) * ln.quantity
            if ln.fee_type == "FEE_ADDED_AT_CHECKOUT":
                added += f
            else:
                included += f
            fees_by_type[ln.fee_type] = fees_by_type.get(ln.fee_type, 0) + f
            item["fees"].append(
                {"name": "WIX_FEE", "type": ln.fee_type, "rate": str(rate * 100), "amount": legacy_money(f, currency)}
            )
        items.append(item)
    grand = subtotal + added
    invoice = {
        "items": items,
        "subTotal": legacy_money(subtotal, currency),
        "grandTotal": legacy_money(grand, currency),
        "total": legacy_money(grand, currency),
        "fees": [
            {"name": "WIX_FEE", "type": t, "rate": str(rate * 100), "amount": legacy_money(c, currency)}
            for t, c in sorted(fees_by_type.items())
        ],
        "revenue": legacy_money(subtotal - included, currency),
    }
    return invoice, subtotal, added, grand, subtotal - included


@dataclass
class Hooks:
    """What slices above orders do in an order's unit of work (docs/architecture.md).

    ``confirmed``: the order has just become PAID or FREE (checkout of a free or
    marked-paid order, an online payment, Confirm Order of a pay-in-person order); the
    mail slice queues the buyer's confirmation here.
    ``canceled``: an order (PAID, FREE, or awaiting payment) has just been canceled by
    its organiser or with its event (``cancellation.py``); its tickets are void and its
    seats are back; a refund may be owed (``payments.refunds.of_order``).
    ``refund_owed``: a payment came that cannot be kept (after the order's hold expired,
    or for another amount) and is being refunded: the buyer is told why."""

    confirmed: list[Callable[[Session, Order], None]] = field(default_factory=list)
    canceled: list[Callable[[Session, Order], None]] = field(default_factory=list)
    refund_owed: list[Callable[[Session, Order, PaymentRefund], None]] = field(default_factory=list)


hooks = Hooks()


def _became_confirmed(order: Order, name: str) -> bool:
    """Whether the event being emitted is the order's turn to PAID/FREE: checkout and
    payments say OrderConfirmed; Confirm Order of a pay-in-person order (OFFLINE_PENDING,
    which said OrderConfirmed at checkout already) says OrderUpdated as its status
    changes in this unit. Read before anything flushes (a flush clears the history)."""
    if order.status not in CONFIRMED:
        return False
    if name == "OrderConfirmed":
        return True
    was = inspect(order).attrs.status.history.deleted
    return name == "OrderUpdated" and any(s not in CONFIRMED for s in was)


def emit(session: Session, identity: dict[str, str], order: Order, name: str, tickets: list[Ticket] | None = None) -> None:
    """Legacy order events (OrderInitiated / OrderConfirmed / OrderUpdated), payloads as the SDK types them;
    when the order has just become confirmed, ``hooks.confirmed`` run in the same unit."""
    confirmed = _became_confirmed(order, name)
    tickets = tickets if tickets is not None else tickets_of(session, order)
    data = wire.order_event_data(order, tickets, name)
    order.event_seq += 1
    outbox.record_legacy(
        session,
        site_id=order.site_id,
        identity=identity,
        name=name,
        entity_id=order.id,
        sequence=order.event_seq,
        data=data,
    )
    if confirmed:
        for hook in hooks.confirmed:
            hook(session, order)


# --- reading -------------------------------------------------------------------------------


def tickets_of(session: Session, order: Order) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.order_id == order.id).order_by(Ticket.position)))


def get(session: Session, principal: Principal, event_id: str | None, order_number: str, lock_row: bool = False) -> Order:
    stmt = select(Order).where(Order.site_id == principal.site_id, Order.order_number == order_number)
    if event_id:
        stmt = stmt.where(Order.event_id == event_id)
    o = session.scalars(stmt.with_for_update() if lock_row else stmt).first()
    if o is None:
        raise NotFound(f"Order {order_number} not found", code="ORDER_NOT_FOUND")
    return o


SORTS = {"created": Order.created_date, "orderNumber": Order.order_number, "order_number": Order.order_number}
TAGS = {
    "CONFIRMED": lambda: Order.status.in_(CONFIRMED),
    "UNCONFIRMED": lambda: Order.status.not_in(CONFIRMED),
    "MEMBER": lambda: Order.member_id.is_not(None),
    "ARCHIVED": lambda: Order.archived.is_(True),
    "NON_ARCHIVED": lambda: Order.archived.is_(False),
}


def parse_sort(value: str | None, fields: dict[str, Any], default: str) -> Any:
    value = value or default
    name, _, direction = value.partition(":")
    col = fields.get(name)
    if col is None or direction.lower() not in ("", "asc", "desc"):
        raise InvalidArgument("sort", f'unsupported sort "{value}"; use e.g. {default}')
    return col.desc() if direction.lower() == "desc" else col.asc()


def list_orders(session: Session, principal: Principal, p: dict[str, Any]) -> tuple[list[tuple[Order, list[Ticket]]], int, dict]:
    stmt = select(Order).where(Order.site_id == principal.site_id)
    if p.get("eventId"):
        stmt = stmt.where(Order.event_id.in_(p["eventId"]))
    if p.get("status"):
        stmt = stmt.where(Order.status.in_(p["status"]))
    if p.get("orderNumber"):
        stmt = stmt.where(Order.order_number.in_(p["orderNumber"]))
    if p.get("memberId"):
        stmt = stmt.where(Order.member_id.in_(p["memberId"]))
    if p.get("contactId"):
        stmt = stmt.where(Order.contact_id.in_(p["contactId"]))
    for tag in p.get("tag") or []:
        if tag in TAGS:
            stmt = stmt.where(TAGS[tag]())
        elif tag not in ("FULLY_CHECKED_IN", "NOT_FULLY_CHECKED_IN"):
            raise InvalidArgument("tag", f'unknown tag "{tag}"')
    if p.get("searchPhrase"):
        like = f"%{p['searchPhrase'].lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Order.first_name + " " + Order.last_name).like(like),
                func.lower(Order.email).like(like),
                func.lower(Order.order_number).like(like),
            )
        )
    rows = list(session.scalars(stmt.order_by(parse_sort(p.get("sort"), SORTS, "created:asc"), Order.id)))
    tickets: dict[str, list[Ticket]] = {}
    if rows:
        for t in session.scalars(
            select(Ticket).where(Ticket.order_id.in_([o.id for o in rows])).order_by(Ticket.position)
        ):
            tickets.setdefault(t.order_id, []).append(t)
    pairs = [(o, tickets.get(o.id, [])) for o in rows]
    tags = p.get("tag") or []
    if "FULLY_CHECKED_IN" in tags:
        pairs = [x for x in pairs if fully_checked_in(x[1])]
    if "NOT_FULLY_CHECKED_IN" in tags:
        pairs = [x for x in pairs if not fully_checked_in(x[1])]
    facets: dict[str, Any] = {}
    for f in p.get("facet") or []:
        key = {"status": lambda o: o.status, "eventId": lambda o: o.event_id, "event": lambda o: o.event_id}.get(f)
        if key is None:
            raise InvalidArgument("facet", f'unknown facet "{f}"; use status or eventId')
        counts: dict[str, int] = {}
        for o, _ in pairs:
            counts[key(o)] = counts.get(key(o), 0) + 1
        facets[f] = {"counts": counts}
    total = len(pairs)
    offset, limit = p["offset"], p["limit"]
    return pairs[offset : offset + limit], total, facets


def summary(session: Session, principal: Principal, event_id: str | None) -> list[dict[str, Any]]:
    """Sales of confirmed (PAID, FREE) orders, one entry per currency."""
    stmt = (
        select(
            Order.currency,
            func.sum(Order.total_cents),
            func.count(Order.id),
            func.sum(Order.tickets_quantity),
            func.sum(Order.revenue_cents),
        )
        .where(Order.site_id == principal.site_id, Order.status.in_(CONFIRMED))
        .group_by(Order.currency)
        .order_by(Order.currency)
    )
    if event_id:
        stmt = stmt.where(Order.event_id == event_id)
    out = []
    for currency, total, n, tickets, revenue in session.execute(stmt).all():
        out.append(
            {
                "total": legacy_money(int(total or 0), currency),
                "totalOrders": int(n),
                "totalTickets": int(tickets or 0),
                "revenue": legacy_money(int(revenue or 0), currency),
            }
        )
    return out


# --- writing -------------------------------------------------------------------------------


def _form_value(form: Any, name: str) -> str | None:
    for iv in (form.input_values if form else None) or []:
        if iv.input_name == name:
            return iv.value if iv.value is not None else (iv.values[0] if iv.values else None)
    return None


# Who may set which checkout field (README "Security"): these change money, status or
# identity, so they need "Manage Orders"; a buyer's key may not send them at all.
MANAGER_OPTIONS = {"mark_as_paid": "markAsPaid", "silent": "silent", "ignore_form_validation": "ignoreFormValidation"}


def check_checkout_permissions(principal: Principal, req: CheckoutRequest) -> str | None:
    """Refuse the fields a buyer may not set; returns the order's memberId.

    ``memberId`` is an identity: a manager may name any member; a member's own key
    gives its own id; a visitor has none. Another member's id from a buyer is refused."""
    manager = principal.can(Permission.MANAGE_ORDERS)
    if req.options is not None and not manager:
        sent = [wire for name, wire in MANAGER_OPTIONS.items() if getattr(req.options, name)]
        if sent:
            raise PermissionDenied(f'options.{sent[0]} needs the "Manage Orders" permission')
    own = principal.identity_id if principal.identity_type == IdentityType.MEMBER else None
    if req.member_id is not None and req.member_id != own and not manager:
        raise PermissionDenied('memberId of another member needs the "Manage Orders" permission')
    return req.member_id or own


def offline_hold_end(event: Event, t: dt.datetime, hold: dt.timedelta) -> dt.datetime:
    """A pay-in-person order holds its seats until ``hold`` from now, and never past the
    event's start (an unpaid seat is worth selling at the door). An event already under
    way (or without a date) gets the plain hold."""
    until = t + hold
    if event.start_date is not None and t < event.start_date < until:
        until = event.start_date
    return until


def check_open_orders(
    session: Session, principal: Principal, event: Event, r: TicketReservation, email: str, seats: int,
    free: bool = False,
) -> None:
    """A buyer holds at most ``ticketLimitPerOrder`` seats of an event in open (unpaid)
    orders: counted per buyer identity (the key) and per buyer e-mail, so a script cannot
    take an event's inventory by paying in person many times over.

    ``free``: a FREE order is sold at once and mailed to the address given, so it counts
    per e-mail with the free and open orders of that address: a visitor cannot send an
    event's confirmation to one stranger without end. Not per key: one shared visitor key
    registers all of a free event's guests."""
    limit = int((event.registration.get("tickets") or {}).get("ticketLimitPerOrder") or DEFAULT_TICKET_LIMIT_PER_ORDER)
    base = select(func.coalesce(func.sum(Order.tickets_quantity), 0)).where(
        Order.site_id == principal.site_id, Order.event_id == event.id,
        Order.status.in_((*OPEN, OrderStatus.FREE) if free else OPEN),
    )
    mine = []
    buyer = None if free else (r.visitor_id or r.member_id)
    if buyer:
        who = TicketReservation.visitor_id == r.visitor_id if r.visitor_id else TicketReservation.member_id == r.member_id
        mine.append(("buyer", base.join(TicketReservation, TicketReservation.id == Order.reservation_id).where(who)))
    mine.append(("e-mail", base.where(func.lower(Order.email) == email.strip().lower())))
    # Two checkouts of one buyer must not both count before either writes: the count is
    # taken under the buyer's lock (identity first, then e-mail: one order, no deadlock).
    if buyer:
        advisory_lock(session, f"open-orders:{principal.site_id}:{event.id}:buyer:{buyer}")
    advisory_lock(session, f"open-orders:{principal.site_id}:{event.id}:email:{email.strip().lower()}")
    for what, stmt in mine:
        held = int(session.execute(stmt).scalar_one())
        if held + seats > limit:
            raise FailedPrecondition(
                f"This {what} already has {held} {'free or unpaid' if free else 'unpaid'} tickets for this event; "
                f"at most {limit} may be held at once",
                code="TICKET_LIMIT_PER_BUYER_EXCEEDED",
                data={"limit": limit, "held": held},
            )


def _event_for_sale(session: Session, event_id: str) -> Event | None:
    """The event an order is about to be written for, read under a share lock (PostgreSQL
    ``FOR SHARE``; SQLite writers are serialised): Cancel Event with its orders locks it
    for update and then cancels its orders, so it either waits for this unit (and cancels
    its order too) or has committed, and this unit reads the event CANCELED. Taken after
    the reservation's lock, and only while the reservation has no order: Cancel Event
    never waits on that reservation, so the two cannot deadlock."""
    stmt = select(Event).where(Event.id == event_id).with_for_update(read=True)
    return session.scalars(stmt.execution_options(populate_existing=True)).first()


def _sellable(
    session: Session, principal: Principal, r: TicketReservation, event_id: str, t: dt.datetime,
    hide_other_events: bool = False,
) -> tuple[list[ReservationLine], Event]:
    """What every sale of a reservation checks (Checkout, Pos Checkout): still PENDING
    and in its hold, not checked out before, all of ``event_id``, whose event is on sale
    here (read under ``_event_for_sale``'s share lock). ``hide_other_events``: a
    reservation of another event reads as unknown (a staff member learns nothing of
    other events' reservations)."""
    if r.status_at(t) == ReservationStatus.EXPIRED:
        # Refused, so this unit writes nothing; the seats already read as free (lazy
        # expiry) and the scheduler releases them for real within a tick.
        raise FailedPrecondition("The reservation has expired", code="RESERVATION_EXPIRED")
    if r.status != ReservationStatus.PENDING:
        raise FailedPrecondition(f"The reservation is {r.status}", code="RESERVATION_NOT_PENDING")
    if session.scalars(select(Order.id).where(Order.reservation_id == r.id)).first() is not None:
        raise FailedPrecondition("The reservation was already checked out", code="RESERVATION_ALREADY_CHECKED_OUT")
    lines = reservations.lines_of(session, r)
    if any(ln.event_id != event_id for ln in lines):
        if hide_other_events:
            raise NotFound(f"Ticket reservation {r.id} not found", code="TICKET_RESERVATION_NOT_FOUND")
        raise FailedPrecondition(f"The reservation holds tickets of another event than {event_id}", code="EVENT_MISMATCH")
    event = _event_for_sale(session, event_id)
    if event is None or event.site_id != principal.site_id:
        raise NotFound(f"Event {event_id} not found", code="EVENT_NOT_FOUND")
    if event.state == EventState.CANCELED:
        raise FailedPrecondition(f"Event {event.id} is canceled", code="EVENT_CANCELED")
    return lines, event


def checkout(
    session: Session, principal: Principal, req: CheckoutRequest, fee_rate: Decimal,
    payments: Payments, offline_hold: dt.timedelta, agreed_via: str = "CHECKOUT_API",
    buyer_action: dict[str, Any] | None = None,
) -> tuple[Order, list[Ticket], TicketReservation, list[ReservationLine]]:
    """Step 10: a PENDING reservation becomes an order with one ticket per seat.

    Step 4: "guests must agree to the policies to register". The SDK's checkout has no
    field for it, so checking out *is* the agreement: the order records which policy
    revisions were in force and how the buyer gave it (``agreed_via``: the API, where the
    calling app shows the policies, or Boxoffice's own checkout page, which asks).

    ``buyer_action``: filled with what an online provider's buyer needs to pay (Stripe:
    the PaymentIntent's client secret) for the checkout response."""
    if not req.reservation_id:
        raise InvalidArgument("reservationId", "is required", "REQUIRED_FIELD")
    member_id = check_checkout_permissions(principal, req)
    r = reservations.get(session, principal, req.reservation_id, lock_row=True)
    t = now()
    lines, event = _sellable(session, principal, r, req.event_id, t)

    seats = sum(ln.quantity for ln in lines)
    guests = req.guests or []
    if len(guests) > seats:
        raise InvalidArgument("guests", f"has {len(guests)} guests for {seats} tickets", "MAX_SIZE")
    separately = (event.registration.get("tickets") or {}).get("guestsAssignedSeparately")
    if separately and len(guests) < seats and not (req.options and req.options.ignore_form_validation):
        # every ticket names its guest, who answers the form: one form per ticket
        raise InvalidArgument("guests", f"needs a guest form for each of the {seats} tickets (guestsAssignedSeparately)", "MIN_SIZE")
    first_form = guests[0].form if guests else None
    buyer = req.buyer
    first = (buyer.first_name if buyer else None) or _form_value(first_form, "firstName")
    last = (buyer.last_name if buyer else None) or _form_value(first_form, "lastName")
    email = (buyer.email if buyer else None) or _form_value(first_form, "email")
    missing = [
        {"field": f"buyer.{n}", "description": "is required (in buyer or the first guest's form)", "violatedRule": "REQUIRED_FIELD"}
        for n, v in (("firstName", first), ("lastName", last), ("email", email))
        if not v
    ]
    if missing:
        raise InvalidArgument.many(missing)
    assert first and last and email
    if not (req.options and req.options.ignore_form_validation):  # a manager's option (check_checkout_permissions)
        forms.check_answers(
            session, event, [g.form.input_values for g in guests],
            {"firstName": buyer.first_name, "lastName": buyer.last_name, "email": buyer.email} if buyer else {},
        )
    elif "@" not in email or "." not in email.split("@")[-1] or any(c.isspace() for c in email.strip()):
        raise InvalidArgument("buyer.email", "is not an email address", "FORMAT")

    invoice, subtotal, added, grand, revenue = build_invoice(lines, r.currency, fee_rate)
    if grand > MAX_ORDER_TOTAL_CENTS:
        raise InvalidArgument(
            "reservationId", f"the order total is above the largest order, {legacy_money(MAX_ORDER_TOTAL_CENTS, r.currency)['value']}", "MAX"
        )
    options = req.options
    if grand == 0:
        provider, status, method = "free", OrderStatus.FREE, None
    elif options and options.pay_in_person:
        provider, status, method = "offline", OrderStatus.OFFLINE_PENDING, "inPerson"
    elif options and options.mark_as_paid:
        provider, status, method = "manual", OrderStatus.PAID, "manual"
    elif payments.online is None:
        raise FailedPrecondition(
            "No online payment provider is configured: pay in person (options.payInPerson), "
            "or enable one (BOXOFFICE_TEST_PAYMENTS=1 for the test provider)",
            code="PAYMENT_PROVIDER_NOT_CONFIGURED",
        )
    else:
        provider, status, method = payments.online.name, OrderStatus.PENDING, payments.online.name
    hold_expires = r.expiration_date if status == OrderStatus.PENDING else None
    if status == OrderStatus.OFFLINE_PENDING:
        hold_expires = offline_hold_end(event, t, offline_hold)
    if not principal.can(Permission.MANAGE_ORDERS) and (status in OPEN or status == OrderStatus.FREE):
        check_open_orders(session, principal, event, r, email, seats, free=status == OrderStatus.FREE)
    order = Order(
        id=str(uuid.uuid4()),
        site_id=principal.site_id,
        order_number=_number(session, principal.site_id),
        event_id=req.event_id,
        reservation_id=r.id,
        status=status,
        method=method,
        payment_provider=provider,
        payment_id=None,
        first_name=first.strip(),
        last_name=last.strip(),
        email=email.strip(),
        member_id=member_id,
        contact_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{principal.site_id}:{email.strip().lower()}")),
        checkout_form=first_form.model_dump(by_alias=True, exclude_none=True) if first_form else {"inputValues": []},
        policy_agreement=_policy_agreement(session, event, t, agreed_via),
        currency=r.currency,
        subtotal_cents=subtotal,
        fees_added_cents=added,
        revenue_cents=revenue,
        total_cents=grand,
        invoice=invoice,
        hold_expires=hold_expires,
        tickets_quantity=seats,
        archived=False,
        created_date=t,
        updated_date=t,
        event_seq=0,
    )
    if status == OrderStatus.PENDING:  # online: the provider begins collecting now
        assert payments.online is not None
        started = payments.online.start(Charge(order.order_number, grand, r.currency, site_id=principal.site_id))
        order.payment_id = started.payment_id
        if buyer_action is not None:
            buyer_action.update(started.buyer_action)
    session.add(order)
    session.flush()
    tickets = issue_tickets(session, order, lines, [g.form for g in guests], t)
    identity = principal.webhook_identity()
    if status == OrderStatus.PENDING:
        emit(session, identity, order, "OrderInitiated", tickets)
    else:  # the seats are sold now: FREE, PAID, or held for good while OFFLINE_PENDING
        reservations.confirm(session, r, t, identity)
        emit(session, identity, order, "OrderConfirmed", tickets)
    return order, tickets, r, lines


def issue_tickets(
    session: Session, order: Order, lines: list[ReservationLine], forms_: list[Any], t: dt.datetime
) -> list[Ticket]:
    """One ticket per seat of the order (Checkout, Pos Checkout); ticket i carries the
    i-th guest form, if there is one."""
    tickets = []
    n = 0
    defs = {d.id: d for d in session.scalars(select(TD).where(TD.id.in_({ln.ticket_definition_id for ln in lines})))}
    for ln in lines:
        for _ in range(ln.quantity):
            g = forms_[n] if n < len(forms_) else None
            tickets.append(
                Ticket(
                    id=str(uuid.uuid4()),
                    site_id=order.site_id,
                    ticket_number=order.order_number.replace("-", "") + f"{n + 1:02d}",
                    order_id=order.id,
                    order_number=order.order_number,
                    event_id=ln.event_id,
                    ticket_definition_id=ln.ticket_definition_id,
                    position=n,
                    name=ln.ticket_name,
                    price_cents=ln.price_cents,
                    currency=order.currency,
                    free=defs[ln.ticket_definition_id].free if ln.ticket_definition_id in defs else ln.price_cents == 0,
                    policy=ln.policy,
                    pricing_option_id=ln.pricing_option_id,
                    pricing_option_name=ln.pricing_option_name,
                    archived=False,
                    canceled=False,
                    created_date=t,
                )
            )
            _assign_guest(tickets[-1], g)
            n += 1
    session.add_all(tickets)
    session.flush()
    return tickets


def _assign_guest(tk: Ticket, form: Any) -> None:
    """The ticket's guest: the answers of ``form`` (a FormResponse), or nobody."""
    tk.guest_first_name = _form_value(form, "firstName") if form else None
    tk.guest_last_name = _form_value(form, "lastName") if form else None
    tk.guest_email = _form_value(form, "email") if form else None
    tk.guest_assigned = form is not None
    tk.guest_form = form.model_dump(by_alias=True, exclude_none=True) if form else None


def _policy_agreement(session: Session, event: Event, t: dt.datetime, via: str) -> dict[str, Any] | None:
    shown = policies.agreement(session, event.id)
    return {"policies": shown, "agreedDate": iso(t), "via": via} if shown else None


def policy_agreement(session: Session, principal: Principal, event_id: str, order_number: str) -> dict[str, Any]:
    """What the buyer of an order agreed to, with the words of each policy revision."""
    order = get(session, principal, event_id, order_number)
    a = order.policy_agreement
    if not a:
        return {"orderNumber": order.order_number, "policies": []}
    return {
        "orderNumber": order.order_number,
        "agreedDate": a["agreedDate"],
        "via": a["via"],
        "policies": policies.agreed_texts(session, order.site_id, a["policies"]),
    }


def _pay(session: Session, order: Order, identity: dict[str, str], t: dt.datetime) -> None:
    """An online order's payment arrived: the reservation's held seats become sold."""
    r = session.get(TicketReservation, order.reservation_id)
    assert r is not None
    reservations.confirm(session, r, t, identity)  # raises if the hold expired meanwhile
    order.status, order.updated_date, order.hold_expires = OrderStatus.PAID, t, None
    emit(session, identity, order, "OrderConfirmed")


def payment_outcome(session: Session, principal: Principal, provider: str, order_number: str, paid: bool) -> Order:
    """A provider reports how an online payment ended: paid (the held seats are sold) or
    declined (they are released). Only for an order that this provider is collecting."""
    order = get(session, principal, None, order_number, lock_row=True)
    if order.payment_provider != provider or order.status != OrderStatus.PENDING:
        raise FailedPrecondition(
            f"Order {order_number} is {order.status} and not awaiting a {provider} payment", code="ORDER_ACTION_NOT_AVAILABLE"
        )
    t = now()
    identity = principal.webhook_identity()
    if order.status_at(t) != OrderStatus.PENDING:  # past its hold: it reads CANCELED, as paying it would say
        raise FailedPrecondition("The reservation has expired", code="RESERVATION_EXPIRED")
    if paid:
        _pay(session, order, identity, t)
    else:
        r = session.get(TicketReservation, order.reservation_id)
        assert r is not None
        reservations.release_hold(session, r, ReservationStatus.CANCELED, identity, t)
        end(session, identity, order, OrderStatus.DECLINED, t)
    session.flush()
    return order


def payment_reported(session: Session, report: PaymentReport) -> tuple[Order | None, PaymentRefund | None]:
    """A provider's verified webhook says how an order's online payment ended.

    Idempotent by the order's state (a provider sends an event more than once): a
    success moves a PENDING order to PAID once (``payment_outcome``), a failure to
    DECLINED once; a repeat finds the order moved and changes nothing. An event for no
    order of ours (another payment on the same account, a checkout that was rolled back)
    changes nothing either.

    A success that comes for an order that can no longer be sold (its hold expired, or it
    was declined or canceled meanwhile), or for another amount than the order's, must not
    leave money taken with no ticket: the order ends CANCELED (if it had not) and a
    refund is owed, written here (``payment_refunds``, once per payment) and returned for
    the caller to make at the provider after this unit commits (``payments.refunds.make``).
    -> (the order, or None when the payment is none of ours; the refund still to make).

    With manual capture a payment is first ``authorized`` (PENDING -> AUTHORIZED; one
    that cannot be kept is let go by the caller, never refunded: nothing was taken),
    then ``paid`` (AUTHORIZED -> PAID) or ``canceled`` (AUTHORIZED -> VOIDED)."""
    stmt = select(Order).where(Order.site_id == report.site_id, Order.order_number == report.order_number)
    order = session.scalars(stmt.with_for_update()).first()
    if order is None or order.payment_provider != report.provider or order.payment_id != report.payment_id:
        return None, None
    principal = Principal(report.site_id, IdentityType.APP, SYSTEM_IDENTITY["appId"], frozenset(Permission))
    t = now()
    if report.outcome == "failed":
        if order.status_at(t) == OrderStatus.PENDING:  # (past its hold it ends with its reservation)
            payment_outcome(session, principal, report.provider, order.order_number, paid=False)
        return order, None
    if report.outcome == "canceled":  # the provider let the payment go (void, expiry, our own cancel)
        if order.status == OrderStatus.AUTHORIZED:
            _void(session, SYSTEM_IDENTITY, order, t)
        elif order.status_at(t) == OrderStatus.PENDING:
            payment_outcome(session, principal, report.provider, order.order_number, paid=False)
        return order, None
    if order.status == OrderStatus.PAID and not (order.method == PAID_OTHERWISE_METHOD and report.outcome == "paid"):
        return order, None  # this payment confirmed it already (or a manager did): nothing to do
    if order.status == OrderStatus.PAID:  # confirmed by its organiser, and then paid by card too: give it back
        known = payment_refunds.find(session, order.site_id, report.provider, report.payment_id)
        refund = known or payment_refunds.owe(
            session, order.site_id, order.id, report.provider, report.payment_id, report.amount_cents, report.currency,
            PAID_OTHERWISE, t,
        )
        return order, (refund if refund.status == RefundStatus.PENDING else None)
    if order.status == OrderStatus.AUTHORIZED:
        if report.outcome == "paid":  # captured (here, or in the provider's dashboard)
            _captured(session, SYSTEM_IDENTITY, order, t)
        return order, None
    right = (report.amount_cents, report.currency.upper()) == (order.total_cents, order.currency.upper())
    if report.outcome == "authorized":
        # the money is held, not taken: an order that cannot be sold any more lets it go
        # (the caller voids it after COMMIT, seeing the order not AUTHORIZED); no refund
        if order.status_at(t) == OrderStatus.PENDING and right:
            _authorize(session, SYSTEM_IDENTITY, order, t)
        elif order.status == OrderStatus.PENDING:
            r = session.get(TicketReservation, order.reservation_id)
            assert r is not None
            if r.status_at(t) == ReservationStatus.EXPIRED:
                reservations.expire(session, r, SYSTEM_IDENTITY, t)
            else:
                reservations.release_hold(session, r, ReservationStatus.CANCELED, SYSTEM_IDENTITY, t)
            if order.status == OrderStatus.PENDING:
                end(session, SYSTEM_IDENTITY, order, OrderStatus.CANCELED, t)
        return order, None
    if order.status_at(t) == OrderStatus.PENDING and right:
        payment_outcome(session, principal, report.provider, order.order_number, paid=True)
        return order, None
    if order.status == OrderStatus.PENDING:  # past its hold (not yet swept), or paid the wrong amount
        r = session.get(TicketReservation, order.reservation_id)
        assert r is not None
        if r.status_at(t) == ReservationStatus.EXPIRED:
            reservations.expire(session, r, SYSTEM_IDENTITY, t)  # the order ends with it (CANCELED)
        else:
            reservations.release_hold(session, r, ReservationStatus.CANCELED, SYSTEM_IDENTITY, t)
        if order.status == OrderStatus.PENDING:
            end(session, SYSTEM_IDENTITY, order, OrderStatus.CANCELED, t)
    known = payment_refunds.find(session, order.site_id, report.provider, report.payment_id)
    refund = known or payment_refunds.owe(
        session, order.site_id, order.id, report.provider, report.payment_id, report.amount_cents, report.currency,
        LATE_PAYMENT if right else AMOUNT_MISMATCH, t,
    )
    if known is None:
        for hook in hooks.refund_owed:
            hook(session, order, refund)
    return order, (refund if refund.status == RefundStatus.PENDING else None)


# --- authorized card payments (Stripe manual capture) ---------------------------------


def _authorize(session: Session, identity: dict[str, str], order: Order, t: dt.datetime) -> None:
    """PENDING -> AUTHORIZED: the money is held on the card, so the seats are sold (the
    hold ends); the tickets are not valid at the door until the payment is captured."""
    r = session.get(TicketReservation, order.reservation_id)
    assert r is not None
    reservations.confirm(session, r, t, identity)
    order.status, order.updated_date, order.hold_expires = OrderStatus.AUTHORIZED, t, None
    emit(session, identity, order, "OrderUpdated")


def _captured(session: Session, identity: dict[str, str], order: Order, t: dt.datetime) -> None:
    """AUTHORIZED -> PAID: the tickets become valid; the buyer's confirmation is queued."""
    order.status, order.updated_date = OrderStatus.PAID, t
    emit(session, identity, order, "OrderUpdated")


def _void(session: Session, identity: dict[str, str], order: Order, t: dt.datetime) -> None:
    """AUTHORIZED -> VOIDED: nothing is taken; the seats go back on sale."""
    r = session.get(TicketReservation, order.reservation_id)
    if r is not None:
        reservations.release_sale(session, r, ReservationStatus.CANCELED, identity, t)
    end(session, identity, order, OrderStatus.VOIDED, t)


def authorized(session: Session, principal: Principal, event_id: str | None, order_number: str, action: str) -> Order:
    """Capture/Void Authorized Payment, before the provider is asked: the order must hold
    an authorized payment (only Stripe with BOXOFFICE_STRIPE_CAPTURE=manual makes one)."""
    order = get(session, principal, event_id, order_number)
    if order.status != OrderStatus.AUTHORIZED or not order.payment_id:
        raise FailedPrecondition(
            f"Order {order_number} is {order.status_at()}: only an AUTHORIZED payment can be {action.rstrip('e')}ed "
            "(payments are authorized without being taken only with Stripe and BOXOFFICE_STRIPE_CAPTURE=manual)",
            code="ORDER_STATUS_NOT_AUTHORIZED",  # the SDK's Capture/VoidAuthorizedPaymentApplicationErrors
            data={"orderStatus": order.status_at()},
        )
    return order


def capture_authorized_payment(
    session: Session, principal: Principal, event_id: str | None, order_number: str
) -> tuple[Order, PaymentRefund | None]:
    """After the provider took the payment: AUTHORIZED -> PAID (once; a webhook may have
    done it first). An order that was canceled or voided meanwhile (its unit committed
    between the provider's capture and this one) is not sold: the money just taken is
    owed back (once per payment), and returned for the caller to make after COMMIT."""
    order = get(session, principal, event_id, order_number, lock_row=True)
    owed = None
    if order.status == OrderStatus.AUTHORIZED:
        _captured(session, principal.webhook_identity(), order, now())
    elif order.status != OrderStatus.PAID and order.payment_id:
        owed = payment_refunds.owe(  # the refund of this payment, unless one is owed already
            session, order.site_id, order.id, order.payment_provider, order.payment_id, order.total_cents, order.currency,
            ORDER_CANCELED, now(),
        )
    session.flush()
    return order, (owed if owed is not None and owed.status == RefundStatus.PENDING else None)


def void_authorized_payment(session: Session, principal: Principal, event_id: str | None, order_number: str) -> Order:
    """After the provider let the payment go: AUTHORIZED -> VOIDED, seats back (once)."""
    order = get(session, principal, event_id, order_number, lock_row=True)
    if order.status == OrderStatus.AUTHORIZED:
        _void(session, principal.webhook_identity(), order, now())
    session.flush()
    return order


def end(session: Session, identity: dict[str, str], order: Order, status: str, t: dt.datetime) -> None:
    """The order ends (CANCELED, DECLINED): its tickets are canceled; OrderUpdated."""
    order.status, order.updated_date, order.hold_expires = status, t, None
    tickets = tickets_of(session, order)
    for tk in tickets:
        tk.canceled = True
    emit(session, identity, order, "OrderUpdated", tickets)


def on_reservation_ended(session: Session, identity: dict[str, str], r: TicketReservation, t: dt.datetime) -> None:
    """The reservation behind an order expired or was canceled: the order ends with it."""
    order = session.scalars(select(Order).where(Order.reservation_id == r.id)).first()
    if order is not None and order.status not in (OrderStatus.CANCELED, OrderStatus.DECLINED):
        end(session, identity, order, OrderStatus.CANCELED, t)


def refuse_deleting_with_order(session: Session, r: TicketReservation) -> None:
    if session.scalars(select(Order.id).where(Order.reservation_id == r.id)).first() is not None:
        raise FailedPrecondition("The reservation has an order; cancel it instead", code="RESERVATION_HAS_ORDER")


def event_has_guests(session: Session, event: Event) -> bool:
    """Whether anyone registered for ``event``: an order that is paid, free or still open."""
    stmt = select(Order.id).where(Order.event_id == event.id, Order.status.in_(CONFIRMED + OPEN)).limit(1)
    return session.scalars(stmt).first() is not None


# An order ends with its reservation, and keeps it from being deleted; an event knows
# from its orders whether it has guests.
reservations.hooks.ended.append(on_reservation_ended)
reservations.hooks.deleting.append(refuse_deleting_with_order)
events_service.hooks.has_guests.append(event_has_guests)


def present_summaries(session: Session, principal: Principal, evs: Sequence[Event]) -> dict[str, dict[str, Any]]:
    """Events v3's DASHBOARD fieldset: ``summaries.tickets`` from the events' confirmed
    (PAID, FREE), unarchived orders, in one query for all the events. Revenue is a
    manager's figure: other callers get no summaries. ``rsvps`` stays zero (no RSVP
    registration here); ``cancellation`` is not recorded."""
    if not principal.can(Permission.MANAGE_EVENTS, Permission.MANAGE_ORDERS) or not evs:
        return {}
    rows = session.execute(
        select(
            Order.event_id, Order.currency, func.count(), func.sum(Order.tickets_quantity),
            func.sum(Order.revenue_cents), func.sum(Order.total_cents),
        )
        .where(
            Order.site_id == principal.site_id, Order.event_id.in_([e.id for e in evs]),
            Order.status.in_(CONFIRMED), Order.archived.is_(False),
        )
        .group_by(Order.event_id, Order.currency)
    ).all()
    by_event = {r[0]: r for r in rows}
    out: dict[str, dict[str, Any]] = {}
    for e in evs:
        r = by_event.get(e.id)
        currency = r[1] if r else (e.currency or "USD")
        orders_, sold, revenue, sales = (int(r[2]), int(r[3] or 0), int(r[4] or 0), int(r[5] or 0)) if r else (0, 0, 0, 0)
        out[e.id] = {
            "summaries": {
                "rsvps": {"totalCount": 0, "yesCount": 0, "noCount": 0, "waitlistCount": 0},
                "tickets": {
                    "ticketsSold": sold,
                    "revenue": legacy_money(revenue, currency),
                    "currencyLocked": r is not None,
                    "totalOrders": orders_,
                    "totalSales": legacy_money(sales, currency),
                },
            }
        }
    return out


events_service.hooks.presenting.setdefault("DASHBOARD", []).append(present_summaries)


def overdue_offline_query(t: dt.datetime) -> Select[Any]:
    """Pay-in-person orders past their hold (the scheduler's probe)."""
    return select(Order.id).where(Order.status == OrderStatus.OFFLINE_PENDING, Order.hold_expires <= t)


def overdue_offline_exists(session: Session, t: dt.datetime) -> bool:
    return session.scalars(overdue_offline_query(t).limit(1)).first() is not None


def release_overdue_offline(session: Session, t: dt.datetime, limit: int = 500) -> int:
    """Pay-in-person orders still unpaid at the end of their hold: canceled, their seats
    back on sale, ``OrderUpdated`` (and the reservation's `updated`) sent. SKIP LOCKED, so
    an organiser confirming one at that moment is never blocked (and wins if first)."""
    due = list(
        session.scalars(
            select(Order)
            .where(Order.status == OrderStatus.OFFLINE_PENDING, Order.hold_expires <= t)
            .order_by(Order.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    n = 0
    for order in due:
        r = session.get(TicketReservation, order.reservation_id)
        if r is not None:
            reservations.release_sale(session, r, ReservationStatus.CANCELED, SYSTEM_IDENTITY, t)
        end(session, SYSTEM_IDENTITY, order, OrderStatus.CANCELED, t)
        n += 1
    return n


# ``Order.method`` of an order that awaited an online payment and that its organiser
# confirmed (Confirm Order): the money was taken by hand, the provider's payment is void.
PAID_OTHERWISE_METHOD = "manual"
PAID_OTHERWISE = "PAID_OTHERWISE"


def paid_by_hand(order: Order) -> bool:
    """Whether a paid order's money was taken by hand (in person, marked paid, at the door,
    or confirmed by its organiser while it awaited a card payment): no provider holds it."""
    return order.payment_provider in payment_refunds.BY_HAND_PROVIDERS or not order.payment_id or (
        order.method == PAID_OTHERWISE_METHOD
    )


def confirm_orders(session: Session, principal: Principal, event_id: str, numbers: list[str]) -> list[Order]:
    """OFFLINE_PENDING / PENDING / INITIATED -> PAID; PAID and FREE stay as they are."""
    t = now()
    identity = principal.webhook_identity()
    out = []
    for n in numbers:
        order = get(session, principal, event_id, n, lock_row=True)
        if order.status in CONFIRMED:
            pass
        elif order.status == OrderStatus.OFFLINE_PENDING:  # seats already sold at checkout
            order.status, order.updated_date, order.hold_expires = OrderStatus.PAID, t, None
            emit(session, identity, order, "OrderUpdated")
        elif order.status in (OrderStatus.PENDING, OrderStatus.INITIATED):
            # the organiser took the money some other way: the order is paid by hand, and its
            # online payment is stopped after COMMIT (the caller: ``awaiting_payment_stopped``);
            # if the buyer pays it anyway, that payment is refunded (``payment_reported``)
            if order.payment_id and order.payment_provider not in payment_refunds.BY_HAND_PROVIDERS:
                order.method = PAID_OTHERWISE_METHOD
            _pay(session, order, identity, t)
        else:
            raise FailedPrecondition(
                f"Order {n} is {order.status} and cannot be confirmed", code="ORDER_ACTION_NOT_AVAILABLE"
            )
        out.append(order)
    session.flush()
    return out


def update_order(
    session: Session, principal: Principal, event_id: str, number: str, fields: list[str] | None, body: Any
) -> Order:
    order = get(session, principal, event_id, number, lock_row=True)
    sent = body.model_fields_set
    want = set(fields) if fields else {n for n in ("archived", "checkoutForm") if {"archived": "archived", "checkoutForm": "checkout_form"}[n] in sent}
    unknown = want - {"archived", "checkoutForm"}
    if unknown:
        raise InvalidArgument("fields", f"cannot update {', '.join(sorted(unknown))}")
    if "archived" in want:
        order.archived = bool(body.archived)
    if "checkoutForm" in want:
        order.checkout_form = body.checkout_form.model_dump(by_alias=True, exclude_none=True) if body.checkout_form else {"inputValues": []}
    order.updated_date = now()
    emit(session, principal.webhook_identity(), order, "OrderUpdated")
    session.flush()
    return order


# --- the remaining selling methods (issue 12 section 4) -------------------------------------


def get_checkout_options(session: Session, principal: Principal, payments: Payments) -> dict[str, Any]:
    """Which payment methods checkout offers: paying in person always, the online
    provider when one is configured. No coupons or gift cards in Boxoffice."""
    methods = ["offline"] + ([payments.online.name] if payments.online is not None else [])
    paid = session.scalars(
        select(TD.id)
        .join(Event, Event.id == TD.event_id)
        .where(TD.site_id == principal.site_id, TD.free.is_(False), TD.hidden.is_(False), Event.state != EventState.DRAFT)
        .limit(1)
    ).first()
    return {
        "paymentMethodConfigured": True,
        "acceptCoupons": False,
        "premiumServices": True,
        "paidTickets": paid is not None,
        "acceptGiftCards": False,
        "paymentMethods": methods,
    }


_RESERVATION_STATUS = {s.value: f"RESERVATION_{s.value}" for s in ReservationStatus}


def get_invoice(
    session: Session, principal: Principal, reservation_id: str, req: GetInvoiceRequest, fee_rate: Decimal
) -> dict[str, Any]:
    """The invoice checkout would build for this reservation (``build_invoice``), its
    status and whether it is already checked out. A buyer sees only their own."""
    r = reservations.get(session, principal, reservation_id)
    lines = reservations.lines_of(session, r)
    if any(ln.event_id != req.event_id for ln in lines):
        raise NotFound(f"Ticket reservation {reservation_id} not found in event {req.event_id}", code="TICKET_RESERVATION_NOT_FOUND")
    t = now()
    status = r.status_at(t)
    invoice = build_invoice(lines, r.currency, fee_rate)[0]
    occupied = session.scalars(select(Order.id).where(Order.reservation_id == r.id)).first() is not None
    out: dict[str, Any] = {
        "invoice": invoice,
        "expires": iso(r.expiration_date) if status == ReservationStatus.PENDING else None,
        "reservationStatus": _RESERVATION_STATUS[status],
        "reservationOccupied": occupied,
        "reservations": wire.legacy_reservations(r, lines),
    }
    if req.with_discount is not None and req.with_discount.coupon_code:
        out["discountErrors"] = {"error": [{"code": "COUPON_DOES_NOT_EXIST"}]}
    if req.gift_card_code:
        out["giftCardErrors"] = {"error": [{"code": "GIFT_CARD_NOT_FOUND"}]}
    return out


AVAILABLE_SORTS = {"created": TD.created_date, "name": TD.name, "orderIndex": TD.sort_index, "order_index": TD.sort_index}
AVAILABLE_FILTER = q.Spec(
    fields=[
        q.field("id", TD.id, "string", nullable=False, aliases=("_id",)),
        q.field("eventId", TD.event_id, "string", nullable=False, aliases=("event_id",)),
        q.field("name", TD.name, "string", nullable=False),
        q.field("free", TD.free, "bool", ops=q.EQ_OPS, nullable=False),
        q.field("created", TD.created_date, "datetime", nullable=False, aliases=("createdDate",)),
    ],
    id_expr=TD.id,
    default_sort=[{"fieldName": "created", "order": "ASC"}],
)
AVAILABLE_FIELDSETS = frozenset({"POLICY", "DASHBOARD"})


def _available_tickets(
    session: Session, principal: Principal, cond: Any, include_hidden: bool,
    offset: int, limit: int, sort: str | None, fieldsets: set[str],
) -> dict[str, Any]:
    """Legacy List/Query Available Tickets. Everyone sees the definitions on sale now
    that are not hidden, of published events; a manager asking for
    ``INCLUDE_HIDDEN_NOT_ON_SALE`` sees every definition of the site. Limit 0 (the
    default) answers only the counts."""
    t = now()
    manager = principal.can(Permission.MANAGE_EVENTS, Permission.MANAGE_TICKET_DEFINITIONS, Permission.MANAGE_ORDERS)
    order_by = parse_sort(sort, AVAILABLE_SORTS, "created:asc")
    stmt = select(TD).where(TD.site_id == principal.site_id, cond)
    if not (include_hidden and manager):
        started = q.Ctx(now=t)
        stmt = (
            stmt.join(Event, Event.id == TD.event_id)
            .where(TD.hidden.is_(False), Event.state != EventState.DRAFT)
            .where(sale_status_expr(started) == SaleStatus.SALE_STARTED.value)
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(session.scalars(stmt.order_by(order_by, TD.id).offset(offset).limit(limit))) if limit else []
    overdue = inventory.overdue_holds(session, inventory.due(rows, t), t)
    defs = []
    for td in rows:
        left = inventory.unsold(td, overdue.get(td.id, 0))
        defs.append(
            wire.legacy_ticket_definition(
                td, inventory.sale_status(td, t), left, inventory.limit_per_checkout(left), fieldsets
            )
        )
    return {"metaData": {"count": len(defs), "offset": offset, "total": total}, "definitions": defs}


def list_available_tickets(session: Session, principal: Principal, p: dict[str, Any]) -> dict[str, Any]:
    cond = TD.event_id.in_(p["eventId"]) if p.get("eventId") else true()
    for s in p.get("state") or []:
        if s != "INCLUDE_HIDDEN_NOT_ON_SALE":
            raise InvalidArgument("state", f'unknown state "{s}"')
    sort = p.get("sort")
    return _available_tickets(
        session, principal, cond, bool(p.get("state")), p["offset"], p["limit"],
        sort[0] if isinstance(sort, list) else sort, set(),
    )


def query_available_tickets(session: Session, principal: Principal, req: QueryAvailableTicketsRequest) -> dict[str, Any]:
    fieldsets = set(req.fieldset or [])
    unknown = fieldsets - AVAILABLE_FIELDSETS
    if unknown:
        raise InvalidArgument("fieldset", f"unknown fieldset {', '.join(sorted(unknown))}")
    cond = q.compile_filter(AVAILABLE_FILTER, req.filter or {}, q.Ctx(now=now()), "filter")
    return _available_tickets(session, principal, cond, False, req.offset or 0, req.limit or 0, req.sort, fieldsets)


def bulk_update_orders(
    session: Session, principal: Principal, event_id: str, req: BulkUpdateOrdersRequest, fields: list[str] | None
) -> list[Order]:
    """Archive or unarchive many orders of one event: each changed order says
    OrderUpdated, as Update Order does; an unknown number refuses the whole call."""
    unknown = set(fields or []) - {"archived"}
    if unknown:
        raise InvalidArgument("fields", f"cannot update {', '.join(sorted(unknown))}")
    if req.archived is None:
        raise InvalidArgument("archived", "is required", "REQUIRED_FIELD")
    numbers = list(dict.fromkeys(req.order_number))
    rows = {
        o.order_number: o
        for o in session.scalars(
            select(Order)
            .where(Order.site_id == principal.site_id, Order.event_id == event_id, Order.order_number.in_(numbers))
            .order_by(Order.id)
            .with_for_update()
        )
    }
    missing = [n for n in numbers if n not in rows]
    if missing:
        raise NotFound(f"Order {missing[0]} not found", code="ORDER_NOT_FOUND")
    t = now()
    identity = principal.webhook_identity()
    for n in numbers:
        order = rows[n]
        order.archived = req.archived
        order.updated_date = t
        emit(session, identity, order, "OrderUpdated")
    session.flush()
    return [rows[n] for n in numbers]


# --- door sales, Update Checkout, legacy reservations (issue 12 §4) ---


@dataclass(frozen=True)
class Seller:
    """A staff member's key selling at the door: the events it may sell for, and whether it
    may also check guests in (Pos Checkout's ``checkIn``)."""

    scope: staff.Scope
    checks_in: bool


def seller(session: Session, principal: Principal) -> Seller | None:
    """None for every caller but a staff member; for a staff member's key, read now (as
    ``staff_members.service.scope``): a deleted staff member is 401, a paused one or one
    without ``SELL_TICKETS`` 403. ``SELL_TICKETS`` grants selling at the door (the legacy
    Create/Cancel Reservation and Pos Checkout) for the staff member's events only."""
    if not principal.is_staff:
        return None
    s = session.scalars(
        select(StaffMember).where(StaffMember.id == principal.identity_id, StaffMember.site_id == principal.site_id)
    ).first()
    if s is None:
        raise Unauthenticated("This staff member no longer exists")
    if s.status == StaffMemberStatus.ACCESS_PAUSED:
        raise PermissionDenied(f"Staff member {s.id} is suspended (ACCESS_PAUSED)", code=staff.SUSPENDED)
    perms = s.permission_list
    if StaffPermission.SELL_TICKETS not in perms:
        raise PermissionDenied("This staff member does not have the SELL_TICKETS permission")
    scope = staff.Scope(
        all_events=s.all_events,
        events=frozenset() if s.all_events else frozenset(staff.events_of(session, s)),
        guest_forms=StaffPermission.READ_GUEST_FORM in perms,
    )
    return Seller(scope, StaffPermission.CHECK_IN_GUESTS in perms)


def door_reservation(session: Session, principal: Principal, reservation_id: str, lock_row: bool = False) -> TicketReservation:
    """The reservation a door sale goes through. The site's own keys and buyers: as
    ``reservations.get`` decides (a manager sees every one, a buyer its own). A staff
    member: only a reservation made at the door (by a staff member or the organiser: no
    buyer's visitor or member id), so it never takes over an online buyer's hold; any
    other is 404, as an unknown id."""
    if not principal.is_staff:
        return reservations.get(session, principal, reservation_id, lock_row=lock_row)
    stmt = select(TicketReservation).where(
        TicketReservation.id == reservation_id, TicketReservation.site_id == principal.site_id
    )
    r = session.scalars(stmt.with_for_update() if lock_row else stmt).first()
    if r is None or r.visitor_id is not None or r.member_id is not None:
        raise NotFound(f"Ticket reservation {reservation_id} not found", code="TICKET_RESERVATION_NOT_FOUND")
    return r


def legacy_definitions(session: Session, lines: list[ReservationLine]) -> dict[str, dict[str, Any]]:
    """The reserved definitions in the legacy TicketDefinition shape, as they are now
    (POLICY and DASHBOARD: the typings' non-null ``reservations.ticket`` fields)."""
    ids = sorted({ln.ticket_definition_id for ln in lines})
    rows = list(session.scalars(select(TD).where(TD.id.in_(ids)).order_by(TD.id))) if ids else []
    t = now()
    overdue = inventory.overdue_holds(session, inventory.due(rows, t), t)
    out = {}
    for td in rows:
        left = inventory.unsold(td, overdue.get(td.id, 0))
        out[td.id] = wire.legacy_ticket_definition(
            td, inventory.sale_status(td, t), left, inventory.limit_per_checkout(left), {"POLICY", "DASHBOARD"}
        )
    return out


def _is_email(email: str) -> bool:
    return "@" in email and "." in email.split("@")[-1] and not any(c.isspace() for c in email.strip())


def _contact_id(site_id: str, email: str, order_id: str) -> str:
    """A buyer's contact is its e-mail; a door sale without one is a contact of its own."""
    key = email.strip().lower() if email.strip() else f"pos:{order_id}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{site_id}:{key}"))


POS_METHODS = {"CASH": "cash", "CARD": "card"}


def pos_checkout(
    session: Session, principal: Principal, req: PosCheckoutRequest, fee_rate: Decimal
) -> tuple[Order, list[Ticket], TicketReservation, list[ReservationLine]]:
    """Pos Checkout: a sale at the door, paid there and then (cash, or a card present;
    recorded as an offline payment: provider ``pos``, refunded by hand as ``offline`` is
    (``payments.refunds.BY_HAND_PROVIDERS``), ``method`` cash or card, the
    card payment's ``paymentDetailsId`` as its transaction). The order is PAID at once
    (FREE when it costs nothing), ``channel`` OFFLINE_POS; the reservation's held seats
    become sold (``reservations.confirm``: the seats were taken by the reservation, under
    its rules, so a door sale can never oversell); tickets are issued as Checkout issues
    them; ``checkIn`` checks them in before OrderConfirmed is emitted (so the
    confirmation and the webhook already show them checked in).

    Who: "Manage Orders" (the route), or a staff member with SELL_TICKETS for this event
    (``seller``), through a reservation made at the door (``door_reservation``). A door
    sale asks no registration form (the buyer is at the door); ``buyer`` (Boxoffice's
    own field) names them, and without it the order has no name or e-mail and the
    confirmation e-mail queued for it cannot be sent."""
    sells = seller(session, principal)
    if sells is not None:
        sells.scope.check(req.event_id)
        if req.check_in and not sells.checks_in:
            raise PermissionDenied("checkIn needs the CHECK_IN_GUESTS permission")
    r = door_reservation(session, principal, req.reservation_id, lock_row=True)
    t = now()
    lines, event = _sellable(session, principal, r, req.event_id, t, hide_other_events=sells is not None)
    buyer = req.buyer
    first = ((buyer.first_name if buyer else None) or "").strip()
    last = ((buyer.last_name if buyer else None) or "").strip()
    email = ((buyer.email if buyer else None) or "").strip()
    if email and not _is_email(email):
        raise InvalidArgument("buyer.email", "is not an email address", "FORMAT")
    invoice, subtotal, added, grand, revenue = build_invoice(lines, r.currency, fee_rate)
    if grand > MAX_ORDER_TOTAL_CENTS:
        raise InvalidArgument(
            "reservationId", f"the order total is above the largest order, {legacy_money(MAX_ORDER_TOTAL_CENTS, r.currency)['value']}", "MAX"
        )
    if grand == 0:
        if req.payment_details_id or req.payment_method:
            raise InvalidArgument("paymentDetailsId", "a free order takes no payment")
        provider, status, method = "free", OrderStatus.FREE, None
    else:
        provider, status = "pos", OrderStatus.PAID
        method = POS_METHODS[req.payment_method or ("CARD" if req.payment_details_id else "CASH")]
    order_id = str(uuid.uuid4())
    order = Order(
        id=order_id,
        site_id=principal.site_id,
        order_number=_number(session, principal.site_id),
        event_id=req.event_id,
        reservation_id=r.id,
        status=status,
        method=method,
        payment_provider=provider,
        payment_id=req.payment_details_id if grand else None,
        first_name=first,
        last_name=last,
        email=email,
        member_id=None,
        contact_id=_contact_id(principal.site_id, email, order_id),
        checkout_form={"inputValues": []},
        policy_agreement=_policy_agreement(session, event, t, "POS_CHECKOUT"),
        currency=r.currency,
        subtotal_cents=subtotal,
        fees_added_cents=added,
        revenue_cents=revenue,
        total_cents=grand,
        invoice=invoice,
        hold_expires=None,
        tickets_quantity=sum(ln.quantity for ln in lines),
        archived=False,
        created_date=t,
        updated_date=t,
        event_seq=0,
        channel=ChannelType.OFFLINE_POS.value,
    )
    session.add(order)
    session.flush()
    tickets = issue_tickets(session, order, lines, [], t)
    identity = principal.webhook_identity()
    reservations.confirm(session, r, t, identity)  # the held seats are sold, once
    if req.check_in:  # before OrderConfirmed: its hooks (the e-mail) and webhook see them checked in
        for tk in tickets:
            tk.checked_in_date, tk.checked_in_by = t, identity
        session.flush()
    emit(session, identity, order, "OrderConfirmed", tickets)
    return order, tickets, r, lines


# not final: awaiting a payment (online, in person, an authorized card) or at the cashier
UPDATABLE = (*OPEN, OrderStatus.INITIATED)


def update_checkout(session: Session, principal: Principal, order_number: str, req: UpdateCheckoutRequest) -> Order:
    """Update Checkout: the buyer's and guests' details of an order not yet paid
    (``UPDATABLE``: PENDING, OFFLINE_PENDING, AUTHORIZED, INITIATED; a PENDING one past
    its hold reads CANCELED and is final too). Who: the organiser ("Manage Orders") or the buyer who checked out
    (the visitor or member whose reservation it is, as for Get Invoice); another
    buyer's order is 404. ``guests`` are checked as Checkout checks them
    (``forms.check_answers``) and replace the tickets' guests; ``buyer`` (or, without
    it, the first guest's form) the order's name and e-mail; ``memberId`` as Checkout
    allows it (``check_checkout_permissions``). Discounts, pricing-plan benefits and gift
    cards do not exist here: refused (428). OrderUpdated is emitted."""
    manager = principal.can(Permission.MANAGE_ORDERS)
    order = get(session, principal, req.event_id, order_number, lock_row=True)
    r = session.get(TicketReservation, order.reservation_id)
    if not manager:
        mine = r is not None and (
            (principal.identity_type == IdentityType.VISITOR and r.visitor_id == principal.identity_id)
            or (principal.identity_type == IdentityType.MEMBER and r.member_id == principal.identity_id)
        )
        if not mine:  # 404, as for an unknown number: a buyer learns nothing of others' orders
            raise NotFound(f"Order {order_number} not found", code="ORDER_NOT_FOUND")
    if req.discount is not None and req.discount.coupon_code:
        raise FailedPrecondition("Boxoffice has no coupons (Get Checkout Options: acceptCoupons false)", code="COUPONS_NOT_SUPPORTED")
    if req.paid_plan_benefit is not None and (req.paid_plan_benefit.plan_order_id or req.paid_plan_benefit.benefit_id):
        raise FailedPrecondition("Boxoffice has no pricing plans", code="PAID_PLANS_NOT_SUPPORTED")
    if req.gift_card_code:
        raise FailedPrecondition("Boxoffice has no gift cards (Get Checkout Options: acceptGiftCards false)", code="GIFT_CARDS_NOT_SUPPORTED")
    t = now()
    status = order.status_at(t)
    if status not in UPDATABLE:
        raise FailedPrecondition(
            f"Order {order_number} is {status}: only an order awaiting payment can be updated",
            code="ORDER_ACTION_NOT_AVAILABLE",
            data={"orderStatus": status},
        )
    sent = req.model_fields_set
    if "member_id" in sent:
        own = principal.identity_id if principal.identity_type == IdentityType.MEMBER else None
        new_member = req.member_id or None
        if new_member != order.member_id and new_member != own and not manager:
            raise PermissionDenied('memberId of another member needs the "Manage Orders" permission')
        order.member_id = new_member
    event = session.get(Event, order.event_id)
    assert event is not None
    tickets = tickets_of(session, order)
    buyer = req.buyer
    guests = req.guests
    first_form = guests[0].form if guests else None
    if guests is not None:
        seats = len(tickets)
        if len(guests) > seats:
            raise InvalidArgument("guests", f"has {len(guests)} guests for {seats} tickets", "MAX_SIZE")
        if (event.registration.get("tickets") or {}).get("guestsAssignedSeparately") and len(guests) < seats:
            raise InvalidArgument("guests", f"needs a guest form for each of the {seats} tickets (guestsAssignedSeparately)", "MIN_SIZE")
        forms.check_answers(
            session, event, [g.form.input_values for g in guests],
            {"firstName": buyer.first_name, "lastName": buyer.last_name, "email": buyer.email} if buyer else {},
        )
    first = (buyer.first_name if buyer else None) or _form_value(first_form, "firstName") or order.first_name
    last = (buyer.last_name if buyer else None) or _form_value(first_form, "lastName") or order.last_name
    email = ((buyer.email if buyer else None) or _form_value(first_form, "email") or order.email).strip()
    changed_email = email.lower() != order.email.strip().lower()
    if changed_email and not _is_email(email):
        raise InvalidArgument("buyer.email", "is not an email address", "FORMAT")
    order.first_name, order.last_name, order.email = first.strip(), last.strip(), email
    if changed_email:
        order.contact_id = _contact_id(order.site_id, email, order.id)
    if guests is not None:
        order.checkout_form = guests[0].form.model_dump(by_alias=True, exclude_none=True)
        for i, tk in enumerate(tickets):
            _assign_guest(tk, guests[i].form if i < len(guests) else None)
    order.updated_date = t
    session.flush()
    if changed_email and not manager and r is not None:
        # the new address takes this order's unpaid seats: within its per-buyer limit too
        check_open_orders(session, principal, event, r, email, 0)
    emit(session, principal.webhook_identity(), order, "OrderUpdated", tickets)
    session.flush()
    return order


def legacy_reservation_call(session: Session, principal: Principal, req: CreateReservationRequest) -> reservations.NewReservation:
    """The legacy Create Reservation as a Create Ticket Reservation call (its rules,
    holds, limits and group commit: ``reservations.create_batch``). Read first, here:
    who may (a staff member: SELL_TICKETS for this event), and that every definition is
    one of ``eventId``'s (404 otherwise). ``ignoreLimits`` and ``allowHiddenTickets``
    are the reservation's ``additionalReservationSettings`` (a manager's); a line's
    ``ticketDetails`` give single tickets their own pricing option or price override,
    so a line becomes one reservation line per run of equal details."""
    sells = seller(session, principal)
    if sells is not None:
        sells.scope.check(req.event_id)
    event = session.get(Event, req.event_id)
    if event is None or event.site_id != principal.site_id:
        raise NotFound(f"Event {req.event_id} not found", code="EVENT_NOT_FOUND")
    ids = {tq.ticket_definition_id for tq in req.ticket_quantities}
    found = {
        d.id: d.event_id for d in session.execute(select(TD.id, TD.event_id).where(TD.site_id == principal.site_id, TD.id.in_(ids)))
    }
    lines: list[TicketLineItemIn] = []
    for i, tq in enumerate(req.ticket_quantities):
        if found.get(tq.ticket_definition_id) != req.event_id:
            raise NotFound(
                f"Ticket definition {tq.ticket_definition_id} not found in event {req.event_id}",
                code="TICKET_DEFINITION_NOT_FOUND",
                data={"field": f"ticketQuantities[{i}].ticketDefinitionId"},
            )
        details = tq.ticket_details or []
        if len(details) > tq.quantity:
            raise InvalidArgument(f"ticketQuantities[{i}].ticketDetails", f"has {len(details)} tickets for a quantity of {tq.quantity}", "MAX_SIZE")
        runs: list[tuple[tuple[str | None, str | None, str | None], int]] = []
        for k in range(tq.quantity):
            d = details[k] if k < len(details) else None
            key = (
                d.pricing_option_id if d else None,
                d.price_override if d and d.price_override is not None else tq.price_override,
                d.seat_id if d else None,
            )
            if runs and runs[-1][0] == key and key[2] is None:
                runs[-1] = (key, runs[-1][1] + 1)
            else:
                runs.append((key, 1))
        for (option, override, seat), count in runs:
            info = TicketInfo(pricing_option_id=option, price_override=override, seat_id=seat) if (option or override or seat) else None
            lines.append(TicketLineItemIn(ticket_definition_id=tq.ticket_definition_id, quantity=count, ticket_info=info))
    if len(lines) > 50:
        raise InvalidArgument("ticketQuantities", f"make {len(lines)} reservation lines; at most 50", "MAX_SIZE")
    settings = None
    if req.ignore_limits or req.allow_hidden_tickets:
        settings = AdditionalReservationSettings(
            disable_ticket_limit_validation=req.ignore_limits, enable_hidden_ticket_reservation=req.allow_hidden_tickets
        )
    body = CreateTicketReservationRequest(
        ticket_reservation=TicketReservationIn(tickets=lines, additional_reservation_settings=settings)
    )
    return reservations.NewReservation(principal, body)


def legacy_reservation_created(session: Session, reservation_id: str, fee_rate: Decimal) -> dict[str, Any]:
    """The legacy Create Reservation's answer for the reservation just created."""
    r = session.get(TicketReservation, reservation_id)
    if r is None:  # pragma: no cover - created in the unit that just committed
        raise NotFound(f"Ticket reservation {reservation_id} not found", code="TICKET_RESERVATION_NOT_FOUND")
    lines = reservations.lines_of(session, r)
    invoice = build_invoice(lines, r.currency, fee_rate)[0]
    status = _RESERVATION_STATUS[r.status_at(now())]
    return wire.legacy_reservation_response(r, lines, legacy_definitions(session, lines), invoice, status)


def cancel_reservation(session: Session, principal: Principal, event_id: str, reservation_id: str) -> None:
    """The legacy Cancel Reservation: Cancel Ticket Reservation's rule
    (``reservations.cancel_locked``: PENDING or CONFIRMED -> CANCELED_MANUALLY, the seats
    back at once) for a reservation of ``eventId`` that has no order; one with an order
    is refused as Delete Ticket Reservation refuses it (428 RESERVATION_HAS_ORDER:
    cancel the order instead). Who: as Get Ticket Reservation (a buyer its own, a
    manager any), or a staff member with SELL_TICKETS a door reservation of its event."""
    sells = seller(session, principal)
    if sells is not None:
        sells.scope.check(event_id)
    r = door_reservation(session, principal, reservation_id, lock_row=True)
    if any(ln.event_id != event_id for ln in reservations.lines_of(session, r)):
        raise NotFound(f"Ticket reservation {reservation_id} not found in event {event_id}", code="TICKET_RESERVATION_NOT_FOUND")
    refuse_deleting_with_order(session, r)
    reservations.cancel_locked(session, r, principal.webhook_identity())
    session.flush()
