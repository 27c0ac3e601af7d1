"""Orders and tickets on the wire: the legacy v1 shapes of `@wix/auto_sdk_events_orders`
and `@wix/auto_sdk_events_tickets`, and the bodies of the legacy order webhooks.

Presentation only: nothing here reads or writes the database or decides a rule.
"""

from __future__ import annotations

from typing import Any

from ..links import Urls
from ..money import legacy_money
from ..payments.models import PaymentRefund
from ..reservations.models import ReservationLine, TicketReservation
from ..tickets.models import Ticket
from ..timefmt import iso
from .models import CONFIRMED, ChannelType, Order, OrderStatus, fully_checked_in


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
                "channel": order.channel or ChannelType.ONLINE,
                "canceled": tk.canceled,
            }
        )
        if tk.checked_in_date is not None:
            out["checkIn"] = {"created": iso(tk.checked_in_date)}
        if urls is not None:
            out["ticketPdfUrl"] = urls.ticket_pdf(tk)
            out["checkInUrl"] = urls.check_in(tk)
            if urls.qr_codes and order.status in CONFIRMED and not tk.canceled:
                # what the ticket's QR code holds (Wix's TICKET_DETAILS names a `qrCode`;
                # the typings have no field, the SDK passes it through): only for a valid ticket
                out["qrCode"] = urls.qr_code(tk)
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
                "channel": order.channel or ChannelType.ONLINE,
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
    order: Order, tickets: list[Ticket], r: TicketReservation, lines: list[ReservationLine], urls: Urls,
    payment: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Checkout's answer: the order, what it reserved, when an unpaid hold ends, its page.

    ``payment`` (Boxoffice's own field: the SDK's CheckoutResponse has none for it, and
    passes unknown fields through): what the buyer needs to pay an online order, e.g.
    ``{"provider": "stripe", "paymentIntentId": "pi_...", "clientSecret": "pi_..._secret_..."}``
    for Stripe.js. Only in this answer, to the buyer who checked out; never stored or
    shown by Get Order (``order.paymentDetails.transaction.transactionId`` carries the
    PaymentIntent id)."""
    out: dict[str, Any] = {
        "order": order_wire(order, tickets, None, urls),
        "expires": iso(r.expiration_date) if order.status == OrderStatus.PENDING else None,
        "reservations": legacy_reservations(r, lines),
        "orderPageUrl": urls.order_pdf(order),
    }
    if payment:
        out["payment"] = payment
    return out


# --- the remaining selling methods (issue 12 section 4) --------------------------------


def legacy_reservations(r: TicketReservation, lines: list[ReservationLine]) -> list[dict[str, Any]]:
    """``reservations[]`` of Checkout and Get Invoice: each line with the legacy
    TicketDefinition snapshot it was reserved at."""
    return [
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
    ]


def legacy_ticket_definition(
    td: Any, sale_status: str, unsold: int | None, per_checkout: int, fieldsets: set[str]
) -> dict[str, Any]:
    """A v3 ticket definition row in the legacy (Orders v1) TicketDefinition shape of
    List/Query Available Tickets."""
    pricing: dict[str, Any]
    if td.fixed_price_cents is not None:
        price_cents, pricing = td.fixed_price_cents, {"fixedPrice": legacy_money(td.fixed_price_cents, td.currency)}
    elif td.guest_price_cents is not None:
        price_cents, pricing = td.guest_price_cents, {"minPrice": legacy_money(td.guest_price_cents, td.currency)}
    else:
        opts = td.price_options or []
        price_cents = min((o["cents"] for o in opts), default=0)
        pricing = {
            "pricingOptions": {
                "options": [{"id": o["optionId"], "name": o["name"], "price": legacy_money(o["cents"], td.currency)} for o in opts]
            }
        }
    pricing["pricingType"] = td.pricing_type
    out: dict[str, Any] = {
        "id": td.id,
        "price": legacy_money(price_cents, td.currency),
        "free": td.free,
        "name": td.name,
        "description": td.description or "",
        "limitPerCheckout": min(per_checkout, 20),  # the legacy typings: @max 20
        "orderIndex": td.sort_index,
        "eventId": td.event_id,
        "wixFeeConfig": {"type": td.fee_type},
        "salePeriod": {
            k: v
            for k, v in {
                "startDate": iso(td.sale_start) if td.sale_start else None,
                "endDate": iso(td.sale_end) if td.sale_end else None,
                "hideNotOnSale": not td.display_not_on_sale,
            }.items()
            if v is not None
        },
        "saleStatus": sale_status,
        "state": ["INCLUDE_HIDDEN_NOT_ON_SALE"] if td.hidden or sale_status != "SALE_STARTED" else [],
        "pricing": pricing,
    }
    if "POLICY" in fieldsets:
        out["policy"] = td.policy_text or ""
    if "DASHBOARD" in fieldsets:
        out["dashboard"] = {
            "hidden": td.hidden,
            "sold": td.sold_count + td.reserved_count,
            "limited": td.limited,
            "quantity": td.actual_limit if td.limited else None,
            "unsold": unsold,
            "ticketsSold": td.sold_count,
            "ticketsReserved": td.reserved_count,
        }
    return out


def refund_wire(r: PaymentRefund | None) -> dict[str, Any] | None:
    """Boxoffice's record of a refund (``payments.models.PaymentRefund``)."""
    if r is None:
        return None
    return {
        "status": r.status,
        "reason": r.reason,
        "amount": legacy_money(r.amount_cents, r.currency),
        "provider": r.provider,
        "refundId": r.refund_id,
        "refundedDate": iso(r.refunded_date) if r.refunded_date else None,
        "lastError": r.last_error,
    }


# --- door sales, Update Checkout, legacy reservations (issue 12 §4) ---


def reservations_with_definitions(
    r: TicketReservation, lines: list[ReservationLine], definitions: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """``reservations[]`` of the legacy Create Reservation and of Pos Checkout: each line
    with its definition in the legacy shape as it is now (``legacy_ticket_definition``,
    with the POLICY and DASHBOARD fieldsets), at the price this reservation holds it."""
    out = legacy_reservations(r, lines)
    for item in out:
        now_ = definitions.get(item["ticket"]["id"])
        if now_ is not None:
            item["ticket"] = {**now_, **item["ticket"]}
    return out


def legacy_reservation_response(
    r: TicketReservation, lines: list[ReservationLine], definitions: dict[str, dict[str, Any]], invoice: dict[str, Any],
    status: str,
) -> dict[str, Any]:
    """The legacy Create Reservation's answer (``CreateReservationResponse``)."""
    return {
        "id": r.id,
        "expires": iso(r.expiration_date) if status == "RESERVATION_PENDING" else None,
        "reservations": reservations_with_definitions(r, lines, definitions),
        "invoice": invoice,
        "reservationStatus": status,
    }


def pos_checkout_response(
    order: Order, tickets: list[Ticket], r: TicketReservation, lines: list[ReservationLine],
    definitions: dict[str, dict[str, Any]], urls: Urls,
) -> dict[str, Any]:
    """Pos Checkout's answer: the order (PAID or FREE at once, so no ``expires``)."""
    return {
        "order": order_wire(order, tickets, None, urls),
        "expires": None,
        "reservations": reservations_with_definitions(r, lines, definitions),
    }
