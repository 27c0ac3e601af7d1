"""Schedule items on the wire: a row (one version of an item) -> the SDK's ScheduleItem."""

from __future__ import annotations

from typing import Any

from ..timefmt import iso
from .models import ScheduleItem


def to_wire(i: ScheduleItem) -> dict[str, Any]:
    return {
        "id": i.id,
        "hidden": i.hidden,
        "name": i.name,
        "timeSlot": {"start": iso(i.start), "end": iso(i.end), "timeZoneId": i.time_zone_id},
        "description": i.description,
        "stageName": i.stage_name,
        "tags": list(i.tags),
        "status": i.status,
        "createdDate": iso(i.created_date),
        "updatedDate": iso(i.updated_date),
        "eventId": i.event_id,
        "draft": i.draft,
    }
