"""Checkout and Orders over HTTP (legacy v1 paths, as `@wix/auto_sdk_events_orders` sends them)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from ..api.deps import DB, require
from ..api.http import JSON, get_params, list_params, secret, str_param
from ..errors import InvalidArgument
from ..fields import field_mask, fieldsets
from ..identity import Permission, Principal
from ..links import Urls
from ..staff_members import service as staff
from ..staff_members import wire as staff_wire
from . import service, wire
from .schemas import (
    CheckoutRequest,
    CheckoutResponse,
    ConfirmOrderRequest,
    ListOrdersResponse,
    OrderResponse,
    OrdersResponse,
    PolicyAgreementResponse,
    SummaryResponse,
    UpdateOrderRequest,
)

checkout_router = APIRouter(tags=["Checkout"])
orders_router = APIRouter(tags=["Orders"])
# Boxoffice's own order routes (no SDK method): under /boxoffice, mounted once.
admin_router = APIRouter(tags=["Orders (Boxoffice)"])
# Mounted only where the `test` provider is enabled (BOXOFFICE_TEST_PAYMENTS=1).
test_payments_router = APIRouter(tags=["Test payment provider"])

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
        order, tickets, r, lines = service.checkout(session, principal, body, rate, request.app.state.payments, hold)
        return wire.checkout_response(order, tickets, r, lines, u)

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
