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


def _key(authorization: str) -> str:
    raw = authorization.strip()
    if raw[:7].lower() == "bearer ":
        raw = raw[7:].strip()
    return raw


def cached_principal(state: Any, authorization: str, site: str | None) -> Principal | None:
    """The caller, when its key is in this process's cache (within
    ``auth_cache_seconds``) and belongs to the ``wix-site-id`` site; else None, and
    :func:`_principal` decides (a missing or unknown key, a miss, another site). The hot
    routes' lean path (reservations/routes.py) asks this, so both agree by construction."""
    raw = _key(authorization)
    if not raw:
        return None
    principal = cached(raw, state.settings.auth_cache_seconds)[1]
    if principal is None or (site and site != principal.site_id):
        return None
    return principal


async def _principal(request: Request) -> Principal:
    """Async so that a cached key costs no thread hop; a miss asks the database in the pool."""
    raw = _key(request.headers.get("authorization", ""))
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
        refusal = refused(principal, any_of, staff)
        if refusal is not None:
            raise refusal
        return principal

    return Depends(check)


def refused(principal: Principal, any_of: tuple[Permission, ...], staff: bool = False) -> PermissionDenied | None:
    """Why :func:`require` refuses this caller, or None when it admits it."""
    if principal.is_staff:
        if staff:
            return None
        return PermissionDenied("A staff member may only check tickets in and read the tickets and orders of its events")
    if not principal.can(*any_of):
        names = " or ".join(f'"{p.value}"' for p in any_of)
        return PermissionDenied(f"This method requires the {names} permission")
    return None
