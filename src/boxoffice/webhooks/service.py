"""Webhook subscriptions and replays: the rules behind the CLI and the admin API."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from ..db import now
from ..errors import InvalidArgument, NotFound
from ..outbox.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from . import event_types as known_types
from . import urlpolicy


def check_url(url: str, *, allow_private: bool) -> str:
    """The URL policy (urlpolicy.py) as a Wix 400. It may resolve the host: call it
    before opening a write transaction, never inside one."""
    try:
        return urlpolicy.check_url(url, allow_private=allow_private)
    except urlpolicy.Refused as e:
        raise InvalidArgument("url", e.reason, "FORMAT") from None


def add(
    session: Session,
    site_id: str,
    url: str,
    event_types: list[str],
    *,
    allow_private: bool = False,
    max_per_site: int | None = None,
) -> WebhookSubscription:
    """Subscribe ``url``. Only the URL's form is checked here (no DNS in a transaction):
    a caller acting for a tenant runs :func:`check_url` first, as the admin API does.
    ``allow_private`` is the operator's word (`boxoffice webhooks add`, tests) that this
    subscription may be delivered to non-public addresses; without it the worker
    refuses them at send time, whatever the URL said when it was added. Each event
    type must be one Boxoffice sends (event_types.py) or ``*``."""
    try:
        urlpolicy.parse(url)
    except urlpolicy.Refused as e:
        raise InvalidArgument("url", e.reason, "FORMAT") from None
    try:
        types = known_types.check(event_types)
    except known_types.UnknownEventType as e:
        raise InvalidArgument("eventTypes", str(e)) from None
    if max_per_site is not None:
        n = session.scalar(select(func.count()).select_from(WebhookSubscription).where(WebhookSubscription.site_id == site_id))
        if (n or 0) >= max_per_site:
            raise InvalidArgument("webhook", f"a site has at most {max_per_site} webhook subscriptions; remove one first", "MAX")
    sub = WebhookSubscription(
        id=str(uuid.uuid4()), site_id=site_id, url=url, event_types=types, allow_private=allow_private, created_date=now()
    )
    session.add(sub)
    session.flush()
    return sub


def list_(session: Session, site_id: str | None = None) -> list[WebhookSubscription]:
    stmt = select(WebhookSubscription).order_by(WebhookSubscription.created_date)
    if site_id:
        stmt = stmt.where(WebhookSubscription.site_id == site_id)
    return list(session.scalars(stmt))


def remove(session: Session, site_id: str | None, sub_id: str) -> None:
    sub = session.get(WebhookSubscription, sub_id)
    if sub is None or (site_id and sub.site_id != site_id):
        raise NotFound(f"Webhook subscription {sub_id} not found", code="WEBHOOK_NOT_FOUND")
    session.delete(sub)


def replay(session: Session, *, site_id: str | None = None, dead_only: bool = True, event_id: str | None = None) -> int:
    """Send deliveries again: the dead ones (default), or every delivery of one event."""
    stmt = update(WebhookDelivery).values(status="PENDING", attempts=0, next_attempt_date=now(), lease_until=None)
    conds = []
    if dead_only and not event_id:
        conds.append(WebhookDelivery.status == "DEAD")
    if event_id:
        pos = select(OutboxEvent.position).where(OutboxEvent.event_id == event_id).scalar_subquery()
        conds.append(WebhookDelivery.outbox_position == pos)
    if site_id:
        subs = select(WebhookSubscription.id).where(WebhookSubscription.site_id == site_id)
        conds.append(WebhookDelivery.subscription_id.in_(subs))
    result = cast(CursorResult[Any], session.execute(stmt.where(*conds).execution_options(synchronize_session=False)))
    return result.rowcount or 0


# `boxoffice webhooks deliveries --status`: PENDING is every delivery still to be made
# (FAILING among them: tried at least once), DEAD the dead letters.
DELIVERY_STATES = ("pending", "failing", "dead")


@dataclass
class DeliveryView:
    """One undelivered delivery, as an operator sees it (never its body)."""

    id: int
    site_id: str
    subscription_id: str
    event_id: str
    event_type: str
    state: str  # pending | failing | dead
    attempts: int
    next_attempt_date: dt.datetime | None  # None: dead, never tried again unless replayed
    last_error: str | None
    created_date: dt.datetime


def deliveries(
    session: Session, *, site_id: str | None = None, state: str | None = None, limit: int = 100
) -> list[DeliveryView]:
    """Undelivered deliveries, oldest first: all of them, or those in ``state`` (one of
    :data:`DELIVERY_STATES`), of one site or every site; at most ``limit``."""
    D, E, S = WebhookDelivery, OutboxEvent, WebhookSubscription
    if state is not None and state not in DELIVERY_STATES:
        raise InvalidArgument("status", f"must be one of {', '.join(DELIVERY_STATES)}")
    conds: list[Any] = []
    if state == "pending":
        conds.append(D.status == "PENDING")
    elif state == "failing":
        conds += [D.status == "PENDING", D.attempts > 0]
    elif state == "dead":
        conds.append(D.status == "DEAD")
    else:
        conds.append(D.status.in_(("PENDING", "DEAD")))
    if site_id:
        conds.append(S.site_id == site_id)
    rows = session.execute(
        select(D.id, S.site_id, D.subscription_id, E.event_id, E.event_type, D.status, D.attempts,
               D.next_attempt_date, D.last_error, D.created_date)
        .join(S, S.id == D.subscription_id)
        .join(E, E.position == D.outbox_position)
        .where(*conds)
        .order_by(D.id)
        .limit(limit)
    ).all()
    return [
        DeliveryView(
            id=did, site_id=site, subscription_id=sub, event_id=event_id, event_type=event_type,
            state="dead" if status == "DEAD" else ("failing" if attempts else "pending"), attempts=attempts,
            next_attempt_date=None if status == "DEAD" else next_at, last_error=error, created_date=created,
        )
        for did, site, sub, event_id, event_type, status, attempts, next_at, error, created in rows
    ]


def wire(sub: WebhookSubscription) -> dict[str, Any]:
    return {"id": sub.id, "siteId": sub.site_id, "url": sub.url, "eventTypes": sub.event_types}
