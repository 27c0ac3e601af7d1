"""FastAPI dependencies: the request's database, its caller, and the permission a
route requires.

Clients send the key exactly as the SDK's ``ApiKeyStrategy`` does: ``Authorization:
<key>`` (``Bearer <key>`` accepted too) and ``wix-site-id: <site>``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from ..auth import cached, lookup, remember
from ..db import Database
from ..errors import PermissionDenied, Unauthenticated
from ..identity import Permission, Principal


async def _database(request: Request) -> Database:
    return request.app.state.db


# Routes run their one unit of work with ``db.read(fn)`` / ``db.write(fn)`` inside the
# (threadpool) handler, so it begins, commits and returns its connection in the same
# thread, before the response is sent. A yield-dependency would end it in a second
# thread hop while still holding the connection: under load every pool thread can end
# up waiting for a connection that only a queued hop would release.
DB = Annotated[Database, Depends(_database)]


async def _principal(request: Request) -> Principal:
    """Async so that a cached key costs no thread hop; a miss asks the database in the pool."""
    raw = request.headers.get("authorization", "").strip()
    if raw[:7].lower() == "bearer ":
        raw = raw[7:].strip()
    if not raw:
        raise Unauthenticated("Missing Authorization header")
    h, principal = cached(raw, request.app.state.settings.auth_cache_seconds)
    if principal is None:
        principal = await run_in_threadpool(lookup, request.app.state.db, h)
        if principal is None:
            raise Unauthenticated("Unknown API key")
        remember(h, principal)
    site = request.headers.get("wix-site-id")
    if site and site != principal.site_id:
        raise PermissionDenied("This API key does not belong to the site in wix-site-id")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


def require(*any_of: Permission, staff: bool = False) -> Any:
    """Dependency: the caller must hold at least one of these permissions. ``staff``: a
    staff member's key (which holds none) is admitted too; the route's service then keeps
    it to the events the staff member is assigned to (identity.py)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.is_staff:
            if staff:
                return principal
            raise PermissionDenied("A staff member may only check tickets in and read the tickets and orders of its events")
        if not principal.can(*any_of):
            names = " or ".join(f'"{p.value}"' for p in any_of)
            raise PermissionDenied(f"This method requires the {names} permission")
        return principal

    return Depends(check)
