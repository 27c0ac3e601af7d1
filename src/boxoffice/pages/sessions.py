"""Signing in to the pages, without HTTP: a session from an API key or a staff member's
access token (pasted once: only its id is kept), or from a one-time login link
(``boxoffice dashboard-link``); resolving a session token to its
:class:`~boxoffice.identity.Principal` on every request.

Who may sign in where is decided here, once: the dashboard is for the site's owner
(``Principal.manages``); the door scanner also admits staff members, whose events are
then confined as on the API (``staff_members.service.scope``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .. import limits
from ..auth import ApiKey, Site, key_of
from ..db import now
from ..errors import PermissionDenied, Unauthenticated
from ..identity import DEFAULT_PERMISSIONS, IdentityType, Permission, Principal
from .models import LoginLink, PageSession

COOKIE_SEP = "."


class Door(StrEnum):
    """Where a session may be used."""

    DASHBOARD = "dashboard"  # the site's owner
    SCANNER = "scanner"  # the owner or a staff member


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# What the API's check-in asks of a site's own key (tickets/routes.py ``CheckIn``): the
# scanner checks tickets in and reads every ticket of an event, so an owner's key
# narrowed to Read Events may not use it (a staff member's key holds no scope: its
# events are confined by the services instead).
CHECK_IN = (Permission.MANAGE_ORDERS, Permission.MANAGE_EVENTS)


def admits(door: Door, p: Principal) -> bool:
    if door is Door.SCANNER:
        return p.is_staff or (p.manages and p.can(*CHECK_IN))
    return p.manages


def _open(session: Session, site_id: str, principal: Principal, api_key_id: str | None) -> str:
    """A new session row; returns the cookie value ``<site>.<token>``. Expired sessions of
    the site go, and the oldest beyond ``PAGE_SESSIONS_PER_SITE``."""
    t = now()
    session.execute(delete(PageSession).where(PageSession.site_id == site_id, PageSession.expires_date < t))
    old = session.scalars(
        select(PageSession.id).where(PageSession.site_id == site_id)
        .order_by(PageSession.created_date.desc(), PageSession.id).offset(limits.PAGE_SESSIONS_PER_SITE - 1)
    ).all()
    if old:
        session.execute(delete(PageSession).where(PageSession.site_id == site_id, PageSession.id.in_(old)))
    token = secrets.token_urlsafe(32)
    session.add(PageSession(
        site_id=site_id, id=_hash(token), api_key_id=api_key_id,
        identity_type=principal.identity_type.value, identity_id=principal.identity_id,
        permissions=",".join(sorted(p.value for p in principal.permissions)),
        created_date=t, expires_date=t + dt.timedelta(hours=limits.PAGE_SESSION_HOURS),
    ))
    return f"{site_id}{COOKIE_SEP}{token}"


def sign_in_with_key(session: Session, raw_key: str, door: Door) -> str:
    """A session for the holder of a live API key (or staff access token) that may use
    ``door``; returns the cookie value. The key itself is never stored."""
    key = key_of(session, raw_key.strip()) if raw_key and len(raw_key) <= 200 else None
    if key is None:
        raise Unauthenticated("That key is not a valid Boxoffice API key")
    p = _principal_of(key.site_id, key.identity_type, key.identity_id, key.permissions)
    if not admits(door, p):
        if door is Door.SCANNER and p.manages:
            raise PermissionDenied("This key may not check tickets in: it needs Manage Orders or Manage Events")
        who = "a site owner's" if door is Door.DASHBOARD else "a site owner's or a staff member's"
        raise PermissionDenied(f"Sign in with {who} key")
    return _open(session, key.site_id, p, key.id)


def create_login_link(session: Session, site_id: str) -> str:
    """A one-time token for ``site_id``'s dashboard (the operator prints it); the site is
    made if new, as ``keys create`` does."""
    if not site_id or len(site_id) > 64:
        raise ValueError("a site id is 1-64 characters")
    if session.get(Site, site_id) is None:
        session.add(Site(id=site_id, created_date=now()))
        session.flush()
    token = secrets.token_urlsafe(32)
    t = now()
    session.add(LoginLink(site_id=site_id, id=_hash(token), created_date=t,
                          expires_date=t + dt.timedelta(minutes=limits.LOGIN_LINK_MINUTES)))
    return f"{site_id}{COOKIE_SEP}{token}"


def sign_in_with_link(session: Session, link_token: str) -> str:
    """Use a login link once: a site owner's session (identity ``wix-user``, every
    permission). An unknown, used or expired link is refused alike."""
    site_id, _, token = (link_token or "").rpartition(COOKIE_SEP)
    row = session.get(LoginLink, (site_id, _hash(token))) if site_id and token and len(link_token) <= 200 else None
    if row is None or row.used_date is not None or row.expires_date < now():
        raise Unauthenticated("This login link is unknown, used or expired: ask for a new one (boxoffice dashboard-link)")
    row.used_date = now()
    p = Principal(site_id, IdentityType.WIX_USER, f"login-link-{row.id[:12]}", DEFAULT_PERMISSIONS[IdentityType.WIX_USER])
    return _open(session, site_id, p, None)


def resolve(session: Session, cookie: str | None) -> Principal | None:
    """The principal of a live session cookie (not expired, its key not revoked), else None."""
    site_id, _, token = (cookie or "").rpartition(COOKIE_SEP)
    if not site_id or not token or len(cookie or "") > 200:
        return None
    row = session.get(PageSession, (site_id, _hash(token)))
    if row is None or row.expires_date < now():
        return None
    if row.api_key_id is not None:
        key = session.get(ApiKey, row.api_key_id)
        if key is None or key.revoked_date is not None or key.site_id != site_id:
            return None
    return _principal_of(row.site_id, row.identity_type, row.identity_id, row.permissions)


def sign_out(session: Session, cookie: str | None) -> None:
    site_id, _, token = (cookie or "").rpartition(COOKIE_SEP)
    if site_id and token:
        session.execute(delete(PageSession).where(PageSession.site_id == site_id, PageSession.id == _hash(token)))


def _principal_of(site_id: str, identity_type: str, identity_id: str, permissions: str) -> Principal:
    return Principal(site_id, IdentityType(identity_type), identity_id,
                     frozenset(Permission(p) for p in permissions.split(",") if p))
