"""Event categories (`@wix/auto_sdk_events_categories`): every method, its rules and refusals."""

from __future__ import annotations

from sqlalchemy import select

from boxoffice.categories.models import CategoryEvent
from boxoffice.categories.schemas import MAX_CATEGORIES_PER_SITE
from boxoffice.identity import Permission
from tests.helpers import EVENTS, create_event

CAT = "/events/v1/categories"
BULK = "/events/v1/bulk/categories"
ASYNC = "/events/v1/bulk-async/categories"
ALIAS = "/_api/wix-events-web/v1/categories"


def code(r) -> str:
    return r.json()["details"]["applicationError"]["code"]


def field(r) -> str:
    return r.json()["details"]["validationError"]["fieldViolations"][0]["field"]


def new_cat(api, name: str = "Workshops", **extra) -> dict:
    r = api.post(CAT, {"category": {"name": name, **extra}})
    assert r.status_code == 200, r.text
    return r.json()["category"]


def order_of(database, category_id: str) -> list[str]:
    with database.session() as s:
        rows = s.scalars(
            select(CategoryEvent.event_id).where(CategoryEvent.category_id == category_id).order_by(CategoryEvent.sort_index)
        ).all()
    return list(rows)


def query(api, body: dict | None = None) -> dict:
    r = api.post(f"{CAT}/query", body if body is not None else {"query": {}})
    assert r.status_code == 200, r.text
    return r.json()


def test_create_update_delete(api):
    c = new_cat(api)
    assert c["name"] == "Workshops" and c["states"] == ["MANUAL"] and c["createdDate"].endswith("Z") and len(c["id"]) == 36
    r = api.patch(f"{CAT}/{c['id']}", {"category": {"id": c["id"], "name": "Classes", "states": ["MANUAL", "HIDDEN"]}})
    assert r.status_code == 200 and r.json()["category"]["name"] == "Classes"
    assert r.json()["category"]["states"] == ["MANUAL", "HIDDEN"]
    r = api.patch(f"{CAT}/{c['id']}", {"category": {"states": ["AUTO"]}})  # PATCH: the name stays
    assert r.json()["category"] == {**c, "name": "Classes", "states": ["AUTO"]}
    assert api.delete(f"{CAT}/{c['id']}", params={"categoryId": c["id"]}).json() == {}
    r = api.delete(f"{CAT}/{c['id']}")
    assert r.status_code == 404 and code(r) == "CATEGORY_NOT_FOUND"
    r = api.patch(f"{CAT}/{c['id']}", {"category": {"name": "x"}})
    assert r.status_code == 404


def test_name_rules(api):
    for bad in ({}, {"name": ""}, {"name": "   "}):
        r = api.post(CAT, {"category": bad})
        assert r.status_code == 400 and field(r) == "category.name", r.text
    r = api.post(CAT, {"category": {"name": "x" * 31}})
    assert r.status_code == 400 and field(r) == "category.name"
    assert new_cat(api, "x" * 30)["name"] == "x" * 30
    r = api.post(CAT, {"category": {"name": "Music", "states": ["SOMETHING"]}})
    assert r.status_code == 400
    r = api.post(CAT, {"category": {"name": "Music", "states": ["MANUAL", "AUTO", "HIDDEN", "RECURRING_EVENT"]}})
    assert r.status_code == 400  # at most 3 states
    c = new_cat(api, "Music")
    r = api.post(CAT, {"category": {"name": "Music"}})
    assert r.status_code == 409 and code(r) == "CATEGORY_ALREADY_EXISTS"
    other = new_cat(api, "Talks")
    r = api.patch(f"{CAT}/{other['id']}", {"category": {"name": "Music"}})
    assert r.status_code == 409
    assert api.patch(f"{CAT}/{c['id']}", {"category": {"name": "Music"}}).status_code == 200  # its own name
    r = api.patch(f"{CAT}/{c['id']}", {"category": {"name": ""}})
    assert r.status_code == 400 and field(r) == "category.name"


def test_limit_per_site(api, make_api):
    for start in range(0, MAX_CATEGORIES_PER_SITE, 10):
        r = api.post(f"{BULK}/create", {"categories": [{"name": f"C{n}"} for n in range(start, start + 10)]})
        assert r.json()["bulkActionMetadata"]["totalSuccesses"] == 10
    r = api.post(CAT, {"category": {"name": "one more"}})
    assert r.status_code == 428 and code(r) == "CATEGORY_LIMIT_REACHED"
    assert new_cat(make_api(site="site-b"), "one more")  # per site


def test_bulk_create_reports_each_item(api):
    new_cat(api, "Taken")
    r = api.post(f"{BULK}/create", {"categories": [{"name": "A"}, {"name": "Taken"}, {"name": "B", "states": ["HIDDEN"]}, {"name": "A"}]})
    assert r.status_code == 200
    body = r.json()
    assert body["bulkActionMetadata"] == {"totalSuccesses": 2, "totalFailures": 2, "undetailedFailures": 0}
    res = body["results"]
    assert [x["itemMetadata"]["success"] for x in res] == [True, False, True, False]
    assert [x["itemMetadata"]["originalIndex"] for x in res] == [0, 1, 2, 3]
    assert res[0]["item"]["name"] == "A" and res[0]["itemMetadata"]["id"] == res[0]["item"]["id"]
    assert res[1]["itemMetadata"]["error"]["code"] == "CATEGORY_ALREADY_EXISTS" and "item" not in res[1]
    assert res[2]["item"]["states"] == ["HIDDEN"]
    assert api.post(f"{BULK}/create", {"categories": []}).status_code == 400
    assert api.post(f"{BULK}/create", {"categories": [{"name": f"n{i}"} for i in range(11)]}).status_code == 400
    r = api.post(f"{BULK}/create", {"categories": [{"name": ""}]})
    assert r.json()["results"][0]["itemMetadata"]["error"]["code"] == "INVALID_ARGUMENT"


def test_query_filter_sort_paging_and_counts(api):
    a, b, c = new_cat(api, "Beta"), new_cat(api, "Alpha"), new_cat(api, "Gamma", states=["AUTO", "HIDDEN"])
    e1, e2 = create_event(api, draft=False), create_event(api)
    api.post(f"{CAT}/{a['id']}/events", {"categoryId": a["id"], "eventId": [e1["id"], e2["id"]]})
    body = query(api)
    assert [x["name"] for x in body["categories"]] == ["Beta", "Alpha", "Gamma"]  # createdDate ASC
    assert body["metaData"] == {"count": 3, "offset": 0, "total": 3, "tooManyToCount": False}
    assert "counts" not in body["categories"][0]
    body = query(api, {"query": {"sort": [{"fieldName": "name", "order": "DESC"}], "paging": {"limit": 2, "offset": 1}}})
    assert [x["name"] for x in body["categories"]] == ["Beta", "Alpha"] and body["metaData"]["total"] == 3
    body = query(api, {"query": {"filter": {"$and": [{"name": "Alpha"}]}}})
    assert [x["id"] for x in body["categories"]] == [b["id"]]
    body = query(api, {"query": {"filter": {"id": {"$eq": c["id"]}}}})
    assert [x["id"] for x in body["categories"]] == [c["id"]]
    body = query(api, {"query": {"filter": {"states": {"$hasSome": ["HIDDEN", "RECURRING_EVENT"]}}}})
    assert [x["id"] for x in body["categories"]] == [c["id"]]
    body = query(api, {"query": {"filter": {"$and": [{"states": {"$hasSome": ["MANUAL"]}}, {"name": "Beta"}]}}})
    assert [x["id"] for x in body["categories"]] == [a["id"]]
    body = query(api, {"query": {"filter": {"name": "Beta"}}, "fieldset": ["COUNTS"]})
    assert body["categories"][0]["counts"] == {"assignedEventsCount": 1, "assignedDraftEventsCount": 1}
    for bad in ({"nope": 1}, {"states": "HIDDEN"}, {"states": {"$hasSome": ["NOPE"]}}, {"name": {"$gt": "a"}}):
        r = api.post(f"{CAT}/query", {"query": {"filter": bad}})
        assert r.status_code == 400 and code(r) == "FILTER_PARSER_ERROR", bad
    assert api.post(f"{CAT}/query", {"query": {}, "fieldset": ["NOPE"]}).status_code == 400
    assert api.post(f"{CAT}/query", {"query": {"paging": {"limit": 1001}}}).status_code == 400


def test_visitor_sees_categories_and_only_published_events(api, make_api):
    visitor = make_api(identity="visitor")
    shown, hidden = new_cat(api, "Shown"), new_cat(api, "Hidden", states=["HIDDEN"])
    pub, draft = create_event(api, draft=False), create_event(api)
    for c in (shown, hidden):
        api.post(f"{CAT}/{c['id']}/events", {"eventId": [pub["id"], draft["id"]]})
    body = query(visitor, {"query": {}, "fieldset": ["COUNTS"]})
    assert [x["name"] for x in body["categories"]] == ["Shown"]
    assert body["categories"][0]["counts"] == {"assignedEventsCount": 1}  # drafts are not the visitor's business
    r = visitor.get(f"{CAT}/{pub['id']}", params={"eventId": pub["id"]})
    assert r.status_code == 200 and [x["name"] for x in r.json()["categories"]] == ["Shown"]
    r = visitor.get(f"{CAT}/{draft['id']}")
    assert r.status_code == 404 and code(r) == "EVENT_NOT_FOUND"
    # List Event Categories never lists HIDDEN ones, for the owner either
    assert [x["name"] for x in api.get(f"{CAT}/{draft['id']}").json()["categories"]] == ["Shown"]
    # a visitor cannot write
    for r in (
        visitor.post(CAT, {"category": {"name": "V"}}),
        visitor.post(f"{BULK}/create", {"categories": [{"name": "V"}]}),
        visitor.patch(f"{CAT}/{shown['id']}", {"category": {"name": "V"}}),
        visitor.delete(f"{CAT}/{shown['id']}"),
        visitor.post(f"{CAT}/{shown['id']}/events", {"eventId": [pub["id"]]}),
        visitor.delete(f"{CAT}/{shown['id']}/events", params={"eventId": [pub["id"]]}),
        visitor.post(f"{BULK}/events", {"categoryId": [shown["id"]], "eventId": [pub["id"]]}),
        visitor.delete(f"{BULK}/events", params={"categoryId": [shown["id"]]}),
        visitor.post(f"{ASYNC}/assign-events-by-filter", {"categoryId": [shown["id"]], "filter": {}}),
        visitor.post(f"{ASYNC}/unassign-events-by-filter", {"categoryId": [shown["id"]], "filter": {}}),
        visitor.post(f"{CAT}/{shown['id']}/reorder", {"eventId": pub["id"], "afterEventId": draft["id"]}),
    ):
        assert r.status_code == 403, r.text
    assert query(api, {"query": {"filter": {"name": "Shown"}}})["categories"][0]["name"] == "Shown"


def test_read_events_permission_reads(make_api):
    owner = make_api()
    reader = make_api(permissions={Permission.READ_EVENTS})
    c = new_cat(owner)
    assert [x["id"] for x in query(reader)["categories"]] == [c["id"]]
    assert reader.post(CAT, {"category": {"name": "R"}}).status_code == 403
    nobody = make_api(permissions={Permission.MANAGE_ORDERS})
    assert nobody.post(f"{CAT}/query", {"query": {}}).status_code == 403


def test_assign_unassign_and_list(api, database):
    c1, c2 = new_cat(api, "One"), new_cat(api, "Two")
    e1, e2, e3 = (create_event(api, title=f"E{i}") for i in range(3))
    r = api.post(f"{CAT}/{c1['id']}/events", {"categoryId": c1["id"], "eventId": [e2["id"], e1["id"]]})
    assert r.status_code == 200 and r.json() == {}
    api.post(f"{CAT}/{c1['id']}/events", {"eventId": [e1["id"], e3["id"]]})  # e1 again: nothing changes for it
    assert order_of(database, c1["id"]) == [e2["id"], e1["id"], e3["id"]]
    api.post(f"{CAT}/{c2['id']}/events", {"eventId": [e1["id"]]})  # an event in several categories
    assert [x["name"] for x in api.get(f"{CAT}/{e1['id']}", params={"eventId": e1["id"]}).json()["categories"]] == ["One", "Two"]
    r = api.delete(f"{CAT}/{c1['id']}/events", params={"categoryId": c1["id"], "eventId": [e1["id"], e2["id"]]})
    assert r.status_code == 200 and r.json() == {}
    assert order_of(database, c1["id"]) == [e3["id"]]
    assert api.delete(f"{CAT}/{c1['id']}/events", params={"eventId": [e1["id"]]}).status_code == 200  # not in it: no-op
    # refusals
    assert api.post(f"{CAT}/{c1['id']}/events", {"eventId": []}).status_code == 400
    assert api.post(f"{CAT}/{c1['id']}/events", {"eventId": ["x"] * 101}).status_code == 400
    assert api.delete(f"{CAT}/{c1['id']}/events").status_code == 400
    r = api.post(f"{CAT}/{c1['id']}/events", {"eventId": [e1["id"], "00000000-0000-4000-8000-000000000000"]})
    assert r.status_code == 404 and code(r) == "EVENT_NOT_FOUND"
    assert order_of(database, c1["id"]) == [e3["id"]]  # all or nothing
    r = api.post(f"{CAT}/00000000-0000-4000-8000-000000000000/events", {"eventId": [e1["id"]]})
    assert r.status_code == 404 and code(r) == "CATEGORY_NOT_FOUND"
    r = api.get(f"{CAT}/00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404 and code(r) == "EVENT_NOT_FOUND"
    # deleting a category drops its assignments
    api.delete(f"{CAT}/{c2['id']}")
    assert api.get(f"{CAT}/{e1['id']}").json()["categories"] == []


def test_tenancy(api, make_api, database):
    other = make_api(site="site-b")
    mine, theirs = new_cat(api, "Mine"), new_cat(other, "Mine")  # names are per site
    my_event, their_event = create_event(api), create_event(other)
    assert [x["id"] for x in query(other)["categories"]] == [theirs["id"]]
    for r in (
        other.patch(f"{CAT}/{mine['id']}", {"category": {"name": "X"}}),
        other.delete(f"{CAT}/{mine['id']}"),
        other.post(f"{CAT}/{mine['id']}/events", {"eventId": [their_event["id"]]}),
        other.delete(f"{CAT}/{mine['id']}/events", params={"eventId": [their_event["id"]]}),
        other.post(f"{CAT}/{mine['id']}/reorder", {"eventId": my_event["id"], "beforeEventId": my_event["id"]}),
        other.post(f"{ASYNC}/assign-events-by-filter", {"categoryId": [mine["id"]], "filter": {}}),
        other.get(f"{CAT}/{my_event['id']}"),
    ):
        assert r.status_code == 404, r.text
    # another site's event is not found either
    r = api.post(f"{CAT}/{mine['id']}/events", {"eventId": [their_event["id"]]})
    assert r.status_code == 404 and code(r) == "EVENT_NOT_FOUND"
    r = api.post(f"{BULK}/events", {"categoryId": [mine["id"]], "eventId": [their_event["id"]]})
    assert r.status_code == 404
    # a by-filter call only reaches the caller's own events
    api.post(f"{ASYNC}/assign-events-by-filter", {"categoryId": [mine["id"]], "filter": {}})
    assert order_of(database, mine["id"]) == [my_event["id"]]
    # and another site's category is a failed item in a bulk call
    r = api.post(f"{BULK}/events", {"categoryId": [theirs["id"]], "eventId": [my_event["id"]]})
    assert r.json()["results"][0]["itemMetadata"]["error"]["code"] == "CATEGORY_NOT_FOUND"


def test_bulk_assign_and_unassign(api, database):
    c1, c2 = new_cat(api, "One"), new_cat(api, "Two")
    e1, e2 = create_event(api), create_event(api)
    missing = "00000000-0000-4000-8000-000000000000"
    r = api.post(f"{BULK}/events", {"categoryId": [c1["id"], missing, c2["id"]], "eventId": [e1["id"]]})
    assert r.status_code == 200
    body = r.json()
    assert body["bulkActionMetadata"] == {"totalSuccesses": 2, "totalFailures": 1, "undetailedFailures": 0}
    assert [x["itemMetadata"]["id"] for x in body["results"]] == [c1["id"], missing, c2["id"]]
    assert body["results"][0]["item"]["name"] == "One" and body["results"][1]["itemMetadata"]["error"]["code"] == "CATEGORY_NOT_FOUND"
    assert order_of(database, c1["id"]) == [e1["id"]] and order_of(database, c2["id"]) == [e1["id"]]
    # exactly one event, 1..10 categories
    assert api.post(f"{BULK}/events", {"categoryId": [c1["id"]], "eventId": [e1["id"], e2["id"]]}).status_code == 400
    assert api.post(f"{BULK}/events", {"categoryId": [c1["id"]], "eventId": []}).status_code == 400
    assert api.post(f"{BULK}/events", {"categoryId": [c1["id"]] * 11, "eventId": [e1["id"]]}).status_code == 400
    r = api.post(f"{BULK}/events", {"categoryId": [c1["id"]], "eventId": [missing]})
    assert r.status_code == 404 and code(r) == "EVENT_NOT_FOUND"
    api.post(f"{BULK}/events", {"categoryId": [c1["id"]], "eventId": [e2["id"]]})
    r = api.delete(f"{BULK}/events", params={"categoryId": [c1["id"], c2["id"]], "eventId": [e1["id"]]})
    assert r.status_code == 200 and r.json()["bulkActionMetadata"]["totalSuccesses"] == 2
    assert order_of(database, c1["id"]) == [e2["id"]] and order_of(database, c2["id"]) == []
    # without eventId: every event of the categories
    r = api.delete(f"{BULK}/events", params={"categoryId": [c1["id"]]})
    assert r.status_code == 200 and order_of(database, c1["id"]) == []
    assert api.delete(f"{BULK}/events", params={"categoryId": [c1["id"]], "eventId": [e1["id"], e2["id"]]}).status_code == 400
    assert api.delete(f"{BULK}/events").status_code == 400


def test_by_filter_variants_use_the_events_filter(api, database):
    c1, c2 = new_cat(api, "One"), new_cat(api, "Two")
    jazz, rock = create_event(api, title="Jazz Night"), create_event(api, title="Rock Night", draft=False)
    r = api.post(f"{ASYNC}/assign-events-by-filter", {"categoryId": [c1["id"], c2["id"]], "filter": {"$and": [{"status": "DRAFT"}]}})
    assert r.status_code == 200 and r.json() == {}
    assert order_of(database, c1["id"]) == [jazz["id"]] and order_of(database, c2["id"]) == [jazz["id"]]
    api.post(f"{ASYNC}/assign-events-by-filter", {"categoryId": [c1["id"]], "filter": {"name": "Rock Night"}})
    assert order_of(database, c1["id"]) == [jazz["id"], rock["id"]]
    api.post(f"{ASYNC}/assign-events-by-filter", {"categoryId": [c2["id"]], "filter": {"id": {"$in": [rock["id"]]}}})
    assert order_of(database, c2["id"]) == [jazz["id"], rock["id"]]
    r = api.post(f"{ASYNC}/unassign-events-by-filter", {"categoryId": [c1["id"], c2["id"]], "filter": {"title": "Jazz Night"}})
    assert r.status_code == 200 and r.json() == {}
    assert order_of(database, c1["id"]) == [rock["id"]] and order_of(database, c2["id"]) == [rock["id"]]
    # refusals: the filter is required and must be an Events filter; categories must exist
    r = api.post(f"{ASYNC}/assign-events-by-filter", {"categoryId": [c1["id"]]})
    assert r.status_code == 400 and field(r) == "filter"
    r = api.post(f"{ASYNC}/assign-events-by-filter", {"categoryId": [c1["id"]], "filter": {"nope": 1}})
    assert r.status_code == 400 and code(r) == "FILTER_PARSER_ERROR"
    r = api.post(f"{ASYNC}/unassign-events-by-filter", {"categoryId": ["00000000-0000-4000-8000-000000000000"], "filter": {}})
    assert r.status_code == 404 and code(r) == "CATEGORY_NOT_FOUND"
    assert api.post(f"{ASYNC}/assign-events-by-filter", {"categoryId": [], "filter": {}}).status_code == 400


def test_reorder_category_events(api, database):
    c = new_cat(api)
    e1, e2, e3 = (create_event(api, title=f"E{i}") for i in range(3))
    api.post(f"{CAT}/{c['id']}/events", {"eventId": [e1["id"], e2["id"], e3["id"]]})
    r = api.post(f"{CAT}/{c['id']}/reorder", {"categoryId": c["id"], "eventId": e3["id"], "beforeEventId": e1["id"]})
    assert r.status_code == 200 and r.json() == {}
    assert order_of(database, c["id"]) == [e3["id"], e1["id"], e2["id"]]
    api.post(f"{CAT}/{c['id']}/reorder", {"eventId": e3["id"], "afterEventId": e2["id"]})
    assert order_of(database, c["id"]) == [e1["id"], e2["id"], e3["id"]]
    # assigned later: appended at the end
    e4 = create_event(api, title="E4")
    api.post(f"{CAT}/{c['id']}/events", {"eventId": [e4["id"]]})
    assert order_of(database, c["id"])[-1] == e4["id"]
    # refusals
    r = api.post(f"{CAT}/{c['id']}/reorder", {"eventId": e1["id"]})
    assert r.status_code == 400 and code(r) == "INVALID_REORDER_INSTRUCTION"
    r = api.post(f"{CAT}/{c['id']}/reorder", {"eventId": e1["id"], "afterEventId": e1["id"]})
    assert r.status_code == 400 and code(r) == "INVALID_REORDER_INSTRUCTION"
    e5 = create_event(api, title="E5")
    r = api.post(f"{CAT}/{c['id']}/reorder", {"eventId": e1["id"], "afterEventId": e5["id"]})
    assert r.status_code == 400 and code(r) == "INVALID_REORDER_INSTRUCTION"
    r = api.post(f"{CAT}/{c['id']}/reorder", {"eventId": e5["id"], "afterEventId": e1["id"]})
    assert r.status_code == 404 and code(r) == "EVENT_NOT_FOUND"
    r = api.post(f"{CAT}/{c['id']}/reorder", {"afterEventId": e1["id"]})
    assert r.status_code == 400 and field(r) == "eventId"
    r = api.post(f"{CAT}/00000000-0000-4000-8000-000000000000/reorder", {"eventId": e1["id"], "afterEventId": e2["id"]})
    assert r.status_code == 404 and code(r) == "CATEGORY_NOT_FOUND"


def test_deleting_an_event_drops_its_assignments(api, database):
    c1, c2 = new_cat(api, "One"), new_cat(api, "Two")
    e1, e2 = create_event(api), create_event(api)
    for c in (c1, c2):
        api.post(f"{CAT}/{c['id']}/events", {"eventId": [e1["id"], e2["id"]]})
    assert api.delete(f"{EVENTS}/{e1['id']}").status_code == 200
    assert order_of(database, c1["id"]) == [e2["id"]] and order_of(database, c2["id"]) == [e2["id"]]
    counts = query(api, {"query": {}, "fieldset": ["COUNTS"]})["categories"][0]["counts"]
    assert counts == {"assignedEventsCount": 0, "assignedDraftEventsCount": 1}


def test_path_aliases(api):
    r = api.post(ALIAS, {"category": {"name": "Aliased"}})
    assert r.status_code == 200
    cid = r.json()["category"]["id"]
    assert api.post(f"{ALIAS}/query", {"query": {}}).json()["categories"][0]["id"] == cid
    ev = create_event(api)
    assert api.post(f"{ALIAS}/{cid}/events", {"eventId": [ev["id"]]}).status_code == 200
    assert api.get(f"/_api/wix-events-web/v1/categories/{ev['id']}").json()["categories"][0]["id"] == cid
    r = api.delete("/_api/wix-events-web/v1/bulk/categories/events", params={"categoryId": [cid]})
    assert r.status_code == 200


def test_list_events_by_category_in_the_category_order(api, make_api):
    visitor = make_api(identity="visitor")
    c = new_cat(api)
    e1, e2 = create_event(api, title="E1", draft=False), create_event(api, title="E2", draft=False)
    draft = create_event(api, title="Draft")
    api.post(f"{CAT}/{c['id']}/events", {"eventId": [e1["id"], draft["id"], e2["id"]]})
    api.post(f"{CAT}/{c['id']}/reorder", {"eventId": e2["id"], "beforeEventId": e1["id"]})
    path = f"{EVENTS}/category/{c['id']}"
    r = api.get(path, params={"categoryId": c["id"], "fields": ["REGISTRATION"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [e["id"] for e in body["events"]] == [e2["id"], e1["id"], draft["id"]]
    assert body["events"][0]["registration"]["initialType"] == "TICKETING"
    assert body["pagingMetadata"] == {"count": 3, "offset": 0, "total": 3, "tooManyToCount": False}
    r = api.get(path, params={"paging.limit": "1", "paging.offset": "1"})
    assert [e["id"] for e in r.json()["events"]] == [e1["id"]] and r.json()["pagingMetadata"]["total"] == 3
    assert "registration" not in r.json()["events"][0]
    # a visitor: no drafts, and no HIDDEN category
    assert [e["id"] for e in visitor.get(path).json()["events"]] == [e2["id"], e1["id"]]
    api.patch(f"{CAT}/{c['id']}", {"category": {"states": ["HIDDEN"]}})
    assert visitor.get(path).status_code == 404
    assert api.get(path).status_code == 200
    # refusals
    assert api.get(path, params={"paging.limit": "101"}).status_code == 400
    assert api.get(path, params={"paging.limit": "x"}).status_code == 400
    assert api.get(path, params={"fields": ["NOPE"]}).status_code == 400
    r = api.get(f"{EVENTS}/category/00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404 and code(r) == "CATEGORY_NOT_FOUND"
    assert make_api(site="site-b").get(path).status_code == 404
