"""Writing domain events to the outbox, inside the caller's transaction.

Because the row commits or rolls back with the change itself, an event is never
lost (change committed, event not) nor invented (event committed, change not).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import now
from ..timefmt import iso
from .models import OutboxEvent, WebhookDelivery, WebhookSubscription


def record(
    session: Session,
    *,
    site_id: str,
    identity: dict[str, str],
    entity_fqdn: str,
    slug: str,
    entity_id: str,
    sequence: int,
    body: dict[str, Any],
) -> OutboxEvent:
    """Append one domain event; ``body`` is one of createdEvent/updatedEvent/deletedEvent/actionEvent."""
    t = now()
    event_id = str(uuid.uuid4())
    payload = {
        "id": event_id,
        "entityFqdn": entity_fqdn,
        "slug": slug,
        "entityId": entity_id,
        **body,
        "eventTime": iso(t),
        "triggeredByAnonymizeRequest": False,
        "entityEventSequence": str(sequence),
    }
    return _append(session, site_id, identity, f"{entity_fqdn}_{slug}", entity_fqdn, slug, entity_id, sequence, payload, t)


def _append(
    session: Session,
    site_id: str,
    identity: dict[str, str],
    event_type: str,
    entity_fqdn: str,
    slug: str,
    entity_id: str,
    sequence: int,
    payload: dict[str, Any],
    t: Any,
) -> OutboxEvent:
    """The one place an outbox row (and its deliveries) is written."""
    row = OutboxEvent(
        event_id=payload["id"],
        site_id=site_id,
        event_type=event_type,
        entity_fqdn=entity_fqdn,
        slug=slug,
        entity_id=entity_id,
        entity_event_sequence=sequence,
        payload=payload,
        identity=identity,
        created_date=t,
    )
    session.add(row)
    fan_out(session, row)
    return row


def fan_out(session: Session, row: OutboxEvent) -> None:
    """One delivery per subscription that wants this event, in the event's transaction."""
    subs = session.execute(
        select(WebhookSubscription.id, WebhookSubscription.event_types).where(
            WebhookSubscription.site_id == row.site_id
        )
    ).all()
    wanted = [sid for sid, types in subs if "*" in types or row.event_type in types]
    if not wanted:
        return
    session.flush()  # the event's position
    for sid in wanted:
        session.add(
            WebhookDelivery(
                subscription_id=sid,
                outbox_position=row.position,
                entity_id=row.entity_id,
                status="PENDING",
                attempts=0,
                next_attempt_date=row.created_date,
                created_date=row.created_date,
            )
        )


LEGACY_PREFIX = "wix.events.ticketing.events"


def record_legacy(
    session: Session,
    *,
    site_id: str,
    identity: dict[str, str],
    name: str,
    entity_id: str,
    sequence: int,
    data: dict[str, Any],
) -> OutboxEvent:
    """Append a legacy (non-domain) event such as ``OrderConfirmed``: its payload is the
    data itself. It carries ``id`` too, since legacy receivers get no envelope id to
    drop duplicates by."""
    t = now()
    payload = {"id": str(uuid.uuid4()), "timestamp": iso(t), **data}
    return _append(session, site_id, identity, f"{LEGACY_PREFIX}.{name}", LEGACY_PREFIX, name, entity_id, sequence, payload, t)
