"""Create Ticket Reservation's lean path (api/http.py `lean`, reservations/routes.py
`_create_fast`) answers exactly what the full FastAPI route answers, and hands every
case it does not own (no or unknown key, another site, a staff key, a form body, an
invalid body) to that route, which refuses it with the usual envelope."""

from __future__ import annotations

import json

import pytest

from boxoffice.reservations import routes
from boxoffice.reservations.schemas import CreateTicketReservationRequest
from tests.helpers import RES, create_event, create_td


def _lean_route(app):
    return next(r for r in app.router.routes if getattr(r, "path", None) == RES and "POST" in r.methods)


@pytest.fixture
def spy(monkeypatch):
    """Counts the lean path's validations (it validates only what it answers itself)."""
    calls = []
    original = CreateTicketReservationRequest.model_validate_json.__func__

    def counted(cls, data, *a, **kw):
        calls.append(data)
        return original(cls, data, *a, **kw)

    monkeypatch.setattr(CreateTicketReservationRequest, "model_validate_json", classmethod(counted))
    return calls


def _body(td_id: str, quantity: int = 1) -> dict:
    return {"ticketReservation": {"tickets": [{"ticketDefinitionId": td_id, "quantity": quantity}]}}


def test_a_cached_valid_call_takes_the_lean_path_and_sells_exactly(app, api, make_api, spy):
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=2)
    buyer = make_api(identity="visitor")
    first = buyer.post(RES, _body(td["id"]))  # a miss: the full route resolves and caches the key
    assert first.status_code == 200, first.text
    assert spy == []
    second = buyer.post(RES, _body(td["id"]))
    assert second.status_code == 200, second.text
    assert len(spy) == 1  # the lean path answered it
    assert second.json()["ticketReservation"]["tickets"][0]["ticketDefinitionId"] == td["id"]
    sold_out = buyer.post(RES, _body(td["id"]))
    assert sold_out.status_code == 428 and len(spy) == 2
    assert sold_out.json()["details"]["applicationError"]["code"] == "SOLD_OUT"
    got = api.get(f"/events-ticket-definitions/v3/ticket-definitions/{td['id']}", params={"fields": "SALES_DETAILS"})
    assert got.json()["ticketDefinition"]["salesDetails"]["reservedCount"] == 2


def _answers(api, make_api, td_id: str) -> list[tuple[int, object]]:
    """Answers to the cases the lean path must hand over, plus the ones it owns; the
    keys are cached first (one reservation each) so that the lean path could act."""
    buyer = make_api(identity="visitor")
    staff = make_api(identity="staff")
    narrow = make_api(permissions=set())  # a key with no permission at all
    other = make_api(site="site-b", identity="visitor")
    for k in (buyer, staff, narrow, other):
        k.post(RES, _body(td_id))
    c = api.client
    out = []

    def add(r):
        body = r.json()
        if r.status_code == 200:  # ids and dates differ between two reservations
            body = {"tickets": [t["quantity"] for t in body["ticketReservation"]["tickets"]]}
        out.append((r.status_code, json.loads(json.dumps(body).replace(td_id, "TD"))))

    add(buyer.post(RES, _body(td_id)))
    add(buyer.post(RES, _body(td_id, 0)))  # invalid: quantity >= 1
    add(buyer.post(RES, {"ticketReservation": {"tickets": []}}))
    add(buyer.post(RES, {"ticketReservation": {"tickets": [{"ticketDefinitionId": td_id, "quantity": "1"}]}}))
    add(buyer.post(RES, _body("no-such-definition")))
    add(buyer.post(RES, _body(td_id, 50)))  # more than is left: SOLD_OUT
    add(c.post(RES, json=_body(td_id)))  # no key
    add(c.post(RES, json=_body(td_id), headers={"Authorization": "nope", "wix-site-id": "site-a"}))
    add(c.post(RES, json=_body(td_id), headers={"Authorization": buyer.key, "wix-site-id": "site-b"}))
    add(c.post(RES, json=_body(td_id), headers={"Authorization": f"Bearer {buyer.key}", "wix-site-id": "site-a"}))
    add(c.post(RES, content=b'{"ticketReservation": ', headers=buyer.headers({"Content-Type": "application/json"})))
    add(c.post(RES, content=b"a=1", headers=buyer.headers({"Content-Type": "application/x-www-form-urlencoded"})))
    add(staff.post(RES, _body(td_id)))
    add(narrow.post(RES, _body(td_id)))
    add(other.post(RES, _body(td_id)))
    return out


def test_the_lean_path_answers_what_the_full_route_answers(app, api, make_api, monkeypatch):
    ev = create_event(api, draft=False)
    lean_td = create_td(api, ev["id"], initialLimit=40)
    full_td = create_td(api, ev["id"], initialLimit=40)
    with_lean = _answers(api, make_api, lean_td["id"])

    async def never(scope, body):
        return None

    monkeypatch.setattr(type(_lean_route(app)), "lean_path", staticmethod(never))
    without = _answers(api, make_api, full_td["id"])
    assert with_lean == without
    assert [s for s, _ in with_lean] == [200, 400, 400, 400, 404, 428, 401, 401, 403, 200, 400, 400, 403, 403, 404]


def test_routes_module_registers_the_lean_route(app):
    route = _lean_route(app)
    assert type(route).__name__.startswith("LeanRoute") and route.summary == "Create Ticket Reservation"
    assert routes.create_ticket_reservation is route.endpoint
