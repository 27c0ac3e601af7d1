"""Checkout and Orders: payment outcomes move seats exactly once; totals and fees."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from boxoffice.outbox.models import OutboxEvent
from tests.helpers import CHECKOUT, RES, checkout, create_event, create_td, expire_now, guest_form, reserve, sales

ORDERS = "/events/v1/orders"


def code(r) -> str:
    return r.json()["details"]["applicationError"]["code"]


def order_events(database, order_number: str) -> list[str]:
    with database.session() as s:
        rows = s.scalars(select(OutboxEvent).order_by(OutboxEvent.position)).all()
        return [o.slug for o in rows if o.payload.get("orderNumber") == order_number]


@pytest.fixture
def shop(api):
    ev = create_event(api, draft=False)
    paid = create_td(api, ev["id"], name="Paid", initialLimit=10, pricingMethod={"fixedPrice": {"value": "40", "currency": "USD"}})
    free = create_td(api, ev["id"], name="Free", initialLimit=10, pricingMethod={"fixedPrice": {"value": "0", "currency": "USD"}})
    return ev, paid, free


def test_free_checkout_is_free_and_sold_at_once(api, database, shop):
    ev, _, free = shop
    r = reserve(api, free["id"], 2)
    body = checkout(api, ev["id"], r["id"])
    o = body["order"]
    assert o["status"] == "FREE" and o["confirmed"] is True and o["ticketsQuantity"] == 2
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", o["orderNumber"])
    assert [t["ticketNumber"] for t in o["tickets"]] == [o["orderNumber"].replace("-", "") + n for n in ("01", "02")]
    assert o["totalPrice"] == {"amount": "0.00", "value": "0.00", "currency": "USD"}
    assert (o["firstName"], o["lastName"], o["email"]) == ("Ann", "Lee", "ann@example.com")
    assert api.get(f"{RES}/{r['id']}").json()["ticketReservation"]["status"] == "CONFIRMED"
    assert sales(api, free["id"]) == {"unsoldCount": 8, "soldCount": 2, "reservedCount": 0, "soldOut": False}
    assert order_events(database, o["orderNumber"]) == ["OrderConfirmed"]
    assert body["reservations"][0]["quantity"] == 2


def test_test_provider_pay(api, database, shop):
    ev, paid, _ = shop
    r = reserve(api, paid["id"], 3)
    o = checkout(api, ev["id"], r["id"])["order"]
    assert o["status"] == "PENDING" and o["confirmed"] is False
    assert sales(api, paid["id"])["reservedCount"] == 3
    p = api.post(f"/boxoffice/v1/test-payments/{o['orderNumber']}/pay")
    assert p.status_code == 200 and p.json()["order"]["status"] == "PAID"
    assert sales(api, paid["id"]) == {"unsoldCount": 7, "soldCount": 3, "reservedCount": 0, "soldOut": False}
    assert api.post(f"/boxoffice/v1/test-payments/{o['orderNumber']}/pay").status_code == 428
    assert order_events(database, o["orderNumber"]) == ["OrderInitiated", "OrderConfirmed"]


def test_test_provider_decline_releases(api, shop):
    ev, paid, _ = shop
    r = reserve(api, paid["id"], 3)
    o = checkout(api, ev["id"], r["id"])["order"]
    d = api.post(f"/boxoffice/v1/test-payments/{o['orderNumber']}/decline")
    assert d.json()["order"]["status"] == "DECLINED"
    assert all(t["canceled"] for t in d.json()["order"]["tickets"])
    assert sales(api, paid["id"]) == {"unsoldCount": 10, "soldCount": 0, "reservedCount": 0, "soldOut": False}
    assert api.get(f"{RES}/{r['id']}").json()["ticketReservation"]["status"] == "CANCELED"


def test_unpaid_at_expiry_releases_and_cancels_the_order(api, database, shop):
    ev, paid, _ = shop
    r = reserve(api, paid["id"], 4)
    o = checkout(api, ev["id"], r["id"])["order"]
    expire_now(database, r["id"])
    assert sales(api, paid["id"])["unsoldCount"] == 10
    late = api.post(f"/boxoffice/v1/test-payments/{o['orderNumber']}/pay")
    assert late.status_code == 428 and code(late) == "RESERVATION_EXPIRED"
    got = api.get(f"/events/v1/events/{ev['id']}/orders/{o['orderNumber']}", params={"fieldset": ["DETAILS"]}).json()
    assert got["order"]["status"] == "CANCELED"
    assert sales(api, paid["id"]) == {"unsoldCount": 10, "soldCount": 0, "reservedCount": 0, "soldOut": False}


def test_offline_holds_for_good_until_confirmed(api, database, shop):
    ev, paid, _ = shop
    r = reserve(api, paid["id"], 2)
    o = checkout(api, ev["id"], r["id"], options={"payInPerson": True})["order"]
    assert o["status"] == "OFFLINE_PENDING" and o["method"] == "inPerson"
    expire_now(database, r["id"])  # time passes: offline seats do not come back
    assert sales(api, paid["id"]) == {"unsoldCount": 8, "soldCount": 2, "reservedCount": 0, "soldOut": False}
    c = api.post(f"/events/v1/events/{ev['id']}/orders/confirm", {"eventId": ev["id"], "orderNumber": [o["orderNumber"]]})
    assert c.status_code == 200 and c.json()["orders"][0]["status"] == "PAID"
    again = api.post(f"/events/v1/events/{ev['id']}/orders/confirm", {"orderNumber": [o["orderNumber"]]})
    assert again.json()["orders"][0]["status"] == "PAID"  # PAID stays PAID
    assert sales(api, paid["id"])["soldCount"] == 2


def test_confirm_pending_online_and_refuse_declined(api, shop):
    ev, paid, _ = shop
    a = checkout(api, ev["id"], reserve(api, paid["id"], 1)["id"])["order"]
    b = checkout(api, ev["id"], reserve(api, paid["id"], 1)["id"])["order"]
    api.post(f"/boxoffice/v1/test-payments/{b['orderNumber']}/decline")
    ok = api.post(f"/events/v1/events/{ev['id']}/orders/confirm", {"orderNumber": [a["orderNumber"]]})
    assert ok.json()["orders"][0]["status"] == "PAID"
    bad = api.post(f"/events/v1/events/{ev['id']}/orders/confirm", {"orderNumber": [b["orderNumber"]]})
    assert bad.status_code == 428 and code(bad) == "ORDER_ACTION_NOT_AVAILABLE"
    assert sales(api, paid["id"]) == {"unsoldCount": 9, "soldCount": 1, "reservedCount": 0, "soldOut": False}


def test_fees(api):
    ev = create_event(api, draft=False)
    added = create_td(api, ev["id"], name="Added", pricingMethod={"fixedPrice": {"value": "10.10", "currency": "USD"}}, feeType="FEE_ADDED_AT_CHECKOUT")
    incl = create_td(api, ev["id"], name="Included", pricingMethod={"fixedPrice": {"value": "10.10", "currency": "USD"}})
    o = checkout(api, ev["id"], reserve(api, added["id"], 2)["id"])["order"]
    # 2.5 % of 10.10 = 0.2525 -> 0.25 per ticket, shown as its own line
    assert o["invoice"]["subTotal"]["value"] == "20.20" and o["invoice"]["grandTotal"]["value"] == "20.70"
    assert o["invoice"]["fees"][0]["amount"]["value"] == "0.50" and o["invoice"]["fees"][0]["type"] == "FEE_ADDED_AT_CHECKOUT"
    assert o["totalPrice"]["value"] == "20.70"
    o = checkout(api, ev["id"], reserve(api, incl["id"], 2)["id"])["order"]
    assert o["totalPrice"]["value"] == "20.20" and o["invoice"]["revenue"]["value"] == "19.70"
    assert o["invoice"]["fees"][0]["type"] == "FEE_INCLUDED"


def test_checkout_refusals(api, shop):
    ev, paid, _ = shop
    r = reserve(api, paid["id"], 2)
    body = {"eventId": ev["id"], "reservationId": r["id"], "guests": [{"form": {"inputValues": [{"inputName": "firstName", "value": "A"}]}}]}
    bad = api.post(CHECKOUT, body)
    assert bad.status_code == 400
    assert {v["field"] for v in bad.json()["details"]["validationError"]["fieldViolations"]} == {"buyer.lastName", "buyer.email"}
    bad = api.post(CHECKOUT, {**body, "buyer": {"firstName": "A", "lastName": "B", "email": "not-an-email"}})
    assert bad.status_code == 400
    assert api.post(CHECKOUT, {**body, "guests": [guest_form()] * 3}).status_code == 400  # more guests than seats
    other = create_event(api, title="Other", draft=False)
    mismatch = api.post(CHECKOUT, {**body, "eventId": other["id"], "buyer": {"firstName": "A", "lastName": "B", "email": "a@b.co"}})
    assert mismatch.status_code == 428 and code(mismatch) == "EVENT_MISMATCH"
    ok = api.post(CHECKOUT, {**body, "buyer": {"firstName": "A", "lastName": "B", "email": "a@b.co"}})
    assert ok.status_code == 200
    twice = api.post(CHECKOUT, {**body, "buyer": {"firstName": "A", "lastName": "B", "email": "a@b.co"}})
    assert twice.status_code == 428
    assert api.post(CHECKOUT, {**body, "reservationId": "nope"}).status_code == 404


def test_guests_get_their_own_tickets(api, shop):
    ev, paid, _ = shop
    r = reserve(api, paid["id"], 2)
    o = checkout(api, ev["id"], r["id"], guests=[guest_form(), guest_form("Bo", "Kim", "bo@example.com")])["order"]
    assert [t["guestFullName"] for t in o["tickets"]] == ["Ann Lee", "Bo Kim"]
    assert o["tickets"][1]["guestDetails"]["email"] == "bo@example.com"


def test_list_get_update_and_summary(api, make_api, shop):
    ev, paid, free = shop
    a = checkout(api, ev["id"], reserve(api, paid["id"], 2)["id"])["order"]
    api.post(f"/boxoffice/v1/test-payments/{a['orderNumber']}/pay")
    b = checkout(api, ev["id"], reserve(api, free["id"], 1)["id"], guests=[guest_form("Zed", "Zulu", "z@example.com")])["order"]
    c = checkout(api, ev["id"], reserve(api, paid["id"], 1)["id"])["order"]
    lst = api.get(ORDERS, params={"eventId": ev["id"]}).json()
    assert lst["total"] == 3 and [o["orderNumber"] for o in lst["orders"]] == [a["orderNumber"], b["orderNumber"], c["orderNumber"]]
    assert set(lst["orders"][0]) == {"orderNumber", "eventId", "contactId", "anonymized", "fullyCheckedIn", "status"}
    assert lst["orders"][0]["status"] == "NA_ORDER_STATUS"
    paid_only = api.get(ORDERS, params={"status": ["PAID", "FREE"], "fieldset": ["DETAILS"], "sort": "created:desc"}).json()
    assert [o["orderNumber"] for o in paid_only["orders"]] == [b["orderNumber"], a["orderNumber"]]
    assert api.get(ORDERS, params={"searchPhrase": "zulu"}).json()["total"] == 1
    assert api.get(ORDERS, params={"tag": "UNCONFIRMED"}).json()["total"] == 1
    facets = api.get(ORDERS, params={"facet": "status"}).json()["facets"]
    assert facets == {"status": {"counts": {"PAID": 1, "FREE": 1, "PENDING": 1}}}
    assert api.get(ORDERS, params={"limit": 400}).json()["limit"] == 100
    got = api.get(f"/events/v1/events/{ev['id']}/orders/{a['orderNumber']}", params={"fieldset": ["DETAILS", "INVOICE"]}).json()["order"]
    assert got["status"] == "PAID" and got["invoice"]["previewUrl"].endswith(".pdf?sig=" + got["ticketsPdf"].split("sig=")[1])
    assert "tickets" not in got
    upd = api.patch(f"/events/v1/events/{ev['id']}/orders/{a['orderNumber']}", {"fields": "archived", "archived": True})
    assert upd.status_code == 200 and upd.json()["order"]["archived"] is True
    assert api.get(ORDERS, params={"tag": "ARCHIVED"}).json()["total"] == 1
    summary = api.get("/events/v1/orders/summary", params={"eventId": ev["id"]}).json()
    assert summary == {
        "sales": [
            {
                "total": {"amount": "80.00", "value": "80.00", "currency": "USD"},
                "totalOrders": 2,
                "totalTickets": 3,
                "revenue": {"amount": "78.00", "value": "78.00", "currency": "USD"},
            }
        ]
    }
    assert api.get(f"/events/v1/events/{ev['id']}/orders/NOPE").status_code == 404
    visitor = make_api(identity="visitor")
    assert visitor.get(ORDERS).status_code == 403


def test_no_test_provider_unless_configured(database, make_api):
    """The `test` payment simulator and its routes exist only with test_payments on."""
    from fastapi.testclient import TestClient

    from boxoffice.app import create_app
    from boxoffice.config import Settings

    api = make_api()
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=5)
    r = reserve(api, td["id"])
    prod = create_app(Settings(database_url=str(database.engine.url), background=False), db=database)
    with TestClient(prod) as c:
        h = api.headers()
        refused = c.post(CHECKOUT, json={"eventId": ev["id"], "reservationId": r["id"], "guests": [guest_form()]}, headers=h)
        assert refused.status_code == 428 and code(refused) == "PAYMENT_PROVIDER_NOT_CONFIGURED"
        assert c.post("/boxoffice/v1/test-payments/AAAA-BBBB/pay", headers=h).status_code == 404
        # paying in person needs no provider
        ok = c.post(CHECKOUT, json={"eventId": ev["id"], "reservationId": r["id"], "guests": [guest_form()],
                                    "options": {"payInPerson": True}}, headers=h)
        assert ok.status_code == 200 and ok.json()["order"]["status"] == "OFFLINE_PENDING"


def test_dashboard_fieldset_summarises_confirmed_orders(api, make_api):
    """Events v3 `fields=DASHBOARD`: tickets sold, revenue and orders of the confirmed
    (PAID/FREE) orders; pending ones do not count; visitors get no revenue."""
    from tests.helpers import EVENTS, checkout, create_event, on_sale_td, reserve

    ev = create_event(api, draft=False)
    td = on_sale_td(api, ev["id"], initialLimit=10)
    r = api.get(f"{EVENTS}/{ev['id']}", params={"fields": "DASHBOARD"})
    assert r.status_code == 200, r.text
    tickets = r.json()["event"]["summaries"]["tickets"]
    assert tickets["ticketsSold"] == 0 and tickets["totalOrders"] == 0 and tickets["currencyLocked"] is False
    checkout(api, ev["id"], reserve(api, td["id"], quantity=2)["id"], options={"markAsPaid": True})
    checkout(api, ev["id"], reserve(api, td["id"])["id"], options={"payInPerson": True})  # not paid: not counted
    r = api.post(f"{EVENTS}/query", {"query": {"filter": {"id": ev["id"]}}, "fields": ["DASHBOARD"]})
    assert r.status_code == 200, r.text
    s = r.json()["events"][0]["summaries"]["tickets"]
    assert s["ticketsSold"] == 2 and s["totalOrders"] == 1 and s["currencyLocked"] is True
    # FEE_INCLUDED: revenue is the sales less the included service fee (2.5 %)
    assert s["revenue"]["value"] == "390.00" and s["totalSales"] == {"amount": "400.00", "value": "400.00", "currency": "USD"}
    r = make_api(identity="visitor").get(f"{EVENTS}/{ev['id']}", params={"fields": "DASHBOARD"})
    assert r.status_code == 200 and "summaries" not in r.json()["event"]
