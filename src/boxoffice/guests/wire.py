"""Event guests on the wire (`@wix/auto_sdk_events_guests` 1.0.62): the ``EventGuest``
Query Guests returns, and the bodies of the seven guest webhooks. Presentation only:
the guest row with its order, the order's tickets and the input kinds of the event's
form (phone, address) are handed in by the service."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..events import wire as events_wire
from ..events.models import Event
from ..orders.models import Order
from ..tickets.models import Ticket
from ..timefmt import iso
from .models import Guest, GuestType

FQDN = "wix.events.guests.v1.guest"

# An event's reminders (events.models.REMINDERS, by their startsIn) as the typings' Timing.
TIMING: dict[tuple[tuple[str, int], ...], str] = {
    (("days", 7),): "STARTS_IN_1_WEEK",
    (("days", 3),): "STARTS_IN_3_DAYS",
    (("days", 1),): "STARTS_IN_1_DAY",
    (("hours", 2),): "STARTS_IN_2_HOURS",
    (("hours", 1),): "STARTS_IN_1_HOUR",
    (("minutes", 30),): "STARTS_IN_30_MINUTES",
}
NOW = "NOW"
EMPTY_FORM: dict[str, Any] = {"inputValues": []}


def timing(starts_in: dict[str, int] | None) -> str | None:
    """The Timing of a reminder's ``startsIn`` (None: not one the typings name)."""
    return NOW if starts_in is None else TIMING.get(tuple(sorted(starts_in.items())))


def check_in_entry(t: dt.datetime, by: dict[str, str] | None, old: dict[str, Any] | None, checked_in: bool) -> dict[str, Any]:
    """A ticket's ``GuestCheckInDetails`` after a check-in (``checked_in``) or its undoing,
    at ``t`` by the webhook identity ``by``; what it said of the other action is kept."""
    out = dict(old or {})
    out["checkedIn"] = checked_in
    date_key, who = ("checkInDate", "checkedIn") if checked_in else ("checkInCanceledDate", "checkInCanceled")
    out[date_key] = iso(t)
    out.pop(f"{who}By", None)
    out.pop(f"{who}ByStaffMember", None)
    if by:
        # a staff member's key is Wix's staff member; any other identity is "the user"
        if "staffMemberId" in by:
            out[f"{who}ByStaffMember"] = by["staffMemberId"]
        else:
            ident = next((v for k, v in by.items() if k != "identityType"), None)
            if ident:
                out[f"{who}By"] = ident
    return out


def _answer(form: dict[str, Any], names: set[str]) -> str | None:
    """The first answer to one of ``names`` (a full address's parts joined by commas)."""
    for iv in form.get("inputValues") or []:
        if iv.get("inputName") in names:
            vals = [v for v in (iv.get("values") or []) if v] or ([iv["value"]] if iv.get("value") else [])
            if vals:
                return ", ".join(vals)[:200]
    return None


def holder_of(g: Guest, tickets: list[Ticket]) -> Ticket | None:
    return next((t for t in tickets if t.id == g.ticket_id), None)


def to_wire(
    g: Guest,
    order: Order,
    tickets: list[Ticket],
    kinds: dict[str, set[str]],
    *,
    details: bool,
    total: bool,
    forms: bool = True,
) -> dict[str, Any]:
    """The ``EventGuest``. ``tickets``: every ticket of the guest's order; ``kinds``:
    ``{"phone": input names, "address": input names}`` of the event's form; ``details``
    (GUEST_DETAILS): ``guestDetails`` and ``tickets``; ``total`` (GUEST_TOTAL):
    ``totalGuests``; ``forms`` False: the form answers (and the phone and address drawn
    from them) are left out, for a staff member without READ_GUEST_FORM."""
    holder = holder_of(g, tickets)
    mine = tickets if g.guest_type == GuestType.BUYER else [t for t in (holder,) if t is not None]
    out: dict[str, Any] = {
        "id": g.id,
        "eventId": g.event_id,
        "orderNumber": g.order_number,
        "contactId": g.contact_id,
        "attendanceStatus": g.attendance_status,
        "createdDate": iso(g.created_date),
        "updatedDate": iso(g.updated_date),
        "attendanceStatusUpdatedDate": iso(g.attendance_status_updated_date),
        "guestType": g.guest_type,
        "revision": str(g.revision),
        "additionalDetails": {
            "createdDate": iso(order.created_date),
            "updatedDate": iso(order.updated_date),
            "orderStatus": order.status,
        },
    }
    if g.ticket_number is not None:
        out["ticketNumber"] = g.ticket_number
    if g.member_id:
        out["memberId"] = g.member_id
    if details:
        out["tickets"] = [{"number": t.ticket_number, "definitionId": t.ticket_definition_id, "name": t.name} for t in mine]
        if holder is not None:
            first = holder.guest_first_name or order.first_name
            last = holder.guest_last_name or order.last_name
            email = holder.guest_email or order.email
            form = holder.guest_form or order.checkout_form  # no form of its own: the buyer's
        else:
            first, last, email, form = order.first_name, order.last_name, order.email, order.checkout_form
        gd: dict[str, Any] = {
            "email": email,
            "firstName": first,
            "lastName": last,
            "formResponse": (form or EMPTY_FORM) if forms else EMPTY_FORM,
            "checkedIn": g.checked_in,
        }
        if forms:
            phone, address = _answer(form or {}, kinds.get("phone", set())), _answer(form or {}, kinds.get("address", set()))
            if phone:
                gd["phone"] = phone
            if address:
                gd["address"] = address
        history = [g.check_ins[n] for n in sorted(g.check_ins or {})]
        if history:
            gd["checkInDetails"] = history
        out["guestDetails"] = gd
    if total:
        out["totalGuests"] = len([t for t in mine if not t.canceled]) if g.guest_type == GuestType.BUYER else 1
    return out


def event_details(e: Event, t: dt.datetime) -> dict[str, Any]:
    """The typings' ``EventDetails`` (title, shortDescription, location,
    dateAndTimeSettings, eventPageUrl, status) of the guest's event."""
    ent = events_wire.to_wire(e, ("DETAILS", "URLS"), t)
    keys = ("title", "shortDescription", "location", "dateAndTimeSettings", "eventPageUrl", "status")
    return {k: ent[k] for k in keys if ent.get(k) is not None}


# --- the webhooks' bodies (the typings' envelopes) ----------------------------------------


def created(guest: dict[str, Any]) -> dict[str, Any]:
    return {"createdEvent": {"entity": guest}}


def updated(guest: dict[str, Any]) -> dict[str, Any]:
    return {"updatedEvent": {"currentEntity": guest}}


def deleted(guest: dict[str, Any]) -> dict[str, Any]:
    return {"deletedEvent": {"deletedEntity": guest}}


def checked_in(guest: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """GuestCheckedIn: ``{guest, eventDetails}``."""
    return {"actionEvent": {"body": {"guest": guest, "eventDetails": event}}}


def order_canceled(guest: dict[str, Any], event: dict[str, Any], order: Order) -> dict[str, Any]:
    """GuestOrderCanceled: ``{guest, event, order: OrderDetails}``."""
    details = {"orderStatus": order.status, "invoice": order.invoice}
    return {"actionEvent": {"body": {"guest": guest, "event": event, "order": details}}}


def event_canceled(guest: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """GuestEventCanceled: ``{guest, event}``."""
    return {"actionEvent": {"body": {"guest": guest, "event": event}}}


def event_starts(guest: dict[str, Any], event: dict[str, Any], when: str) -> dict[str, Any]:
    """GuestEventStarts: ``{guest, event, timing}``."""
    return {"actionEvent": {"body": {"guest": guest, "event": event, "timing": when}}}
