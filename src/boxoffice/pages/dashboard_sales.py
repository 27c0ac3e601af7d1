"""An event's sales in the dashboard: per definition sold / reserved / unsold and revenue
(kept live by static/dashboard.js over the public live stream, ``live_router``: each
message redraws the table's fragment), its orders with search and the organiser's
actions on one (Confirm Order for a payment taken offline, Resend Order Confirmation,
Cancel Order with or without a refund), its tickets with their check-in state, and CSV
exports of orders and of guests.

The actions call the API's route functions themselves (``orders.routes.confirm_order``,
``cancel_order``, ``mail.routes.resend_confirmation``): what those do after COMMIT
(stopping a card payment that can no longer be made, asking the provider for a refund)
happens here too, and nothing is copied.

The exports are streamed (``StreamingResponse``), read in chunks of ``CSV_CHUNK`` rows,
one read unit each (keyset on the row's id, so a chunk costs the same wherever it is),
and bounded: at most ``CSV_MAX_ROWS`` rows, then a last line says the file was cut.
Hand-written because the csv module is the library here: the chunks only keep memory flat.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import InvalidArgument
from ..identity import Permission, Principal
from ..mail import routes as mail_routes
from ..orders import routes as orders_routes
from ..orders import service as orders
from ..orders import wire as orders_wire
from ..orders.models import CONFIRMED, Order, OrderStatus
from ..orders.schemas import CancelOrderRequest, ConfirmOrderRequest
from ..tickets import service as tickets
from ..tickets.models import Ticket
from .dashboard_common import get_event, need, present_event
from .dashboard_tickets import definitions
from .web import CSRF, Owner, PageRoute, db_of, redirect, render, secret_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

READ_ORDERS = (Permission.MANAGE_ORDERS, Permission.MANAGE_EVENTS)
PAGE = 50
CSV_CHUNK = 500
CSV_MAX_ROWS = 50_000

Search = Annotated[str, Query(max_length=100)]
Flag = Annotated[str, Form(max_length=10)]
STATUSES = tuple(s.value for s in OrderStatus)


def revenue_by_definition(s: Session, owner: Principal, event_id: str) -> dict[str, tuple[int, str]]:
    """Ticket prices of confirmed (PAID, FREE) orders, per definition: (cents, currency).
    A read of the tickets the orders slice wrote (no service answers it per definition)."""
    rows = s.execute(
        select(Ticket.ticket_definition_id, Ticket.currency, func.sum(Ticket.price_cents))
        .join(Order, Order.id == Ticket.order_id)
        .where(Ticket.site_id == owner.site_id, Ticket.event_id == event_id, Ticket.canceled.is_(False),
               Order.status.in_(CONFIRMED))
        .group_by(Ticket.ticket_definition_id, Ticket.currency)
    ).all()
    return {td: (int(cents or 0), cur) for td, cur, cents in rows}


def money(cents: int, currency: str) -> str:
    return f"{cents / 100:,.2f} {currency}"


def _sales(s: Session, request: Request, owner: Principal, event_id: str) -> dict[str, Any]:
    e = get_event(s, owner, event_id)
    ev = present_event(s, owner, e, request)
    rows = definitions(s, owner, event_id, secret_of(request))
    revenue = revenue_by_definition(s, owner, event_id)
    for d in rows:
        cents, cur = revenue.get(d["id"], (0, (d["pricingMethod"].get("fixedPrice") or {}).get("currency", "")))
        d["revenueText"] = money(cents, cur) if cur else "0.00"
    return {"event": ev, "definitions": rows, "summary": orders.summary(s, owner, event_id)}


@router.get("/dashboard/events/{event_id}/sales")
def sales_page(request: Request, owner: Owner, event_id: str) -> Response:
    need(owner, *READ_ORDERS)
    data = db_of(request).read(lambda s: _sales(s, request, owner, event_id))
    return render(request, "dashboard/sales.html", nav="events", tab="sales", **data)


@router.get("/dashboard/events/{event_id}/sales/table")
def sales_table(request: Request, owner: Owner, event_id: str) -> Response:
    """The sales table alone: what dashboard.js swaps in when the live stream moves."""
    need(owner, *READ_ORDERS)
    data = db_of(request).read(lambda s: _sales(s, request, owner, event_id))
    return render(request, "dashboard/_sales_table.html", **data)


@router.get("/dashboard/events/{event_id}/orders")
def orders_page(request: Request, owner: Owner, event_id: str, q: Search = "", status: str = "",
                offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> Response:
    """The event's orders, newest first, searched by the buyer's name or e-mail or the
    order number (List Orders' searchPhrase), ``PAGE`` at a time."""
    need(owner, *READ_ORDERS)
    if status and status not in STATUSES:
        raise InvalidArgument("status", f"must be one of {', '.join(STATUSES)}")
    p = {"eventId": [event_id], "searchPhrase": q.strip() or None, "status": [status] if status else None,
         "sort": "created:desc", "offset": offset, "limit": PAGE}
    u = orders_routes.urls(request, owner)

    def work(s: Session) -> dict[str, Any]:
        ev = present_event(s, owner, get_event(s, owner, event_id), request)
        rows, total, _ = orders.list_orders(s, owner, p)
        return {"event": ev, "orders": [orders_wire.order_wire(o, t, {"TICKETS", "DETAILS"}, u) for o, t in rows],
                "total": total}

    data = db_of(request).read(work)
    return render(request, "dashboard/orders.html", nav="events", tab="orders", q=q, status=status, offset=offset,
                  page=PAGE, statuses=STATUSES, **data)


def _back(request: Request, event_id: str) -> str:
    return f"/dashboard/events/{event_id}/orders"


@router.post("/dashboard/events/{event_id}/orders/{number}/confirm", dependencies=[CSRF])
def confirm(request: Request, owner: Owner, event_id: str, number: str) -> Response:
    """Confirm Order (a payment taken in person, or paid otherwise): the API's route."""
    need(owner, Permission.MANAGE_ORDERS)
    body = ConfirmOrderRequest(orderNumber=[number[:100]])
    orders_routes.confirm_order(event_id, request, db_of(request), body, owner)
    return redirect(request, _back(request, event_id) + f"?q={number[:100]}")


@router.post("/dashboard/events/{event_id}/orders/{number}/resend", dependencies=[CSRF])
def resend(request: Request, owner: Owner, event_id: str, number: str) -> Response:
    """Resend Order Confirmation (the mail slice's route)."""
    need(owner, Permission.MANAGE_ORDERS)
    db_of(request).read(lambda s: orders.get(s, owner, event_id, number))  # this event's order, else 404
    mail_routes.resend_confirmation(number, db_of(request), owner)
    return redirect(request, _back(request, event_id) + f"?q={number[:100]}&sent=1")


@router.post("/dashboard/events/{event_id}/orders/{number}/cancel", dependencies=[CSRF])
def cancel(request: Request, owner: Owner, event_id: str, number: str, refund: Flag = "") -> Response:
    """Cancel Order (Boxoffice), refunding a paid order when ``refund`` is ticked."""
    need(owner, Permission.MANAGE_ORDERS)
    orders_routes.cancel_order(event_id, number, request, db_of(request), CancelOrderRequest(refund=bool(refund)), owner)
    return redirect(request, _back(request, event_id) + f"?q={number[:100]}")


@router.get("/dashboard/events/{event_id}/guests")
def guests_page(request: Request, owner: Owner, event_id: str, q: Search = "",
                offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> Response:
    """The event's tickets with their guest and check-in state (List Tickets)."""
    need(owner, *READ_ORDERS)
    p = {"eventId": [event_id], "searchPhrase": q.strip() or None, "offset": offset, "limit": PAGE}

    def work(s: Session) -> dict[str, Any]:
        ev = present_event(s, owner, get_event(s, owner, event_id), request)
        rows, total, facets = tickets.list_tickets(s, owner, {**p, "facet": ["state"]})
        shown = [orders_wire.ticket_wire(tk, o, {"TICKET_DETAILS", "GUEST_DETAILS"}) for tk, o in rows]
        return {"event": ev, "tickets": shown, "total": total, "facets": facets.get("state", {}).get("counts", {})}

    data = db_of(request).read(work)
    return render(request, "dashboard/guests.html", nav="events", tab="guests", q=q, offset=offset, page=PAGE, **data)


# --- CSV ------------------------------------------------------------------------------------

ORDER_COLUMNS = ["orderNumber", "created", "status", "firstName", "lastName", "email", "ticketsQuantity",
                 "total", "currency", "method", "checkedIn"]
GUEST_COLUMNS = ["ticketNumber", "orderNumber", "ticketName", "price", "currency", "guestName", "guestEmail",
                 "orderStatus", "canceled", "checkedIn"]


def _cell(v: Any) -> str:
    """A cell a spreadsheet will not run: text that starts like a formula gets a quote."""
    s = "" if v is None else str(v)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def _line(values: list[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerow([_cell(v) for v in values])
    return buf.getvalue()


def _order_rows(o: dict[str, Any]) -> list[Any]:
    total = o.get("totalPrice") or {}
    return [o["orderNumber"], o.get("created"), o.get("status"), o.get("firstName"), o.get("lastName"), o.get("email"),
            o.get("ticketsQuantity"), total.get("value"), total.get("currency"), o.get("method"),
            "yes" if o.get("fullyCheckedIn") else "no"]


def _guest_rows(t: dict[str, Any]) -> list[Any]:
    price = t.get("price") or {}
    gd = t.get("guestDetails") or {}
    return [t["ticketNumber"], t.get("orderNumber"), t.get("name"), price.get("value"), price.get("currency"),
            t.get("guestFullName"), gd.get("email"), t.get("orderStatus"), "yes" if t.get("canceled") else "no",
            (t.get("checkIn") or {}).get("created", "")]


def _stream(request: Request, owner: Principal, event_id: str, kind: str) -> Iterator[str]:
    db = db_of(request)
    yield _line(ORDER_COLUMNS if kind == "orders" else GUEST_COLUMNS)
    after, written = "", 0
    while written < CSV_MAX_ROWS:
        n = min(CSV_CHUNK, CSV_MAX_ROWS - written)

        def chunk(s: Session, after: str = after, n: int = n) -> tuple[list[list[Any]], str]:
            if kind == "orders":
                os_ = list(s.scalars(select(Order).where(Order.site_id == owner.site_id, Order.event_id == event_id,
                                                         Order.id > after).order_by(Order.id).limit(n)))
                tks: dict[str, list[Ticket]] = {}
                if os_:
                    for tk in s.scalars(select(Ticket).where(Ticket.order_id.in_([o.id for o in os_]))):
                        tks.setdefault(tk.order_id, []).append(tk)
                rows = [_order_rows(orders_wire.order_wire(o, tks.get(o.id, []), {"DETAILS"})) for o in os_]
                return rows, os_[-1].id if os_ else ""
            pairs = s.execute(select(Ticket, Order).join(Order, Order.id == Ticket.order_id)
                              .where(Ticket.site_id == owner.site_id, Ticket.event_id == event_id, Ticket.id > after)
                              .order_by(Ticket.id).limit(n)).all()
            rows = [_guest_rows(orders_wire.ticket_wire(tk, o, {"TICKET_DETAILS", "GUEST_DETAILS"})) for tk, o in pairs]
            return rows, pairs[-1][0].id if pairs else ""

        rows, after = db.read(chunk)
        for r in rows:
            yield _line(r)
        written += len(rows)
        if len(rows) < n:
            return
    yield _line([f"# cut at {CSV_MAX_ROWS} rows"])


@router.get("/dashboard/events/{event_id}/{kind}.csv")
def export_csv(request: Request, owner: Owner, event_id: str, kind: str) -> Response:
    need(owner, *READ_ORDERS)
    if kind not in ("orders", "guests"):
        raise InvalidArgument("kind", "must be orders or guests")
    slug = db_of(request).read(lambda s: get_event(s, owner, event_id).slug)
    return StreamingResponse(
        _stream(request, owner, event_id, kind), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}-{kind}.csv"', "Cache-Control": "no-store",
                 "X-Content-Type-Options": "nosniff"},
    )
