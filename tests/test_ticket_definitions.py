"""Ticket Definitions v3: every rule, by its Wix name. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from sqlalchemy import select, update

from boxoffice.outbox.models import OutboxEvent
from boxoffice.ticket_definitions.models import TicketDefinition
from tests.helpers import TD, create_event, create_td, iso, td_body, utcnow


def violation(r, field: str) -> dict:
    assert r.status_code == 400, r.text
    fv = r.json()["details"]["validationError"]["fieldViolations"]
    match = [v for v in fv if v["field"] == field]
    assert match, fv
    return match[0]


def app_error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["details"]["applicationError"]
    assert err["code"] == code, err
    return err


def outbox(database, entity_id: str | None = None) -> list[OutboxEvent]:
    with database.session() as s:
        stmt = select(OutboxEvent).order_by(OutboxEvent.position)
        if entity_id:
            stmt = stmt.where(OutboxEvent.entity_id == entity_id)
        return list(s.scalars(stmt))


def set_counts(database, td_id: str, sold: int = 0, reserved: int = 0) -> None:
    """Stand-in for sales until reservations exist: moves the real inventory counters."""
    with database.session(write=True) as s:
        s.execute(
            update(TicketDefinition)
            .where(TicketDefinition.id == td_id)
            .values(sold_count=sold, reserved_count=reserved)
        )


# --- Create ------------------------------------------------------------------


def test_create_matches_the_seed_example(api):
    ev = create_event(api)
    r = api.post(
        TD,
        {
            "ticketDefinition": {
                "eventId": ev["id"],
                "name": "Leather Workshop",
                "description": "Step into the world of fine craftsmanship.",
                "policyText": "This is your event ticket.",
                "hidden": False,
                "initialLimit": 3,
                "pricingMethod": {"fixedPrice": {"value": "200", "currency": "USD"}},
                "feeType": "FEE_INCLUDED",
                "salePeriod": {
                    "startDate": "2023-06-07T10:00:00Z",
                    "endDate": "2023-06-30T00:00:00Z",
                    "displayNotOnSale": False,
                },
            },
            "fields": ["SALES_DETAILS"],
        },
    )
    assert r.status_code == 200, r.text
    td = r.json()["ticketDefinition"]
    assert td["eventId"] == ev["id"]
    assert td["revision"] == "1"
    assert td["limited"] is True and td["initialLimit"] == 3 and td["actualLimit"] == 3
    assert td["pricingMethod"] == {
        "fixedPrice": {"value": "200.00", "currency": "USD"},
        "pricingType": "STANDARD",
        "free": False,
    }
    assert td["salePeriod"] == {
        "startDate": "2023-06-07T10:00:00.000Z",
        "endDate": "2023-06-30T00:00:00.000Z",
        "displayNotOnSale": False,
    }
    assert td["saleStatus"] == "SALE_ENDED"
    assert td["salesDetails"] == {"unsoldCount": 3, "soldCount": 0, "reservedCount": 0, "soldOut": False}
    assert td["limitPerCheckout"] == 3
    assert td["createdDate"] == td["updatedDate"]
    assert len(td["createdDate"]) == 24 and td["createdDate"].endswith("Z")
    assert td["description"].startswith("Step") and td["policyText"].startswith("This")


@pytest.mark.parametrize(
    "over, field",
    [
        ({"name": "x" * 31}, "ticketDefinition.name"),
        ({"name": ""}, "ticketDefinition.name"),
        ({"description": "d" * 501}, "ticketDefinition.description"),
        ({"policyText": "p" * 1001}, "ticketDefinition.policyText"),
        ({"feeType": "SOMETIMES"}, "ticketDefinition.feeType"),
        ({"initialLimit": 0}, "ticketDefinition.initialLimit"),
        ({"pricingMethod": {"fixedPrice": {"value": "12.345", "currency": "USD"}}}, "ticketDefinition.pricingMethod.fixedPrice.value"),
        ({"pricingMethod": {"fixedPrice": {"value": "-1", "currency": "USD"}}}, "ticketDefinition.pricingMethod.fixedPrice.value"),
        ({"pricingMethod": {"fixedPrice": {"value": "ten", "currency": "USD"}}}, "ticketDefinition.pricingMethod.fixedPrice.value"),
        ({"pricingMethod": {"fixedPrice": {"value": "10", "currency": "XYZ"}}}, "ticketDefinition.pricingMethod.fixedPrice.currency"),
        ({"pricingMethod": {"fixedPrice": {"value": "10", "currency": "ABC"}}}, "ticketDefinition.pricingMethod.fixedPrice.currency"),
        ({"pricingMethod": {}}, "ticketDefinition.pricingMethod"),
        (
            {"pricingMethod": {"fixedPrice": {"value": "1", "currency": "USD"}, "guestPrice": {"value": "1", "currency": "USD"}}},
            "ticketDefinition.pricingMethod",
        ),
        ({"pricingMethod": {"pricingOptions": {"optionDetails": []}}}, "ticketDefinition.pricingMethod.pricingOptions.optionDetails"),
        (
            {"pricingMethod": {"pricingOptions": {"optionDetails": [{"name": "a", "price": {"value": "1", "currency": "USD"}}] * 101}}},
            "ticketDefinition.pricingMethod.pricingOptions.optionDetails",
        ),
        (
            {"pricingMethod": {"pricingOptions": {"optionDetails": [{"name": "n" * 201, "price": {"value": "1", "currency": "USD"}}]}}},
            "ticketDefinition.pricingMethod.pricingOptions.optionDetails[0].name",
        ),
        (
            {"pricingMethod": {"pricingOptions": {"optionDetails": [{"price": {"value": "1", "currency": "USD"}}]}}},
            "ticketDefinition.pricingMethod.pricingOptions.optionDetails[0].name",
        ),
        ({"feeType": None}, "ticketDefinition.feeType"),
        ({"name": None}, "ticketDefinition.name"),
        ({"feeType": "NO_FEE"}, "ticketDefinition.feeType"),  # NO_FEE only for free tickets
    ],
)
def test_create_rejects_bad_fields_with_400_and_writes_nothing(api, database, over, field):
    ev = create_event(api)
    before = len(outbox(database))
    r = api.post(TD, td_body(ev["id"], **over))
    violation(r, field)
    assert api.post(f"{TD}/query", {"query": {}}).json()["ticketDefinitions"] == []
    assert len(outbox(database)) == before


def test_currency_is_the_iso_list_not_a_pattern(api):
    ev = create_event(api)
    for code in ("USD", "EUR", "JPY", "ILS", "CHF"):
        r = api.post("/events-ticket-definitions/v3/ticket-definitions/currency", {"eventId": ev["id"], "currency": code})
        assert r.status_code == 200, (code, r.text)
    r = api.post("/events-ticket-definitions/v3/ticket-definitions/currency", {"eventId": ev["id"], "currency": "QQQ"})
    violation(r, "currency")


def test_unknown_event_is_404(api):
    r = api.post(TD, td_body("00000000-0000-0000-0000-000000000000"))
    app_error(r, 404, "EVENT_NOT_FOUND")


def test_rsvp_event_refuses_ticket_definitions(api):
    ev = create_event(api, initial_type="RSVP")
    app_error(api.post(TD, td_body(ev["id"])), 428, "INVALID_EVENT_TYPE")


def test_at_most_100_definitions_per_event(api, database):
    ev = create_event(api)
    for i in range(100):
        create_td(api, ev["id"], name=f"T{i}")
    before = len(outbox(database))
    app_error(api.post(TD, td_body(ev["id"], name="one too many")), 428, "TICKET_DEFINITIONS_LIMIT_REACHED")
    assert len(outbox(database)) == before
    count = api.post(f"{TD}/count", {"filter": {"eventId": ev["id"]}}).json()["metadata"]["count"]
    assert count == 100
    # another event is not affected
    ev2 = create_event(api, title="Other")
    create_td(api, ev2["id"])


# --- Pricing -----------------------------------------------------------------


def test_pricing_methods_derive_type_and_free(api):
    ev = create_event(api)
    fixed = create_td(api, ev["id"], pricingMethod={"fixedPrice": {"value": "0", "currency": "USD"}}, feeType="NO_FEE")
    assert fixed["pricingMethod"] == {"fixedPrice": {"value": "0.00", "currency": "USD"}, "pricingType": "STANDARD", "free": True}
    assert fixed["feeType"] == "NO_FEE"
    guest = create_td(api, ev["id"], pricingMethod={"guestPrice": {"value": "2", "currency": "USD"}}, feeType="FEE_ADDED_AT_CHECKOUT")
    assert guest["pricingMethod"] == {"guestPrice": {"value": "2.00", "currency": "USD"}, "pricingType": "DONATION", "free": False}
    donation0 = create_td(api, ev["id"], pricingMethod={"guestPrice": {"value": "0", "currency": "USD"}})
    assert donation0["pricingMethod"]["pricingType"] == "DONATION" and donation0["pricingMethod"]["free"] is True
    opts = create_td(
        api,
        ev["id"],
        pricingMethod={
            "pricingOptions": {
                "optionDetails": [
                    {"name": "Regular Ticket", "price": {"value": "50", "currency": "USD"}},
                    {"name": "Student Ticket", "price": {"value": "25.5", "currency": "USD"}},
                ]
            }
        },
    )
    details = opts["pricingMethod"]["pricingOptions"]["optionDetails"]
    assert [(o["name"], o["price"]["value"]) for o in details] == [("Regular Ticket", "50.00"), ("Student Ticket", "25.50")]
    assert all(len(o["optionId"]) == 36 for o in details) and details[0]["optionId"] != details[1]["optionId"]
    assert opts["pricingMethod"]["pricingType"] == "STANDARD" and opts["pricingMethod"]["free"] is False


def test_definitions_of_one_event_share_its_currency(api):
    ev = create_event(api)
    create_td(api, ev["id"])
    r = api.post(TD, td_body(ev["id"], pricingMethod={"fixedPrice": {"value": "5", "currency": "EUR"}}))
    assert r.status_code == 400 and "USD" in r.text


# --- Limits ------------------------------------------------------------------


def test_unlimited_definitions(api):
    ev = create_event(api)
    td = create_td(api, ev["id"], fields=["SALES_DETAILS"], initialLimit=None)
    assert td["limited"] is False
    assert td.get("initialLimit") is None and td.get("actualLimit") is None
    assert td["salesDetails"] == {"unsoldCount": None, "soldCount": 0, "reservedCount": 0, "soldOut": False}
    assert td["limitPerCheckout"] == 50


def test_sales_details_and_limit_per_checkout_follow_the_counters(api, database):
    ev = create_event(api)
    td = create_td(api, ev["id"], initialLimit=80)
    get = lambda: api.get(f"{TD}/{td['id']}", params={"fields": "SALES_DETAILS"}).json()["ticketDefinition"]  # noqa: E731
    assert get()["limitPerCheckout"] == 50
    set_counts(database, td["id"], sold=40, reserved=10)
    t = get()
    assert t["salesDetails"] == {"unsoldCount": 30, "soldCount": 40, "reservedCount": 10, "soldOut": False}
    assert t["limitPerCheckout"] == 30
    set_counts(database, td["id"], sold=70, reserved=10)
    t = get()
    assert t["salesDetails"]["unsoldCount"] == 0 and t["salesDetails"]["soldOut"] is True
    assert t["limitPerCheckout"] == 0
    # initialLimit may not drop below sold + reserved
    r = api.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"revision": "1", "initialLimit": 79}})
    app_error(r, 428, "LIMIT_BELOW_SOLD")
    r = api.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"revision": "1", "initialLimit": 90}, "fields": ["SALES_DETAILS"]})
    assert r.status_code == 200 and r.json()["ticketDefinition"]["salesDetails"]["unsoldCount"] == 10


# --- Sale period ---------------------------------------------------------------


def test_sale_status_and_rounding(api):
    ev = create_event(api)
    now = utcnow()
    sched = create_td(api, ev["id"], salePeriod={"startDate": iso(now + dt.timedelta(days=1, seconds=37.5)), "endDate": iso(now + dt.timedelta(days=2))})
    assert sched["saleStatus"] == "SALE_SCHEDULED"
    assert sched["salePeriod"]["startDate"].endswith(":00.000Z")  # rounded down to the minute
    started = create_td(api, ev["id"], salePeriod={"startDate": iso(now - dt.timedelta(days=1)), "endDate": iso(now + dt.timedelta(days=1))})
    assert started["saleStatus"] == "SALE_STARTED"
    ended = create_td(api, ev["id"], salePeriod={"endDate": iso(now - dt.timedelta(minutes=2))})
    assert ended["saleStatus"] == "SALE_ENDED" and "startDate" not in ended["salePeriod"]
    always = create_td(api, ev["id"])
    assert always["saleStatus"] == "SALE_STARTED"


def test_sale_status_is_computed_on_every_read(api, database):
    ev = create_event(api)
    td = create_td(api, ev["id"], salePeriod={"startDate": iso(utcnow() + dt.timedelta(days=1))})
    assert td["saleStatus"] == "SALE_SCHEDULED"
    with database.session(write=True) as s:  # time passes
        s.execute(update(TicketDefinition).where(TicketDefinition.id == td["id"]).values(sale_start=utcnow() - dt.timedelta(minutes=1)))
    assert api.get(f"{TD}/{td['id']}").json()["ticketDefinition"]["saleStatus"] == "SALE_STARTED"
    found = api.post(f"{TD}/query", {"query": {"filter": {"saleStatus": "SALE_STARTED"}}}).json()["ticketDefinitions"]
    assert [t["id"] for t in found] == [td["id"]]


@pytest.mark.parametrize("start_offset", [0, 30])  # equal after rounding, and after
def test_sale_start_must_precede_end(api, database, start_offset):
    ev = create_event(api)
    end = utcnow().replace(second=10) + dt.timedelta(days=3)
    r = api.post(TD, td_body(ev["id"], salePeriod={"startDate": iso(end + dt.timedelta(seconds=start_offset)), "endDate": iso(end)}))
    app_error(r, 428, "INVALID_SALE_PERIOD")
    assert [o for o in outbox(database) if o.entity_fqdn == "wix.events.v3.ticket_definition"] == []


# --- Update and revisions ------------------------------------------------------


def test_update_changes_only_what_it_carries_and_bumps_revision(api, database):
    ev = create_event(api)
    td = create_td(api, ev["id"], description="keep me", salePeriod={"startDate": "2031-06-07T10:00:00Z", "endDate": "2031-06-30T00:00:00Z"})
    r = api.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"id": td["id"], "revision": "1", "salePeriod": {"startDate": "2031-06-08T10:00:00Z"}}})
    assert r.status_code == 200, r.text
    t = r.json()["ticketDefinition"]
    assert t["revision"] == "2"
    assert t["salePeriod"] == {"startDate": "2031-06-08T10:00:00.000Z", "endDate": "2031-06-30T00:00:00.000Z", "displayNotOnSale": False}
    assert t["description"] == "keep me" and t["name"] == td["name"] and t["initialLimit"] == 3
    assert t["updatedDate"] >= td["updatedDate"] and t["createdDate"] == td["createdDate"]
    assert "salesDetails" not in t
    slugs = [o.slug for o in outbox(database, td["id"])]
    assert slugs == ["created", "updated", "sale_period_updated"]
    spu = outbox(database, td["id"])[-1].payload
    assert spu["actionEvent"]["body"]["afterUpdate"]["startDate"] == "2031-06-08T10:00:00.000Z"

    r = api.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"revision": 2, "name": "Renamed", "hidden": True}})
    assert r.json()["ticketDefinition"]["revision"] == "3"
    assert [o.slug for o in outbox(database, td["id"])][-1] == "updated"  # no period change, no sale_period_updated


@pytest.mark.parametrize("rev", ["1", None, "7"])
def test_stale_or_missing_revision_is_refused_and_changes_nothing(api, database, rev):
    ev = create_event(api)
    td = create_td(api, ev["id"])
    api.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"revision": "1", "name": "v2"}})
    body = {"ticketDefinition": {"name": "lost update"}}
    if rev is not None:
        body["ticketDefinition"]["revision"] = rev
    r = api.patch(f"{TD}/{td['id']}", body)
    assert r.status_code == 428, r.text
    assert r.json()["details"]["applicationError"]["code"] in ("REVISION_MISMATCH", "REVISION_MISSING")
    t = api.get(f"{TD}/{td['id']}").json()["ticketDefinition"]
    assert t["name"] == "v2" and t["revision"] == "2"
    assert [o.slug for o in outbox(database, td["id"])] == ["created", "updated"]


def test_update_with_mask(api):
    ev = create_event(api)
    td = create_td(api, ev["id"], description="old")
    r = api.patch(
        f"{TD}/{td['id']}",
        {"ticketDefinition": {"revision": "1", "name": "ignored", "description": "new"}, "mask": "description"},
    )
    t = r.json()["ticketDefinition"]
    assert t["description"] == "new" and t["name"] == td["name"]
    r = api.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"revision": "2"}, "mask": {"paths": ["description"]}})
    assert "description" not in r.json()["ticketDefinition"]  # cleared by the mask


def test_update_pricing_and_fee_rules(api):
    ev = create_event(api)
    td = create_td(api, ev["id"])
    r = api.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"revision": "1", "feeType": "NO_FEE"}})
    violation(r, "ticketDefinition.feeType")
    r = api.patch(
        f"{TD}/{td['id']}",
        {"ticketDefinition": {"revision": "1", "feeType": "NO_FEE", "pricingMethod": {"fixedPrice": {"value": "0", "currency": "USD"}}}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["ticketDefinition"]["pricingMethod"]["free"] is True


def test_price_is_locked_once_sold(api, database):
    ev = create_event(api)
    td = create_td(api, ev["id"])
    set_counts(database, td["id"], sold=1)
    r = api.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"revision": "1", "pricingMethod": {"fixedPrice": {"value": "250", "currency": "USD"}}}})
    app_error(r, 428, "PRICE_LOCKED")
    same = api.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"revision": "1", "name": "Renamed", "pricingMethod": {"fixedPrice": {"value": "200.00", "currency": "USD"}}}})
    assert same.status_code == 200, same.text  # re-sending the same price is no change


def test_update_unknown_definition_is_404(api):
    r = api.patch(f"{TD}/00000000-0000-0000-0000-000000000000", {"ticketDefinition": {"revision": "1", "name": "x"}})
    app_error(r, 404, "TICKET_DEFINITION_NOT_FOUND")


# --- Get, fieldsets, paths ------------------------------------------------------


def test_get_fieldsets_and_path_aliases(api):
    ev = create_event(api)
    td = create_td(api, ev["id"])
    for prefix in ("/events-ticket-definitions", "/events", "/_api/events-ticket-definitions"):
        r = api.get(f"{prefix}/v3/ticket-definitions/{td['id']}", params={"ticketDefinitionId": td["id"]})
        assert r.status_code == 200, (prefix, r.text)
        t = r.json()["ticketDefinition"]
        assert "salesDetails" not in t and "eventDetails" not in t
    r = api.get(f"{TD}/{td['id']}?fields=SALES_DETAILS&fields=EVENT_DETAILS")
    t = r.json()["ticketDefinition"]
    assert t["salesDetails"]["unsoldCount"] == 3
    assert t["eventDetails"]["title"] == ev["title"] and t["eventDetails"]["status"] == "DRAFT"
    assert t["eventDetails"]["dateAndTimeSettings"]["startDate"] == ev["dateAndTimeSettings"]["startDate"]
    dotr = base64.urlsafe_b64encode(json.dumps({"ticketDefinitionId": td["id"], "fields": ["SALES_DETAILS"]}).encode()).decode().rstrip("=")
    t = api.get(f"{TD}/{td['id']}", params={".r": dotr}).json()["ticketDefinition"]
    assert "salesDetails" in t and "eventDetails" not in t
    violation(api.get(f"{TD}/{td['id']}", params={"fields": "EVERYTHING"}), "fields[0]")
    app_error(api.get(f"{TD}/nope"), 404, "TICKET_DEFINITION_NOT_FOUND")


# --- Delete, bulk delete --------------------------------------------------------


def test_delete(api, database):
    ev = create_event(api)
    td = create_td(api, ev["id"])
    r = api.delete(f"{TD}/{td['id']}?ticketDefinitionId={td['id']}")
    assert r.status_code == 200 and r.json() == {}
    app_error(api.get(f"{TD}/{td['id']}"), 404, "TICKET_DEFINITION_NOT_FOUND")
    app_error(api.delete(f"{TD}/{td['id']}"), 404, "TICKET_DEFINITION_NOT_FOUND")
    deleted = outbox(database, td["id"])[-1].payload
    assert deleted["slug"] == "deleted" and deleted["deletedEvent"]["deletedEntity"]["id"] == td["id"]
    assert deleted["entityEventSequence"] == "2"


def test_delete_with_sales_is_refused(api, database):
    ev = create_event(api)
    td = create_td(api, ev["id"])
    set_counts(database, td["id"], sold=1)
    app_error(api.delete(f"{TD}/{td['id']}"), 428, "TICKET_DEFINITION_HAS_SALES")
    assert api.get(f"{TD}/{td['id']}").status_code == 200


def test_bulk_delete_by_filter(api, database):
    ev = create_event(api)
    keep = create_td(api, ev["id"], name="Keep", hidden=True)
    gone = [create_td(api, ev["id"], name=f"Gone {i}") for i in range(3)]
    for prefix in ("/events-ticket-definitions/v3/bulk", "/events/v3/bulk"):
        r = api.post(f"{prefix}/ticket-definitions/delete", {"filter": {"hidden": False, "name": {"$in": ["Gone 0", "Gone 1"]}}})
        assert r.status_code == 200 and r.json() == {}
    r = api.post("/events/v3/bulk/ticket-definitions/delete", {"filter": {"hidden": False}})
    left = api.post(f"{TD}/query", {"query": {}}).json()["ticketDefinitions"]
    assert [t["id"] for t in left] == [keep["id"]]
    assert all(outbox(database, g["id"])[-1].slug == "deleted" for g in gone)
    violation(api.post("/events/v3/bulk/ticket-definitions/delete", {}), "filter")
    err = app_error(api.post("/events/v3/bulk/ticket-definitions/delete", {"filter": {"nope": 1}}), 400, "FILTER_PARSER_ERROR")
    assert err["data"]["field"] == "filter.nope"


# --- Reorder -----------------------------------------------------------------------


def test_reorder_before_and_after(api):
    ev = create_event(api, draft=False)
    a, b, c = (create_td(api, ev["id"], name=n) for n in "ABC")
    def order() -> list[str]:
        by_default = api.post(f"{TD}/available/query", {"query": {"filter": {"eventId": ev["id"]}}}).json()
        by_index = api.post(f"{TD}/query", {"query": {"filter": {"eventId": ev["id"]}, "sort": [{"fieldName": "sortIndex"}]}}).json()
        names = [t["name"] for t in by_default["ticketDefinitions"]]
        assert names == [t["name"] for t in by_index["ticketDefinitions"]]
        return names

    assert order() == ["A", "B", "C"]
    r = api.post(f"{TD}/reorder", {"eventId": ev["id"], "ticketDefinitionId": c["id"], "beforeDefinitionId": a["id"]})
    assert r.status_code == 200 and r.json() == {}
    assert order() == ["C", "A", "B"]
    api.post(f"{TD}/reorder", {"eventId": ev["id"], "ticketDefinitionId": c["id"], "afterDefinitionId": b["id"]})
    assert order() == ["A", "B", "C"]
    api.post(f"{TD}/reorder", {"eventId": ev["id"], "ticketDefinitionId": a["id"], "beforeTicketDefinitionId": c["id"]})
    assert order() == ["B", "A", "C"]
    app_error(api.post(f"{TD}/reorder", {"eventId": ev["id"], "ticketDefinitionId": a["id"]}), 400, "INVALID_REORDER_INSTRUCTION")
    app_error(
        api.post(f"{TD}/reorder", {"eventId": ev["id"], "ticketDefinitionId": a["id"], "afterDefinitionId": a["id"]}),
        400,
        "INVALID_REORDER_INSTRUCTION",
    )
    assert order() == ["B", "A", "C"]


# --- Available -------------------------------------------------------------------------


def test_available_query_and_count(api, make_api):
    """Available = not hidden (SDK); visitors see only published events' definitions."""
    draft = create_event(api, title="Draft")
    in_draft = create_td(api, draft["id"], name="In draft")
    ev = create_event(api, draft=False)
    now = utcnow()
    on_sale = create_td(api, ev["id"], name="On sale")
    create_td(api, ev["id"], name="Hidden", hidden=True)
    ended = create_td(api, ev["id"], name="Ended", salePeriod={"endDate": iso(now - dt.timedelta(days=1))})
    by_created = {"sort": [{"fieldName": "createdDate"}]}
    r = api.post(f"{TD}/available/query", {"query": by_created})
    assert [t["id"] for t in r.json()["ticketDefinitions"]] == [in_draft["id"], on_sale["id"], ended["id"]]
    r = api.post(f"{TD}/available/count", {"filter": {"saleStatus": "SALE_STARTED"}})
    assert r.json()["metadata"]["count"] == 2
    visitor = make_api(identity="visitor")
    r = visitor.post(f"{TD}/available/query", {"query": by_created, "fields": ["SALES_DETAILS"]})
    seen = r.json()["ticketDefinitions"]
    assert [t["id"] for t in seen] == [on_sale["id"], ended["id"]]
    assert all("salesDetails" not in t for t in seen)  # needs a read permission
    assert visitor.post(f"{TD}/available/count", {}).json()["metadata"]["count"] == 2


# --- Count ----------------------------------------------------------------------------


def test_count_with_facets(api):
    ev = create_event(api)
    now = utcnow()
    for i in range(3):
        create_td(api, ev["id"], name=f"S{i}")
    create_td(api, ev["id"], name="Ended", salePeriod={"endDate": iso(now - dt.timedelta(days=1))})
    create_td(api, ev["id"], name="Free", pricingMethod={"fixedPrice": {"value": "0", "currency": "USD"}})
    r = api.post(f"{TD}/count", {"filter": {"saleStatus": {"$eq": "SALE_STARTED"}}, "facet": ["saleStatus", "pricingMethod.free"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["metadata"]["count"] == 4 and body["metadata"]["total"] == 4
    assert body["facets"] == {"saleStatus": {"counts": {"SALE_STARTED": 4}}, "pricingMethod.free": {"counts": {"false": 3, "true": 1}}}
    err = app_error(api.post(f"{TD}/count", {"filter": {"saleStatus": {"$regex": "x"}}}), 400, "FILTER_PARSER_ERROR")
    assert err["data"]["field"] == "filter.saleStatus.$regex"
    err = app_error(api.post(f"{TD}/available/count", {"filter": {"noSuchField": "x"}}), 400, "FILTER_PARSER_ERROR")
    assert err["data"]["field"] == "filter.noSuchField" and "noSuchField" in err["description"]


# --- Change Currency ----------------------------------------------------------------------


def test_change_currency_is_atomic_and_locked_after_sales(api, database):
    ev = create_event(api)
    a = create_td(api, ev["id"], name="A")
    b = create_td(
        api,
        ev["id"],
        name="B",
        pricingMethod={"pricingOptions": {"optionDetails": [{"name": "Adult", "price": {"value": "10", "currency": "USD"}}]}},
    )
    r = api.post(f"{TD}/currency", {"eventId": ev["id"], "currency": "EUR"})
    assert r.status_code == 200 and r.json() == {}
    ta = api.get(f"{TD}/{a['id']}").json()["ticketDefinition"]
    tb = api.get(f"{TD}/{b['id']}").json()["ticketDefinition"]
    assert ta["pricingMethod"]["fixedPrice"] == {"value": "200.00", "currency": "EUR"} and ta["revision"] == "2"
    assert tb["pricingMethod"]["pricingOptions"]["optionDetails"][0]["price"]["currency"] == "EUR"
    e = api.get(f"/events/v3/events/{ev['id']}", params={"fields": "REGISTRATION"}).json()["event"]
    assert e["registration"]["tickets"]["currency"] == "EUR"
    create_td(api, ev["id"], name="C", pricingMethod={"fixedPrice": {"value": "1", "currency": "EUR"}})

    set_counts(database, a["id"], sold=1)
    before = len(outbox(database))
    app_error(api.post(f"{TD}/currency", {"eventId": ev["id"], "currency": "GBP"}), 428, "CURRENCY_LOCKED")
    assert api.get(f"{TD}/{b['id']}").json()["ticketDefinition"]["pricingMethod"]["pricingOptions"]["optionDetails"][0]["price"]["currency"] == "EUR"
    assert len(outbox(database)) == before
    app_error(api.post(f"{TD}/currency", {"eventId": "nope", "currency": "GBP"}), 404, "EVENT_NOT_FOUND")


# --- Domain events ----------------------------------------------------------------------


def test_outbox_rows_carry_the_wix_envelope(api, database, make_api):
    ev = create_event(api)
    td = create_td(api, ev["id"])
    api.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"revision": "1", "name": "Renamed"}})
    rows = outbox(database, td["id"])
    created, updated = rows[0], rows[1]
    assert created.event_type == "wix.events.v3.ticket_definition_created"
    p = created.payload
    assert set(p) >= {"id", "entityFqdn", "slug", "entityId", "createdEvent", "eventTime", "entityEventSequence"}
    assert p["id"] == created.event_id and p["entityFqdn"] == "wix.events.v3.ticket_definition"
    assert p["entityId"] == td["id"] and p["entityEventSequence"] == "1" and p["slug"] == "created"
    assert p["createdEvent"]["entity"] == {k: v for k, v in td.items()}
    assert p["triggeredByAnonymizeRequest"] is False
    assert updated.payload["updatedEvent"]["currentEntity"]["name"] == "Renamed"
    assert updated.payload["updatedEvent"]["currentEntity"]["revision"] == "2"
    assert updated.payload["entityEventSequence"] == "2"
    assert created.site_id == "site-a"
    assert created.identity["identityType"] == "APP" and "appId" in created.identity
