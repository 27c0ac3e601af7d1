"""schemathesis against our own /openapi.json: no 500, and every response fits its schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.helpers import create_event, create_td

PARTS = 4  # the operations in four interleaved parts: four tests xdist can spread over its processes


@pytest.mark.parametrize("part", range(PARTS))
@pytest.mark.parametrize("identity", ["app", "visitor"])
def test_api_conforms_to_its_openapi(app, api, make_api, identity, part):
    """Every documented operation, fed schemathesis' generated requests: with the site
    owner's app key, and with a site visitor's key (same site), which may read what is
    published and query available ticket definitions, and is refused the rest (403).
    One part of the operations per test (the whole took 3.5 minutes in one process)."""
    ev = create_event(api, draft=False)
    create_td(api, ev["id"])
    caller = api if identity == "app" else make_api(identity=identity)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    every = [r.ok() for r in schema.get_all_operations()]
    assert len(every) >= 17
    operations = every[part::PARTS]
    failures = []
    # ~130 operations on each database: the owner's key reaches every rule (15 requests
    # each); a visitor's is mostly refused at the door (403), which fewer requests show
    # as well (6 each), keeping the whole suite inside CI's 15 minutes
    examples = 15 if identity == "app" else 6
    for op in operations:
        if "/live/" in op.path:  # an event stream never ends; tests/test_live.py covers it
            continue

        @given(case=op.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            case.call_and_validate(headers=caller.headers(), checks=[not_a_server_error, response_schema_conformance])

        try:  # every operation is tried: one report lists them all
            check()
        except Exception as e:  # noqa: BLE001 - schemathesis' failures, or the app's own exception
            notes = "\n".join(getattr(e, "__notes__", []))  # hypothesis/schemathesis put the curl here
            failures.append(f"{op.method.upper()} {op.path}: {type(e).__name__}: {str(e)[:1500]}\n{notes[:1500]}")
    assert not failures, "\n\n".join(failures)


def test_openapi_documents_every_ticket_definitions_method(client):
    paths = client.get("/openapi.json").json()["paths"]
    summaries = {op["summary"] for ops in paths.values() for op in ops.values()}
    assert {
        "Create Ticket Definition",
        "Update Ticket Definition",
        "Get Ticket Definition",
        "Delete Ticket Definition",
        "Reorder Ticket Definitions",
        "Query Ticket Definitions",
        "Query Available Ticket Definitions",
        "Count Ticket Definitions",
        "Count Available Ticket Definitions",
        "Bulk Delete Ticket Definitions By Filter",
        "Change Currency",
    } <= summaries
    for ops in paths.values():
        for op in ops.values():
            assert "422" not in op["responses"] and "400" in op["responses"]


def test_docs_work_offline_and_can_authorize(client):
    """/docs and /redoc load their scripts from this server (no CDN: they work offline),
    and the schema declares the two headers a key sends, so "Authorize" then "Try it out"
    calls the API."""
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = client.get(page).text
        assert f"/static-offline-docs/{asset}" in html and "cdn" not in html.lower(), html[:500]
        r = client.get(f"/static-offline-docs/{asset}")
        assert r.status_code == 200 and len(r.content) > 100_000
    schema = client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert {(s["in"], s["name"]) for s in schemes.values()} == {("header", "Authorization"), ("header", "wix-site-id")}
    assert schema["security"] == [{"ApiKey": [], "SiteId": []}]
    pdf = next(p for p in schema["paths"] if p.startswith("/boxoffice/v1/pdf/"))
    assert all(op["security"] == [] for op in schema["paths"][pdf].values())  # the signature is the credential


def test_list_methods_document_their_query_parameters(client):
    """The legacy List methods read their query themselves; /docs still shows (and "Try it
    out" sends) each parameter, with its values where they are a fixed set."""
    paths = client.get("/openapi.json").json()["paths"]

    def names(path: str, method: str = "get") -> dict[str, dict]:
        return {p["name"]: p for p in paths[path][method].get("parameters", []) if p["in"] == "query"}

    orders = names("/events/v1/orders")
    assert {"eventId", "fieldset", "status", "orderNumber", "tag", "facet", "searchPhrase", "offset", "limit"} <= set(orders)
    assert orders["fieldset"]["schema"]["items"]["enum"] == ["DETAILS", "FORM", "INVOICE", "TICKETS"]
    tickets = names("/events/v1/tickets")
    assert {"eventId", "fieldset", "state", "ticketNumber", "searchPhrase", "offset", "limit"} <= set(tickets)
    assert "TICKET_DETAILS" in tickets["fieldset"]["schema"]["items"]["enum"]
    assert set(names("/events/v1/tickets/{ticketNumber}")) == {"fieldset"}
    assert set(names("/events/v1/tickets/check-in", "delete")) == {"eventId", "ticketNumber"}
    assert "eventId" in names("/events/v1/checkout/available-tickets")
    assert {"eventId", "state", "startingFrom", "tag", "stageName", "facet", "offset", "limit"} <= set(names("/events/v1/schedule"))
    assert set(names("/events/v1/schedule/{itemId}")) == {"eventId", "includeDraft"}
    assert set(names("/events/v1/staff-members/{staffMemberId}")) == {"fieldsets"}


def test_documented_list_parameters_are_the_ones_the_routes_read(api):
    """What /docs shows is what the server does: the documented filters change the answer."""
    from tests.helpers import checkout, create_event, create_td, reserve

    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=5)
    checkout(api, ev["id"], reserve(api, td["id"])["id"], options={"markAsPaid": True})
    got = api.get("/events/v1/tickets", params={"eventId": ev["id"], "fieldset": "TICKET_DETAILS", "state": "PAID", "searchPhrase": "Ann"}).json()
    assert got["total"] == 1 and got["tickets"][0]["orderStatus"] == "PAID"
    assert api.get("/events/v1/orders", params={"eventId": ev["id"], "searchPhrase": "nobody-at-all"}).json()["total"] == 0


def test_operation_descriptions_are_written_for_users(client):
    """What /docs shows under an operation is for the API's users: no pointers into the
    code (module paths, service functions, units of work)."""
    import re

    leaks = []
    for path, ops in client.get("/openapi.json").json()["paths"].items():
        for method, op in ops.items():
            if re.search(r"service\.|\w+\.py\b|unit of work|create_batch|hooks\.", op.get("description", "")):
                leaks.append(f"{method.upper()} {path}: {op['description'][:120]}")
    assert not leaks, "\n".join(leaks)
