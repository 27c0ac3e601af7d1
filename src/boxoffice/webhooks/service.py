"""Webhook subscriptions and replays: the rules behind the CLI and the admin API."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db import now
from ..errors import InvalidArgument, NotFound
from .models import OutboxEvent, WebhookDelivery, WebhookSubscription


def check_url(url: str) -> str:
    u = urlparse(url)
    if u.scheme not in ("http", "https") or not u.netloc:
        raise InvalidArgument("url", "must be an http(s) URL", "FORMAT")
    return url


def add(session: Session, site_id: str, url: str, event_types: list[str]) -> WebhookSubscription:
    types = [t.strip() for t in event_types if t.strip()] or ["*"]
    sub = WebhookSubscription(id=str(uuid.uuid4()), site_id=site_id, url=check_url(url), event_types=types, created_date=now())
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
    return session.execute(stmt.where(*conds).execution_options(synchronize_session=False)).rowcount or 0


def wire(sub: WebhookSubscription) -> dict[str, Any]:
    return {"id": sub.id, "siteId": sub.site_id, "url": sub.url, "eventTypes": sub.event_types}
