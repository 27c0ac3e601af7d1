"""Builders for request bodies used across the tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

TD = "/events-ticket-definitions/v3/ticket-definitions"
EVENTS = "/events/v3/events"


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def event_body(title: str = "Leather Workshop", initial_type: str = "TICKETING", draft: bool = True, **extra: Any) -> dict:
    start = utcnow() + dt.timedelta(days=30)
    ev = {
        "title": title,
        "dateAndTimeSettings": {
            "startDate": iso(start),
            "endDate": iso(start + dt.timedelta(hours=2)),
            "timeZoneId": "UTC",
        },
        "location": {"type": "VENUE", "name": "Workshop", "address": {"formattedAddress": "1 Main St"}},
        "registration": {"initialType": initial_type},
        **extra,
    }
    return {"event": ev, "draft": draft}


def create_event(api: Any, **kw: Any) -> dict:
    r = api.post(EVENTS, event_body(**kw))
    assert r.status_code == 200, r.text
    return r.json()["event"]


def td_body(event_id: str, **over: Any) -> dict:
    td = {
        "eventId": event_id,
        "name": "Leather Workshop",
        "initialLimit": 3,
        "pricingMethod": {"fixedPrice": {"value": "200", "currency": "USD"}},
        "feeType": "FEE_INCLUDED",
    }
    td.update(over)
    return {"ticketDefinition": {k: v for k, v in td.items() if v is not None}}


def create_td(api: Any, event_id: str, fields: list[str] | None = None, **over: Any) -> dict:
    body = td_body(event_id, **over)
    if fields:
        body["fields"] = fields
    r = api.post(TD, body)
    assert r.status_code == 200, r.text
    return r.json()["ticketDefinition"]
