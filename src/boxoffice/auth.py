"""API keys: sites, keys and the instance's own secrets (tables), and resolving a key
to its :class:`~boxoffice.identity.Principal` (briefly cached).

A request carries ``Authorization: <key>`` (``Bearer <key>`` accepted too) and
``wix-site-id``, exactly as the SDK's ``ApiKeyStrategy`` sends them. A key belongs to
one site and one identity; what it may do is its set of Wix permission scopes.
Routes declare what they need with ``api.deps.require`` (after Netflix Dispatch's
declarative permission dependencies), so the rule for a method is read at its route.

Operators list keys (``boxoffice keys list``: never the secret, which is not kept) and
revoke them (``boxoffice keys revoke``): a revoked key's row stays, marked, so that the
list still shows it; it resolves to nothing from then on. A process that resolved the
key shortly before keeps trusting it for at most ``auth_cache_seconds`` (its cache);
the revoking process forgets it at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKey, String, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base, UTCDateTime, after_commit, now
from .errors import NotFound
from .identity import DEFAULT_PERMISSIONS, IdentityType, Permission, Principal

log = logging.getLogger("boxoffice.auth")

# A key's last use is written when a process resolves it (a cache miss) and the recorded
# one is older than this: at most one small write per key per this many seconds and
# process, none on the hot path. ``keys list`` shows it to within this.
LAST_USED_RESOLUTION_SECONDS = 300


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
    # when a process last resolved it (to within LAST_USED_RESOLUTION_SECONDS); None: never
    last_used_date: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)
    # set by `boxoffice keys revoke`: the key resolves to nothing from then on
    revoked_date: Mapped[Any] = mapped_column(UTCDateTime(), nullable=True)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(
    session: Session, site_id: str, identity: IdentityType, permissions: frozenset[Permission] | None = None
) -> str:
    """Create the site if new and a key for it; returns the raw key (only its hash is kept).
    (A ``staff`` key made here belongs to no staff member: every call refuses it, 401.
    Login Staff Member makes the real ones.)"""
    return issue_key(session, site_id, identity, str(uuid.uuid4()), permissions)[1]


def issue_key(
    session: Session,
    site_id: str,
    identity: IdentityType,
    identity_id: str,
    permissions: frozenset[Permission] | None = None,
) -> tuple[ApiKey, str]:
    """A new key of ``identity_id`` (the site is made if new): its row and the raw key,
    which is shown once; only its hash is kept."""
    if session.get(Site, site_id) is None:
        session.add(Site(id=site_id, created_date=now()))
        session.flush()
    raw = "bo_" + secrets.token_urlsafe(32)
    perms = DEFAULT_PERMISSIONS[identity] if permissions is None else permissions
    row = ApiKey(
        id=str(uuid.uuid4()),
        site_id=site_id,
        key_hash=_hash(raw),
        identity_type=identity.value,
        identity_id=identity_id,
        permissions=",".join(sorted(p.value for p in perms)),
        created_date=now(),
    )
    session.add(row)
    return row, raw


def key_of(session: Session, raw_key: str) -> ApiKey | None:
    """The key row of a raw key, if it exists and is not revoked (read in the caller's
    unit, never cached)."""
    return session.scalars(
        select(ApiKey).where(ApiKey.key_hash == _hash(raw_key), ApiKey.revoked_date.is_(None))
    ).first()


def list_keys(session: Session, site_id: str | None = None) -> list[ApiKey]:
    """Every key (of one site), oldest first, revoked ones included."""
    stmt = select(ApiKey).order_by(ApiKey.site_id, ApiKey.created_date, ApiKey.id)
    if site_id:
        stmt = stmt.where(ApiKey.site_id == site_id)
    return list(session.scalars(stmt))


def revoke_key(session: Session, key_id: str) -> tuple[ApiKey, bool]:
    """Revoke one key by its id, in the caller's unit: (its row, whether it was live
    until now). Once the unit commits this process forgets it at once; every other
    process stops accepting it within its ``auth_cache_seconds``, when its cached
    entry runs out and the database answers that the key is revoked. Unknown id:
    :class:`~boxoffice.errors.NotFound`."""
    row = session.get(ApiKey, key_id) if key_id else None
    if row is None:
        raise NotFound(f"API key {key_id} not found", code="API_KEY_NOT_FOUND")
    if row.revoked_date is not None:
        return row, False
    row.revoked_date = now()
    h = row.key_hash
    after_commit(session, f"auth.revoke:{h}", lambda: _cache.forget([h]))
    return row, True


def revoke_keys(session: Session, site_id: str, identity: IdentityType, identity_id: str, keep_newest: int = 0) -> int:
    """Delete an identity's keys in the caller's unit (all, or all but its ``keep_newest``
    newest) and, once the unit commits, forget them in this process's key cache; returns
    how many went. Another process's cache may still resolve such a key for up to
    ``auth_cache_seconds``: whatever a revoked identity may do must also check its
    identity in the database (staff do: ``staff_members.service.scope``)."""
    rows = list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.site_id == site_id, ApiKey.identity_type == identity.value, ApiKey.identity_id == identity_id,
                   ApiKey.revoked_date.is_(None))  # (an operator's revoked ones stay, listed as revoked)
            .order_by(ApiKey.created_date.desc(), ApiKey.id)
        )
    )
    gone = rows[keep_newest:]
    for row in gone:
        session.delete(row)
    if gone:
        hashes = [row.key_hash for row in gone]
        after_commit(session, f"auth.revoke:{hashes[0]}", lambda: _cache.forget(hashes))
    return len(gone)


class _KeyCache:
    """Resolved keys, kept briefly so a hot path does not hit the database per call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, Principal]] = {}
        # hashes forgotten (revoked) here: a lookup that read the key just before its
        # revocation committed must not put it back for another ttl (they never resolve again)
        self._gone: dict[str, None] = {}

    def get(self, h: str, ttl: float) -> Principal | None:
        item = self._items.get(h)
        if item and time.monotonic() - item[0] < ttl:
            return item[1]
        return None

    def put(self, h: str, p: Principal) -> None:
        with self._lock:
            if h in self._gone:
                return
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[h] = (time.monotonic(), p)

    def forget(self, hashes: list[str]) -> None:
        with self._lock:
            for h in hashes:
                self._items.pop(h, None)
                self._gone[h] = None
            while len(self._gone) > 10_000:  # oldest first
                del self._gone[next(iter(self._gone))]


_cache = _KeyCache()


def cached(raw_key: str, ttl: float) -> tuple[str, Principal | None]:
    """(the key's hash, its principal if resolved within ``ttl`` seconds)."""
    h = _hash(raw_key)
    return h, _cache.get(h, ttl)


def remember(h: str, principal: Principal) -> None:
    _cache.put(h, principal)


@dataclass
class _Found:
    id: str
    principal: Principal
    last_used: dt.datetime | None


def lookup(db: Any, h: str) -> Principal | None:
    """The principal of the live key whose hash is ``h`` (one read unit), None if unknown
    or revoked. Its last use is written (in a unit of its own) when the recorded one is
    older than ``LAST_USED_RESOLUTION_SECONDS``; that bookkeeping never fails the call."""

    def read(s: Session) -> _Found | None:
        key = s.scalars(select(ApiKey).where(ApiKey.key_hash == h, ApiKey.revoked_date.is_(None))).first()
        p = _principal_of(key)
        return None if key is None or p is None else _Found(key.id, p, key.last_used_date)

    found = db.read(read)
    if found is None:
        return None
    t = now()
    stale = t - dt.timedelta(seconds=LAST_USED_RESOLUTION_SECONDS)
    if found.last_used is None or found.last_used < stale:
        try:
            db.write(lambda s: s.execute(
                update(ApiKey)
                .where(ApiKey.id == found.id, or_(ApiKey.last_used_date.is_(None), ApiKey.last_used_date < stale))
                .values(last_used_date=t)
                .execution_options(synchronize_session=False)
            ))
        except Exception:  # noqa: BLE001 - bookkeeping only; the key itself resolved
            log.warning("could not record the last use of API key %s", found.id, exc_info=True)
    return found.principal


def _principal_of(key: ApiKey | None) -> Principal | None:
    if key is None:
        return None
    return Principal(
        site_id=key.site_id,
        identity_type=IdentityType(key.identity_type),
        identity_id=key.identity_id,
        permissions=frozenset(Permission(p) for p in key.permissions.split(",") if p),
    )


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
