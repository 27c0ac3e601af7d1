"""schemathesis against our own /openapi.json: no 500, and every response fits its schema."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.helpers import create_event, create_td


def test_api_conforms_to_its_openapi(app, api):
    """Every documented operation, fed schemathesis' generated requests with a valid key."""
    ev = create_event(api, draft=False)
    create_td(api, ev["id"])
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 17
    for op in operations:
        if "/live/" in op.path:  # an event stream never ends; tests/test_live.py covers it
            continue

        @given(case=op.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            case.call_and_validate(headers=api.headers(), checks=[not_a_server_error, response_schema_conformance])

        check()


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
