"""Events v3 on the wire (`@wix/auto_sdk_events_wix-events-v-2`) and the bodies of their
domain events. Presentation only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..db import now
from ..timefmt import iso
from .models import DEFAULT_TICKET_LIMIT_PER_ORDER, Event, EventState
from .schemas import EventField


def _registration_status(e: Event) -> str:
    if e.state == EventState.DRAFT:
        return "UNKNOWN_REGISTRATION_STATUS"
    if e.state == EventState.CANCELED:
        return "CLOSED_MANUALLY"
    return {"TICKETING": "OPEN_TICKETS", "RSVP": "OPEN_RSVP", "EXTERNAL": "OPEN_EXTERNAL"}.get(
        e.registration_type, "CLOSED_MANUALLY"
    )


def to_wire(e: Event, fields: list[str] | None = None, t: dt.datetime | None = None) -> dict[str, Any]:
    t = t or now()
    ds = dict(e.date_settings)
    ds["startDate"], ds["endDate"] = iso(e.start_date), iso(e.end_date)
    ds = {k: v for k, v in ds.items() if v is not None}
    ds.setdefault("recurrenceStatus", "ONE_TIME")
    out: dict[str, Any] = {
        "id": e.id,
        "title": e.title,
        "slug": e.slug,
        "status": e.status_at(t),
        "location": e.location,
        "dateAndTimeSettings": ds,
        "instanceId": e.site_id,
        "createdDate": iso(e.created_date),
        "updatedDate": iso(e.updated_date),
        "revision": str(e.revision),
    }
    if e.short_description is not None:
        out["shortDescription"] = e.short_description
    if e.published_date is not None:
        out["publishedDate"] = iso(e.published_date)
    if fields and EventField.REGISTRATION.value in fields:
        tickets = dict(e.registration.get("tickets") or {})
        tickets.setdefault("ticketLimitPerOrder", DEFAULT_TICKET_LIMIT_PER_ORDER)
        if e.currency:
            tickets["currency"] = e.currency
        out["registration"] = {
            "initialType": e.initial_type,
            "type": e.registration_type,
            "status": _registration_status(e),
            "tickets": tickets,
        }
    return out


def entity(e: Event) -> dict[str, Any]:
    """The event as webhooks carry it: every fieldset this server stores."""
    return to_wire(e, [EventField.REGISTRATION.value])


def published_body(e: Event) -> dict[str, Any]:
    """The EventPublished action body, flat as the SDK types it (not the entity)."""
    ent = entity(e)
    body = {"timestamp": iso(now()), "eventId": e.id}
    for k in ("status", "title", "shortDescription", "location", "dateAndTimeSettings", "registration"):
        if k in ent:
            body[k] = ent[k]
    return {"actionEvent": {"body": body}}


def canceled_body(e: Event, t: dt.datetime, user_id: str, has_guests: bool) -> dict[str, Any]:
    """The EventCanceled action body, flat as the SDK types it."""
    body = {"timestamp": iso(t), "eventId": e.id, "title": e.title, "userId": user_id, "hasGuests": has_guests}
    return {"actionEvent": {"body": body}}


def cloned_body(e: Event, src: Event, t: dt.datetime, user_id: str, definitions: dict[str, str]) -> dict[str, Any]:
    """The EventCloned action body, flat as the SDK types it."""
    ent = entity(e)
    body: dict[str, Any] = {
        "timestamp": iso(t),
        "eventId": e.id,
        "location": ent["location"],
        "dateAndTimeSettings": ent["dateAndTimeSettings"],
        "title": e.title,
        "userId": user_id,
        "status": ent["status"],
        "derivedFromInstanceId": src.site_id,
        "derivedFromEventId": src.id,
        "ticketDefinitions": definitions,
    }
    return {"actionEvent": {"body": body}}
