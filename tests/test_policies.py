"""Policies v2 (`@wix/auto_sdk_events_policies`): every rule and refusal, tenancy and
who may read or write, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from boxoffice.identity import Permission
from boxoffice.outbox.models import OutboxEvent
from boxoffice.policies.models import PolicyText
from tests.conftest import new_id
from tests.helpers import EVENTS, create_event

POL = "/events-policies/v2/policies"
DOCS = "/events/v2/policies"
ALT = "/_api/events-policies/v2/policies"


def create_policy(api, event_id, name="Refunds", body="<p>No refunds.</p>", status=200):
    r = api.post(POL, {"policy": {"eventId": event_id, "name": name, "body": body}})
    assert r.status_code == status, r.text
    return r.json()["policy"] if status == 200 else r


def code(r):
    return r.json()["details"]["applicationError"]["code"]


def violation(r):
    return r.json()["details"]["validationError"]["fieldViolations"][0]


def outbox(database, entity_id=None):
    with database.session() as s:
        stmt = select(OutboxEvent).order_by(OutboxEvent.position)
        if entity_id:
            stmt = stmt.where(OutboxEvent.entity_id == entity_id)
        return list(s.scalars(stmt))


def test_create_get_update_delete_with_webhooks(api, database):
    ev = create_event(api)
    p = create_policy(api, ev["id"])
    assert p["name"] == "Refunds" and p["body"] == "<p>No refunds.</p>" and p["eventId"] == ev["id"]
    assert p["revision"] == "1" and p["createdDate"] == p["updatedDate"] and len(p["id"]) == 36
    r = api.get(f"{POL}/{p['id']}", params={"policyId": p["id"]})
    assert r.status_code == 200 and r.json() == {"policy": p}
    r = api.patch(f"{POL}/{p['id']}", {"policy": {"id": p["id"], "revision": "1", "name": "Refund policy", "eventId": ev["id"]}})
    assert r.status_code == 200, r.text
    u = r.json()["policy"]
    assert u["name"] == "Refund policy" and u["body"] == p["body"] and u["revision"] == "2"
    assert u["createdDate"] == p["createdDate"] and u["updatedDate"] >= p["updatedDate"]
    r = api.patch(f"{POL}/{p['id']}", {"policy": {"revision": 2, "body": "<b>Full refunds</b>"}})
    assert r.status_code == 200 and r.json()["policy"]["body"] == "<b>Full refunds</b>" and r.json()["policy"]["revision"] == "3"
    r = api.delete(f"{POL}/{p['id']}", params={"policyId": p["id"]})
    assert r.status_code == 200 and r.json() == {}
    r = api.get(f"{POL}/{p['id']}")
    assert r.status_code == 404 and code(r) == "POLICY_NOT_FOUND"
    assert api.delete(f"{POL}/{p['id']}").status_code == 404
    rows = outbox(database, p["id"])
    assert [o.event_type for o in rows] == [
        "wix.events.v2.policy_created",
        "wix.events.v2.policy_updated",
        "wix.events.v2.policy_updated",
        "wix.events.v2.policy_deleted",
    ]
    assert [o.entity_event_sequence for o in rows] == [1, 2, 3, 4]
    assert rows[0].payload["createdEvent"]["entity"] == p
    assert rows[1].payload["updatedEvent"]["currentEntity"] == u
    assert rows[3].payload["deletedEvent"]["deletedEntity"]["body"] == "<b>Full refunds</b>"
    assert rows[0].payload["entityFqdn"] == "wix.events.v2.policy"


def test_the_three_path_families(api):
    ev = create_event(api)
    p = create_policy(api, ev["id"])
    for base in (DOCS, ALT):
        assert api.get(f"{base}/{p['id']}").json()["policy"] == p
        assert [x["id"] for x in api.post(f"{base}/query", {}).json()["policies"]] == [p["id"]]
    r = api.post(DOCS, {"policy": {"eventId": ev["id"], "name": "B", "body": "b"}})
    assert r.status_code == 200
    r = api.post(f"{ALT}/reorder", {"eventId": ev["id"], "policyId": p["id"], "beforePolicyId": r.json()["policy"]["id"]})
    assert r.status_code == 200 and r.json()["policies"][0]["id"] == p["id"]


def test_create_validation(api):
    ev = create_event(api)
    for pol, field, rule in (
        ({"name": "N", "body": "B"}, "policy.eventId", "REQUIRED_FIELD"),
        ({"eventId": ev["id"], "body": "B"}, "policy.name", "REQUIRED_FIELD"),
        ({"eventId": ev["id"], "name": "N"}, "policy.body", "REQUIRED_FIELD"),
        ({"eventId": ev["id"], "name": "", "body": "B"}, "policy.name", "MIN_LENGTH"),
        ({"eventId": ev["id"], "name": "N", "body": ""}, "policy.body", "MIN_LENGTH"),
        ({"eventId": ev["id"], "name": "x" * 41, "body": "B"}, "policy.name", "MAX_LENGTH"),
        ({"eventId": ev["id"], "name": "N", "body": "x" * 50_001}, "policy.body", "MAX_LENGTH"),
    ):
        r = api.post(POL, {"policy": pol})
        assert r.status_code == 400, r.text
        assert violation(r)["field"] == field and violation(r)["violatedRule"] == rule, r.text
    assert api.post(POL, {}).status_code == 400
    # the bounds themselves are accepted
    p = create_policy(api, ev["id"], name="n" * 40, body="é" * 50_000)
    assert len(p["name"]) == 40 and len(p["body"]) == 50_000
    # read-only fields are ignored: the server sets id, revision and dates
    r = api.post(POL, {"policy": {"eventId": ev["id"], "name": "N", "body": "B", "id": "mine", "revision": "7",
                                  "createdDate": "2000-01-01T00:00:00.000Z"}})
    assert r.status_code == 200 and r.json()["policy"]["id"] != "mine" and r.json()["policy"]["revision"] == "1"
    assert not r.json()["policy"]["createdDate"].startswith("2000")


def test_event_must_exist_in_the_site(api, make_api):
    r = create_policy(api, new_id(), status=404)
    assert code(r) == "EVENT_NOT_FOUND"
    other = make_api(site="site-b")
    theirs = create_event(other)
    assert code(create_policy(api, theirs["id"], status=404)) == "EVENT_NOT_FOUND"


def test_at_most_three_policies_per_event(api):
    ev = create_event(api)
    for i in range(3):
        create_policy(api, ev["id"], name=f"P{i}")
    r = create_policy(api, ev["id"], name="P3", status=428)
    assert code(r) == "POLICIES_LIMIT_REACHED" and r.json()["details"]["applicationError"]["data"] == {"limit": 3}
    # per event: another event still takes three
    create_policy(api, create_event(api, title="Other")["id"])


def test_update_rules(api, database):
    ev = create_event(api)
    p = create_policy(api, ev["id"])
    url = f"{POL}/{p['id']}"
    r = api.patch(url, {"policy": {"name": "X"}})
    assert r.status_code == 400 and violation(r)["field"] == "policy.revision" and violation(r)["violatedRule"] == "REQUIRED_FIELD"
    r = api.patch(url, {"policy": {"revision": "one", "name": "X"}})
    assert r.status_code == 400 and violation(r)["violatedRule"] == "FORMAT"
    r = api.patch(url, {"policy": {"revision": True, "name": "X"}})
    assert r.status_code == 400
    r = api.patch(url, {"policy": {"revision": "2", "name": "X"}})
    assert r.status_code == 428 and code(r) == "REVISION_MISMATCH"
    assert r.json()["details"]["applicationError"]["data"] == {"currentRevision": "1"}
    r = api.patch(url, {"policy": {"revision": "1", "id": new_id(), "name": "X"}})
    assert r.status_code == 400 and violation(r)["field"] == "policy.id"
    other = create_event(api, title="Other")
    r = api.patch(url, {"policy": {"revision": "1", "eventId": other["id"]}})
    assert r.status_code == 400 and violation(r)["field"] == "policy.eventId"
    for field, value, rule in (("name", "", "MIN_LENGTH"), ("name", None, "MIN_LENGTH"), ("body", "y" * 50_001, "MAX_LENGTH")):
        r = api.patch(url, {"policy": {"revision": "1", field: value}})
        assert r.status_code == 400 and violation(r)["field"] == f"policy.{field}" and violation(r)["violatedRule"] == rule, r.text
    # refusals changed nothing and wrote nothing
    assert api.get(url).json()["policy"] == p
    assert len(outbox(database, p["id"])) == 1
    # the same eventId is fine (the SDK sends the whole policy back)
    r = api.patch(url, {"policy": {**p, "name": "Same"}})
    assert r.status_code == 200 and r.json()["policy"]["name"] == "Same"
    r = api.patch(f"{POL}/{new_id()}", {"policy": {"revision": "1", "name": "X"}})
    assert r.status_code == 404 and code(r) == "POLICY_NOT_FOUND"


def test_reorder(api, database):
    ev = create_event(api)
    a = create_policy(api, ev["id"], name="A")
    b = create_policy(api, ev["id"], name="B")
    c = create_policy(api, ev["id"], name="C")
    names = lambda r: [p["name"] for p in r.json()["policies"]]  # noqa: E731
    by_order = {"filter": {"eventId": ev["id"]}, "sort": [{"fieldName": "sortIndex"}]}
    # newest first until reordered (Wix: "by the created date in descending order")
    assert names(api.post(f"{POL}/query", {"query": by_order})) == ["C", "B", "A"]
    r = api.post(f"{POL}/reorder", {"eventId": ev["id"], "policyId": a["id"], "beforePolicyId": c["id"]})
    assert r.status_code == 200 and names(r) == ["A", "C", "B"]
    r = api.post(f"{POL}/reorder", {"eventId": ev["id"], "policyId": a["id"], "afterPolicyId": b["id"]})
    assert names(r) == ["C", "B", "A"]
    # both given: the after wins
    r = api.post(f"{POL}/reorder", {"eventId": ev["id"], "policyId": c["id"], "beforePolicyId": b["id"], "afterPolicyId": a["id"]})
    assert names(r) == ["B", "A", "C"]
    assert names(api.post(f"{POL}/query", {"query": by_order})) == ["B", "A", "C"]
    # reorder is no change of a policy: no revision, no webhook
    assert api.get(f"{POL}/{c['id']}").json()["policy"]["revision"] == "1"
    assert len(outbox(database, c["id"])) == 1
    # a new policy goes first
    d = create_policy(api, create_event(api, title="E2")["id"], name="D")
    r = api.post(f"{POL}/reorder", {"eventId": ev["id"], "policyId": a["id"]})
    assert r.status_code == 400 and code(r) == "INVALID_REORDER_INSTRUCTION"
    r = api.post(f"{POL}/reorder", {"eventId": ev["id"], "policyId": a["id"], "beforePolicyId": a["id"]})
    assert r.status_code == 400 and code(r) == "INVALID_REORDER_INSTRUCTION"
    r = api.post(f"{POL}/reorder", {"eventId": ev["id"], "policyId": a["id"], "beforePolicyId": d["id"]})
    assert r.status_code == 400 and code(r) == "INVALID_REORDER_INSTRUCTION"
    r = api.post(f"{POL}/reorder", {"eventId": ev["id"], "policyId": d["id"], "beforePolicyId": a["id"]})
    assert r.status_code == 404 and code(r) == "POLICY_NOT_FOUND"
    r = api.post(f"{POL}/reorder", {"eventId": new_id(), "policyId": a["id"], "beforePolicyId": b["id"]})
    assert r.status_code == 404 and code(r) == "EVENT_NOT_FOUND"
    r = api.post(f"{POL}/reorder", {"policyId": a["id"], "beforePolicyId": b["id"]})
    assert r.status_code == 400 and violation(r)["field"] == "eventId"


def test_query_filter_sort_and_paging(api):
    e1 = create_event(api, title="One")
    e2 = create_event(api, title="Two")
    made = []
    for i in range(3):
        made.append(create_policy(api, e1["id"], name=f"P{i}"))
        time.sleep(0.002)
        made.append(create_policy(api, e2["id"], name=f"Q{i}"))
        time.sleep(0.002)
    ids = lambda r: [p["id"] for p in r.json()["policies"]]  # noqa: E731
    r = api.post(f"{POL}/query", {})
    assert r.status_code == 200 and ids(r) == [p["id"] for p in reversed(made)]  # createdDate DESC
    r = api.post(f"{POL}/query", {"query": {"filter": {"eventId": e1["id"]}, "sort": [{"fieldName": "name", "order": "ASC"}]}})
    assert [p["name"] for p in r.json()["policies"]] == ["P0", "P1", "P2"]
    r = api.post(f"{POL}/query", {"query": {"filter": {"$and": [{"name": {"$in": ["P1", "Q2"]}}, {"id": {"$ne": made[0]["id"]}}]}}})
    assert sorted(p["name"] for p in r.json()["policies"]) == ["P1", "Q2"]
    r = api.post(f"{POL}/query", {"query": {"filter": {"createdDate": {"$gte": made[4]["createdDate"]}}}})
    assert set(ids(r)) == {made[4]["id"], made[5]["id"]}
    r = api.post(f"{POL}/query", {"query": {"filter": {"revision": {"$gt": "1"}}}})
    assert ids(r) == []
    # cursor paging (what the SDK's builder sends), walking every page
    seen, cursor = [], None
    while True:
        paging = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        q = {"cursorPaging": paging} if cursor else {"filter": {}, "cursorPaging": paging, "sort": [{"fieldName": "createdDate", "order": "ASC"}]}
        m = api.post(f"{POL}/query", {"query": q}).json()
        seen += [p["id"] for p in m["policies"]]
        assert m["metadata"]["count"] == len(m["policies"])
        cursor = m["metadata"]["cursors"]["next"]
        if not cursor:
            break
    assert seen == [p["id"] for p in made]
    # offset paging too
    m = api.post(f"{POL}/query", {"query": {"paging": {"limit": 2, "offset": 1}, "sort": [{"fieldName": "createdDate"}]}}).json()
    assert [p["id"] for p in m["policies"]] == [made[1]["id"], made[2]["id"]] and m["metadata"]["total"] == 6
    # refusals: unknown field, limit above 100, forged cursor
    r = api.post(f"{POL}/query", {"query": {"filter": {"title": "x"}}})
    assert r.status_code == 400 and code(r) == "FILTER_PARSER_ERROR"
    assert api.post(f"{POL}/query", {"query": {"cursorPaging": {"limit": 101}}}).status_code == 400
    assert api.post(f"{POL}/query", {"query": {"cursorPaging": {"cursor": "forged"}}}).status_code == 400


def test_tenancy(api, make_api):
    ev = create_event(api)
    p = create_policy(api, ev["id"])
    other = make_api(site="site-b")
    assert code(other.get(f"{POL}/{p['id']}")) == "POLICY_NOT_FOUND"
    assert other.patch(f"{POL}/{p['id']}", {"policy": {"revision": "1", "name": "Mine"}}).status_code == 404
    assert other.delete(f"{POL}/{p['id']}").status_code == 404
    assert other.post(f"{POL}/query", {}).json()["policies"] == []
    r = other.post(f"{POL}/reorder", {"eventId": ev["id"], "policyId": p["id"], "beforePolicyId": p["id"]})
    assert r.status_code == 404
    assert api.get(f"{POL}/{p['id']}").json()["policy"] == p


def test_visitors_read_policies_of_published_events_only_and_never_write(api, make_api):
    draft = create_event(api, title="Draft")
    live = create_event(api, title="Live", draft=False)
    hidden = create_policy(api, draft["id"], name="Hidden")
    shown = create_policy(api, live["id"], name="Shown")
    for identity in ("visitor", "member"):
        v = make_api(identity=identity)
        assert v.get(f"{POL}/{shown['id']}").json()["policy"] == shown
        assert v.get(f"{POL}/{hidden['id']}").status_code == 404
        assert [p["id"] for p in v.post(f"{POL}/query", {}).json()["policies"]] == [shown["id"]]
        r = v.post(POL, {"policy": {"eventId": live["id"], "name": "N", "body": "B"}})
        assert r.status_code == 403
        assert v.patch(f"{POL}/{shown['id']}", {"policy": {"revision": "1", "name": "N"}}).status_code == 403
        assert v.delete(f"{POL}/{shown['id']}").status_code == 403
        r = v.post(f"{POL}/reorder", {"eventId": live["id"], "policyId": shown["id"], "beforePolicyId": shown["id"]})
        assert r.status_code == 403
    # once the draft is published, its policy is visible
    api.post(f"{EVENTS}/{draft['id']}/publish", {})
    assert make_api(identity="visitor").get(f"{POL}/{hidden['id']}").status_code == 200


def test_permissions_of_narrowed_keys(api, make_api):
    ev = create_event(api)
    p = create_policy(api, ev["id"])
    reader = make_api(permissions={Permission.READ_EVENTS})
    assert reader.get(f"{POL}/{p['id']}").status_code == 404  # a draft's: only managers see it
    assert reader.post(POL, {"policy": {"eventId": ev["id"], "name": "N", "body": "B"}}).status_code == 403
    orders_only = make_api(permissions={Permission.MANAGE_ORDERS})
    assert orders_only.get(f"{POL}/{p['id']}").status_code == 403
    assert orders_only.post(f"{POL}/query", {}).status_code == 403
    manager = make_api(permissions={Permission.MANAGE_EVENTS})
    assert manager.get(f"{POL}/{p['id']}").status_code == 200
    assert manager.patch(f"{POL}/{p['id']}", {"policy": {"revision": "1", "name": "M"}}).status_code == 200


def test_deleting_the_event_deletes_its_policies_with_webhooks(api, database):
    ev = create_event(api)
    ps = [create_policy(api, ev["id"], name=f"P{i}") for i in range(2)]
    other = create_event(api, title="Other")
    kept = create_policy(api, other["id"])
    assert api.delete(f"{EVENTS}/{ev['id']}").status_code == 200
    assert [p["id"] for p in api.post(f"{POL}/query", {}).json()["policies"]] == [kept["id"]]
    for p in ps:
        assert api.get(f"{POL}/{p['id']}").status_code == 404
    deleted = [o for o in outbox(database) if o.event_type == "wix.events.v2.policy_deleted"]
    assert sorted(o.entity_id for o in deleted) == sorted(p["id"] for p in ps)


def test_checkout_records_the_policy_revisions_agreed_to(api, make_api, database):
    """Step 4: checking out is agreeing to the event's policies; the order keeps which
    revisions were shown, and their words survive a later edit or deletion."""
    from tests.helpers import checkout, on_sale_td, reserve

    ev = create_event(api, draft=False)
    first = create_policy(api, ev["id"], name="Refunds", body="<p>No refunds.</p>")
    second = create_policy(api, ev["id"], name="Photos", body="<p>We take photos.</p>")
    td = on_sale_td(api, ev["id"])
    order = checkout(api, ev["id"], reserve(api, td["id"])["id"], options={"payInPerson": True})["order"]
    # an update that changes no word keeps no new copy of them
    r = api.patch(f"{POL}/{second['id']}", {"policy": {"revision": "1", "name": "Photos"}})
    assert r.status_code == 200 and r.json()["policy"]["revision"] == "2"
    order2 = checkout(api, ev["id"], reserve(api, td["id"])["id"], options={"payInPerson": True})["order"]
    # the policy changes and goes after the order: the agreement keeps the old words
    r = api.patch(f"{POL}/{first['id']}", {"policy": {"revision": "1", "body": "<p>Full refunds.</p>"}})
    assert r.status_code == 200, r.text
    assert api.delete(f"{POL}/{second['id']}").status_code == 200
    url = f"/boxoffice/v1/events/{ev['id']}/orders/{order['orderNumber']}/policy-agreement"
    r = api.get(url)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["via"] == "CHECKOUT_API" and body["agreedDate"] and body["orderNumber"] == order["orderNumber"]
    # shown newest first, as the checkout lists them
    assert [(p["name"], p["revision"], p["body"]) for p in body["policies"]] == [
        ("Photos", "1", "<p>We take photos.</p>"),
        ("Refunds", "1", "<p>No refunds.</p>"),
    ]
    r = api.get(f"/boxoffice/v1/events/{ev['id']}/orders/{order2['orderNumber']}/policy-agreement")
    assert [(p["revision"], p["body"]) for p in r.json()["policies"]] == [("2", "<p>We take photos.</p>"), ("1", "<p>No refunds.</p>")]
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(PolicyText)) == 3  # 2 created + 1 new wording
    # an event without policies: an empty agreement
    ev2 = create_event(api, draft=False)
    td2 = on_sale_td(api, ev2["id"])
    o2 = checkout(api, ev2["id"], reserve(api, td2["id"])["id"], options={"payInPerson": True})["order"]
    r = api.get(f"/boxoffice/v1/events/{ev2['id']}/orders/{o2['orderNumber']}/policy-agreement")
    assert r.status_code == 200 and r.json()["policies"] == []
    # who may read it: Manage Orders of the order's site only
    assert make_api(identity="visitor").get(url).status_code == 403
    assert make_api(permissions={Permission.MANAGE_EVENTS}).get(url).status_code == 403
    assert make_api(site="site-b").get(url).status_code == 404
    assert api.get(f"/boxoffice/v1/events/{ev['id']}/orders/NOPE-1/policy-agreement").status_code == 404
