"""The public event page and checkout in Chromium (issue 14, proof steps 2 and 5), against
a real `boxoffice serve` (tests/pages/kit.py), with axe-core on every page:

2. a buyer opens the public page, reserves, fills the form, pays with the test provider
   and sees the confirmation with the QR codes (the very codes the owner's API gives);
5. a sold-out definition and an expired hold show their messages, each with a way back.

The refusals themselves are proved over HTTP on both databases (test_public_http.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import segno
from sqlalchemy import update

from boxoffice.reservations.models import TicketReservation
from tests.helpers import event_body
from tests.pages.kit import Live, axe, shot, watch

TD = "/events/v3/ticket-definitions"
POL = "/events-policies/v2/policies"


def _ok(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def shop(live: Live) -> dict[str, Any]:
    """A published event with a schedule-worthy description, a policy, a form with a
    phone number, and two definitions: General (10 seats) and VIP (1 seat)."""
    body = event_body("Harbour Lights Concert", draft=False, shortDescription="An evening of songs by the water.")
    body["event"]["dateAndTimeSettings"]["timeZoneId"] = "Europe/Lisbon"
    body["event"]["location"] = {"type": "VENUE", "name": "Harbour Stage", "address": {"formattedAddress": "Cais do Sodré, Lisbon"}}
    ev = _ok(live.api("POST", "/events/v3/events", body))["event"]
    general = _ok(live.api("POST", TD, {"ticketDefinition": {
        "eventId": ev["id"], "name": "General", "initialLimit": 10, "limited": True, "feeType": "FEE_INCLUDED",
        "pricingMethod": {"fixedPrice": {"value": "25", "currency": "EUR"}}}}))["ticketDefinition"]
    vip = _ok(live.api("POST", TD, {"ticketDefinition": {
        "eventId": ev["id"], "name": "VIP", "initialLimit": 1, "limited": True, "feeType": "FEE_INCLUDED",
        "pricingMethod": {"fixedPrice": {"value": "90", "currency": "EUR"}}}}))["ticketDefinition"]
    _ok(live.api("POST", POL, {"policy": {"eventId": ev["id"], "name": "Refunds", "body": "Refunds up to a week before."}}))
    _ok(live.api("POST", f"/events/v1/events/{ev['id']}/form/control",
                 {"eventId": ev["id"], "phone": {"label": "Phone", "mandatory": False}}))
    return {"event": ev, "general": general, "vip": vip, "url": f"{live.base}/e/{live.site}/{ev['slug']}"}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    p = context.new_page()
    yield p
    context.close()


def _reserve_as_owner(live: Live, td_id: str, quantity: int = 1) -> dict[str, Any]:
    line = {"ticketDefinitionId": td_id, "quantity": quantity}
    return _ok(live.api("POST", "/events/v1/ticket-reservations", {"ticketReservation": {"tickets": [line]}}))["ticketReservation"]


def test_a_buyer_reserves_fills_the_form_pays_and_sees_the_qr(live: Live, shop: dict[str, Any], page: Any,
                                                              browser: Any, tmp_path: Path) -> None:
    problems = watch(page)
    page.goto(shop["url"])
    assert page.get_by_role("heading", level=1).inner_text() == "Harbour Lights Concert"
    assert shop["event"]["dateAndTimeSettings"]["formatted"]["dateAndTime"] in page.inner_text("main")
    general = page.locator(f'[data-live-td="{shop["general"]["id"]}"][data-unsold]')
    general.get_by_text(re.compile(r"Only \d+ tickets left")).wait_for()  # the live count arrived over SSE
    before = int(general.get_attribute("data-unsold"))
    axe(page, "the event page")
    shot(page, "public-event", tmp_path)

    # another buyer watches the same page: the count moves without a reload
    other = browser.new_page()
    other.goto(shop["url"])
    other.locator(f'[data-live-td="{shop["general"]["id"]}"][data-unsold="{before}"]').wait_for()

    page.get_by_label("Quantity of General").fill("2")
    page.get_by_role("button", name="Reserve tickets").click()
    page.wait_for_url(re.compile(r"/checkout/"))
    other.locator(f'[data-live-td="{shop["general"]["id"]}"]').get_by_text(f"Only {before - 2} tickets left").wait_for()
    other.close()

    # the hold's countdown runs
    left = page.locator(".countdown-left")
    left.filter(has_text=re.compile(r"^\d+:\d\d$")).wait_for()
    assert "50.00 EUR" in page.locator("table").inner_text()

    # the form is checked as the API's Checkout checks it; the refusal is next to the field
    page.get_by_label("First Name").fill("Rosa")
    page.get_by_label("Last Name").fill("Marques")
    page.get_by_label("Email").fill("rosa-at-example")
    page.get_by_label("Pay now online (test payment)").check()
    page.get_by_role("button", name="Continue").click()
    page.locator("#f-0-email-err").get_by_text("is not an e-mail address").wait_for()
    page.locator("#agree-err").wait_for()
    assert page.get_by_label("First Name").input_value() == "Rosa"  # the answers are kept
    axe(page, "the checkout form with its refusals")
    shot(page, "public-checkout", tmp_path)
    page.get_by_label("Email").fill("rosa@example.com")
    page.get_by_label("I agree to the event's policies").check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("button", name="Pay (test)").wait_for()
    axe(page, "the payment page")
    page.get_by_role("button", name="Pay (test)").click()
    page.get_by_role("heading", name=re.compile("You're going")).wait_for()
    qrs = page.locator("img.qr")
    assert qrs.count() == 2
    axe(page, "the confirmation")
    shot(page, "public-confirmation", tmp_path)

    # the QR codes drawn are the tickets' own codes (what the owner's Get Order gives)
    number = page.url.rsplit("/", 1)[1]
    order = _ok(live.api("GET", f"/events/v1/events/{shop['event']['id']}/orders/{number}"))["order"]
    assert order["status"] == "PAID" and order["firstName"] == "Rosa"
    want = {segno.make(t["qrCode"], error="m").svg_data_uri(scale=4, border=2) for t in order["tickets"]}
    assert {qrs.nth(i).get_attribute("src") for i in range(2)} == want
    assert page.get_by_role("link", name=re.compile(r"Ticket .* \(PDF\)")).count() == 2

    # the confirmation is the buyer's: another browser gets 404
    stranger = browser.new_context()
    r = stranger.new_page().goto(page.url)
    assert r is not None and r.status == 404
    stranger.close()
    assert not [p for p in problems if "status of 400" not in p], problems  # the refused form is a 400 page


def test_sold_out_shows_its_message_and_a_way_back(live: Live, shop: dict[str, Any], page: Any, browser: Any,
                                                  tmp_path: Path) -> None:
    problems = watch(page)
    page.goto(shop["url"])
    vip = page.locator(f'[data-live-td="{shop["vip"]["id"]}"]')
    vip.get_by_text("Only 1 ticket left").wait_for()
    # a second buyer whose page hears no live counts (the stream blocked) picks the last VIP seat
    late = browser.new_context()
    late.route("**/boxoffice/v1/live/**", lambda route: route.abort())
    slow = late.new_page()
    slow_problems = watch(slow)
    slow.goto(shop["url"])
    slow.get_by_label("Quantity of VIP").fill("1")

    _reserve_as_owner(live, shop["vip"]["id"])  # someone else takes the last VIP seat meanwhile...
    vip.get_by_text("Sold out").wait_for()  # ...which the first page hears at once
    assert page.get_by_label("Quantity of VIP").is_disabled()
    shot(page, "public-sold-out", tmp_path)
    axe(page, "the event page with a sold-out ticket")
    assert not problems, problems

    # the second buyer is told, and led back
    slow.get_by_role("button", name="Reserve tickets").click()
    slow.get_by_role("heading", name="Sold out").wait_for()
    assert 'Not enough "VIP" tickets left' in slow.get_by_role("alert").inner_text()
    axe(slow, "the sold-out page")
    slow.get_by_role("link", name="Back to the event").click()
    slow.wait_for_url(shop["url"])
    assert slow.get_by_label("Quantity of VIP").is_disabled()
    assert not [p for p in slow_problems if "status of 428" not in p and "ERR_FAILED" not in p], slow_problems
    late.close()


def test_an_expired_hold_shows_its_message_and_a_way_back(live: Live, shop: dict[str, Any], page: Any) -> None:
    problems = watch(page)
    page.goto(shop["url"])
    page.get_by_label("Quantity of General").fill("1")
    page.get_by_role("button", name="Reserve tickets").click()
    page.wait_for_url(re.compile(r"/checkout/"))
    reservation = page.url.rsplit("/", 1)[1]
    # time passes: the hold now ends two seconds from now
    db = live.db()
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    with db.session(write=True) as s:
        s.execute(update(TicketReservation).where(TicketReservation.id == reservation).values(expiration_date=soon))
    db.dispose()
    page.reload()
    # the countdown reaches zero in the page: the message, a way back, nothing to submit
    page.get_by_text("Your hold has expired and the tickets went back on sale.").wait_for()
    assert page.get_by_role("button", name="Continue").is_disabled()
    axe(page, "the checkout after its hold expired")
    # and the server says so too
    page.reload()
    page.get_by_role("heading", name="Your hold has expired").wait_for()
    axe(page, "the expired-hold page")
    page.get_by_role("link", name="Back to the event").click()
    page.wait_for_url(shop["url"])
    assert not [p for p in problems if "410" not in p], problems


def test_the_embed_counts_live_and_buys_in_a_new_tab(live: Live, shop: dict[str, Any], page: Any) -> None:
    problems = watch(page)
    page.goto(shop["url"] + "/embed")
    page.locator(f'[data-live-td="{shop["general"]["id"]}"] .badge').wait_for()
    buy = page.get_by_role("link", name=re.compile("Buy tickets"))
    assert buy.get_attribute("target") == "_blank"
    axe(page, "the embeddable event page")
    with page.context.expect_page() as opened:
        buy.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == shop["url"]
    tab.close()
    assert not problems, problems


def test_the_event_page_fits_a_phone(live: Live, shop: dict[str, Any], browser: Any) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    p = context.new_page()
    p.goto(shop["url"])
    width = p.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    axe(p, "the event page on a phone")
    context.close()
