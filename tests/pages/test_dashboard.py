"""The organiser dashboard in Chromium (issue 14, proof step 1): an organiser signs in,
creates an event with two ticket definitions, reorders them by keyboard and by drag,
publishes it, and watches a sale arrive live; axe-core on every dashboard page. Plus the
refusals over HTTP against the same server (test_dashboard_actions.py has each action
and refusal on both databases)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.helpers import guest_form
from tests.pages.kit import Live, axe, shot, sign_in, watch

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _definitions(live: Live, event_id: str) -> list[dict[str, Any]]:
    r = live.api("POST", "/events-ticket-definitions/v3/ticket-definitions/query",
                 {"query": {"filter": {"eventId": event_id}, "sort": [{"fieldName": "sortIndex", "order": "ASC"}]}})
    assert r.status_code == 200, r.text
    return r.json()["ticketDefinitions"]


def _add_ticket(page: Any, name: str, price: str, limit: str) -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("How many (empty: no limit)").fill(limit)
    page.get_by_label("Fixed price").check()
    page.get_by_label("Amount (fixed or minimum)").fill(price)
    page.get_by_role("button", name="Add ticket").click()
    page.wait_for_load_state()


def test_organiser_creates_and_publishes_an_event(live: Live, browser: Any, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.on("dialog", lambda d: d.accept())
    problems = watch(page)
    sign_in(page, live)
    assert page.url.endswith("/dashboard")
    axe(page, "the events list")
    shot(page, "dashboard-events-empty", tmp_path)

    # a draft: title, dates in its time zone, location, description, registration
    page.get_by_role("link", name="New event").click()
    axe(page, "the new event form")
    page.get_by_label("Title").fill("Harbour Jazz Night")
    page.get_by_label("Starts").fill("2031-06-12T20:00")
    page.get_by_label("Ends").fill("2031-06-12T23:30")
    page.get_by_label("Time zone").fill("Europe/Lisbon")
    page.get_by_label("Location name").fill("Pier 4")
    page.get_by_label("Address").fill("Cais do Sodré, Lisboa")
    page.get_by_label("Short description").fill("Three bands by the water.")
    page.get_by_label("Tickets", exact=True).check()
    page.get_by_role("button", name="Create draft").click()
    page.wait_for_load_state()
    m = re.search(r"/dashboard/events/([0-9a-f-]{36})", page.url)
    assert m, page.url
    event_id = m.group(1)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Harbour Jazz Night")
    assert "DRAFT" in page.locator("h1 .badge").inner_text()
    axe(page, "the event page")

    # two ticket definitions
    page.get_by_role("link", name="Tickets", exact=True).click()
    _add_ticket(page, "Standing", "25", "200")
    _add_ticket(page, "Balcony", "60", "40")
    names = [d["name"] for d in _definitions(live, event_id)]
    assert names == ["Standing", "Balcony"]
    axe(page, "the ticket definitions")

    # reorder by keyboard: focus "Move up Balcony" and press Enter (focus stays on the ticket)
    balcony = _definitions(live, event_id)[1]["id"]
    page.locator(f"#up-{balcony}").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#definitions li.definition").first).to_have_attribute("data-id", balcony)
    expect(page.locator(f"#up-{balcony}")).to_be_disabled()
    expect(page.locator(f"#down-{balcony}")).to_be_focused()  # it reached the top: focus on its twin
    assert [d["name"] for d in _definitions(live, event_id)] == ["Balcony", "Standing"]
    # and back by drag and drop: Balcony dropped on the lower half of Standing
    standing = _definitions(live, event_id)[1]["id"]
    target = page.locator(f'li.definition[data-id="{standing}"]')
    box = target.bounding_box()
    page.locator(f'li.definition[data-id="{balcony}"]').drag_to(
        target, target_position={"x": box["width"] / 2, "y": box["height"] - 5})
    expect(page.locator("#definitions li.definition").first).to_have_attribute("data-id", standing)
    assert [d["name"] for d in _definitions(live, event_id)] == ["Standing", "Balcony"]
    shot(page, "dashboard-event-tickets", tmp_path)

    # publish
    page.get_by_role("button", name="Publish").click()
    page.wait_for_load_state()
    assert "UPCOMING" in page.locator("h1 .badge").inner_text()
    r = live.api("GET", f"/events/v3/events/{event_id}")
    assert r.json()["event"]["status"] == "UPCOMING"

    # sales, live: a sale made elsewhere shows up without reloading
    page.get_by_role("link", name="Sales", exact=True).click()
    expect(page.locator("#sales-live")).to_have_attribute("data-updates", "2")  # each stream's first count
    axe(page, "the sales view")
    res = live.api("POST", "/events/v1/ticket-reservations",
                   {"ticketReservation": {"tickets": [{"ticketDefinitionId": standing, "quantity": 3}]}})
    assert res.status_code == 200, res.text
    row = page.locator(f'tr[data-td="{standing}"]')
    row.locator("[data-reserved]").filter(has_text="3").wait_for()
    got = live.api("POST", "/events/v1/checkout", {"eventId": event_id, "reservationId": res.json()["ticketReservation"]["id"],
                                                   "guests": [guest_form()], "options": {"payInPerson": True}})
    assert got.status_code == 200, got.text
    # the stream carries the unsold count: a reservation becoming an order leaves it as it
    # is, so the table catches up with the next change (here one more seat held)
    more = live.api("POST", "/events/v1/ticket-reservations",
                    {"ticketReservation": {"tickets": [{"ticketDefinitionId": standing, "quantity": 1}]}})
    assert more.status_code == 200, more.text
    row.locator("[data-unsold]").filter(has_text="196").wait_for()
    assert row.locator("[data-sold]").inner_text() == "3" and row.locator("[data-reserved]").inner_text() == "1"
    shot(page, "dashboard-sales", tmp_path)

    # the orders (confirm the payment taken at the door), the guests, the setup
    page.get_by_role("link", name="Orders", exact=True).click()
    axe(page, "the orders")
    number = got.json()["order"]["orderNumber"]
    page.get_by_role("button", name=f"Confirm payment of {number}").click()
    page.wait_for_load_state()
    assert "PAID" in page.locator("td .badge").first.inner_text()
    page.get_by_role("link", name="Guests", exact=True).click()
    axe(page, "the guests")
    page.get_by_role("link", name="Setup", exact=True).click()
    axe(page, "the setup")
    page.set_viewport_size({"width": 360, "height": 800})  # a phone: nothing needs sideways scrolling but tables
    page.get_by_role("link", name="Details", exact=True).click()
    axe(page, "the event page on a phone")
    assert page.evaluate("document.documentElement.scrollWidth <= 360 + 1")
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(f"{live.base}/dashboard")
    shot(page, "dashboard-events", tmp_path)
    assert not problems, problems
    page.close()


def test_webhooks_page_in_the_browser(live: Live, browser: Any, tmp_path: Path) -> None:
    """Webhooks are the site owner's (a wix-user: the login link's session)."""
    page = browser.new_page()
    problems = watch(page)
    link = live.cli("dashboard-link", "--site", live.site).strip()
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    page.goto(f"{live.base}/dashboard/webhooks")
    assert page.get_by_role("heading", name="Webhooks").is_visible()
    axe(page, "the webhooks page")
    assert not problems, problems
    page.close()


def _signed_in(live: Live, client: httpx.Client) -> str:
    token = TOKEN.search(client.get("/dashboard/login").text).group(1)  # type: ignore[union-attr]
    assert client.post("/dashboard/login", data={"csrf_token": token, "key": live.key}).status_code == 303
    return token


def test_refusals_over_http(live: Live) -> None:
    other = live.cli("keys", "create", "--site", "another-site", "--identity", "app").strip().splitlines()[0]
    start = "2031-01-01T10:00:00Z"
    theirs = httpx.post(f"{live.base}/events/v3/events", headers={"Authorization": other, "wix-site-id": "another-site"},
                        json={"event": {"title": "Theirs", "location": {"type": "VENUE"},
                                        "dateAndTimeSettings": {"startDate": start, "endDate": "2031-01-01T12:00:00Z"},
                                        "registration": {"initialType": "TICKETING"}}, "draft": True}).json()["event"]
    form = {"title": "X", "start": "2031-01-01T10:00", "end": "2031-01-01T12:00", "time_zone": "UTC"}
    count = lambda: live.api("POST", "/events/v3/events/query", {"query": {}, "includeDrafts": True}).json()["pagingMetadata"]["total"]  # noqa: E731
    before = count()
    with httpx.Client(base_url=live.base) as anon:
        r = anon.get("/dashboard/events/new")
        assert r.status_code == 303 and r.headers["location"] == "/dashboard/login?next=/dashboard/events/new"
        assert anon.post("/dashboard/events", data=form).status_code in (303, 403)
    with httpx.Client(base_url=live.base) as c:
        token = _signed_in(live, c)
        r = c.get(f"/dashboard/events/{theirs['id']}")
        assert r.status_code == 404 and "Not found" in r.text and "text/html" in r.headers["content-type"]
        assert c.post(f"/dashboard/events/{theirs['id']}/cancel", data={"csrf_token": token}).status_code == 404
        assert c.post("/dashboard/events", data=form).status_code == 403  # no CSRF token
        r = c.post("/dashboard/events", data={**form, "csrf_token": token, "end": "2030-01-01T10:00"})
        assert r.status_code == 400 and "endDate" in r.text
        r = c.post("/dashboard/events", data={**form, "csrf_token": token, "title": "y" * 500})
        assert r.status_code == 400 and "title" in r.text
    assert count() == before
