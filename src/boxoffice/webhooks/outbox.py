"""Writing domain events to the outbox, inside the caller's transaction.

Because the row commits or rolls back with the change itself, an event is never
lost (change committed, event not) nor invented (event committed, change not).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from ..db import now
from ..timefmt import iso
from .models import OutboxEvent


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
    row = OutboxEvent(
        event_id=event_id,
        site_id=site_id,
        event_type=f"{entity_fqdn}_{slug}",
        entity_fqdn=entity_fqdn,
        slug=slug,
        entity_id=entity_id,
        entity_event_sequence=sequence,
        payload=payload,
        identity=identity,
        created_date=t,
    )
    session.add(row)
    return row


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
    event_id = str(uuid.uuid4())
    row = OutboxEvent(
        event_id=event_id,
        site_id=site_id,
        event_type=f"{LEGACY_PREFIX}.{name}",
        entity_fqdn=LEGACY_PREFIX,
        slug=name,
        entity_id=entity_id,
        entity_event_sequence=sequence,
        payload={"id": event_id, "timestamp": iso(t), **data},
        identity=identity,
        created_date=t,
    )
    session.add(row)
    return row
