"""Event guests over HTTP: Query Guests (`POST /v2/guests/query`); app.py mounts the
router under each prefix in PREFIXES.

The guest list is the site's: the site's own keys with "Manage Orders" or "Manage
Events" read it, as they read its orders; a staff member's key reads the guests of the
events it is assigned to (without the form answers unless it may READ_GUEST_FORM). A
visitor's or member's key is refused (403)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from ..api.deps import DB, require
from ..api.http import JSON, secret
from ..identity import Permission, Principal
from . import service
from .schemas import QueryEventGuestsRequest, QueryEventGuestsResponse

router = APIRouter(tags=["Event Guests"])
# Every path prefix the official SDK resolves for this module (the first is documented in
# OpenAPI, the others are aliases): `www.wixapis.com` gives `/events/v2/guests` and
# `/events-guests/v2/guests`, any other host `/_api/events-guests/v2/guests`.
PREFIXES = ["/events", "/events-guests", "/_api/events-guests"]

ReadGuests = require(Permission.MANAGE_ORDERS, Permission.MANAGE_EVENTS, staff=True)


@router.post("/v2/guests/query", response_model=QueryEventGuestsResponse, summary="Query Event Guests")
def query_event_guests(request: Request, db: DB, body: QueryEventGuestsRequest, principal: Principal = ReadGuests) -> JSON:
    """The guests of the site's confirmed (PAID, FREE) orders: a BUYER per order and a
    TICKET_HOLDER per ticket. ``fields``: GUEST_DETAILS adds ``guestDetails`` (names,
    e-mail, form answers, check-in) and ``tickets``; GUEST_TOTAL adds ``totalGuests``."""
    key = secret(request)

    def work(session: Session) -> JSON:
        guests, meta = service.query(session, principal, body, key)
        return JSON({"guests": guests, "pagingMetadata": meta})

    return db.read(work)
