"""Ticket Definitions v1 (legacy): an adapter over the v3 store. Every method, every
refusal, the v1 <-> v3 round trip both ways, sales seen through v1, the legacy webhooks.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from sqlalchemy import select

from boxoffice.events.models import Event
from boxoffice.outbox.models import OutboxEvent
from tests.helpers import TD, checkout, create_event, create_td, expire_now, iso, reserve, utcnow

V1 = "/events/v1/ticket-definitions"
V2_QUERY = "/events/v2/ticket-definitions/query"
LEGACY = "wix.events.ticketing.events."


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


def legacy(database, entity_id: str | None = None) -> list[tuple[str, dict]]:
    return [
        (o.event_type.removeprefix(LEGACY), o.payload)
        for o in outbox(database, entity_id)
        if o.event_type.startswith(LEGACY + "TicketDefinition")
    ]


def put(api, path: str, json: dict):
    """PUT (Change Currency's method; the shared test client has no helper for it)."""
    return api.client.put(path, headers=api.headers(), json=json)


def definition(**over) -> dict:
    d = {"name": "Early Bird", "price": {"amount": "25", "currency": "USD"}, "limited": True, "quantity": 10}
    d.update(over)
    return {k: v for k, v in d.items() if v is not None}


def create_v1(api, event_id: str, status: int = 200, **over):
    r = api.post(V1, {"eventId": event_id, "definition": definition(**over)})
    assert r.status_code == status, r.text
    return r.json()["definition"] if status == 200 else r


def get_v1(api, td_id: str, *fieldsets: str) -> dict:
    r = api.get(f"{V1}/{td_id}", params=[("fieldset", f) for f in fieldsets])
    assert r.status_code == 200, r.text
    return r.json()["definition"]


def get_v3(api, td_id: str) -> dict:
    r = api.get(f"{TD}/{td_id}", params={"fields": "SALES_DETAILS"})
    assert r.status_code == 200, r.text
    return r.json()["ticketDefinition"]


def patch_v1(api, td_id: str, event_id: str, definition: dict | None = None, status: int = 200, **extra):
    body = {"eventId": event_id, **({"definition": definition} if definition is not None else {}), **extra}
    r = api.patch(f"{V1}/{td_id}", body)
    assert r.status_code == status, r.text
    return r.json()["definition"] if status == 200 else r


# --- Create, and the round trip v1 -> v3 ------------------------------------------------


def test_create_through_v1_reads_the_same_through_v3(api, database):
    ev = create_event(api)
    start = utcnow() + dt.timedelta(days=1)
    end = start + dt.timedelta(days=5)
    td = create_v1(
        api,
        ev["id"],
        description="First 10 seats",
        policy="No refunds",
        hidden=False,
        orderIndex=7,
        wixFeeConfig={"type": "FEE_ADDED"},
        salePeriod={"startDate": iso(start), "endDate": iso(end), "hideNotOnSale": False},
    )
    assert len(td["id"]) == 36 and td["eventId"] == ev["id"]
    assert td["price"] == {"amount": "25.00", "value": "25.00", "currency": "USD"}
    assert td["pricing"] == {"fixedPrice": {"amount": "25.00", "value": "25.00", "currency": "USD"}, "pricingType": "STANDARD"}
    assert td["free"] is False and td["name"] == "Early Bird" and td["description"] == "First 10 seats"
    assert td["limitPerCheckout"] == 10 and td["orderIndex"] == 7
    assert td["wixFeeConfig"] == {"type": "FEE_ADDED_AT_CHECKOUT"}
    assert td["saleStatus"] == "SALE_SCHEDULED" and td["state"] == ["INCLUDE_HIDDEN_NOT_ON_SALE"]
    assert td["salePeriod"]["hideNotOnSale"] is False
    assert td["salePeriod"]["startDate"] == iso(start.replace(second=0, microsecond=0))
    assert "policy" not in td and "dashboard" not in td  # only with their fieldsets

    v3 = get_v3(api, td["id"])
    assert v3["name"] == "Early Bird" and v3["description"] == "First 10 seats" and v3["policyText"] == "No refunds"
    assert v3["limited"] is True and v3["initialLimit"] == 10 and v3["actualLimit"] == 10
    assert v3["pricingMethod"] == {"fixedPrice": {"value": "25.00", "currency": "USD"}, "pricingType": "STANDARD", "free": False}
    assert v3["feeType"] == "FEE_ADDED_AT_CHECKOUT" and v3["hidden"] is False and v3["revision"] == "1"
    assert v3["salePeriod"]["displayNotOnSale"] is True
    assert v3["salesDetails"] == {"unsoldCount": 10, "soldCount": 0, "reservedCount": 0, "soldOut": False}
    # v3 Update of a v1-made definition, read back through v1
    r = api.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"revision": "1", "name": "Renamed", "initialLimit": 20}})
    assert r.status_code == 200, r.text
    again = get_v1(api, td["id"], "POLICY", "DASHBOARD")
    assert again["name"] == "Renamed" and again["policy"] == "No refunds"
    assert again["dashboard"] == {
        "hidden": False, "sold": 0, "limited": True, "quantity": 20, "unsold": 20, "ticketsSold": 0, "ticketsReserved": 0,
    }
    # the v3 created event was written too, with the v1 legacy one after it
    types = [o.event_type for o in outbox(database, td["id"])]
    assert types[:2] == ["wix.events.v3.ticket_definition_created", LEGACY + "TicketDefinitionCreated"]


def test_create_defaults_unlimited_and_event_currency(api):
    ev = create_event(api)
    create_td(api, ev["id"], pricingMethod={"fixedPrice": {"value": "1", "currency": "EUR"}})  # the event's currency: EUR
    td = create_v1(api, ev["id"], limited=None, quantity=None, price={"value": "12.5"})
    assert td["price"] == {"amount": "12.50", "value": "12.50", "currency": "EUR"}
    assert td["limitPerCheckout"] == 20  # the legacy typings' cap, for an unlimited one
    assert td["wixFeeConfig"] == {"type": "FEE_ADDED_AT_CHECKOUT"}  # the typings' default
    assert td["salePeriod"] == {"hideNotOnSale": True} and td["saleStatus"] == "SALE_STARTED" and td["state"] == []
    assert get_v1(api, td["id"], "DASHBOARD")["dashboard"] == {
        "hidden": False, "sold": 0, "limited": False, "quantity": None, "unsold": None, "ticketsSold": 0, "ticketsReserved": 0,
    }
    v3 = get_v3(api, td["id"])
    assert v3["limited"] is False and v3.get("initialLimit") is None
    assert v3["salePeriod"] == {"displayNotOnSale": False}
    # a definition created after the others takes the next sort index
    assert td["orderIndex"] == 1
    # limited: false wins over a quantity
    assert create_v1(api, ev["id"], limited=False, quantity=5, price={"value": "1"})["limitPerCheckout"] == 20


def test_create_pricing_kinds(api):
    ev = create_event(api)
    donation = create_v1(api, ev["id"], price=None, pricing={"minPrice": {"value": "5", "currency": "USD"}})
    assert donation["pricing"] == {"minPrice": {"amount": "5.00", "value": "5.00", "currency": "USD"}, "pricingType": "DONATION"}
    assert donation["price"]["value"] == "5.00"
    assert get_v3(api, donation["id"])["pricingMethod"]["guestPrice"] == {"value": "5.00", "currency": "USD"}
    opts = create_v1(
        api,
        ev["id"],
        price={"value": "999", "currency": "USD"},  # `pricing` wins over the legacy price
        pricing={
            "pricingOptions": {
                "options": [
                    {"name": "Adult", "price": {"value": "30", "currency": "USD"}},
                    {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "name": "Child", "price": {"amount": "15", "currency": "USD"}},
                ]
            }
        },
    )
    options = opts["pricing"]["pricingOptions"]["options"]
    assert [(o["name"], o["price"]["value"]) for o in options] == [("Adult", "30.00"), ("Child", "15.00")]
    assert options[1]["id"] == "3fa85f64-5717-4562-b3fc-2c963f66afa6" and len(options[0]["id"]) == 36
    assert opts["price"]["value"] == "15.00"  # the lowest option
    details = get_v3(api, opts["id"])["pricingMethod"]["pricingOptions"]["optionDetails"]
    assert [d["optionId"] for d in details] == [o["id"] for o in options]
    free = create_v1(api, ev["id"], price={"value": "0", "currency": "USD"})
    assert free["free"] is True


@pytest.mark.parametrize(
    "over, field",
    [
        ({"name": "x" * 31}, "definition.name"),
        ({"name": ""}, "definition.name"),
        ({"name": None}, "definition.name"),
        ({"description": "d" * 501}, "definition.description"),
        ({"policy": "p" * 1001}, "definition.policy"),
        ({"quantity": 0}, "definition.quantity"),
        ({"quantity": 1_000_001}, "definition.quantity"),
        ({"quantity": "3"}, "definition.quantity"),
        ({"quantity": None, "limited": True}, "definition.quantity"),
        ({"orderIndex": -1}, "definition.orderIndex"),
        ({"price": None}, "definition.pricing"),
        ({"price": {"value": "12.345", "currency": "USD"}}, "definition.price.value"),
        ({"price": {"value": "-1", "currency": "USD"}}, "definition.price.value"),
        ({"price": {"value": "10", "currency": "XYZ"}}, "definition.price.currency"),
        ({"price": {"value": "10"}}, "definition.price.currency"),  # no currency, and the event has none yet
        ({"price": {"currency": "USD"}}, "definition.price.value"),
        ({"price": None, "pricing": {}}, "definition.pricing"),
        (
            {"price": None, "pricing": {"fixedPrice": {"value": "1", "currency": "USD"}, "minPrice": {"value": "1", "currency": "USD"}}},
            "definition.pricing",
        ),
        ({"price": None, "pricing": {"pricingOptions": {"options": []}}}, "definition.pricing.pricingOptions.options"),
        (
            {"price": None, "pricing": {"pricingOptions": {"options": [{"price": {"value": "1", "currency": "USD"}}]}}},
            "definition.pricing.pricingOptions.options[0].name",
        ),
        (
            {"price": None, "pricing": {"pricingOptions": {"options": [{"name": "a", "price": {"value": "1", "currency": "USD"}}] * 101}}},
            "definition.pricing.pricingOptions.options",
        ),
        ({"price": None, "pricing": {"minPrice": {"value": "1.001", "currency": "USD"}}}, "definition.pricing.minPrice.value"),
        ({"wixFeeConfig": {"type": "SOMETIMES"}}, "definition.wixFeeConfig.type"),
        ({"salePeriod": {"startDate": "yesterday"}}, "definition.salePeriod.startDate"),
    ],
)
def test_create_rejects_bad_input_with_400_and_writes_nothing(api, database, over, field):
    ev = create_event(api)
    before = len(outbox(database))
    violation(create_v1(api, ev["id"], status=400, **over), field)
    assert len(outbox(database)) == before
    assert api.get(V1, params={"eventId": ev["id"]}).json()["definitions"] == []


def test_create_refusals_of_the_v3_rules(api, database):
    ev = create_event(api)
    create_v1(api, ev["id"])
    # one currency per event: the v3 rule, named by the v1 field
    r = create_v1(api, ev["id"], status=400, price={"value": "5", "currency": "EUR"})
    assert "USD" in violation(r, "definition.price")["description"]
    app_error(create_v1(api, "no-such-event", status=404), 404, "EVENT_NOT_FOUND")
    rsvp = create_event(api, initial_type="RSVP")
    app_error(create_v1(api, rsvp["id"], status=428), 428, "INVALID_EVENT_TYPE")
    start = utcnow() + dt.timedelta(days=2)
    period = {"startDate": iso(start), "endDate": iso(start - dt.timedelta(days=1))}
    app_error(create_v1(api, ev["id"], status=428, salePeriod=period), 428, "INVALID_SALE_PERIOD")
    r = api.post(V1, {"definition": definition()})
    violation(r, "eventId")
    violation(api.post(V1, {"eventId": ev["id"]}), "definition")


def test_at_most_100_definitions_per_event(api, database):
    ev = create_event(api)
    for i in range(99):
        create_td(api, ev["id"], name=f"T{i}")
    create_v1(api, ev["id"], name="the 100th")
    before = len(outbox(database))
    app_error(create_v1(api, ev["id"], status=428, name="one too many"), 428, "TICKET_DEFINITIONS_LIMIT_REACHED")
    assert len(outbox(database)) == before
    assert api.get(V1, params={"eventId": ev["id"]}).json()["metaData"]["total"] == 100


# --- the round trip v3 -> v1 --------------------------------------------------------------


def test_v3_definitions_read_through_v1(api):
    ev = create_event(api)
    free = create_td(api, ev["id"], name="Free", initialLimit=None, feeType="NO_FEE",
                     pricingMethod={"fixedPrice": {"value": "0", "currency": "USD"}}, policyText="Be nice")
    guest = create_td(api, ev["id"], name="Donation", hidden=True, pricingMethod={"guestPrice": {"value": "3", "currency": "USD"}},
                      feeType="FEE_ADDED_AT_CHECKOUT", description="Pay what you like")
    a = get_v1(api, free["id"], "POLICY")
    assert a["free"] is True and a["price"] == {"amount": "0.00", "value": "0.00", "currency": "USD"}
    assert a["wixFeeConfig"] == {"type": "FEE_INCLUDED"}  # v3's NO_FEE: nothing is added to a free ticket
    assert a["policy"] == "Be nice" and a["description"] == "" and a["orderIndex"] == 0 and a["limitPerCheckout"] == 20
    b = get_v1(api, guest["id"], "DASHBOARD", "POLICY")
    assert b["pricing"]["minPrice"]["value"] == "3.00" and b["pricing"]["pricingType"] == "DONATION"
    assert b["dashboard"]["hidden"] is True and b["state"] == ["INCLUDE_HIDDEN_NOT_ON_SALE"]
    assert b["policy"] == "" and b["description"] == "Pay what you like" and b["orderIndex"] == 1
    # v1 Update of a v3-made definition: only what it carries changes, revision moves on
    patch_v1(api, guest["id"], ev["id"], {"name": "Tip Jar"})
    v3 = get_v3(api, guest["id"])
    assert v3["name"] == "Tip Jar" and v3["revision"] == "2" and v3["description"] == "Pay what you like"
    assert v3["hidden"] is True and v3["pricingMethod"]["guestPrice"]["value"] == "3.00"
    # v3 Reorder moves orderIndex
    r = api.post(f"{TD}/reorder", {"eventId": ev["id"], "ticketDefinitionId": guest["id"], "beforeDefinitionId": free["id"]})
    assert r.status_code == 200, r.text
    assert get_v1(api, guest["id"])["orderIndex"] == 0 and get_v1(api, free["id"])["orderIndex"] == 1


def test_get_fieldsets_aliases_and_refusals(api, make_api):
    ev = create_event(api)
    td = create_v1(api, ev["id"], policy="Rules")
    r = api.get(f"/_api/events/v1/ticket-definitions/{td['id']}", params={"fieldset": ["POLICY", "DASHBOARD"]})
    assert r.status_code == 200 and r.json()["definition"]["policy"] == "Rules" and "dashboard" in r.json()["definition"]
    for prefix in ("/_api/wix-events-web", "/_api/events-ticketing-v1-proxy"):
        assert api.get(f"{prefix}/v1/ticket-definitions/{td['id']}").json()["definition"]["id"] == td["id"]
    # the SDK's repeated definitionId query parameter is ignored; comma-joined fieldsets work
    r = api.get(f"{V1}/{td['id']}", params={"definitionId": td["id"], "fieldset": "POLICY,DASHBOARD"})
    assert set(r.json()["definition"]) >= {"policy", "dashboard"}
    violation(api.get(f"{V1}/{td['id']}", params={"fieldset": "EVERYTHING"}), "fieldset")
    app_error(api.get(f"{V1}/no-such-id"), 404, "TICKET_DEFINITION_NOT_FOUND")
    other = make_api(site="site-b")
    app_error(other.get(f"{V1}/{td['id']}"), 404, "TICKET_DEFINITION_NOT_FOUND")
    visitor = make_api(identity="visitor")
    assert visitor.get(f"{V1}/{td['id']}").status_code == 403


# --- Sales, seen through v1 -----------------------------------------------------------------


def test_sold_and_reserved_counts_come_from_the_inventory(api, database):
    ev = create_event(api, draft=False)
    td = create_v1(api, ev["id"], price={"value": "0", "currency": "USD"}, quantity=5)
    r = reserve(api, td["id"], 2)
    checkout(api, ev["id"], r["id"])  # a free order: sold at once
    held = reserve(api, td["id"], 1)
    d = get_v1(api, td["id"], "DASHBOARD")
    assert d["dashboard"] == {
        "hidden": False, "sold": 3, "limited": True, "quantity": 5, "unsold": 2, "ticketsSold": 2, "ticketsReserved": 1,
    }
    assert d["limitPerCheckout"] == 2
    assert get_v3(api, td["id"])["salesDetails"] == {"unsoldCount": 2, "soldCount": 2, "reservedCount": 1, "soldOut": False}
    # a hold past its expiry reads as free, as in v3
    expire_now(database, held["id"])
    assert get_v1(api, td["id"], "DASHBOARD")["dashboard"]["unsold"] == 3
    listed = api.get(V1, params={"eventId": ev["id"], "fieldset": "DASHBOARD"}).json()["definitions"][0]
    assert listed["dashboard"]["ticketsReserved"] == 0 and listed["dashboard"]["ticketsSold"] == 2
    # what is sold bounds the limit, and a sold definition cannot go nor change currency
    app_error(patch_v1(api, td["id"], ev["id"], {"quantity": 1}, status=428), 428, "LIMIT_BELOW_SOLD")
    app_error(api.delete(V1, params={"eventId": ev["id"], "byId.definitionId": td["id"]}), 428, "TICKET_DEFINITION_HAS_SALES")
    app_error(put(api, f"{V1}/currency", {"eventId": ev["id"], "currency": "EUR"}), 428, "CURRENCY_LOCKED")
    assert get_v1(api, td["id"])["price"]["currency"] == "USD"


# --- Update -------------------------------------------------------------------------------


def test_update_changes_only_what_it_carries(api, database):
    ev = create_event(api)
    td = create_v1(api, ev["id"], description="Keep me", policy="Keep this too")
    out = patch_v1(api, td["id"], ev["id"], {"name": "Renamed", "salePeriod": {"endDate": iso(utcnow() + dt.timedelta(days=3))}})
    assert out["name"] == "Renamed" and out["description"] == "Keep me" and out["price"]["value"] == "25.00"
    assert "endDate" in out["salePeriod"] and "startDate" not in out["salePeriod"]
    v3 = get_v3(api, td["id"])
    assert v3["revision"] == "2" and v3["policyText"] == "Keep this too" and v3["initialLimit"] == 10
    out = patch_v1(api, td["id"], ev["id"], {"limited": False})
    assert get_v3(api, td["id"])["limited"] is False and out["limitPerCheckout"] == 20
    patch_v1(api, td["id"], ev["id"], {"quantity": 4})
    assert get_v3(api, td["id"])["initialLimit"] == 4
    patch_v1(api, td["id"], ev["id"], {"limited": True})  # keeps the limit it has
    assert get_v3(api, td["id"])["initialLimit"] == 4
    out = patch_v1(api, td["id"], ev["id"], {"pricing": {"minPrice": {"value": "2"}}, "wixFeeConfig": {"type": "FEE_INCLUDED"}})
    assert out["pricing"]["minPrice"]["currency"] == "USD" and out["wixFeeConfig"]["type"] == "FEE_INCLUDED"
    out = patch_v1(api, td["id"], ev["id"], {"orderIndex": 5, "hidden": True})
    assert out["orderIndex"] == 5 and out["state"] == ["INCLUDE_HIDDEN_NOT_ON_SALE"]
    assert get_v3(api, td["id"])["revision"] == "7"
    # a PATCH with nothing in it still answers the definition
    assert patch_v1(api, td["id"], ev["id"])["id"] == td["id"]
    names = [name for name, _ in legacy(database, td["id"])]
    assert names == ["TicketDefinitionCreated"] + ["TicketDefinitionUpdated"] * 7


def test_update_with_a_field_mask(api):
    ev = create_event(api)
    td = create_v1(api, ev["id"], description="Old", salePeriod={"endDate": iso(utcnow() + dt.timedelta(days=3))})
    # only the masked fields change; what the mask names but the body lacks is cleared
    out = patch_v1(api, td["id"], ev["id"], {"name": "Not me", "description": None}, fields="description,salePeriod")
    assert out["name"] == "Early Bird" and out["description"] == "" and "endDate" not in out["salePeriod"]
    out = patch_v1(api, td["id"], ev["id"], {"name": "Me", "price": {"value": "9"}}, fields=["definition.name", "price"])
    assert out["name"] == "Me" and out["price"]["value"] == "9.00"
    out = patch_v1(api, td["id"], ev["id"], {"wixFeeConfig": {"type": "FEE_INCLUDED"}}, fields="wixFeeConfig.type")
    assert out["wixFeeConfig"]["type"] == "FEE_INCLUDED"
    violation(patch_v1(api, td["id"], ev["id"], {"name": "x"}, status=400, fields="name,revision"), "fields")
    violation(patch_v1(api, td["id"], ev["id"], {}, status=400, fields="orderIndex"), "definition.orderIndex")
    violation(patch_v1(api, td["id"], ev["id"], {}, status=400, fields="name"), "definition.name")
    violation(patch_v1(api, td["id"], ev["id"], {}, status=400, fields="wixFeeConfig"), "definition.wixFeeConfig.type")
    violation(patch_v1(api, td["id"], ev["id"], {}, status=400, fields="pricing"), "definition.pricing")


def test_update_refusals(api, make_api, database):
    ev = create_event(api)
    td = create_v1(api, ev["id"])
    other_event = create_event(api, title="Other")
    app_error(patch_v1(api, td["id"], other_event["id"], {"name": "x"}, status=404), 404, "TICKET_DEFINITION_NOT_FOUND")
    app_error(patch_v1(api, "no-such-id", ev["id"], {"name": "x"}, status=404), 404, "TICKET_DEFINITION_NOT_FOUND")
    violation(api.patch(f"{V1}/{td['id']}", {"definition": {"name": "x"}}), "eventId")
    violation(patch_v1(api, td["id"], ev["id"], {"name": "x" * 31}, status=400), "definition.name")
    violation(patch_v1(api, td["id"], ev["id"], {"price": {"value": "1", "currency": "EUR"}}, status=400), "definition.price")
    violation(patch_v1(api, td["id"], ev["id"], {"limited": True, "quantity": None}, status=400), "definition.quantity")
    start = utcnow() + dt.timedelta(days=2)
    bad = {"salePeriod": {"startDate": iso(start), "endDate": iso(start - dt.timedelta(hours=1))}}
    app_error(patch_v1(api, td["id"], ev["id"], bad, status=428), 428, "INVALID_SALE_PERIOD")
    other = make_api(site="site-b")
    r = other.patch(f"{V1}/{td['id']}", {"eventId": ev["id"], "definition": {"name": "Mine"}})
    app_error(r, 404, "TICKET_DEFINITION_NOT_FOUND")
    visitor = make_api(identity="visitor")
    assert visitor.patch(f"{V1}/{td['id']}", {"eventId": ev["id"], "definition": {"name": "Mine"}}).status_code == 403
    assert get_v3(api, td["id"])["revision"] == "1" and get_v3(api, td["id"])["name"] == "Early Bird"
    assert [n for n, _ in legacy(database, td["id"])] == ["TicketDefinitionCreated"]


# --- Delete -------------------------------------------------------------------------------


def test_delete_by_ids_and_all(api, database):
    ev = create_event(api)
    a, b, c = (create_v1(api, ev["id"], name=n) for n in "ABC")
    r = api.delete(V1, params={"eventId": ev["id"], "byId.definitionId": [a["id"], b["id"]]})
    assert r.status_code == 200 and r.json() == {}
    assert api.get(f"{TD}/{a['id']}").status_code == 404 and api.get(f"{V1}/{b['id']}").status_code == 404
    assert [n for n, _ in legacy(database, a["id"])] == ["TicketDefinitionCreated", "TicketDefinitionDeleted"]
    v3_types = [o.event_type for o in outbox(database, a["id"])]
    assert "wix.events.v3.ticket_definition_deleted" in v3_types
    d = create_td(api, ev["id"], name="D")  # made through v3, deleted through v1
    r = api.delete(V1, params={"eventId": ev["id"], "all": "true"})
    assert r.status_code == 200
    assert api.get(V1, params={"eventId": ev["id"]}).json()["definitions"] == []
    assert [n for n, _ in legacy(database, d["id"])] == ["TicketDefinitionDeleted"]
    assert [n for n, _ in legacy(database, c["id"])][-1] == "TicketDefinitionDeleted"
    # the SDK's `.r` form of the same request
    e = create_v1(api, ev["id"], name="E")
    blob = base64.urlsafe_b64encode(json.dumps({"eventId": ev["id"], "byId": {"definitionId": [e["id"]]}}).encode()).decode().rstrip("=")
    assert api.delete(V1, params={".r": blob}).status_code == 200
    assert api.get(f"{V1}/{e['id']}").status_code == 404


def test_delete_refusals_change_nothing(api, make_api, database):
    ev = create_event(api, draft=False)
    a = create_v1(api, ev["id"], name="A")
    b = create_v1(api, ev["id"], name="B")
    reserve(api, b["id"], 1)  # a hold keeps B, and so the whole call
    other_event = create_event(api, title="Other")
    before = len(outbox(database))
    app_error(api.delete(V1, params={"eventId": ev["id"], "all": "true"}), 428, "TICKET_DEFINITION_HAS_SALES")
    app_error(api.delete(V1, params={"eventId": ev["id"], "byId.definitionId": [a["id"], "nope"]}), 404, "TICKET_DEFINITION_NOT_FOUND")
    r = api.delete(V1, params={"eventId": other_event["id"], "byId.definitionId": a["id"]})
    app_error(r, 404, "TICKET_DEFINITION_NOT_FOUND")
    violation(api.delete(V1, params={"byId.definitionId": a["id"]}), "eventId")
    violation(api.delete(V1, params={"eventId": ev["id"]}), "byId.definitionId")
    violation(api.delete(V1, params={"eventId": ev["id"], "all": "true", "byId.definitionId": a["id"]}), "byId")
    violation(api.delete(V1, params={"eventId": ev["id"], "all": "maybe"}), "all")
    many = [f"id-{i}" for i in range(101)]
    violation(api.delete(V1, params={"eventId": ev["id"], "byId.definitionId": many}), "byId.definitionId")
    app_error(api.delete(V1, params={"eventId": "no-such-event", "all": "true"}), 404, "EVENT_NOT_FOUND")
    app_error(make_api(site="site-b").delete(V1, params={"eventId": ev["id"], "all": "true"}), 404, "EVENT_NOT_FOUND")
    assert make_api(identity="visitor").delete(V1, params={"eventId": ev["id"], "all": "true"}).status_code == 403
    assert len(outbox(database)) == before
    assert len(api.get(V1, params={"eventId": ev["id"]}).json()["definitions"]) == 2


# --- Change Currency ----------------------------------------------------------------------


def test_change_currency_moves_every_definition_and_the_event(api, make_api, database):
    ev = create_event(api)
    a = create_v1(api, ev["id"], name="A")
    b = create_td(api, ev["id"], name="B", pricingMethod={"pricingOptions": {"optionDetails": [{"name": "Adult", "price": {"value": "10", "currency": "USD"}}]}})
    r = put(api, f"{V1}/currency", {"eventId": ev["id"], "currency": "eur"})
    assert r.status_code == 200 and r.json() == {}
    assert get_v1(api, a["id"])["price"] == {"amount": "25.00", "value": "25.00", "currency": "EUR"}
    assert get_v1(api, b["id"])["pricing"]["pricingOptions"]["options"][0]["price"]["currency"] == "EUR"
    assert get_v3(api, a["id"])["revision"] == "2"
    e = api.get(f"/events/v3/events/{ev['id']}", params={"fields": "REGISTRATION"}).json()["event"]
    assert e["registration"]["tickets"]["currency"] == "EUR"
    assert [n for n, _ in legacy(database, b["id"])] == ["TicketDefinitionUpdated"]
    # a price without a currency is now in euros
    assert create_v1(api, ev["id"], price={"value": "3"})["price"]["currency"] == "EUR"
    # the same currency again changes nothing, and says nothing
    before = len(legacy(database))
    assert put(api, f"{V1}/currency", {"eventId": ev["id"], "currency": "EUR"}).status_code == 200
    assert len(legacy(database)) == before
    violation(put(api, f"{V1}/currency", {"eventId": ev["id"], "currency": "ABC"}), "currency")
    violation(put(api, f"{V1}/currency", {"eventId": ev["id"], "currency": "EURO"}), "currency")
    violation(put(api, f"{V1}/currency", {"eventId": ev["id"]}), "currency")
    violation(put(api, f"{V1}/currency", {"currency": "GBP"}), "eventId")
    app_error(put(api, f"{V1}/currency", {"eventId": "nope", "currency": "GBP"}), 404, "EVENT_NOT_FOUND")
    app_error(put(make_api(site="site-b"), f"{V1}/currency", {"eventId": ev["id"], "currency": "GBP"}), 404, "EVENT_NOT_FOUND")
    assert put(make_api(identity="visitor"), f"{V1}/currency", {"eventId": ev["id"], "currency": "GBP"}).status_code == 403
    assert get_v1(api, a["id"])["price"]["currency"] == "EUR"


# --- List / Query / Query V2 ----------------------------------------------------------------


@pytest.fixture
def three(api):
    e1 = create_event(api, title="One")
    e2 = create_event(api, title="Two")
    a = create_v1(api, e1["id"], name="Alpha", price={"value": "0", "currency": "USD"})
    b = create_v1(api, e1["id"], name="Bravo", hidden=True)
    later = iso(utcnow() + dt.timedelta(days=3))
    c = create_v1(api, e2["id"], name="Charlie", salePeriod={"startDate": later})
    return e1, e2, a, b, c


def ids(defs: list[dict]) -> list[str]:
    return [d["name"] for d in defs]


def test_list(api, make_api, database, three):
    e1, e2, *_ = three
    r = api.get(V1).json()
    assert ids(r["definitions"]) == ["Alpha", "Bravo", "Charlie"] and r["metaData"] == {"count": 3, "offset": 0, "total": 3}
    assert r["facets"] == {}
    assert ids(api.get(V1, params={"eventId": e2["id"]}).json()["definitions"]) == ["Charlie"]
    assert ids(api.get(V1, params={"state": "HIDDEN"}).json()["definitions"]) == ["Bravo"]
    assert ids(api.get(V1, params={"state": ["VISIBLE", "PAID"]}).json()["definitions"]) == ["Charlie"]
    assert ids(api.get(V1, params={"state": ["FREE", "PAID"]}).json()["definitions"]) == ["Alpha", "Bravo", "Charlie"]
    assert ids(api.get(V1, params={"saleStatus": "SALE_SCHEDULED"}).json()["definitions"]) == ["Charlie"]
    page = api.get(V1, params={"sort": "name:desc", "offset": 1, "limit": 1}).json()
    assert ids(page["definitions"]) == ["Bravo"] and page["metaData"] == {"count": 1, "offset": 1, "total": 3}
    assert ids(api.get(V1, params={"eventCreatorId": "nobody"}).json()["definitions"]) == []
    with database.session() as s:
        creator = s.scalar(select(Event.user_id).where(Event.id == e1["id"]))
    assert ids(api.get(V1, params={"eventCreatorId": creator}).json()["definitions"]) == ["Alpha", "Bravo", "Charlie"]
    facets = api.get(V1, params={"facet": ["eventId", "free"], "limit": 1}).json()["facets"]
    assert facets["eventId"]["counts"] == {e1["id"]: 2, e2["id"]: 1} and facets["free"]["counts"] == {"true": 1, "false": 2}
    with_dash = api.get(V1, params={"fieldset": ["DASHBOARD", "POLICY"]}).json()["definitions"][0]
    assert "dashboard" in with_dash and with_dash["policy"] == ""
    # refusals: limits and unknown values
    violation(api.get(V1, params={"limit": 101}), "limit")
    violation(api.get(V1, params={"state": "SOLD"}), "state")
    violation(api.get(V1, params={"saleStatus": "SOMETIME"}), "saleStatus")
    violation(api.get(V1, params={"sort": "price:asc"}), "sort")
    violation(api.get(V1, params={"fieldset": "ALL"}), "fieldset")
    violation(api.get(V1, params={"eventCreatorId": ["a", "b"]}), "eventCreatorId")
    violation(api.get(V1, params={"eventId": [f"e{i}" for i in range(101)]}), "eventId")
    violation(api.get(V1, params={"facet": "noSuchField"}), "facet.noSuchField")
    assert make_api(identity="visitor").get(V1).status_code == 403
    assert make_api(site="site-b").get(V1).json()["definitions"] == []


def test_query_v1(api, make_api, three):
    e1, *_ = three
    r = api.post(f"{V1}/query", {"filter": {"eventId": e1["id"]}, "sort": "name:desc", "fieldset": ["POLICY"], "facet": ["hidden"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert ids(body["definitions"]) == ["Bravo", "Alpha"] and body["total"] == 2 and body["offset"] == 0 and body["limit"] == 100
    assert body["definitions"][0]["policy"] == "" and body["facets"]["hidden"]["counts"] == {"true": 1, "false": 1}
    body = api.post(f"{V1}/query", {"filter": {"free": False, "hidden": {"$ne": True}}}).json()
    assert ids(body["definitions"]) == ["Charlie"]
    body = api.post(f"{V1}/query", {"filter": {"name": {"$lt": "B"}}, "offset": 0, "limit": 5}).json()
    assert ids(body["definitions"]) == ["Alpha"] and body["limit"] == 5
    body = api.post(f"{V1}/query", {"sort": "orderIndex:asc,created:desc", "offset": 2}).json()
    assert body["total"] == 3 and len(body["definitions"]) == 1
    assert api.post("/_api/events/v1/ticket-definitions/query", {}).json()["total"] == 3
    err = app_error(api.post(f"{V1}/query", {"filter": {"noSuchField": 1}}), 400, "FILTER_PARSER_ERROR")
    assert err["data"]["field"] == "filter.noSuchField"
    violation(api.post(f"{V1}/query", {"limit": 101}), "limit")
    violation(api.post(f"{V1}/query", {"sort": "nope"}), "sort")
    violation(api.post(f"{V1}/query", {"facet": ["a"] * 11}), "facet")
    assert make_api(identity="visitor").post(f"{V1}/query", {}).status_code == 403
    assert make_api(site="site-b").post(f"{V1}/query", {}).json()["total"] == 0


def test_query_v2_cursor_and_offset_paging(api, make_api, three):
    r = api.post(V2_QUERY, {"query": {"cursorPaging": {"limit": 2}, "fieldsets": ["DASHBOARD"]}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert ids(body["definitions"]) == ["Alpha", "Bravo"] and "dashboard" in body["definitions"][0]
    assert body["metadata"]["count"] == 2 and body["metadata"]["cursors"]["next"]
    cursor = body["metadata"]["cursors"]["next"]
    nxt = api.post(V2_QUERY, {"query": {"cursorPaging": {"limit": 2, "cursor": cursor}}}).json()
    assert ids(nxt["definitions"]) == ["Charlie"] and not nxt["metadata"]["cursors"]["next"]
    body = api.post(V2_QUERY, {"query": {"filter": {"hidden": False}, "sort": [{"fieldName": "name", "order": "DESC"}], "paging": {"limit": 1, "offset": 0}, "fields": ["policy"]}}).json()
    assert ids(body["definitions"]) == ["Charlie"] and body["metadata"]["total"] == 2 and body["definitions"][0]["policy"] == ""
    # the SDK's `_` mapping names the path in the singular
    assert len(api.post("/_api/events/v2/ticket-definition/query", {"query": {}}).json()["definitions"]) == 3
    assert len(api.post("/_api/events/v2/ticket-definitions/query", {}).json()["definitions"]) == 3
    violation(api.post(V2_QUERY, {"query": {"cursorPaging": {"limit": 101}}}), "query.cursorPaging.limit")
    violation(api.post(V2_QUERY, {"query": {"fieldsets": ["ALL"]}}), "query.fieldsets[0]")
    app_error(api.post(V2_QUERY, {"query": {"filter": {"price": 1}}}), 400, "FILTER_PARSER_ERROR")
    other = make_api(site="site-b")
    assert other.post(V2_QUERY, {"query": {}}).json()["definitions"] == []
    # a cursor is bound to its site, and to this API (not v3's Query)
    assert other.post(V2_QUERY, {"query": {"cursorPaging": {"cursor": cursor}}}).status_code == 400
    assert api.post(f"{TD}/query", {"query": {"cursorPaging": {"cursor": cursor}}}).status_code == 400
    assert make_api(identity="visitor").post(V2_QUERY, {"query": {}}).status_code == 403


# --- Webhooks -------------------------------------------------------------------------------


def test_legacy_webhooks_carry_the_sdk_shape(api, database):
    ev = create_event(api)
    td = create_v1(api, ev["id"])
    patch_v1(api, td["id"], ev["id"], {"name": "New"})
    assert api.delete(V1, params={"eventId": ev["id"], "all": "true"}).status_code == 200
    rows = [o for o in outbox(database, td["id"]) if o.event_type.startswith(LEGACY)]
    assert [o.event_type for o in rows] == [LEGACY + n for n in ("TicketDefinitionCreated", "TicketDefinitionUpdated", "TicketDefinitionDeleted")]
    for o in rows:
        p = o.payload
        assert set(p) == {"id", "timestamp", "ticketDefinitionId", "eventId"}
        assert p["ticketDefinitionId"] == td["id"] and p["eventId"] == ev["id"] and p["id"] == o.event_id
        assert dt.datetime.fromisoformat(p["timestamp"].replace("Z", "+00:00"))
        assert o.identity["identityType"] == "APP"
    # one sequence per definition, shared with its v3 events: strictly increasing
    seqs = [o.entity_event_sequence for o in outbox(database, td["id"])]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
