"""The public event page and its checkout (``/e/{siteId}/{slug}``), for buyers.

A buyer is the anonymous visitor this browser is on the site (``web.visitor``: an id
derived from the browser's cookie), holding only a visitor key's permissions; every step
is the API's own service call under that principal, so the page sells exactly what the
API would sell to that visitor, and a buyer's reservation and order are theirs alone
(another browser gets 404, as another visitor's key would):

1. the published event (a draft is 404, as Get Event By Slug says to a visitor) and its
   ticket definitions that are not hidden (Query Available Ticket Definitions), each
   with its price and whether it is on sale, sold out, or on sale from a time; the
   counts stay live over the public SSE stream (``/boxoffice/v1/live/...``, the one
   the live-counter example uses);
2. quantities (a price option each, or a price of the buyer's choosing at or above the
   guest price) -> Create Ticket Reservation, through the same group commit as the API;
3. the checkout: the hold's countdown, the event's registration form for the buyer (or
   for every ticket's guest when the event assigns guests separately), its policies to
   agree to, and how to pay -> Checkout (the form is checked by ``forms.check_answers``
   there, and a refusal is shown next to the form);
4. paying: in person (the order waits, seats held), the ``test`` provider in development
   (a "Pay (test)" button plays the buyer paying at the provider, whose callback then
   does what ``POST /boxoffice/v1/test-payments/.../pay`` does), or Stripe's Payment
   Element with the PaymentIntent's client secret (js.stripe.com is allowed in that
   page's Content-Security-Policy only);
5. the confirmation: the tickets with their QR codes (drawn here by ``segno``) and PDF
   links. A ticket's ``qrCode`` is given on the API only to the site owner's keys (it
   is a bearer credential at the door); this page shows it only to the visitor whose
   own paid order it is, which is the buyer showing their own ticket.

``/embed`` is the event page without the site's chrome for an ``<iframe>`` (frameable):
its "Buy" opens the full page in a new tab, where the buyer's cookies work.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from ..db import now
from ..errors import FailedPrecondition, InvalidArgument, NotFound
from ..events import service as events
from ..events import wire as events_wire
from ..events.models import Event
from ..events.routes import links as event_links
from ..forms import service as forms
from ..forms import wire as forms_wire
from ..identity import Principal
from ..links import Urls
from ..orders import service as orders
from ..orders import wire as orders_wire
from ..orders.models import CONFIRMED, Order, OrderStatus
from ..orders.routes import urls as order_urls
from ..orders.schemas import CheckoutRequest, GetInvoiceRequest
from ..payments import TestProvider
from ..policies import service as policies
from ..policies import wire as policies_wire
from ..reservations import service as reservations
from ..reservations import wire as reservations_wire
from ..reservations.models import ReservationStatus
from ..reservations.schemas import CreateTicketReservationRequest
from ..schedule import service as schedule
from ..schedule import wire as schedule_wire
from ..schedule.schemas import ListScheduleItemsParams
from ..ticket_definitions import service as definitions
from ..ticket_definitions.models import SaleStatus
from ..timefmt import parse as parse_time
from .web import CSRF, PageRoute, db_of, redirect, render, secret_of, visitor

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The most definitions an event page lists (an event has at most 100) and the most whose
# counts it keeps live: each live count is an EventSource, a connection of its own, and
# a browser opens at most 6 to one host over HTTP/1.1 (the rest of the page needs some).
MAX_DEFINITIONS = 100
MAX_LIVE = 4
# What one quantity box takes (Create Ticket Reservation's own bound per line: 50).
MAX_QUANTITY = 50
STRIPE_JS = "https://js.stripe.com/v3/"
STRIPE_CSP = (
    "default-src 'self'; script-src 'self' https://js.stripe.com; style-src 'self'; "
    "img-src 'self' data: https://*.stripe.com; connect-src 'self' https://api.stripe.com; "
    "frame-src https://js.stripe.com https://hooks.stripe.com; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


# --- presenting ---------------------------------------------------------------------


def _when(value: str | None, tz: str | None) -> str:
    """An ISO instant in the event's time zone, as the event's own dates read:
    ``March 3, 2027 at 7:00 PM GMT+1``."""
    if not value:
        return ""
    t = parse_time(value).astimezone(events_wire.zone(tz))
    off = t.utcoffset() or dt.timedelta(0)
    sign = "-" if off < dt.timedelta(0) else "+"
    h, m = divmod(abs(int(off.total_seconds())) // 60, 60)
    gmt = "GMT" if not off else f"GMT{sign}{h}" + (f":{m:02d}" if m else "")
    return f"{t:%B} {t.day}, {t.year} at {(t.hour % 12) or 12}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'} {gmt}"


def _paragraphs(rich: Any) -> list[str]:
    """The text of a RichContent description (``nodes`` of paragraphs and headings), one
    string a block; a plain string as one block. Only text: no markup is ever passed."""
    if isinstance(rich, str):
        return [p for p in rich.split("\n") if p.strip()]
    out: list[str] = []

    def text_of(node: Any) -> str:
        if not isinstance(node, dict):
            return ""
        own = (node.get("textData") or {}).get("text") or ""
        return own + "".join(text_of(n) for n in node.get("nodes") or [])

    for node in (rich or {}).get("nodes") or [] if isinstance(rich, dict) else []:
        t = text_of(node).strip()
        if t:
            out.append(t)
    return out


def _price(td: dict[str, Any]) -> dict[str, Any]:
    """How a definition is priced, for the template: fixed, free, guest (pay what you
    want, at least ``min``) or options."""
    pm = td.get("pricingMethod") or {}
    if pm.get("free"):
        return {"kind": "free", "text": "Free"}
    if "fixedPrice" in pm:
        m = pm["fixedPrice"]
        return {"kind": "fixed", "text": f"{m['value']} {m['currency']}"}
    if "guestPrice" in pm:
        m = pm["guestPrice"]
        return {"kind": "guest", "min": m["value"], "currency": m["currency"], "text": f"from {m['value']} {m['currency']}"}
    options = (pm.get("pricingOptions") or {}).get("optionDetails") or []
    return {"kind": "options", "options": [
        {"id": o["optionId"], "name": o["name"], "text": f"{o['price']['value']} {o['price']['currency']}"} for o in options
    ]}


def _definitions(session: Session, principal: Principal, request: Request, event: Event) -> list[dict[str, Any]]:
    """The event's definitions a visitor may list (Query Available Ticket Definitions:
    not hidden, of a published event), in the organiser's order, as wire dicts with
    what the page shows."""
    page = definitions.query(
        session, principal, {"filter": {"eventId": event.id}, "paging": {"limit": MAX_DEFINITIONS}},
        secret_of(request), available=True,
    )
    shown = []
    tz = (event.date_settings or {}).get("timeZoneId")
    for td in definitions.render(session, page.rows, []):
        status = td["saleStatus"]
        if status == SaleStatus.SALE_ENDED and not td["salePeriod"].get("displayNotOnSale"):
            continue
        td["price"] = _price(td)
        td["soldOut"] = status == SaleStatus.SALE_STARTED and td["limitPerCheckout"] == 0
        td["onSale"] = status == SaleStatus.SALE_STARTED and not td["soldOut"]
        td["saleStarts"] = _when(td["salePeriod"].get("startDate"), tz) if status == SaleStatus.SALE_SCHEDULED else ""
        shown.append(td)
    return shown


def _event_context(session: Session, principal: Principal, request: Request, slug: str) -> dict[str, Any]:
    """Everything the event page shows, each part from its slice's service and presenter."""
    event = events.get_by_slug(session, principal, slug)  # a draft is 404 to a visitor
    ev = events.present_one(session, principal, event, ["DETAILS", "TEXTS", "REGISTRATION"], event_links(request))
    tz = (event.date_settings or {}).get("timeZoneId")
    items = schedule.list_schedule_items(
        session, principal, ListScheduleItemsParams.model_validate({"eventId": [event.id], "limit": 100})
    ).rows
    items_wire = [schedule_wire.to_wire(i) for i in items]
    for i in items_wire:
        i["when"] = _when(i["timeSlot"]["start"], i["timeSlot"].get("timeZoneId") or tz)
    return {
        "event": ev,
        "description": _paragraphs(ev.get("description")) or _paragraphs(ev.get("detailedDescription")),
        "schedule": items_wire,
        "policies": [policies_wire.to_wire(p) for p in policies.of_event(session, event.id)],
        "definitions": _definitions(session, principal, request, event),
    }


def _event_page(request: Request, site_id: str, slug: str, embed: bool) -> Response:
    principal = visitor(request, site_id)
    ctx = db_of(request).read(lambda s: _event_context(s, principal, request, slug))
    live = [td["id"] for td in ctx["definitions"] if td["saleStatus"] == SaleStatus.SALE_STARTED][:MAX_LIVE]
    return render(request, "public/event.html", frameable=embed, site_id=site_id, slug=slug, live=live,
                  base=f"/e/{site_id}/{slug}", **ctx)


@router.get("/e/{siteId}/{slug}")
def event_page(siteId: str, slug: str, request: Request) -> Response:
    return _event_page(request, siteId, slug, embed=False)


@router.get("/e/{siteId}/{slug}/embed")
def event_embed(siteId: str, slug: str, request: Request) -> Response:
    """The same event, without the site's chrome, for an ``<iframe>`` on another site."""
    return _event_page(request, siteId, slug, embed=True)


# --- reserving --------------------------------------------------------------------


def _quantity(raw: str, field: str) -> int:
    raw = raw.strip()
    if not raw:
        return 0
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 3:  # '²'.isdigit(), but int('²') raises
        raise InvalidArgument(field, "must be a whole number of tickets", "FORMAT")
    n = int(raw)
    if n > MAX_QUANTITY:
        raise InvalidArgument(field, f"must be at most {MAX_QUANTITY}", "MAX")
    return n


def _money(raw: str, field: str) -> str:
    try:
        d = Decimal(raw.strip())
    except InvalidOperation:
        raise InvalidArgument(field, "must be an amount, e.g. 12.50", "FORMAT") from None
    if not d.is_finite() or d < 0 or len(raw.strip()) > 20:
        raise InvalidArgument(field, "must be an amount, e.g. 12.50", "FORMAT")
    return raw.strip()


def reservation_request(form: FormData, tds: list[dict[str, Any]]) -> CreateTicketReservationRequest:
    """The quantities picked on the event page as Create Ticket Reservation's request:
    ``qty.<definition>`` (or ``qty.<definition>.<option>`` for a price option) and, for a
    guest price, ``price.<definition>``. Only definitions the page listed as on sale."""
    by_id = {td["id"]: td for td in tds}
    lines: list[dict[str, Any]] = []
    for key in {k for k in form.keys() if k.startswith("qty.")}:
        _, td_id, option = (key.split(".", 2) + [""])[:3]
        value = form.get(key)
        n = _quantity(value if isinstance(value, str) else "", key)
        if n == 0:
            continue
        td = by_id.get(td_id)
        if td is None or not _ID.match(td_id):
            raise InvalidArgument(key, "is not a ticket of this event on sale", "CUSTOM")
        price = td["price"]
        info: dict[str, Any] = {}
        if price["kind"] == "options":
            if option not in {o["id"] for o in price["options"]}:
                raise InvalidArgument(key, "is not a price option of this ticket", "CUSTOM")
            info["pricingOptionId"] = option
        elif option:
            raise InvalidArgument(key, "this ticket has no price options", "CUSTOM")
        if price["kind"] == "guest":
            given = form.get(f"price.{td_id}")
            info["guestPrice"] = _money(given if isinstance(given, str) and given.strip() else price["min"], f"price.{td_id}")
        line: dict[str, Any] = {"ticketDefinitionId": td_id, "quantity": n}
        if info:
            line["ticketInfo"] = info
        lines.append(line)
    if not lines:
        raise InvalidArgument("tickets", "choose how many tickets you want", "REQUIRED_FIELD")
    try:
        return CreateTicketReservationRequest.model_validate({"ticketReservation": {"tickets": lines}})
    except ValidationError as e:
        raise InvalidArgument("tickets", "; ".join(str(x["msg"]) for x in e.errors()[:3]), "CUSTOM") from None


@router.post("/e/{siteId}/{slug}/reserve", dependencies=[CSRF])
async def reserve(siteId: str, slug: str, request: Request) -> Response:
    """Create Ticket Reservation for the quantities picked, exactly as the API route does
    (the group commit, under this browser's visitor), then on to the checkout."""
    principal = visitor(request, siteId)
    form = await request.form()

    def read(s: Session) -> tuple[str, list[dict[str, Any]]]:
        event = events.get_by_slug(s, principal, slug)
        return event.id, [td for td in _definitions(s, principal, request, event) if td["onSale"] or td["soldOut"]]

    _, tds = await run_in_threadpool(db_of(request).read, read)
    body = reservation_request(form, tds)
    try:
        made = await request.app.state.reserve(reservations.NewReservation(principal, body))
    except FailedPrecondition as e:
        if e.code == "SOLD_OUT":
            return render(request, "public/sold_out.html", 428, message=e.description, back=f"/e/{siteId}/{slug}")
        if e.code == "GUEST_PRICE_TOO_LOW":  # the service's rule, shown as the form's bad input
            raise InvalidArgument("price", e.description, "MIN") from None
        raise
    return redirect(request, f"/e/{siteId}/{slug}/checkout/{made['id']}")


# --- checkout --------------------------------------------------------------------


def _guest_forms(event_wire: dict[str, Any], seats: int) -> int:
    separately = ((event_wire.get("registration") or {}).get("tickets") or {}).get("guestsAssignedSeparately")
    return max(1, seats) if separately else 1


def _checkout_context(session: Session, principal: Principal, request: Request, slug: str, reservation_id: str) -> dict[str, Any]:
    event = events.get_by_slug(session, principal, slug)
    r = reservations.get(session, principal, reservation_id)  # another visitor's: 404
    lines = reservations.lines_of(session, r)
    if any(ln.event_id != event.id for ln in lines):
        raise NotFound(f"Ticket reservation {reservation_id} not found", code="TICKET_RESERVATION_NOT_FOUND")
    rate = Decimal(request.app.state.settings.service_fee_rate)
    invoice = orders.get_invoice(session, principal, reservation_id, GetInvoiceRequest(event_id=event.id), rate)
    order = session.scalars(select(Order.order_number).where(Order.site_id == principal.site_id, Order.reservation_id == r.id)).first()
    ev = events.present_one(session, principal, event, ["REGISTRATION"])
    seats = sum(ln.quantity for ln in lines)
    payments = request.app.state.payments
    online = payments.online
    stripe_ready = payments.stripe is not None and bool(request.app.state.settings.stripe_publishable_key)
    return {
        "event": ev,
        "reservation": reservations_wire.to_wire(r, lines),
        "invoice": invoice["invoice"],
        "expires": invoice["expires"],
        "status": r.status_at(now()),
        "order_number": order,
        "form": forms_wire.form(forms.get(session, principal, event.id)),
        "guests": _guest_forms(ev, seats),
        "seats": seats,
        "policies": [policies_wire.to_wire(p) for p in policies.of_event(session, event.id)],
        "free": invoice["invoice"]["grandTotal"]["value"] in ("0.00", "0"),
        "online": (online is not None and online.name == "test") or stripe_ready,
        "online_name": "card" if stripe_ready else "test",
    }


def _checkout_page(request: Request, site_id: str, slug: str, ctx: dict[str, Any], status: int = 200,
                   errors: dict[str, str] | None = None, values: dict[str, list[str]] | None = None,
                   summary: str = "") -> Response:
    return render(request, "public/checkout.html", status, site_id=site_id, slug=slug, base=f"/e/{site_id}/{slug}",
                  errors=errors or {}, values=values or {}, summary=summary, **ctx)


@router.get("/e/{siteId}/{slug}/checkout/{reservationId}")
def checkout_page(siteId: str, slug: str, reservationId: str, request: Request) -> Response:
    principal = visitor(request, siteId)
    ctx = db_of(request).read(lambda s: _checkout_context(s, principal, request, slug, reservationId))
    if ctx["order_number"]:
        return redirect(request, f"/e/{siteId}/{slug}/orders/{ctx['order_number']}")
    if ctx["status"] != ReservationStatus.PENDING:
        return render(request, "public/expired.html", 410, back=f"/e/{siteId}/{slug}", event=ctx["event"])
    return _checkout_page(request, siteId, slug, ctx)


def checkout_request(form: FormData, event_id: str, reservation_id: str, controls: list[dict[str, Any]],
                     guests: int, pay: str) -> CheckoutRequest:
    """The checkout form as Checkout's request: guest ``i``'s answer to input ``name`` is
    the field ``g<i>.<name>`` (an input that takes several values: the field repeated;
    an address's parts ``g<i>.<name>.<part>``; guest names one a line)."""
    out = []
    for i in range(guests):
        values = []
        for c in controls:
            for inp in c["inputs"]:
                key = f"g{i}.{inp['name']}"
                if inp.get("labels"):  # a full address: its parts in order
                    got = [str(form.get(f"{key}.{part['name']}") or "") for part in inp["labels"]]
                    if any(v.strip() for v in got):
                        values.append({"inputName": inp["name"], "values": got})
                elif inp["name"] == "guestNames":
                    raw = str(form.get(key) or "")
                    names = [n.strip() for n in raw.splitlines() if n.strip()]
                    if names:
                        values.append({"inputName": inp["name"], "values": names})
                elif inp["array"]:
                    got = [str(v) for v in form.getlist(key) if str(v).strip()]
                    if got:
                        values.append({"inputName": inp["name"], "values": got})
                else:
                    v = str(form.get(key) or "")
                    if v.strip():
                        values.append({"inputName": inp["name"], "value": v})
        out.append({"form": {"inputValues": values}})
    body: dict[str, Any] = {"eventId": event_id, "reservationId": reservation_id, "guests": out}
    if pay == "offline":
        body["options"] = {"payInPerson": True}
    try:
        return CheckoutRequest.model_validate(body)
    except ValidationError as e:
        violations = []
        for x in e.errors()[:5]:
            loc = x.get("loc", ())
            field = "guests"
            if len(loc) >= 6 and loc[0] == "guests":
                field = f"guests[{loc[1]}].form.inputValues.{out[int(loc[1])]['form']['inputValues'][int(loc[4])]['inputName']}"
            violations.append({"field": field, "description": str(x.get("msg", "is invalid")), "violatedRule": "CUSTOM"})
        raise InvalidArgument.many(violations) from None


def _check_answers(session: Session, principal: Principal, slug: str, body: CheckoutRequest,
                   missing: list[dict[str, str]]) -> None:
    """The page's own refusals (policies not agreed, no way to pay) with Checkout's rule
    for the answers (``forms.check_answers``, as Checkout calls it), in one refusal."""
    event = events.get_by_slug(session, principal, slug)
    try:
        forms.check_answers(session, event, [g.form.input_values for g in body.guests or []], {})
    except InvalidArgument as e:
        raise InvalidArgument.many([*e.violations, *missing]) from None
    raise InvalidArgument.many(missing)


def _field_errors(exc: InvalidArgument) -> dict[str, str]:
    """Checkout's violations by the form field they are about (``g0.email``); the buyer's
    own fields (``buyer.email``) are the first guest's."""
    out: dict[str, str] = {}
    for v in exc.violations:
        f = v.get("field", "")
        m = re.match(r"^guests\[(\d+)\]\.form\.inputValues\.(.+)$", f)
        if m:
            out.setdefault(f"g{m.group(1)}.{m.group(2)}", v.get("description", ""))
        elif f.startswith("buyer."):
            out.setdefault(f"g0.{f.removeprefix('buyer.')}", v.get("description", ""))
        else:
            out.setdefault(f, v.get("description", ""))
    return out


@router.post("/e/{siteId}/{slug}/checkout/{reservationId}", dependencies=[CSRF])
async def checkout(siteId: str, slug: str, reservationId: str, request: Request) -> Response:
    """Checkout, as the API route does it (one unit; ``agreed_via`` CHECKOUT_PAGE: the
    buyer ticked the policies here). A refusal of the form comes back as this page with
    each message next to its field and the answers kept."""
    principal = visitor(request, siteId)
    form = await request.form()
    db = db_of(request)
    ctx = await run_in_threadpool(db.read, lambda s: _checkout_context(s, principal, request, slug, reservationId))
    if ctx["order_number"]:
        return redirect(request, f"/e/{siteId}/{slug}/orders/{ctx['order_number']}")
    if ctx["status"] != ReservationStatus.PENDING:
        return render(request, "public/expired.html", 410, back=f"/e/{siteId}/{slug}", event=ctx["event"])
    values = {k: [str(v) for v in form.getlist(k)][:200] for k in list(form.keys())[:500] if k != "csrf_token"}
    pay = str(form.get("pay") or "")
    try:
        body = checkout_request(form, ctx["event"]["id"], reservationId, ctx["form"]["controls"], ctx["guests"], pay)
        missing = []
        if ctx["policies"] and form.get("agree") != "yes":
            missing.append({"field": "agree", "description": "tick the box to agree to the event's policies", "violatedRule": "REQUIRED_FIELD"})
        if not ctx["free"] and pay not in ("offline", "online") or (pay == "online" and not ctx["online"]):
            missing.append({"field": "pay", "description": "choose how to pay", "violatedRule": "REQUIRED_FIELD"})
        if missing:  # and what Checkout would say of the answers, all at once
            await run_in_threadpool(db.read, lambda s: _check_answers(s, principal, slug, body, missing))
        settings = request.app.state.settings
        rate = Decimal(settings.service_fee_rate)
        hold = dt.timedelta(hours=settings.offline_hold_hours)
        u = order_urls(request, principal)

        def work(s: Session) -> tuple[dict[str, Any], dict[str, Any]]:
            payment: dict[str, Any] = {}
            order, tickets, r, lines = orders.checkout(
                s, principal, body, rate, request.app.state.payments, hold, agreed_via="CHECKOUT_PAGE", buyer_action=payment
            )
            return orders_wire.checkout_response(order, tickets, r, lines, u, payment=payment), payment

        out, payment = await run_in_threadpool(db.write, work)
    except InvalidArgument as e:
        errors = _field_errors(e)
        summary = "Please check: " + "; ".join(v.get("description", "") for v in e.violations[:5])
        return _checkout_page(request, siteId, slug, ctx, 400, errors=errors, values=values, summary=summary)
    order = out["order"]
    if payment.get("clientSecret"):
        return _stripe_page(request, siteId, slug, order, payment["clientSecret"], out.get("expires"))
    return redirect(request, f"/e/{siteId}/{slug}/orders/{order['orderNumber']}")


@router.post("/e/{siteId}/{slug}/checkout/{reservationId}/cancel", dependencies=[CSRF])
def cancel_hold(siteId: str, slug: str, reservationId: str, request: Request) -> Response:
    """Cancel Ticket Reservation: the buyer lets the seats go and goes back to the event.
    Only a hold not yet checked out: once it has an order, the order is what the buyer
    has (cancelling its reservation would end even a paid order, with no refund), and
    the page goes to the order instead."""
    principal = visitor(request, siteId)

    def work(s: Session) -> str | None:
        r = reservations.get(s, principal, reservationId, lock_row=True)  # checkout locks it too
        number = s.scalars(select(Order.order_number).where(Order.site_id == principal.site_id,
                                                            Order.reservation_id == r.id)).first()
        if number is None:
            reservations.cancel(s, principal, reservationId)
        return number

    number = db_of(request).write(work)
    if number is not None:
        return redirect(request, f"/e/{siteId}/{slug}/orders/{number}")
    return redirect(request, f"/e/{siteId}/{slug}")


# --- paying and the confirmation --------------------------------------------------


def _stripe_page(request: Request, site_id: str, slug: str, order: dict[str, Any], client_secret: str,
                 expires: str | None) -> Response:
    """Stripe's Payment Element for the order's PaymentIntent; Stripe sends the buyer back
    to the order's page, which shows the tickets once Stripe's webhook has paid it."""
    base = f"/e/{site_id}/{slug}"
    return render(
        request, "public/stripe.html", site_id=site_id, slug=slug, base=base, order=order, expires=expires,
        client_secret=client_secret, publishable_key=request.app.state.settings.stripe_publishable_key,
        stripe_js=STRIPE_JS, return_url=f"{str(request.base_url).rstrip('/')}{base}/orders/{order['orderNumber']}",
        headers={"Content-Security-Policy": STRIPE_CSP},
    )


def _qr_svg(code: str) -> str:
    """A ticket's QR code as an SVG data URI (drawn by segno: no script, no other host)."""
    return str(segno.make(code, error="m").svg_data_uri(scale=4, border=2))


def _own_order(session: Session, principal: Principal, slug: str, order_number: str) -> tuple[Event, Order]:
    """The visitor's own order of this event: another visitor's, or another event's, is 404."""
    event = events.get_by_slug(session, principal, slug)
    if not _ID.match(order_number):
        raise NotFound(f"Order {order_number} not found", code="ORDER_NOT_FOUND")
    order = orders.get(session, principal, event.id, order_number)
    try:
        reservations.get(session, principal, order.reservation_id)  # whose it is: the buyer's reservation
    except NotFound:
        raise NotFound(f"Order {order_number} not found", code="ORDER_NOT_FOUND") from None
    return event, order


@router.get("/e/{siteId}/{slug}/orders/{orderNumber}")
def order_page(siteId: str, slug: str, orderNumber: str, request: Request) -> Response:
    """The buyer's order: the confirmation with the tickets' QR codes and PDFs once paid
    or free; what to do while it waits for payment; why it ended otherwise."""
    principal = visitor(request, siteId)

    def work(s: Session) -> dict[str, Any]:
        event, order = _own_order(s, principal, slug, orderNumber)
        # the buyer's own valid tickets carry their QR codes (see the module's docstring)
        base = order_urls(request, principal)
        u = Urls(base.base, base.secret, base.site_id, qr_codes=order.status in CONFIRMED)
        wire = orders_wire.order_wire(order, orders.tickets_of(s, order), None, u)
        ev = events.present_one(s, principal, event, ["DETAILS"], event_links(request))
        return {"order": wire, "event": ev, "provider": order.payment_provider,
                "expires": wire.get("status") == OrderStatus.PENDING and order.hold_expires}

    data = db_of(request).read(work)
    for tk in data["order"].get("tickets", []):
        if tk.get("qrCode"):
            tk["qrSvg"] = _qr_svg(tk["qrCode"])
    expires = data.pop("expires")
    test_pay = (data["order"]["status"] == OrderStatus.PENDING and data["provider"] == "test"
                and isinstance(request.app.state.payments.online, TestProvider))
    return render(request, "public/order.html", site_id=siteId, slug=slug, base=f"/e/{siteId}/{slug}",
                  expires=expires.isoformat() if expires else None, test_pay=test_pay, **data)


@router.post("/e/{siteId}/{slug}/orders/{orderNumber}/pay-test", dependencies=[CSRF])
def pay_test(siteId: str, slug: str, orderNumber: str, request: Request) -> Response:
    """The ``test`` provider (development only): the buyer "pays" at the provider, and
    the provider's callback does what ``POST /boxoffice/v1/test-payments/{n}/pay``
    does (``orders.service.payment_outcome``, as the provider: the system's
    principal). Only the visitor's own order, only while the test provider is the one
    configured (never beside Stripe)."""
    if not isinstance(request.app.state.payments.online, TestProvider):
        raise NotFound("The test payment provider is not enabled here", code="NOT_FOUND")
    principal = visitor(request, siteId)

    def work(s: Session) -> None:
        _own_order(s, principal, slug, orderNumber)
        orders.payment_outcome(s, events.system_principal(siteId), "test", orderNumber, paid=True)

    try:
        db_of(request).write(work)
    except FailedPrecondition as e:
        if e.code == "RESERVATION_EXPIRED":
            return render(request, "public/expired.html", 410, back=f"/e/{siteId}/{slug}", event=None)
        raise
    return redirect(request, f"/e/{siteId}/{slug}/orders/{orderNumber}")

