"""The outbox: domain events written inside the caller's transaction, and with each one
delivery per subscription that wants it. Every slice writes here; the webhook worker
(``webhooks/``) delivers from here and imports no slice.

Because the row commits or rolls back with the change itself, an event is never
lost (change committed, event not) nor invented (event committed, change not).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from ..db import after_commit, insert_rows, notify, now
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
) -> None:
    """Append one domain event; ``body`` is one of createdEvent/updatedEvent/deletedEvent/actionEvent."""
    record_many(session, [Change(site_id, identity, entity_fqdn, slug, entity_id, sequence, body)])


@dataclass
class Change:
    """One domain event to append (the arguments of :func:`record`)."""

    site_id: str
    identity: dict[str, str]
    entity_fqdn: str
    slug: str
    entity_id: str
    sequence: int
    body: dict[str, Any]


def record_many(session: Session, changes: list[Change]) -> None:
    """Append several domain events with one INSERT (and one subscription lookup)."""
    t = now()
    created = iso(t)
    rows = []
    for c in changes:
        payload = {
            "id": str(uuid.uuid4()),
            "entityFqdn": c.entity_fqdn,
            "slug": c.slug,
            "entityId": c.entity_id,
            **c.body,
            "eventTime": created,
            "triggeredByAnonymizeRequest": False,
            "entityEventSequence": str(c.sequence),
        }
        rows.append(_row(c.site_id, c.identity, f"{c.entity_fqdn}_{c.slug}", c.entity_fqdn, c.slug, c.entity_id, c.sequence, payload, t))
    _append(session, rows)


def _row(
    site_id: str,
    identity: dict[str, str],
    event_type: str,
    entity_fqdn: str,
    slug: str,
    entity_id: str,
    sequence: int,
    payload: dict[str, Any],
    t: Any,
) -> dict[str, Any]:
    return {
        "event_id": payload["id"],
        "site_id": site_id,
        "event_type": event_type,
        "entity_fqdn": entity_fqdn,
        "slug": slug,
        "entity_id": entity_id,
        "entity_event_sequence": sequence,
        "payload": payload,
        "identity": identity,
        "created_date": t,
    }


_SUBS = WebhookSubscription.__table__.c
_SUBSCRIPTIONS = select(_SUBS.site_id, _SUBS.id, _SUBS.event_types).where(
    _SUBS.site_id.in_(bindparam("sites", expanding=True))
)


def _append(session: Session, rows: list[dict[str, Any]]) -> None:
    """The one place outbox rows (and their deliveries) are written: one delivery per
    subscription that wants the event, in the event's own transaction."""
    subs = session.connection().execute(_SUBSCRIPTIONS, {"sites": sorted({r["site_id"] for r in rows})}).all()
    wanted = [
        [sid for site, sid, types in subs if site == r["site_id"] and ("*" in types or r["event_type"] in types)]
        for r in rows
    ]
    if not any(wanted):
        insert_rows(session, OutboxEvent, rows)
        return
    _announce(session)
    table = cast(Table, OutboxEvent.__table__)
    positions = session.scalars(table.insert().returning(table.c.position, sort_by_parameter_order=True), rows).all()
    insert_rows(
        session,
        WebhookDelivery,
        [
            {
                "subscription_id": sid,
                "outbox_position": position,
                "entity_id": r["entity_id"],
                "status": "PENDING",
                "attempts": 0,
                "next_attempt_date": r["created_date"],
                "created_date": r["created_date"],
            }
            for position, r, sids in zip(positions, rows, wanted, strict=True)
            for sid in sids
        ],
    )


# Deliveries were committed: wakes idle workers. In this process through the event
# (set after COMMIT); in the others through PostgreSQL NOTIFY on CHANNEL.
CHANNEL = "boxoffice_outbox"
committed = threading.Event()


def wake(_: set[str]) -> None:
    """The :class:`~boxoffice.db.Listener` handler for CHANNEL."""
    committed.set()


def _announce(session: Session) -> None:
    """Deliveries were written: wake this process's worker once the unit commits, and
    (PostgreSQL) the other processes' through NOTIFY, which is sent at COMMIT too."""
    if session.info.get("outbox_deliveries"):
        return
    session.info["outbox_deliveries"] = True
    after_commit(session, "outbox.wake", committed.set)
    if session.get_bind().dialect.name == "postgresql":
        notify(session, CHANNEL)


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
    prefix: str = LEGACY_PREFIX,
) -> None:
    """Append a legacy (non-domain) event such as ``OrderConfirmed``: its payload is the
    data itself. It carries ``id`` too, since legacy receivers get no envelope id to
    drop duplicates by. ``prefix``: the event type's namespace (the forms' EventUpdated
    is ``wix.events.events``)."""
    t = now()
    payload = {"id": str(uuid.uuid4()), "timestamp": iso(t), **data}
    _append(session, [_row(site_id, identity, f"{prefix}.{name}", prefix, name, entity_id, sequence, payload, t)])
