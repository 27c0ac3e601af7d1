"""The door scanner (``/scan``): door staff or the organiser pick an event and check
tickets in by their QR code, online or offline.

Online, every scan is the API's own QR check-in (``tickets.service.scan``, what ``POST
/boxoffice/v1/check-in/scan`` runs) under the signed-in principal, in one unit of work: a
staff member is confined to its events by the service (``staff_members.service.scope``),
exactly as with its access token on the API. Undo is Delete Ticket Check-in
(``tickets.service.delete_check_in``).

Offline, the page (cached by the service worker, ``/scan/sw.js``) checks a scanned code
against the event's **offline pack** (``GET /scan/events/{id}/pack``, kept in
IndexedDB): the event's tickets (number, guest name, ticket type, state, check-in) and,
per ticket, the SHA-256 of its exact QR code text (``links.Urls.qr_code``). A scanned
code is genuine offline iff its hash is in the pack. The pack deliberately does not
carry the instance secret that signs the codes: that secret signs every site's links
and codes on this instance, and a copy in a browser would let anyone who reads the
device forge tickets for every site. A hash cannot be turned back into the code, so the
pack lets a device recognise a ticket without letting it make one. Offline check-ins
are queued in IndexedDB and sent to ``POST /scan/events/{id}/sync`` when the network
returns; the server checks each in through the same service, so it decides conflicts
between devices (the first check-in wins) and the page shows them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from .. import limits
from ..errors import FailedPrecondition, NotFound, WixError
from ..events import service as events
from ..events.models import Event
from ..events.routes import links as event_links
from ..events.schemas import QueryEventsRequest
from ..identity import Principal
from ..links import InvalidTicketCode, Urls, verify_ticket_code
from ..orders.models import CONFIRMED
from ..orders.wire import ticket_wire
from ..staff_members import service as staff
from ..tickets import service as tickets
from ..tickets.routes import _shown
from .web import CSRF, HERE, DoorStaff, PageRoute, db_of, render, secret_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

EVENTS_PAGE = 100
SYNC_BATCH_MAX = limits.SCANNER_SYNC_BATCH_MAX
MAX_CODE_CHARS = 2048  # links._MAX_CODE_LEN: anything longer is not a ticket code
TICKET_FIELDS = {"TICKET_DETAILS"}
SW = HERE / "static" / "scan" / "sw.js"


# --- who and which event ---------------------------------------------------------------


def _event(session: Session, principal: Principal, event_id: str) -> Event:
    """The event the scanner works on, as the API's check-in and Get Event see it: a staff
    member's own (403 otherwise), published (a draft only for the owner; 404 otherwise)."""
    scope = staff.scope(session, principal)
    if scope is not None:
        scope.check(event_id)
    return events.get(session, principal, event_id)


def _present(session: Session, principal: Principal, request: Request, rows: list[Event]) -> list[dict[str, Any]]:
    return events.present(session, principal, rows, [], event_links(request))


def _who(session: Session, principal: Principal, by: dict[str, Any] | None) -> str:
    """Who made a check-in (its ``checkedInBy`` webhook identity), in words."""
    by = by or {}
    if by == principal.webhook_identity():
        return "you"
    if by.get("staffMemberId"):
        try:
            name = staff.get(session, principal, str(by["staffMemberId"])).name
        except NotFound:
            name = None
        return f"{name} (staff)" if name else "a staff member"
    if by.get("appId") or by.get("wixUserId"):
        return "the organiser"
    return "someone else"


def _ticket(session: Session, principal: Principal, tk: Any, o: Any) -> dict[str, Any]:
    """The ticket as the API's check-in answers it (no links: the page needs none), as the
    principal may see it."""
    return _shown(session, principal, [ticket_wire(tk, o, TICKET_FIELDS, None)])[0]


# --- checking one code in ------------------------------------------------------------


def _refused(reason: str, code: str, ticket: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"result": "refused", "reason": reason, "code": code, "ticket": ticket}


def _explain(session: Session, principal: Principal, event_id: str, number: str, exc: WixError) -> dict[str, Any]:
    """What to show for a ticket the service refused to check in (its unit rolled back):
    amber for one already checked in (when, and by whom), red with why for the rest."""
    try:
        ticket: dict[str, Any] | None = _ticket(session, principal, *tickets.get(session, principal, number, event_id))
    except NotFound:
        ticket = None
    if exc.code == "TICKET_ALREADY_CHECKED_IN":
        return {"result": "already", "ticket": ticket, "checkedInAt": exc.data.get("checkedInAt"),
                "checkedInBy": _who(session, principal, exc.data.get("checkedInBy"))}
    if exc.code == "TICKET_CANCELED":
        return _refused("This ticket is cancelled", exc.code, ticket)
    if exc.code == "ORDER_NOT_CONFIRMED":
        return _refused(f"Not paid: the order is {exc.data.get('orderStatus', 'not confirmed')}", exc.code, ticket)
    if exc.code == "TICKET_NOT_FOUND":
        return _refused("No such ticket in this event (it may have been deleted)", exc.code)
    return _refused(exc.description, exc.code, ticket)


def check_in_code(request: Request, principal: Principal, event_id: str, code: str) -> dict[str, Any]:
    """Check one scanned code in for ``event_id`` through the API's QR check-in:
    ``result`` is ``ok`` (green), ``already`` (amber: when and by whom) or ``refused``
    (red: why). A refusal of the *ticket* is the answer; a refusal of the *caller*
    (another event's staff member, a paused one) is raised, as on the API."""
    db, secret = db_of(request), secret_of(request)
    try:
        site_id, code_event, number = verify_ticket_code(secret, code)
    except InvalidTicketCode:
        site_id = code_event = number = ""

    def work(session: Session) -> dict[str, Any]:
        _event(session, principal, event_id)
        if not number:
            return _refused("Forged or altered: this is not a genuine ticket code", "INVALID_TICKET_CODE")
        if site_id != principal.site_id:
            return _refused("This ticket belongs to another site", "ANOTHER_SITE")
        if code_event != event_id:
            return _refused("This ticket is for another event", "ANOTHER_EVENT")
        tk, o = tickets.scan(session, principal, secret, code)  # what POST /boxoffice/v1/check-in/scan runs
        return {"result": "ok", "ticket": _ticket(session, principal, tk, o)}

    try:
        return db.write(work)
    except (FailedPrecondition, NotFound) as exc:
        if isinstance(exc, NotFound) and exc.code != "TICKET_NOT_FOUND":
            raise
        refusal = exc
    return db.read(lambda s: _explain(s, principal, event_id, number, refusal))


# --- pages ---------------------------------------------------------------------------


@router.get("/scan")
def home(request: Request, who: DoorStaff) -> Response:
    """The events this principal may scan for: upcoming or started; a staff member's own
    (its staff scope, as the services apply it)."""

    def work(session: Session) -> list[dict[str, Any]]:
        filt: dict[str, Any] = {"status": {"$in": ["UPCOMING", "STARTED"]}}
        scope = staff.scope(session, who)
        if scope is not None and not scope.all_events:
            if not scope.events:
                return []
            filt["id"] = {"$in": sorted(scope.events)}
        req = QueryEventsRequest.model_validate({
            "query": {"filter": filt, "sort": [{"fieldName": "dateAndTimeSettings.startDate", "order": "ASC"}],
                      "paging": {"limit": EVENTS_PAGE}},
        })
        page = events.query(session, who, req, secret_of(request))
        return _present(session, who, request, list(page.rows))

    return render(request, "scan/home.html", events=db_of(request).read(work))


@router.get("/scan/events/{event_id}")
def scanner(request: Request, who: DoorStaff, event_id: str) -> Response:
    event = db_of(request).read(lambda s: _present(s, who, request, [_event(s, who, event_id[:64])])[0])
    return render(request, "scan/event.html", event=event, pack_max=limits.SCANNER_OFFLINE_TICKETS_MAX)


@router.get("/scan/sw.js")
def service_worker() -> Response:
    """The service worker, served under /scan so that it may control /scan (its scope is
    widened from /scan/ to /scan by ``Service-Worker-Allowed``)."""
    return FileResponse(SW, media_type="text/javascript",
                        headers={"Service-Worker-Allowed": "/scan", "Cache-Control": "no-cache",
                                 "X-Content-Type-Options": "nosniff"})


@router.get("/boxoffice/v1/staff/login")
def staff_login_link(request: Request) -> Response:
    """Where a staff member's login link points (``staff_members.service.login_link``):
    on to the scanner's sign-in. The ``#loginToken=`` fragment never reaches a server; the
    browser carries it across the redirect, and the sign-in page reads it into its form."""
    response = Response(status_code=303, headers={"Location": "/scan/login"})
    response.headers["Cache-Control"] = "no-store"
    return response


# --- what the page's script calls (JSON) ----------------------------------------------


def _json(make: Callable[[], dict[str, Any]]) -> JSONResponse:
    """The script's answer: ``make()``'s dict, or a refusal as ``{"error", "code"}`` with
    its status (the page shows the message)."""
    try:
        data, status = make(), 200
    except WixError as exc:
        data, status = {"error": exc.description, "code": exc.code}, exc.status
    return JSONResponse(data, status, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


class ScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    code: str = Field(min_length=1, max_length=MAX_CODE_CHARS)


class UndoIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    ticket_number: str = Field(alias="ticketNumber", min_length=1, max_length=24)


class SyncItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=MAX_CODE_CHARS)


class SyncIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[SyncItem] = Field(max_length=SYNC_BATCH_MAX)


@router.post("/scan/events/{event_id}/check-in", dependencies=[CSRF])
def check_in(request: Request, who: DoorStaff, event_id: str, body: Annotated[ScanIn, Body()]) -> Response:
    return _json(lambda: check_in_code(request, who, event_id[:64], body.code))


@router.post("/scan/events/{event_id}/undo", dependencies=[CSRF])
def undo(request: Request, who: DoorStaff, event_id: str, body: Annotated[UndoIn, Body()]) -> Response:
    """Undo a check-in: the API's Delete Ticket Check-in, under the page's principal."""

    def work(session: Session) -> dict[str, Any]:
        _event(session, who, event_id)
        (tk, o), = tickets.delete_check_in(session, who, event_id, [body.ticket_number])
        return {"result": "undone", "ticket": _ticket(session, who, tk, o)}

    return _json(lambda: db_of(request).write(work))


@router.get("/scan/events/{event_id}/pack")
def pack(request: Request, who: DoorStaff, event_id: str) -> Response:
    """The event's offline pack (see the module's docstring): every ticket's number, guest,
    type, state and check-in, and the SHA-256 of its QR code; at most
    ``limits.SCANNER_OFFLINE_TICKETS_MAX`` tickets (``truncated`` says when there were more)."""
    secret = secret_of(request)
    event_id = event_id[:64]

    def work(session: Session) -> dict[str, Any]:
        e = _event(session, who, event_id)
        rows, total, _ = tickets.list_tickets(session, who, {
            "eventId": [event_id], "offset": 0, "limit": limits.SCANNER_OFFLINE_TICKETS_MAX, "sort": None})
        urls = Urls("", secret, who.site_id)
        out = []
        for tk, o in rows:
            w = ticket_wire(tk, o, TICKET_FIELDS, None)
            state = "canceled" if tk.canceled else "valid" if o.status in CONFIRMED else "unpaid"
            out.append({
                "number": w["ticketNumber"], "guest": w["guestFullName"], "type": w["name"],
                "state": state, "orderStatus": w["orderStatus"],
                "checkedInAt": (w.get("checkIn") or {}).get("created"),
                "hash": hashlib.sha256(urls.qr_code(tk).encode()).hexdigest(),
            })
        return {"eventId": e.id, "title": e.title, "total": total, "truncated": total > len(out), "tickets": out}

    return _json(lambda: db_of(request).read(work))


@router.post("/scan/events/{event_id}/sync", dependencies=[CSRF])
def sync(request: Request, who: DoorStaff, event_id: str, body: Annotated[SyncIn, Body()]) -> Response:
    """Offline check-ins, each through the same check-in as a scan online, each in its own
    unit: one refused item (a forged code, a ticket another device checked in first)
    does not hold back the others. A refusal of the caller refuses the whole sync."""
    event_id = event_id[:64]

    def run() -> dict[str, Any]:
        db_of(request).read(lambda s: _event(s, who, event_id))
        return {"results": [{"id": item.id, **check_in_code(request, who, event_id, item.code)} for item in body.items]}

    return _json(run)
