"""The door scanner over HTTP (pages/scanner.py), on both databases: each refusal of the
caller (another event's staff member, a visitor's key, a missing or forged CSRF token,
no session) and of a ticket (forged, another event's, unpaid, cancelled, already in),
the offline pack (hashes of the QR codes, never the codes or the secret), and the sync
of offline check-ins, refused item by item."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from boxoffice.links import sign_ticket_code
from boxoffice.pages.scanner import SYNC_BATCH_MAX
from tests.helpers import checkout, create_event, create_td, reserve

TICKETS = "/events/v1/tickets"
SM = "/events/v1/staff-members"


class Door:
    """A browser at the scanner: its own cookies, signed in with ``key`` or ``staff_token``."""

    def __init__(self, app: Any, key: str = "", staff_token: str = "") -> None:
        self.c = TestClient(app, follow_redirects=False)
        self.csrf = self.token("/scan/login")
        self.login = self.c.post("/scan/login", data={"csrf_token": self.csrf, "key": key, "staff_token": staff_token})

    def token(self, path: str) -> str:
        m = re.search(r'name="csrf_token" value="([^"]+)"', self.c.get(path).text)
        assert m
        return m.group(1)

    def post(self, path: str, body: Any, csrf: str | None = None, **headers: str) -> Any:
        h = {"X-CSRF-Token": self.csrf if csrf is None else csrf, **headers}
        return self.c.post(path, json=body, headers=h)

    def scan(self, event_id: str, code: str) -> Any:
        return self.post(f"/scan/events/{event_id}/check-in", {"code": code})


def sold(api: Any, quantity: int = 3, **order: Any) -> tuple[dict, list[dict]]:
    """A published event with ``quantity`` paid tickets, read back with their qrCode."""
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=20)
    o = checkout(api, ev["id"], reserve(api, td["id"], quantity)["id"], **order)["order"]
    if not order:
        assert api.post(f"/boxoffice/v1/test-payments/{o['orderNumber']}/pay").status_code == 200
    got = api.get(TICKETS, params={"eventId": ev["id"], "fieldset": "TICKET_DETAILS"}).json()["tickets"]
    return ev, [t for t in got if t["orderNumber"] == o["orderNumber"]]


def checked_in(api: Any, number: str) -> bool:
    return "checkIn" in api.get(f"{TICKETS}/{number}").json()["ticket"]


def staff_token(api: Any, **fields: Any) -> str:
    body = {"name": "Door Dan", "permissions": ["CHECK_IN_GUESTS"], "allEvents": {}, **fields}
    r = api.post(SM, {"staffMember": {k: v for k, v in body.items() if v is not None}})
    assert r.status_code == 200, r.text
    return unquote(r.json()["staffMember"]["loginLink"].split("#loginToken=", 1)[1])


def test_scan_green_amber_red_and_undo(app: Any, api: Any) -> None:
    ev, tks = sold(api)
    other, other_tks = sold(api, 1)
    door = Door(app, key=api.key)
    assert door.login.status_code == 303 and door.login.headers["location"] == "/scan"
    r = door.scan(ev["id"], tks[0]["qrCode"])
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["result"] == "ok" and a["ticket"]["ticketNumber"] == tks[0]["ticketNumber"]
    assert a["ticket"]["guestFullName"] == "Ann Lee" and a["ticket"]["name"] == "Leather Workshop"
    assert "qrCode" not in a["ticket"] and "ticketPdfUrl" not in a["ticket"]
    assert checked_in(api, tks[0]["ticketNumber"])
    # again: amber, with when and by whom
    a = door.scan(ev["id"], tks[0]["qrCode"]).json()
    assert a["result"] == "already" and a["checkedInBy"] == "you" and a["checkedInAt"]
    assert a["ticket"]["guestFullName"] == "Ann Lee"
    # forged (another key), altered (a signed part swapped), garbage: red, nothing checked in
    forged = sign_ticket_code(b"not the secret", api.site, ev["id"], tks[1]["ticketNumber"])
    good = tks[1]["qrCode"]
    altered = good.replace(good.split(".")[1], tks[2]["qrCode"].split(".")[1])
    for bad in (forged, altered, good[:-3], "hello"):
        a = door.scan(ev["id"], bad).json()
        assert a["result"] == "refused" and a["code"] == "INVALID_TICKET_CODE", bad
    # another event's ticket, scanned at this event's door: red, and not checked in there either
    a = door.scan(ev["id"], other_tks[0]["qrCode"]).json()
    assert a["result"] == "refused" and a["code"] == "ANOTHER_EVENT"
    assert not checked_in(api, tks[1]["ticketNumber"]) and not checked_in(api, other_tks[0]["ticketNumber"])
    # undo the last check-in: Delete Ticket Check-in
    r = door.post(f"/scan/events/{ev['id']}/undo", {"ticketNumber": tks[0]["ticketNumber"]})
    assert r.status_code == 200 and r.json()["result"] == "undone"
    assert not checked_in(api, tks[0]["ticketNumber"])
    assert door.post(f"/scan/events/{ev['id']}/undo", {"ticketNumber": "NOPE"}).status_code == 404


def test_unpaid_and_cancelled_tickets_are_red(app: Any, api: Any) -> None:
    ev, paid = sold(api, 1)
    td = create_td(api, ev["id"], initialLimit=5)
    unpaid = checkout(api, ev["id"], reserve(api, td["id"])["id"], options={"payInPerson": True})["order"]
    declined = checkout(api, ev["id"], reserve(api, td["id"])["id"])["order"]
    api.post(f"/boxoffice/v1/test-payments/{declined['orderNumber']}/decline")
    door = Door(app, key=api.key)
    secret = app.state.secret
    for order, code in ((unpaid, "ORDER_NOT_CONFIRMED"), (declined, "TICKET_CANCELED")):
        number = order["tickets"][0]["ticketNumber"]
        a = door.scan(ev["id"], sign_ticket_code(secret, api.site, ev["id"], number)).json()
        assert a["result"] == "refused" and a["code"] == code, a
        assert a["ticket"]["ticketNumber"] == number
    # the pack says so too, and carries no code and no secret: only each code's SHA-256
    r = door.c.get(f"/scan/events/{ev['id']}/pack")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    pack = r.json()
    states = {t["number"]: t["state"] for t in pack["tickets"]}
    assert states == {paid[0]["ticketNumber"]: "valid", unpaid["tickets"][0]["ticketNumber"]: "unpaid",
                      declined["tickets"][0]["ticketNumber"]: "canceled"}
    hashes = {t["number"]: t["hash"] for t in pack["tickets"]}
    assert hashes[paid[0]["ticketNumber"]] == hashlib.sha256(paid[0]["qrCode"].encode()).hexdigest()
    assert paid[0]["qrCode"] not in r.text and paid[0]["qrCode"].split(".")[2] not in r.text
    assert secret.hex() not in r.text and pack["truncated"] is False


def test_staff_are_confined_to_their_events(app: Any, api: Any) -> None:
    mine, tks = sold(api, 2)
    theirs, their_tks = sold(api, 1)
    door = Door(app, staff_token=staff_token(api, allEvents=None, specificEvents={"events": [mine["id"]]}))
    assert door.login.status_code == 303
    home = door.c.get("/scan")
    assert home.status_code == 200 and mine["id"] in home.text and theirs["id"] not in home.text
    assert door.c.get(f"/scan/events/{mine['id']}").status_code == 200
    # another event: its page, its pack, a check-in, a sync and an undo are all refused
    assert door.c.get(f"/scan/events/{theirs['id']}").status_code == 403
    assert door.c.get(f"/scan/events/{theirs['id']}/pack").status_code == 403
    assert door.scan(theirs["id"], their_tks[0]["qrCode"]).status_code == 403
    items = {"items": [{"id": "1", "code": their_tks[0]["qrCode"]}]}
    assert door.post(f"/scan/events/{theirs['id']}/sync", items).status_code == 403
    assert door.post(f"/scan/events/{theirs['id']}/undo", {"ticketNumber": their_tks[0]["ticketNumber"]}).status_code == 403
    assert not checked_in(api, their_tks[0]["ticketNumber"])
    # an unknown event: 403 to a staff member (as the API's check-in), 404 to the owner
    assert door.c.get("/scan/events/nope").status_code == 403
    # their own event: checked in, and the owner scanning it again sees who did it
    assert door.scan(mine["id"], tks[0]["qrCode"]).json()["result"] == "ok"
    owner = Door(app, key=api.key)
    assert owner.c.get("/scan/events/nope").status_code == 404
    assert theirs["id"] in owner.c.get("/scan").text
    a = owner.scan(mine["id"], tks[0]["qrCode"]).json()
    assert a["result"] == "already" and a["checkedInBy"] == "Door Dan (staff)"


def test_who_may_sign_in_and_csrf(app: Any, api: Any, make_api: Any) -> None:
    ev, tks = sold(api, 1)
    # a visitor's key is refused at sign-in
    visitor = make_api(identity="visitor")
    door = Door(app, key=visitor.key)
    assert door.login.status_code == 403
    assert door.c.get("/scan").status_code == 303
    # signed out: the pages send to sign-in; the script's calls too
    anon = TestClient(app, follow_redirects=False)
    r = anon.get(f"/scan/events/{ev['id']}")
    assert r.status_code == 303 and r.headers["location"].startswith("/scan/login?next=")
    assert anon.get(f"/scan/events/{ev['id']}/pack").status_code == 303
    # CSRF: none, a wrong one, another site's Origin
    door = Door(app, key=api.key)
    path = f"/scan/events/{ev['id']}/check-in"
    assert door.c.post(path, json={"code": tks[0]["qrCode"]}).status_code == 403
    assert door.post(path, {"code": tks[0]["qrCode"]}, csrf="x" * 40).status_code == 403
    assert door.post(path, {"code": tks[0]["qrCode"]}, Origin="https://evil.example").status_code == 403
    assert door.post(f"/scan/events/{ev['id']}/sync", {"items": [{"id": "1", "code": tks[0]["qrCode"]}]}, csrf="").status_code == 403
    assert not checked_in(api, tks[0]["ticketNumber"])
    # bad input: 400, never 500
    assert door.post(path, {"code": "x" * 3000}).status_code == 400
    assert door.post(path, {"nope": 1}).status_code == 400
    assert door.post(path, ["x"]).status_code == 400


def test_sync_checks_each_item_in_and_the_first_check_in_wins(app: Any, api: Any) -> None:
    ev, tks = sold(api, 3)
    door, other_device = Door(app, key=api.key), Door(app, key=api.key)
    # another device checked the third ticket in while this one was offline
    assert other_device.scan(ev["id"], tks[2]["qrCode"]).json()["result"] == "ok"
    forged = sign_ticket_code(b"not the secret", api.site, ev["id"], tks[1]["ticketNumber"])
    items = [{"id": "a", "code": tks[0]["qrCode"]}, {"id": "b", "code": forged},
             {"id": "c", "code": tks[1]["qrCode"]}, {"id": "d", "code": tks[2]["qrCode"]}]
    r = door.post(f"/scan/events/{ev['id']}/sync", {"items": items})
    assert r.status_code == 200, r.text
    got = {x["id"]: x for x in r.json()["results"]}
    assert [got[k]["result"] for k in "abcd"] == ["ok", "refused", "ok", "already"]
    assert got["b"]["code"] == "INVALID_TICKET_CODE" and got["d"]["checkedInAt"]
    assert all(checked_in(api, t["ticketNumber"]) for t in tks)
    # bounded: one batch at most SYNC_BATCH_MAX items
    many = [{"id": str(i), "code": "x"} for i in range(SYNC_BATCH_MAX + 1)]
    assert door.post(f"/scan/events/{ev['id']}/sync", {"items": many}).status_code == 400


@pytest.mark.parametrize("path", ["/boxoffice/v1/staff/login"])
def test_staff_login_link_leads_to_the_scanner_sign_in(client: Any, path: str) -> None:
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/scan/login"  # the #fragment rides along
    sw = client.get("/scan/sw.js")
    assert sw.status_code == 200 and sw.headers["service-worker-allowed"] == "/scan"
    assert sw.headers["content-type"].startswith("text/javascript")
