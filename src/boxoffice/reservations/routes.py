"""Ticket Reservations over HTTP (`/events/v1/ticket-reservations`, and the SDK's
`/_api/events-ticket-reservations/v1/...` for other hosts)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from ..api.deps import DB, require
from ..api.http import JSON
from ..groupcommit import GroupCommit
from ..identity import Permission, Principal
from . import service, wire
from .schemas import (
    BulkUpdateTicketReservationTagsByFilterRequest,
    BulkUpdateTicketReservationTagsByFilterResponse,
    BulkUpdateTicketReservationTagsRequest,
    BulkUpdateTicketReservationTagsResponse,
    CreateTicketReservationRequest,
    TicketReservationResponse,
)

router = APIRouter(tags=["Ticket Reservations"])

# Buyers (visitors, members) reserve and see their own reservations; managers see all.
Buyer = require(*Permission)


@router.post("/v1/ticket-reservations", response_model=TicketReservationResponse, summary="Create Ticket Reservation")
async def create_ticket_reservation(
    request: Request, body: CreateTicketReservationRequest, principal: Principal = Buyer
) -> JSON:
    """Hold seats of one event's ticket definitions for the buyer: PENDING until checkout
    or until the hold ends (20 minutes by default, or the event's
    `reservationDurationInMinutes`). Never oversold: a definition without enough seats
    left answers 428 `SOLD_OUT` and nothing is held."""
    # concurrent calls share one transaction (group commit: service.create_batch), so
    # this handler only queues the call and awaits its outcome
    reserve: GroupCommit = request.app.state.reserve
    return JSON({"ticketReservation": await reserve(service.NewReservation(principal, body))})


def _wire(r, lines) -> dict:  # type: ignore[no-untyped-def]
    return {"ticketReservation": wire.to_wire(r, lines)}


@router.get(
    "/v1/ticket-reservations/{ticketReservationId}",
    response_model=TicketReservationResponse,
    summary="Get Ticket Reservation",
)
def get_ticket_reservation(ticketReservationId: str, db: DB, principal: Principal = Buyer) -> JSON:
    def work(session: Session) -> JSON:
        r = service.get(session, principal, ticketReservationId)
        return JSON({"ticketReservation": wire.to_wire(r, service.lines_of(session, r))})

    return db.read(work)


@router.post(
    "/v1/ticket-reservations/{ticketReservationId}/cancel",
    response_model=TicketReservationResponse,
    summary="Cancel Ticket Reservation",
)
def cancel_ticket_reservation(ticketReservationId: str, db: DB, principal: Principal = Buyer) -> JSON:
    return JSON(db.write(lambda s: _wire(*service.cancel(s, principal, ticketReservationId))))


@router.delete(
    "/v1/ticket-reservations/{ticketReservationId}",
    response_model=TicketReservationResponse,
    summary="Delete Ticket Reservation",
)
def delete_ticket_reservation(ticketReservationId: str, db: DB, principal: Principal = Buyer) -> JSON:
    return JSON(db.write(lambda s: {"ticketReservation": service.delete(s, principal, ticketReservationId)}))


# Retagging is the site's business, not a buyer's (the typings: TICKET_RESERVATION_UPDATE).
Manager = require(Permission.MANAGE_ORDERS, Permission.MANAGE_EVENTS)


@router.post(
    "/v1/bulk/ticket-reservations/update-tags",
    response_model=BulkUpdateTicketReservationTagsResponse,
    summary="Bulk Update Ticket Reservation Tags",
)
def bulk_update_ticket_reservation_tags(
    body: BulkUpdateTicketReservationTagsRequest, db: DB, principal: Principal = Manager
) -> JSON:
    return JSON(db.write(lambda s: service.bulk_update_ticket_reservation_tags(s, principal, body)))


@router.post(
    "/v1/bulk/ticket-reservations/update-tags-by-filter",
    response_model=BulkUpdateTicketReservationTagsByFilterResponse,
    summary="Bulk Update Ticket Reservation Tags By Filter",
)
def bulk_update_ticket_reservation_tags_by_filter(
    body: BulkUpdateTicketReservationTagsByFilterRequest, db: DB, principal: Principal = Manager
) -> JSON:
    return JSON(db.write(lambda s: service.bulk_update_ticket_reservation_tags_by_filter(s, principal, body)))
