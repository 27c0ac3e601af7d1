"""Events v3: create, update, publish, query, slugs, delete, cancel (the whole Event object:
tests/test_event_details.py; lifecycle webhooks: tests/test_event_lifecycle.py)."""

from __future__ import annotations

from sqlalchemy import select

from boxoffice.outbox.models import OutboxEvent
from tests.helpers import EVENTS, TD, create_event, create_td, event_body


def test_create_draft_get_update_publish(api, database):
    ev = create_event(api)
    assert ev["status"] == "DRAFT" and ev["slug"] == "leather-workshop" and ev["revision"] == "1"
    assert "registration" not in ev
    ev2 = create_event(api)
    assert ev2["slug"] == "leather-workshop-2"
    r = api.get(f"{EVENTS}/{ev['id']}", params={"fields": ["REGISTRATION"], "eventId": ev["id"]})
    reg = r.json()["event"]["registration"]
    assert reg["initialType"] == "TICKETING" and reg["type"] == "TICKETING"
    r = api.patch(f"{EVENTS}/{ev['id']}", {"event": {"id": ev["id"], "title": "Leather Workshop II", "shortDescription": "Hands on"}})
    assert "shortDescription" not in r.json()["event"]  # a DETAILS field
    r = api.get(f"{EVENTS}/{ev['id']}", params={"fields": "DETAILS"})
    e = r.json()["event"]
    assert e["title"] == "Leather Workshop II" and e["shortDescription"] == "Hands on" and e["revision"] == "2"
    assert e["location"] == ev["location"] and e["dateAndTimeSettings"] == ev["dateAndTimeSettings"]
    r = api.post(f"{EVENTS}/{ev['id']}/publish", {"eventId": ev["id"]})
    assert r.status_code == 200 and r.json()["event"]["status"] == "UPCOMING" and r.json()["event"]["publishedDate"]
    r = api.post(f"{EVENTS}/{ev['id']}/publish", {})
    assert r.status_code == 428 and r.json()["details"]["applicationError"]["code"] == "EVENT_ALREADY_PUBLISHED"
    with database.session() as s:
        slugs = [o.slug for o in s.scalars(select(OutboxEvent).where(OutboxEvent.entity_id == ev["id"]).order_by(OutboxEvent.position))]
    assert slugs == ["created", "updated", "published"]


def test_create_without_draft_publishes(api):
    r = api.post(EVENTS, {k: v for k, v in event_body().items() if k != "draft"})
    assert r.json()["event"]["status"] == "UPCOMING"


def test_create_validation(api):
    body = event_body()
    del body["event"]["location"]
    r = api.post(EVENTS, body)
    assert r.status_code == 400 and r.json()["details"]["validationError"]["fieldViolations"][0]["field"] == "event.location"
    body = event_body()
    body["event"]["dateAndTimeSettings"]["endDate"] = body["event"]["dateAndTimeSettings"]["startDate"]
    r = api.post(EVENTS, body)
    assert r.status_code == 400
    body = event_body()
    body["event"]["registration"] = {}
    assert api.post(EVENTS, body).status_code == 400
    body = event_body(initial_type="CONCERT")
    assert api.post(EVENTS, body).status_code == 400
    assert api.post(EVENTS, event_body(title="x" * 121)).status_code == 400


def test_slug_rules(api):
    a = create_event(api, title="A")
    b = create_event(api, title="B")
    r = api.patch(f"{EVENTS}/{b['id']}", {"event": {"slug": a["slug"]}})
    assert r.status_code == 409 and r.json()["details"]["applicationError"]["code"] == "SLUG_ALREADY_IN_USE"
    r = api.patch(f"{EVENTS}/{b['id']}", {"event": {"slug": "Not A Slug"}})
    assert r.status_code == 400
    r = api.patch(f"{EVENTS}/{b['id']}", {"event": {"slug": "my-event"}})
    assert r.json()["event"]["slug"] == "my-event"


def test_initial_type_is_immutable(api):
    ev = create_event(api)
    r = api.patch(f"{EVENTS}/{ev['id']}", {"event": {"registration": {"initialType": "RSVP"}}})
    assert r.status_code == 428
    r = api.patch(f"{EVENTS}/{ev['id']}", {"event": {"registration": {"type": "RSVP"}}})
    assert r.status_code == 428
    r = api.patch(f"{EVENTS}/{ev['id']}", {"event": {"registration": {"type": "EXTERNAL"}}, "fields": ["REGISTRATION"]})
    assert r.json()["event"]["registration"]["type"] == "EXTERNAL"


def test_query_offset_paging_and_drafts(api, make_api):
    ids = [create_event(api, title=f"E{i}", draft=i % 2 == 0)["id"] for i in range(7)]
    r = api.post(f"{EVENTS}/query", {"query": {"paging": {"limit": 2, "offset": 0}}})
    body = r.json()
    assert [e["id"] for e in body["events"]] == [ids[1], ids[3]]
    assert body["pagingMetadata"] == {"count": 2, "offset": 0, "total": 3, "tooManyToCount": False}
    r = api.post(f"{EVENTS}/query", {"query": {"paging": {"limit": 5, "offset": 0}}, "includeDrafts": True})
    assert r.json()["pagingMetadata"]["total"] == 7
    r = api.post(f"{EVENTS}/query", {"query": {"filter": {"status": "DRAFT"}, "sort": [{"fieldName": "title", "order": "DESC"}]}, "includeDrafts": True})
    assert [e["title"] for e in r.json()["events"]] == ["E6", "E4", "E2", "E0"]
    visitor = make_api(identity="visitor")
    assert visitor.get(f"{EVENTS}/{ids[0]}").status_code == 404  # drafts are not public
    assert visitor.get(f"{EVENTS}/{ids[1]}").status_code == 200
    r = visitor.post(f"{EVENTS}/query", {"includeDrafts": True})
    assert len(r.json()["events"]) == 3


def test_delete_event_deletes_its_definitions_with_their_events(api, database):
    ev = create_event(api)
    tds = [create_td(api, ev["id"], name=f"T{i}") for i in range(3)]
    other = create_event(api, title="Other")
    kept = create_td(api, other["id"])
    r = api.delete(f"{EVENTS}/{ev['id']}")
    assert r.status_code == 200 and r.json() == {"eventId": ev["id"]}
    assert api.get(f"{EVENTS}/{ev['id']}").status_code == 404
    assert [t["id"] for t in api.post(f"{TD}/query", {}).json()["ticketDefinitions"]] == [kept["id"]]
    with database.session() as s:
        rows = list(s.scalars(select(OutboxEvent).order_by(OutboxEvent.position)))
    deleted = [o.entity_id for o in rows if o.slug == "deleted"]
    assert deleted == [t["id"] for t in tds] + [ev["id"]]
    assert rows[-1].event_type == "wix.events.v3.event_deleted"


def test_event_path_aliases(api):
    ev = create_event(api)
    for prefix in ("/events/v3/events", "/_api/events-events-v3-adapter/v3/events", "/events-events-v3-adapter/v3/events"):
        assert api.get(f"{prefix}/{ev['id']}").status_code == 200, prefix


def test_request_id_and_consistency_headers(api):
    r = api.get(f"{EVENTS}/nope", headers={"X-Wix-Consistent": "true"})
    assert r.status_code == 404 and len(r.headers["x-wix-request-id"]) == 32
    assert r.headers["x-wix-consistent"] == "true"


def test_values_the_database_cannot_store_are_400_not_500(api):
    r = api.get(f"{EVENTS}/a%00b")
    assert r.status_code in (400, 404), r.text  # PostgreSQL text cannot hold NUL: 400
    r = api.post(EVENTS, event_body(title="Nul\x00Title"))
    assert r.status_code in (200, 400), r.text


def test_get_event_by_slug(api, make_api):
    published = create_event(api, title="Slug Me", draft=False)
    r = api.get(f"{EVENTS}/slug/{published['slug']}")
    assert r.status_code == 200 and r.json()["event"]["id"] == published["id"]
    draft = create_event(api, title="Hidden Draft")
    visitor = make_api(identity="visitor")
    assert visitor.get(f"{EVENTS}/slug/{draft['slug']}").status_code == 404
    assert visitor.get(f"{EVENTS}/slug/{published['slug']}").status_code == 200
    assert make_api(site="site-b").get(f"{EVENTS}/slug/{published['slug']}").status_code == 404


def test_cancel_event_stops_selling_and_says_so(api, database, make_api):
    from sqlalchemy import select

    from boxoffice.outbox.models import OutboxEvent
    from tests.helpers import CHECKOUT, RES, create_td, guest_form, reserve

    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=5)
    held = reserve(api, td["id"])  # a hold made before the cancel
    api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": reserve(api, td["id"])["id"], "guests": [guest_form()],
                        "options": {"payInPerson": True}})
    visitor = make_api(identity="visitor")
    assert visitor.post(f"{EVENTS}/{ev['id']}/cancel", {}).status_code == 403
    assert make_api(site="site-b").post(f"{EVENTS}/{ev['id']}/cancel", {}).status_code == 404
    r = api.post(f"{EVENTS}/{ev['id']}/cancel", {})
    assert r.status_code == 200 and r.json()["event"]["status"] == "CANCELED"
    refused = api.post(RES, {"ticketReservation": {"tickets": [{"ticketDefinitionId": td["id"], "quantity": 1}]}})
    assert refused.status_code == 428 and refused.json()["details"]["applicationError"]["code"] == "EVENT_CANCELED"
    late = api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": held["id"], "guests": [guest_form()]})
    assert late.status_code == 428 and late.json()["details"]["applicationError"]["code"] == "EVENT_CANCELED"
    again = api.post(f"{EVENTS}/{ev['id']}/cancel", {})
    assert again.status_code == 428 and again.json()["details"]["applicationError"]["code"] == "EVENT_ALREADY_CANCELED"
    with database.session() as s:
        body = [o.payload for o in s.scalars(select(OutboxEvent)) if o.event_type == "wix.events.v3.event_canceled"]
    assert len(body) == 1 and body[0]["actionEvent"]["body"]["hasGuests"] is True
    draft = create_event(api)
    assert api.post(f"{EVENTS}/{draft['id']}/cancel", {}).status_code == 428


def test_count_events_by_status(api, make_api):
    up = create_event(api, title="Up", draft=False)
    gone = create_event(api, title="Gone", draft=False)
    draft = create_event(api, title="Draft")
    assert api.post(f"{EVENTS}/{gone['id']}/cancel", {}).status_code == 200
    ids = [up["id"], gone["id"], draft["id"]]
    r = api.post(f"{EVENTS}/count-by-status", {"filter": {"id": {"$in": ids}}})
    assert r.json()["facets"]["status"]["counts"] == {"UPCOMING": 1, "CANCELED": 1}
    r = api.post(f"{EVENTS}/count-by-status", {"filter": {"id": {"$in": ids}}, "includeDrafts": True})
    assert r.json()["facets"]["status"]["counts"] == {"UPCOMING": 1, "CANCELED": 1, "DRAFT": 1}
    visitor = make_api(identity="visitor")
    r = visitor.post(f"{EVENTS}/count-by-status", {"filter": {"id": {"$in": ids}}, "includeDrafts": True})
    assert r.json()["facets"]["status"]["counts"] == {"UPCOMING": 1, "CANCELED": 1}


def test_bulk_cancel_and_delete_by_filter(api, make_api):
    a = create_event(api, title="Bulk A", draft=False)
    b = create_event(api, title="Bulk B", draft=False)
    other = create_event(api, title="Other", draft=False)
    flt = {"filter": {"filter": {"id": {"$in": [a["id"], b["id"]]}}}}
    assert make_api(identity="visitor").post("/events/v3/bulk/events/cancel-by-filter", flt).status_code == 403
    assert api.post("/events/v3/bulk/events/cancel-by-filter", flt).status_code == 200
    assert api.get(f"{EVENTS}/{a['id']}").json()["event"]["status"] == "CANCELED"
    assert api.get(f"{EVENTS}/{other['id']}").json()["event"]["status"] == "UPCOMING"
    # another site's filter touches nothing here
    assert make_api(site="site-b").post("/events/v3/bulk/events/delete-by-filter", flt).status_code == 200
    assert api.get(f"{EVENTS}/{a['id']}").status_code == 200
    assert api.post("/events/v3/bulk/events/delete-by-filter", flt).status_code == 200
    assert api.get(f"{EVENTS}/{a['id']}").status_code == 404 and api.get(f"{EVENTS}/{b['id']}").status_code == 404
    assert api.get(f"{EVENTS}/{other['id']}").status_code == 200
    bad = api.post("/events/v3/bulk/events/delete-by-filter", {"filter": {"filter": {"nope": 1}}})
    assert bad.status_code == 400


def test_clone_event_copies_settings_and_definitions_without_sales(api, database, make_api):
    from sqlalchemy import select

    from boxoffice.outbox.models import OutboxEvent
    from tests.helpers import RES, reserve, sales

    src = create_event(api, title="Original", draft=False)
    a = create_td(api, src["id"], name="A", initialLimit=5)
    b = create_td(api, src["id"], name="B", initialLimit=7)
    reserve(api, a["id"], 2)
    r = api.post(f"{EVENTS}/{src['id']}/clone", {"event": {"title": "The Copy"}})
    assert r.status_code == 200, r.text
    copy = r.json()["event"]
    assert copy["id"] != src["id"] and copy["slug"] != src["slug"]
    assert copy["title"] == "The Copy" and copy["status"] == "DRAFT"
    assert copy["location"] == src["location"]
    defs = api.post(f"{TD}/query", {"query": {"filter": {"eventId": copy["id"]}, "sort": [{"fieldName": "sortIndex"}]}})
    copied = defs.json()["ticketDefinitions"]
    assert [d["name"] for d in copied] == ["A", "B"]
    assert sales(api, copied[0]["id"]) == {"unsoldCount": 5, "soldCount": 0, "reservedCount": 0, "soldOut": False}
    with database.session() as s:
        cloned = [o.payload for o in s.scalars(select(OutboxEvent)) if o.event_type == "wix.events.v3.event_cloned"]
    body = cloned[0]["actionEvent"]["body"]
    assert body["derivedFromEventId"] == src["id"] and set(body["ticketDefinitions"]) == {a["id"], b["id"]}
    assert make_api(identity="visitor").post(f"{EVENTS}/{src['id']}/clone", {}).status_code == 403
    assert make_api(site="site-b").post(f"{EVENTS}/{src['id']}/clone", {}).status_code == 404
    published = api.post(f"{EVENTS}/{src['id']}/clone", {"draft": False}).json()["event"]
    assert published["status"] == "UPCOMING"
    assert api.post(RES, {"ticketReservation": {"tickets": [{"ticketDefinitionId": b["id"], "quantity": 1}]}}).status_code == 200


def test_clone_event_copies_policies_and_categories(api):
    src = create_event(api, title="With Policies", draft=False)
    for name in ("Refunds", "Photos"):
        r = api.post("/events-policies/v2/policies", {"policy": {"eventId": src["id"], "name": name, "body": "<p>x</p>"}})
        assert r.status_code == 200, r.text
    cat = api.post("/events/v1/categories", {"category": {"name": "Workshops"}}).json()["category"]
    assert api.post(f"/events/v1/categories/{cat['id']}/events", {"eventId": [src["id"]]}).status_code == 200
    copy = api.post(f"{EVENTS}/{src['id']}/clone", {}).json()["event"]
    q = {"query": {"filter": {"eventId": copy["id"]}, "sort": [{"fieldName": "sortIndex"}]}}
    names = [p["name"] for p in api.post("/events-policies/v2/policies/query", q).json()["policies"]]
    original = [p["name"] for p in api.post("/events-policies/v2/policies/query",
                                            {"query": {"filter": {"eventId": src["id"]}, "sort": [{"fieldName": "sortIndex"}]}}).json()["policies"]]
    assert names == original and len(names) == 2
    listed = api.get(f"/events/v1/categories/{copy['id']}").json()["categories"]
    assert [c["id"] for c in listed] == [cat["id"]]
