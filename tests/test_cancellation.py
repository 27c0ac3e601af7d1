"""Cancel Order and Cancel Event with its orders (issue 12 section 3), on SQLite and
PostgreSQL: tickets void at the door, seats back, OrderUpdated, the refund through the
order's provider (Stripe, against localstripe), recorded BY_HAND for money taken in
person, retried in the background when the provider fails, and the buyer's e-mail."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from boxoffice.identity import Permission
from boxoffice.mail.worker import MailSettings, send_due
from boxoffice.outbox.models import OutboxEvent
from boxoffice.payments.models import PaymentRefund, RefundStatus
from tests.helpers import checkout, create_event, create_td, reserve, sales

CHECK_IN = "/events/v1/tickets/check-in"


def cancel_path(ev: dict, number: str) -> str:
    return f"/boxoffice/v1/events/{ev['id']}/orders/{number}/cancel"


def code(r: Any) -> str:
    return r.json()["details"]["applicationError"]["code"]


@pytest.fixture
def shop(api: Any) -> tuple[dict, dict]:
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], name="Seat", initialLimit=10, pricingMethod={"fixedPrice": {"value": "25", "currency": "EUR"}})
    return ev, td


def paid_test_order(api: Any, ev: dict, td: dict, quantity: int = 2) -> dict:
    o = checkout(api, ev["id"], reserve(api, td["id"], quantity)["id"])["order"]
    r = api.post(f"/boxoffice/v1/test-payments/{o['orderNumber']}/pay")
    assert r.status_code == 200, r.text
    return r.json()["order"]


def refunds(database: Any) -> list[PaymentRefund]:
    with database.session() as s:
        rows = list(s.scalars(select(PaymentRefund).order_by(PaymentRefund.created_date)))
        s.expunge_all()
        return rows


def mails(database: Any, tmp_path: Path) -> list[Any]:
    out = tmp_path / "mail"
    send_due(database, MailSettings(smtp_url="", mail_dir=str(out), public_url="https://tickets.example.org"))
    return [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in sorted(out.glob("*.eml"))]


def order_events(database: Any) -> list[dict]:
    with database.session() as s:
        rows = s.scalars(select(OutboxEvent).where(OutboxEvent.event_type.like("%OrderUpdated")).order_by(OutboxEvent.position))
        return [{"type": r.event_type, "payload": r.payload} for r in rows]


def test_cancel_a_paid_order_voids_tickets_frees_seats_refunds_and_tells_the_buyer(api, shop, database, tmp_path):
    ev, td = shop
    o = paid_test_order(api, ev, td, 2)
    assert sales(api, td["id"])["soldCount"] == 2
    mails(database, tmp_path)  # the confirmation goes out first
    r = api.post(cancel_path(ev, o["orderNumber"]), {})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["order"]["status"] == "CANCELED"
    assert body["refund"]["status"] == "SUCCEEDED" and body["refund"]["provider"] == "test"
    assert body["refund"]["amount"]["value"] == "50.00" and body["refund"]["amount"]["currency"] == "EUR"
    assert body["refund"]["refundId"]
    s = sales(api, td["id"])
    assert s["soldCount"] == 0 and s["unsoldCount"] == 10
    numbers = [t["ticketNumber"] for t in o["tickets"]]
    ci = api.post(CHECK_IN, {"eventId": ev["id"], "ticketNumber": numbers[:1]})
    assert ci.status_code == 428 and code(ci) == "TICKET_CANCELED"
    last = order_events(database)[-1]
    assert '"CANCELED"' in str(last["payload"]).replace("'", '"')
    got = mails(database, tmp_path)
    notice = [m for m in got if "canceled" in m["Subject"]]
    assert len(notice) == 1 and notice[0]["To"].addresses[0].addr_spec == "ann@example.com"
    text = notice[0].get_body(("plain",)).get_content()
    assert "no longer valid" in text and "50.00 EUR is being refunded" in text
    assert not any(part.get_content_type() == "application/pdf" for part in notice[0].iter_attachments())
    # once canceled, never again (and no second refund)
    again = api.post(cancel_path(ev, o["orderNumber"]), {})
    assert again.status_code == 428 and code(again) == "ORDER_ACTION_NOT_AVAILABLE"
    assert len(refunds(database)) == 1


def test_money_taken_in_person_is_refunded_by_hand_and_refund_false_keeps_it(api, shop, database, tmp_path):
    ev, td = shop
    marked = checkout(api, ev["id"], reserve(api, td["id"])["id"], options={"markAsPaid": True})["order"]
    kept = checkout(api, ev["id"], reserve(api, td["id"])["id"], options={"markAsPaid": True})["order"]
    r = api.post(cancel_path(ev, marked["orderNumber"]), {})
    assert r.status_code == 200 and r.json()["refund"]["status"] == "BY_HAND"
    r = api.post(cancel_path(ev, kept["orderNumber"]), {"refund": False})
    assert r.status_code == 200 and r.json()["refund"] is None
    assert sorted(x.status for x in refunds(database)) == [RefundStatus.BY_HAND, RefundStatus.KEPT]  # kept: recorded, never refunded
    texts = [m.get_body(("plain",)).get_content() for m in mails(database, tmp_path) if "canceled" in m["Subject"]]
    assert any("in person: the organiser will give it back" in t for t in texts)
    assert any("No refund is made" in t for t in texts)
    assert sales(api, td["id"])["soldCount"] == 0


def test_free_pay_in_person_and_unpaid_online_orders_cancel_without_refund(api, database):
    ev = create_event(api, draft=False)
    free = create_td(api, ev["id"], name="Free", initialLimit=5, pricingMethod={"fixedPrice": {"value": "0", "currency": "USD"}})
    paid = create_td(api, ev["id"], name="Paid", initialLimit=5, pricingMethod={"fixedPrice": {"value": "10", "currency": "USD"}})
    f = checkout(api, ev["id"], reserve(api, free["id"])["id"])["order"]
    offline = checkout(api, ev["id"], reserve(api, paid["id"])["id"], options={"payInPerson": True})["order"]
    online = checkout(api, ev["id"], reserve(api, paid["id"])["id"])["order"]
    assert (f["status"], offline["status"], online["status"]) == ("FREE", "OFFLINE_PENDING", "PENDING")
    assert sales(api, paid["id"])["unsoldCount"] == 3
    for o in (f, offline, online):
        r = api.post(cancel_path(ev, o["orderNumber"]), {})
        assert r.status_code == 200, r.text
        assert r.json()["order"]["status"] == "CANCELED" and r.json()["refund"] is None
    assert sales(api, paid["id"])["unsoldCount"] == 5 and sales(api, free["id"])["unsoldCount"] == 5
    # the online payment can no longer complete
    late = api.post(f"/boxoffice/v1/test-payments/{online['orderNumber']}/pay")
    assert late.status_code == 428
    assert refunds(database) == []


def test_who_may_cancel(api, make_api, shop):
    ev, td = shop
    o = paid_test_order(api, ev, td, 1)
    path = cancel_path(ev, o["orderNumber"])
    visitor = make_api(identity="visitor")
    assert visitor.post(path, {}).status_code == 403
    events_only = make_api(permissions={Permission.MANAGE_EVENTS})
    assert events_only.post(path, {}).status_code == 403
    other_site = make_api(site="site-b")
    assert other_site.post(path, {}).status_code == 404
    assert api.post(cancel_path(ev, "NOPE-0000"), {}).status_code == 404
    assert api.post(f"/boxoffice/v1/events/{ev['id']}x/orders/{o['orderNumber']}/cancel", {}).status_code == 404
    assert api.post(path, {"refund": "maybe"}).status_code == 400
    # nothing happened
    assert sales(api, td["id"])["soldCount"] == 1


def test_cancel_event_with_its_orders_in_one_call(api, make_api, shop, database, tmp_path):
    ev, td = shop
    a = paid_test_order(api, ev, td, 2)
    b = checkout(api, ev["id"], reserve(api, td["id"])["id"], options={"payInPerson": True})["order"]
    pending = checkout(api, ev["id"], reserve(api, td["id"])["id"])["order"]
    declined = checkout(api, ev["id"], reserve(api, td["id"])["id"])["order"]
    api.post(f"/boxoffice/v1/test-payments/{declined['orderNumber']}/decline")
    path = f"/boxoffice/v1/events/{ev['id']}/cancel-with-orders"
    assert make_api(permissions={Permission.MANAGE_ORDERS}).post(path, {}).status_code == 403
    assert make_api(permissions={Permission.MANAGE_EVENTS}).post(path, {}).status_code == 403
    assert make_api(site="site-b").post(path, {}).status_code == 404
    r = api.post(path, {})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["eventStatus"] == "CANCELED"
    got = {x["order"]["orderNumber"]: x for x in body["orders"]}
    assert set(got) == {a["orderNumber"], b["orderNumber"], pending["orderNumber"]}
    assert all(x["order"]["status"] == "CANCELED" for x in got.values())
    assert got[a["orderNumber"]]["refund"]["status"] == "SUCCEEDED"
    assert got[b["orderNumber"]]["refund"] is None and got[pending["orderNumber"]]["refund"] is None
    assert sales(api, td["id"])["soldCount"] == 0 and sales(api, td["id"])["unsoldCount"] == 10
    ev_now = api.get(f"/events/v3/events/{ev['id']}").json()["event"]
    assert ev_now["status"] == "CANCELED"
    # the event is canceled already: a second call cancels what is left (nothing)
    again = api.post(path, {})
    assert again.status_code == 200 and again.json()["orders"] == []
    subjects = [m["Subject"] for m in mails(database, tmp_path)]
    assert sum("is canceled" in s for s in subjects) == 3
