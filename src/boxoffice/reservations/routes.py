"""Ticket Reservations over HTTP (`/events/v1/ticket-reservations`, and the SDK's
`/_api/events-ticket-reservations/v1/...` for other hosts)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.types import Scope

from ..api.deps import DB, cached_principal, refused, require
from ..api.http import JSON, header, lean
from ..errors import WixError
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


_BUYER = tuple(Permission)
_JSON_TYPES = (None, "application/json")


async def _create_fast(scope: Scope, body: bytes) -> JSON | None:
    """Create Ticket Reservation's lean path (a flash sale is thousands of these a
    second): a cached key of this site with the permission, and a JSON body that
    validates, go straight to the group commit; anything else (no or unknown key,
    another site, a staff key, another content type, an invalid body) returns None
    before acting, and :func:`create_ticket_reservation` runs as usual and answers it
    (the 401/403/400 envelopes are built in one place). One parse-and-validate
    (``model_validate_json``, pydantic-core) instead of ``json.loads`` plus validation,
    and no request object or dependency graph: measured in bench/flash_sale.py."""
    ctype = header(scope, b"content-type")
    if (ctype.split(";", 1)[0].strip().lower() if ctype is not None else None) not in _JSON_TYPES or not body:
        return None
    state = scope["app"].state
    principal = cached_principal(state, header(scope, b"authorization") or "", header(scope, b"wix-site-id"))
    if principal is None or refused(principal, _BUYER) is not None:
        return None
    try:
        request = CreateTicketReservationRequest.model_validate_json(body)
    except ValidationError:
        return None
    try:
        return JSON({"ticketReservation": await state.reserve(service.NewReservation(principal, request))})
    except WixError as e:  # as api/errors.py answers it
        return JSON(e.body(), status_code=e.status)


router.add_api_route(
    "/v1/ticket-reservations",
    create_ticket_reservation,
    methods=["POST"],
    response_model=TicketReservationResponse,
    summary="Create Ticket Reservation",
    route_class_override=lean(_create_fast),
)


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
