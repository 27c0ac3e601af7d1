"""Ticket Reservations on the wire (`@wix/auto_sdk_events_ticket-reservations`) and the
bodies of their domain events. Presentation only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..db import now
from ..events.models import DEFAULT_TICKET_LIMIT_PER_ORDER
from ..money import money
from ..timefmt import iso
from .models import NewLineRow, NewReservationRow, ReservationLine, ReservationStatus, TicketReservation


def to_wire(
    r: TicketReservation | NewReservationRow, lines: list[ReservationLine] | list[NewLineRow], t: dt.datetime | None = None
) -> dict[str, Any]:
    t = t or now()
    status = r.status_at(t)
    minutes = r.settings["reservationDurationInMinutes"]
    out: dict[str, Any] = {
        "id": r.id,
        "revision": str(r.revision),
        "createdDate": iso(r.created_date),
        "updatedDate": iso(r.updated_date),
        "status": status,
        "tickets": [
            {
                "ticketLineItemId": ln.id,
                "eventId": ln.event_id,
                "ticketDefinitionId": ln.ticket_definition_id,
                "quantity": ln.quantity,
                "ticketInfo": {
                    k: v
                    for k, v in {
                        "pricingOptionId": ln.pricing_option_id,
                        "pricingOptionName": ln.pricing_option_name,
                        "guestPrice": money(ln.guest_price_cents, r.currency)["value"]
                        if ln.guest_price_cents is not None
                        else None,
                    }.items()
                    if v is not None
                },
                "eventSettingsSnapshot": {
                    "reservationDurationInMinutes": minutes,
                    "ticketLimitPerOrder": r.settings.get("ticketLimitPerOrder", DEFAULT_TICKET_LIMIT_PER_ORDER),
                },
                "removedQuantity": 0,
                "policy": ln.policy or "",
                "ticketName": ln.ticket_name,
                "price": money(ln.price_cents, r.currency),
                "subTotal": money(ln.price_cents * ln.quantity, r.currency),
            }
            for ln in lines
        ],
        "additionalReservationSettings": {
            "disableTicketLimitValidation": bool(r.settings.get("disableTicketLimitValidation")),
            "enableHiddenTicketReservation": bool(r.settings.get("enableHiddenTicketReservation")),
        },
    }
    if status == ReservationStatus.PENDING:
        out["expirationDate"] = iso(r.expiration_date)
    if r.member_id:
        out["memberId"] = r.member_id
    if r.visitor_id:
        out["visitorId"] = r.visitor_id
    if r.extended_fields:
        out["extendedFields"] = r.extended_fields
    if r.tags:
        out["tags"] = r.tags
    return out


def event_body(slug: str, entity: dict[str, Any]) -> dict[str, Any]:
    return {
        "created": {"createdEvent": {"entity": entity}},
        "updated": {"updatedEvent": {"currentEntity": entity}},
        "deleted": {"deletedEvent": {"deletedEntity": entity}},
    }[slug]
