"""The dashboard's actions over HTTP, in-process, on SQLite and on PostgreSQL: each
writes what the API's method writes (checked through the API), and each refusal is a
page with the API's status that writes nothing."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from boxoffice.db import Database
from boxoffice.identity import Permission
from boxoffice.mail.models import MailMessage, MailStatus
from tests.helpers import CHECKOUT, EVENTS, TD, create_event, create_td, guest_form, reserve

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Owner:
    """A browser signed in to the dashboard with one key: its CSRF token and its posts."""

    def __init__(self, client: TestClient, key: str) -> None:
        self.c = client
        html = client.get("/dashboard/login").text
        self.token = TOKEN.search(html).group(1)  # type: ignore[union-attr]
        r = client.post("/dashboard/login", data={"csrf_token": self.token, "key": key}, follow_redirects=False)
        assert r.status_code == 303, r.text

    def get(self, path: str, **kw: Any) -> Any:
        return self.c.get(path, follow_redirects=False, **kw)

    def post(self, path: str, data: dict[str, Any] | None = None, csrf: bool = True, **kw: Any) -> Any:
        body = {**({"csrf_token": self.token} if csrf else {}), **(data or {})}
        return self.c.post(path, data=body, follow_redirects=False, **kw)


@pytest.fixture
def owner(client: TestClient, api: Any) -> Owner:
    return Owner(client, api.key)


EVENT_FORM = {"title": "Spring Gala", "start": "2031-05-01T19:30", "end": "2031-05-01T23:00",
              "time_zone": "Europe/Paris", "location_type": "VENUE", "location_name": "Hall",
              "address": "1 Rue de Rivoli, Paris", "short_description": "A night", "registration": "TICKETING"}


def _event(api: Any, event_id: str) -> dict[str, Any]:
    r = api.get(f"{EVENTS}/{event_id}")
    assert r.status_code == 200, r.text
    return r.json()["event"]


def _definitions(api: Any, event_id: str) -> list[dict[str, Any]]:
    r = api.post(f"{TD}/query", {"query": {"filter": {"eventId": event_id},
                                           "sort": [{"fieldName": "sortIndex", "order": "ASC"}]}})
    return r.json()["ticketDefinitions"]


def test_create_edit_publish_clone_cancel(owner: Owner, api: Any) -> None:
    r = owner.post("/dashboard/events", EVENT_FORM)
    assert r.status_code == 303, r.text
    event_id = r.headers["location"].split("/")[3].split("?")[0]
    ev = _event(api, event_id)
    assert ev["status"] == "DRAFT" and ev["title"] == "Spring Gala"
    # wall time in the event's zone: 19:30 in Paris in May is 17:30 UTC
    assert ev["dateAndTimeSettings"]["startDate"].startswith("2031-05-01T17:30")
    assert ev["dateAndTimeSettings"]["timeZoneId"] == "Europe/Paris"
    page = owner.get(f"/dashboard/events/{event_id}")
    assert page.status_code == 200 and 'value="2031-05-01T19:30"' in page.text
    # edit
    r = owner.post(f"/dashboard/events/{event_id}", {**EVENT_FORM, "title": "Spring Gala 2031"})
    assert r.status_code == 303
    assert _event(api, event_id)["title"] == "Spring Gala 2031"
    # publish
    assert owner.post(f"/dashboard/events/{event_id}/publish").status_code == 303
    assert _event(api, event_id)["status"] == "UPCOMING"
    assert owner.post(f"/dashboard/events/{event_id}/publish").status_code == 428  # already published
    # clone: a draft copy
    r = owner.post(f"/dashboard/events/{event_id}/clone")
    copy_id = r.headers["location"].rsplit("/", 1)[1]
    assert copy_id != event_id and _event(api, copy_id)["status"] == "DRAFT"
    # the list shows both
    home = owner.get("/dashboard")
    assert home.text.count("Spring Gala 2031") == 2
    assert "Spring Gala 2031" in owner.get("/dashboard?status=DRAFT").text
    # delete the draft copy; cancel the published one
    assert owner.post(f"/dashboard/events/{copy_id}/delete").status_code == 303
    assert api.get(f"{EVENTS}/{copy_id}").status_code == 404
    assert owner.post(f"/dashboard/events/{event_id}/cancel").status_code == 303
    assert _event(api, event_id)["status"] == "CANCELED"


def test_cancel_with_orders_cancels_them(owner: Owner, api: Any) -> None:
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"])
    r = reserve(api, td["id"], 1)
    got = api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": r["id"], "guests": [guest_form()],
                              "options": {"payInPerson": True}})
    assert got.status_code == 200, got.text
    number = got.json()["order"]["orderNumber"]
    r = owner.post(f"/dashboard/events/{ev['id']}/cancel", {"with_orders": "1", "refund": "1"})
    assert r.status_code == 303, r.text
    assert _event(api, ev["id"])["status"] == "CANCELED"
    order = api.get(f"/events/v1/events/{ev['id']}/orders/{number}").json()["order"]
    assert order["status"] == "CANCELED"


def test_event_refusals_write_nothing(owner: Owner, api: Any, make_api: Any, client: TestClient) -> None:
    before = api.post(f"{EVENTS}/query", {"query": {}, "includeDrafts": True}).json()["events"]
    # bad input: a 400 page, nothing written
    for bad in ({"end": "2031-05-01T18:00"}, {"time_zone": "Mars/Olympus"}, {"start": "yesterday"},
                {"title": ""}, {"title": "x" * 121}, {"location_type": "MOON"}):
        r = owner.post("/dashboard/events", {**EVENT_FORM, **bad})
        assert r.status_code == 400, (bad, r.status_code, r.text[:300])
        assert "text/html" in r.headers["content-type"]
    # no CSRF token: 403
    assert owner.post("/dashboard/events", EVENT_FORM, csrf=False).status_code == 403
    assert owner.post("/dashboard/events", EVENT_FORM, headers={"Origin": "https://evil.example"}).status_code == 403
    after = api.post(f"{EVENTS}/query", {"query": {}, "includeDrafts": True}).json()["events"]
    assert len(after) == len(before)
    # another site's event: the 404 page, for reading and for changing it
    other = make_api(site="site-b")
    theirs = create_event(other, title="Theirs")
    for path in ("", "/tickets", "/sales", "/orders", "/guests", "/setup", "/orders.csv"):
        r = owner.get(f"/dashboard/events/{theirs['id']}{path}")
        assert r.status_code == 404, (path, r.status_code)
    assert owner.post(f"/dashboard/events/{theirs['id']}/publish").status_code == 404
    assert owner.post(f"/dashboard/events/{theirs['id']}/tickets", {"name": "X", "price": "1"}).status_code == 404
    assert _event(other, theirs["id"])["status"] == "DRAFT"
    # no session: to the sign-in page, and back here afterwards
    anon = TestClient(client.app)
    r = anon.get(f"/dashboard/events/{theirs['id']}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/dashboard/login?next=")
    # a key without "Manage Events" may not use the events pages
    narrow = make_api(permissions={Permission.MANAGE_ORDERS})
    limited = Owner(TestClient(client.app), narrow.key)
    assert limited.get("/dashboard").status_code == 403
    assert limited.post("/dashboard/events", EVENT_FORM).status_code == 403


def test_ticket_definitions_every_field_and_reorder(owner: Owner, api: Any) -> None:
    ev = create_event(api)
    base = f"/dashboard/events/{ev['id']}/tickets"
    assert owner.post(base, {"name": "Standard", "kind": "fixed", "price": "25", "currency": "USD", "limit": "100",
                             "fee": "FEE_ADDED_AT_CHECKOUT", "start": "2030-01-01T10:00",
                             "end": "2030-02-01T10:00", "display": "1"}).status_code == 303
    assert owner.post(base, {"name": "Supporter", "kind": "guest", "price": "10", "currency": "USD",
                             "hidden": "1"}).status_code == 303
    assert owner.post(base, {"name": "Family", "kind": "options", "options": "Adult = 20\nChild = 7.50",
                             "currency": "USD"}).status_code == 303
    a, b, c = _definitions(api, ev["id"])
    assert a["pricingMethod"]["fixedPrice"]["value"] == "25.00" and a["initialLimit"] == 100
    assert a["feeType"] == "FEE_ADDED_AT_CHECKOUT" and a["salePeriod"]["displayNotOnSale"] is True
    assert a["salePeriod"]["startDate"].startswith("2030-01-01T10:00")  # the event's zone is UTC
    assert b["pricingMethod"]["guestPrice"]["value"] == "10.00" and b["hidden"] is True and b["limited"] is False
    assert [o["name"] for o in c["pricingMethod"]["pricingOptions"]["optionDetails"]] == ["Adult", "Child"]
    # edit (at the revision read)
    page = owner.get(f"{base}?edit={b['id']}")
    assert page.status_code == 200 and 'value="Supporter"' in page.text
    r = owner.post(f"{base}/{b['id']}", {"name": "Supporter+", "kind": "guest", "price": "15", "currency": "USD",
                                          "revision": b["revision"]})
    assert r.status_code == 303
    b2 = next(d for d in _definitions(api, ev["id"]) if d["id"] == b["id"])
    assert b2["name"] == "Supporter+" and b2["hidden"] is False and b2["pricingMethod"]["guestPrice"]["value"] == "15.00"
    # a stale revision is the API's 428
    r = owner.post(f"{base}/{b['id']}", {"name": "Late", "kind": "guest", "price": "1", "revision": b["revision"]})
    assert r.status_code == 428
    # reorder: by the buttons (down, then up) and by a drop (before / after)
    assert owner.post(f"{base}/{a['id']}/move", {"direction": "down"}).status_code == 303
    assert [d["id"] for d in _definitions(api, ev["id"])] == [b["id"], a["id"], c["id"]]
    r = owner.post(f"{base}/{c['id']}/move", {"direction": "up"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'id="definitions"' in r.text  # htmx: the list alone
    assert [d["id"] for d in _definitions(api, ev["id"])] == [b["id"], c["id"], a["id"]]
    assert owner.post(f"{base}/{a['id']}/move", {"before": b["id"]}).status_code == 303
    assert [d["id"] for d in _definitions(api, ev["id"])] == [a["id"], b["id"], c["id"]]
    # bad input: 400, nothing written
    for bad in ({"kind": "fixed", "price": "abc"}, {"kind": "options", "options": "no price here"},
                {"kind": "fixed", "price": "5", "limit": "-3"}, {"kind": "guest", "price": "5", "fee": "NO_FEE"},
                {"kind": "fixed", "price": "5", "start": "2030-02-01T10:00", "end": "2030-01-01T10:00"},
                {"kind": "fixed", "price": "5", "currency": "EUR"}, {"kind": "barter"}):
        r = owner.post(base, {"name": "Bad", **bad})
        assert r.status_code in (400, 428), (bad, r.status_code, r.text[:300])
    assert owner.post(f"{base}/{a['id']}/move", {"direction": "sideways"}).status_code == 400
    assert len(_definitions(api, ev["id"])) == 3
    # delete
    assert owner.post(f"{base}/{c['id']}/delete").status_code == 303
    assert [d["id"] for d in _definitions(api, ev["id"])] == [a["id"], b["id"]]


def _offline_order(api: Any, event_id: str, td_id: str, qty: int = 1, email: str = "ann@example.com") -> str:
    r = reserve(api, td_id, qty)
    got = api.post(CHECKOUT, {"eventId": event_id, "reservationId": r["id"],
                              "guests": [guest_form(email=email)], "options": {"payInPerson": True}})
    assert got.status_code == 200, got.text
    return str(got.json()["order"]["orderNumber"])


def test_sales_orders_and_exports(owner: Owner, api: Any, database: Database) -> None:
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=10)
    n1 = _offline_order(api, ev["id"], td["id"], 2, "ann@example.com")
    n2 = _offline_order(api, ev["id"], td["id"], 1, "=cmd@example.com")
    base = f"/dashboard/events/{ev['id']}"
    # search
    page = owner.get(f"{base}/orders", params={"q": "ann@"})
    assert page.status_code == 200 and n1 in page.text and n2 not in page.text
    assert owner.get(f"{base}/orders", params={"status": "NOPE"}).status_code == 400
    # confirm the payment taken at the door
    assert owner.post(f"{base}/orders/{n1}/confirm").status_code == 303
    o1 = api.get(f"/events/v1/events/{ev['id']}/orders/{n1}").json()["order"]
    assert o1["status"] == "PAID"
    # sales: sold 3 (2 paid + 1 held offline), revenue only from the paid order
    sales = owner.get(f"{base}/sales/table")
    assert sales.status_code == 200
    row = re.search(r'<tr data-td="%s">(.*?)</tr>' % td["id"], sales.text, re.S).group(1)  # type: ignore[union-attr]
    assert "<td class=\"num\" data-sold>3</td>" in row and "<td class=\"num\" data-unsold>7</td>" in row
    assert "400.00 USD" in row
    assert owner.get(f"{base}/sales").status_code == 200
    # resend the confirmation: refused (428) while the first still waits to be sent, or for
    # an unpaid order; queued once the first is sent
    assert owner.post(f"{base}/orders/{n1}/resend").status_code == 428
    with database.session(write=True) as s:
        s.execute(update(MailMessage).values(status=MailStatus.SENT))
    r = owner.post(f"{base}/orders/{n1}/resend")
    assert r.status_code == 303 and "sent=1" in r.headers["location"]
    assert database.read(lambda s: s.scalar(select(func.count()).select_from(MailMessage))) == 2
    assert owner.post(f"{base}/orders/{n2}/resend").status_code == 428
    # cancel an order
    assert owner.post(f"{base}/orders/{n2}/cancel").status_code == 303
    assert api.get(f"/events/v1/events/{ev['id']}/orders/{n2}").json()["order"]["status"] == "CANCELED"
    # guests with their check-in state
    number = o1["tickets"][0]["ticketNumber"]
    assert api.post("/events/v1/tickets/check-in", {"eventId": ev["id"], "ticketNumber": [number]}).status_code == 200
    guests = owner.get(f"{base}/guests")
    assert guests.status_code == 200 and "Checked in: 1" in guests.text
    # CSV: orders and guests, a formula-looking cell defused
    orders_csv = owner.get(f"{base}/orders.csv")
    assert orders_csv.status_code == 200 and orders_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(orders_csv.text)))
    assert rows[0][0] == "orderNumber" and {r[0] for r in rows[1:]} == {n1, n2}
    assert any(r[5] == "'=cmd@example.com" for r in rows[1:])
    guests_csv = list(csv.reader(io.StringIO(owner.get(f"{base}/guests.csv").text)))
    assert len(guests_csv) == 1 + 3 and any(r[0] == number and r[9] for r in guests_csv[1:])
    assert owner.get(f"{base}/secrets.csv").status_code == 400


def test_order_actions_need_manage_orders(owner: Owner, api: Any, make_api: Any, client: TestClient) -> None:
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"])
    number = _offline_order(api, ev["id"], td["id"])
    events_only = make_api(permissions={Permission.MANAGE_EVENTS})
    limited = Owner(TestClient(client.app), events_only.key)
    for action in ("confirm", "cancel", "resend"):
        assert limited.post(f"/dashboard/events/{ev['id']}/orders/{number}/{action}").status_code == 403
    assert api.get(f"/events/v1/events/{ev['id']}/orders/{number}").json()["order"]["status"] == "OFFLINE_PENDING"


def test_setup_policies_and_staff(owner: Owner, api: Any) -> None:
    ev = create_event(api)
    base = f"/dashboard/events/{ev['id']}"
    assert owner.post(f"{base}/policies", {"name": "Refunds", "body": "Until a week before."}).status_code == 303
    page = owner.get(f"{base}/setup")
    assert page.status_code == 200 and "Until a week before." in page.text
    r = api.post("/events/v2/policies/query", {"query": {"filter": {"eventId": ev["id"]}}})
    policy_id = r.json()["policies"][0]["id"]
    assert owner.post(f"{base}/policies", {"name": "", "body": "x"}).status_code == 400
    assert owner.post(f"{base}/policies/{policy_id}/delete").status_code == 303
    r = owner.post(f"{base}/staff", {"name": "Door Dan"})
    assert r.status_code == 200, r.text
    assert "Door Dan" in r.text and "loginToken=" in r.text


def test_webhooks_page(client: TestClient, make_api: Any) -> None:
    boss = make_api(identity="wix-user")
    o = Owner(client, boss.key)
    assert o.get("/dashboard/webhooks").status_code == 200
    r = o.post("/dashboard/webhooks", {"url": "https://93.184.215.14/hook", "types": "*"})
    assert r.status_code == 303, r.text
    subs = boss.get("/boxoffice/v1/webhooks").json()["webhooks"]
    assert len(subs) == 1
    # an internal address is refused (the API's URL policy), nothing written
    assert o.post("/dashboard/webhooks", {"url": "http://127.0.0.1:5432/x"}).status_code == 400
    assert o.post("/dashboard/webhooks", {"url": "https://93.184.215.14/h", "types": "no.such"}).status_code == 400
    assert len(boss.get("/boxoffice/v1/webhooks").json()["webhooks"]) == 1
    assert o.post("/dashboard/webhooks/replay").status_code == 303
    assert o.post(f"/dashboard/webhooks/{subs[0]['id']}/delete").status_code == 303
    assert boss.get("/boxoffice/v1/webhooks").json()["webhooks"] == []
    # an app key is not the site's owner for webhooks (as on the admin API)
    app = Owner(TestClient(client.app), make_api().key)
    assert app.get("/dashboard/webhooks").status_code == 403


def test_csv_is_read_in_chunks_and_bounded(owner: Owner, api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from boxoffice.pages import dashboard_sales

    monkeypatch.setattr(dashboard_sales, "CSV_CHUNK", 2)
    monkeypatch.setattr(dashboard_sales, "CSV_MAX_ROWS", 3)
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=10)
    numbers = {_offline_order(api, ev["id"], td["id"], 1, f"g{i}@example.com") for i in range(5)}
    rows = list(csv.reader(io.StringIO(owner.get(f"/dashboard/events/{ev['id']}/orders.csv").text)))
    assert rows[0][0] == "orderNumber" and len(rows) == 1 + 3 + 1
    assert {r[0] for r in rows[1:4]} <= numbers and len({r[0] for r in rows[1:4]}) == 3  # no row twice
    assert rows[-1] == ["# cut at 3 rows"]
    monkeypatch.setattr(dashboard_sales, "CSV_MAX_ROWS", 100)
    rows = list(csv.reader(io.StringIO(owner.get(f"/dashboard/events/{ev['id']}/guests.csv").text)))
    assert len(rows) == 1 + 5 and rows[-1][0] != "# cut at 100 rows"
