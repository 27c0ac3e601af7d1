"""Schedule items (issue 11, step 5): the draft and the published schedule, every rule and
refusal, tenancy and what guests see. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
import json

from boxoffice.identity import Permission
from tests.helpers import EVENTS, create_event, iso, utcnow

S = "/events/v1/schedule"
T0 = (utcnow() + dt.timedelta(days=30)).replace(microsecond=0)


def item_body(name: str = "Keynote", start: dt.datetime = T0, hours: float = 1, **extra) -> dict:
    return {
        "name": name,
        "timeSlot": {"start": iso(start), "end": iso(start + dt.timedelta(hours=hours)), "timeZoneId": "Europe/Vilnius"},
        **extra,
    }


def add(api, event_id: str, status: int = 200, **kw) -> dict:
    r = api.post(f"{S}/draft", {"eventId": event_id, "item": item_body(**kw)})
    assert r.status_code == status, r.text
    return r.json().get("item") if status == 200 else r.json()


def publish(api, event_id: str) -> None:
    r = api.post(f"{S}/publish", {"eventId": event_id})
    assert r.status_code == 200 and r.json() == {}, r.text


def listing(api, **params) -> dict:
    r = api.get(S, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def field_of(r) -> str:
    return r.json()["details"]["validationError"]["fieldViolations"][0]["field"]


def test_add_get_publish_discard(api):
    ev = create_event(api, draft=False)
    it = add(api, ev["id"], description="<p>Hi</p>", stageName="Main", tags=["talk", "ai", "talk"])
    assert it["draft"] is True and it["eventId"] == ev["id"] and it["status"] == "SCHEDULED" and it["hidden"] is False
    assert it["tags"] == ["talk", "ai"] and it["stageName"] == "Main" and it["description"] == "<p>Hi</p>"
    assert it["timeSlot"] == {"start": iso(T0), "end": iso(T0 + dt.timedelta(hours=1)), "timeZoneId": "Europe/Vilnius"}
    # not published yet: Get without includeDraft does not find it; with it, the draft
    assert api.get(f"{S}/{it['id']}").status_code == 404
    r = api.get(f"{S}/{it['id']}", params={"includeDraft": "true", "itemId": it["id"]})
    assert r.status_code == 200 and r.json()["item"]["draft"] is True and r.json()["draft"]["id"] == it["id"]
    assert listing(api, eventId=ev["id"])["items"] == []
    assert listing(api, eventId=ev["id"])["draftNotPublished"] is True
    publish(api, ev["id"])
    body = listing(api, eventId=ev["id"])
    assert [i["id"] for i in body["items"]] == [it["id"]] and body["items"][0]["draft"] is False
    assert body["draftNotPublished"] is False and body["total"] == 1 and body["pagingMetadata"]["total"] == 1
    got = api.get(f"{S}/{it['id']}", params={"eventId": ev["id"]}).json()
    assert got["item"]["draft"] is False and "draft" not in got
    # edit the draft: the published version stays until Publish; Discard brings it back
    r = api.patch(f"{S}/draft/{it['id']}", {"eventId": ev["id"], "itemId": it["id"], "item": {"name": "Opening"}, "fields": "name"})
    assert r.status_code == 200 and r.json()["item"]["name"] == "Opening" and r.json()["item"]["tags"] == ["talk", "ai"]
    assert api.get(f"{S}/{it['id']}").json()["item"]["name"] == "Keynote"
    both = api.get(f"{S}/{it['id']}", params={"includeDraft": "true"}).json()
    assert both["item"]["name"] == "Keynote" and both["draft"]["name"] == "Opening"
    assert listing(api, eventId=ev["id"])["draftNotPublished"] is True
    r = api.delete(f"{S}/draft", params={"eventId": ev["id"]})
    assert r.status_code == 200 and r.json() == {}
    assert api.get(f"{S}/{it['id']}", params={"includeDraft": "true"}).json()["draft"]["name"] == "Keynote"
    assert listing(api, eventId=ev["id"])["draftNotPublished"] is False
    # publish an edit
    api.patch(f"{S}/draft/{it['id']}", {"eventId": ev["id"], "item": {"name": "Opening"}, "fields": ["name"]})
    publish(api, ev["id"])
    assert api.get(f"{S}/{it['id']}").json()["item"]["name"] == "Opening"


def test_full_update_without_mask_and_mask_paths(api):
    ev = create_event(api)
    it = add(api, ev["id"], tags=["a"], stageName="Room 1")
    # no field mask: a full update, so name and timeSlot are required and the rest resets
    r = api.patch(f"{S}/draft/{it['id']}", {"eventId": ev["id"], "item": {"name": "Only name"}})
    assert r.status_code == 400 and field_of(r) == "item.timeSlot.start"
    r = api.patch(f"{S}/draft/{it['id']}", {"eventId": ev["id"], "item": item_body("Full", hidden=True, status="CANCELED")})
    got = r.json()["item"]
    assert got["name"] == "Full" and got["tags"] == [] and got["stageName"] == "" and got["hidden"] and got["status"] == "CANCELED"
    # masked paths
    later = T0 + dt.timedelta(hours=5)
    r = api.patch(f"{S}/draft/{it['id']}", {"eventId": ev["id"], "item": {"timeSlot": {"end": iso(later)}}, "fields": "timeSlot.end"})
    assert r.json()["item"]["timeSlot"]["end"] == iso(later) and r.json()["item"]["timeSlot"]["start"] == iso(T0)
    r = api.patch(f"{S}/draft/{it['id']}", {"eventId": ev["id"], "item": {"timeSlot": {"end": iso(T0)}}, "fields": "timeSlot.end"})
    assert r.status_code == 400 and field_of(r) == "item.timeSlot.end"
    r = api.patch(f"{S}/draft/{it['id']}", {"eventId": ev["id"], "item": {}, "fields": "nope"})
    assert r.status_code == 400 and field_of(r) == "fields"
    r = api.patch(f"{S}/draft/{it['id']}", {"eventId": ev["id"], "item": {"name": ""}, "fields": "name"})
    assert r.status_code == 400 and field_of(r) == "item.name"
    r = api.patch(f"{S}/draft/{it['id']}", {"eventId": ev["id"], "item": {"timeSlot": {}}, "fields": "timeSlot.timeZoneId"})
    assert r.json()["item"]["timeSlot"]["timeZoneId"] == "Etc/UTC"


def test_add_validation_and_bounds(api):
    ev = create_event(api)
    eid = ev["id"]

    def bad(item: dict, field: str) -> None:
        r = api.post(f"{S}/draft", {"eventId": eid, "item": item})
        assert r.status_code == 400, r.text
        assert field_of(r) == field, r.text

    bad({"timeSlot": item_body()["timeSlot"]}, "item.name")
    bad({"name": "x"}, "item.timeSlot.start")
    bad({"name": "x", "timeSlot": {"start": iso(T0)}}, "item.timeSlot.end")
    bad(item_body(hours=0), "item.timeSlot.end")
    bad(item_body(hours=-1), "item.timeSlot.end")
    bad(item_body(name="x" * 121), "item.name")
    bad(item_body(description="x" * 10_001), "item.description")
    bad(item_body(stageName="x" * 31), "item.stageName")
    bad(item_body(tags=["a"] * 6), "item.tags")
    bad(item_body(tags=["x" * 31]), "item.tags[0]")
    bad(item_body(tags=[""]), "item.tags[0]")
    bad(item_body(status="POSTPONED"), "item.status")
    bad({**item_body(), "timeSlot": {**item_body()["timeSlot"], "timeZoneId": "Mars/Olympus"}}, "item.timeSlot.timeZoneId")
    bad({**item_body(), "timeSlot": {**item_body()["timeSlot"], "timeZoneId": "x" * 101}}, "item.timeSlot.timeZoneId")
    assert add(api, eid, name="x" * 120, description="d" * 10_000, stageName="s" * 30, tags=["t" * 30] * 1)["name"] == "x" * 120
    r = api.post(f"{S}/draft", {"item": item_body()})
    assert r.status_code == 400 and field_of(r) == "eventId"


def test_items_per_event_limit(api, database, monkeypatch):
    from boxoffice.schedule import service

    monkeypatch.setattr(service, "MAX_ITEMS_PER_EVENT", 2)
    ev = create_event(api)
    add(api, ev["id"])
    add(api, ev["id"])
    err = add(api, ev["id"], status=428)
    assert err["details"]["applicationError"]["code"] == "SCHEDULE_ITEMS_LIMIT_REACHED"


def test_delete_items(api):
    ev = create_event(api, draft=False)
    a, b, c = (add(api, ev["id"], name=n) for n in "abc")
    publish(api, ev["id"])
    r = api.delete(f"{S}/draft/items", params={"eventId": ev["id"], "itemIds": [a["id"], "00000000-0000-0000-0000-000000000000"]})
    assert r.status_code == 404  # all or nothing
    r = api.delete(f"{S}/draft/items", params={"eventId": ev["id"], "itemIds": [a["id"], b["id"]]})
    assert r.status_code == 200 and r.json() == {}
    # deleted from the draft only: guests still see them until Publish
    assert len(listing(api, eventId=ev["id"])["items"]) == 3
    drafts = listing(api, eventId=ev["id"], state="DRAFT")["items"]
    assert [i["id"] for i in drafts] == [c["id"]]
    assert api.patch(f"{S}/draft/{a['id']}", {"eventId": ev["id"], "item": {"name": "z"}, "fields": "name"}).status_code == 404
    publish(api, ev["id"])
    assert [i["id"] for i in listing(api, eventId=ev["id"])["items"]] == [c["id"]]
    assert api.get(f"{S}/{a['id']}").status_code == 404
    r = api.delete(f"{S}/draft/items", params={"eventId": ev["id"]})
    assert r.status_code == 400 and field_of(r) == "itemIds"
    r = api.delete(f"{S}/draft/items", params={"eventId": ev["id"], "itemIds": [c["id"]] * 101})
    assert r.status_code == 400


def test_reschedule_draft(api):
    ev = create_event(api, draft=False)
    a = add(api, ev["id"], name="a")
    add(api, ev["id"], name="b", start=T0 + dt.timedelta(hours=2))
    publish(api, ev["id"])
    r = api.post(f"{S}/draft/reschedule", {"eventId": ev["id"], "timeZoneId": "America/New_York", "timeSlotOffset": "5400s"})
    assert r.status_code == 200 and r.json() == {}
    drafts = listing(api, eventId=ev["id"], state="DRAFT")["items"]
    assert [i["timeSlot"]["start"] for i in drafts] == [iso(T0 + dt.timedelta(minutes=90)), iso(T0 + dt.timedelta(minutes=210))]
    assert {i["timeSlot"]["timeZoneId"] for i in drafts} == {"America/New_York"}
    # the published schedule has not moved
    assert api.get(f"{S}/{a['id']}").json()["item"]["timeSlot"]["start"] == iso(T0)
    r = api.post(f"{S}/draft/reschedule", {"eventId": ev["id"], "timeZoneId": "Etc/UTC", "timeSlotOffset": "-1.5s"})
    assert r.status_code == 200
    got = api.get(f"{S}/{a['id']}", params={"includeDraft": True}).json()["draft"]["timeSlot"]["start"]
    assert got == iso(T0 + dt.timedelta(minutes=90) - dt.timedelta(seconds=1.5))
    for bad in ("1h", "3600", "s", "1.1234567890s", "9999999999999s"):
        r = api.post(f"{S}/draft/reschedule", {"eventId": ev["id"], "timeZoneId": "Etc/UTC", "timeSlotOffset": bad})
        assert r.status_code == 400 and field_of(r) == "timeSlotOffset", bad
    r = api.post(f"{S}/draft/reschedule", {"eventId": ev["id"], "timeZoneId": "Etc/UTC", "timeSlotOffset": "315576000000s"})
    assert r.status_code == 400 and field_of(r) == "timeSlotOffset"
    r = api.post(f"{S}/draft/reschedule", {"eventId": ev["id"], "timeZoneId": "Nowhere/Land"})
    assert r.status_code == 400 and field_of(r) == "timeZoneId"
    r = api.post(f"{S}/draft/reschedule", {"eventId": ev["id"]})
    assert r.status_code == 400 and field_of(r) == "timeZoneId"


def test_list_filters_states_facets_and_paging(api):
    ev = create_event(api, draft=False)
    other = create_event(api, draft=False, title="Other")
    a = add(api, ev["id"], name="a", stageName="Main", tags=["ai", "talk"])
    b = add(api, ev["id"], name="b", start=T0 + dt.timedelta(hours=1), stageName="Side", tags=["talk"])
    h = add(api, ev["id"], name="h", start=T0 + dt.timedelta(hours=2), hidden=True)
    o = add(api, other["id"], name="o", start=T0 - dt.timedelta(hours=1))
    publish(api, ev["id"])
    publish(api, other["id"])
    ids = lambda body: [i["id"] for i in body["items"]]  # noqa: E731
    assert ids(listing(api)) == [o["id"], a["id"], b["id"]]  # PUBLISHED + VISIBLE, by start
    assert ids(listing(api, eventId=ev["id"])) == [a["id"], b["id"]]
    assert ids(listing(api, eventId=[ev["id"], other["id"]], stageName="Main")) == [a["id"]]
    assert ids(listing(api, tag="talk")) == [a["id"], b["id"]]
    assert ids(listing(api, tag=["ai", "nope"])) == [a["id"]]
    assert ids(listing(api, itemId=[b["id"], o["id"]])) == [o["id"], b["id"]]
    assert ids(listing(api, startingFrom=iso(T0), startingBefore=iso(T0 + dt.timedelta(hours=1)))) == [a["id"]]
    assert ids(listing(api, eventId=ev["id"], state="HIDDEN")) == [h["id"]]
    assert ids(listing(api, eventId=ev["id"], state=["HIDDEN", "VISIBLE"])) == [a["id"], b["id"], h["id"]]
    both = listing(api, eventId=ev["id"], state=["DRAFT", "PUBLISHED"])["items"]
    assert [(i["id"], i["draft"]) for i in both] == [(a["id"], False), (a["id"], True), (b["id"], False), (b["id"], True)]
    body = listing(api, eventId=ev["id"], facet=["tag", "stageName"], state=["VISIBLE", "HIDDEN"])
    assert body["facets"] == {"tag": {"counts": {"ai": 1, "talk": 2}}, "stageName": {"counts": {"Main": 1, "Side": 1}}}
    page = listing(api, **{"paging.limit": "1", "paging.offset": "1"})
    assert ids(page) == [a["id"]] and page["total"] == 3 and page["pagingMetadata"] == {"count": 1, "offset": 1, "total": 3, "tooManyToCount": False}
    legacy = listing(api, limit="2", offset="1")
    assert ids(legacy) == [a["id"], b["id"]] and legacy["limit"] == 2 and legacy["offset"] == 1
    assert listing(api, limit="500")["limit"] == 100
    # the SDK's .r form
    r = base64.urlsafe_b64encode(json.dumps({"eventId": [ev["id"]], "paging": {"limit": 1}}).encode()).decode().rstrip("=")
    assert ids(listing(api, **{".r": r})) == [a["id"]]
    for params, field in (
        ({"state": "SOMETIMES"}, "state[0]"),
        ({"facet": "nope"}, "facet"),
        ({"offset": "1001"}, "offset"),
        ({"startingFrom": "yesterday"}, "startingFrom"),
        ({"eventId": ["x"] * 101}, "eventId"),
        ({"tag": ["t"] * 51}, "tag"),
        ({"tag": "x" * 31}, "tag[0]"),
        ({"limit": "-1"}, "limit"),
    ):
        r = api.get(S, params=params)
        assert r.status_code == 400 and field_of(r) == field, (params, r.text)


def test_query(api):
    ev = create_event(api, draft=False)
    a = add(api, ev["id"], name="a", stageName="Main")
    b = add(api, ev["id"], name="b", start=T0 + dt.timedelta(hours=1))
    c = add(api, ev["id"], name="c", start=T0 + dt.timedelta(hours=2), hidden=True)
    publish(api, ev["id"])
    add(api, ev["id"], name="draft only")

    def q(query: dict) -> dict:
        r = api.post(f"{S}/query", {"query": query})
        assert r.status_code == 200, r.text
        return r.json()

    body = q({"filter": {"eventId": ev["id"]}, "sort": [{"fieldName": "name", "order": "ASC"}], "cursorPaging": {"limit": 2}})
    assert [i["name"] for i in body["items"]] == ["a", "b"] and all(not i["draft"] for i in body["items"])
    nxt = q({"cursorPaging": {"cursor": body["pagingMetadata"]["cursors"]["next"], "limit": 2}})
    assert [i["name"] for i in nxt["items"]] == ["c"] and not nxt["pagingMetadata"]["cursors"]["next"]
    # default sort: createdDate DESC
    assert [i["id"] for i in q({})["items"]] == [c["id"], b["id"], a["id"]]
    assert [i["name"] for i in q({"filter": {"$and": [{"stageName": "Main"}, {"name": {"$ne": "b"}}]}})["items"]] == ["a"]
    assert [i["name"] for i in q({"filter": {"draft": True}, "sort": [{"fieldName": "name"}]})["items"]] == ["a", "b", "c", "draft only"]
    assert [i["name"] for i in q({"filter": {"hidden": True}})["items"]] == ["c"]
    ge = q({"filter": {"timeSlot.start": {"$gte": iso(T0 + dt.timedelta(hours=1))}}, "sort": [{"fieldName": "timeSlot.start"}]})
    assert [i["name"] for i in ge["items"]] == ["b", "c"]
    offs = q({"paging": {"limit": 1, "offset": 1}, "sort": [{"fieldName": "name"}]})
    assert [i["name"] for i in offs["items"]] == ["b"] and offs["pagingMetadata"]["total"] == 3
    r = api.post(f"{S}/query", {"query": {"filter": {"nope": 1}}})
    assert r.status_code == 400 and r.json()["details"]["applicationError"]["code"] == "FILTER_PARSER_ERROR"
    r = api.post(f"{S}/query", {"query": {"cursorPaging": {"limit": 101}}})
    assert r.status_code == 400


def test_guests_see_published_visible_items_of_published_events(api, make_api):
    visitor = make_api(identity="visitor")
    member = make_api(identity="member")
    ev = create_event(api, draft=False)
    draft_event = create_event(api, title="Draft event")
    a = add(api, ev["id"], name="a")
    h = add(api, ev["id"], name="h", hidden=True)
    d = add(api, draft_event["id"], name="d")
    publish(api, ev["id"])
    publish(api, draft_event["id"])
    add(api, ev["id"], name="unpublished")
    for guest in (visitor, member):
        assert [i["id"] for i in listing(guest)["items"]] == [a["id"]]
        assert "draftNotPublished" not in listing(guest)
        assert guest.get(f"{S}/{a['id']}").status_code == 200
        assert guest.get(f"{S}/{h['id']}").status_code == 404
        assert guest.get(f"{S}/{d['id']}").status_code == 404
        assert guest.get(f"{S}/{a['id']}", params={"includeDraft": "true"}).status_code == 403
        assert guest.get(S, params={"state": "DRAFT"}).status_code == 403
        assert guest.get(S, params={"state": "HIDDEN"}).status_code == 403
        r = guest.post(f"{S}/query", {"query": {"filter": {"$or": [{"draft": True}, {"hidden": True}, {"eventId": draft_event["id"]}]}}})
        assert r.status_code == 200 and r.json()["items"] == []
        assert [i["id"] for i in guest.post(f"{S}/query", {}).json()["items"]] == [a["id"]]
        # every write needs "Manage Events"
        assert guest.post(f"{S}/draft", {"eventId": ev["id"], "item": item_body()}).status_code == 403
        assert guest.patch(f"{S}/draft/{a['id']}", {"eventId": ev["id"], "item": item_body()}).status_code == 403
        assert guest.delete(f"{S}/draft/items", params={"eventId": ev["id"], "itemIds": a["id"]}).status_code == 403
        assert guest.delete(f"{S}/draft", params={"eventId": ev["id"]}).status_code == 403
        assert guest.post(f"{S}/publish", {"eventId": ev["id"]}).status_code == 403
        assert guest.post(f"{S}/draft/reschedule", {"eventId": ev["id"], "timeZoneId": "Etc/UTC"}).status_code == 403


def test_permissions_of_narrowed_keys(make_api):
    owner = make_api()
    ev = create_event(owner, draft=False)
    reader = make_api(permissions={Permission.READ_EVENTS})
    orders_only = make_api(permissions={Permission.MANAGE_ORDERS})
    manager = make_api(permissions={Permission.MANAGE_EVENTS})
    it = add(manager, ev["id"])
    publish(manager, ev["id"])
    assert reader.get(f"{S}/{it['id']}").status_code == 200
    assert reader.post(f"{S}/draft", {"eventId": ev["id"], "item": item_body()}).status_code == 403
    assert orders_only.get(S).status_code == 403
    assert orders_only.post(f"{S}/query", {}).status_code == 403


def test_tenancy(make_api):
    a = make_api(site="site-a")
    b = make_api(site="site-b")
    ev = create_event(a, draft=False)
    it = add(a, ev["id"])
    publish(a, ev["id"])
    # site B cannot see, add to, change, delete, publish or reschedule site A's schedule
    assert b.get(f"{S}/{it['id']}").status_code == 404
    assert listing(b)["items"] == [] and b.post(f"{S}/query", {}).json()["items"] == []
    assert listing(b, eventId=ev["id"])["items"] == []
    assert add(b, ev["id"], status=404)["details"]["applicationError"]["code"] == "EVENT_NOT_FOUND"
    assert b.patch(f"{S}/draft/{it['id']}", {"eventId": ev["id"], "item": item_body()}).status_code == 404
    assert b.delete(f"{S}/draft/items", params={"eventId": ev["id"], "itemIds": it["id"]}).status_code == 404
    assert b.delete(f"{S}/draft", params={"eventId": ev["id"]}).status_code == 404
    assert b.post(f"{S}/publish", {"eventId": ev["id"]}).status_code == 404
    assert b.post(f"{S}/draft/reschedule", {"eventId": ev["id"], "timeZoneId": "Etc/UTC"}).status_code == 404
    # an item of another event of the same site is not found under this event
    ev2 = create_event(a, title="Second", draft=False)
    r = a.patch(f"{S}/draft/{it['id']}", {"eventId": ev2["id"], "item": {"name": "x"}, "fields": "name"})
    assert r.status_code == 404 and r.json()["details"]["applicationError"]["code"] == "SCHEDULE_ITEM_NOT_FOUND"
    assert a.get(f"{S}/{it['id']}", params={"eventId": ev2["id"]}).status_code == 404
    assert add(a, "00000000-0000-0000-0000-000000000000", status=404)


def test_deleting_the_event_deletes_its_schedule(api, database):
    from sqlalchemy import func, select

    from boxoffice.schedule.models import ScheduleDraft, ScheduleItem, ScheduleItemTag

    ev = create_event(api, draft=False)
    add(api, ev["id"], tags=["x"])
    publish(api, ev["id"])
    assert api.delete(f"{EVENTS}/{ev['id']}").status_code == 200
    with database.session() as s:
        for model in (ScheduleItem, ScheduleItemTag, ScheduleDraft):
            assert s.scalar(select(func.count()).select_from(model)) == 0


def test_alias_prefixes(api):
    ev = create_event(api, draft=False)
    for prefix in ("/_api/wix-events-schedule/v1/schedule", "/_api/wix-events-web/v1/schedule"):
        r = api.post(f"{prefix}/draft", {"eventId": ev["id"], "item": item_body()})
        assert r.status_code == 200, r.text
        assert api.get(prefix, params={"eventId": ev["id"], "state": "DRAFT"}).status_code == 200


def test_clone_event_copies_the_schedule_and_moves_it_with_the_dates(api):
    """Clone Event: both versions of every item, new ids, moved by the shift of the start."""
    ev = create_event(api, draft=False)
    kept = add(api, ev["id"], name="Opening", tags=["talk"])
    publish(api, ev["id"])
    add(api, ev["id"], name="Draft only")
    start = dt.datetime.fromisoformat(ev["dateAndTimeSettings"]["startDate"].replace("Z", "+00:00"))
    later = start + dt.timedelta(days=7)
    end = later + dt.timedelta(hours=3)
    r = api.post(
        f"{EVENTS}/{ev['id']}/clone",
        {"event": {"dateAndTimeSettings": {"startDate": iso(later), "endDate": iso(end), "timeZoneId": "UTC"}}},
    )
    assert r.status_code == 200, r.text
    copy = r.json()["event"]
    items = listing(api, eventId=copy["id"], state=["DRAFT", "PUBLISHED"])["items"]
    assert sorted(i["name"] for i in items if i["draft"]) == ["Draft only", "Opening"]
    assert [i["name"] for i in items if not i["draft"]] == ["Opening"]
    assert kept["id"] not in {i["id"] for i in items}
    opening = next(i for i in items if i["name"] == "Opening" and not i["draft"])
    assert opening["timeSlot"]["start"] == iso(T0 + dt.timedelta(days=7)) and opening["tags"] == ["talk"]
    # the original is untouched
    assert [i["name"] for i in listing(api, eventId=ev["id"])["items"]] == ["Opening"]
    assert listing(api, eventId=copy["id"])["draftNotPublished"] is True
