"""The public event page and checkout (pages/public.py) over HTTP, on SQLite and
PostgreSQL: each refusal (a draft or unknown event, another visitor's reservation or
order, CSRF, bad quantities, a price below the guest price, the form and the policies),
sold out and an expired hold as pages, the QR codes only on the buyer's own paid order,
the embeddable page, and Stripe's Payment Element page (against localstripe)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from boxoffice.app import create_app
from boxoffice.config import Settings
from tests.conftest import wipe
from tests.helpers import create_event, create_td, expire_now, iso, sales
from tests.test_stripe import localstripe  # noqa: F401  (the fixture)

POL = "/events-policies/v2/policies"
SCHEDULE = "/events/v1/schedule"


def csrf(c: TestClient, path: str) -> str:
    r = c.get(path)
    assert r.status_code == 200, r.text[:500]
    m = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    assert m, r.text[:500]
    return m.group(1)


def page_of(api: Any, **td: Any) -> tuple[dict, dict, str]:
    ev = create_event(api, draft=False)
    body = {"name": "Seat", "initialLimit": 5, "pricingMethod": {"fixedPrice": {"value": "40", "currency": "USD"}}, **td}
    d = create_td(api, ev["id"], **body)
    return ev, d, f"/e/{api.site}/{ev['slug']}"


def reserve(c: TestClient, base: str, token: str, **fields: str) -> Any:
    return c.post(f"{base}/reserve", data={"csrf_token": token, **fields}, follow_redirects=False)


def details(token: str, email: str = "ann@example.com", pay: str = "online", **more: str) -> dict[str, str]:
    return {"csrf_token": token, "g0.firstName": "Ann", "g0.lastName": "Lee", "g0.email": email, "pay": pay, **more}


def buy(c: TestClient, base: str, td_id: str, pay: str = "online", quantity: int = 1) -> str:
    """Reserve and check out through the pages; the order page's path."""
    token = csrf(c, base)
    r = reserve(c, base, token, **{f"qty.{td_id}": str(quantity)})
    assert r.status_code == 303, r.text[:500]
    r = c.post(r.headers["location"], data=details(token, pay=pay), follow_redirects=False)
    assert r.status_code == 303, r.text[:2000]
    return str(r.headers["location"])


def test_event_page_shows_the_published_event_and_its_tickets(api: Any, client: TestClient) -> None:
    ev, td, base = page_of(api, description="Front row")
    create_td(api, ev["id"], name="Hidden", hidden=True)
    start = dt.datetime(2031, 5, 4, 17, 30, tzinfo=dt.UTC)
    later = create_td(api, ev["id"], name="Late release", salePeriod={"startDate": iso(start), "displayNotOnSale": True})
    item = {"name": "Doors open", "timeSlot": {"start": iso(start), "end": iso(start + dt.timedelta(hours=1)), "timeZoneId": "Europe/Vilnius"}}
    assert api.post(SCHEDULE + "/draft", {"eventId": ev["id"], "item": item}).status_code == 200
    assert api.post(SCHEDULE + "/publish", {"eventId": ev["id"]}).status_code == 200
    r = client.get(base)
    assert r.status_code == 200
    # not yet on sale, with its start in the event's time zone (UTC here); the schedule in its own
    assert "Not on sale yet" in r.text and "On sale from May 4, 2031 at 5:30 PM GMT" in r.text
    assert f'name="qty.{later["id"]}"' not in r.text
    assert "Doors open" in r.text and "May 4, 2031 at 8:30 PM GMT+3" in r.text
    assert ev["title"] in r.text and "Front row" in r.text and "40.00 USD" in r.text
    assert ev["dateAndTimeSettings"]["formatted"]["dateAndTime"] in r.text  # in the event's time zone
    assert f'name="qty.{td["id"]}"' in r.text and "Hidden" not in r.text  # a hidden definition is not listed
    assert f'data-live-td="{td["id"]}"' in r.text  # kept live over the public stream
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "js.stripe.com" not in r.headers["content-security-policy"]


def test_a_draft_or_unknown_event_is_404(api: Any, client: TestClient) -> None:
    draft = create_event(api, draft=True)
    assert client.get(f"/e/{api.site}/{draft['slug']}").status_code == 404
    assert client.get(f"/e/{api.site}/no-such-event").status_code == 404
    ev, _, _ = page_of(api)
    assert client.get(f"/e/other-site/{ev['slug']}").status_code == 404  # another site's
    r = client.get(f"/e/{api.site}/{draft['slug']}/embed")
    assert r.status_code == 404 and "Not found" in r.text and "Traceback" not in r.text


def test_reserving_needs_this_browsers_csrf_token(api: Any, client: TestClient) -> None:
    _, td, base = page_of(api)
    token = csrf(client, base)
    qty = {f"qty.{td['id']}": "1"}
    assert client.post(f"{base}/reserve", data=qty).status_code == 403
    assert reserve(client, base, "x" * 40, **qty).status_code == 403
    r = client.post(f"{base}/reserve", data={"csrf_token": token, **qty}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    with TestClient(client.app) as other:  # another browser's token is not this one's
        csrf(other, base)
        assert reserve(other, base, token, **qty).status_code == 403
    assert sales(api, td["id"])["reservedCount"] == 0


@pytest.mark.parametrize("fields", [
    {"qty.{td}": "abc"}, {"qty.{td}": "-1"}, {"qty.{td}": "51"}, {"qty.{td}": "1.5"}, {"qty.{td}": "0"}, {},
    {"qty.nope": "1"}, {"qty.{td}.opt": "1"},
])
def test_bad_quantities_are_400(api: Any, client: TestClient, fields: dict[str, str]) -> None:
    _, td, base = page_of(api)
    token = csrf(client, base)
    r = reserve(client, base, token, **{k.format(td=td["id"]): v for k, v in fields.items()})
    assert r.status_code == 400, r.text[:500]
    assert "Please check" in r.text and "Traceback" not in r.text
    assert sales(api, td["id"])["reservedCount"] == 0


def test_guest_price_at_least_its_minimum(api: Any, client: TestClient) -> None:
    _, td, base = page_of(api, pricingMethod={"guestPrice": {"value": "10", "currency": "USD"}})
    token = csrf(client, base)
    r = reserve(client, base, token, **{f"qty.{td['id']}": "1", f"price.{td['id']}": "9.99"})
    assert r.status_code == 400 and "below the minimum" in r.text
    r = reserve(client, base, token, **{f"qty.{td['id']}": "1", f"price.{td['id']}": "lots"})
    assert r.status_code == 400
    assert sales(api, td["id"])["reservedCount"] == 0
    r = reserve(client, base, token, **{f"qty.{td['id']}": "1", f"price.{td['id']}": "25"})
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "25.00 USD" in page.text


def test_price_options_reserve_the_option_picked(api: Any, client: TestClient) -> None:
    options = {"pricingOptions": {"optionDetails": [{"name": "Adult", "price": {"value": "30", "currency": "USD"}},
                                                    {"name": "Child", "price": {"value": "12", "currency": "USD"}}]}}
    _, td, base = page_of(api, pricingMethod=options)
    child = next(o for o in td["pricingMethod"]["pricingOptions"]["optionDetails"] if o["name"] == "Child")
    token = csrf(client, base)
    r = reserve(client, base, token, **{f"qty.{td['id']}.{child['optionId']}": "2"})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "24.00 USD" in page  # 2 x 12


def test_the_form_is_checked_as_checkout_checks_it(api: Any, client: TestClient) -> None:
    ev, td, base = page_of(api)
    api.post(f"/events/v1/events/{ev['id']}/form/control", {"eventId": ev["id"], "phone": {"label": "Phone", "mandatory": True}})
    token = csrf(client, base)
    checkout = reserve(client, base, token, **{f"qty.{td['id']}": "1"}).headers["location"]
    r = client.post(checkout, data=details(token, email="not-an-address"), follow_redirects=False)
    assert r.status_code == 400
    # each refusal next to its field, the answers kept
    assert re.search(r'id="f-0-email-err">is not an e-mail address', r.text)
    assert re.search(r'class="field-error" id="f-0-phone-[0-9a-f]+-err">is required', r.text)
    assert 'value="Ann"' in r.text and 'value="not-an-address"' in r.text
    assert client.get(checkout).status_code == 200  # nothing was sold: the hold is still there
    # an answer beyond any input's bound is a 400 too, never a 500
    r = client.post(checkout, data=details(token, **{"g0.firstName": "x" * 6000}), follow_redirects=False)
    assert r.status_code == 400 and "guests[0].form.inputValues.firstName" not in r.text
    assert re.search(r'id="f-0-firstName-err">String should have at most 5000 characters', r.text)


def test_policies_must_be_agreed_to(api: Any, client: TestClient) -> None:
    ev, td, base = page_of(api)
    assert api.post(POL, {"policy": {"eventId": ev["id"], "name": "Refunds", "body": "No refunds."}}).status_code == 200
    token = csrf(client, base)
    assert "No refunds." in client.get(base).text
    checkout = reserve(client, base, token, **{f"qty.{td['id']}": "1"}).headers["location"]
    r = client.post(checkout, data=details(token), follow_redirects=False)
    assert r.status_code == 400 and 'id="agree-err"' in r.text
    r = client.post(checkout, data=details(token, agree="yes"), follow_redirects=False)
    assert r.status_code == 303
    number = r.headers["location"].rsplit("/", 1)[1]
    got = api.get(f"/boxoffice/v1/events/{ev['id']}/orders/{number}/policy-agreement").json()
    assert got["via"] == "CHECKOUT_PAGE" and [p["name"] for p in got["policies"]] == ["Refunds"]


def test_test_payment_and_confirmation_with_qr(api: Any, client: TestClient) -> None:
    ev, td, base = page_of(api)
    order = buy(client, base, td["id"], quantity=2)
    page = client.get(order).text
    assert "Pay (test)" in page and 'class="qr"' not in page
    token = csrf(client, order)
    r = client.post(f"{order}/pay-test", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(order).text
    assert page.count('class="qr"') == 2 and "data:image/svg+xml" in page and ".pdf?sig=" in page
    number = order.rsplit("/", 1)[1]
    assert api.get(f"/events/v1/events/{ev['id']}/orders/{number}").json()["order"]["status"] == "PAID"
    assert sales(api, td["id"])["soldCount"] == 2
    # paying twice does nothing more: the order is no longer awaiting a payment
    assert client.post(f"{order}/pay-test", data={"csrf_token": token}).status_code == 428


def test_pay_in_person_waits_without_qr(api: Any, client: TestClient) -> None:
    _, td, base = page_of(api)
    order = buy(client, base, td["id"], pay="offline")
    page = client.get(order).text
    assert "pay 40.00 USD in person" in page and 'class="qr"' not in page and "Pay (test)" not in page


def test_another_visitors_checkout_and_order_are_404(api: Any, client: TestClient) -> None:
    _, td, base = page_of(api)
    token = csrf(client, base)
    checkout = reserve(client, base, token, **{f"qty.{td['id']}": "1"}).headers["location"]
    order = buy(client, base, td["id"])
    with TestClient(client.app) as other:
        other_token = csrf(other, base)
        assert other.get(checkout).status_code == 404
        assert other.post(checkout, data=details(other_token)).status_code == 404
        assert other.post(f"{checkout}/cancel", data={"csrf_token": other_token}).status_code == 404
        assert other.get(order).status_code == 404
        assert other.post(f"{order}/pay-test", data={"csrf_token": other_token}).status_code == 404
    assert client.get(order).status_code == 200
    assert client.get(f"{base}/orders/9999-9999").status_code == 404


def test_sold_out_is_shown_and_refused_with_a_way_back(api: Any, client: TestClient) -> None:
    ev, td, base = page_of(api, initialLimit=1)
    create_td(api, ev["id"], name="Standing", initialLimit=50)
    token = csrf(client, base)
    r = reserve(client, base, token, **{f"qty.{td['id']}": "2"})
    assert r.status_code == 428 and "Sold out" in r.text and f'href="{base}"' in r.text
    assert reserve(client, base, token, **{f"qty.{td['id']}": "1"}).status_code == 303
    page = client.get(base).text
    assert 'class="badge sold-out">Sold out' in page
    assert re.search(rf'id="qty-{td["id"]}"[^>]*disabled', page)  # the other one is still on sale
    assert reserve(client, base, token, **{f"qty.{td['id']}": "1"}).status_code == 428


def test_an_expired_hold_has_its_message_and_a_way_back(api: Any, client: TestClient, database: Any) -> None:
    _, td, base = page_of(api)
    token = csrf(client, base)
    checkout = reserve(client, base, token, **{f"qty.{td['id']}": "1"}).headers["location"]
    expire_now(database, checkout.rsplit("/", 1)[1])
    r = client.get(checkout)
    assert r.status_code == 410 and "Your hold has expired" in r.text and f'href="{base}"' in r.text
    assert client.post(checkout, data=details(token), follow_redirects=False).status_code == 410
    # an order awaiting its online payment whose hold ends: paying it is refused as expired
    order = buy(client, base, td["id"])
    number = order.rsplit("/", 1)[1]
    with database.session() as s:
        from sqlalchemy import select

        from boxoffice.orders.models import Order
        rid = s.scalars(select(Order.reservation_id).where(Order.order_number == number)).one()
    expire_now(database, rid)
    r = client.post(f"{order}/pay-test", data={"csrf_token": token})
    assert r.status_code == 410 and "Your hold has expired" in r.text
    assert "Back to the event" in client.get(order).text


def test_cancel_lets_the_seats_go(api: Any, client: TestClient) -> None:
    _, td, base = page_of(api)
    token = csrf(client, base)
    checkout = reserve(client, base, token, **{f"qty.{td['id']}": "3"}).headers["location"]
    assert sales(api, td["id"])["reservedCount"] == 3
    r = client.post(f"{checkout}/cancel", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == base
    assert sales(api, td["id"])["reservedCount"] == 0


def test_embed_is_frameable_and_buys_in_a_new_tab(api: Any, client: TestClient) -> None:
    _, td, base = page_of(api)
    r = client.get(f"{base}/embed")
    assert r.status_code == 200
    assert "frame-ancestors" not in r.headers["content-security-policy"] and "x-frame-options" not in r.headers
    assert f'href="{base}" target="_blank"' in r.text and "<header class=\"top\"" not in r.text
    assert f'data-live-td="{td["id"]}"' in r.text and 'name="qty.' not in r.text


@pytest.fixture
def stripe_app(database: Any, localstripe: str) -> Any:  # noqa: F811
    wipe(database)
    settings = Settings(
        database_url=str(database.engine.url), background=False, test_payments=True,
        stripe_secret_key="sk_test_boxoffice", stripe_webhook_secret="whsec_x", stripe_api_base=localstripe,
        stripe_publishable_key="pk_test_boxoffice",
    )
    return create_app(settings, db=database)


def test_stripe_payment_element_page(stripe_app: Any, database: Any) -> None:
    from boxoffice.auth import create_api_key
    from boxoffice.identity import IdentityType
    from tests.conftest import Api

    with TestClient(stripe_app) as c:
        with database.session(write=True) as s:
            key = create_api_key(s, "site-s", IdentityType.APP)
        api = Api(c, key, "site-s")
        _, td, base = page_of(api)
        token = csrf(c, base)
        checkout = reserve(c, base, token, **{f"qty.{td['id']}": "1"}).headers["location"]
        assert "Pay now by card" in c.get(checkout).text
        r = c.post(checkout, data=details(token), follow_redirects=False)
        assert r.status_code == 200, r.text[:2000]
        csp = r.headers["content-security-policy"]
        assert "script-src 'self' https://js.stripe.com" in csp and "frame-ancestors 'none'" in csp
        assert re.search(r'data-client-secret="pi_[^"]+_secret_[^"]+"', r.text)
        assert 'data-stripe-key="pk_test_boxoffice"' in r.text and 'src="https://js.stripe.com/v3/"' in r.text
        order = re.search(r'href="(/e/[^"]+/orders/[^"]+)"', r.text)
        assert order
        page = c.get(order.group(1))
        assert "Waiting for your payment" in page.text and "Pay (test)" not in page.text
        assert "js.stripe.com" not in page.headers["content-security-policy"]
        # the test provider's button is no way around Stripe
        assert c.post(f"{order.group(1)}/pay-test", data={"csrf_token": token}).status_code == 404


def test_free_tickets_register_without_paying(api: Any, client: TestClient) -> None:
    _, td, base = page_of(api, pricingMethod={"fixedPrice": {"value": "0", "currency": "USD"}})
    token = csrf(client, base)
    assert "Free" in client.get(base).text
    checkout = reserve(client, base, token, **{f"qty.{td['id']}": "1"}).headers["location"]
    page = client.get(checkout).text
    assert 'name="pay"' not in page and ">Register</button>" in page
    data = details(token)
    del data["pay"]
    r = client.post(checkout, data=data, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "You're going" in page and page.count('class="qr"') == 1


def test_each_guest_fills_the_form_when_guests_are_assigned_separately(api: Any, client: TestClient) -> None:
    ev = create_event(api, draft=False, registration={"initialType": "TICKETING", "tickets": {"guestsAssignedSeparately": True}})
    td = create_td(api, ev["id"], name="Seat", initialLimit=5)
    base = f"/e/{api.site}/{ev['slug']}"
    token = csrf(client, base)
    checkout = reserve(client, base, token, **{f"qty.{td['id']}": "2"}).headers["location"]
    page = client.get(checkout).text
    assert "Guest 1 of 2" in page and "Guest 2 of 2" in page and 'name="g1.email"' in page
    r = client.post(checkout, data=details(token, pay="offline"), follow_redirects=False)
    assert r.status_code == 400 and re.search(r'id="f-1-email-err">is required', r.text)  # the second guest's
    guest2 = {"g1.firstName": "Bo", "g1.lastName": "Ek", "g1.email": "bo@example.com"}
    r = client.post(checkout, data=details(token, pay="offline", **guest2), follow_redirects=False)
    assert r.status_code == 303
    number = r.headers["location"].rsplit("/", 1)[1]
    tickets = api.get(f"/events/v1/events/{ev['id']}/orders/{number}").json()["order"]["tickets"]
    assert [t["guestFullName"] for t in tickets] == ["Ann Lee", "Bo Ek"]
