"""The event's ticket definitions in the dashboard: list (with sales), create, edit
every field (a fixed price, a guest price (pay what you want) or price options; the
limit, the sale period in the event's time zone, the fee type, hidden), delete, and
reorder, by drag and drop (static/dashboard.js) or by the move up / move down buttons
(the keyboard's way, and the way without JavaScript). Every change is the Ticket
Definitions v3 service call the API makes (Create, Update with the revision the form
was read at, Delete, Reorder)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ..errors import InvalidArgument
from ..events import wire as events_wire
from ..identity import Permission, Principal
from ..ticket_definitions import service as tds
from ..ticket_definitions.schemas import (
    CreateTicketDefinitionRequest,
    ReorderTicketDefinitionsRequest,
    UpdateTicketDefinitionRequest,
)
from .dashboard_common import get_event, iso, local_to_utc, need, parse, present_event, time_zone_of, utc_to_local
from .web import CSRF, Owner, PageRoute, db_of, redirect, render, secret_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MANAGE = (Permission.MANAGE_TICKET_DEFINITIONS, Permission.MANAGE_EVENTS)
READ = (*MANAGE, Permission.MANAGE_ORDERS)
# Options typed one a line ("Name = price"): as many as the API takes (pricingOptions @maxSize 100).
OPTIONS_MAX = 100

Name = Annotated[str, Form(max_length=30)]
Text = Annotated[str, Form(max_length=500)]
Policy = Annotated[str, Form(max_length=1000)]
Price = Annotated[str, Form(max_length=20)]
Currency = Annotated[str, Form(max_length=3)]
Options = Annotated[str, Form(max_length=OPTIONS_MAX * 260)]
Small = Annotated[str, Form(max_length=40)]


def definitions(s: Session, owner: Principal, event_id: str, secret: bytes) -> list[dict[str, Any]]:
    """The event's definitions in the organiser's order, with their sales (as the API's
    Query Ticket Definitions answers them with SALES_DETAILS)."""
    raw = {"filter": {"eventId": event_id}, "sort": [{"fieldName": "sortIndex", "order": "ASC"}],
           "paging": {"limit": 100}}
    page = tds.query(s, owner, raw, secret)
    return tds.render(s, page.rows, ["SALES_DETAILS"])


def _tickets_context(s: Session, request: Request, owner: Principal, event_id: str, td_id: str | None) -> dict[str, Any]:
    e = get_event(s, owner, event_id)
    ev = present_event(s, owner, e, request)
    rows = definitions(s, owner, event_id, secret_of(request))
    editing = next((d for d in rows if d["id"] == td_id), None) if td_id else None
    if td_id and editing is None:
        tds.get(s, owner, td_id)  # another event's or site's: the API's 404
    return {"event": ev, "definitions": rows, "editing": editing}


def form_values(td: dict[str, Any] | None, tz: str) -> dict[str, Any]:
    """A definition's wire dict as the form's fields (empty for a new one)."""
    if td is None:
        return {"kind": "fixed", "price": "", "options": "", "fee": "FEE_INCLUDED", "limit": "", "start": "",
                "end": "", "display": False, "hidden": False, "name": "", "description": "", "policy": ""}
    pm = td.get("pricingMethod") or {}
    kind, price, options = "fixed", "", ""
    if pm.get("fixedPrice"):
        price = pm["fixedPrice"]["value"]
    elif pm.get("guestPrice"):
        kind, price = "guest", pm["guestPrice"]["value"]
    elif pm.get("pricingOptions"):
        kind = "options"
        options = "\n".join(f"{o['name']} = {o['price']['value']}" for o in pm["pricingOptions"]["optionDetails"])
    sp = td.get("salePeriod") or {}
    return {
        "kind": kind, "price": price, "options": options, "fee": td.get("feeType"),
        "limit": td.get("initialLimit") or "", "start": utc_to_local(sp.get("startDate"), tz),
        "end": utc_to_local(sp.get("endDate"), tz), "display": bool(sp.get("displayNotOnSale")),
        "hidden": bool(td.get("hidden")), "name": td.get("name", ""), "description": td.get("description") or "",
        "policy": td.get("policyText") or "",
    }


@router.get("/dashboard/events/{event_id}/tickets")
def tickets_page(request: Request, owner: Owner, event_id: str, edit: str = "") -> Response:
    need(owner, *READ)
    data = db_of(request).read(lambda s: _tickets_context(s, request, owner, event_id, edit or None))
    tz = time_zone_of(data["event"])
    currency = ((data["event"].get("registration") or {}).get("tickets") or {}).get("currency") or "USD"
    return render(request, "dashboard/tickets.html", nav="events", tab="tickets", tz=tz, currency=currency,
                  values=form_values(data["editing"], tz), zones=sorted(events_wire.known_zones()), **data)


def _money(value: str, currency: str, where: str) -> dict[str, str]:
    value = value.strip()
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise InvalidArgument(where, "must be an amount such as 25 or 12.50", "FORMAT") from None
    if not d.is_finite() or d < 0:
        raise InvalidArgument(where, "must be an amount of 0 or more", "FORMAT")
    return {"value": value, "currency": currency.strip().upper()}


def _pricing(kind: str, price: str, options: str, currency: str) -> dict[str, Any]:
    where = "ticketDefinition.pricingMethod"
    if kind == "fixed":
        return {"fixedPrice": _money(price, currency, f"{where}.fixedPrice.value")}
    if kind == "guest":
        return {"guestPrice": _money(price, currency, f"{where}.guestPrice.value")}
    if kind != "options":
        raise InvalidArgument(where, "choose a fixed price, a guest price or price options")
    lines = [ln.strip() for ln in options.splitlines() if ln.strip()]
    if not 1 <= len(lines) <= OPTIONS_MAX:
        raise InvalidArgument(f"{where}.pricingOptions", f"write 1 to {OPTIONS_MAX} options, one a line: Name = price")
    details = []
    for i, ln in enumerate(lines):
        name, sep, amount = ln.rpartition("=")
        if not sep or not name.strip():
            raise InvalidArgument(f"{where}.pricingOptions.optionDetails[{i}]", 'write "Name = price"', "FORMAT")
        details.append({"name": name.strip(),
                        "price": _money(amount, currency, f"{where}.pricingOptions.optionDetails[{i}].price")})
    return {"pricingOptions": {"optionDetails": details}}


def _limit(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise InvalidArgument("ticketDefinition.initialLimit", "must be a whole number, or empty for no limit", "FORMAT")
    return int(value)


def _definition(name: str, description: str, policy: str, kind: str, price: str, options: str, currency: str,
                fee: str, limit: str, start: str, end: str, display: str, hidden: str, tz: str) -> dict[str, Any]:
    return {
        "name": name.strip(),
        "description": description.strip() or None,
        "policyText": policy.strip() or None,
        "pricingMethod": _pricing(kind, price, options, currency),
        "feeType": fee,
        "initialLimit": _limit(limit),
        "hidden": bool(hidden),
        "salePeriod": {
            "startDate": iso(local_to_utc(start, tz, "ticketDefinition.salePeriod.startDate")),
            "endDate": iso(local_to_utc(end, tz, "ticketDefinition.salePeriod.endDate")),
            "displayNotOnSale": bool(display),
        },
    }


def _event_zone(s: Session, request: Request, owner: Principal, event_id: str) -> str:
    return time_zone_of(present_event(s, owner, get_event(s, owner, event_id), request))


@router.post("/dashboard/events/{event_id}/tickets", dependencies=[CSRF])
def create_definition(
    request: Request, owner: Owner, event_id: str, name: Name, kind: Small = "fixed", price: Price = "",
    options: Options = "", currency: Currency = "USD", fee: Small = "FEE_INCLUDED", limit: Small = "",
    start: Small = "", end: Small = "", display: Small = "", hidden: Small = "", description: Text = "",
    policy: Policy = "",
) -> Response:
    need(owner, *MANAGE)

    def work(s: Session) -> str:
        tz = _event_zone(s, request, owner, event_id)
        d = _definition(name, description, policy, kind, price, options, currency, fee, limit, start, end, display,
                        hidden, tz)
        body = parse(CreateTicketDefinitionRequest, {"ticketDefinition": {**d, "eventId": event_id}})
        return tds.create(s, owner, body).id

    db_of(request).write(work)
    return redirect(request, f"/dashboard/events/{event_id}/tickets")


@router.post("/dashboard/events/{event_id}/tickets/{td_id}", dependencies=[CSRF])
def update_definition(
    request: Request, owner: Owner, event_id: str, td_id: str, name: Name, revision: Small,
    kind: Small = "fixed", price: Price = "", options: Options = "", currency: Currency = "USD",
    fee: Small = "FEE_INCLUDED", limit: Small = "", start: Small = "", end: Small = "", display: Small = "",
    hidden: Small = "", description: Text = "", policy: Policy = "",
) -> Response:
    """Update Ticket Definition with every field, at the revision the form was read at
    (someone else's change in between is the API's REVISION_MISMATCH)."""
    need(owner, *MANAGE)

    def work(s: Session) -> str:
        tz = _event_zone(s, request, owner, event_id)
        d = _definition(name, description, policy, kind, price, options, currency, fee, limit, start, end, display,
                        hidden, tz)
        _of_event(s, owner, event_id, td_id)
        body = parse(UpdateTicketDefinitionRequest,
                     {"ticketDefinition": {**d, "id": td_id, "revision": revision}})
        return tds.update(s, owner, td_id, body).id

    db_of(request).write(work)
    return redirect(request, f"/dashboard/events/{event_id}/tickets")


def _of_event(s: Session, owner: Principal, event_id: str, td_id: str) -> None:
    get_event(s, owner, event_id)
    if tds.get(s, owner, td_id).event_id != event_id:  # another event's: as another site's, the API's 404
        raise tds.not_found(td_id)


@router.post("/dashboard/events/{event_id}/tickets/{td_id}/delete", dependencies=[CSRF])
def delete_definition(request: Request, owner: Owner, event_id: str, td_id: str) -> Response:
    need(owner, *MANAGE)

    def work(s: Session) -> None:
        _of_event(s, owner, event_id, td_id)
        tds.delete(s, owner, td_id)

    db_of(request).write(work)
    return redirect(request, f"/dashboard/events/{event_id}/tickets")


@router.post("/dashboard/events/{event_id}/tickets/{td_id}/move", dependencies=[CSRF])
def move_definition(
    request: Request, owner: Owner, event_id: str, td_id: str, direction: Small = "", before: Small = "",
    after: Small = "",
) -> Response:
    """Reorder Ticket Definitions: ``direction`` up / down (the buttons) moves it past its
    neighbour; ``before`` / ``after`` another definition's id (a drop)."""
    need(owner, *MANAGE)
    if direction not in ("", "up", "down"):
        raise InvalidArgument("direction", "must be up or down")
    if not (direction or before or after):
        raise InvalidArgument("direction", "say where to move it: up, down, before or after another")

    def work(s: Session) -> None:
        _of_event(s, owner, event_id, td_id)
        b, a = before or None, after or None
        if direction:
            ids = [d["id"] for d in definitions(s, owner, event_id, secret_of(request))]
            i = ids.index(td_id)
            j = i - 1 if direction == "up" else i + 1
            if not 0 <= j < len(ids):
                return  # already first / last
            b, a = (ids[j], None) if direction == "up" else (None, ids[j])
        body = parse(ReorderTicketDefinitionsRequest,
                     {"eventId": event_id, "ticketDefinitionId": td_id, "beforeDefinitionId": b, "afterDefinitionId": a})
        tds.reorder(s, owner, body)

    db_of(request).write(work)
    if request.headers.get("hx-request"):
        data = db_of(request).read(lambda s: _tickets_context(s, request, owner, event_id, None))
        return render(request, "dashboard/_definitions.html", **data)
    return redirect(request, f"/dashboard/events/{event_id}/tickets")


__all__ = ["definitions", "router"]
