"""Event guests (`@wix/auto_sdk_events_guests`): Query Guests and the guest list kept in
step with orders, check-ins and the event (guests/service.py), with each of the seven
guest webhooks written as the SDK types it; who may read it. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import importlib.util
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, select, update

from boxoffice import limits
from boxoffice.events.models import REMINDERS, Event
from boxoffice.events.service import emit_lifecycle
from boxoffice.guests import service as guests_service
from boxoffice.guests.models import Guest
from boxoffice.identity import IdentityType, Permission, Principal
from boxoffice.orders import service as orders_service
from boxoffice.orders.models import Order, OrderStatus
from boxoffice.outbox.models import OutboxEvent
from boxoffice.tickets.models import Ticket
from boxoffice.timefmt import parse
from tests.conftest import ROOT, Api
from tests.helpers import CHECKOUT, EVENTS, create_event, create_td, guest_form, reserve, utcnow

Q = "/events/v2/guests/query"
FQDN = "wix.events.guests.v1.guest"
CHECK_IN = "/events/v1/tickets/check-in"
FORM = "/events/v1/events/{}/form"
SM = "/events/v1/staff-members"
FREE = {"fixedPrice": {"value": "0", "currency": "USD"}}
DETAILS = ["GUEST_DETAILS", "GUEST_TOTAL"]


def query(api, body=None, status=200, path=Q):
    r = api.post(path, body if body is not None else {"query": {}})
    assert r.status_code == status, r.text
    return r.json() if status == 200 else r


def guests(api, flt=None, fields=DETAILS, **q):
    return query(api, {"query": {"filter": flt or {}, **q}, "fields": fields})["guests"]


def webhooks(database, slug=None, entity_id=None):
    with database.session() as s:
        stmt = select(OutboxEvent).where(OutboxEvent.entity_fqdn == FQDN).order_by(OutboxEvent.position)
        if entity_id:
            stmt = stmt.where(OutboxEvent.entity_id == entity_id)
        rows = list(s.scalars(stmt))
    return [o for o in rows if slug is None or o.slug == slug]


def add_control(api, event_id, control):
    r = api.post(f"{FORM.format(event_id)}/control", control)
    assert r.status_code == 200, r.text
    return r.json()["id"]


def pay(api, order):
    r = api.post(f"/boxoffice/v1/test-payments/{order['orderNumber']}/pay")
    assert r.status_code == 200, r.text
    return r.json()["order"]


def two_guests(phone=None, address=None):
    """A buyer (Ann) and a second guest (Bo, with his own e-mail), with their answers."""
    ann, bo = guest_form("Ann", "Lee", "ann@example.com"), guest_form("Bo", "Kim", "bo@example.com")
    if phone:
        ann["form"]["inputValues"].append({"inputName": phone, "value": "+1 555 0100"})
        bo["form"]["inputValues"].append({"inputName": phone, "value": "+1 555 0200"})
    if address:
        ann["form"]["inputValues"].append({"inputName": address, "values": ["1 Main St", "Springfield", "", "", "US"]})
    return [ann, bo]


def sold(api, ev, td, n=2, pay_now=True, **extra):
    r = reserve(api, td["id"], n)
    body = {"eventId": ev["id"], "reservationId": r["id"], "guests": two_guests()[:n], **extra}
    res = api.post(CHECKOUT, body)
    assert res.status_code == 200, res.text
    o = res.json()["order"]
    return pay(api, o) if pay_now and o["status"] == "PENDING" else o


@pytest.fixture
def shop(api):
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=40)
    return ev, td


# --- guests of confirmed orders ------------------------------------------------------------


def test_a_paid_order_makes_its_buyer_and_ticket_holders_guests_with_their_answers(api, database, shop):
    ev, td = shop
    phone = add_control(api, ev["id"], {"phone": {"label": "Phone"}})
    address = add_control(api, ev["id"], {"address": {"label": "Address", "full": True}})
    r = reserve(api, td["id"], 2)
    g = two_guests(phone, address)
    o = api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": r["id"], "guests": g}).json()["order"]
    assert o["status"] == "PENDING"
    assert query(api)["guests"] == [] and webhooks(database) == []  # not paid: no guest yet
    o = pay(api, o)
    got = guests(api)
    assert [x["guestType"] for x in got] == ["BUYER", "TICKET_HOLDER", "TICKET_HOLDER"]
    buyer, ann, bo = got
    numbers = [t["ticketNumber"] for t in o["tickets"]]
    for x in got:
        assert len(x["id"]) == 36 and x["eventId"] == ev["id"] and x["orderNumber"] == o["orderNumber"]
        assert x["attendanceStatus"] == "ATTENDING" and x["revision"] == "1"
        assert x["createdDate"] == x["updatedDate"] == x["attendanceStatusUpdatedDate"]
        assert x["additionalDetails"] == {"createdDate": o["created"], "updatedDate": o["updated"], "orderStatus": "PAID"}
        assert x["guestDetails"]["checkedIn"] is False and "checkInDetails" not in x["guestDetails"]
        assert "memberId" not in x and "rsvpId" not in x
    assert "ticketNumber" not in buyer and [ann["ticketNumber"], bo["ticketNumber"]] == numbers
    assert buyer["contactId"] == ann["contactId"] == o["contactId"] and bo["contactId"] != o["contactId"]
    assert buyer["tickets"] == [{"number": t["ticketNumber"], "definitionId": td["id"], "name": td["name"]} for t in o["tickets"]]
    assert bo["tickets"] == [buyer["tickets"][1]]
    assert (buyer["totalGuests"], ann["totalGuests"], bo["totalGuests"]) == (2, 1, 1)
    assert buyer["guestDetails"] == {
        "email": "ann@example.com", "firstName": "Ann", "lastName": "Lee", "formResponse": g[0]["form"],
        "checkedIn": False, "phone": "+1 555 0100", "address": "1 Main St, Springfield, US",
    }
    assert bo["guestDetails"]["formResponse"] == g[1]["form"] and bo["guestDetails"]["email"] == "bo@example.com"
    assert bo["guestDetails"]["phone"] == "+1 555 0200" and "address" not in bo["guestDetails"]
    # without fieldsets: no guestDetails, tickets or totalGuests
    plain = guests(api, fields=None)
    assert [x["id"] for x in plain] == [x["id"] for x in got]
    assert all(not {"guestDetails", "tickets", "totalGuests"} & set(x) for x in plain)
    # the deprecated query.fieldsets says the same
    old = query(api, {"query": {"fieldsets": ["guestDetails"]}})["guests"]
    assert old[0]["guestDetails"] == buyer["guestDetails"] and "totalGuests" not in old[0]
    # created and updated for each, carrying the guest as Query Guests shows it
    rows = webhooks(database)
    assert [(w.slug, w.entity_id) for w in rows] == [(s, x["id"]) for x in got for s in ("created", "updated")]
    assert [w.event_type for w in rows[:2]] == [f"{FQDN}_created", f"{FQDN}_updated"]
    assert rows[0].payload["createdEvent"]["entity"] == buyer
    assert rows[1].payload["updatedEvent"]["currentEntity"] == buyer
    assert rows[0].payload["entityFqdn"] == FQDN and rows[0].payload["entityEventSequence"] == "1"
    assert rows[1].payload["entityEventSequence"] == "2"
    assert rows[0].identity == {"identityType": "APP", "appId": "boxoffice"}


def test_free_orders_are_guests_at_once_and_pay_in_person_ones_when_confirmed(api, database, shop):
    ev, _ = shop
    free = create_td(api, ev["id"], name="Free", initialLimit=10, pricingMethod=FREE)
    paid = create_td(api, ev["id"], name="Paid", initialLimit=10)
    f = sold(api, ev, free, 1)
    assert f["status"] == "FREE"
    assert [(x["guestType"], x["additionalDetails"]["orderStatus"]) for x in guests(api)] == [("BUYER", "FREE"), ("TICKET_HOLDER", "FREE")]
    offline = sold(api, ev, paid, 2, options={"payInPerson": True})
    assert offline["status"] == "OFFLINE_PENDING"
    assert len(guests(api, {"orderNumber": offline["orderNumber"]})) == 0
    c = api.post(f"/events/v1/events/{ev['id']}/orders/confirm", {"orderNumber": [offline["orderNumber"]]})
    assert c.status_code == 200
    assert len(guests(api, {"orderNumber": offline["orderNumber"]})) == 3
    # confirming again changes nothing
    api.post(f"/events/v1/events/{ev['id']}/orders/confirm", {"orderNumber": [offline["orderNumber"]]})
    assert len(guests(api)) == 5 and len(webhooks(database, "created")) == 5
    # a declined order never has guests
    d = sold(api, ev, paid, 1, pay_now=False)
    assert api.post(f"/boxoffice/v1/test-payments/{d['orderNumber']}/decline").status_code == 200
    assert guests(api, {"orderNumber": d["orderNumber"]}) == []


def test_a_ticket_holder_without_a_form_of_its_own_is_the_buyer(api, shop):
    ev, td = shop
    o = sold(api, ev, td, 2, guests=[guest_form("Ann", "Lee", "ann@example.com")])
    buyer, first, second = guests(api, {"orderNumber": o["orderNumber"]})
    assert second["guestDetails"]["firstName"] == "Ann" and second["contactId"] == buyer["contactId"]
    assert second["guestDetails"]["formResponse"] == buyer["guestDetails"]["formResponse"]


def test_member_orders_give_the_buyer_and_its_own_tickets_the_member_id(api, make_api, shop):
    ev, td = shop
    member = make_api(identity="member")
    r = reserve(member, td["id"], 2)
    res = member.post(CHECKOUT, {"eventId": ev["id"], "reservationId": r["id"], "guests": two_guests()})
    o = pay(api, res.json()["order"])
    assert o["memberId"]
    buyer, ann, bo = guests(api)
    assert buyer["memberId"] == ann["memberId"] == o["memberId"] and "memberId" not in bo
    assert [x["guestType"] for x in guests(api, {"memberId": o["memberId"]})] == ["BUYER", "TICKET_HOLDER"]


# --- check-in --------------------------------------------------------------------------------


def test_check_in_and_its_undoing_are_the_guests_and_say_so(api, database, shop):
    ev, td = shop
    sold(api, ev, td, 2)
    buyer, ann, bo = guests(api)
    n1, n2 = ann["ticketNumber"], bo["ticketNumber"]
    before = len(webhooks(database))
    r = api.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": [n1]})
    assert r.status_code == 200, r.text
    at = r.json()["tickets"][0]["checkIn"]["created"]
    buyer, ann, bo = guests(api)
    assert ann["guestDetails"]["checkedIn"] is True and ann["revision"] == "2"
    entry = {"checkedIn": True, "checkInDate": at, "checkedInBy": api_identity(database, api)}
    assert ann["guestDetails"]["checkInDetails"] == [entry]
    assert buyer["guestDetails"]["checkedIn"] is False and buyer["guestDetails"]["checkInDetails"] == [entry]
    assert bo["revision"] == "1" and "checkInDetails" not in bo["guestDetails"]
    new = webhooks(database)[before:]
    expected = [("updated", buyer["id"]), ("updated", ann["id"]), ("guest_checked_in", ann["id"])]
    assert sorted((w.slug, w.entity_id) for w in new) == sorted(expected)
    action = next(w for w in new if w.slug == "guest_checked_in")
    assert action.event_type == f"{FQDN}_guest_checked_in"
    body = action.payload["actionEvent"]["body"]
    assert body["guest"] == ann
    assert body["eventDetails"]["title"] == ev["title"] and body["eventDetails"]["status"] == "UPCOMING"
    assert body["eventDetails"]["dateAndTimeSettings"]["startDate"] == ev["dateAndTimeSettings"]["startDate"]
    assert set(body["eventDetails"]) <= {"title", "shortDescription", "location", "dateAndTimeSettings", "eventPageUrl", "status"}
    assert action.identity["identityType"] == "APP"
    # the filter sees it
    assert [x["id"] for x in guests(api, {"guestDetails.checkedIn": True})] == [ann["id"]]
    assert len(guests(api, {"guestDetails.checkedIn": {"$ne": True}})) == 2
    # the second ticket: the buyer is checked in now (every ticket is)
    before = len(webhooks(database))
    assert api.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": [n2]}).status_code == 200
    arrived = [w.entity_id for w in webhooks(database, "guest_checked_in")[-2:]]
    assert sorted(arrived) == sorted([buyer["id"], bo["id"]]) and len(webhooks(database)) == before + 4
    assert guests(api, {"guestType": "BUYER"})[0]["guestDetails"]["checkedIn"] is True
    # undoing the first: updated only, the history keeps both dates
    before = len(webhooks(database))
    assert api.delete(CHECK_IN, params={"eventId": ev["id"], "ticketNumber": n1}).status_code == 200
    buyer, ann, bo = guests(api)
    assert ann["guestDetails"]["checkedIn"] is False and buyer["guestDetails"]["checkedIn"] is False
    undone = ann["guestDetails"]["checkInDetails"][0]
    assert undone["checkedIn"] is False and undone["checkInDate"] == at and undone["checkInCanceledDate"] >= at
    assert undone["checkInCanceledBy"] == undone["checkedInBy"]
    assert [d["checkedIn"] for d in buyer["guestDetails"]["checkInDetails"]] == [False, True]
    assert sorted(w.slug for w in webhooks(database)[before:]) == ["updated", "updated"]
    # undoing a check-in that is not there changes nothing
    before = len(webhooks(database))
    assert api.delete(CHECK_IN, params={"eventId": ev["id"], "ticketNumber": n1}).status_code == 200
    assert len(webhooks(database)) == before


def api_identity(database, api) -> str:
    """The id the check-in webhooks name for ``api``'s key (its identity id)."""
    from boxoffice.auth import ApiKey

    with database.session() as s:
        keys = list(s.scalars(select(ApiKey).where(ApiKey.site_id == api.site)))
    ids = {k.identity_id for k in keys if k.identity_type == IdentityType.APP.value}
    assert len(ids) == 1
    return ids.pop()


def test_a_door_sale_checked_in_before_it_is_confirmed_makes_checked_in_guests(api, database, shop):
    """What POS checkout does: the tickets are checked in, then the order confirmed."""
    ev, td = shop
    o = sold(api, ev, td, 2, pay_now=False)
    at = utcnow().replace(microsecond=0)
    staff_identity = {"identityType": "UNKNOWN", "staffMemberId": "5b0a3c1e-0000-4000-8000-000000000001"}
    with database.session(write=True) as s:
        s.execute(update(Ticket).where(Ticket.order_number == o["orderNumber"]).values(checked_in_date=at, checked_in_by=staff_identity))
    pay(api, o)
    buyer, ann, bo = guests(api)
    assert all(x["guestDetails"]["checkedIn"] for x in (buyer, ann, bo))
    entry = {"checkedIn": True, "checkInDate": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "checkedInByStaffMember": staff_identity["staffMemberId"]}
    assert ann["guestDetails"]["checkInDetails"] == [entry] and buyer["guestDetails"]["checkInDetails"] == [entry, entry]
    rows = webhooks(database, "guest_checked_in")
    assert [w.entity_id for w in rows] == [buyer["id"], ann["id"], bo["id"]]
    assert rows[0].identity == staff_identity and rows[0].payload["actionEvent"]["body"]["guest"] == buyer


# --- Query Guests ------------------------------------------------------------------------------


def test_filters_sort_and_both_pagings(api, shop):
    ev, td = shop
    other = create_event(api, title="Other", draft=False)
    td2 = create_td(api, other["id"], initialLimit=10)
    a = sold(api, ev, td, 2)
    b = sold(api, ev, td, 1)
    c = sold(api, other, td2, 1)
    everyone = guests(api)
    assert len(everyone) == 7
    assert [x["createdDate"] for x in everyone] == sorted(x["createdDate"] for x in everyone)
    assert {x["orderNumber"] for x in guests(api, {"eventId": ev["id"]})} == {a["orderNumber"], b["orderNumber"]}
    assert {x["orderNumber"] for x in guests(api, {"eventId": {"$ne": ev["id"]}})} == {c["orderNumber"]}
    assert len(guests(api, {"eventId": {"$in": [ev["id"], other["id"]]}})) == 7
    assert len(guests(api, {"guestType": "BUYER"})) == 3
    assert len(guests(api, {"guestType": {"$in": ["TICKET_HOLDER"]}, "eventId": ev["id"]})) == 3
    assert len(guests(api, {"ticketNumber": {"$exists": False}})) == 3
    t = a["tickets"][1]["ticketNumber"]
    assert [x["ticketNumber"] for x in guests(api, {"ticketNumber": t})] == [t]
    assert len(guests(api, {"attendanceStatus": "ATTENDING"})) == 7 and guests(api, {"attendanceStatus": "NOT_ATTENDING"}) == []
    assert len(guests(api, {"tickets": {"$exists": True}})) == 7 and guests(api, {"tickets": {"$exists": False}}) == []
    assert len(guests(api, {"rsvpId": {"$exists": False}, "secondaryLanguageCode": {"$exists": False}})) == 7
    assert guests(api, {"rsvpId": "x"}) == []
    contact = everyone[0]["contactId"]
    assert {x["guestType"] for x in guests(api, {"contactId": contact})} == {"BUYER", "TICKET_HOLDER"}
    assert len(guests(api, {"$or": [{"orderNumber": b["orderNumber"]}, {"orderNumber": c["orderNumber"]}]})) == 4
    mid = everyone[3]["createdDate"]
    assert all(x["createdDate"] >= mid for x in guests(api, {"createdDate": {"$gte": mid}}))
    assert len(guests(api, {"_createdDate": {"$lt": mid}})) == len([x for x in everyone if x["createdDate"] < mid])
    # sort: the three dates, either way
    desc = guests(api, sort=[{"fieldName": "createdDate", "order": "DESC"}])
    assert [x["id"] for x in desc] == [x["id"] for x in reversed(everyone)]
    assert len(guests(api, sort=[{"fieldName": "attendanceStatusUpdatedDate"}, {"fieldName": "updatedDate", "order": "DESC"}])) == 7
    # cursor paging: the filter and sort ride in the cursor
    seen, body = [], {"query": {"filter": {"eventId": ev["id"]}, "sort": [{"fieldName": "createdDate", "order": "DESC"}], "cursorPaging": {"limit": 2}}}
    while True:
        page = query(api, body)
        seen += [x["id"] for x in page["guests"]]
        assert page["pagingMetadata"]["count"] == len(page["guests"]) <= 2
        nxt = page["pagingMetadata"]["cursors"].get("next")
        if not nxt:
            break
        body = {"query": {"cursorPaging": {"limit": 2, "cursor": nxt}}}
    assert seen == [x["id"] for x in reversed(everyone) if x["eventId"] == ev["id"]]
    # offset paging: with the total
    page = query(api, {"query": {"paging": {"limit": 3, "offset": 3}}})
    assert page["pagingMetadata"] == {"count": 3, "offset": 3, "total": 7, "tooManyToCount": False}
    assert [x["id"] for x in page["guests"]] == [x["id"] for x in everyone[3:6]]
    # no query at all: the first 100, cursor style
    page = query(api, {})
    assert len(page["guests"]) == 7 and page["pagingMetadata"]["cursors"] == {"next": None, "prev": None}


def test_the_three_path_families(api, shop):
    ev, td = shop
    sold(api, ev, td, 1)
    for path in (Q, "/events-guests/v2/guests/query", "/_api/events-guests/v2/guests/query"):
        assert len(query(api, path=path)["guests"]) == 2


def test_refusals(api, make_api, shop):
    ev, td = shop
    sold(api, ev, td, 1)
    # who: buyers' keys, and a site's key without a manager's permission
    for who in (make_api(identity="visitor"), make_api(identity="member"), make_api(permissions={Permission.READ_EVENTS})):
        r = query(who, status=403)
        assert r.json()["message"]
    assert len(query(make_api(permissions={Permission.MANAGE_ORDERS}))["guests"]) == 2
    assert len(query(make_api(permissions={Permission.MANAGE_EVENTS}))["guests"]) == 2
    # another site sees none of them; naming them changes nothing
    b = make_api(site="site-b")
    assert query(b)["guests"] == [] and guests(b, {"eventId": ev["id"]}) == []
    assert query(Api(api.client, api.key, "site-b"), status=403)
    assert api.client.post(Q, json={}).status_code == 401
    # bad filters, sorts, limits and fieldsets: 400 naming the field
    bad = [
        ({"query": {"filter": {"name": "x"}}}, "query.filter.name"),
        ({"query": {"filter": {"guestType": {"$gt": "BUYER"}}}}, "query.filter.guestType.$gt"),
        ({"query": {"filter": {"guestType": "GUEST"}}}, "query.filter.guestType"),
        ({"query": {"filter": {"guestDetails.checkedIn": "yes"}}}, "query.filter.guestDetails.checkedIn"),
        ({"query": {"filter": {"tickets": {"$eq": "x"}}}}, "query.filter.tickets.$eq"),
        ({"query": {"filter": {"createdDate": {"$gt": "yesterday"}}}}, "query.filter.createdDate.$gt"),
        ({"query": {"filter": {"eventId": {"$in": "x"}}}}, "query.filter.eventId.$in"),
        ({"query": {"sort": [{"fieldName": "eventId"}]}}, "query.sort[0].fieldName"),
        ({"query": {"sort": [{"fieldName": "name"}]}}, "query.sort[0].fieldName"),
        ({"query": {"cursorPaging": {"limit": 101}}}, "query.cursorPaging.limit"),
        ({"query": {"paging": {"limit": 1000}}}, "query.paging.limit"),
        ({"query": {"paging": {"offset": limits.MAX_OFFSET + 1}}}, "query.paging.offset"),
        ({"query": {"cursorPaging": {"cursor": "forged"}}}, "query.cursorPaging.cursor"),
        ({"query": {"fieldsets": ["everything"]}}, "query.fieldsets[0]"),
        ({"fields": ["EVERYTHING"]}, "fields"),
        ({"fields": ["GUEST_DETAILS"] * 4}, "fields"),
        ({"query": {"fieldsets": ["guestDetails"] * 4}}, "query.fieldsets"),
    ]
    for body, field in bad:
        r = query(api, body, status=400)
        fv = r.json()["details"].get("validationError", {}).get("fieldViolations") or [{}]
        got = fv[0].get("field") or r.json()["details"].get("applicationError", {}).get("data", {}).get("field", "")
        assert got.startswith(field) or field in r.text, (body, r.text)
    # a filter too deep or too wide
    deep: dict = {"eventId": ev["id"]}
    for _ in range(limits.FILTER_MAX_DEPTH + 1):
        deep = {"$not": deep}
    assert query(api, {"query": {"filter": deep}}, status=400).status_code == 400
    wide = {"$or": [{"orderNumber": str(i)} for i in range(limits.FILTER_MAX_LEAVES + 1)]}
    assert query(api, {"query": {"filter": wide}}, status=400).status_code == 400
    assert query(api, {"query": {"filter": {"id": {"$in": ["x"] * (limits.FILTER_MAX_IN + 1)}}}}, status=400)


def test_a_staff_member_reads_the_guests_of_its_events_only(api, shop):
    ev, td = shop
    phone = add_control(api, ev["id"], {"phone": {"label": "Phone"}})
    theirs = create_event(api, title="Theirs", draft=False)
    r = reserve(api, td["id"], 1)
    res = api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": r["id"], "guests": two_guests(phone)[:1]})
    pay(api, res.json()["order"])
    sold(api, theirs, create_td(api, theirs["id"], initialLimit=5), 1)

    def staff(**extra):
        body = {"name": "Door", "permissions": ["CHECK_IN_GUESTS"], "specificEvents": {"events": [ev["id"]]}, **extra}
        s = api.post(SM, {"staffMember": body}).json()["staffMember"]
        token = s["loginLink"].split("#loginToken=", 1)[1]
        return Api(api.client, api.client.post(f"{SM}/login", json={"loginToken": token}).json()["accessToken"], api.site)

    door = staff()
    seen = guests(door)
    assert {x["eventId"] for x in seen} == {ev["id"]} and len(seen) == 2
    assert guests(door, {"eventId": theirs["id"]}) == []
    assert all(x["guestDetails"]["formResponse"] == {"inputValues": []} and "phone" not in x["guestDetails"] for x in seen)
    assert seen[0]["guestDetails"]["firstName"] == "Ann"
    forms = staff(permissions=["CHECK_IN_GUESTS", "READ_GUEST_FORM"])
    full = guests(forms)
    assert full[0]["guestDetails"]["formResponse"]["inputValues"] and full[0]["guestDetails"]["phone"] == "+1 555 0100"
    assert full == guests(api, {"eventId": ev["id"]})


# --- orders and events that end -------------------------------------------------------------


def cancel_order(database, order_number, *, event_first=False):
    """What order cancellation does (orders.hooks.canceled, in the order's unit)."""

    def work(s):
        o = s.scalars(select(Order).where(Order.order_number == order_number)).one()
        if event_first:
            e = s.get(Event, o.event_id)
            principal = Principal(o.site_id, IdentityType.APP, "canceler", frozenset(Permission))
            from boxoffice.events import service as events_service

            events_service._cancel(s, principal, e)
        o.status = OrderStatus.CANCELED
        for tk in orders_service.tickets_of(s, o):
            tk.canceled = True
        for hook in orders_service.hooks.canceled:
            hook(s, o)

    database.write(work)


def test_a_canceled_order_loses_its_guests_and_tells_them(api, database, shop):
    ev, td = shop
    a = sold(api, ev, td, 2)
    b = sold(api, ev, td, 1)
    before = {x["id"]: x for x in guests(api, {"orderNumber": a["orderNumber"]})}
    cancel_order(database, a["orderNumber"])
    assert {x["orderNumber"] for x in guests(api)} == {b["orderNumber"]}
    for gid, was in before.items():
        rows = webhooks(database, entity_id=gid)
        assert [w.slug for w in rows] == ["created", "updated", "guest_order_canceled", "updated", "deleted"]
        last = rows[-1].payload["deletedEvent"]["deletedEntity"]
        assert last == rows[-2].payload["updatedEvent"]["currentEntity"]
        assert last["attendanceStatus"] == "NOT_ATTENDING" and last["revision"] == "2"
        assert last["additionalDetails"]["orderStatus"] == "CANCELED"
        assert last["attendanceStatusUpdatedDate"] > was["attendanceStatusUpdatedDate"]
        body = rows[2].payload["actionEvent"]["body"]
        assert body["guest"] == last and body["event"]["title"] == ev["title"]
        assert body["order"]["orderStatus"] == "CANCELED" and body["order"]["invoice"]["grandTotal"]["value"] == a["invoice"]["grandTotal"]["value"]
    # canceled again: nothing more
    n = len(webhooks(database))
    cancel_order(database, a["orderNumber"])
    assert len(webhooks(database)) == n


def test_a_canceled_event_tells_its_guests_once(api, database, make_api, shop):
    ev, td = shop
    a = sold(api, ev, td, 1)
    other = create_event(api, title="Other", draft=False)
    sold(api, other, create_td(api, other["id"], initialLimit=5), 1)
    mine = [x["id"] for x in guests(api, {"eventId": ev["id"]})]
    assert api.post(f"{EVENTS}/{ev['id']}/cancel", {}).status_code == 200
    rows = webhooks(database, "guest_event_canceled")
    assert sorted(w.entity_id for w in rows) == sorted(mine)
    body = rows[0].payload["actionEvent"]["body"]
    assert body["event"]["status"] == "CANCELED" and body["guest"]["eventId"] == ev["id"]
    assert rows[0].identity["identityType"] == "APP" and rows[0].event_type == f"{FQDN}_guest_event_canceled"
    assert len(guests(api, {"eventId": ev["id"]})) == 2  # the orders stay, and so do their guests
    # its orders canceled afterwards, in another unit: told of the order too
    cancel_order(database, a["orderNumber"])
    assert len(webhooks(database, "guest_order_canceled")) == 2


def test_canceling_the_event_and_its_orders_in_one_unit_tells_each_guest_once(api, database, shop):
    ev, td = shop
    a = sold(api, ev, td, 2)
    cancel_order(database, a["orderNumber"], event_first=True)
    assert len(webhooks(database, "guest_event_canceled")) == 3
    assert webhooks(database, "guest_order_canceled") == [] and len(webhooks(database, "deleted")) == 3


def test_the_event_starting_tells_each_attending_guest_with_its_timing(api, database, shop):
    ev, td = shop
    sold(api, ev, td, 2)
    ids = sorted(x["id"] for x in guests(api))
    start = parse(ev["dateAndTimeSettings"]["startDate"])
    for before, _ in REMINDERS:
        database.write(lambda s, at=start - before: emit_lifecycle(s, at))
    database.write(lambda s: emit_lifecycle(s, start))
    database.write(lambda s: emit_lifecycle(s, start + dt.timedelta(days=1)))  # ended: nothing for guests
    rows = webhooks(database, "guest_event_starts")
    timings = ["STARTS_IN_1_WEEK", "STARTS_IN_3_DAYS", "STARTS_IN_1_DAY", "STARTS_IN_2_HOURS", "STARTS_IN_1_HOUR", "STARTS_IN_30_MINUTES", "NOW"]
    assert [w.payload["actionEvent"]["body"]["timing"] for w in rows] == [t for t in timings for _ in ids]
    assert all(sorted(w.entity_id for w in rows[i : i + 3]) == ids for i in range(0, len(rows), 3))
    body = rows[-1].payload["actionEvent"]["body"]
    assert body["event"]["title"] == ev["title"] and body["guest"]["attendanceStatus"] == "ATTENDING"
    assert rows[-1].event_type == f"{FQDN}_guest_event_starts"
    assert rows[-1].identity == {"identityType": "APP", "appId": "boxoffice"}


def test_deleting_an_event_deletes_its_guests(api, database, shop):
    ev, td = shop
    sold(api, ev, td, 1)
    ids = [x["id"] for x in guests(api)]

    def work(s):
        principal = Principal(api.site, IdentityType.APP, "owner", frozenset(Permission))
        guests_service.on_event_deleting(s, principal, s.get(Event, ev["id"]))

    database.write(work)
    assert guests(api) == []
    for gid in ids:
        assert [w.slug for w in webhooks(database, entity_id=gid)] == ["created", "updated", "updated", "deleted"]


# --- the migration's backfill --------------------------------------------------------------


def test_the_migration_writes_the_guests_of_orders_confirmed_before_it(api, database, shop):
    ev, td = shop
    o = sold(api, ev, td, 2)
    assert api.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": [o["tickets"][0]["ticketNumber"]]}).status_code == 200
    sold(api, ev, td, 1, pay_now=False)  # pending: no guest
    keep = ("eventId", "orderNumber", "ticketNumber", "contactId", "guestType", "attendanceStatus", "tickets", "guestDetails", "totalGuests")
    def rows():
        return sorted(({k: x.get(k) for k in keep} for x in guests(api)), key=lambda x: (x["orderNumber"], x["ticketNumber"] or ""))

    made = rows()
    assert len(made) == 3
    with database.session(write=True) as s:
        s.execute(delete(Guest))
    spec = importlib.util.spec_from_file_location("m0016", ROOT / "migrations" / "versions" / "0016_guests.py")
    assert spec and spec.loader
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    with database.engine.begin() as conn:
        m.op = SimpleNamespace(get_bind=lambda: conn)
        m._backfill()
    assert rows() == made
