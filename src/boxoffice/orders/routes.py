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
from ..api.http import JSON, get_params, list_params, secret, str_param
from ..db import Database
from ..errors import InvalidArgument, NotFound
from ..fields import field_mask, fieldsets
from ..identity import Permission, Principal
from ..links import Urls
from ..payments import PaymentReport
from ..staff_members import service as staff
from ..staff_members import wire as staff_wire
from . import service, wire
from .models import OrderStatus
from .schemas import (
    AvailableTicketsResponse,
    BulkUpdateOrdersRequest,
    CheckoutOptionsResponse,
    CheckoutRequest,
    CheckoutResponse,
    ConfirmOrderRequest,
    GetInvoiceRequest,
    InvoiceResponse,
    ListOrdersResponse,
    OrderResponse,
    OrdersResponse,
    PolicyAgreementResponse,
    QueryAvailableTicketsRequest,
    StripeWebhookResponse,
    SummaryResponse,
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
    return Urls(str(request.base_url).rstrip("/"), secret(request), principal.site_id)


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


@orders_router.get("/v1/orders", response_model=ListOrdersResponse, summary="List Orders")
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


@orders_router.get("/v1/orders/summary", response_model=SummaryResponse, summary="Get Summary")
def get_summary(request: Request, db: DB, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        return JSON({"sales": service.summary(session, principal, str_param(get_params(request), "eventId"))})

    return db.read(work)


@orders_router.get("/v1/events/{eventId}/orders/{orderNumber}", response_model=OrderResponse, summary="Get Order")
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

    def work(session: Session) -> dict[str, Any]:
        done = service.confirm_orders(session, principal, eventId, body.order_number)
        return {"orders": [wire.order_wire(o, service.tickets_of(session, o), None, u) for o in done]}

    return JSON(db.write(work))


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

    def work(session: Session) -> tuple[str | None, tuple[str, str, str, str] | None]:
        order, owed = service.payment_reported(session, report)
        return (order.status if order else None), (
            (owed.site_id, owed.provider, owed.payment_id, owed.reason) if owed is not None else None
        )

    status, owed = db.write(work)
    log.info("stripe event %s for order %s: %s", report.event_id, report.order_number, status)
    out: dict[str, Any] = {"orderStatus": status}
    if status == OrderStatus.DECLINED and not report.succeeded:
        provider.cancel(report.payment_id)  # this PaymentIntent cannot be paid any more
    if owed is not None:
        site_id, name, payment_id, reason = owed
        refund_id = provider.refund(payment_id, reason)  # 503 when Stripe fails: it sends the event again
        db.write(lambda s: service.refund_made(s, site_id, name, payment_id, refund_id))
        out["refundId"] = refund_id
    return JSON(out)


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
    "/v1/checkout/available-tickets", response_model=AvailableTicketsResponse, summary="List Available Tickets"
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
