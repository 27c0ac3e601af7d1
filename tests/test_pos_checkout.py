"""Door sales and the rest of CheckoutService (issue 12 §4): Pos Checkout, Update Checkout,
and the legacy Create/Cancel Reservation over the reservations slice. Every rule and
refusal on SQLite and PostgreSQL, seat counts exact after a door sale, and a race of door
sales and online reservations for the last seats against a real multi-process server."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import func, select

from boxoffice.auth import create_api_key
from boxoffice.db import Database
from boxoffice.identity import IdentityType, Permission
from boxoffice.mail.models import MailMessage
from boxoffice.migrations import upgrade
from boxoffice.orders import service as orders_service
from boxoffice.orders.models import Order
from boxoffice.outbox.models import OutboxEvent
from boxoffice.reservations.models import ReservationLine, TicketReservation
from boxoffice.ticket_definitions.models import TicketDefinition
from boxoffice.tickets.models import Ticket
from tests.conftest import PG_DB, ROOT, Api, make_pg_database, new_id
from tests.helpers import (
    EVENTS,
    RES,
    TD,
    checkout,
    create_event,
    create_td,
    event_body,
    expire_now,
    free_port,
    guest_form,
    reserve,
    sales,
    td_body,
    wait_healthy,
)

POS = "/events/v1/pos-checkout"
POS_ALT = "/_api/events/v1/pos-checkout"
LEGACY = "/events/v1/checkout/reservations"
LEGACY_ALT = "/_api/events/v1/checkout/reservations"
UPDATE = "/events/v1/checkout"
SM = "/events/v1/staff-members"
GUID = "3f2c1e9a-5b7d-4c8e-9f10-123456789abc"


def code(r) -> str:
    return r.json()["details"]["applicationError"]["code"]


def violation(r) -> dict:
    return r.json()["details"]["validationError"]["fieldViolations"][0]


def order_events(database, order_number: str) -> list[str]:
    with database.session() as s:
        rows = s.scalars(select(OutboxEvent).order_by(OutboxEvent.position)).all()
        return [o.slug for o in rows if o.payload.get("orderNumber") == order_number]


def staff(api, permissions=("SELL_TICKETS",), events=None) -> tuple[dict, Api]:
    """A staff member (all events, or the given ones), logged in: its record and its key."""
    body = {"name": "Door Dan", "permissions": list(permissions)}
    body.update({"specificEvents": {"events": events}} if events else {"allEvents": {}})
    r = api.post(SM, {"staffMember": body})
    assert r.status_code == 200, r.text
    s = r.json()["staffMember"]
    token = unquote(s["loginLink"].split("#loginToken=", 1)[1])
    login = api.client.post(f"{SM}/login", json={"loginToken": token})
    assert login.status_code == 200, login.text
    return s, Api(api.client, login.json()["accessToken"], api.site)


def legacy_reserve(caller, event_id: str, td_id: str, quantity: int = 1, status: int = 200, **extra):
    body = {"eventId": event_id, "ticketQuantities": [{"ticketDefinitionId": td_id, "quantity": quantity}], **extra}
    r = caller.post(LEGACY, body)
    assert r.status_code == status, r.text
    return r.json() if status == 200 else r


def pos(caller, event_id: str, reservation_id: str, status: int = 200, **extra):
    r = caller.post(POS, {"eventId": event_id, "reservationId": reservation_id, **extra})
    assert r.status_code == status, r.text
    return r.json() if status == 200 else r


@pytest.fixture
def door(api):
    """A published event with a paid definition of 5 seats (20.00, fee included)."""
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=5, pricingMethod={"fixedPrice": {"value": "20", "currency": "USD"}})
    return ev, td


# --- Pos Checkout -------------------------------------------------------------------------


def test_the_organiser_sells_at_the_door_paid_at_once(api, database, door):
    ev, td = door
    r = reserve(api, td["id"], 2)
    assert sales(api, td["id"]) == {"unsoldCount": 3, "soldCount": 0, "reservedCount": 2, "soldOut": False}
    body = pos(api, ev["id"], r["id"], paymentDetailsId=GUID, buyer={"firstName": "Walk", "lastName": "In", "email": "walk@example.com"})
    o = body["order"]
    assert o["status"] == "PAID" and o["confirmed"] is True and o["channel"] == "OFFLINE_POS"
    assert o["method"] == "card" and o["paymentDetails"] == {"transaction": {"transactionId": GUID, "method": "card"}}
    assert (o["firstName"], o["lastName"], o["email"], o["ticketsQuantity"]) == ("Walk", "In", "walk@example.com", 2)
    assert o["totalPrice"]["value"] == "40.00" and o["reservationId"] == r["id"]
    assert [t["channel"] for t in o["tickets"]] == ["OFFLINE_POS"] * 2
    assert all(t["orderStatus"] == "PAID" and "checkIn" not in t for t in o["tickets"]) and o["fullyCheckedIn"] is False
    assert body["expires"] is None
    [line] = body["reservations"]
    assert line["quantity"] == 2 and line["ticket"]["id"] == td["id"] and line["ticket"]["price"]["value"] == "20.00"
    # the definition as it is now: sold, not reserved
    assert (line["ticket"]["dashboard"]["ticketsSold"], line["ticket"]["dashboard"]["ticketsReserved"]) == (2, 0)
    assert line["ticket"]["saleStatus"] == "SALE_STARTED" and line["ticket"]["pricing"]["pricingType"] == "STANDARD"
    # seats exact: the held seats became sold seats, once
    assert sales(api, td["id"]) == {"unsoldCount": 3, "soldCount": 2, "reservedCount": 0, "soldOut": False}
    assert api.get(f"{RES}/{r['id']}").json()["ticketReservation"]["status"] == "CONFIRMED"
    assert order_events(database, o["orderNumber"]) == ["OrderConfirmed"]
    with database.session() as s:
        mail = s.scalars(select(MailMessage)).all()
        assert [(m.recipient, m.kind) for m in mail] == [("walk@example.com", "confirmation")]
        row = s.scalars(select(Order).where(Order.order_number == o["orderNumber"])).one()
        assert (row.payment_provider, row.payment_id, row.hold_expires) == ("pos", GUID, None)  # refunded by hand
    # Get Order and the guest list show the channel
    got = api.get(f"/events/v1/events/{ev['id']}/orders/{o['orderNumber']}").json()["order"]
    assert got["channel"] == "OFFLINE_POS" and got["status"] == "PAID"
    # an online order is ONLINE
    r2 = reserve(api, td["id"], 1)
    online = checkout(api, ev["id"], r2["id"], options={"payInPerson": True})["order"]
    assert online["channel"] == "ONLINE" and online["tickets"][0]["channel"] == "ONLINE"


def test_cash_free_and_anonymous_door_sales(api, database, door):
    ev, td = door
    r = reserve(api, td["id"], 1)
    o = pos(api, ev["id"], r["id"], paymentMethod="CASH")["order"]
    assert (o["status"], o["method"], o["paymentDetails"], o["email"]) == ("PAID", "cash", {}, "")
    # without a paymentDetailsId and a method: cash; a card payment named as such
    o2 = pos(api, ev["id"], reserve(api, td["id"], 1)["id"])["order"]
    assert o2["method"] == "cash" and o2["contactId"] != o["contactId"]  # two walk-ins, two contacts
    o3 = pos(api, ev["id"], reserve(api, td["id"], 1)["id"], paymentMethod="CARD")["order"]
    assert o3["method"] == "card" and o3["paymentDetails"] == {}
    # a free ticket: FREE, no payment; a payment for it is refused
    free = create_td(api, ev["id"], name="Free", initialLimit=5, pricingMethod={"fixedPrice": {"value": "0", "currency": "USD"}})
    rf = reserve(api, free["id"], 2)
    assert violation(pos(api, ev["id"], rf["id"], 400, paymentDetailsId=GUID))["field"] == "paymentDetailsId"
    of = pos(api, ev["id"], rf["id"])["order"]
    assert of["status"] == "FREE" and of["method"] is None and of["channel"] == "OFFLINE_POS"
    assert sales(api, free["id"])["soldCount"] == 2
    assert sales(api, td["id"]) == {"unsoldCount": 2, "soldCount": 3, "reservedCount": 0, "soldOut": False}


def test_a_staff_member_sells_and_checks_in_before_the_confirmation(api, database, door, monkeypatch):
    ev, td = door
    me, seller = staff(api, ("SELL_TICKETS", "CHECK_IN_GUESTS"), events=[ev["id"]])
    seen: list[list] = []

    def hook(session, order):  # what the confirmation (mail) hook sees of the tickets
        seen.append([t.checked_in_date is not None for t in session.scalars(select(Ticket).where(Ticket.order_id == order.id))])

    monkeypatch.setattr(orders_service.hooks, "confirmed", [*orders_service.hooks.confirmed, hook])
    made = legacy_reserve(seller, ev["id"], td["id"], 2)
    body = pos(seller, ev["id"], made["id"], checkIn=True, buyer={"firstName": "Gus", "lastName": "Door", "email": "gus@example.com"})
    o = body["order"]
    assert o["status"] == "PAID" and o["fullyCheckedIn"] is True and o["channel"] == "OFFLINE_POS"
    assert all(t["checkIn"]["created"] for t in o["tickets"])
    assert seen == [[True, True]]
    with database.session() as s:
        [event] = [e for e in s.scalars(select(OutboxEvent)).all() if e.slug == "OrderConfirmed"]
        assert all("checkIn" in t for t in event.payload["tickets"])
        assert {t.checked_in_by["staffMemberId"] for t in s.scalars(select(Ticket))} == {me["id"]}
    assert sales(api, td["id"]) == {"unsoldCount": 3, "soldCount": 2, "reservedCount": 0, "soldOut": False}
    # its own guest list shows the order
    r = seller.get("/events/v1/orders", params={"fieldset": "DETAILS"})
    assert [x["orderNumber"] for x in r.json()["orders"]] == [o["orderNumber"]]


def test_who_may_sell_at_the_door(api, make_api, database, door):
    ev, td = door
    other = create_event(api, title="Other", draft=False)
    r = reserve(api, td["id"], 1)
    # buyers are refused at the door (the route), whatever the reservation
    visitor = make_api(identity="visitor")
    mine = reserve(visitor, td["id"], 1)
    for caller in (visitor, make_api(identity="member"), make_api(permissions={Permission.MANAGE_EVENTS})):
        assert pos(caller, ev["id"], r["id"], 403).status_code == 403
        assert pos(caller, ev["id"], mine["id"], 403).status_code == 403
    # a staff member that may only check in
    _, checker = staff(api, ("CHECK_IN_GUESTS",))
    assert pos(checker, ev["id"], r["id"], 403).json()["message"].endswith("SELL_TICKETS permission")
    assert legacy_reserve(checker, ev["id"], td["id"], 1, 403).status_code == 403
    # a seller of another event: 403 by the event, 404 for the other event's reservation
    _, elsewhere = staff(api, events=[other["id"]])
    assert code(pos(elsewhere, ev["id"], r["id"], 403)) == "EVENT_NOT_ASSIGNED"
    assert code(legacy_reserve(elsewhere, ev["id"], td["id"], 1, 403)) == "EVENT_NOT_ASSIGNED"
    assert code(pos(elsewhere, other["id"], r["id"], 404)) == "TICKET_RESERVATION_NOT_FOUND"
    # a seller of this event never takes an online buyer's hold: 404
    s, seller = staff(api, events=[ev["id"]])
    assert code(pos(seller, ev["id"], mine["id"], 404)) == "TICKET_RESERVATION_NOT_FOUND"
    # checking in needs CHECK_IN_GUESTS too
    made = legacy_reserve(seller, ev["id"], td["id"], 1)
    assert pos(seller, ev["id"], made["id"], 403, checkIn=True).json()["message"] == "checkIn needs the CHECK_IN_GUESTS permission"
    # paused: refused at once, with its held reservation untouched
    assert api.patch(f"{SM}/{s['id']}", {"staffMember": {"revision": "2", "status": "ACCESS_PAUSED"}}).status_code == 200
    assert code(pos(seller, ev["id"], made["id"], 403)) == "STAFF_MEMBER_SUSPENDED"
    assert code(legacy_reserve(seller, ev["id"], td["id"], 1, 403)) == "STAFF_MEMBER_SUSPENDED"
    assert seller.delete(f"{LEGACY}/{made['id']}", params={"eventId": ev["id"]}).status_code == 403
    assert api.patch(f"{SM}/{s['id']}", {"staffMember": {"revision": "3", "status": "HAS_ACCESS"}}).status_code == 200
    assert pos(seller, ev["id"], made["id"])["order"]["status"] == "PAID"
    # deleted: its key is gone
    assert api.delete(f"{SM}/{s['id']}").status_code == 200
    assert pos(seller, ev["id"], legacy_reserve(api, ev["id"], td["id"])["id"], 401).status_code == 401
    # another site's key: 404 for our reservation
    assert code(pos(make_api(site="site-b"), ev["id"], r["id"], 404)) == "TICKET_RESERVATION_NOT_FOUND"
    with database.session() as s_:
        assert s_.scalar(select(func.count()).select_from(Order).where(Order.channel == "OFFLINE_POS")) == 1


def test_pos_checkout_refusals(api, database, door):
    ev, td = door
    other = create_event(api, title="Other", draft=False)
    r = reserve(api, td["id"], 1)
    assert code(pos(api, other["id"], r["id"], 428)) == "EVENT_MISMATCH"
    assert code(pos(api, ev["id"], new_id(), 404)) == "TICKET_RESERVATION_NOT_FOUND"
    for bad in ({"paymentDetailsId": "not-a-guid"}, {"paymentMethod": "CHEQUE"}, {"buyer": {"email": "x"}}):
        assert pos(api, ev["id"], r["id"], 400, **bad).status_code == 400
    assert violation(pos(api, ev["id"], r["id"], 400, buyer={"email": "not an email"}))["field"] == "buyer.email"
    assert api.post(POS, {"eventId": ev["id"]}).status_code == 400
    pos(api, ev["id"], r["id"])
    assert code(pos(api, ev["id"], r["id"], 428)) == "RESERVATION_NOT_PENDING"
    # checked out online already
    r2 = reserve(api, td["id"], 1)
    checkout(api, ev["id"], r2["id"], options={"payInPerson": True})
    assert code(pos(api, ev["id"], r2["id"], 428)) == "RESERVATION_NOT_PENDING"
    # expired: refused, nothing written
    r3 = reserve(api, td["id"], 1)
    expire_now(database, r3["id"])
    assert code(pos(api, ev["id"], r3["id"], 428)) == "RESERVATION_EXPIRED"
    # nothing half-written by any refusal: two door orders... one (r) and the online one
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 2
    assert sales(api, td["id"]) == {"unsoldCount": 3, "soldCount": 2, "reservedCount": 0, "soldOut": False}
    # the other path family
    r4 = reserve(api, td["id"], 1)
    assert api.post(POS_ALT, {"eventId": ev["id"], "reservationId": r4["id"]}).json()["order"]["status"] == "PAID"


def test_door_sales_never_oversell_and_count_exactly(api, door):
    ev, td = door
    _, seller = staff(api, events=[ev["id"]])
    a = legacy_reserve(seller, ev["id"], td["id"], 3)
    assert code(legacy_reserve(seller, ev["id"], td["id"], 3, 428)) == "SOLD_OUT"  # 2 left
    b = legacy_reserve(api, ev["id"], td["id"], 2)
    assert code(legacy_reserve(api, ev["id"], td["id"], 1, 428)) == "SOLD_OUT"
    assert code(reserve(api, td["id"], 1, status=428)) == "SOLD_OUT"
    assert sales(api, td["id"]) == {"unsoldCount": 0, "soldCount": 0, "reservedCount": 5, "soldOut": True}
    pos(seller, ev["id"], a["id"])
    assert sales(api, td["id"]) == {"unsoldCount": 0, "soldCount": 3, "reservedCount": 2, "soldOut": True}
    # the organiser's reservation is a door reservation too: the staff member sells it
    assert pos(seller, ev["id"], b["id"])["order"]["ticketsQuantity"] == 2
    assert sales(api, td["id"]) == {"unsoldCount": 0, "soldCount": 5, "reservedCount": 0, "soldOut": True}
    # the legacy dashboard agrees
    r = api.post("/events/v1/checkout/available-tickets/query", {"filter": {"id": td["id"]}, "fieldset": ["DASHBOARD"], "limit": 1})
    dash = r.json()["definitions"][0]["dashboard"]
    assert (dash["ticketsSold"], dash["ticketsReserved"], dash["unsold"]) == (5, 0, 0)


# --- the legacy Create Reservation / Cancel Reservation ---------------------------------------


def test_legacy_create_reservation(api, make_api, door):
    ev, td = door
    visitor = make_api(identity="visitor")
    body = legacy_reserve(visitor, ev["id"], td["id"], 2)
    assert set(body) == {"id", "expires", "reservations", "invoice", "reservationStatus"}
    assert body["reservationStatus"] == "RESERVATION_PENDING" and body["expires"]
    [line] = body["reservations"]
    t = line["ticket"]
    assert line["quantity"] == 2 and t["id"] == td["id"] and t["eventId"] == ev["id"] and t["free"] is False
    for key in ("name", "description", "limitPerCheckout", "orderIndex", "policy", "wixFeeConfig", "salePeriod", "saleStatus", "pricing"):
        assert key in t, key
    assert t["dashboard"]["ticketsReserved"] == 2 and t["dashboard"]["limited"] is True
    inv = body["invoice"]
    assert inv["grandTotal"]["value"] == "40.00" and inv["items"][0]["quantity"] == 2
    # the same reservation through Create Ticket Reservation's Get: the visitor's own
    got = visitor.get(f"{RES}/{body['id']}").json()["ticketReservation"]
    assert got["status"] == "PENDING" and got["visitorId"] and got["tickets"][0]["quantity"] == 2
    assert sales(api, td["id"])["reservedCount"] == 2
    # pricing options per ticket, and a manager's price override
    opt = create_td(api, ev["id"], name="Options", initialLimit=10, pricingMethod={"pricingOptions": {"optionDetails": [
        {"name": "Adult", "price": {"value": "30", "currency": "USD"}},
        {"name": "Child", "price": {"value": "10", "currency": "USD"}},
    ]}})
    ids = [o["optionId"] for o in opt["pricingMethod"]["pricingOptions"]["optionDetails"]]
    r = api.post(LEGACY_ALT, {"eventId": ev["id"], "ticketQuantities": [{"ticketDefinitionId": opt["id"], "quantity": 3, "ticketDetails": [
        {"pricingOptionId": ids[0]}, {"pricingOptionId": ids[1]}, {"pricingOptionId": ids[1]}]}]})
    assert r.status_code == 200, r.text
    assert [(x["quantity"], x["ticket"]["price"]["value"]) for x in r.json()["reservations"]] == [(1, "30.00"), (2, "10.00")]
    assert r.json()["invoice"]["grandTotal"]["value"] == "50.00"
    r = api.post(LEGACY, {"eventId": ev["id"], "ticketQuantities": [{"ticketDefinitionId": td["id"], "quantity": 1, "priceOverride": "5"}]})
    assert r.status_code == 200 and r.json()["invoice"]["grandTotal"]["value"] == "5.00"


def test_legacy_create_reservation_refusals(api, make_api, door):
    ev, td = door
    other = create_event(api, title="Other", draft=False)
    theirs = create_td(api, other["id"], initialLimit=5)
    visitor = make_api(identity="visitor")
    # quantities and sizes: 400
    for q in (0, 51, "2", 1.5):
        assert legacy_reserve(visitor, ev["id"], td["id"], q, 400).status_code == 400
    many = [{"ticketDefinitionId": td["id"], "quantity": 1}] * 51
    assert visitor.post(LEGACY, {"eventId": ev["id"], "ticketQuantities": many}).status_code == 400
    assert visitor.post(LEGACY, {"eventId": ev["id"], "ticketQuantities": []}).status_code == 400
    assert visitor.post(LEGACY, {"ticketQuantities": [{"ticketDefinitionId": td["id"], "quantity": 1}]}).status_code == 400
    too_many_details = {"ticketDefinitionId": td["id"], "quantity": 1, "ticketDetails": [{}, {}]}
    r = visitor.post(LEGACY, {"eventId": ev["id"], "ticketQuantities": [too_many_details]})
    assert r.status_code == 400 and violation(r)["field"] == "ticketQuantities[0].ticketDetails"
    # the reservation rules: limits per order, hidden, a manager's settings, unknown ids
    big = create_td(api, ev["id"], name="Big", initialLimit=100)
    assert code(legacy_reserve(visitor, ev["id"], big["id"], 21, 428)) == "TICKET_LIMIT_PER_ORDER_EXCEEDED"
    assert legacy_reserve(api, ev["id"], big["id"], 21, ignoreLimits=True)["reservations"][0]["quantity"] == 21
    assert legacy_reserve(visitor, ev["id"], big["id"], 1, 403, ignoreLimits=True).status_code == 403
    assert legacy_reserve(visitor, ev["id"], big["id"], 1, 403, allowHiddenTickets=True).status_code == 403
    r = visitor.post(LEGACY, {"eventId": ev["id"], "ticketQuantities": [{"ticketDefinitionId": td["id"], "quantity": 1, "priceOverride": "1"}]})
    assert r.status_code == 403
    assert code(legacy_reserve(visitor, ev["id"], theirs["id"], 1, 404)) == "TICKET_DEFINITION_NOT_FOUND"
    assert code(legacy_reserve(visitor, ev["id"], new_id(), 1, 404)) == "TICKET_DEFINITION_NOT_FOUND"
    assert code(legacy_reserve(visitor, new_id(), td["id"], 1, 404)) == "EVENT_NOT_FOUND"
    assert code(legacy_reserve(make_api(site="site-b"), ev["id"], td["id"], 1, 404)) == "EVENT_NOT_FOUND"
    # an unpublished event's definition: the reservations slice's 428
    draft = create_event(api, title="Draft")
    dtd = create_td(api, draft["id"])
    assert code(legacy_reserve(api, draft["id"], dtd["id"], 1, 428)) == "EVENT_NOT_PUBLISHED"
    assert sales(api, td["id"]) == {"unsoldCount": 5, "soldCount": 0, "reservedCount": 0, "soldOut": False}


def test_legacy_cancel_reservation(api, make_api, database, door):
    ev, td = door
    visitor, stranger = make_api(identity="visitor"), make_api(identity="visitor")
    mine = legacy_reserve(visitor, ev["id"], td["id"], 2)
    assert sales(api, td["id"])["reservedCount"] == 2
    url = f"{LEGACY}/{mine['id']}"
    assert code(stranger.delete(url, params={"eventId": ev["id"]})) == "TICKET_RESERVATION_NOT_FOUND"
    assert visitor.delete(url).status_code == 400  # eventId is required
    other = create_event(api, title="Other", draft=False)
    assert visitor.delete(url, params={"eventId": other["id"]}).status_code == 404
    r = visitor.delete(url, params={"eventId": ev["id"], "id": mine["id"]})
    assert r.status_code == 200 and r.json() == {}
    assert sales(api, td["id"]) == {"unsoldCount": 5, "soldCount": 0, "reservedCount": 0, "soldOut": False}
    assert visitor.get(f"{RES}/{mine['id']}").json()["ticketReservation"]["status"] == "CANCELED_MANUALLY"
    assert code(visitor.delete(url, params={"eventId": ev["id"]})) == "RESERVATION_NOT_CANCELABLE"
    with database.session() as s:
        slugs = [e.slug for e in s.scalars(select(OutboxEvent).where(OutboxEvent.entity_id == mine["id"]).order_by(OutboxEvent.position))]
    assert slugs == ["created", "updated"]
    # a reservation with an order is refused, as Delete Ticket Reservation refuses it
    r2 = reserve(api, td["id"], 1)
    o = checkout(api, ev["id"], r2["id"], options={"payInPerson": True})["order"]
    r = api.delete(f"{LEGACY_ALT}/{r2['id']}", params={"eventId": ev["id"]})
    assert r.status_code == 428 and code(r) == "RESERVATION_HAS_ORDER"
    assert api.get(f"/events/v1/events/{ev['id']}/orders/{o['orderNumber']}").json()["order"]["status"] == "OFFLINE_PENDING"
    # a staff member cancels its door reservation, never a buyer's
    _, seller = staff(api, events=[ev["id"]])
    held = legacy_reserve(seller, ev["id"], td["id"], 1)
    theirs = reserve(visitor, td["id"], 1)
    assert code(seller.delete(f"{LEGACY}/{theirs['id']}", params={"eventId": ev["id"]})) == "TICKET_RESERVATION_NOT_FOUND"
    assert seller.delete(f"{LEGACY}/{held['id']}", params={"eventId": ev["id"]}).status_code == 200
    assert sales(api, td["id"]) == {"unsoldCount": 3, "soldCount": 1, "reservedCount": 1, "soldOut": False}


# --- Update Checkout --------------------------------------------------------------------------


def test_the_buyer_updates_an_unpaid_checkout(api, make_api, database, door):
    ev, td = door
    visitor = make_api(identity="visitor")
    r = reserve(visitor, td["id"], 2)
    o = checkout(visitor, ev["id"], r["id"], options={"payInPerson": True})["order"]
    n = o["orderNumber"]
    url = f"{UPDATE}/{n}"
    g1, g2 = guest_form("Bea", "Bird", "bea@example.com"), guest_form("Cy", "Crow", "cy@example.com")
    res = visitor.patch(url, {"eventId": ev["id"], "orderNumber": n, "guests": [g1, g2]})
    assert res.status_code == 200, res.text
    got = res.json()["order"]
    assert (got["firstName"], got["lastName"], got["email"]) == ("Bea", "Bird", "bea@example.com")
    assert [t["guestDetails"]["firstName"] for t in got["tickets"]] == ["Bea", "Cy"]
    assert got["checkoutForm"] == g1["form"] and got["status"] == "OFFLINE_PENDING" and got["channel"] == "ONLINE"
    assert res.json()["orderPageUrl"]
    assert got["contactId"] != o["contactId"]  # a new e-mail, a new contact
    # the buyer alone: the order's name and e-mail, the guests as they were
    res = visitor.patch(url, {"eventId": ev["id"], "buyer": {"firstName": "Dee", "lastName": "Dove", "email": "dee@example.com"}})
    got = res.json()["order"]
    assert (got["fullName"], got["email"]) == ("Dee Dove", "dee@example.com")
    assert [t["guestDetails"]["firstName"] for t in got["tickets"]] == ["Bea", "Cy"]
    assert order_events(database, n) == ["OrderConfirmed", "OrderUpdated", "OrderUpdated"]
    # the organiser too; the paid order is final
    assert api.patch(url, {"eventId": ev["id"], "buyer": {"firstName": "Eve"}}).json()["order"]["firstName"] == "Eve"
    assert api.post(f"/events/v1/events/{ev['id']}/orders/confirm", {"orderNumber": [n]}).status_code == 200
    for caller in (visitor, api):
        res = caller.patch(url, {"eventId": ev["id"], "buyer": {"firstName": "Fay"}})
        assert res.status_code == 428 and code(res) == "ORDER_ACTION_NOT_AVAILABLE"
        assert res.json()["details"]["applicationError"]["data"] == {"orderStatus": "PAID"}
    # a door sale is PAID at once: final
    door_order = pos(api, ev["id"], reserve(api, td["id"], 1)["id"])["order"]
    assert code(api.patch(f"{UPDATE}/{door_order['orderNumber']}", {"eventId": ev["id"], "buyer": {"firstName": "G"}})) == "ORDER_ACTION_NOT_AVAILABLE"


def test_update_checkout_refusals(api, make_api, database, door):
    ev, td = door
    visitor, stranger = make_api(identity="visitor"), make_api(identity="visitor")
    r = reserve(visitor, td["id"], 2)
    o = checkout(visitor, ev["id"], r["id"])["order"]  # online (test provider): PENDING
    assert o["status"] == "PENDING"
    n = o["orderNumber"]
    url = f"{UPDATE}/{n}"
    other = create_event(api, title="Other", draft=False)
    # another buyer's order, another event, another site, an unknown number: 404
    assert code(stranger.patch(url, {"eventId": ev["id"], "buyer": {"firstName": "X"}})) == "ORDER_NOT_FOUND"
    assert visitor.patch(url, {"eventId": other["id"], "buyer": {"firstName": "X"}}).status_code == 404
    assert make_api(site="site-b").patch(url, {"eventId": ev["id"]}).status_code == 404
    assert visitor.patch(f"{UPDATE}/ZZZZ-ZZZZ", {"eventId": ev["id"]}).status_code == 404
    # a staff member may not
    _, seller = staff(api, ("SELL_TICKETS", "CHECK_IN_GUESTS"))
    assert seller.patch(url, {"eventId": ev["id"], "buyer": {"firstName": "X"}}).status_code == 403
    # what Boxoffice does not have: clearly refused
    for body, c in (
        ({"discount": {"couponCode": "SAVE10"}}, "COUPONS_NOT_SUPPORTED"),
        ({"giftCardCode": "GIFT"}, "GIFT_CARDS_NOT_SUPPORTED"),
        ({"paidPlanBenefit": {"planOrderId": GUID, "benefitId": GUID}}, "PAID_PLANS_NOT_SUPPORTED"),
    ):
        res = visitor.patch(url, {"eventId": ev["id"], **body})
        assert res.status_code == 428 and code(res) == c
    # bad input: 400, nothing written
    for body in (
        {"guests": [guest_form()] * 3},  # 3 guests for 2 tickets
        {"guests": []},
        {"guests": [{"form": {"inputValues": [{"inputName": "nope", "value": "x"}]}}]},
        {"guests": [guest_form(email="not an email")]},
        {"buyer": {"email": "bad email@example"}},
        {"buyer": {"firstName": ""}},
        {"giftCardCode": "x" * 31},
    ):
        res = visitor.patch(url, {"eventId": ev["id"], **body})
        assert res.status_code == 400, (body, res.text)
    # memberId: an identity, a manager's
    assert visitor.patch(url, {"eventId": ev["id"], "memberId": GUID}).status_code == 403
    assert api.patch(url, {"eventId": ev["id"], "memberId": GUID}).json()["order"]["memberId"] == GUID
    assert "memberId" not in api.patch(url, {"eventId": ev["id"], "memberId": None}).json()["order"]
    got = api.get(f"/events/v1/events/{ev['id']}/orders/{n}").json()["order"]
    assert (got["firstName"], got["email"]) == ("Ann", "ann@example.com")
    # past its hold the online order reads CANCELED: final
    expire_now(database, r["id"])
    assert code(visitor.patch(url, {"eventId": ev["id"], "buyer": {"firstName": "Late"}})) == "ORDER_ACTION_NOT_AVAILABLE"


def test_update_checkout_keeps_the_per_buyer_limit_of_unpaid_seats(api, make_api):
    ev = create_event(api, draft=False, registration={"initialType": "TICKETING", "tickets": {"ticketLimitPerOrder": 2}})
    td = create_td(api, ev["id"], initialLimit=10)
    a, b = make_api(identity="visitor"), make_api(identity="visitor")
    checkout(a, ev["id"], reserve(a, td["id"], 2)["id"], options={"payInPerson": True})  # ann@example.com holds 2
    o = checkout(b, ev["id"], reserve(b, td["id"], 1)["id"], options={"payInPerson": True},
                 guests=[guest_form("Bob", "Bee", "bob@example.com")])["order"]
    res = b.patch(f"{UPDATE}/{o['orderNumber']}", {"eventId": ev["id"], "buyer": {"email": "ann@example.com"}})
    assert res.status_code == 428 and code(res) == "TICKET_LIMIT_PER_BUYER_EXCEEDED"
    assert b.patch(f"{UPDATE}/{o['orderNumber']}", {"eventId": ev["id"], "buyer": {"email": "bo@example.com"}}).status_code == 200
    # the organiser is not held to it
    assert api.patch(f"{UPDATE}/{o['orderNumber']}", {"eventId": ev["id"], "buyer": {"email": "ann@example.com"}}).status_code == 200


# --- the race: door sales and online buyers for the last seats -------------------------------

SEATS, DOOR, ONLINE = 12, 20, 20


def race(url: str) -> tuple[Counter, dict, int, int, int]:
    upgrade(url)
    db = Database(url)
    with db.session(write=True) as s:
        owner = create_api_key(s, "race", IdentityType.APP)
        buyers = [create_api_key(s, "race", IdentityType.VISITOR) for _ in range(5)]
    port = free_port()
    env = {**os.environ, "BOXOFFICE_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    cmd = [str(Path(sys.executable).parent / "boxoffice"), "serve", "--port", str(port), "--workers", "2",
           "--no-access-log", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, cwd=str(ROOT))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base)
        h = {"Authorization": owner, "wix-site-id": "race"}
        ev = httpx.post(f"{base}{EVENTS}", json=event_body(draft=False), headers=h).json()["event"]
        td = httpx.post(f"{base}{TD}", json=td_body(ev["id"], initialLimit=SEATS), headers=h).json()["ticketDefinition"]
        sm = httpx.post(f"{base}{SM}", json={"staffMember": {"name": "Door", "permissions": ["SELL_TICKETS"], "allEvents": {}}},
                        headers=h).json()["staffMember"]
        token = unquote(sm["loginLink"].split("#loginToken=", 1)[1])
        door_key = httpx.post(f"{base}{SM}/login", json={"loginToken": token}).json()["accessToken"]
        results: list[tuple[str, int, str]] = []
        lock = threading.Lock()
        start = threading.Barrier(DOOR + ONLINE)

        def err(r: httpx.Response) -> str:
            return r.json().get("details", {}).get("applicationError", {}).get("code", "") if r.status_code != 200 else ""

        def sell(i: int) -> None:  # at the door: reserve (legacy), then Pos Checkout
            with httpx.Client(base_url=base, timeout=60) as c:
                dh = {"Authorization": door_key, "wix-site-id": "race"}
                start.wait()
                r = c.post(LEGACY, json={"eventId": ev["id"], "ticketQuantities": [{"ticketDefinitionId": td["id"], "quantity": 1}]},
                           headers=dh)
                if r.status_code == 200:
                    r = c.post(POS, json={"eventId": ev["id"], "reservationId": r.json()["id"]}, headers=dh)
                with lock:
                    results.append(("door", r.status_code, err(r)))

        def buy(i: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as c:
                start.wait()
                r = c.post(RES, json={"ticketReservation": {"tickets": [{"ticketDefinitionId": td["id"], "quantity": 1}]}},
                           headers={"Authorization": buyers[i % len(buyers)], "wix-site-id": "race"})
                with lock:
                    results.append(("online", r.status_code, err(r)))

        threads = [threading.Thread(target=sell, args=(i,)) for i in range(DOOR)]
        threads += [threading.Thread(target=buy, args=(i,)) for i in range(ONLINE)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        details = httpx.get(f"{base}{TD}/{td['id']}", params={"fields": "SALES_DETAILS"}, headers=h).json()
        with db.session() as s:
            held = s.scalar(
                select(func.coalesce(func.sum(ReservationLine.quantity), 0))
                .join(TicketReservation, TicketReservation.id == ReservationLine.reservation_id)
                .where(ReservationLine.ticket_definition_id == td["id"], TicketReservation.status.in_(("PENDING", "CONFIRMED")))
            )
            row = s.get(TicketDefinition, td["id"])
            counted = row.reserved_count + row.sold_count
            door_orders = s.scalar(select(func.count()).select_from(Order).where(Order.channel == "OFFLINE_POS", Order.status == "PAID"))
    finally:
        proc.terminate()
        proc.wait(30)
        db.dispose()
    return Counter(results), details["ticketDefinition"]["salesDetails"], held, counted, door_orders


@pytest.fixture(params=["sqlite", "postgresql"])
def race_store(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'race.db'}"
    return make_pg_database(f"{PG_DB}_pos_race")


def test_door_sales_and_online_buyers_race_for_the_last_seats(race_store):
    outcome, details, held, counted, door_orders = race(race_store)
    won_door, won_online = outcome[("door", 200, "")], outcome[("online", 200, "")]
    assert won_door + won_online == SEATS, outcome
    assert outcome[("door", 428, "SOLD_OUT")] == DOOR - won_door and outcome[("online", 428, "SOLD_OUT")] == ONLINE - won_online, outcome
    assert details == {"unsoldCount": 0, "soldCount": won_door, "reservedCount": won_online, "soldOut": True}
    assert held == counted == SEATS and door_orders == won_door
