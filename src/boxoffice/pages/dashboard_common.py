"""What the dashboard's pages share: the API's permission check for a signed-in owner,
form values turned into the API's request models (a refusal is the API's 400, never a
500), dates between an event's time zone and UTC, and one event as the API presents it.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from ..errors import InvalidArgument, PermissionDenied
from ..events import service as events
from ..events import wire as events_wire
from ..events.models import Event
from ..events.routes import links as event_links
from ..identity import Permission, Principal

M = TypeVar("M", bound=BaseModel)

# Fieldsets the event's pages show (DASHBOARD adds the sales summaries).
EVENT_FIELDS = ["DETAILS", "TEXTS", "REGISTRATION", "DASHBOARD"]


def need(principal: Principal, *any_of: Permission) -> None:
    """The API's ``require(...)`` for a page: the caller holds one of these permissions
    (a key's permissions may be narrower than its identity's)."""
    if not principal.can(*any_of):
        names = " or ".join(f'"{p.value}"' for p in any_of)
        raise PermissionDenied(f"This needs the {names} permission")


def parse(model: type[M], data: dict[str, Any], where: str = "") -> M:
    """``data`` as the API's request model; what it refuses is the API's 400 naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err.get("loc", ())) or where or "form"
        raise InvalidArgument(loc, str(err.get("msg", "is invalid"))) from None


def zone(name: str, where: str) -> zoneinfo.ZoneInfo:
    name = (name or "").strip() or "UTC"
    events.check_time_zone(name, where)
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidArgument(where, f'"{name}" is not a time zone of the TZ database', "FORMAT") from None


def local_to_utc(value: str, tz: str, where: str) -> dt.datetime | None:
    """A ``datetime-local`` field's value (wall time in ``tz``) as an aware UTC time; empty: None."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        naive = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(where, "must be a date and time such as 2030-05-01T19:30", "FORMAT") from None
    if naive.tzinfo is not None:
        raise InvalidArgument(where, "must be a local date and time, without an offset", "FORMAT")
    return naive.replace(tzinfo=zone(tz, "timeZoneId")).astimezone(dt.UTC)


def iso(t: dt.datetime | None) -> str | None:
    return None if t is None else t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def utc_to_local(value: str | None, tz: str | None) -> str:
    """The API's UTC timestamp as a ``datetime-local`` field's value in ``tz``."""
    if not value:
        return ""
    t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t.astimezone(events_wire.zone(tz)).strftime("%Y-%m-%dT%H:%M")


def get_event(session: Session, principal: Principal, event_id: str) -> Event:
    """The site's event (another site's is the API's 404)."""
    return events.get(session, principal, event_id)


def present_event(session: Session, principal: Principal, e: Event, request: Request) -> dict[str, Any]:
    return events.present_one(session, principal, e, EVENT_FIELDS, event_links(request))


def time_zone_of(event: dict[str, Any]) -> str:
    return str((event.get("dateAndTimeSettings") or {}).get("timeZoneId") or "UTC")
