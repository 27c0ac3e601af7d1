"""The door scanner in Chromium (issue 14, proof steps 3 and 4): tickets sold through the
API, their QR codes fed to the page as photos (the page's decode path, qr-scanner's
scanImage); green, amber and red; then offline: two tickets scanned against the offline
pack, queued, and checked in on the server once the network returns. axe-core on each
page. The HTTP refusals are in test_scanner_http.py (both databases)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import segno

from boxoffice.links import sign_ticket_code
from tests.helpers import event_body, guest_form
from tests.pages.kit import Live, axe, shot, sign_in, until, watch

TICKETS = "/events/v1/tickets"
SLOW = 90_000  # ms: a loaded CI machine (the page waits on a server and a QR decoder worker)


def png(code: str) -> bytes:
    out = io.BytesIO()
    segno.make(code, error="m").save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def ok(r: Any) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


def sell(live: Live, quantity: int, title: str = "Door Night") -> tuple[dict, list[dict]]:
    """Through the API: a published event, a definition, a reservation, checkout, the
    test payment; the tickets read back with their qrCode (the owner's key sees it)."""
    ev = ok(live.api("POST", "/events/v3/events", event_body(title=title, draft=False)))["event"]
    td = ok(live.api("POST", "/events-ticket-definitions/v3/ticket-definitions", {"ticketDefinition": {
        "eventId": ev["id"], "name": "Standing", "initialLimit": 50,
        "pricingMethod": {"fixedPrice": {"value": "20", "currency": "USD"}}, "feeType": "FEE_INCLUDED"}}))["ticketDefinition"]
    res = ok(live.api("POST", "/events/v1/ticket-reservations", {"ticketReservation": {
        "tickets": [{"ticketDefinitionId": td["id"], "quantity": quantity}]}}))["ticketReservation"]
    guests = [guest_form(f"Guest{i}", "Doe", f"g{i}@example.com") for i in range(quantity)]
    order = ok(live.api("POST", "/events/v1/checkout", {"eventId": ev["id"], "reservationId": res["id"], "guests": guests}))["order"]
    ok(live.api("POST", f"/boxoffice/v1/test-payments/{order['orderNumber']}/pay"))
    got = ok(live.api("GET", TICKETS, params={"eventId": ev["id"], "fieldset": "TICKET_DETAILS"}))["tickets"]
    assert all(t.get("qrCode") for t in got)
    return ev, got


def checked_in(live: Live, number: str) -> bool:
    return "checkIn" in ok(live.api("GET", f"{TICKETS}/{number}"))["ticket"]


def staff_link(live: Live, event_id: str) -> str:
    r = ok(live.api("POST", "/events/v1/staff-members", {"staffMember": {
        "name": "Door Dana", "permissions": ["CHECK_IN_GUESTS"], "specificEvents": {"events": [event_id]}}}))
    return r["staffMember"]["loginLink"]


class Scanner:
    """The scanner page, driven as door staff would: feed a photo, read the result."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.seen = 0

    def ready(self) -> None:
        self.page.wait_for_selector("#scanner[data-ready=yes][data-pack=ready]", state="attached")

    def feed(self, code: str, name: str = "ticket.png") -> dict[str, str]:
        self.page.set_input_files("#photo", files=[{"name": name, "mimeType": "image/png", "buffer": png(code)}])
        return self.wait()

    def wait(self) -> dict[str, str]:
        self.seen += 1
        until(self.page, f"Number(document.getElementById('result').dataset.seq || 0) >= {self.seen}")
        r = self.page.locator("#result")
        return {"state": r.get_attribute("data-state") or "", "offline": r.get_attribute("data-offline") or "",
                "text": r.inner_text()}


def test_door_staff_scan_online_then_offline(live: Live, browser: Any, tmp_path: Path) -> None:
    ev, tks = sell(live, 4)
    other, other_tks = sell(live, 1, "Another Night")
    link = staff_link(live, ev["id"])
    context = browser.new_context()
    context.set_default_timeout(SLOW)
    page = context.new_page()
    problems = watch(page)
    # the staff member opens the login link: its #loginToken= rides to the sign-in form
    page.goto(link.replace("http://testserver", live.base))
    assert page.url.startswith(f"{live.base}/scan/login")
    assert "loginToken" not in page.url  # dropped from the address bar
    assert page.locator("#staff_token").input_value() == unquote(link.split("#loginToken=", 1)[1])
    axe(page, "the scanner's sign-in")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.base}/scan")
    assert page.get_by_role("link", name="Door Night").count() == 1
    assert page.get_by_role("link", name="Another Night").count() == 0  # not this staff member's event
    axe(page, "the scanner's events")
    page.get_by_role("link", name="Door Night").click()
    page.wait_for_url(f"{live.base}/scan/events/{ev['id']}")
    s = Scanner(page)
    s.ready()
    axe(page, "the scanner")

    # step 3: green, amber, red
    r = s.feed(tks[0]["qrCode"])
    assert r["state"] == "ok" and r["offline"] == "no", r
    assert tks[0]["guestFullName"] in r["text"] and "Standing" in r["text"]
    assert checked_in(live, tks[0]["ticketNumber"])
    axe(page, "a green result")
    shot(page, "scan-green", tmp_path)
    r = s.feed(tks[0]["qrCode"])
    assert r["state"] == "already" and "Already checked in" in r["text"] and "by you" in r["text"], r
    shot(page, "scan-amber", tmp_path)
    forged = sign_ticket_code(b"not this instance's secret", live.site, ev["id"], tks[1]["ticketNumber"])
    r = s.feed(forged)
    assert r["state"] == "refused" and "Forged" in r["text"], r
    axe(page, "a red result")
    shot(page, "scan-red", tmp_path)
    r = s.feed(other_tks[0]["qrCode"])
    assert r["state"] == "refused" and "another event" in r["text"], r
    assert not checked_in(live, tks[1]["ticketNumber"]) and not checked_in(live, other_tks[0]["ticketNumber"])

    # step 4: offline, two tickets; they are checked in on the server once back online
    context.set_offline(True)
    page.wait_for_selector("#scanner[data-net=offline]", state="attached")
    for t in tks[1:3]:
        r = s.feed(t["qrCode"])
        assert r["state"] == "ok" and r["offline"] == "yes" and t["guestFullName"] in r["text"], r
    assert page.locator("#queue-status").get_attribute("data-count") == "2"
    shot(page, "scan-offline", tmp_path)
    r = s.feed(tks[1]["qrCode"])  # again, offline: amber, this device
    assert r["state"] == "already" and "this device" in r["text"], r
    r = s.feed(forged)  # offline, a forged code is not in the pack
    assert r["state"] == "refused" and r["offline"] == "yes", r
    assert not checked_in(live, tks[1]["ticketNumber"]) and not checked_in(live, tks[2]["ticketNumber"])
    context.set_offline(False)
    page.wait_for_selector("#queue-status[data-count='0']", state="attached")
    assert checked_in(live, tks[1]["ticketNumber"]) and checked_in(live, tks[2]["ticketNumber"])
    assert page.locator("#sync-log li").count() == 2
    assert not checked_in(live, tks[3]["ticketNumber"])
    assert not problems, problems
    context.close()


def test_owner_scans_undoes_and_sees_a_conflict_from_another_device(live: Live, browser: Any, tmp_path: Path) -> None:
    ev, tks = sell(live, 3, "Conflict Night")
    context = browser.new_context()
    context.set_default_timeout(SLOW)
    page = context.new_page()
    problems = watch(page)
    sign_in(page, live, door="scan")  # the owner's API key
    page.goto(f"{live.base}/scan/events/{ev['id']}")
    s = Scanner(page)
    s.ready()
    # undo the last check-in
    assert s.feed(tks[0]["qrCode"])["state"] == "ok"
    page.get_by_role("button", name="Undo last check-in").click()
    r = s.wait()
    assert "undone" in r["text"], r
    assert not checked_in(live, tks[0]["ticketNumber"])
    # the page and its files come from the service worker when offline
    until(page, "!!navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    context.set_offline(True)
    page.reload()
    s = Scanner(page)
    s.ready()
    assert page.locator("h1").inner_text() == "Conflict Night"
    # offline, this device checks a ticket in; meanwhile another device does it first
    r = s.feed(tks[1]["qrCode"])
    assert r["state"] == "ok" and r["offline"] == "yes", r
    other_key = live.cli("keys", "create", "--site", live.site, "--identity", "app").strip().splitlines()[0]
    ok(httpx.post(f"{live.base}/events/v1/tickets/check-in", headers={"Authorization": other_key, "wix-site-id": live.site},
                  json={"eventId": ev["id"], "ticketNumber": [tks[1]["ticketNumber"]]}))
    context.set_offline(False)
    page.wait_for_selector("#queue-status[data-count='0']", state="attached")
    log = page.locator("#sync-log li").first.inner_text()
    assert re.search(r"already checked in at .* by the organiser on another device", log), log
    # and the panel, which showed this device's offline green, now shows the server's amber
    assert page.locator("#result").get_attribute("data-state") == "already"
    assert "by the organiser" in page.locator("#result").inner_text()
    shot(page, "scan-conflict", tmp_path)
    assert not problems, problems
    context.close()


@pytest.mark.parametrize("width", [360])
def test_scanner_fits_a_phone(live: Live, browser: Any, width: int) -> None:
    ev, _ = sell(live, 1, "Phone Night")
    context = browser.new_context(viewport={"width": width, "height": 740})
    context.set_default_timeout(SLOW)
    page = context.new_page()
    sign_in(page, live, door="scan")
    page.goto(f"{live.base}/scan/events/{ev['id']}")
    Scanner(page).ready()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
