"""Checkout and Orders over HTTP (legacy v1 paths, as `@wix/auto_sdk_events_orders` sends them)."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ..api.deps import DB, require
from ..api.http import JSON, PAGE, get_params, list_params, query_doc, secret, str_param
from ..db import Database
from ..errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from ..fields import field_mask, fieldsets
from ..identity import IdentityType, Permission, Principal
from ..links import Urls
from ..payments import PaymentReport
from ..payments import refunds as payment_refunds
from ..payments.models import PaymentRefund, RefundStatus
from ..schemas import Empty
from ..staff_members import service as staff
from ..staff_members import wire as staff_wire
from . import cancellation, service, wire
from .models import OrderStatus
from .schemas import (
    AuthorizedPaymentRequest,
    AvailableTicketsResponse,
    BulkUpdateOrdersRequest,
    CancelEventRequest,
    CancelEventResponse,
    CancelOrderRequest,
    CancelOrderResponse,
    CheckoutOptionsResponse,
    CheckoutRequest,
    CheckoutResponse,
    ConfirmOrderRequest,
    CreateReservationRequest,
    CreateReservationResponse,
    GetInvoiceRequest,
    InvoiceResponse,
    ListOrdersResponse,
    OrderResponse,
    OrdersResponse,
    PolicyAgreementResponse,
    PosCheckoutRequest,
    PosCheckoutResponse,
    QueryAvailableTicketsRequest,
    StripeWebhookResponse,
    SummaryResponse,
    UpdateCheckoutRequest,
    UpdateCheckoutResponse,
    UpdateOrderRequest,
)

log = logging.getLogger(__name__)

checkout_router = APIRouter(tags=["Checkout"])
orders_router = APIRouter(tags=["Orders"])
# Boxoffice's own order routes (no SDK method): under /boxoffice, mounted once.
admin_router = APIRouter(tags=["Orders (Boxoffice)"])
# Mounted only where the `test` provider is enabled (BOXOFFICE_TEST_PAYMENTS=1).
test_payments_router = APIRouter(tags=["Test payment provider"])
# Mounted only where Stripe is configured (BOXOFFICE_STRIPE_SECRET_KEY): no key, the
# Stripe-Signature is the credential.
stripe_router = APIRouter(tags=["Stripe payment provider"])

Buyer = require(*Permission)
Manage = require(Permission.MANAGE_ORDERS, Permission.MANAGE_EVENTS)
# Changing an order's status (Confirm Order marks it paid) or its record is money:
# "Manage Orders" only (README "Security": who may set what).
ChangeOrders = require(Permission.MANAGE_ORDERS)
# Reading an event's orders (its guest list): also a staff member's key, for the events it
# is assigned to (staff_members.service.scope).
ReadGuests = require(Permission.MANAGE_ORDERS, Permission.MANAGE_EVENTS, staff=True)

ORDER_FIELDSETS = {"TICKETS", "DETAILS", "FORM", "INVOICE"}


def urls(request: Request, principal: Principal) -> Urls:
    owner = principal.identity_type in (IdentityType.WIX_USER, IdentityType.APP)  # qrCode: never a buyer or staff
    return Urls(str(request.base_url).rstrip("/"), secret(request), principal.site_id, qr_codes=owner)


def _fieldsets(values: Any) -> set[str]:
    return set(fieldsets(values, ORDER_FIELDSETS, "fieldset"))


def _shown(scope: staff.Scope | None, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Orders as the caller may see them (a staff member: ``staff_wire.for_staff``)."""
    if scope is None:
        return orders
    return [staff_wire.for_staff(o, scope.guest_forms) for o in orders]


@checkout_router.post("/v1/checkout", response_model=CheckoutResponse, summary="Checkout")
def checkout(request: Request, db: DB, body: CheckoutRequest, principal: Principal = Buyer) -> JSON:
    settings = request.app.state.settings
    rate = Decimal(settings.service_fee_rate)
    hold = timedelta(hours=settings.offline_hold_hours)
    u = urls(request, principal)

    def work(session: Session) -> dict[str, Any]:
        payment: dict[str, Any] = {}  # what an online provider's buyer needs (a fresh dict per try of the unit)
        order, tickets, r, lines = service.checkout(
            session, principal, body, rate, request.app.state.payments, hold, buyer_action=payment
        )
        return wire.checkout_response(order, tickets, r, lines, u, payment=payment)

    return JSON(db.write(work))


@orders_router.get(
    "/v1/orders", response_model=ListOrdersResponse, summary="List Orders",
    openapi_extra=query_doc(
        ("eventId", "only these events' orders (repeat the key for several)", list),
        ("fieldset", "what each order carries besides its number: without one, almost nothing (as Wix); TICKETS, DETAILS, FORM, INVOICE", ["TICKETS", "DETAILS", "FORM", "INVOICE"]),
        ("status", "only orders with these statuses", ["FREE", "PENDING", "PAID", "OFFLINE_PENDING", "INITIATED", "CANCELED", "DECLINED", "AUTHORIZED", "VOIDED"]),
        ("orderNumber", "only these orders", list), ("memberId", "only these members' orders", list),
        ("contactId", "only these contacts' orders", list),
        ("tag", "CONFIRMED, UNCONFIRMED, MEMBER, ARCHIVED, NON_ARCHIVED", ["CONFIRMED", "UNCONFIRMED", "MEMBER", "ARCHIVED", "NON_ARCHIVED"]),
        ("facet", "count orders by status and/or eventId", ["status", "eventId"]),
        ("searchPhrase", "part of the buyer's name or e-mail, or of the order number"),
        ("sort", "created or orderNumber, :asc or :desc (default created:asc)"),
        *PAGE,
    ),
)
def list_orders(request: Request, db: DB, principal: Principal = ReadGuests) -> JSON:
    p = list_params(
        request,
        ("fieldset", "status", "eventId", "orderNumber", "memberId", "facet", "tag", "contactId", "eventCreatorId"),
        max_limit=100,
        default_limit=100,
    )
    fieldsets = _fieldsets(p.get("fieldset"))
    u = urls(request, principal)
    def work(session: Session) -> JSON:
        scope = staff.scope(session, principal)
        mine = p
        if scope is not None:
            for event_id in p.get("eventId") or []:
                scope.check(event_id)
            if not p.get("eventId") and not scope.all_events:
                mine = {**p, "eventId": sorted(scope.events)}
        # a staff member assigned to no event sees no order
        none: tuple[list[Any], int, dict[str, Any]] = ([], 0, {})
        rows, total, facets = none if mine.get("eventId") == [] else service.list_orders(session, principal, mine)
        return JSON(
            {
                "total": total,
                "offset": p["offset"],
                "limit": p["limit"],
                "orders": _shown(scope, [wire.order_wire(o, t, fieldsets, u) for o, t in rows]),
                "facets": facets,
            }
        )

    return db.read(work)


@orders_router.get(
    "/v1/orders/summary", response_model=SummaryResponse, summary="Get Summary",
    openapi_extra=query_doc(("eventId", "one event's sales (default: every event's)")),
)
def get_summary(request: Request, db: DB, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        return JSON({"sales": service.summary(session, principal, str_param(get_params(request), "eventId"))})

    return db.read(work)


@orders_router.get(
    "/v1/events/{eventId}/orders/{orderNumber}", response_model=OrderResponse, summary="Get Order",
    openapi_extra=query_doc(("fieldset", "what the order carries (default: all)", ["TICKETS", "DETAILS", "FORM", "INVOICE"])),
)
def get_order(eventId: str, orderNumber: str, request: Request, db: DB, principal: Principal = ReadGuests) -> JSON:
    p = list_params(request, ("fieldset",), 100, 100)
    fieldsets = _fieldsets(p.get("fieldset")) or None
    def work(session: Session) -> JSON:
        scope = staff.scope(session, principal)
        if scope is not None:
            scope.check(eventId)
        o = service.get(session, principal, eventId, orderNumber)
        order = wire.order_wire(o, service.tickets_of(session, o), fieldsets, urls(request, principal))
        return JSON({"order": _shown(scope, [order])[0]})

    return db.read(work)


@orders_router.patch("/v1/events/{eventId}/orders/{orderNumber}", response_model=OrderResponse, summary="Update Order")
def update_order(
    eventId: str, orderNumber: str, request: Request, db: DB, body: UpdateOrderRequest, principal: Principal = ChangeOrders
) -> JSON:
    fields = field_mask(body.fields, "fields")
    u = urls(request, principal)

    def work(session: Session) -> dict[str, Any]:
        o = service.update_order(session, principal, eventId, orderNumber, fields, body)
        return {"order": wire.order_wire(o, service.tickets_of(session, o), None, u)}

    return JSON(db.write(work))


@orders_router.post("/v1/events/{eventId}/orders/confirm", response_model=OrdersResponse, summary="Confirm Order")
def confirm_order(eventId: str, request: Request, db: DB, body: ConfirmOrderRequest, principal: Principal = ChangeOrders) -> JSON:
    u = urls(request, principal)

    def work(session: Session) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        done = service.confirm_orders(session, principal, eventId, body.order_number)
        stop = [(o.payment_provider, o.payment_id) for o in done if o.method == service.PAID_OTHERWISE_METHOD and o.payment_id]
        return {"orders": [wire.order_wire(o, service.tickets_of(session, o), None, u) for o in done]}, stop

    out, stop = db.write(work)
    # orders that awaited a card payment were paid otherwise: their payments can no longer be made
    for name, payment_id in stop:
        if (provider := request.app.state.payments.provider(name)) is not None:
            provider.cancel(payment_id)
    return JSON(out)


@admin_router.get(
    "/boxoffice/v1/events/{eventId}/orders/{orderNumber}/policy-agreement",
    response_model=PolicyAgreementResponse,
    summary="Get Policy Agreement (Boxoffice)",
)
def get_policy_agreement(eventId: str, orderNumber: str, db: DB, principal: Principal = ChangeOrders) -> JSON:
    """The event's policies the buyer agreed to by checking out (Step 4): each policy's id,
    revision and the words of that revision, when and how (``CHECKOUT_API`` or
    ``CHECKOUT_PAGE``). Empty when the event had no policies then."""
    return JSON(db.read(lambda session: service.policy_agreement(session, principal, eventId, orderNumber)))


@test_payments_router.post(
    "/boxoffice/v1/test-payments/{orderNumber}/{outcome}",
    response_model=OrderResponse,
    summary="Test payment provider: pay or decline an order",
)
def test_payment(orderNumber: str, outcome: str, request: Request, db: DB, principal: Principal = Manage) -> JSON:
    """What a payment provider's callback does, for the built-in `test` provider (present
    only with BOXOFFICE_TEST_PAYMENTS=1): `outcome` is `pay` (order PAID, seats sold) or
    `decline` (DECLINED, seats released)."""
    if outcome not in ("pay", "decline"):
        raise InvalidArgument("outcome", "must be pay or decline")
    u = urls(request, principal)

    def work(session: Session) -> dict[str, Any]:
        o = service.payment_outcome(session, principal, "test", orderNumber, paid=outcome == "pay")
        return {"order": wire.order_wire(o, service.tickets_of(session, o), None, u)}

    return JSON(db.write(work))


@stripe_router.post(
    "/boxoffice/v1/payments/stripe/webhook",
    response_model=StripeWebhookResponse,
    summary="Stripe webhook (Boxoffice)",
)
async def stripe_webhook(request: Request, db: DB) -> JSON:
    """Stripe's events for PaymentIntents that checkout created. Verified by the
    Stripe-Signature header with BOXOFFICE_STRIPE_WEBHOOK_SECRET (400 and nothing written
    otherwise). ``payment_intent.succeeded``: the order is PAID (tickets valid, e-mail
    queued, OrderConfirmed); ``payment_intent.payment_failed``: DECLINED, seats released.
    The same event again changes nothing. A success for an order that can no longer be
    sold is refunded at Stripe after the order's unit commits; if Stripe cannot be
    reached the answer is 503, so Stripe sends the event again and the refund is retried
    (the owed refund is already recorded)."""
    payload = await request.body()  # the raw bytes: the signature is over them
    return await run_in_threadpool(_stripe_event, request, db, payload, request.headers.get("stripe-signature"))


def _stripe_event(request: Request, db: Database, payload: bytes, signature: str | None) -> JSON:
    provider = request.app.state.payments.stripe
    if provider is None:  # pragma: no cover - the route is mounted only with Stripe configured
        raise NotFound("Stripe is not configured")
    report: PaymentReport | None = provider.report(payload, signature)
    if report is None:
        return JSON({})

    def work(session: Session) -> tuple[str | None, payment_refunds.Owed | None]:
        order, owed = service.payment_reported(session, report)
        return (order.status if order else None), (payment_refunds.Owed.of(owed) if owed is not None else None)

    status, owed = db.write(work)
    log.info("stripe event %s for order %s: %s", report.event_id, report.order_number, status)
    out: dict[str, Any] = {"orderStatus": status}
    if status == OrderStatus.DECLINED and report.outcome == "failed":
        provider.cancel(report.payment_id)  # this PaymentIntent cannot be paid any more
    if report.outcome == "authorized" and status not in (OrderStatus.AUTHORIZED, OrderStatus.PAID, None):
        provider.cancel(report.payment_id)  # held for an order that cannot be sold: let go, nothing taken
    if owed is not None:
        refund_id = payment_refunds.make(db, request.app.state.payments, owed)
        if refund_id is None:  # 503: Stripe sends the event again (and the refunder retries meanwhile)
            raise Unavailable("The refund could not be made now; send the event again")
        out["refundId"] = refund_id
    return JSON(out)


# --- authorized payments (Stripe manual capture) ---------------------------------------


def _authorized_action(request: Request, db: DB, principal: Principal, order_number: str, body: Any, action: str) -> JSON:
    if body.order_number and body.order_number != order_number:
        raise InvalidArgument("orderNumber", "differs from the order number in the path")
    order = db.read(lambda s: service.authorized(s, principal, body.event_id, order_number, action))
    provider = request.app.state.payments.provider(order.payment_provider)
    if provider is None:
        raise FailedPrecondition(
            f"The payment provider {order.payment_provider} is not configured", code="PAYMENT_PROVIDER_NOT_CONFIGURED"
        )
    # the provider first (outside any unit: a network call); then the order, once
    if action == "capture":
        provider.capture(order.payment_id)
        done, owed = db.write(lambda s: service.capture_authorized_payment(s, principal, body.event_id, order_number))
        if done.status != OrderStatus.PAID:  # canceled or voided meanwhile: the money taken goes back
            if owed is not None:
                payment_refunds.make(db, request.app.state.payments, payment_refunds.Owed.of(owed))
            raise FailedPrecondition(
                f"Order {order_number} was {done.status} before its payment was captured: the payment is being refunded",
                code="ORDER_STATUS_NOT_AUTHORIZED",
                data={"orderStatus": done.status},
            )
    else:
        provider.void(order.payment_id)
        db.write(lambda s: service.void_authorized_payment(s, principal, body.event_id, order_number))
    return JSON({})


@orders_router.post(
    "/v1/events/orders/{orderNumber}/capture", response_model=Empty, summary="Capture Authorized Payment"
)
def capture_authorized_payment(
    orderNumber: str, request: Request, db: DB, body: AuthorizedPaymentRequest, principal: Principal = ChangeOrders
) -> JSON:
    """Take a card payment that checkout only authorized (Stripe with
    BOXOFFICE_STRIPE_CAPTURE=manual): AUTHORIZED -> PAID, the tickets become valid and the
    buyer's confirmation is sent. Any other order: 428 ORDER_STATUS_NOT_AUTHORIZED."""
    return _authorized_action(request, db, principal, orderNumber, body, "capture")


@orders_router.post("/v1/events/orders/{orderNumber}/void", response_model=Empty, summary="Void Authorized Payment")
def void_authorized_payment(
    orderNumber: str, request: Request, db: DB, body: AuthorizedPaymentRequest, principal: Principal = ChangeOrders
) -> JSON:
    """Let an authorized card payment go: nothing is taken, AUTHORIZED -> VOIDED, the seats
    go back on sale. Any other order: 428 ORDER_STATUS_NOT_AUTHORIZED."""
    return _authorized_action(request, db, principal, orderNumber, body, "void")


# --- cancellation and refunds (issue 12 section 3) -------------------------------------

# Refunds a Cancel Event request asks the provider for itself; the rest the background
# refunder makes (each is leased to this request for refunds.FIRST_TRY_SECONDS first).
REFUNDS_IN_REQUEST_MAX = 20


def _settle(request: Request, db: Database, done: list[cancellation.Canceled]) -> list[dict[str, Any]]:
    """After COMMIT: stop the online payments of orders canceled while awaiting them, make
    the refunds owed (up to REFUNDS_IN_REQUEST_MAX), and present each order's refund as
    it now stands."""
    payments = request.app.state.payments
    for c in done:
        if c.stop_payment is not None and (provider := payments.provider(c.stop_payment[0])) is not None:
            provider.cancel(c.stop_payment[1])
    owed = [payment_refunds.Owed.of(c.refund) for c in done if c.refund is not None and c.refund.status == RefundStatus.PENDING]
    for o in owed[:REFUNDS_IN_REQUEST_MAX]:
        payment_refunds.make(db, payments, o)
    ids = {c.order.id: c.refund.id for c in done if c.refund is not None}

    def read(session: Session) -> dict[str, dict[str, Any] | None]:
        return {oid: wire.refund_wire(session.get(PaymentRefund, rid)) for oid, rid in ids.items()}

    refunds = db.read(read) if ids else {}
    return [refunds.get(c.order.id) for c in done]  # type: ignore[misc]


@admin_router.post(
    "/boxoffice/v1/events/{eventId}/orders/{orderNumber}/cancel",
    response_model=CancelOrderResponse,
    summary="Cancel Order (Boxoffice)",
)
def cancel_order(
    eventId: str, orderNumber: str, request: Request, db: DB, body: CancelOrderRequest, principal: Principal = ChangeOrders
) -> JSON:
    """Cancel a paid, free or unpaid order (Manage Orders): its tickets can no longer be
    checked in, its seats go back on sale, `OrderUpdated` is sent and the buyer is told
    by e-mail. A paid order is refunded (`refund: false` keeps the money): a card
    payment through its provider, after this unit commits and retried in the background
    until made (`refund.status` PENDING meanwhile); a payment taken in person is recorded
    BY_HAND, for the organiser to give back."""
    u = urls(request, principal)

    def work(session: Session) -> tuple[cancellation.Canceled, dict[str, Any]]:
        c = cancellation.cancel_order(session, principal, eventId, orderNumber, body.refund)
        return c, wire.order_wire(c.order, service.tickets_of(session, c.order), None, u)

    c, order = db.write(work)
    return JSON({"order": order, "refund": _settle(request, db, [c])[0]})


@admin_router.post(
    "/boxoffice/v1/events/{eventId}/cancel-with-orders",
    response_model=CancelEventResponse,
    summary="Cancel Event with its orders (Boxoffice)",
)
def cancel_event_with_orders(
    eventId: str, request: Request, db: DB, body: CancelEventRequest, principal: Principal = ChangeOrders
) -> JSON:
    """Cancel Event (unless it is canceled already) and, in the same transaction, every
    order of it that is paid, free or awaiting payment, as Cancel Order does each (needs
    "Manage Events" and "Manage Orders"). All or nothing: at most 20,000 orders."""
    u = urls(request, principal)

    def work(session: Session) -> tuple[str, list[cancellation.Canceled], list[dict[str, Any]]]:
        event, done = cancellation.cancel_event(session, principal, eventId, body.refund)
        return event.state, done, [wire.order_wire(c.order, service.tickets_of(session, c.order), None, u) for c in done]

    state, done, orders = db.write(work)
    refunds = _settle(request, db, done)
    return JSON(
        {
            "eventId": eventId,
            "eventStatus": state,
            "orders": [{"order": o, "refund": r} for o, r in zip(orders, refunds, strict=True)],
        }
    )


# --- the remaining selling methods (issue 12 section 4) --------------------------------


@checkout_router.get("/v1/checkout/options", response_model=CheckoutOptionsResponse, summary="Get Checkout Options")
def get_checkout_options(request: Request, db: DB, principal: Principal = Buyer) -> JSON:
    payments = request.app.state.payments
    return JSON(db.read(lambda s: service.get_checkout_options(s, principal, payments)))


@checkout_router.post("/v1/checkout/invoices/{reservationId}", response_model=InvoiceResponse, summary="Get Invoice")
def get_invoice(reservationId: str, request: Request, db: DB, body: GetInvoiceRequest, principal: Principal = Buyer) -> JSON:
    rate = Decimal(request.app.state.settings.service_fee_rate)
    return JSON(db.read(lambda s: service.get_invoice(s, principal, reservationId, body, rate)))


@checkout_router.get(
    "/v1/checkout/available-tickets", response_model=AvailableTicketsResponse, summary="List Available Tickets",
    openapi_extra=query_doc(
        ("eventId", "only these events' ticket definitions", list),
        ("state", "INCLUDE_HIDDEN_NOT_ON_SALE (managers): also hidden definitions and those not on sale", ["INCLUDE_HIDDEN_NOT_ON_SALE"]),
        *PAGE,
    ),
)
def list_available_tickets(request: Request, db: DB, principal: Principal = Buyer) -> JSON:
    p = list_params(request, ("eventId", "state"), max_limit=100, default_limit=0)
    return JSON(db.read(lambda s: service.list_available_tickets(s, principal, p)))


@checkout_router.post(
    "/v1/checkout/available-tickets/query", response_model=AvailableTicketsResponse, summary="Query Available Tickets"
)
def query_available_tickets(db: DB, body: QueryAvailableTicketsRequest, principal: Principal = Buyer) -> JSON:
    return JSON(db.read(lambda s: service.query_available_tickets(s, principal, body)))


@orders_router.patch("/v1/events/{eventId}/orders", response_model=OrdersResponse, summary="Bulk Update Orders")
def bulk_update_orders(
    eventId: str, request: Request, db: DB, body: BulkUpdateOrdersRequest, principal: Principal = ChangeOrders
) -> JSON:
    fields = field_mask(body.fields, "fields")
    u = urls(request, principal)

    def work(session: Session) -> dict[str, Any]:
        done = service.bulk_update_orders(session, principal, eventId, body, fields)
        return {"orders": [wire.order_wire(o, service.tickets_of(session, o), None, u) for o in done]}

    return JSON(db.write(work))


# --- door sales, Update Checkout, legacy reservations (issue 12 §4) ---

# Selling at the door marks an order paid: "Manage Orders" (the typings: MANAGE_ORDERS), or
# a staff member's key, which the service admits only with SELL_TICKETS for the event.
SellAtDoor = require(Permission.MANAGE_ORDERS, staff=True)
# The legacy reservation calls: every buyer (as Create Ticket Reservation), and a staff
# member with SELL_TICKETS for the event (service.seller).
Reserve = require(*Permission, staff=True)


@checkout_router.post("/v1/pos-checkout", response_model=PosCheckoutResponse, summary="Pos Checkout")
def pos_checkout(request: Request, db: DB, body: PosCheckoutRequest, principal: Principal = SellAtDoor) -> JSON:
    """A sale at the door through a reservation: PAID at once (FREE when it costs
    nothing), channel OFFLINE_POS. Boxoffice's own fields: ``paymentMethod`` (CASH or
    CARD), ``buyer`` and ``checkIn``."""
    rate = Decimal(request.app.state.settings.service_fee_rate)
    u = urls(request, principal)

    def work(session: Session) -> dict[str, Any]:
        order, tickets, r, lines = service.pos_checkout(session, principal, body, rate)
        out = wire.pos_checkout_response(order, tickets, r, lines, service.legacy_definitions(session, lines), u)
        if principal.is_staff:  # no bearer links to the tickets for a staff member (README "Security")
            out["order"] = staff_wire.for_staff(out["order"], True)
        return out

    return JSON(db.write(work))


@checkout_router.patch("/v1/checkout/{orderNumber}", response_model=UpdateCheckoutResponse, summary="Update Checkout")
def update_checkout(
    orderNumber: str, request: Request, db: DB, body: UpdateCheckoutRequest, principal: Principal = Buyer
) -> JSON:
    u = urls(request, principal)

    def work(session: Session) -> dict[str, Any]:
        o = service.update_checkout(session, principal, orderNumber, body)
        return {"order": wire.order_wire(o, service.tickets_of(session, o), None, u), "orderPageUrl": u.order_pdf(o)}

    return JSON(db.write(work))


@checkout_router.post(
    "/v1/checkout/reservations", response_model=CreateReservationResponse, summary="Create Reservation"
)
async def create_reservation(request: Request, body: CreateReservationRequest, principal: Principal = Reserve) -> JSON:
    """Deprecated by Wix for Create Ticket Reservation, and served by it: the same rules,
    holds and group commit (this handler only checks the request, queues the call and
    presents the outcome)."""
    db: Database = request.app.state.db
    rate = Decimal(request.app.state.settings.service_fee_rate)
    call = await run_in_threadpool(db.read, lambda s: service.legacy_reservation_call(s, principal, body))
    made = await request.app.state.reserve(call)
    return JSON(await run_in_threadpool(db.read, lambda s: service.legacy_reservation_created(s, made["id"], rate)))


@checkout_router.delete("/v1/checkout/reservations/{id}", response_model=Empty, summary="Cancel Reservation")
def cancel_reservation(id: str, request: Request, db: DB, principal: Principal = Reserve) -> JSON:
    event_id = str_param(get_params(request), "eventId")
    if not event_id:
        raise InvalidArgument("eventId", "is required", "REQUIRED_FIELD")

    def work(session: Session) -> dict[str, Any]:
        service.cancel_reservation(session, principal, event_id, id)
        return {}

    return JSON(db.write(work))
