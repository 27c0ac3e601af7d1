"""The remaining selling methods (issue 12, section 4): the bulk tag updates of Ticket
Reservations, Checkout Options, Get Invoice, List/Query Available Tickets, Bulk Update
Orders and Bulk Update Tickets. Every rule and refusal on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from boxoffice.identity import Permission
from boxoffice.outbox.models import OutboxEvent
from tests.helpers import RES, create_event, create_td, expire_now, reserve

TAGS = "/events/v1/bulk/ticket-reservations/update-tags"
TAGS_ALT = "/_api/events-ticket-reservations/v1/bulk/ticket-reservations/update-tags"
BY_FILTER = "/events/v1/bulk/ticket-reservations/update-tags-by-filter"


def code(r) -> str:
    return r.json()["details"]["applicationError"]["code"]


def violation(r) -> dict:
    return r.json()["details"]["validationError"]["fieldViolations"][0]


def outbox_types(database, entity_id: str) -> list[str]:
    with database.session() as s:
        return [o.event_type for o in s.scalars(select(OutboxEvent).where(OutboxEvent.entity_id == entity_id).order_by(OutboxEvent.position))]


def tags_of(api, rid: str) -> dict | None:
    return api.get(f"{RES}/{rid}").json()["ticketReservation"].get("tags")


# --- Ticket Reservations: the two bulk tag updates -------------------------------------


def test_bulk_update_tags_assigns_unassigns_and_emits_updated(api, database):
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=10)
    a, b = reserve(api, td["id"]), reserve(api, td["id"])
    missing = "00000000-0000-0000-0000-000000000000"
    r = api.post(TAGS, {"ids": [a["id"], missing, b["id"]], "assignTags": {"tags": {"tagIds": ["vip", "red"]}, "privateTags": {"tagIds": ["p1"]}}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["itemMetadata"]["success"] for x in body["results"]] == [True, False, True]
    assert body["results"][1]["itemMetadata"] == {
        "id": missing, "originalIndex": 1, "success": False,
        "error": {"code": "TICKET_RESERVATION_NOT_FOUND", "description": f"Ticket reservation {missing} not found"},
    }
    assert body["bulkActionMetadata"] == {"totalSuccesses": 2, "totalFailures": 1, "undetailedFailures": 0}
    got = api.get(f"{RES}/{a['id']}").json()["ticketReservation"]
    assert got["tags"] == {"privateTags": {"tagIds": ["p1"]}, "tags": {"tagIds": ["vip", "red"]}} and got["revision"] == "2"
    # unassign; a tag in both lists stays assigned; the same call twice changes nothing more
    r = api.post(TAGS_ALT, {"ids": [a["id"]], "assignTags": {"tags": {"tagIds": ["red"]}}, "unassignTags": {"tags": {"tagIds": ["vip", "red"]}, "privateTags": {"tagIds": ["p1"]}}})
    assert r.status_code == 200, r.text
    assert tags_of(api, a["id"]) == {"privateTags": {"tagIds": []}, "tags": {"tagIds": ["red"]}}
    api.post(TAGS, {"ids": [a["id"]], "assignTags": {"tags": {"tagIds": ["red"]}}})
    assert outbox_types(database, a["id"]) == ["wix.events.v1.ticket_reservation_created"] + ["wix.events.v1.ticket_reservation_updated"] * 2
    assert tags_of(api, b["id"]) == {"privateTags": {"tagIds": ["p1"]}, "tags": {"tagIds": ["vip", "red"]}}


def test_bulk_update_tags_refusals(api, make_api, database):
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=10)
    a = reserve(api, td["id"])
    for who in (make_api(identity="visitor"), make_api(permissions={Permission.MANAGE_TICKET_DEFINITIONS})):
        r = who.post(TAGS, {"ids": [a["id"]], "assignTags": {"tags": {"tagIds": ["x"]}}})
        assert r.status_code == 403
        assert who.post(BY_FILTER, {"filter": {}, "assignTags": {"tags": {"tagIds": ["x"]}}}).status_code == 403
    assert make_api(permissions={Permission.MANAGE_EVENTS}).post(TAGS, {"ids": [a["id"]], "assignTags": {}}).status_code == 200
    # bounds: ids 1-100, tag ids <= 100 per list and 36 characters each, assignTags required
    assert api.post(TAGS, {"ids": [], "assignTags": {}}).status_code == 400
    assert api.post(TAGS, {"ids": [a["id"]] * 101, "assignTags": {}}).status_code == 400
    assert api.post(TAGS, {"ids": [a["id"]]}).status_code == 400
    assert api.post(TAGS, {"ids": [a["id"]], "assignTags": {"tags": {"tagIds": ["x" * 37]}}}).status_code == 400
    assert api.post(TAGS, {"ids": [a["id"]], "assignTags": {"tags": {"tagIds": [str(i) for i in range(101)]}}}).status_code == 400
    # a change that would leave more than 100 tags: 428, and nothing of the call is kept
    b = reserve(api, td["id"])
    assert api.post(TAGS, {"ids": [a["id"]], "assignTags": {"tags": {"tagIds": [str(i) for i in range(60)]}}}).status_code == 200
    r = api.post(TAGS, {"ids": [b["id"], a["id"]], "assignTags": {"tags": {"tagIds": [f"n{i}" for i in range(60)]}}})
    assert r.status_code == 428 and code(r) == "TAGS_LIMIT_REACHED"
    assert tags_of(api, b["id"]) is None and len(tags_of(api, a["id"])["tags"]["tagIds"]) == 60
    # another site's reservation is a failed item, never changed
    other = make_api(site="site-b")
    r = other.post(TAGS, {"ids": [a["id"]], "assignTags": {"tags": {"tagIds": ["evil"]}}})
    assert r.status_code == 200 and r.json()["bulkActionMetadata"]["totalFailures"] == 1
    r = other.post(BY_FILTER, {"filter": {}, "assignTags": {"tags": {"tagIds": ["evil"]}}})
    assert r.status_code == 200
    assert "evil" not in tags_of(api, a["id"])["tags"]["tagIds"]


def test_bulk_update_tags_by_filter(api, database):
    ev = create_event(api, draft=False)
    ev2 = create_event(api, draft=False, title="Other")
    td = create_td(api, ev["id"], initialLimit=10)
    td2 = create_td(api, ev2["id"], initialLimit=10)
    a, b, c = reserve(api, td["id"]), reserve(api, td["id"]), reserve(api, td2["id"])
    expire_now(database, b["id"])
    r = api.post(BY_FILTER, {"filter": {"status": "PENDING", "tickets.eventId": ev["id"]}, "assignTags": {"tags": {"tagIds": ["hot"]}}})
    assert r.status_code == 200, r.text
    assert len(r.json()["jobId"]) == 36
    assert tags_of(api, a["id"]) == {"tags": {"tagIds": ["hot"]}}
    assert tags_of(api, b["id"]) is None and tags_of(api, c["id"]) is None
    r = api.post(BY_FILTER, {"filter": {"eventId": {"$in": [ev2["id"]]}}, "assignTags": {"privateTags": {"tagIds": ["x"]}}})
    assert r.status_code == 200 and tags_of(api, c["id"]) == {"privateTags": {"tagIds": ["x"]}}
    r = api.post(BY_FILTER, {"filter": {}, "assignTags": {}, "unassignTags": {"tags": {"tagIds": ["hot"]}}})
    assert r.status_code == 200 and tags_of(api, a["id"]) == {"tags": {"tagIds": []}}
    assert outbox_types(database, a["id"])[-1] == "wix.events.v1.ticket_reservation_updated"
    # refusals: unknown field (400), bad status value (400), missing filter (400)
    bad = api.post(BY_FILTER, {"filter": {"nope": 1}, "assignTags": {}})
    assert bad.status_code == 400
    assert api.post(BY_FILTER, {"filter": {"status": "SOLD"}, "assignTags": {}}).status_code == 400
    assert api.post(BY_FILTER, {"assignTags": {}}).status_code == 400


# --- Orders: Checkout Options, Get Invoice, Available Tickets, Bulk Update Orders --------

from tests.helpers import checkout  # noqa: E402

CHECKOUT_ALT = "/_api/events/v1/checkout"


def test_checkout_options(api, make_api, database):
    r = api.get("/events/v1/checkout/options")
    assert r.status_code == 200, r.text
    assert r.json() == {"paymentMethodConfigured": True, "acceptCoupons": False, "premiumServices": True,
                        "paidTickets": False, "acceptGiftCards": False, "paymentMethods": ["offline", "test"]}
    ev = create_event(api, draft=False)
    create_td(api, ev["id"], initialLimit=5)
    visitor = make_api(identity="visitor")
    assert visitor.get(f"{CHECKOUT_ALT}/options").json()["paidTickets"] is True


def test_get_invoice(api, make_api):
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=5)
    visitor = make_api(identity="visitor")
    r = reserve(visitor, td["id"], 2)
    inv = visitor.post(f"/events/v1/checkout/invoices/{r['id']}", {"eventId": ev["id"], "reservationId": r["id"]})
    assert inv.status_code == 200, inv.text
    body = inv.json()
    assert body["reservationStatus"] == "RESERVATION_PENDING" and body["reservationOccupied"] is False
    assert body["expires"] == r["expirationDate"]
    assert body["invoice"]["subTotal"]["value"] == "400.00" and body["invoice"]["items"][0]["quantity"] == 2
    assert body["reservations"][0]["ticket"]["id"] == td["id"] and body["reservations"][0]["quantity"] == 2
    withc = visitor.post(f"{CHECKOUT_ALT}/invoices/{r['id']}", {"eventId": ev["id"], "withDiscount": {"couponCode": "X"}}).json()
    assert withc["discountErrors"] == {"error": [{"code": "COUPON_DOES_NOT_EXIST"}]}
    # checked out, the same invoice the order carries
    o = checkout(api, ev["id"], r["id"])["order"]
    after = api.post(f"/events/v1/checkout/invoices/{r['id']}", {"eventId": ev["id"]}).json()
    assert after["reservationOccupied"] is True and after["invoice"]["grandTotal"] == o["invoice"]["grandTotal"]
    # refusals: another buyer's or another site's reservation, wrong event, missing eventId
    other = make_api(identity="visitor")
    assert other.post(f"/events/v1/checkout/invoices/{r['id']}", {"eventId": ev["id"]}).status_code == 404
    assert make_api(site="site-b").post(f"/events/v1/checkout/invoices/{r['id']}", {"eventId": ev["id"]}).status_code == 404
    assert api.post(f"/events/v1/checkout/invoices/{r['id']}", {"eventId": "00000000-0000-0000-0000-000000000000"}).status_code == 404
    assert api.post(f"/events/v1/checkout/invoices/{r['id']}", {}).status_code == 400
    assert api.post(f"/events/v1/checkout/invoices/{r['id']}", {"eventId": ev["id"], "giftCardCode": "x" * 31}).status_code == 400


def test_available_tickets(api, make_api):
    import datetime as dt

    from tests.helpers import iso, utcnow

    ev = create_event(api, draft=False)
    on = create_td(api, ev["id"], initialLimit=5)
    create_td(api, ev["id"], name="Hidden", hidden=True)
    create_td(api, ev["id"], name="Later", salePeriod={"startDate": iso(utcnow() + dt.timedelta(days=2)), "endDate": iso(utcnow() + dt.timedelta(days=3))})
    draft = create_event(api, title="Draft")
    create_td(api, draft["id"], name="Draft one")
    visitor = make_api(identity="visitor")
    r = visitor.get(f"{CHECKOUT_ALT}/available-tickets")
    assert r.status_code == 200 and r.json() == {"metaData": {"count": 0, "offset": 0, "total": 1}, "definitions": []}
    got = visitor.get("/events/v1/checkout/available-tickets", params={"limit": 10, "eventId": ev["id"], "state": "INCLUDE_HIDDEN_NOT_ON_SALE"}).json()
    assert got["metaData"]["total"] == 1  # a visitor's state=INCLUDE_HIDDEN_NOT_ON_SALE is ignored
    d = got["definitions"][0]
    assert d["id"] == on["id"] and d["price"] == {"amount": "200.00", "value": "200.00", "currency": "USD"} and d["free"] is False
    assert d["eventId"] == ev["id"] and d["saleStatus"] == "SALE_STARTED" and d["limitPerCheckout"] == 5 and "dashboard" not in d
    assert d["pricing"]["fixedPrice"]["value"] == "200.00" and d["pricing"]["pricingType"] == "STANDARD"
    mgr = api.get("/events/v1/checkout/available-tickets", params={"limit": 10, "state": "INCLUDE_HIDDEN_NOT_ON_SALE", "sort": "name:asc"}).json()
    assert [x["name"] for x in mgr["definitions"]] == sorted([on["name"], "Hidden", "Later", "Draft one"])
    q = visitor.post(f"{CHECKOUT_ALT}/available-tickets/query", {"limit": 5, "filter": {"eventId": ev["id"]}, "fieldset": ["POLICY", "DASHBOARD"]}).json()
    assert q["metaData"] == {"count": 1, "offset": 0, "total": 1}
    assert q["definitions"][0]["dashboard"]["quantity"] == 5 and q["definitions"][0]["dashboard"]["unsold"] == 5
    reserve(visitor, on["id"], 2)
    q = visitor.post(f"{CHECKOUT_ALT}/available-tickets/query", {"limit": 5, "fieldset": ["DASHBOARD"]}).json()
    assert q["definitions"][0]["dashboard"]["ticketsReserved"] == 2 and q["definitions"][0]["limitPerCheckout"] == 3
    assert visitor.post(f"{CHECKOUT_ALT}/available-tickets/query", {"filter": {"eventId": draft["id"]}, "limit": 5}).json()["metaData"]["total"] == 0
    assert make_api(site="site-b").get(f"{CHECKOUT_ALT}/available-tickets").json()["metaData"]["total"] == 0
    # refusals
    assert visitor.post(f"{CHECKOUT_ALT}/available-tickets/query", {"filter": {"nope": 1}}).status_code == 400
    assert visitor.post(f"{CHECKOUT_ALT}/available-tickets/query", {"limit": 1001}).status_code == 400
    assert visitor.post(f"{CHECKOUT_ALT}/available-tickets/query", {"fieldset": ["SECRET"]}).status_code == 400
    assert visitor.post(f"{CHECKOUT_ALT}/available-tickets/query", {"sort": "hidden:asc"}).status_code == 400
    assert visitor.get(f"{CHECKOUT_ALT}/available-tickets", params={"state": "ALL"}).status_code == 400


def test_bulk_update_orders(api, make_api, database):
    from tests.test_orders import order_events

    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=10)
    a = checkout(api, ev["id"], reserve(api, td["id"])["id"])["order"]
    b = checkout(api, ev["id"], reserve(api, td["id"])["id"])["order"]
    url = f"/events/v1/events/{ev['id']}/orders"
    r = api.patch(url, {"eventId": ev["id"], "orderNumber": [a["orderNumber"], b["orderNumber"]], "fields": "archived", "archived": True})
    assert r.status_code == 200, r.text
    assert [o["archived"] for o in r.json()["orders"]] == [True, True]
    assert [o["orderNumber"] for o in r.json()["orders"]] == [a["orderNumber"], b["orderNumber"]]
    assert order_events(database, a["orderNumber"])[-1].endswith("OrderUpdated")
    r = api.patch(f"/_api/wix-events-web/v1/events/{ev['id']}/orders", {"orderNumber": [a["orderNumber"]], "archived": False})
    assert r.status_code == 200 and r.json()["orders"][0]["archived"] is False
    # all or nothing: one unknown number changes none
    r = api.patch(url, {"orderNumber": [b["orderNumber"], "NOPE-NOPE"], "archived": False})
    assert r.status_code == 404 and code(r) == "ORDER_NOT_FOUND"
    got = api.get(f"{url}/{b['orderNumber']}", params={"fieldset": "DETAILS"}).json()["order"]
    assert got["archived"] is True
    # refusals: permissions, another site, bounds, mask
    assert make_api(permissions={Permission.MANAGE_EVENTS}).patch(url, {"orderNumber": [a["orderNumber"]], "archived": True}).status_code == 403
    assert make_api(identity="visitor").patch(url, {"orderNumber": [a["orderNumber"]], "archived": True}).status_code == 403
    assert make_api(site="site-b").patch(url, {"orderNumber": [a["orderNumber"]], "archived": True}).status_code == 404
    assert api.patch(url, {"orderNumber": [], "archived": True}).status_code == 400
    assert api.patch(url, {"orderNumber": ["X"] * 101, "archived": True}).status_code == 400
    assert api.patch(url, {"orderNumber": [a["orderNumber"]]}).status_code == 400
    assert api.patch(url, {"orderNumber": [a["orderNumber"]], "fields": "status", "archived": True}).status_code == 400


# --- Tickets: Bulk Update Tickets --------------------------------------------------------


def test_bulk_update_tickets(api, make_api, database):
    from tests.test_orders import order_events

    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=10)
    o = checkout(api, ev["id"], reserve(api, td["id"], 3)["id"])["order"]
    numbers = [t["ticketNumber"] for t in o["tickets"]]
    before = len(order_events(database, o["orderNumber"]))
    r = api.patch("/events/v1/tickets", {"eventId": ev["id"], "ticketNumber": numbers[:2], "archived": True})
    assert r.status_code == 200, r.text
    assert [t["ticketNumber"] for t in r.json()["tickets"]] == numbers[:2]
    assert all(t["archived"] is True for t in r.json()["tickets"])
    assert order_events(database, o["orderNumber"])[before:] == ["OrderUpdated"]  # one per order
    r = api.patch("/_api/events-ticketing-v1-proxy/v1/tickets", {"ticketNumber": [numbers[0]], "archived": False})
    assert r.status_code == 200 and r.json()["tickets"][0]["archived"] is False
    # all or nothing: an unknown ticket (or another event's) changes none
    r = api.patch("/events/v1/tickets", {"ticketNumber": [numbers[2], "NOPE"], "archived": True})
    assert r.status_code == 404 and code(r) == "TICKET_NOT_FOUND"
    r = api.patch("/events/v1/tickets", {"eventId": "00000000-0000-0000-0000-000000000000", "ticketNumber": [numbers[2]], "archived": True})
    assert r.status_code == 404
    assert api.get(f"/events/v1/tickets/{numbers[2]}", params={"fieldset": "TICKET_DETAILS"}).json()["ticket"]["archived"] is False
    # refusals
    assert make_api(permissions={Permission.MANAGE_EVENTS}).patch("/events/v1/tickets", {"ticketNumber": [numbers[0]], "archived": True}).status_code == 403
    assert make_api(identity="visitor").patch("/events/v1/tickets", {"ticketNumber": [numbers[0]], "archived": True}).status_code == 403
    assert make_api(site="site-b").patch("/events/v1/tickets", {"ticketNumber": [numbers[0]], "archived": True}).status_code == 404
    assert api.patch("/events/v1/tickets", {"ticketNumber": [], "archived": True}).status_code == 400
    assert api.patch("/events/v1/tickets", {"ticketNumber": ["X"] * 101, "archived": True}).status_code == 400
    assert api.patch("/events/v1/tickets", {"ticketNumber": [numbers[0]]}).status_code == 400
