"""Event guests: Query Guests, and the guest list kept in step with the slices below
it, in the same unit of work as each change (docs/architecture.md, "How a slice reacts
to another"):

* an order becomes PAID or FREE (``orders.hooks.confirmed``): its BUYER guest and one
  TICKET_HOLDER guest per ticket are made, ATTENDING, already checked in where a ticket
  was (a sale at the door): ``guest_created`` and ``guest_updated`` each (the typings:
  "this event always triggers together with the Guest Created and the Guest Deleted
  events"), and ``guest_guest_checked_in`` for those checked in;
* a ticket is checked in, or its check-in undone (``tickets.hooks``): the holder and the
  buyer record it in their ``checkInDetails``; ``guest_updated``, and
  ``guest_guest_checked_in`` when a guest becomes checked in (a buyer: once every ticket
  of the order that is not canceled is);
* a confirmed order is canceled (``orders.hooks.canceled``): its guests become
  NOT_ATTENDING and are deleted: ``guest_guest_order_canceled``, ``guest_updated``,
  ``guest_deleted`` each. A guest already told in this unit that its event was canceled
  gets no order_canceled as well;
* the event is canceled (``events.hooks.canceled``): ``guest_guest_event_canceled`` for
  each guest (the orders stay as they are, so the guests stay);
* the event's reminders and start (``events.hooks.lifecycle``, the scheduler):
  ``guest_guest_event_starts`` for each attending guest, ``timing`` STARTS_IN_1_WEEK ...
  STARTS_IN_30_MINUTES for the six reminders, NOW when it starts;
* the event is deleted (``events.hooks.deleting``): its guests go, each with
  ``guest_updated`` and ``guest_deleted``.

Webhooks a caller caused carry the caller's identity (check-in, Cancel Event); those
derived from an order's payment or from the clock carry the system's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import String, cast, null, select
from sqlalchemy.orm import Session

from .. import outbox
from .. import query as q
from ..db import now
from ..errors import InvalidArgument
from ..events import service as events
from ..events.models import Event
from ..forms import service as forms
from ..forms import wire as forms_wire
from ..forms.models import ControlKind
from ..identity import SYSTEM_IDENTITY, Principal
from ..orders import service as orders
from ..orders.models import Order
from ..staff_members import service as staff
from ..tickets import service as tickets_service
from ..tickets.models import Ticket
from . import wire
from .models import AttendanceStatus, Guest, GuestType
from .schemas import QueryEventGuestsRequest, RequestedField

T = TypeVar("T")
# Rows named in one IN (...) list: far below SQLite's bound on a statement's variables.
_CHUNK = 500

# --- Query Guests ----------------------------------------------------------------------

_ID_OPS = q.RANGE_OPS  # the typings: $eq $ne $gt $gte $lt $lte $in $exists (and $nin, Wix's table)
_ENUM_OPS = frozenset({"$eq", "$ne", "$in", "$nin"})
_NONE = cast(null(), String(36))  # rsvpId, secondaryLanguageCode: no RSVPs or ticket translations here

QUERY = q.Spec(
    fields=[
        q.field("id", Guest.id, "string", ops=_ID_OPS, sortable=False, nullable=False, aliases=("_id",)),
        q.field("eventId", Guest.event_id, "string", ops=_ID_OPS, sortable=False, nullable=False),
        q.field("rsvpId", _NONE, "string", ops=_ID_OPS, sortable=False),
        q.field("orderNumber", Guest.order_number, "string", ops=_ID_OPS, sortable=False, nullable=False),
        q.field("ticketNumber", Guest.ticket_number, "string", ops=_ID_OPS, sortable=False),
        q.field("contactId", Guest.contact_id, "string", ops=_ID_OPS, sortable=False, nullable=False),
        q.field("memberId", Guest.member_id, "string", ops=_ID_OPS, sortable=False),
        q.field("secondaryLanguageCode", _NONE, "string", ops=_ID_OPS, sortable=False),
        q.field(
            "attendanceStatus", Guest.attendance_status, "enum", ops=_ENUM_OPS, sortable=False, nullable=False,
            enum=tuple(AttendanceStatus),
        ),
        q.field("guestType", Guest.guest_type, "enum", ops=_ENUM_OPS, sortable=False, nullable=False, enum=tuple(GuestType)),
        q.field(
            "guestDetails.checkedIn", Guest.checked_in, "bool", ops=frozenset({"$eq", "$ne", "$exists"}),
            sortable=False, nullable=False,
        ),
        # every guest here is a ticketed one: its tickets always exist
        q.field("tickets", Guest.order_number, "string", ops=frozenset({"$exists"}), sortable=False, nullable=False),
        q.field("createdDate", Guest.created_date, "datetime", nullable=False, aliases=("_createdDate",)),
        q.field("updatedDate", Guest.updated_date, "datetime", nullable=False, aliases=("_updatedDate",)),
        q.field("attendanceStatusUpdatedDate", Guest.attendance_status_updated_date, "datetime", nullable=False),
    ],
    id_expr=Guest.id,
    # Wix: "createdDate is sorted in ASC order, paging.limit is 100"
    default_sort=[{"fieldName": "createdDate", "order": "ASC"}],
    max_limit=100,
    default_limit=100,
)

# The deprecated ``query.fieldsets`` spells them as field names.
_FIELDSETS = {
    "GUEST_DETAILS": RequestedField.GUEST_DETAILS,
    "guestDetails": RequestedField.GUEST_DETAILS,
    "GUEST_TOTAL": RequestedField.GUEST_TOTAL,
    "guestTotal": RequestedField.GUEST_TOTAL,
}


def requested(req: QueryEventGuestsRequest) -> set[RequestedField]:
    out = set(req.fields or [])
    for i, name in enumerate((req.query.fieldsets if req.query else None) or []):
        if name not in _FIELDSETS:
            raise InvalidArgument(f"query.fieldsets[{i}]", f'unknown fieldset "{name[:100]}"; use guestDetails', "FORMAT")
        out.add(_FIELDSETS[name])
    return out


def query(session: Session, principal: Principal, req: QueryEventGuestsRequest, secret: bytes) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Query Guests: the site's guests (a staff member's key: of its events, and without
    the form answers unless it may READ_GUEST_FORM), filtered, sorted and paged."""
    scope = staff.scope(session, principal)
    base = select(Guest).where(Guest.site_id == principal.site_id)
    if scope is not None:
        base = scope.restrict(base, Guest.event_id)
    raw = {k: v for k, v in (q.raw(req.query) or {}).items() if k != "fieldsets"}
    fields = requested(req)
    page = q.run_query(session, QUERY, base, raw, q.Ctx(now=now()), secret=secret, scope=f"guests:{principal.site_id}")
    shown = present(
        session, page.rows,
        details=RequestedField.GUEST_DETAILS in fields,
        total=RequestedField.GUEST_TOTAL in fields,
        forms=scope is None or scope.guest_forms,
    )
    return shown, page.metadata


# --- presenting ------------------------------------------------------------------------


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _kinds(session: Session, event_id: str) -> dict[str, set[str]]:
    """The input names of the event form's phone and address controls (an input is
    named after its control)."""
    f = forms.of_event(session, event_id)
    controls = f.controls if f is not None else forms_wire.default_controls()
    return {
        "phone": {c["id"] for c in controls if c["kind"] == ControlKind.PHONE},
        "address": {c["id"] for c in controls if c["kind"] == ControlKind.ADDRESS},
    }


@dataclass
class Context:
    """What presenting guests needs besides their rows, read once for a page."""

    orders: dict[str, Order]
    tickets: dict[str, list[Ticket]]
    kinds: dict[str, dict[str, set[str]]]

    def to_wire(self, g: Guest, *, details: bool = True, total: bool = True, forms: bool = True) -> dict[str, Any]:
        order = self.orders[g.order_id]
        return wire.to_wire(
            g, order, self.tickets.get(g.order_id, []), self.kinds[g.event_id], details=details, total=total, forms=forms
        )


def context(session: Session, guests: Iterable[Guest]) -> Context:
    guests = list(guests)
    order_ids = sorted({g.order_id for g in guests})
    by_id: dict[str, Order] = {}
    tickets: dict[str, list[Ticket]] = {}
    for ids in _chunks(order_ids):
        by_id.update((o.id, o) for o in session.scalars(select(Order).where(Order.id.in_(ids))))
        for tk in session.scalars(select(Ticket).where(Ticket.order_id.in_(ids)).order_by(Ticket.order_id, Ticket.position)):
            tickets.setdefault(tk.order_id, []).append(tk)
    kinds = {eid: _kinds(session, eid) for eid in sorted({g.event_id for g in guests})}
    return Context(by_id, tickets, kinds)


def present(
    session: Session, guests: Sequence[Guest], *, details: bool, total: bool, forms: bool = True
) -> list[dict[str, Any]]:
    ctx = context(session, guests)
    return [ctx.to_wire(g, details=details, total=total, forms=forms) for g in guests]


# --- the webhooks ----------------------------------------------------------------------


class Outbox:
    """The guest webhooks of one reaction, written with one INSERT at the end."""

    def __init__(self) -> None:
        self.changes: list[outbox.Change] = []

    def add(self, g: Guest, identity: dict[str, str], slug: str, body: dict[str, Any]) -> None:
        g.event_seq += 1
        self.changes.append(outbox.Change(g.site_id, identity, wire.FQDN, slug, g.id, g.event_seq, body))

    def write(self, session: Session) -> None:
        if self.changes:
            outbox.record_many(session, self.changes)


def _locked(session: Session, *conds: Any) -> list[Guest]:
    """Guests, locked in id order (two check-ins of one order's tickets both change its
    buyer's check-in history: the second waits for the first, and reads what it wrote)."""
    stmt = select(Guest).where(*conds).order_by(Guest.id).with_for_update()
    return list(session.scalars(stmt.execution_options(populate_existing=True)))


def _bump(g: Guest, t: dt.datetime) -> None:
    g.updated_date = t
    g.revision += 1


# --- an order is confirmed -------------------------------------------------------------


def contact_of(site_id: str, email: str) -> str:
    """A person's contact id, derived from the e-mail as checkout derives the buyer's."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{site_id}:{email.strip().lower()}"))


def _all_checked_in(tickets: Sequence[Ticket]) -> bool:
    live = [t for t in tickets if not t.canceled]
    return bool(live) and all(t.checked_in_date is not None for t in live)


def _entry(tk: Ticket) -> dict[str, Any]:
    return wire.check_in_entry(tk.checked_in_date, tk.checked_in_by, None, True)


def _last_checker(tickets: Sequence[Ticket]) -> dict[str, str]:
    done = sorted((t for t in tickets if t.checked_in_date is not None), key=lambda t: t.checked_in_date)
    return (done[-1].checked_in_by if done and done[-1].checked_in_by else None) or SYSTEM_IDENTITY


def on_order_confirmed(session: Session, order: Order) -> None:
    """The order became PAID or FREE: its buyer and ticket holders become guests."""
    if session.scalars(select(Guest.id).where(Guest.order_id == order.id).limit(1)).first() is not None:
        return  # its guests are there already
    tickets = orders.tickets_of(session, order)
    live = [tk for tk in tickets if not tk.canceled]
    made_at = t = now()
    made: list[Guest] = []

    def guest(kind: GuestType, tk: Ticket | None, contact: str, member: str | None, checked: bool, history: dict[str, Any]) -> Guest:
        # a microsecond apart (the wire shows milliseconds): the default order, createdDate,
        # lists an order's buyer first, then its ticket holders in the tickets' order
        t = made_at + dt.timedelta(microseconds=len(made))
        return Guest(
            id=str(uuid.uuid4()), site_id=order.site_id, event_id=order.event_id, order_id=order.id,
            order_number=order.order_number, ticket_id=tk.id if tk else None, ticket_number=tk.ticket_number if tk else None,
            guest_type=kind, contact_id=contact, member_id=member, attendance_status=AttendanceStatus.ATTENDING,
            checked_in=checked, check_ins=history, created_date=t, updated_date=t, attendance_status_updated_date=t,
            revision=1, event_seq=0,
        )

    made.append(
        guest(
            GuestType.BUYER, None, order.contact_id, order.member_id, _all_checked_in(live),
            {tk.ticket_number: _entry(tk) for tk in live if tk.checked_in_date is not None},
        )
    )
    buyer_email = order.email.strip().lower()
    for tk in live:
        own = tk.guest_email is not None and tk.guest_email.strip().lower() != buyer_email
        made.append(
            guest(
                GuestType.TICKET_HOLDER, tk,
                contact_of(order.site_id, tk.guest_email) if own and tk.guest_email else order.contact_id,
                None if own else order.member_id,  # another person than the buyer: not the buyer's member
                tk.checked_in_date is not None,
                {tk.ticket_number: _entry(tk)} if tk.checked_in_date is not None else {},
            )
        )
    session.add_all(made)
    session.flush()
    ctx = Context({order.id: order}, {order.id: tickets}, {order.event_id: _kinds(session, order.event_id)})
    box = Outbox()
    details: dict[str, Any] | None = None
    for g in made:
        ent = ctx.to_wire(g)
        box.add(g, SYSTEM_IDENTITY, "created", wire.created(ent))
        box.add(g, SYSTEM_IDENTITY, "updated", wire.updated(ent))
        if g.checked_in:  # sold at the door, checked in at once
            if details is None:
                details = _event_details(session, order.event_id, t)
            mine = [tk for tk in live if tk.id == g.ticket_id] if g.ticket_id else live
            box.add(g, _last_checker(mine), "guest_checked_in", wire.checked_in(ent, details))
    box.write(session)


def _event_details(session: Session, event_id: str, t: dt.datetime) -> dict[str, Any]:
    e = session.get(Event, event_id)
    return wire.event_details(e, t) if e is not None else {}


# --- check-in ----------------------------------------------------------------------------


def _check_ins(session: Session, identity: dict[str, str], pairs: list[tuple[Ticket, Order]], checked_in: bool) -> None:
    if not pairs:
        return
    t = now()
    changed = {tk.id: tk for tk, _ in pairs}
    by_order = {o.id: o for _, o in pairs}
    guests = _locked(session, Guest.order_id.in_(sorted(by_order)))
    if not guests:
        return
    all_tickets = {oid: orders.tickets_of(session, o) for oid, o in by_order.items()}
    box = Outbox()
    touched: list[tuple[Guest, bool]] = []  # (guest, became checked in)
    for g in guests:
        if g.ticket_id is not None:  # a holder: its own ticket
            mine = [changed[g.ticket_id]] if g.ticket_id in changed else []
        else:  # the buyer: every ticket of the order
            mine = [tk for tk in all_tickets[g.order_id] if tk.id in changed]
        if not mine:
            continue
        history = dict(g.check_ins or {})
        for tk in mine:
            when = tk.checked_in_date if checked_in and tk.checked_in_date is not None else t
            history[tk.ticket_number] = wire.check_in_entry(when, identity, history.get(tk.ticket_number), checked_in)
        was = g.checked_in
        g.check_ins = history
        g.checked_in = checked_in if g.ticket_id else _all_checked_in(all_tickets[g.order_id])
        _bump(g, t)
        touched.append((g, g.checked_in and not was))
    if not touched:
        return
    session.flush()
    ctx = Context(by_order, all_tickets, {eid: _kinds(session, eid) for eid in sorted({g.event_id for g, _ in touched})})
    details: dict[str, dict[str, Any]] = {}
    for g, arrived in touched:
        ent = ctx.to_wire(g)
        box.add(g, identity, "updated", wire.updated(ent))
        if arrived:
            if g.event_id not in details:
                details[g.event_id] = _event_details(session, g.event_id, t)
            box.add(g, identity, "guest_checked_in", wire.checked_in(ent, details[g.event_id]))
    box.write(session)


def on_checked_in(session: Session, identity: dict[str, str], pairs: list[tuple[Ticket, Order]]) -> None:
    _check_ins(session, identity, pairs, True)


def on_check_in_deleted(session: Session, identity: dict[str, str], pairs: list[tuple[Ticket, Order]]) -> None:
    _check_ins(session, identity, pairs, False)


# --- an order is canceled ------------------------------------------------------------------

# Guests told in this unit of work that their event was canceled (events.hooks.canceled).
_TOLD = "guests.event_canceled"


def on_order_canceled(session: Session, order: Order) -> None:
    """A confirmed order was canceled: its guests are NOT_ATTENDING, then deleted."""
    guests = _locked(session, Guest.order_id == order.id)
    if not guests:
        return
    t = now()
    for g in guests:
        if g.attendance_status != AttendanceStatus.NOT_ATTENDING:
            g.attendance_status, g.attendance_status_updated_date = AttendanceStatus.NOT_ATTENDING, t
        _bump(g, t)
    ctx = context(session, guests)
    told = session.info.get(_TOLD, set())
    details = _event_details(session, order.event_id, t)
    box = Outbox()
    for g in guests:
        ent = ctx.to_wire(g)
        if g.id not in told:
            box.add(g, SYSTEM_IDENTITY, "guest_order_canceled", wire.order_canceled(ent, details, order))
        box.add(g, SYSTEM_IDENTITY, "updated", wire.updated(ent))
        box.add(g, SYSTEM_IDENTITY, "deleted", wire.deleted(ent))
    box.write(session)
    for g in guests:
        session.delete(g)
    session.flush()


# --- the event: canceled, starting, deleted ------------------------------------------------


def _of_event(session: Session, event_id: str, *conds: Any) -> list[Guest]:
    return _locked(session, Guest.event_id == event_id, *conds)


def on_event_canceled(session: Session, principal: Principal, event: Event) -> None:
    guests = _of_event(session, event.id)
    if not guests:
        return
    t = now()
    ctx = context(session, guests)
    details = wire.event_details(event, t)
    identity = principal.webhook_identity()
    box = Outbox()
    for g in guests:
        box.add(g, identity, "guest_event_canceled", wire.event_canceled(ctx.to_wire(g), details))
    box.write(session)
    session.info.setdefault(_TOLD, set()).update(g.id for g in guests)


def on_lifecycle(session: Session, event: Event, slug: str, starts_in: dict[str, int] | None) -> None:
    """The event's reminders and its start: each attending guest is told when it starts."""
    if slug not in ("reminder", "started"):
        return
    when = wire.timing(starts_in if slug == "reminder" else None)
    if when is None:
        return
    guests = _of_event(session, event.id, Guest.attendance_status == AttendanceStatus.ATTENDING)
    if not guests:
        return
    ctx = context(session, guests)
    details = wire.event_details(event, now())
    box = Outbox()
    for g in guests:
        box.add(g, SYSTEM_IDENTITY, "guest_event_starts", wire.event_starts(ctx.to_wire(g), details, when))
    box.write(session)


def on_event_deleting(session: Session, principal: Principal, event: Event) -> None:
    guests = _of_event(session, event.id)
    if not guests:
        return
    ctx = context(session, guests)
    identity = principal.webhook_identity()
    box = Outbox()
    for g in guests:
        ent = ctx.to_wire(g)
        box.add(g, identity, "updated", wire.updated(ent))
        box.add(g, identity, "deleted", wire.deleted(ent))
    box.write(session)
    for g in guests:
        session.delete(g)
    session.flush()


orders.hooks.confirmed.append(on_order_confirmed)
orders.hooks.canceled.append(on_order_canceled)
tickets_service.hooks.checked_in.append(on_checked_in)
tickets_service.hooks.check_in_deleted.append(on_check_in_deleted)
# First: should the orders be canceled with their event in the same unit, the guests
# hear that the event was canceled (and then no order_canceled on top of it).
events.hooks.canceled.insert(0, on_event_canceled)
events.hooks.lifecycle.append(on_lifecycle)
events.hooks.deleting.append(on_event_deleting)
