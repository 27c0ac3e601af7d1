"""Tickets and check-in over HTTP (legacy v1 paths of `@wix/auto_sdk_events_tickets`), the
QR-code check-in, the ticket PDFs and the `test` payment provider's callbacks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from ..api.deps import DB, require
from ..api.http import JSON, PAGE, get_params, list_params, query_doc, secret
from ..errors import InvalidArgument
from ..fields import fieldsets
from ..identity import Permission, Principal
from ..links import Urls
from ..orders.routes import urls
from ..orders.wire import ticket_wire
from ..staff_members import service as staff
from ..staff_members import wire as staff_wire
from . import service
from .schemas import (
    BulkUpdateTicketsRequest,
    CheckInRequest,
    ListTicketsResponse,
    ScanRequest,
    TicketResponse,
    TicketsResponse,
    UpdateTicketRequest,
)

router = APIRouter(tags=["Tickets"])
extras = APIRouter(tags=["Boxoffice extensions"])

Manage = require(Permission.MANAGE_ORDERS, Permission.MANAGE_EVENTS)
# ... and a staff member's key, for the events it is assigned to (the service confines it)
CheckIn = require(Permission.MANAGE_ORDERS, Permission.MANAGE_EVENTS, staff=True)
FIELDSETS = {"TICKET_DETAILS", "GUEST_DETAILS", "GUEST_FORM"}


def _shown(session: Session, principal: Principal, tickets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tickets as the caller may see them (a staff member: ``staff_wire.for_staff``)."""
    scope = staff.scope(session, principal)
    if scope is None:
        return tickets
    return [staff_wire.for_staff(t, scope.guest_forms) for t in tickets]


def _fieldsets(values: Any) -> set[str]:
    return set(fieldsets(values, FIELDSETS, "fieldset"))


@router.get(
    "/v1/tickets", response_model=ListTicketsResponse, summary="List Tickets",
    openapi_extra=query_doc(
        ("eventId", "only these events' tickets (repeat the key for several)", list),
        ("fieldset", "what each ticket carries: without one, almost nothing (as Wix); TICKET_DETAILS gives number, name, price, order status, check-in, links and the QR code's payload", ["TICKET_DETAILS", "GUEST_DETAILS", "GUEST_FORM"]),
        ("orderNumber", "only these orders' tickets", list), ("ticketNumber", "only these tickets", list),
        ("orderStatus", "only tickets of orders with these statuses", list),
        ("state", "only tickets in all these states", ["ORDER_ARCHIVED", "ORDER_ACTIVE", "TICKET_ARCHIVED", "TICKET_ACTIVE", "CHECKED_IN", "NON_CHECKED_IN", "FREE", "PAID", "MEMBER"]),
        ("ticketDefinitionId", "only tickets of these definitions", list), ("memberId", "only these members' tickets", list),
        ("contactId", "only these contacts' tickets", list), ("facet", "count tickets by these fields", list),
        ("searchPhrase", "part of the guest's name or e-mail, or of the ticket or order number"),
        ("sort", "ticketNumber, created or orderNumber, :asc or :desc (default ticketNumber:asc)"), *PAGE,
    ),
)
def list_tickets(request: Request, db: DB, principal: Principal = CheckIn) -> JSON:
    p = list_params(
        request,
        ("eventId", "orderNumber", "ticketNumber", "orderStatus", "fieldset", "state", "memberId", "facet",
         "contactId", "ticketDefinitionId", "seatId"),
        max_limit=100,
        default_limit=100,
    )
    fs = _fieldsets(p.get("fieldset"))
    u = urls(request, principal)
    def work(session: Session) -> JSON:
        rows, total, facets = service.list_tickets(session, principal, p)
        return JSON(
            {
                "total": total,
                "offset": p["offset"],
                "limit": p["limit"],
                "tickets": _shown(session, principal, [ticket_wire(tk, o, fs, u) for tk, o in rows]),
                "facets": facets,
            }
        )

    return db.read(work)


@router.get(
    "/v1/tickets/{ticketNumber}", response_model=TicketResponse, summary="Get Ticket",
    openapi_extra=query_doc(("fieldset", "what the ticket carries (default: TICKET_DETAILS)", ["TICKET_DETAILS", "GUEST_DETAILS", "GUEST_FORM"])),
)
def get_ticket(ticketNumber: str, request: Request, db: DB, principal: Principal = CheckIn) -> JSON:
    p = list_params(request, ("fieldset",), 100, 100)
    fs = _fieldsets(p.get("fieldset")) or None
    def work(session: Session) -> JSON:
        tk, o = service.get(session, principal, ticketNumber, p.get("eventId"))
        return JSON({"ticket": _shown(session, principal, [ticket_wire(tk, o, fs, urls(request, principal))])[0]})

    return db.read(work)


@router.patch("/v1/tickets/{ticketNumber}", response_model=TicketResponse, summary="Update Ticket")
def update_ticket(ticketNumber: str, request: Request, db: DB, body: UpdateTicketRequest, principal: Principal = Manage) -> JSON:
    u = urls(request, principal)

    def work(session: Session) -> dict[str, Any]:
        tk, o = service.update(session, principal, ticketNumber, body)
        return {"ticket": ticket_wire(tk, o, None, u)}

    return JSON(db.write(work))


@router.post("/v1/tickets/check-in", response_model=TicketsResponse, summary="Check In Tickets")
def check_in_tickets(request: Request, db: DB, body: CheckInRequest, principal: Principal = CheckIn) -> JSON:
    u = urls(request, principal)

    def work(session: Session) -> dict[str, Any]:
        pairs = service.check_in(session, principal, body.event_id, body.ticket_number)
        return {"tickets": _shown(session, principal, [ticket_wire(tk, o, None, u) for tk, o in pairs])}

    return JSON(db.write(work))


@router.delete(
    "/v1/tickets/check-in", response_model=TicketsResponse, summary="Delete Ticket Check-In",
    openapi_extra=query_doc(("eventId", "the tickets' event"), ("ticketNumber", "the tickets whose check-in is undone", list)),
)
def delete_ticket_check_in(request: Request, db: DB, principal: Principal = CheckIn) -> JSON:
    p = list_params(request, ("ticketNumber",), 100, 100)
    if not p.get("eventId") or not p.get("ticketNumber"):
        raise InvalidArgument("eventId" if not p.get("eventId") else "ticketNumber", "is required", "REQUIRED_FIELD")
    u = urls(request, principal)

    def work(session: Session) -> dict[str, Any]:
        pairs = service.delete_check_in(session, principal, p["eventId"], p["ticketNumber"])
        return {"tickets": _shown(session, principal, [ticket_wire(tk, o, None, u) for tk, o in pairs])}

    return JSON(db.write(work))


# --- Boxoffice extensions --------------------------------------------------------------------


@extras.post("/boxoffice/v1/check-in/scan", response_model=TicketResponse, summary="Check in by QR code")
def scan_ticket(request: Request, db: DB, body: ScanRequest, principal: Principal = CheckIn) -> JSON:
    """The QR code on a ticket holds a signed payload; a forged or altered one is refused (428)."""
    u = urls(request, principal)

    def work(session: Session) -> dict[str, Any]:
        tk, o = service.scan(session, principal, secret(request), body.code)
        return {"ticket": _shown(session, principal, [ticket_wire(tk, o, None, u)])[0]}

    return JSON(db.write(work))


@extras.get("/boxoffice/v1/check-in/{ticketAndEvent}", response_model=TicketResponse, summary="A ticket's checkInUrl")
def check_in_page(ticketAndEvent: str, request: Request, db: DB, principal: Principal = CheckIn) -> JSON:
    """What a ticket's ``checkInUrl`` shows staff: the ticket and its check-in state."""
    number, _, event_id = ticketAndEvent.partition(",")
    def work(session: Session) -> JSON:
        tk, o = service.get(session, principal, number, event_id or None)
        return JSON({"ticket": _shown(session, principal, [ticket_wire(tk, o, None, urls(request, principal))])[0]})

    return db.read(work)


def _sig(request: Request) -> str:
    """The link's signature; anything but one string (repeated, or a number in `.r`) is no signature."""
    sig = get_params(request).get("sig", "")
    return sig if isinstance(sig, str) else ""


def _pdf(body: bytes, name: str) -> Response:
    return Response(body, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


@extras.get("/boxoffice/v1/pdf/{siteId}/orders/{orderNumber}.pdf", summary="An order's tickets as PDF (signed link)",
    openapi_extra=query_doc(("sig", "the link's signature (the whole link is in the order's ticketsPdf / the ticket's ticketPdfUrl)")),)
def order_pdf(siteId: str, orderNumber: str, request: Request, db: DB) -> Response:
    """Opened by buyers without credentials: the `sig` in the link is the authorisation."""
    u = Urls(str(request.base_url).rstrip("/"), secret(request), siteId)
    sig = _sig(request)
    body = db.read(lambda session: service.order_pdf(session, u, orderNumber, sig))
    return _pdf(body, f"tickets-{orderNumber}.pdf")


@extras.get("/boxoffice/v1/pdf/{siteId}/tickets/{ticketNumber}.pdf", summary="One ticket as PDF (signed link)",
    openapi_extra=query_doc(("sig", "the link's signature (the whole link is in the order's ticketsPdf / the ticket's ticketPdfUrl)")),)
def ticket_pdf(siteId: str, ticketNumber: str, request: Request, db: DB) -> Response:
    u = Urls(str(request.base_url).rstrip("/"), secret(request), siteId)
    sig = _sig(request)
    body = db.read(lambda session: service.ticket_pdf(session, u, ticketNumber, sig))
    return _pdf(body, f"ticket-{ticketNumber}.pdf")


# Archiving tickets changes the order's record: "Manage Orders" (as Update Order).
ChangeOrders = require(Permission.MANAGE_ORDERS)


@router.patch("/v1/tickets", response_model=TicketsResponse, summary="Bulk Update Tickets")
def bulk_update_tickets(request: Request, db: DB, body: BulkUpdateTicketsRequest, principal: Principal = ChangeOrders) -> JSON:
    u = urls(request, principal)

    def work(session: Session) -> dict[str, Any]:
        return {"tickets": [ticket_wire(tk, o, None, u) for tk, o in service.bulk_update(session, principal, body)]}

    return JSON(db.write(work))
