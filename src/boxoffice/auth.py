"""Identities and permissions.

A request carries ``Authorization: <key>`` (``Bearer <key>`` accepted too) and
``wix-site-id``, exactly as the SDK's ``ApiKeyStrategy`` sends them. A key belongs to
one site and one identity; what it may do is its set of Wix permission scopes.
Routes declare what they need with :func:`require` (after Netflix Dispatch's
declarative permission dependencies), so the rule for a method is read at its route.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, UTCDateTime, now
from .errors import PermissionDenied, Unauthenticated


class Permission(str, enum.Enum):
    MANAGE_EVENTS = "Manage Events"
    MANAGE_TICKET_DEFINITIONS = "Manage Ticket Definitions"
    MANAGE_ORDERS = "Manage Orders"
    READ_EVENTS = "Read Events"


class IdentityType(str, enum.Enum):
    WIX_USER = "wix-user"
    APP = "app"
    MEMBER = "member"
    VISITOR = "visitor"

    @property
    def wix_name(self) -> str:
        return {"wix-user": "WIX_USER", "app": "APP", "member": "MEMBER", "visitor": "ANONYMOUS_VISITOR"}[self.value]

    @property
    def id_field(self) -> str:
        return {"wix-user": "wixUserId", "app": "appId", "member": "memberId", "visitor": "anonymousVisitorId"}[
            self.value
        ]


# Who the webhooks say made a change that no caller made (expiry, the scheduler).
SYSTEM_IDENTITY = {"identityType": "APP", "appId": "boxoffice"}

# Wix users and apps manage the site; members and visitors only read published data.
DEFAULT_PERMISSIONS: dict[IdentityType, frozenset[Permission]] = {
    IdentityType.WIX_USER: frozenset(Permission),
    IdentityType.APP: frozenset(Permission),
    IdentityType.MEMBER: frozenset({Permission.READ_EVENTS}),
    IdentityType.VISITOR: frozenset({Permission.READ_EVENTS}),
}


class Site(Base):
    """A Wix site (``instanceId``): the unit of tenancy. Nothing crosses sites."""

    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_date: Mapped[Any] = mapped_column(UTCDateTime())


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    identity_type: Mapped[str] = mapped_column(String(16))
    identity_id: Mapped[str] = mapped_column(String(36))
    permissions: Mapped[str] = mapped_column(String(500))  # comma-separated Permission values
    created_date: Mapped[Any] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Principal:
    site_id: str
    identity_type: IdentityType
    identity_id: str
    permissions: frozenset[Permission]

    def can(self, *any_of: Permission) -> bool:
        return not self.permissions.isdisjoint(any_of)

    @property
    def manages(self) -> bool:
        return self.identity_type in (IdentityType.WIX_USER, IdentityType.APP)

    def webhook_identity(self) -> dict[str, str]:
        return {"identityType": self.identity_type.wix_name, self.identity_type.id_field: self.identity_id}


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    session: Session, site_id: str, identity: IdentityType, permissions: frozenset[Permission] | None = None
) -> str:
    """Create the site if new and a key for it; returns the raw key (only its hash is kept)."""
    if session.get(Site, site_id) is None:
        session.add(Site(id=site_id, created_date=now()))
        session.flush()
    raw = "bo_" + secrets.token_urlsafe(32)
    perms = DEFAULT_PERMISSIONS[identity] if permissions is None else permissions
    session.add(
        ApiKey(
            id=str(uuid.uuid4()),
            site_id=site_id,
            key_hash=_hash(raw),
            identity_type=identity.value,
            identity_id=str(uuid.uuid4()),
            permissions=",".join(sorted(p.value for p in perms)),
            created_date=now(),
        )
    )
    return raw


class _KeyCache:
    """Resolved keys, kept briefly so a hot path does not hit the database per call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, Principal]] = {}

    def get(self, h: str, ttl: float) -> Principal | None:
        item = self._items.get(h)
        if item and time.monotonic() - item[0] < ttl:
            return item[1]
        return None

    def put(self, h: str, p: Principal) -> None:
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[h] = (time.monotonic(), p)


_cache = _KeyCache()


def _lookup(db: Any, h: str) -> Principal | None:
    with db.session() as s:
        key = s.scalars(select(ApiKey).where(ApiKey.key_hash == h)).first()
        if key is None:
            return None
        return Principal(
            site_id=key.site_id,
            identity_type=IdentityType(key.identity_type),
            identity_id=key.identity_id,
            permissions=frozenset(Permission(p) for p in key.permissions.split(",") if p),
        )


async def _principal(request: Request) -> Principal:
    """Async so that a cached key costs no thread hop; a miss asks the database in the pool."""
    raw = request.headers.get("authorization", "").strip()
    if raw[:7].lower() == "bearer ":
        raw = raw[7:].strip()
    if not raw:
        raise Unauthenticated("Missing Authorization header")
    h = _hash(raw)
    ttl = request.app.state.settings.auth_cache_seconds
    principal = _cache.get(h, ttl)
    if principal is None:
        principal = await run_in_threadpool(_lookup, request.app.state.db, h)
        if principal is None:
            raise Unauthenticated("Unknown API key")
        _cache.put(h, principal)
    site = request.headers.get("wix-site-id")
    if site and site != principal.site_id:
        raise PermissionDenied("This API key does not belong to the site in wix-site-id")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


def require(*any_of: Permission) -> Any:
    """Dependency: the caller must hold at least one of these permissions."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.can(*any_of):
            names = " or ".join(f'"{p.value}"' for p in any_of)
            raise PermissionDenied(f"This method requires the {names} permission")
        return principal

    return Depends(check)


class InstanceSecret(Base):
    """Secrets this installation made for itself at `boxoffice migrate` (e.g. cursor signing),
    so that every API process of one database agrees on them without configuration."""

    __tablename__ = "instance_secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


def cursor_secret(session: Session, configured: str) -> bytes:
    if configured:
        return configured.encode()
    row = session.get(InstanceSecret, "cursor")
    if row is None:
        raise RuntimeError("instance secret missing: run `boxoffice migrate`")
    return row.value.encode()
