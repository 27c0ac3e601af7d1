"""Attacks on the pages (issue 14), over HTTP on both databases: each test is a way in
that someone tried, and the refusal it must meet. Cross-site (CSRF, open redirects,
framing), XSS in every tenant-supplied text, tenancy (another site's, another event's,
another visitor's), money and status through the page routes, and odd input that must
be a 400 page, never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from boxoffice.identity import IdentityType, Permission, Principal
from boxoffice.pages import sessions
from tests.helpers import checkout as api_checkout
from tests.helpers import create_event, create_td, sales
from tests.helpers import reserve as api_reserve
from tests.pages.test_public_http import buy, csrf, details, page_of, reserve
from tests.pages.test_scanner_http import Door, checked_in, sold

XSS = "<img src=x onerror=alert(1)>\"'&"
RAW = "<img src=x"


def _no_raw(text: str) -> None:
    assert RAW not in text, text[text.find(RAW) - 200: text.find(RAW) + 200]


# --- bad input: 400, never 500 ------------------------------------------------------


@pytest.mark.parametrize("qty", ["\u00b2", "\u2460", "\u00b9\u00b2", "\uff11"])
def test_unicode_digits_as_a_quantity_are_400(api: Any, client: TestClient, qty: str) -> None:
    """'²'.isdigit() is True but int('²') raises: a quantity is ASCII digits only."""
    _, td, base = page_of(api)
    token = csrf(client, base)
    r = reserve(client, base, token, **{f"qty.{td['id']}": qty})
    assert r.status_code == 400, r.text[:500]
    assert sales(api, td["id"])["reservedCount"] == 0


@pytest.mark.parametrize("price", ["1_000", "1e3", "\u0661\u0662", "12.5.1", "0x10", " ", "Infinity", "9" * 25])
def test_odd_guest_prices_are_400_or_taken_as_written(api: Any, client: TestClient, price: str) -> None:
    _, td, base = page_of(api, pricingMethod={"guestPrice": {"value": "10", "currency": "USD"}})
    token = csrf(client, base)
    r = reserve(client, base, token, **{f"qty.{td['id']}": "1", f"price.{td['id']}": price})
    assert r.status_code in (303, 400), r.text[:500]
    if r.status_code == 303:  # only a plain amount at or above the minimum is taken
        assert price.strip() in ("", " ") or re.fullmatch(r"\d+(\.\d+)?", price.strip()), price


def test_odd_path_ids_are_404(api: Any, client: TestClient) -> None:
    ev, _, base = page_of(api)
    for path in (f"{base}/checkout/not-a-uuid", f"{base}/checkout/{'9' * 300}", f"{base}/orders/x%00y",
                 f"{base}/orders/{'A' * 300}", f"/e/{api.site}/{'s' * 500}", f"/e/{'x' * 300}/{ev['slug']}"):
        r = client.get(path)
        assert r.status_code == 404, (path, r.status_code, r.text[:300])
    token = csrf(client, base)
    for path in (f"{base}/checkout/not-a-uuid", f"{base}/checkout/not-a-uuid/cancel", f"{base}/orders/nope/pay-test"):
        r = client.post(path, data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 404, (path, r.status_code, r.text[:300])


def test_oversized_and_odd_checkout_fields_are_400(api: Any, client: TestClient) -> None:
    _, td, base = page_of(api)
    token = csrf(client, base)
    r = reserve(client, base, token, **{f"qty.{td['id']}": "1"})
    checkout = r.headers["location"]
    for fields in ({"g0.firstName": "x" * 6000}, {"g0.firstName": "\x00"},
                   {"g0.email": "a@b.c" * 2000}, {"pay": "x" * 10000}):
        r = client.post(checkout, data=details(token, **fields), follow_redirects=False)
        assert r.status_code == 400, (fields.keys(), r.status_code, r.text[:500])
    many = {f"k{i}": "v" for i in range(3000)}
    r = client.post(checkout, data=details(token, **many), follow_redirects=False)
    assert r.status_code in (303, 400), r.text[:500]


# --- XSS: every tenant-supplied text is text --------------------------------------------


def test_tenant_text_is_escaped_everywhere(app: Any, api: Any, client: TestClient) -> None:
    ev = create_event(api, draft=False, title="T " + XSS)
    td = create_td(api, ev["id"], name="N " + XSS[:20], description="D " + XSS, initialLimit=5)
    pol = api.post("/events-policies/v2/policies", {"policy": {"eventId": ev["id"], "name": "P " + XSS, "body": "B " + XSS}})
    assert pol.status_code == 200, pol.text
    base = f"/e/{api.site}/{ev['slug']}"
    r = client.get(base)
    assert r.status_code == 200 and "&lt;img src=x" in r.text
    _no_raw(r.text)
    token = csrf(client, base)
    r = reserve(client, base, token, **{f"qty.{td['id']}": "1"})
    checkout = r.headers["location"]
    r = client.get(checkout)
    assert r.status_code == 200
    _no_raw(r.text)
    # the buyer's own answers come back into the page on a refusal: still text
    r = client.post(checkout, data=details(token, email="not-an-email" + XSS, **{"g0.firstName": XSS[:40]}))
    assert r.status_code == 400
    _no_raw(r.text)
    r = client.post(checkout, data=details(token, agree="yes", **{"g0.firstName": XSS[:40]}), follow_redirects=False)
    assert r.status_code == 303, r.text[:1000]
    order = client.post(r.headers["location"] + "/pay-test", data={"csrf_token": token}, follow_redirects=True)
    assert order.status_code == 200
    _no_raw(order.text)
    # the scanner's pages, and its JSON (the script puts it in the DOM as text only)
    door = Door(app, key=api.key)
    for path in ("/scan", f"/scan/events/{ev['id']}"):
        r = door.c.get(path)
        assert r.status_code == 200
        _no_raw(r.text)


# --- framing, on every page that is not /embed ------------------------------------------


def test_every_page_but_embed_refuses_framing(app: Any, api: Any, client: TestClient) -> None:
    ev, td, base = page_of(api)
    paths = ["/", "/dashboard/login", "/scan/login", "/dashboard/login/x.y", base, f"{base}/checkout/nope", "/scan"]
    for path in paths:
        r = client.get(path, follow_redirects=False)
        assert r.headers.get("x-frame-options") == "DENY", (path, r.status_code)
        assert "frame-ancestors 'none'" in r.headers.get("content-security-policy", ""), path
    r = client.get(f"{base}/embed")
    assert "x-frame-options" not in r.headers and "frame-ancestors" not in r.headers["content-security-policy"]
    assert 'action="' + base + '/reserve"' not in r.text  # nothing to click-jack in the frame


# --- open redirects -------------------------------------------------------------------


@pytest.mark.parametrize("nxt", ["//evil.example/x", "/\\evil.example", "https://evil.example", "/\t/evil.example",
                                 "/\n/evil.example", "\\/evil.example", "http:/evil.example", " //evil.example"])
def test_next_never_leaves_the_host(app: Any, api: Any, nxt: str) -> None:
    c = TestClient(app, follow_redirects=False)
    token = csrf(c, "/dashboard/login")
    r = c.post("/dashboard/login", data={"csrf_token": token, "key": api.key, "next": nxt})
    assert r.status_code == 303
    loc = r.headers["location"]
    assert loc.startswith("/") and not loc.startswith("//") and "\\" not in loc and "evil.example" not in loc.split("/")[1], loc
    # the sign-in page's form does not carry it either
    page = c.get("/dashboard/login", params={"next": nxt}).text
    assert 'name="next" value="/dashboard"' in page


# --- tenancy --------------------------------------------------------------------------


def test_another_sites_visitor_cookie_and_paths(api: Any, make_api: Any, client: TestClient) -> None:
    _, td, base = page_of(api)
    order_path = buy(client, base, td["id"])
    b = make_api(site="site-b")
    evb, tdb, baseb = page_of(b)
    # the same browser on site B, naming site A's order or reservation: 404
    number = order_path.rsplit("/", 1)[1]
    assert client.get(f"{baseb}/orders/{number}").status_code == 404
    token = csrf(client, baseb)
    r = reserve(client, baseb, token, **{f"qty.{tdb['id']}": "1"})
    res_b = r.headers["location"].rsplit("/", 1)[1]
    assert client.get(f"{base}/checkout/{res_b}").status_code == 404
    # site A's ticket in site B's event form: not on sale there
    before = sales(api, td["id"])["reservedCount"]
    r = reserve(client, baseb, token, **{f"qty.{td['id']}": "1"})
    assert r.status_code == 400 and sales(api, td["id"])["reservedCount"] == before


def test_pay_test_only_for_own_pending_test_order(api: Any, client: TestClient) -> None:
    _, td, base = page_of(api)
    offline = buy(client, base, td["id"], pay="offline")
    token = csrf(client, base)
    r = client.post(f"{offline}/pay-test", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code in (409, 412, 428, 400), r.status_code
    assert "Your tickets are reserved" in client.get(offline).text  # still waiting for payment in person
    with TestClient(client.app) as other:  # another browser may not pay (or see) this order
        t2 = csrf(other, base)
        assert other.post(f"{offline}/pay-test", data={"csrf_token": t2}, follow_redirects=False).status_code == 404


def test_a_read_only_owner_key_cannot_check_in_at_the_door(app: Any, api: Any, make_api: Any) -> None:
    """The API's check-in needs Manage Orders or Manage Events (or a staff member); an
    owner's key narrowed to Read Events may not check tickets in through the scanner."""
    ev, tks = sold(api, 1)
    ro = make_api(identity="wix-user", permissions={Permission.READ_EVENTS})
    assert ro.post("/boxoffice/v1/check-in/scan", {"code": tks[0]["qrCode"]}).status_code == 403
    door = Door(app, key=ro.key)
    assert door.login.status_code == 403 and "Manage Orders" in door.login.text
    assert door.scan(ev["id"], tks[0]["qrCode"]).status_code == 303  # to the sign-in: no session
    assert not checked_in(api, tks[0]["ticketNumber"])
    # a session made before (the rule is read on every request): refused too
    with app.state.db.session(write=True) as s:
        cookie = sessions._open(s, ro.site, Principal(ro.site, IdentityType.WIX_USER, "ro", frozenset({Permission.READ_EVENTS})), None)
    door.c.cookies.set("bo_session", cookie)
    assert door.scan(ev["id"], tks[0]["qrCode"]).status_code == 303
    assert door.c.get(f"/scan/events/{ev['id']}/pack").status_code == 303
    assert not checked_in(api, tks[0]["ticketNumber"])


def test_sync_of_another_sites_code_is_refused(app: Any, api: Any, make_api: Any) -> None:
    ev, tks = sold(api, 1)
    b = make_api(site="site-b")
    evb, tksb = sold(b, 1)
    door = Door(app, key=api.key)
    r = door.post(f"/scan/events/{ev['id']}/sync", {"items": [{"id": "1", "code": tksb[0]["qrCode"]}]})
    assert r.status_code == 200 and r.json()["results"][0]["result"] == "refused"
    assert door.c.get(f"/scan/events/{evb['id']}").status_code == 404
    assert door.c.get(f"/scan/events/{evb['id']}/pack").status_code == 404
    assert door.post(f"/scan/events/{evb['id']}/sync", {"items": [{"id": "1", "code": tksb[0]["qrCode"]}]}).status_code == 404
    assert not checked_in(b, tksb[0]["ticketNumber"])


# --- money and status through the page routes -------------------------------------------


def test_hidden_or_not_yet_on_sale_tickets_cannot_be_reserved(api: Any, client: TestClient) -> None:
    ev, td, base = page_of(api)
    hidden = create_td(api, ev["id"], name="Crew", hidden=True, initialLimit=5)
    later = create_td(api, ev["id"], name="Later", initialLimit=5, salePeriod={"startDate": "2031-01-01T00:00:00Z"})
    token = csrf(client, base)
    for t in (hidden, later):
        r = reserve(client, base, token, **{f"qty.{t['id']}": "1"})
        assert r.status_code == 400, r.text[:300]
        assert sales(api, t["id"])["reservedCount"] == 0


@pytest.mark.parametrize("pay", ["offline", "online"])
def test_a_checked_out_hold_cannot_be_cancelled_from_the_page(api: Any, client: TestClient, pay: str) -> None:
    """Once the buyer checked out, the hold is the order's: "Cancel" on a stale checkout
    page (or a replayed form) must not end the order, paid or waiting to be paid, nor
    give its seats back to be sold again."""
    _, td, base = page_of(api, initialLimit=1)
    token = csrf(client, base)
    r = reserve(client, base, token, **{f"qty.{td['id']}": "1"})
    checkout = r.headers["location"]
    r = client.post(checkout, data=details(token, pay=pay), follow_redirects=False)
    assert r.status_code == 303
    order = r.headers["location"]
    if pay == "online":
        assert client.post(f"{order}/pay-test", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    before = sales(api, td["id"])
    r = client.post(f"{checkout}/cancel", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == order
    assert sales(api, td["id"]) == before and before["soldOut"]
    page = client.get(order).text
    assert ("Your tickets are reserved" if pay == "offline" else "You're going to") in page


def test_api_cancel_of_a_paid_orders_reservation_by_its_buyer(api: Any, make_api: Any) -> None:
    ev, td, _ = page_of(api)
    buyer = make_api(identity="visitor")
    res = api_reserve(buyer, td["id"])
    o = api_checkout(buyer, ev["id"], res["id"])["order"]
    assert api.post(f"/boxoffice/v1/test-payments/{o['orderNumber']}/pay").status_code == 200
    r = buyer.post(f"/events/v1/ticket-reservations/{res['id']}/cancel", {})
    assert r.status_code == 403, r.text  # a paid order is cancelled (and refunded) by its organiser

