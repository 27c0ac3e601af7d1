"""Staff members (`@wix/auto_sdk_events_staff-members`): every rule and refusal of the 8
methods, the staff member's own credential (Login -> an API key confined to its events),
tenancy and who may do what, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from boxoffice import limits
from boxoffice.auth import ApiKey, _cache
from boxoffice.identity import IdentityType, Permission, Principal
from boxoffice.outbox.models import OutboxEvent
from boxoffice.tickets.pdf import sign_ticket_code
from tests.conftest import Api, new_id
from tests.helpers import CHECKOUT, EVENTS, RES, TD, checkout, create_event, create_td, reserve, td_body

SM = "/events/v1/staff-members"
ALT = "/_api/events-staff-members/v1/staff-members"
BO = "/events-staff-members/v1/staff-members"
TICKETS = "/events/v1/tickets"
CHECK_IN = "/events/v1/tickets/check-in"
ORDERS = "/events/v1/orders"
FQDN = "wix.events.staffmembers.v1.staff_member"


def code(r):
    return r.json()["details"]["applicationError"]["code"]


def violation(r):
    return r.json()["details"]["validationError"]["fieldViolations"][0]


def create_staff(api, expect=200, **fields):
    body = {"name": "Door Dan", "permissions": ["CHECK_IN_GUESTS"], "allEvents": {}, **fields}
    body = {k: v for k, v in body.items() if v is not None}
    r = api.post(SM, {"staffMember": body})
    assert r.status_code == expect, r.text
    return r.json()["staffMember"] if expect == 200 else r


def token_of(staff):
    link = staff["loginLink"]
    assert "#loginToken=" in link
    return unquote(link.split("#loginToken=", 1)[1])


def login(api, staff, status=200):
    r = api.client.post(f"{SM}/login", json={"loginToken": token_of(staff)})
    assert r.status_code == status, r.text
    return r.json() if status == 200 else r


def staff_api(api, staff) -> Api:
    """What the Check-in client does: Login with the link's token, then call the API with
    the access token as its key (the SDK's ApiKeyStrategy headers)."""
    return Api(api.client, login(api, staff)["accessToken"], api.site)


def outbox(database, entity_id=None):
    with database.session() as s:
        stmt = select(OutboxEvent).order_by(OutboxEvent.position)
        if entity_id:
            stmt = stmt.where(OutboxEvent.entity_id == entity_id)
        return list(s.scalars(stmt))


def paid_order(api, ev, n=2):
    td = create_td(api, ev["id"], initialLimit=10)
    o = checkout(api, ev["id"], reserve(api, td["id"], n)["id"])["order"]
    assert api.post(f"/boxoffice/v1/test-payments/{o['orderNumber']}/pay").status_code == 200
    return o, [t["ticketNumber"] for t in o["tickets"]]


# --- the management methods -----------------------------------------------------------


def test_create_get_update_delete_with_webhooks(api, database):
    ev = create_event(api)
    s = create_staff(api, allEvents=None, specificEvents={"events": [ev["id"]]}, permissions=["CHECK_IN_GUESTS", "READ_GUEST_FORM"],
                     extendedFields={"namespaces": {"_user_fields": {"shift": "early"}}})
    assert len(s["id"]) == 36 and s["revision"] == "1" and s["createdDate"] == s["updatedDate"]
    assert s["name"] == "Door Dan" and s["status"] == "PENDING"
    assert s["permissions"] == ["CHECK_IN_GUESTS", "READ_GUEST_FORM"]
    assert s["specificEvents"] == {"events": [ev["id"]]} and "allEvents" not in s
    assert s["extendedFields"] == {"namespaces": {"_user_fields": {"shift": "early"}}}
    assert s["loginLink"].startswith("http://testserver/boxoffice/v1/staff/login#loginToken=")
    plain = {k: v for k, v in s.items() if k != "loginLink"}
    r = api.get(f"{SM}/{s['id']}", params={"staffMemberId": s["id"]})
    assert r.status_code == 200 and r.json() == {"staffMember": plain}
    r = api.get(f"{SM}/{s['id']}", params={"fieldsets": "LOGIN_LINK"})
    assert r.json()["staffMember"]["loginLink"] == s["loginLink"]  # the same link for the staff member's life
    r = api.patch(f"{SM}/{s['id']}", {"staffMember": {"id": s["id"], "revision": "1", "name": "Door Dana", "allEvents": {}}})
    assert r.status_code == 200, r.text
    u = r.json()["staffMember"]
    assert u["name"] == "Door Dana" and u["allEvents"] == {} and "specificEvents" not in u and u["revision"] == "2"
    assert u["permissions"] == s["permissions"] and u["createdDate"] == s["createdDate"] and "loginLink" not in u
    r = api.patch(f"{SM}/{s['id']}", {"staffMember": {**u, "status": "ACCESS_PAUSED", "permissions": ["CHECK_IN_GUESTS"]}})
    assert r.status_code == 200 and r.json()["staffMember"]["status"] == "ACCESS_PAUSED"
    assert r.json()["staffMember"]["permissions"] == ["CHECK_IN_GUESTS"] and r.json()["staffMember"]["revision"] == "3"
    r = api.delete(f"{SM}/{s['id']}", params={"staffMemberId": s["id"]})
    assert r.status_code == 200 and r.json() == {}
    r = api.get(f"{SM}/{s['id']}")
    assert r.status_code == 404 and code(r) == "STAFF_MEMBER_NOT_FOUND"
    assert api.delete(f"{SM}/{s['id']}").status_code == 404
    rows = outbox(database, s["id"])
    assert [o.event_type for o in rows] == [f"{FQDN}_created", f"{FQDN}_updated", f"{FQDN}_updated", f"{FQDN}_deleted"]
    assert [o.entity_event_sequence for o in rows] == [1, 2, 3, 4]
    assert rows[0].payload["createdEvent"]["entity"] == plain  # never the login link
    assert rows[1].payload["updatedEvent"]["currentEntity"] == u
    assert rows[3].payload["deletedEvent"]["deletedEntity"]["status"] == "ACCESS_PAUSED"
    assert rows[0].payload["entityFqdn"] == FQDN


def test_the_three_path_families(api):
    s = create_staff(api)
    for base in (ALT, BO):
        assert api.get(f"{base}/{s['id']}").json()["staffMember"]["id"] == s["id"]
        assert [x["id"] for x in api.post(f"{base}/query", {}).json()["staffMembers"]] == [s["id"]]
    r = api.post(ALT, {"staffMember": {"name": "Alt", "allEvents": {}}})
    assert r.status_code == 200
    r2 = api.client.post(f"{ALT}/login", json={"loginToken": token_of(r.json()["staffMember"])})
    assert r2.status_code == 200 and r2.json()["staffMember"]["status"] == "HAS_ACCESS"
    assert api.client.post(f"{BO}/access", json={"accessToken": r2.json()["accessToken"]}).status_code == 200


def test_create_validation(api, make_api):
    ev = create_event(api)
    for body, field, rule in (
        ({"name": "N"}, "staffMember.allEvents", "REQUIRED_FIELD"),
        ({"name": "N", "allEvents": {}, "specificEvents": {"events": []}}, "staffMember.specificEvents", "CUSTOM"),
        ({"name": "", "allEvents": {}}, "staffMember.name", "MIN_LENGTH"),
        ({"name": "x" * 121, "allEvents": {}}, "staffMember.name", "MAX_LENGTH"),
        ({"allEvents": {}, "permissions": ["CHECK_IN_GUESTS", "SELL_TICKETS", "ADD_GUESTS", "READ_ANALYTICS", "READ_GUEST_FORM"]},
         "staffMember.permissions", "MAX_SIZE"),
        ({"specificEvents": {"events": [new_id() for _ in range(51)]}}, "staffMember.specificEvents.events", "MAX_SIZE"),
        ({"specificEvents": {"events": ["x" * 101]}}, "staffMember.specificEvents.events[0]", "MAX_LENGTH"),
        ({"allEvents": {}, "extendedFields": {"namespaces": {"a": {"b": "x" * (limits.FREEFORM_MAX_BYTES + 1)}}}},
         "staffMember.extendedFields.namespaces", "FORMAT"),
    ):
        r = api.post(SM, {"staffMember": body})
        assert r.status_code == 400, (body, r.text)
        assert violation(r)["field"] == field and violation(r)["violatedRule"] == rule, r.text
    r = api.post(SM, {"staffMember": {"allEvents": {}, "permissions": ["FLY"]}})
    assert r.status_code == 400 and violation(r)["field"] == "staffMember.permissions[0]"
    assert api.post(SM, {}).status_code == 400
    # the bounds themselves are accepted; duplicates go; the status starts PENDING whatever is sent
    s = create_staff(api, name="n" * 120, allEvents=None, status="HAS_ACCESS",
                     specificEvents={"events": [ev["id"], ev["id"]]},
                     permissions=["CHECK_IN_GUESTS", "CHECK_IN_GUESTS", "SELL_TICKETS", "READ_ANALYTICS"],
                     id="mine", revision="7", createdDate="2000-01-01T00:00:00.000Z", loginLink="https://evil.example")
    assert s["status"] == "PENDING" and s["specificEvents"] == {"events": [ev["id"]]} and s["id"] != "mine"
    assert s["permissions"] == ["CHECK_IN_GUESTS", "SELL_TICKETS", "READ_ANALYTICS"] and s["revision"] == "1"
    assert not s["createdDate"].startswith("2000") and "evil" not in s["loginLink"]
    # no name, no permissions: allowed (the typings require neither)
    bare = create_staff(api, name=None, permissions=None)
    assert "name" not in bare and bare["permissions"] == []
    # every named event must be one of the site's
    r = create_staff(api, allEvents=None, specificEvents={"events": [ev["id"], new_id()]}, expect=404)
    assert code(r) == "EVENT_NOT_FOUND"
    theirs = create_event(make_api(site="site-b"))
    assert code(create_staff(api, allEvents=None, specificEvents={"events": [theirs["id"]]}, expect=404)) == "EVENT_NOT_FOUND"


def test_at_most_so_many_staff_members_per_site(api, make_api, monkeypatch):
    monkeypatch.setattr(limits, "STAFF_MEMBERS_PER_SITE", 2)
    create_staff(api)
    create_staff(api)
    r = create_staff(api, expect=428)
    assert code(r) == "STAFF_MEMBERS_LIMIT_REACHED" and r.json()["details"]["applicationError"]["data"] == {"limit": 2}
    create_staff(make_api(site="site-b"))  # per site


def test_update_rules(api, database):
    ev = create_event(api)
    s = create_staff(api)
    url = f"{SM}/{s['id']}"
    r = api.patch(url, {"staffMember": {"name": "X"}})
    assert r.status_code == 400 and violation(r)["field"] == "staffMember.revision" and violation(r)["violatedRule"] == "REQUIRED_FIELD"
    for bad in ("one", True):
        r = api.patch(url, {"staffMember": {"revision": bad, "name": "X"}})
        assert r.status_code == 400
    r = api.patch(url, {"staffMember": {"revision": "2", "name": "X"}})
    assert r.status_code == 428 and code(r) == "REVISION_MISMATCH"
    assert r.json()["details"]["applicationError"]["data"] == {"currentRevision": "1"}
    r = api.patch(url, {"staffMember": {"revision": "1", "id": new_id(), "name": "X"}})
    assert r.status_code == 400 and violation(r)["field"] == "staffMember.id"
    r = api.patch(url, {"staffMember": {"revision": "1", "allEvents": {}, "specificEvents": {"events": [ev["id"]]}}})
    assert r.status_code == 400 and violation(r)["field"] == "staffMember.specificEvents"
    r = api.patch(url, {"staffMember": {"revision": "1", "status": "SLEEPING"}})
    assert r.status_code == 400 and violation(r)["field"] == "staffMember.status"
    r = api.patch(url, {"staffMember": {"revision": "1", "specificEvents": {"events": [new_id()]}}})
    assert r.status_code == 404 and code(r) == "EVENT_NOT_FOUND"
    # refusals changed nothing and wrote nothing
    assert api.get(url).json()["staffMember"] == {k: v for k, v in s.items() if k != "loginLink"}
    assert len(outbox(database, s["id"])) == 1
    # a PATCH changes what it carries; the name may be cleared
    r = api.patch(url, {"staffMember": {"revision": 1, "specificEvents": {"events": [ev["id"]]}}})
    assert r.status_code == 200 and r.json()["staffMember"]["specificEvents"] == {"events": [ev["id"]]}
    assert r.json()["staffMember"]["name"] == "Door Dan" and r.json()["staffMember"]["permissions"] == ["CHECK_IN_GUESTS"]
    r = api.patch(url, {"staffMember": {"revision": "2", "name": None}})
    assert r.status_code == 200 and "name" not in r.json()["staffMember"]
    r = api.patch(f"{SM}/{new_id()}", {"staffMember": {"revision": "1", "name": "X"}})
    assert r.status_code == 404 and code(r) == "STAFF_MEMBER_NOT_FOUND"


def test_query_filter_sort_paging_and_fieldsets(api):
    made = []
    for i in range(5):
        made.append(create_staff(api, name=f"S{i}"))
        time.sleep(0.002)
    ids = lambda r: [x["id"] for x in r.json()["staffMembers"]]  # noqa: E731
    r = api.post(f"{SM}/query", {})
    assert r.status_code == 200 and ids(r) == [s["id"] for s in made]  # createdDate ASC (Wix's default)
    assert all("loginLink" not in x for x in r.json()["staffMembers"])
    r = api.post(f"{SM}/query", {"query": {"filter": {"id": {"$in": [made[1]["id"], made[3]["id"]]}},
                                           "sort": [{"fieldName": "createdDate", "order": "DESC"}]}})
    assert ids(r) == [made[3]["id"], made[1]["id"]]
    r = api.post(f"{SM}/query", {"query": {"filter": {"createdDate": {"$gte": made[3]["createdDate"]}}}, "fieldsets": ["LOGIN_LINK"]})
    assert ids(r) == [made[3]["id"], made[4]["id"]]
    assert [x["loginLink"] for x in r.json()["staffMembers"]] == [made[3]["loginLink"], made[4]["loginLink"]]
    r = api.post(f"{SM}/query", {"query": {"filter": {"$and": [{"name": "S2"}, {"status": "PENDING"}]}}})
    assert ids(r) == [made[2]["id"]]
    # cursor paging (what the SDK's builder sends), walking every page
    seen, cursor = [], None
    while True:
        q = {"cursorPaging": {"limit": 2, "cursor": cursor}} if cursor else {"filter": {}, "cursorPaging": {"limit": 2}}
        m = api.post(f"{SM}/query", {"query": q}).json()
        seen += [x["id"] for x in m["staffMembers"]]
        assert m["pagingMetadata"]["count"] == len(m["staffMembers"])
        cursor = m["pagingMetadata"]["cursors"]["next"]
        if not cursor:
            break
    assert seen == [s["id"] for s in made]
    m = api.post(f"{SM}/query", {"query": {"paging": {"limit": 2, "offset": 1}}}).json()
    assert [x["id"] for x in m["staffMembers"]] == [made[1]["id"], made[2]["id"]] and m["pagingMetadata"]["total"] == 5
    # refusals: unknown field, unknown fieldset, limit above 1000, forged cursor
    r = api.post(f"{SM}/query", {"query": {"filter": {"email": "x"}}})
    assert r.status_code == 400 and code(r) == "FILTER_PARSER_ERROR"
    assert api.post(f"{SM}/query", {"fieldsets": ["EVERYTHING"]}).status_code == 400
    assert api.post(f"{SM}/query", {"fieldsets": ["LOGIN_LINK"] * 4}).status_code == 400
    assert api.post(f"{SM}/query", {"query": {"cursorPaging": {"limit": 1001}}}).status_code == 400
    assert api.post(f"{SM}/query", {"query": {"cursorPaging": {"cursor": "forged"}}}).status_code == 400
    assert api.get(f"{SM}/{made[0]['id']}", params={"fieldsets": "NOPE"}).status_code == 400


def test_tenancy_and_who_may_manage_staff(api, make_api):
    s = create_staff(api)
    other = make_api(site="site-b")
    assert code(other.get(f"{SM}/{s['id']}")) == "STAFF_MEMBER_NOT_FOUND"
    assert other.patch(f"{SM}/{s['id']}", {"staffMember": {"revision": "1", "name": "Mine"}}).status_code == 404
    assert other.delete(f"{SM}/{s['id']}").status_code == 404
    assert other.post(f"{SM}/query", {}).json()["staffMembers"] == []
    for caller in (make_api(identity="visitor"), make_api(identity="member"), make_api(permissions={Permission.READ_EVENTS}),
                   make_api(permissions={Permission.MANAGE_ORDERS})):
        assert caller.post(SM, {"staffMember": {"allEvents": {}}}).status_code == 403
        assert caller.get(f"{SM}/{s['id']}").status_code == 403
        assert caller.patch(f"{SM}/{s['id']}", {"staffMember": {"revision": "1", "name": "N"}}).status_code == 403
        assert caller.delete(f"{SM}/{s['id']}").status_code == 403
        assert caller.post(f"{SM}/query", {}).status_code == 403
    assert make_api(permissions={Permission.MANAGE_EVENTS}).get(f"{SM}/{s['id']}").status_code == 200
    assert api.get(f"{SM}/{s['id']}").status_code == 200


# --- Join, Login, Access ------------------------------------------------------------------


def test_login_join_and_access(api, database):
    s = create_staff(api)
    first = login(api, s)
    assert first["accessToken"].startswith("bo_") and len(first["deviceId"]) == 36
    m = first["staffMember"]
    assert m["id"] == s["id"] and m["status"] == "HAS_ACCESS" and m["revision"] == "2" and "loginLink" not in m
    # the first login is an update of the staff member, by the staff member
    rows = outbox(database, s["id"])
    assert [o.event_type for o in rows] == [f"{FQDN}_created", f"{FQDN}_updated"]
    assert rows[1].identity == {"identityType": "UNKNOWN", "staffMemberId": s["id"]}
    # another device: a new access token, no change to the staff member
    second = login(api, s)
    assert second["accessToken"] != first["accessToken"] and second["deviceId"] != first["deviceId"]
    assert second["staffMember"]["revision"] == "2" and len(outbox(database, s["id"])) == 2
    # Join (deprecated) takes the same token
    r = api.client.post(f"{SM}/join", json={"joinToken": token_of(s)})
    assert r.status_code == 200 and r.json()["staffMember"]["id"] == s["id"] and r.json()["accessToken"].startswith("bo_")
    # Access: which staff member a token is
    for token in (first["accessToken"], second["accessToken"]):
        r = api.client.post(f"{SM}/access", json={"accessToken": token})
        assert r.status_code == 200 and r.json()["staffMember"]["id"] == s["id"]
    # an Authorization header is not needed, and a wrong one is not read
    r = api.post(f"{SM}/access", {"accessToken": first["accessToken"]})
    assert r.status_code == 200
    # refusals: forged, altered or foreign tokens are 401
    good = token_of(s)
    for bad in (good[:-1] + ("A" if good[-1] != "A" else "B"), good.split(".")[0], "x", f"{new_id()}.{good.split('.')[1]}", "é" * 40):
        r = api.client.post(f"{SM}/login", json={"loginToken": bad})
        assert r.status_code == 401 and code(r) == "INVALID_TOKEN", bad
        assert api.client.post(f"{SM}/join", json={"joinToken": bad}).status_code == 401
    for bad in ("bo_nope", api.key, good):  # the owner's key is not a staff member's access token
        r = api.client.post(f"{SM}/access", json={"accessToken": bad})
        assert r.status_code == 401 and code(r) == "INVALID_TOKEN"
    for path, field in (("login", "loginToken"), ("join", "joinToken"), ("access", "accessToken")):
        assert api.client.post(f"{SM}/{path}", json={}).status_code == 400
        assert api.client.post(f"{SM}/{path}", json={field: ""}).status_code == 400
        assert api.client.post(f"{SM}/{path}", json={field: "x" * 501}).status_code == 400


def test_a_paused_staff_member_is_refused_everywhere_at_once(api):
    ev = create_event(api, draft=False)
    _, numbers = paid_order(api, ev)
    s = create_staff(api)
    door = staff_api(api, s)
    token = door.key
    r = api.patch(f"{SM}/{s['id']}", {"staffMember": {"revision": "2", "status": "ACCESS_PAUSED"}})
    assert r.status_code == 200
    r = door.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": numbers[:1]})
    assert r.status_code == 403 and code(r) == "STAFF_MEMBER_SUSPENDED"
    assert code(login(api, s, status=428)) == "STAFF_MEMBER_SUSPENDED"
    r = api.client.post(f"{SM}/join", json={"joinToken": token_of(s)})
    assert r.status_code == 428 and code(r) == "STAFF_MEMBER_SUSPENDED"
    r = api.client.post(f"{SM}/access", json={"accessToken": token})
    assert r.status_code == 428 and code(r) == "STAFF_MEMBER_SUSPENDED"
    api.patch(f"{SM}/{s['id']}", {"staffMember": {"revision": "3", "status": "HAS_ACCESS"}})
    assert door.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": numbers[:1]}).status_code == 200


def test_each_login_is_a_device_and_the_oldest_past_the_limit_is_logged_out(api, monkeypatch):
    monkeypatch.setattr(limits, "STAFF_DEVICES_PER_MEMBER", 2)
    s = create_staff(api)
    tokens = []
    for _ in range(3):
        tokens.append(login(api, s)["accessToken"])
        time.sleep(0.002)
    assert api.client.post(f"{SM}/access", json={"accessToken": tokens[0]}).status_code == 401
    for t in tokens[1:]:
        assert api.client.post(f"{SM}/access", json={"accessToken": t}).status_code == 200


# --- what the staff member's credential may do -------------------------------------------


def test_a_staff_member_checks_in_tickets_of_its_events_only(api, make_api):
    mine = create_event(api, title="Mine", draft=False)
    theirs = create_event(api, title="Not mine", draft=False)
    o, numbers = paid_order(api, mine)
    o2, other_numbers = paid_order(api, theirs)
    s = create_staff(api, allEvents=None, specificEvents={"events": [mine["id"]]})
    door = staff_api(api, s)
    # check in and undo, for its event
    r = door.post(CHECK_IN, {"eventId": mine["id"], "ticketNumber": numbers[:1]})
    assert r.status_code == 200, r.text
    assert r.json()["tickets"][0]["checkIn"]["created"]
    again = door.post(CHECK_IN, {"eventId": mine["id"], "ticketNumber": numbers[:1]})
    assert again.status_code == 428
    assert again.json()["details"]["applicationError"]["data"]["checkedInBy"] == {"identityType": "UNKNOWN", "staffMemberId": s["id"]}
    r = door.delete(CHECK_IN, params={"eventId": mine["id"], "ticketNumber": numbers[:1]})
    assert r.status_code == 200 and "checkIn" not in r.json()["tickets"][0]
    # scanning the QR code
    code_ = sign_ticket_code(api.client.app.state.secret, api.site, mine["id"], numbers[1])
    assert door.post("/boxoffice/v1/check-in/scan", {"code": code_}).status_code == 200
    # another event: 403 by name, 404 by number
    r = door.post(CHECK_IN, {"eventId": theirs["id"], "ticketNumber": other_numbers[:1]})
    assert r.status_code == 403 and code(r) == "EVENT_NOT_ASSIGNED"
    assert door.delete(CHECK_IN, params={"eventId": theirs["id"], "ticketNumber": other_numbers[:1]}).status_code == 403
    code_ = sign_ticket_code(api.client.app.state.secret, api.site, theirs["id"], other_numbers[0])
    assert door.post("/boxoffice/v1/check-in/scan", {"code": code_}).status_code == 403
    assert door.get(f"{TICKETS}/{other_numbers[0]}").status_code == 404
    assert door.get(f"{TICKETS}/{other_numbers[0]}", params={"eventId": theirs["id"]}).status_code == 403
    assert door.get(f"/boxoffice/v1/check-in/{other_numbers[0]},{theirs['id']}").status_code == 403
    assert door.get(f"/boxoffice/v1/check-in/{numbers[0]},{mine['id']}").status_code == 200
    # the owner's view of the other event is untouched
    assert "checkIn" not in api.get(f"{TICKETS}/{other_numbers[0]}").json()["ticket"]
    # reading: its events' tickets and orders, nothing else
    r = door.get(TICKETS, params={"fieldset": "TICKET_DETAILS"})
    assert r.status_code == 200 and sorted(t["ticketNumber"] for t in r.json()["tickets"]) == sorted(numbers)
    assert door.get(TICKETS, params={"eventId": mine["id"]}).json()["total"] == 2
    assert door.get(TICKETS, params={"eventId": [mine["id"], theirs["id"]]}).status_code == 403
    assert door.get(f"{TICKETS}/{numbers[0]}").status_code == 200
    r = door.get(ORDERS, params={"fieldset": ["TICKETS", "DETAILS"]})
    assert r.status_code == 200 and [x["orderNumber"] for x in r.json()["orders"]] == [o["orderNumber"]]
    assert door.get(ORDERS, params={"eventId": theirs["id"]}).status_code == 403
    assert door.get(f"/events/v1/events/{mine['id']}/orders/{o['orderNumber']}").status_code == 200
    r = door.get(f"/events/v1/events/{theirs['id']}/orders/{o2['orderNumber']}")
    assert r.status_code == 403 and code(r) == "EVENT_NOT_ASSIGNED"
    # another site's staff key is refused by the site header; its own site sees nothing of ours
    assert Api(api.client, door.key, "site-b").get(TICKETS).status_code == 403


def test_a_staff_member_can_do_nothing_else(api, make_api):
    ev = create_event(api, draft=False)
    o, numbers = paid_order(api, ev)
    td = create_td(api, ev["id"], name="Other")
    s = create_staff(api)
    door = staff_api(api, s)
    refused = [
        door.post(EVENTS, {"event": {"title": "Mine"}}),
        door.post(f"{EVENTS}/query", {}),
        door.get(f"{EVENTS}/{ev['id']}"),
        door.delete(f"{EVENTS}/{ev['id']}"),
        door.post(TD, td_body(ev["id"])),
        door.get(f"{TD}/{td['id']}"),
        door.post(f"{TD}/query", {}),
        door.post(RES, {"ticketReservation": {"tickets": [{"ticketDefinitionId": td["id"], "quantity": 1}]}}),
        door.post(CHECKOUT, {"eventId": ev["id"], "reservationId": new_id()}),
        door.patch(f"{TICKETS}/{numbers[0]}", {"eventId": ev["id"], "archived": True}),
        door.patch(f"/events/v1/events/{ev['id']}/orders/{o['orderNumber']}", {"archived": True}),
        door.post(f"/events/v1/events/{ev['id']}/orders/confirm", {"orderNumber": [o["orderNumber"]]}),
        door.get(f"{ORDERS}/summary"),
        door.post("/events-policies/v2/policies", {"policy": {"eventId": ev["id"], "name": "N", "body": "B"}}),
        door.post("/events/v1/schedule/query", {}),
        door.post("/events/v1/categories/query", {}),
        door.get("/boxoffice/v1/webhooks"),
        door.post("/boxoffice/v1/webhooks", {"url": "https://example.com/h", "eventTypes": ["*"]}),
        door.post(SM, {"staffMember": {"allEvents": {}}}),
        door.get(f"{SM}/{s['id']}"),
        door.post(f"{SM}/query", {}),
        door.delete(f"{SM}/{s['id']}"),
        door.post(f"/boxoffice/v1/test-payments/{o['orderNumber']}/pay"),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused), [(r.request.url.path, r.status_code) for r in refused]
    assert api.get(f"{EVENTS}/{ev['id']}").status_code == 200


def test_guest_form_answers_need_read_guest_form(api):
    ev = create_event(api, draft=False)
    o, numbers = paid_order(api, ev)
    plain = staff_api(api, create_staff(api, name="Plain"))
    forms = staff_api(api, create_staff(api, name="Forms", permissions=["CHECK_IN_GUESTS", "READ_GUEST_FORM"]))
    owner = api.get(f"/events/v1/events/{ev['id']}/orders/{o['orderNumber']}").json()["order"]
    assert owner["checkoutForm"]["inputValues"]
    r = plain.get(f"/events/v1/events/{ev['id']}/orders/{o['orderNumber']}").json()["order"]
    assert r["checkoutForm"] == {"inputValues": []} and r["firstName"] == owner["firstName"]
    assert all(t["guestDetails"]["form"] == {"inputValues": []} for t in r["tickets"])
    seen = forms.get(f"/events/v1/events/{ev['id']}/orders/{o['orderNumber']}").json()["order"]
    assert seen["checkoutForm"] == owner["checkoutForm"] and seen["tickets"][0]["guestDetails"] == owner["tickets"][0]["guestDetails"]
    t = plain.get(f"{TICKETS}/{numbers[0]}").json()["ticket"]
    assert t["guestDetails"]["form"] == {"inputValues": []} and t["guestDetails"]["firstName"]
    assert forms.get(f"{TICKETS}/{numbers[0]}").json()["ticket"]["guestDetails"]["form"]["inputValues"]
    listed = plain.get(TICKETS, params={"fieldset": ["GUEST_FORM", "GUEST_DETAILS"]}).json()["tickets"]
    assert listed and all(x["guestDetails"]["form"] == {"inputValues": []} for x in listed)


def test_without_check_in_guests_the_credential_reaches_nothing(api):
    ev = create_event(api, draft=False)
    _, numbers = paid_order(api, ev)
    s = create_staff(api, permissions=["READ_ANALYTICS"])
    door = staff_api(api, s)
    assert door.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": numbers[:1]}).status_code == 403
    assert door.get(TICKETS).status_code == 403
    assert door.get(ORDERS).status_code == 403
    api.patch(f"{SM}/{s['id']}", {"staffMember": {"revision": "2", "permissions": ["CHECK_IN_GUESTS"]}})
    assert door.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": numbers[:1]}).status_code == 200


def test_deleting_a_staff_member_revokes_its_credential_at_once(api, database):
    ev = create_event(api, draft=False)
    _, numbers = paid_order(api, ev)
    s = create_staff(api)
    door = staff_api(api, s)
    assert door.get(TICKETS).status_code == 200  # the key is in the cache now
    with database.session() as session:
        keys = list(session.scalars(select(ApiKey).where(ApiKey.identity_id == s["id"])))
        assert len(keys) == 1 and keys[0].identity_type == "staff" and keys[0].permissions == ""
        h = keys[0].key_hash
    assert api.delete(f"{SM}/{s['id']}").status_code == 200
    with database.session() as session:
        assert list(session.scalars(select(ApiKey).where(ApiKey.identity_id == s["id"]))) == []
    r = door.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": numbers[:1]})
    assert r.status_code == 401
    # another process may still hold the key in its cache (up to auth_cache_seconds): the
    # staff member's row is read on every call, so it is refused all the same
    _cache.put(h, Principal(site_id=api.site, identity_type=IdentityType.STAFF, identity_id=s["id"], permissions=frozenset()))
    r = door.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": numbers[:1]})
    assert r.status_code == 401 and code(r) == "UNAUTHENTICATED"
    assert door.get(TICKETS).status_code == 401
    assert door.get(ORDERS).status_code == 401
    assert api.client.post(f"{SM}/access", json={"accessToken": door.key}).status_code == 401
    assert api.client.post(f"{SM}/login", json={"loginToken": token_of(s)}).status_code == 401


def test_reassignment_takes_effect_at_once(api):
    a = create_event(api, title="A", draft=False)
    b = create_event(api, title="B", draft=False)
    _, na = paid_order(api, a)
    _, nb = paid_order(api, b)
    s = create_staff(api, allEvents=None, specificEvents={"events": [a["id"]]})
    door = staff_api(api, s)
    assert door.get(TICKETS).json()["total"] == 2
    assert door.post(CHECK_IN, {"eventId": b["id"], "ticketNumber": nb[:1]}).status_code == 403
    api.patch(f"{SM}/{s['id']}", {"staffMember": {"revision": "2", "specificEvents": {"events": [b["id"]]}}})
    assert door.post(CHECK_IN, {"eventId": b["id"], "ticketNumber": nb[:1]}).status_code == 200
    assert door.post(CHECK_IN, {"eventId": a["id"], "ticketNumber": na[:1]}).status_code == 403
    # all events: present and future ones
    api.patch(f"{SM}/{s['id']}", {"staffMember": {"revision": "3", "allEvents": {}}})
    later = create_event(api, title="Later", draft=False)
    _, nl = paid_order(api, later)
    assert door.post(CHECK_IN, {"eventId": later["id"], "ticketNumber": nl[:1]}).status_code == 200
    assert door.get(TICKETS).json()["total"] == 6
    # assigned to no event: sees nothing
    api.patch(f"{SM}/{s['id']}", {"staffMember": {"revision": "4", "specificEvents": {"events": []}}})
    assert door.get(TICKETS).json() == {"total": 0, "offset": 0, "limit": 100, "tickets": [], "facets": {}}
    assert door.get(ORDERS).json()["orders"] == [] and door.get(ORDERS).json()["total"] == 0


def test_deleting_an_event_drops_it_from_staff_members(api, database):
    gone = create_event(api, title="Gone")
    kept = create_event(api, title="Kept")
    s = create_staff(api, allEvents=None, specificEvents={"events": [gone["id"], kept["id"]]})
    everyone = create_staff(api, name="All")
    assert api.delete(f"{EVENTS}/{gone['id']}").status_code == 200
    got = api.get(f"{SM}/{s['id']}").json()["staffMember"]
    assert got["specificEvents"] == {"events": [kept["id"]]} and got["revision"] == "2"
    rows = outbox(database, s["id"])
    assert rows[-1].event_type == f"{FQDN}_updated"
    assert rows[-1].payload["updatedEvent"]["currentEntity"]["specificEvents"] == {"events": [kept["id"]]}
    assert api.get(f"{SM}/{everyone['id']}").json()["staffMember"]["revision"] == "1"
    assert len(outbox(database, everyone["id"])) == 1


def test_clone_event_copies_no_staff_assignment(api):
    src = create_event(api, title="Source")
    s = create_staff(api, allEvents=None, specificEvents={"events": [src["id"]]})
    r = api.post(f"{EVENTS}/{src['id']}/clone", {"event": {"title": "The Copy"}})
    assert r.status_code == 200, r.text
    assert api.get(f"{SM}/{s['id']}").json()["staffMember"]["specificEvents"] == {"events": [src["id"]]}


@pytest.mark.parametrize("identity", ["visitor", "member"])
def test_buyers_keys_are_not_staff(api, make_api, identity):
    ev = create_event(api, draft=False)
    _, numbers = paid_order(api, ev)
    buyer = make_api(identity=identity)
    assert buyer.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": numbers[:1]}).status_code == 403
    assert buyer.get(TICKETS).status_code == 403
    assert buyer.get(ORDERS).status_code == 403


def test_a_staff_member_is_shown_no_bearer_links_to_tickets(api):
    """A ticket's signed PDF link opens it (QR code included) without credentials and
    never expires: staff, whose access can end, see tickets and orders without it."""
    ev = create_event(api, draft=False)
    o, numbers = paid_order(api, ev)
    door = staff_api(api, create_staff(api, permissions=["CHECK_IN_GUESTS", "READ_GUEST_FORM"]))
    orders = door.get(ORDERS, params={"eventId": ev["id"], "fieldset": ["DETAILS", "TICKETS"]}).json()["orders"]
    assert orders and all("ticketsPdf" not in x and "previewUrl" not in x.get("invoice", {}) for x in orders)
    assert all("ticketPdfUrl" not in t for x in orders for t in x.get("tickets", []))
    tickets = door.get(TICKETS, params={"eventId": ev["id"], "fieldset": ["TICKET_DETAILS"]}).json()["tickets"]
    assert tickets and all("ticketPdfUrl" not in t and t["checkInUrl"] for t in tickets)
    r = door.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": numbers[:1]})
    assert r.status_code == 200 and "ticketPdfUrl" not in r.json()["tickets"][0]
    # the owner still gets them
    assert "ticketPdfUrl" in api.get(TICKETS, params={"eventId": ev["id"], "fieldset": ["TICKET_DETAILS"]}).json()["tickets"][0]
