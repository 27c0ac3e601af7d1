"""Tickets: List, Get, Update, Check In, Delete Check-In, check-in by QR code, PDFs.

Check-in rules: only tickets of confirmed orders (PAID, FREE); never a canceled
ticket; a second check-in is refused with the time of the first; each check-in keeps
who and when. A batch checks in all its tickets or none.

A staff member's key (identity ``staff``) lists, reads and checks in only the tickets of
the events it is assigned to (``staff_members.service.scope``): naming another event is
403, another event's ticket looked up by number is 404.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..db import now
from ..errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from ..events import wire as events_wire
from ..events.models import Event
from ..fields import field_mask
from ..identity import Principal
from ..links import Urls, check_sig
from ..money import legacy_money
from ..orders import service as orders
from ..orders.models import CONFIRMED, Order, OrderStatus
from ..orders.wire import guest_name
from ..staff_members import service as staff
from ..timefmt import iso
from .models import Ticket
from .pdf import InvalidTicketCode, TicketPage, render_tickets_pdf, sign_ticket_code, verify_ticket_code
from .schemas import BulkUpdateTicketsRequest

STATES = {
    "ORDER_ARCHIVED": lambda: Order.archived.is_(True),
    "ORDER_ACTIVE": lambda: Order.archived.is_(False),
    "TICKET_ARCHIVED": lambda: Ticket.archived.is_(True),
    "TICKET_ACTIVE": lambda: Ticket.archived.is_(False),
    "CHECKED_IN": lambda: Ticket.checked_in_date.is_not(None),
    "NON_CHECKED_IN": lambda: Ticket.checked_in_date.is_(None),
    "FREE": lambda: Ticket.free.is_(True),
    "PAID": lambda: Ticket.free.is_(False),
    "MEMBER": lambda: Order.member_id.is_not(None),
}


@dataclass
class Hooks:
    """What slices above tickets do in a check-in's unit of work (docs/architecture.md):
    ``checked_in(session, identity, pairs)``: these tickets were just checked in (Check In,
    a scanned QR code); ``check_in_deleted(session, identity, pairs)``: their check-in was
    just undone. ``identity``: the webhook identity of who did it."""

    checked_in: list[Callable[[Session, dict[str, str], list[tuple[Ticket, Order]]], None]] = field(default_factory=list)
    check_in_deleted: list[Callable[[Session, dict[str, str], list[tuple[Ticket, Order]]], None]] = field(default_factory=list)


hooks = Hooks()

SORTS = {
    "ticket_number": Ticket.ticket_number,
    "ticketNumber": Ticket.ticket_number,
    "created": Ticket.created_date,
    "order_number": Ticket.order_number,
    "orderNumber": Ticket.order_number,
}


# --- reading ----------------------------------------------------------------------------------


def _with_order(principal: Principal) -> Any:
    return (
        select(Ticket, Order)
        .join(Order, Order.id == Ticket.order_id)
        .where(Ticket.site_id == principal.site_id)
    )


def get(session: Session, principal: Principal, ticket_number: str, event_id: str | None = None) -> tuple[Ticket, Order]:
    scope = staff.scope(session, principal)
    if scope and event_id:
        scope.check(event_id)
    stmt = _with_order(principal).where(Ticket.ticket_number == ticket_number)
    if event_id:
        stmt = stmt.where(Ticket.event_id == event_id)
    row = session.execute(stmt).first()
    if row is None or (scope and not scope.allows(row[0].event_id)):
        raise NotFound(f"Ticket {ticket_number} not found", code="TICKET_NOT_FOUND")
    return row[0], row[1]


def list_tickets(session: Session, principal: Principal, p: dict[str, Any]) -> tuple[list[tuple[Ticket, Order]], int, dict]:
    stmt = _with_order(principal)
    scope = staff.scope(session, principal)
    if scope:
        for event_id in p.get("eventId") or []:
            scope.check(event_id)
        stmt = scope.restrict(stmt, Ticket.event_id)
    for key, col in (
        ("eventId", Ticket.event_id),
        ("orderNumber", Ticket.order_number),
        ("ticketNumber", Ticket.ticket_number),
        ("ticketDefinitionId", Ticket.ticket_definition_id),
        ("orderStatus", Order.status),
        ("memberId", Order.member_id),
        ("contactId", Order.contact_id),
    ):
        if p.get(key):
            stmt = stmt.where(col.in_(p[key]))
    for state in p.get("state") or []:
        if state not in STATES:
            raise InvalidArgument("state", f'unknown state "{state}"')
        stmt = stmt.where(STATES[state]())
    if p.get("searchPhrase"):
        like = f"%{p['searchPhrase'].lower()}%"
        stmt = stmt.where(
            or_(
                Ticket.ticket_number.ilike(like),
                Ticket.guest_first_name.ilike(like),
                Ticket.guest_last_name.ilike(like),
                Order.first_name.ilike(like),
                Order.last_name.ilike(like),
                Order.email.ilike(like),
            )
        )
    order_by = orders.parse_sort(p.get("sort"), SORTS, "ticket_number:asc")
    rows = [(r[0], r[1]) for r in session.execute(stmt.order_by(order_by, Ticket.id))]
    facets: dict[str, Any] = {}
    for f in p.get("facet") or []:
        if f not in ("state", "orderStatus", "ticketDefinitionId"):
            raise InvalidArgument("facet", f'unknown facet "{f}"')
        counts: dict[str, int] = {}
        for tk, o in rows:
            keys = (
                ["CHECKED_IN" if tk.checked_in_date else "NON_CHECKED_IN"]
                if f == "state"
                else [o.status if f == "orderStatus" else tk.ticket_definition_id]
            )
            for k in keys:
                counts[k] = counts.get(k, 0) + 1
        facets[f] = {"counts": counts}
    offset, limit = p["offset"], p["limit"]
    return rows[offset : offset + limit], len(rows), facets


# --- check-in ------------------------------------------------------------------------------


def _lock_orders(session: Session, order_ids: Any) -> None:
    """Lock the orders of the tickets about to be locked (``order_ids``: a select of their
    ``Ticket.order_id``), in id order, before the tickets: every unit that writes an order
    and its tickets (Cancel Order, Cancel Event's orders, Update Checkout) locks the order
    first, so a check-in or an archiving of its tickets never holds the tickets while
    waiting for the order (a deadlock PostgreSQL breaks by aborting one unit)."""
    session.execute(select(Order.id).where(Order.id.in_(order_ids)).order_by(Order.id).with_for_update())


def _locked(session: Session, principal: Principal, event_id: str, numbers: list[str]) -> list[tuple[Ticket, Order]]:
    scope = staff.scope(session, principal)
    if scope:
        scope.check(event_id)
    _lock_orders(
        session,
        select(Ticket.order_id).where(
            Ticket.site_id == principal.site_id, Ticket.event_id == event_id, Ticket.ticket_number.in_(numbers)
        ),
    )
    found = {
        tk.ticket_number: (tk, o)
        for tk, o in session.execute(
            _with_order(principal)
            .where(Ticket.event_id == event_id, Ticket.ticket_number.in_(numbers))
            .order_by(Ticket.ticket_number)
            .with_for_update(of=Ticket)
        ).all()
    }
    missing = [n for n in numbers if n not in found]
    if missing:
        raise NotFound(f"Ticket {missing[0]} not found in event {event_id}", code="TICKET_NOT_FOUND")
    return [found[n] for n in dict.fromkeys(numbers)]


def check_in(session: Session, principal: Principal, event_id: str, numbers: list[str]) -> list[tuple[Ticket, Order]]:
    t = now()
    pairs = _locked(session, principal, event_id, numbers)
    for tk, o in pairs:
        if tk.canceled:
            raise FailedPrecondition(f"Ticket {tk.ticket_number} is canceled", code="TICKET_CANCELED")
        if o.status not in orders.CONFIRMED:
            raise FailedPrecondition(
                f"Ticket {tk.ticket_number} belongs to an order that is {o.status}, not confirmed",
                code="ORDER_NOT_CONFIRMED",
                data={"orderStatus": o.status},
            )
        if tk.checked_in_date is not None:
            raise FailedPrecondition(
                f"Ticket {tk.ticket_number} was already checked in at {iso(tk.checked_in_date)}",
                code="TICKET_ALREADY_CHECKED_IN",
                data={"checkedInAt": iso(tk.checked_in_date), "checkedInBy": tk.checked_in_by},
            )
    identity = principal.webhook_identity()
    for tk, _ in pairs:
        tk.checked_in_date, tk.checked_in_by = t, identity
    _touch_orders(session, identity, pairs, t)
    for react in hooks.checked_in:
        react(session, identity, pairs)
    return pairs


def delete_check_in(session: Session, principal: Principal, event_id: str, numbers: list[str]) -> list[tuple[Ticket, Order]]:
    t = now()
    pairs = _locked(session, principal, event_id, numbers)
    changed = [(tk, o) for tk, o in pairs if tk.checked_in_date is not None]
    for tk, _ in changed:
        tk.checked_in_date, tk.checked_in_by = None, None
    _touch_orders(session, principal.webhook_identity(), changed, t)
    for react in hooks.check_in_deleted:
        react(session, principal.webhook_identity(), changed)
    return pairs


def _touch_orders(session: Session, identity: dict[str, str], pairs: list[tuple[Ticket, Order]], t: dt.datetime) -> None:
    session.flush()
    for o in {o.id: o for _, o in pairs}.values():
        o.updated_date = t
        orders.emit(session, identity, o, "OrderUpdated")


def scan(session: Session, principal: Principal, secret: bytes, code: str) -> tuple[Ticket, Order]:
    """Check in by the QR code's signed payload; a forged or altered code is refused."""
    try:
        site_id, event_id, number = verify_ticket_code(secret, code)
    except InvalidTicketCode:
        raise FailedPrecondition("This is not a valid ticket code", code="INVALID_TICKET_CODE") from None
    if site_id != principal.site_id:
        raise PermissionDenied("This ticket belongs to another site")
    return check_in(session, principal, event_id, [number])[0]


def update(session: Session, principal: Principal, number: str, req: Any) -> tuple[Ticket, Order]:
    tk, o = get(session, principal, number, req.event_id)
    fields = field_mask(req.fields, "fields") or []
    sent = req.model_fields_set
    want = set(fields) or {n for n, py in (("archived", "archived"), ("guestDetails.form", "guest_details")) if py in sent}
    unknown = want - {"archived", "guestDetails", "guestDetails.form"}
    if unknown:
        raise InvalidArgument("fields", f"cannot update {', '.join(sorted(unknown))}")
    if "archived" in want:
        tk.archived = bool(req.archived)
    if want & {"guestDetails", "guestDetails.form"}:
        form = req.guest_details.form if req.guest_details else None
        tk.guest_form = form.model_dump(by_alias=True, exclude_none=True) if form else None
        values = {iv.input_name: iv.value for iv in (form.input_values or [])} if form else {}
        tk.guest_first_name = values.get("firstName")
        tk.guest_last_name = values.get("lastName")
        tk.guest_email = values.get("email")
        tk.guest_assigned = form is not None
    o.updated_date = now()
    session.flush()
    orders.emit(session, principal.webhook_identity(), o, "OrderUpdated")
    return tk, o


# --- PDFs ------------------------------------------------------------------------------------


def void_reason(order: Order, tk: Ticket) -> str:
    """Why a ticket's PDF carries no QR code: an order not (yet, or no longer) paid, or a
    canceled ticket. The signed PDF link of an unpaid order still opens (checkout shows
    it at once), but what it prints cannot get anyone in, and says why."""
    status = order.status_at()
    if tk.canceled or status in (OrderStatus.CANCELED, OrderStatus.DECLINED, OrderStatus.VOIDED):
        return "This ticket is canceled"
    if status not in CONFIRMED:
        return f"Order not paid yet ({status})"
    return ""


def pdf(session: Session, site_id: str, secret: bytes, tickets: list[Ticket], order: Order) -> bytes:
    event = session.get(Event, order.event_id)
    title = event.title if event else ""
    when = ""
    if event and event.start_date:  # in the event's own time zone, as the e-mail says it
        tz_name = str((event.date_settings or {}).get("timeZoneId") or "Etc/UTC")
        local = event.start_date.astimezone(events_wire.zone(tz_name))
        when = local.strftime("%A %d %B %Y, %H:%M ") + (local.tzname() or tz_name)
    where = ""
    if event:
        loc = event.location or {}
        where = (loc.get("address") or {}).get("formattedAddress") or loc.get("name") or ""
    pages = [
        TicketPage(
            event_title=title,
            event_date=when,
            event_location=where,
            ticket_name=tk.name + (f" ({tk.pricing_option_name})" if tk.pricing_option_name else ""),
            ticket_number=tk.ticket_number,
            guest_name=guest_name(tk, order),
            price="Free" if tk.price_cents == 0 else f"{legacy_money(tk.price_cents, tk.currency)['value']} {tk.currency}",
            order_number=order.order_number,
            qr_payload="" if void_reason(order, tk) else sign_ticket_code(secret, site_id, tk.event_id, tk.ticket_number),
            void=void_reason(order, tk),
        )
        for tk in tickets
    ]
    return render_tickets_pdf(pages)


def order_pdf(session: Session, urls: Urls, number: str, sig: str) -> bytes:
    check_sig(urls, "order", number, sig)
    order = session.scalars(select(Order).where(Order.site_id == urls.site_id, Order.order_number == number)).first()
    if order is None:
        raise NotFound("No such document", code="NOT_FOUND")
    tickets = [t for t in orders.tickets_of(session, order) if not t.canceled]
    if not tickets:
        raise FailedPrecondition("The order has no valid tickets", code="NO_TICKETS")
    return pdf(session, urls.site_id, urls.secret, tickets, order)


def ticket_pdf(session: Session, urls: Urls, number: str, sig: str) -> bytes:
    check_sig(urls, "ticket", number, sig)
    row = session.execute(
        select(Ticket, Order).join(Order, Order.id == Ticket.order_id).where(
            Ticket.site_id == urls.site_id, Ticket.ticket_number == number
        )
    ).first()
    if row is None or row[0].canceled:
        raise NotFound("No such document", code="NOT_FOUND")
    return pdf(session, urls.site_id, urls.secret, [row[0]], row[1])


def bulk_update(session: Session, principal: Principal, req: BulkUpdateTicketsRequest) -> list[tuple[Ticket, Order]]:
    """Archive or unarchive up to 100 tickets (of one event when ``eventId`` is given);
    each order touched says OrderUpdated once, as Update Ticket does. An unknown ticket
    refuses the whole call."""
    if req.archived is None:
        raise InvalidArgument("archived", "is required", "REQUIRED_FIELD")
    numbers = list(dict.fromkeys(req.ticket_number))
    stmt = _with_order(principal).where(Ticket.ticket_number.in_(numbers))
    if req.event_id:
        stmt = stmt.where(Ticket.event_id == req.event_id)
    _lock_orders(session, stmt.with_only_columns(Ticket.order_id))
    found = {tk.ticket_number: (tk, o) for tk, o in session.execute(stmt.order_by(Ticket.ticket_number).with_for_update(of=Ticket)).all()}
    missing = [n for n in numbers if n not in found]
    if missing:
        raise NotFound(f"Ticket {missing[0]} not found", code="TICKET_NOT_FOUND")
    pairs = [found[n] for n in numbers]
    for tk, _ in pairs:
        tk.archived = req.archived
    _touch_orders(session, principal.webhook_identity(), pairs, now())
    return pairs
