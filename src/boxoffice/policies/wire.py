"""Policies v2 on the wire and the bodies of their domain events. Presentation only."""

from __future__ import annotations

from typing import Any

from ..timefmt import iso
from .models import Policy


def to_wire(p: Any) -> dict[str, Any]:
    """A policy (ORM entity or read-only row) as the SDK's ``Policy``."""
    return {
        "id": p.id,
        "revision": str(p.revision),
        "createdDate": iso(p.created_date),
        "updatedDate": iso(p.updated_date),
        "name": p.name,
        "body": p.body,
        "eventId": p.event_id,
    }


def created(p: Policy) -> dict[str, Any]:
    return {"createdEvent": {"entity": to_wire(p)}}


def updated(p: Policy) -> dict[str, Any]:
    return {"updatedEvent": {"currentEntity": to_wire(p)}}


def deleted(p: Policy) -> dict[str, Any]:
    return {"deletedEvent": {"deletedEntity": to_wire(p)}}
