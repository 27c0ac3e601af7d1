"""Orders and tickets on the wire: the legacy v1 shapes of `@wix/auto_sdk_events_orders`
and `@wix/auto_sdk_events_tickets`, and the bodies of the legacy order webhooks.

Presentation only: nothing here reads or writes the database or decides a rule.
"""

from __future__ import annotations

from typing import Any

from ..links import Urls
from ..money import legacy_money
from ..reservations.models import ReservationLine, TicketReservation
from ..tickets.models import Ticket
from ..timefmt import iso
from .models import CONFIRMED, Order, OrderStatus, fully_checked_in


def ticket_wire(tk: Ticket, order: Order, fieldsets: set[str] | None = None, urls: Urls | None = None) -> dict[str, Any]:
    """The legacy TicketingTicket; ``fieldsets`` None means everything."""
    out: dict[str, Any] = {"anonymized": False}
    if order.member_id:
        out["memberId"] = order.member_id
    every = fieldsets is None
    fieldsets = fieldsets or set()
    if every or "TICKET_DETAILS" in fieldsets:
        out.update(
            {
                "ticketNumber": tk.ticket_number,
                "orderNumber": tk.order_number,
                "ticketDefinitionId": tk.ticket_definition_id,
                "name": tk.name,
                "price": legacy_money(tk.price_cents, tk.currency),
                "free": tk.free,
                "policy": tk.policy or "",
                "orderStatus": order.status,
                "orderArchived": order.archived,
                "orderFullName": f"{order.first_name} {order.last_name}",
                "guestFullName": guest_name(tk, order),
                "archived": tk.archived,
                "channel": "ONLINE",
                "canceled": tk.canceled,
            }
        )
        if tk.checked_in_date is not None:
            out["checkIn"] = {"created": iso(tk.checked_in_date)}
        if urls is not None:
            out["ticketPdfUrl"] = urls.ticket_pdf(tk)
            out["checkInUrl"] = urls.check_in(tk)
    if every or "GUEST_DETAILS" in fieldsets or "GUEST_FORM" in fieldsets:
        gd: dict[str, Any] = {}
        if every or "GUEST_DETAILS" in fieldsets:
            gd.update(
                {
                    "guestAssigned": tk.guest_assigned,
                    "firstName": tk.guest_first_name or order.first_name,
                    "lastName": tk.guest_last_name or order.last_name,
                    "email": tk.guest_email or order.email,
                    "contactId": order.contact_id,
                }
            )
        gd["form"] = tk.guest_form or {"inputValues": []}
        out["guestDetails"] = gd
    return out


def guest_name(tk: Ticket, order: Order) -> str:
    return f"{tk.guest_first_name or order.first_name} {tk.guest_last_name or order.last_name}"


def order_wire(order: Order, tickets: list[Ticket], fieldsets: set[str] | None = None, urls: Urls | None = None) -> dict[str, Any]:
    """The legacy Order; ``fieldsets`` None means everything (checkout, webhooks)."""
    out: dict[str, Any] = {
        "orderNumber": order.order_number,
        "eventId": order.event_id,
        "contactId": order.contact_id,
        "anonymized": False,
        "fullyCheckedIn": fully_checked_in(tickets),
    }
    if order.member_id:
        out["memberId"] = order.member_id
    every = fieldsets is None
    fieldsets = fieldsets or set()
    if every or "DETAILS" in fieldsets:
        out.update(
            {
                "reservationId": order.reservation_id,
                "created": iso(order.created_date),
                "updated": iso(order.updated_date),
                "firstName": order.first_name,
                "lastName": order.last_name,
                "fullName": f"{order.first_name} {order.last_name}",
                "email": order.email,
                "confirmed": order.status in CONFIRMED,
                "status": order.status_at(),
                "method": order.method,
                "ticketsQuantity": order.tickets_quantity,
                "totalPrice": legacy_money(order.total_cents, order.currency),
                "archived": order.archived,
                "channel": "ONLINE",
                "paymentDetails": {"transaction": {"transactionId": order.payment_id, "method": order.method}}
                if order.payment_id
                else {},
            }
        )
        if urls is not None:
            out["ticketsPdf"] = urls.order_pdf(order)
    else:
        out["status"] = OrderStatus.NA_ORDER_STATUS
    if every or "FORM" in fieldsets:
        out["checkoutForm"] = order.checkout_form
    if every or "TICKETS" in fieldsets:
        out["tickets"] = [ticket_wire(t, order, None, urls) for t in tickets]
    if every or "INVOICE" in fieldsets:
        inv = dict(order.invoice)
        if order.status in CONFIRMED and urls is not None:
            inv["previewUrl"] = urls.order_pdf(order)
        out["invoice"] = inv
    return out


def webhook_ticket(tk: Ticket, order: Order) -> dict[str, Any]:
    out = {
        "ticketNumber": tk.ticket_number,
        "ticketDefinitionId": tk.ticket_definition_id,
        "price": legacy_money(tk.price_cents, tk.currency),
        "archived": tk.archived,
        "firstName": tk.guest_first_name or order.first_name,
        "lastName": tk.guest_last_name or order.last_name,
        "email": tk.guest_email or order.email,
        "contactId": order.contact_id,
        "confirmed": order.status in CONFIRMED,
        "form": tk.guest_form or {"inputValues": []},
        "ticketName": tk.name,
        "anonymized": False,
        "canceled": tk.canceled,
    }
    if tk.checked_in_date is not None:
        out["checkIn"] = {"created": iso(tk.checked_in_date)}
    if order.member_id:
        out["memberId"] = order.member_id
    return out




def order_event_data(order: Order, tickets: list[Ticket], name: str) -> dict[str, Any]:
    """The payload of OrderInitiated / OrderConfirmed / OrderUpdated, as the SDK types it."""
    data: dict[str, Any] = {
        "language": "en",
        "locale": "en",
        "eventId": order.event_id,
        "orderNumber": order.order_number,
        "contactId": order.contact_id,
        "created": iso(order.created_date),
        "updated": iso(order.updated_date),
        "firstName": order.first_name,
        "lastName": order.last_name,
        "email": order.email,
        "checkoutForm": order.checkout_form,
        "status": order.status,
        "reservationId": order.reservation_id,
    }
    if order.member_id:
        data["memberId"] = order.member_id
    if name == "OrderInitiated":
        data.update({"invoice": order.invoice, "markedAsPaid": order.status == OrderStatus.PAID})
    elif name == "OrderConfirmed":
        data.update(
            {
                "silent": False,
                "method": order.method,
                "tickets": [webhook_ticket(t, order) for t in tickets],
                "invoice": order.invoice,
            }
        )
    else:  # OrderUpdated
        data.update(
            {
                "confirmed": order.status in CONFIRMED,
                "method": order.method,
                "tickets": [webhook_ticket(t, order) for t in tickets],
                "archived": order.archived,
                "triggeredByAnonymizeRequest": False,
            }
        )
    return data


def checkout_response(
    order: Order, tickets: list[Ticket], r: TicketReservation, lines: list[ReservationLine], urls: Urls
) -> dict[str, Any]:
    """Checkout's answer: the order, what it reserved, when an unpaid hold ends, its page."""
    return {
        "order": order_wire(order, tickets, None, urls),
        "expires": iso(r.expiration_date) if order.status == OrderStatus.PENDING else None,
        "reservations": [
            {
                "quantity": ln.quantity,
                "ticket": {
                    "id": ln.ticket_definition_id,
                    "name": ln.ticket_name,
                    "price": legacy_money(ln.price_cents, r.currency),
                    "free": ln.price_cents == 0,
                    "policy": ln.policy or "",
                    "eventId": ln.event_id,
                },
                "ticketDetails": [{"pricingOptionId": ln.pricing_option_id}] if ln.pricing_option_id else [],
            }
            for ln in lines
        ],
        "orderPageUrl": urls.order_pdf(order),
    }
