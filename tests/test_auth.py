"""Keys, identities, permissions and tenancy."""

from __future__ import annotations

import pytest

from boxoffice.identity import Permission
from tests.helpers import EVENTS, TD, create_event, create_td, td_body


def code(r) -> str:
    return r.json()["details"]["applicationError"]["code"]


def test_missing_or_unknown_key_is_401(client):
    r = client.post(f"{TD}/query", json={"query": {}})
    assert r.status_code == 401 and code(r) == "UNAUTHENTICATED"
    r = client.post(f"{TD}/query", json={"query": {}}, headers={"Authorization": "bo_nope"})
    assert r.status_code == 401


def test_bearer_prefix_and_raw_key_both_work(api, client):
    assert client.post(f"{TD}/query", json={}, headers={"Authorization": api.key}).status_code == 200
    assert client.post(f"{TD}/query", json={}, headers={"Authorization": f"Bearer {api.key}"}).status_code == 200


def test_site_header_must_match_the_key(api, make_api, client):
    make_api(site="site-b")
    r = client.post(f"{TD}/query", json={}, headers={"Authorization": api.key, "wix-site-id": "site-b"})
    assert r.status_code == 403 and code(r) == "PERMISSION_DENIED"


@pytest.mark.parametrize("identity", ["visitor", "member"])
def test_visitors_and_members_cannot_manage(make_api, identity):
    owner = make_api()
    ev = create_event(owner)
    td = create_td(owner, ev["id"])
    guest = make_api(identity=identity)
    for r in (
        guest.post(TD, td_body(ev["id"])),
        guest.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"revision": "1", "name": "x"}}),
        guest.get(f"{TD}/{td['id']}"),
        guest.delete(f"{TD}/{td['id']}"),
        guest.post(f"{TD}/query", {"query": {}}),
        guest.post(f"{TD}/count", {}),
        guest.post(f"{TD}/currency", {"eventId": ev["id"], "currency": "EUR"}),
        guest.post(f"{TD}/reorder", {"eventId": ev["id"], "ticketDefinitionId": td["id"], "afterDefinitionId": td["id"]}),
        guest.post("/events/v3/bulk/ticket-definitions/delete", {"filter": {}}),
        guest.post(EVENTS, {"event": {"title": "x"}}),
    ):
        assert r.status_code == 403, r.text
        assert code(r) == "PERMISSION_DENIED"
    # the ticket picker is public
    assert guest.post(f"{TD}/available/query", {"query": {}}).status_code == 200
    assert owner.get(f"{TD}/{td['id']}").json()["ticketDefinition"]["name"] == td["name"]


def test_manage_orders_reads_but_does_not_write(make_api):
    owner = make_api()
    ev = create_event(owner)
    td = create_td(owner, ev["id"])
    orders = make_api(identity="app", permissions={Permission.MANAGE_ORDERS, Permission.READ_EVENTS})
    assert orders.get(f"{TD}/{td['id']}").status_code == 200
    assert orders.post(f"{TD}/query", {"query": {}}).status_code == 200
    assert orders.post(f"{TD}/count", {}).status_code == 200
    assert orders.post(TD, td_body(ev["id"])).status_code == 403
    assert orders.delete(f"{TD}/{td['id']}").status_code == 403
    # "Manage Ticket Definitions" alone manages definitions
    tdm = make_api(identity="app", permissions={Permission.MANAGE_TICKET_DEFINITIONS})
    assert tdm.post(TD, td_body(ev["id"], name="By TD manager")).status_code == 200
    assert tdm.post(EVENTS, {"event": {"title": "x"}}).status_code == 403


def test_one_site_never_sees_another(make_api):
    a, b = make_api(site="site-a"), make_api(site="site-b")
    ev = create_event(a)
    td = create_td(a, ev["id"])
    assert b.get(f"{TD}/{td['id']}").status_code == 404
    assert b.get(f"{EVENTS}/{ev['id']}").status_code == 404
    assert b.post(f"{TD}/query", {"query": {}}).json()["ticketDefinitions"] == []
    assert b.post(f"{TD}/count", {}).json()["metadata"]["count"] == 0
    assert b.post(TD, td_body(ev["id"])).status_code == 404
    assert b.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"revision": "1", "name": "hijack"}}).status_code == 404
    assert b.delete(f"{TD}/{td['id']}").status_code == 404
    assert b.delete(f"{EVENTS}/{ev['id']}").status_code == 404
    assert b.post(f"{TD}/currency", {"eventId": ev["id"], "currency": "EUR"}).status_code == 404
    b.post("/events/v3/bulk/ticket-definitions/delete", {"filter": {}})
    assert b.post(f"{EVENTS}/query", {"includeDrafts": True}).json()["events"] == []
    assert a.get(f"{TD}/{td['id']}").json()["ticketDefinition"]["name"] == td["name"]
