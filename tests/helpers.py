"""Builders for request bodies used across the tests, and waiting for a server the
test started as a process."""

from __future__ import annotations

import datetime as dt
import socket
import time
from typing import Any

import httpx

TD = "/events-ticket-definitions/v3/ticket-definitions"
EVENTS = "/events/v3/events"


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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


RES = "/events/v1/ticket-reservations"
CHECKOUT = "/events/v1/checkout"


def on_sale_td(api: Any, event_id: str, **over: Any) -> dict:
    """A definition on sale now (no sale period) in a published event."""
    return create_td(api, event_id, **over)


def reserve(api: Any, td_id: str, quantity: int = 1, status: int = 200, **ticket_info: Any) -> Any:
    line: dict = {"ticketDefinitionId": td_id, "quantity": quantity}
    if ticket_info:
        line["ticketInfo"] = ticket_info
    r = api.post(RES, {"ticketReservation": {"tickets": [line]}})
    assert r.status_code == status, r.text
    return r.json().get("ticketReservation") if status == 200 else r


def guest_form(first: str = "Ann", last: str = "Lee", email: str = "ann@example.com") -> dict:
    return {
        "form": {
            "inputValues": [
                {"inputName": "firstName", "value": first},
                {"inputName": "lastName", "value": last},
                {"inputName": "email", "value": email},
            ]
        }
    }


def checkout(api: Any, event_id: str, reservation_id: str, status: int = 200, **extra: Any) -> Any:
    body = {"eventId": event_id, "reservationId": reservation_id, "guests": [guest_form()], **extra}
    r = api.post(CHECKOUT, body)
    assert r.status_code == status, r.text
    return r.json() if status == 200 else r


def sales(api: Any, td_id: str) -> dict:
    r = api.get(f"{TD}/{td_id}", params={"fields": "SALES_DETAILS"})
    assert r.status_code == 200, r.text
    return r.json()["ticketDefinition"]["salesDetails"]


def expire_now(database, reservation_id: str) -> None:
    """Time passes for one reservation: its expiry (and so its definitions' earliest
    hold expiry, which the server keeps as the minimum) is now in the past."""
    from sqlalchemy import select, update

    from boxoffice.orders.models import Order
    from boxoffice.reservations.models import ReservationLine, TicketReservation
    from boxoffice.ticket_definitions.models import TicketDefinition

    past = utcnow() - dt.timedelta(seconds=1)
    with database.session(write=True) as s:
        s.execute(update(TicketReservation).where(TicketReservation.id == reservation_id).values(expiration_date=past))
        td_ids = select(ReservationLine.ticket_definition_id).where(ReservationLine.reservation_id == reservation_id)
        s.execute(update(TicketDefinition).where(TicketDefinition.id.in_(td_ids)).values(next_hold_expiry=past))
        s.execute(update(Order).where(Order.reservation_id == reservation_id, Order.hold_expires.is_not(None)).values(hold_expires=past))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base: str, timeout: float = 60, **httpx_kw: Any) -> None:
    """Until ``{base}/healthz`` answers 200 (a `boxoffice serve` the test started); the
    test fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1, **httpx_kw).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{base}/healthz did not answer within {timeout} s"
        time.sleep(0.05)
