"""The organiser dashboard (``/dashboard``): the site's events, their ticket definitions,
sales, orders and webhooks. Each action is the API's service call under the signed-in
owner's principal, in one unit of work; the templates show the same wire dicts the API
answers (``events.service.present`` etc.), so the page and the API cannot disagree.

This module holds the events (list, create, edit, publish, clone, cancel, delete a
draft) and the event's page; ``dashboard_tickets`` its ticket definitions,
``dashboard_sales`` sales, orders, guests and the CSV exports, ``dashboard_setup`` the
form, policies, schedule, categories and staff members, ``dashboard_webhooks`` the
site's webhooks. Money and status actions that the API finishes after COMMIT (refunds,
stopping a card payment) call the API's route function itself, so nothing is copied.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ..errors import InvalidArgument
from ..events import service as events
from ..events import wire as events_wire
from ..events.routes import links as event_links
from ..events.schemas import CloneEventRequest, CreateEventRequest, QueryEventsRequest, UpdateEventRequest
from ..identity import Permission
from ..orders import routes as orders_routes
from ..orders.schemas import CancelEventRequest
from .dashboard_common import (
    get_event,
    iso,
    local_to_utc,
    need,
    parse,
    present_event,
    time_zone_of,
    utc_to_local,
)
from .dashboard_sales import router as sales_router
from .dashboard_setup import router as setup_router
from .dashboard_tickets import router as tickets_router
from .dashboard_webhooks import router as webhooks_router
from .web import CSRF, Owner, PageRoute, db_of, redirect, render, secret_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

EVENTS_PAGE = 100

Title = Annotated[str, Form(max_length=120)]
Short = Annotated[str, Form(max_length=500)]
Long = Annotated[str, Form(max_length=50_000)]
When = Annotated[str, Form(max_length=40)]
Zone = Annotated[str, Form(max_length=100)]
Name = Annotated[str, Form(max_length=50)]
Address = Annotated[str, Form(max_length=500)]
Choice = Annotated[str, Form(max_length=20)]
Url = Annotated[str, Form(max_length=2048)]
Flag = Annotated[str, Form(max_length=10)]

STATUSES = ("DRAFT", "UPCOMING", "STARTED", "ENDED", "CANCELED")


@router.get("/dashboard")
def home(request: Request, owner: Owner, status: str = "") -> Response:
    """Every event of the site, newest first, drafts included; ``status`` narrows it."""
    need(owner, Permission.MANAGE_EVENTS)
    filt: dict[str, Any] = {"status": status} if status in STATUSES else {}
    req = QueryEventsRequest.model_validate({
        "query": {"filter": filt, "sort": [{"fieldName": "dateAndTimeSettings.startDate", "order": "DESC"}],
                  "paging": {"limit": EVENTS_PAGE}},
        "includeDrafts": True, "fields": ["DASHBOARD"],
    })

    def work(s: Session) -> dict[str, Any]:
        page = events.query(s, owner, req, secret_of(request))
        return {"events": events.present(s, owner, page.rows, req.fields, event_links(request)),
                "total": page.metadata.get("total")}

    data = db_of(request).read(work)
    return render(request, "dashboard/home.html", status=status if status in STATUSES else "", **data)


def _event_in(title: str, start: str, end: str, tz: str, location_type: str, location_name: str,
              address: str, short_description: str, detailed_description: str) -> dict[str, Any]:
    """The form's fields as the API's ``event`` (dates from the event's wall time to UTC)."""
    if location_type not in ("VENUE", "ONLINE"):
        raise InvalidArgument("event.location.type", "must be VENUE or ONLINE")
    tz = tz.strip() or "UTC"
    start_at = local_to_utc(start, tz, "event.dateAndTimeSettings.startDate")
    end_at = local_to_utc(end, tz, "event.dateAndTimeSettings.endDate")
    location: dict[str, Any] = {"type": location_type, "name": location_name.strip() or None}
    if address.strip():
        location["address"] = {"formattedAddress": address.strip()}
    return {
        "title": title.strip(),
        "shortDescription": short_description.strip() or None,
        "detailedDescription": detailed_description.strip() or None,
        "location": location,
        "dateAndTimeSettings": {"startDate": iso(start_at), "endDate": iso(end_at), "timeZoneId": tz},
    }


@router.get("/dashboard/events/new")
def new_event_page(request: Request, owner: Owner) -> Response:
    need(owner, Permission.MANAGE_EVENTS)
    return render(request, "dashboard/event_new.html", nav="events", zones=sorted(events_wire.known_zones()))


@router.post("/dashboard/events", dependencies=[CSRF])
def create_event(
    request: Request, owner: Owner, title: Title, start: When, end: When, time_zone: Zone = "UTC",
    location_type: Choice = "VENUE", location_name: Name = "", address: Address = "",
    short_description: Short = "", detailed_description: Long = "", registration: Choice = "TICKETING",
    external_url: Url = "",
) -> Response:
    """Create a draft (Create Event with ``draft: true``)."""
    need(owner, Permission.MANAGE_EVENTS)
    if not title.strip():
        raise InvalidArgument("event.title", "is required", "REQUIRED_FIELD")
    if registration not in ("TICKETING", "RSVP", "EXTERNAL"):
        raise InvalidArgument("event.registration.initialType", "must be TICKETING, RSVP or EXTERNAL")
    ev = _event_in(title, start, end, time_zone, location_type, location_name, address, short_description,
                   detailed_description)
    ev["registration"] = {"initialType": registration}
    if registration == "EXTERNAL":
        ev["registration"]["external"] = {"url": external_url.strip() or None}
    body = parse(CreateEventRequest, {"event": ev, "draft": True})
    event_id = db_of(request).write(lambda s: events.create(s, owner, body).id)
    return redirect(request, f"/dashboard/events/{event_id}?created=1")


def event_context(s: Session, request: Request, owner: Any, event_id: str) -> dict[str, Any]:
    e = get_event(s, owner, event_id)
    return {"event": present_event(s, owner, e, request)}


@router.get("/dashboard/events/{event_id}")
def event_page(request: Request, owner: Owner, event_id: str, created: str = "") -> Response:
    """The event's page: its details (editable), the actions its status allows, and tabs
    for its tickets, sales, orders, guests and setup."""
    need(owner, Permission.MANAGE_EVENTS)
    data = db_of(request).read(lambda s: event_context(s, request, owner, event_id))
    ev = data["event"]
    tz = time_zone_of(ev)
    ds = ev.get("dateAndTimeSettings") or {}
    local = {"start": utc_to_local(ds.get("startDate"), tz), "end": utc_to_local(ds.get("endDate"), tz), "tz": tz}
    return render(request, "dashboard/event.html", nav="events", tab="details", local=local,
                  zones=sorted(events_wire.known_zones()), created=bool(created), **data)


@router.post("/dashboard/events/{event_id}", dependencies=[CSRF])
def update_event(
    request: Request, owner: Owner, event_id: str, title: Title, start: When, end: When, time_zone: Zone = "UTC",
    location_type: Choice = "VENUE", location_name: Name = "", address: Address = "",
    short_description: Short = "", detailed_description: Long = "",
) -> Response:
    """Update Event with every field of the form."""
    need(owner, Permission.MANAGE_EVENTS)
    if not title.strip():
        raise InvalidArgument("event.title", "must not be empty", "MIN_LENGTH")
    ev = _event_in(title, start, end, time_zone, location_type, location_name, address, short_description,
                   detailed_description)
    body = parse(UpdateEventRequest, {"event": ev})
    db_of(request).write(lambda s: events.update(s, owner, event_id, body).id)
    return redirect(request, f"/dashboard/events/{event_id}")


@router.post("/dashboard/events/{event_id}/publish", dependencies=[CSRF])
def publish_event(request: Request, owner: Owner, event_id: str) -> Response:
    need(owner, Permission.MANAGE_EVENTS)
    db_of(request).write(lambda s: events.publish(s, owner, event_id).id)
    return redirect(request, f"/dashboard/events/{event_id}")


@router.post("/dashboard/events/{event_id}/clone", dependencies=[CSRF])
def clone_event(request: Request, owner: Owner, event_id: str) -> Response:
    """Clone Event: a draft copy with its ticket definitions, policies, schedule, categories."""
    need(owner, Permission.MANAGE_EVENTS)
    copy_id = db_of(request).write(lambda s: events.clone(s, owner, event_id, CloneEventRequest()).id)
    return redirect(request, f"/dashboard/events/{copy_id}")


@router.post("/dashboard/events/{event_id}/cancel", dependencies=[CSRF])
def cancel_event(request: Request, owner: Owner, event_id: str, with_orders: Flag = "", refund: Flag = "") -> Response:
    """Cancel Event; with ``with_orders`` the API's "Cancel Event with its orders" (its
    route function: the refunds are asked of the provider after COMMIT as there)."""
    need(owner, Permission.MANAGE_EVENTS)
    if with_orders:
        need(owner, Permission.MANAGE_ORDERS)
        body = CancelEventRequest(refund=bool(refund))
        orders_routes.cancel_event_with_orders(event_id, request, db_of(request), body, owner)
    else:
        db_of(request).write(lambda s: events.cancel(s, owner, event_id).id)
    return redirect(request, f"/dashboard/events/{event_id}")


@router.post("/dashboard/events/{event_id}/delete", dependencies=[CSRF])
def delete_event(request: Request, owner: Owner, event_id: str) -> Response:
    need(owner, Permission.MANAGE_EVENTS)
    db_of(request).write(lambda s: events.delete(s, owner, event_id))
    return redirect(request, "/dashboard")


for _part in (tickets_router, sales_router, setup_router, webhooks_router):
    router.include_router(_part)
