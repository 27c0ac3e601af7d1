"""Stripe card payments (issue 12 section 2), against localstripe run as a real process,
on SQLite and PostgreSQL.

localstripe serves PaymentIntents (create, update, confirm, cancel), PaymentMethods and
Refunds, which these tests use through the official ``stripe`` library. It can send
webhooks too, but only to a URL it can reach, and the app here runs in a TestClient
(no port): the events are built from the PaymentIntent as localstripe returns it and
signed with this test's endpoint secret by ``stripe.WebhookSignature`` (Stripe's scheme:
HMAC-SHA256 over ``"{t}.{body}"``), exactly what Stripe sends.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from boxoffice.app import create_app
from boxoffice.config import Settings
from boxoffice.mail.models import MailMessage
from boxoffice.orders.models import Order
from boxoffice.outbox.models import OutboxEvent
from boxoffice.payments import Payments, TestProvider
from boxoffice.payments.models import PaymentRefund
from boxoffice.payments.stripe_provider import StripeProvider, from_stripe_amount, to_stripe_amount
from tests.conftest import wipe
from tests.helpers import RES, create_event, create_td, expire_now, reserve, sales
from tests.helpers import checkout as do_checkout

WEBHOOK = "/boxoffice/v1/payments/stripe/webhook"
SECRET = "whsec_test_" + uuid.uuid4().hex


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def localstripe() -> Iterator[str]:
    port = _free_port()
    exe = Path(sys.executable).with_name("localstripe")
    # --from-scratch: never load /tmp/localstripe.pickle, which another run on this machine may be writing
    proc = subprocess.Popen([str(exe), "--port", str(port), "--from-scratch"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/v1/payment_intents", headers={"Authorization": "Bearer sk_test_x"}, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("localstripe did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def stripe_client(localstripe: str) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_boxoffice", base_addresses={"api": localstripe}, max_network_retries=0)


@pytest.fixture
def app(database: Any, localstripe: str) -> Any:
    wipe(database)
    settings = Settings(
        database_url=str(database.engine.url), background=False, test_payments=True,
        stripe_secret_key="sk_test_boxoffice", stripe_webhook_secret=SECRET, stripe_api_base=localstripe,
    )
    return create_app(settings, db=database)


@pytest.fixture
def shop(api: Any) -> tuple[dict, dict]:
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], name="Seat", initialLimit=10, pricingMethod={"fixedPrice": {"value": "40", "currency": "USD"}})
    return ev, td


def code(r: Any) -> str:
    return r.json()["details"]["applicationError"]["code"]


def order_row(database: Any, number: str) -> Order:
    with database.session() as s:
        o = s.scalars(select(Order).where(Order.order_number == number)).one()
        s.expunge(o)
        return o


def counts(database: Any) -> dict[str, int]:
    with database.session() as s:
        return {
            "outbox": s.scalar(select(func.count()).select_from(OutboxEvent)) or 0,
            "mail": s.scalar(select(func.count()).select_from(MailMessage)) or 0,
            "refunds": s.scalar(select(func.count()).select_from(PaymentRefund)) or 0,
        }


def event_for(client: stripe.StripeClient, pi_id: str, kind: str, event_id: str | None = None) -> bytes:
    """A Stripe event as Stripe sends it: the PaymentIntent (as localstripe has it) in
    ``data.object``."""
    pi = client.v1.payment_intents.retrieve(pi_id)
    body = {
        "id": event_id or "evt_" + uuid.uuid4().hex[:24],
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "type": kind,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": pi.to_dict()},
    }
    return json.dumps(body).encode()


def send(http: TestClient, payload: bytes, secret: str = SECRET, headers: dict[str, str] | None = None) -> Any:
    sig = stripe.WebhookSignature.generate_signature_header(payload.decode(), secret)
    return http.post(WEBHOOK, content=payload, headers={"Stripe-Signature": sig, "Content-Type": "application/json", **(headers or {})})


def card_pays(client: stripe.StripeClient, pi_id: str) -> None:
    """The buyer pays with Stripe.js: a card attached and the PaymentIntent confirmed."""
    pm = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}}
    )
    client.v1.payment_intents.update(pi_id, params={"payment_method": pm.id})
    assert client.v1.payment_intents.confirm(pi_id).status == "succeeded"


def start(api: Any, shop: tuple[dict, dict], quantity: int = 2) -> tuple[dict, dict, dict]:
    ev, td = shop
    r = reserve(api, td["id"], quantity)
    body = do_checkout(api, ev["id"], r["id"])
    return body, body["order"], r


def test_checkout_creates_a_payment_intent_and_holds_the_seats(api, database, shop, stripe_client):
    body, o, _ = start(api, shop, 2)
    assert o["status"] == "PENDING" and o["confirmed"] is False
    pay = body["payment"]
    assert pay["provider"] == "stripe" and pay["paymentIntentId"].startswith("pi_") and pay["clientSecret"].startswith(pay["paymentIntentId"])
    assert o["paymentDetails"] == {"transaction": {"transactionId": pay["paymentIntentId"], "method": "stripe"}}
    assert order_row(database, o["orderNumber"]).payment_id == pay["paymentIntentId"]
    pi = stripe_client.v1.payment_intents.retrieve(pay["paymentIntentId"])
    assert (pi.amount, pi.currency) == (8000, "usd")  # 2 x 40.00 USD (fee included in the price)
    assert pi.metadata.to_dict() == {"boxoffice_site": api.site, "boxoffice_order": o["orderNumber"]}
    assert sales(api, shop[1]["id"])["reservedCount"] == 2
    # Get Order never shows the client secret
    got = api.get(f"/events/v1/events/{o['eventId']}/orders/{o['orderNumber']}").json()["order"]
    assert "clientSecret" not in json.dumps(got)


def test_succeeded_pays_once_and_the_same_event_again_changes_nothing(api, client, database, shop, stripe_client):
    body, o, r = start(api, shop, 2)
    pi_id = body["payment"]["paymentIntentId"]
    card_pays(stripe_client, pi_id)
    payload = event_for(stripe_client, pi_id, "payment_intent.succeeded")
    before = counts(database)
    resp = send(client, payload)
    assert resp.status_code == 200, resp.text
    assert resp.json()["orderStatus"] == "PAID"
    got = api.get(f"/events/v1/events/{o['eventId']}/orders/{o['orderNumber']}").json()["order"]
    assert got["status"] == "PAID" and got["confirmed"] is True
    assert len(got["tickets"]) == 2 and not any(t["canceled"] for t in got["tickets"])
    assert sales(api, shop[1]["id"]) == {"unsoldCount": 8, "soldCount": 2, "reservedCount": 0, "soldOut": False}
    assert api.get(f"{RES}/{r['id']}").json()["ticketReservation"]["status"] == "CONFIRMED"
    after = counts(database)
    assert after["mail"] == before["mail"] + 1  # the confirmation is queued
    assert after["outbox"] > before["outbox"]
    with database.session() as s:
        names = [e.event_type for e in s.scalars(select(OutboxEvent).where(OutboxEvent.entity_id == order_row(database, o["orderNumber"]).id))]
    assert any("OrderConfirmed" in n for n in names)
    # Stripe sends the same event again (and again, freshly signed): nothing changes
    updated = order_row(database, o["orderNumber"]).updated_date
    for _ in range(2):
        again = send(client, payload)
        assert again.status_code == 200 and again.json()["orderStatus"] == "PAID"
    assert counts(database) == after
    assert order_row(database, o["orderNumber"]).updated_date == updated
    assert sales(api, shop[1]["id"])["soldCount"] == 2
    # a failure reported after the success changes nothing either
    late_fail = send(client, event_for(stripe_client, pi_id, "payment_intent.payment_failed"))
    assert late_fail.status_code == 200 and counts(database) == after


def test_bad_signature_is_400_and_writes_nothing(api, client, database, shop, stripe_client, caplog):
    body, o, _ = start(api, shop, 1)
    pi_id = body["payment"]["paymentIntentId"]
    card_pays(stripe_client, pi_id)
    payload = event_for(stripe_client, pi_id, "payment_intent.succeeded")
    before = counts(database)
    wrong = send(client, payload, secret="whsec_not_ours")
    assert wrong.status_code == 400 and wrong.json()["details"]["validationError"]["fieldViolations"][0]["field"] == "Stripe-Signature"
    none = client.post(WEBHOOK, content=payload, headers={"Content-Type": "application/json"})
    assert none.status_code == 400
    sig = stripe.WebhookSignature.generate_signature_header(payload.decode(), SECRET)
    tampered = payload.replace(b'"amount": 4000', b'"amount": 1')
    assert tampered != payload
    assert client.post(WEBHOOK, content=tampered, headers={"Stripe-Signature": sig}).status_code == 400
    old = stripe.WebhookSignature.generate_signature_header(payload.decode(), SECRET, timestamp=int(time.time()) - 3600)
    assert client.post(WEBHOOK, content=payload, headers={"Stripe-Signature": old}).status_code == 400  # replayed later
    assert client.post(WEBHOOK, content=b"not json", headers={"Stripe-Signature": "t=1,v1=00"}).status_code == 400
    for header in ("garbage", "t=abc,v1=x", "t=,v1=", "v1=" + "0" * 64, "t=99999999999999999999,v1=00"):
        assert client.post(WEBHOOK, content=payload, headers={"Stripe-Signature": header}).status_code == 400, header
    assert client.post(WEBHOOK, content=b"\xff\xfe", headers={"Stripe-Signature": sig}).status_code == 400
    assert counts(database) == before
    assert order_row(database, o["orderNumber"]).status == "PENDING"
    assert SECRET not in caplog.text and sig not in caplog.text


def test_a_visitor_cannot_pay_through_the_webhook(api, make_api, client, database, shop, stripe_client):
    """The route takes no key: a visitor's (or the owner's) key without Stripe's signature
    is refused like anyone's, and an event signed with another secret too."""
    body, o, _ = start(api, shop, 1)
    pi_id = body["payment"]["paymentIntentId"]
    payload = event_for(stripe_client, pi_id, "payment_intent.succeeded")
    for caller in (make_api(identity="visitor"), api):
        r = client.post(WEBHOOK, content=payload, headers={**caller.headers(), "Content-Type": "application/json"})
        assert r.status_code == 400
        r = send(client, payload, secret="whsec_guessed", headers=caller.headers())
        assert r.status_code == 400
    assert order_row(database, o["orderNumber"]).status == "PENDING"
    # and the test provider's pay endpoint cannot pay a Stripe order
    assert api.post(f"/boxoffice/v1/test-payments/{o['orderNumber']}/pay").status_code == 428


def test_payment_failed_declines_and_releases(api, client, database, shop, stripe_client):
    body, o, r = start(api, shop, 3)
    pi_id = body["payment"]["paymentIntentId"]
    payload = event_for(stripe_client, pi_id, "payment_intent.payment_failed")
    resp = send(client, payload)
    assert resp.status_code == 200 and resp.json()["orderStatus"] == "DECLINED"
    assert order_row(database, o["orderNumber"]).status == "DECLINED"
    assert sales(api, shop[1]["id"]) == {"unsoldCount": 10, "soldCount": 0, "reservedCount": 0, "soldOut": False}
    assert api.get(f"{RES}/{r['id']}").json()["ticketReservation"]["status"] == "CANCELED"
    assert stripe_client.v1.payment_intents.retrieve(pi_id).status == "canceled"  # cannot be paid any more
    before = counts(database)
    assert send(client, payload).status_code == 200
    assert counts(database) == before


def test_success_after_the_hold_expired_is_refunded(api, client, database, shop, stripe_client):
    body, o, r = start(api, shop, 2)
    pi_id = body["payment"]["paymentIntentId"]
    expire_now(database, r["id"])  # the hold ran out (the sweeper has not run yet)
    card_pays(stripe_client, pi_id)  # ... and the buyer paid anyway
    payload = event_for(stripe_client, pi_id, "payment_intent.succeeded")
    resp = send(client, payload)
    assert resp.status_code == 200, resp.text
    refund_id = resp.json()["refundId"]
    assert resp.json()["orderStatus"] == "CANCELED"
    refunds = stripe_client.v1.refunds.list(params={"payment_intent": pi_id}).data
    assert [x.id for x in refunds] == [refund_id] and refunds[0].amount == 8000
    row = order_row(database, o["orderNumber"])
    assert row.status == "CANCELED"
    with database.session() as s:
        rec = s.scalars(select(PaymentRefund).where(PaymentRefund.order_id == row.id)).one()
        assert (rec.status, rec.refund_id, rec.amount_cents, rec.currency, rec.reason) == (
            "SUCCEEDED", refund_id, 8000, "USD", "PAID_AFTER_HOLD_EXPIRED"
        )
    got = api.get(f"/events/v1/events/{o['eventId']}/orders/{o['orderNumber']}").json()["order"]
    assert got["status"] == "CANCELED" and all(t["canceled"] for t in got["tickets"])
    assert sales(api, shop[1]["id"]) == {"unsoldCount": 10, "soldCount": 0, "reservedCount": 0, "soldOut": False}
    with database.session() as s:  # no confirmation for an order that is not sold: the buyer is told why instead
        assert list(s.scalars(select(MailMessage.kind))) == ["payment_refunded"]
    # the same event again: no second refund
    before = counts(database)
    again = send(client, payload)
    assert again.status_code == 200 and "refundId" not in again.json()
    assert len(stripe_client.v1.refunds.list(params={"payment_intent": pi_id}).data) == 1
    assert counts(database) == before


def test_refund_that_fails_answers_503_and_is_retried(api, client, database, shop, stripe_client, monkeypatch):
    body, o, r = start(api, shop, 1)
    pi_id = body["payment"]["paymentIntentId"]
    expire_now(database, r["id"])
    card_pays(stripe_client, pi_id)
    payload = event_for(stripe_client, pi_id, "payment_intent.succeeded")
    real = StripeProvider.refund

    def down(self: StripeProvider, payment_id: str, reason: str) -> str:
        self._client = stripe.StripeClient("sk_test_x", base_addresses={"api": "http://127.0.0.1:9"}, max_network_retries=0)
        return real(self, payment_id, reason)

    provider = client.app.state.payments.stripe
    saved = provider._client
    monkeypatch.setattr(StripeProvider, "refund", down)
    failed = send(client, payload)
    assert failed.status_code == 503
    with database.session() as s:
        assert s.scalars(select(PaymentRefund.status)).one() == "PENDING"  # owed, recorded, not lost
    assert order_row(database, o["orderNumber"]).status == "CANCELED"
    monkeypatch.setattr(StripeProvider, "refund", real)
    provider._client = saved
    ok = send(client, payload)  # Stripe sends the event again
    assert ok.status_code == 200 and ok.json()["refundId"].startswith("re_")
    with database.session() as s:
        assert s.scalars(select(PaymentRefund.status)).one() == "SUCCEEDED"
    assert len(stripe_client.v1.refunds.list(params={"payment_intent": pi_id}).data) == 1


def test_jpy_order_in_minor_units(api, database, stripe_client):
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], name="Seat", initialLimit=5, pricingMethod={"fixedPrice": {"value": "2500", "currency": "JPY"}})
    body = do_checkout(api, ev["id"], reserve(api, td["id"], 2)["id"])
    assert body["order"]["totalPrice"]["amount"] == "5000.00"
    pi = stripe_client.v1.payment_intents.retrieve(body["payment"]["paymentIntentId"])
    assert (pi.amount, pi.currency) == (5000, "jpy")


def test_jpy_fraction_cannot_be_charged(api, database):
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], name="Seat", initialLimit=5, pricingMethod={"fixedPrice": {"value": "10.50", "currency": "JPY"}})
    r = reserve(api, td["id"], 1)
    resp = do_checkout(api, ev["id"], r["id"], status=428)
    assert code(resp) == "AMOUNT_NOT_PAYABLE"
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 0


def test_events_for_no_order_of_ours_are_ignored(api, client, database, shop, stripe_client):
    start(api, shop, 1)
    foreign = stripe_client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"})
    other = stripe_client.v1.payment_intents.create(
        params={"amount": 100, "currency": "usd", "metadata": {"boxoffice_site": api.site, "boxoffice_order": "ZZZZ-ZZZZ"}}
    )
    before = counts(database)
    for pi in (foreign, other):
        assert send(client, event_for(stripe_client, pi.id, "payment_intent.succeeded")).status_code == 200
    payload = json.dumps({"id": "evt_x", "object": "event", "type": "charge.refunded", "data": {"object": {"id": "ch_1"}}}).encode()
    assert send(client, payload).status_code == 200
    assert counts(database) == before


def test_minor_units_table():
    assert [to_stripe_amount(c, cur) for c, cur in ((1050, "USD"), (20000, "JPY"), (150, "BHD"), (20000, "ISK"), (30000, "krw"))] == [
        1050, 200, 1500, 20000, 300,
    ]
    assert from_stripe_amount(200, "JPY") == 20000 and from_stripe_amount(1500, "BHD") == 150 and from_stripe_amount(1050, "usd") == 1050


def test_which_provider_the_settings_pick():
    assert isinstance(Payments.from_settings(Settings(test_payments=True)).online, TestProvider)
    assert Payments.from_settings(Settings()).online is None
    both = Payments.from_settings(Settings(test_payments=True, stripe_secret_key="sk_test_x"))
    assert both.stripe is not None and both.online is both.stripe  # Stripe wins


def test_no_stripe_no_webhook_route(database):
    wipe(database)
    plain = create_app(Settings(database_url=str(database.engine.url), background=False, test_payments=True), db=database)
    with TestClient(plain) as c:
        assert c.post(WEBHOOK, content=b"{}").status_code == 404


# --- Cancel Order with a card refund (issue 12 section 3) ------------------------------


def paid(api: Any, client: TestClient, shop: tuple[dict, dict], stripe_client: stripe.StripeClient, quantity: int = 2) -> tuple[dict, str]:
    body, o, _ = start(api, shop, quantity)
    pi_id = body["payment"]["paymentIntentId"]
    card_pays(stripe_client, pi_id)
    assert send(client, event_for(stripe_client, pi_id, "payment_intent.succeeded")).json()["orderStatus"] == "PAID"
    return o, pi_id


def test_cancel_order_refunds_the_card_payment_at_stripe(api, client, database, shop, stripe_client):
    o, pi_id = paid(api, client, shop, stripe_client)
    r = api.post(f"/boxoffice/v1/events/{o['eventId']}/orders/{o['orderNumber']}/cancel", {})
    assert r.status_code == 200, r.text
    refund = r.json()["refund"]
    assert (refund["status"], refund["provider"], refund["reason"]) == ("SUCCEEDED", "stripe", "ORDER_CANCELED")
    made = stripe_client.v1.refunds.list(params={"payment_intent": pi_id}).data
    assert [x.id for x in made] == [refund["refundId"]] and made[0].amount == 8000
    assert sales(api, shop[1]["id"])["soldCount"] == 0
    # Stripe sends the success again after the cancellation: no second refund
    again = send(client, event_for(stripe_client, pi_id, "payment_intent.succeeded"))
    assert again.status_code == 200 and "refundId" not in again.json()
    assert len(stripe_client.v1.refunds.list(params={"payment_intent": pi_id}).data) == 1


def test_a_refund_stripe_cannot_make_now_is_retried_by_the_refunder(api, client, database, shop, stripe_client, monkeypatch):
    from boxoffice.payments import refunds as payment_refunds

    o, pi_id = paid(api, client, shop, stripe_client, 1)
    provider = client.app.state.payments.stripe
    saved = provider._client
    provider._client = stripe.StripeClient("sk_test_x", base_addresses={"api": "http://127.0.0.1:9"}, max_network_retries=0)
    r = api.post(f"/boxoffice/v1/events/{o['eventId']}/orders/{o['orderNumber']}/cancel", {})
    assert r.status_code == 200, r.text  # the order is canceled; the money is owed
    assert r.json()["order"]["status"] == "CANCELED"
    assert r.json()["refund"]["status"] == "PENDING" and r.json()["refund"]["lastError"]
    with database.session() as s:
        row = s.scalars(select(PaymentRefund)).one()
        assert (row.attempts, row.lease_until) == (1, None) and row.next_attempt_date > row.created_date
    # not due yet: the refunder waits for the backoff
    assert payment_refunds.make_due(database, client.app.state.payments) == 0
    provider._client = saved
    with database.session(write=True) as s:
        s.execute(update(PaymentRefund).values(next_attempt_date=PaymentRefund.created_date))
    assert payment_refunds.make_due(database, client.app.state.payments) == 1
    with database.session() as s:
        row = s.scalars(select(PaymentRefund)).one()
        assert row.status == "SUCCEEDED" and row.refund_id and row.last_error is None
    assert len(stripe_client.v1.refunds.list(params={"payment_intent": pi_id}).data) == 1
    assert payment_refunds.make_due(database, client.app.state.payments) == 0  # made once


def test_a_refund_in_its_first_try_is_not_taken_by_the_refunder(api, client, database, shop, stripe_client):
    """The request that owes a refund holds it for FIRST_TRY_SECONDS: the refunder of
    another process does not ask Stripe at the same moment."""
    from boxoffice.db import now
    from boxoffice.payments import refunds as payment_refunds

    o, pi_id = paid(api, client, shop, stripe_client, 1)
    row_id = order_row(database, o["orderNumber"]).id
    with database.session(write=True) as s:
        payment_refunds.owe(s, api.site, row_id, "stripe", pi_id, 4000, "USD", "ORDER_CANCELED", now())
    assert payment_refunds.make_due(database, client.app.state.payments) == 0
    with database.session(write=True) as s:
        s.execute(update(PaymentRefund).values(lease_until=PaymentRefund.created_date))
    assert payment_refunds.make_due(database, client.app.state.payments) == 1


def test_canceling_an_order_awaiting_its_card_payment_cancels_the_payment_intent(api, client, database, shop, stripe_client):
    body, o, _ = start(api, shop, 2)
    pi_id = body["payment"]["paymentIntentId"]
    r = api.post(f"/boxoffice/v1/events/{o['eventId']}/orders/{o['orderNumber']}/cancel", {})
    assert r.status_code == 200 and r.json()["refund"] is None
    assert stripe_client.v1.payment_intents.retrieve(pi_id).status == "canceled"
    assert sales(api, shop[1]["id"])["reservedCount"] == 0


# --- Capture / Void Authorized Payment (BOXOFFICE_STRIPE_CAPTURE=manual) ----------------


def authorize(api: Any, client: TestClient, shop: tuple[dict, dict], stripe_client: stripe.StripeClient, quantity: int = 2) -> tuple[dict, str, dict]:
    client.app.state.payments.stripe.capture_method = "manual"
    body, o, r = start(api, shop, quantity)
    pi_id = body["payment"]["paymentIntentId"]
    pm = stripe_client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040, "cvc": "123"}}
    )
    stripe_client.v1.payment_intents.update(pi_id, params={"payment_method": pm.id})
    assert stripe_client.v1.payment_intents.confirm(pi_id).status == "requires_capture"
    return o, pi_id, r


def capture_path(o: dict, action: str) -> str:
    return f"/events/v1/events/orders/{o['orderNumber']}/{action}"


def test_manual_capture_authorizes_then_captures_once(api, client, database, shop, stripe_client):
    o, pi_id, r = authorize(api, client, shop, stripe_client)
    resp = send(client, event_for(stripe_client, pi_id, "payment_intent.amount_capturable_updated"))
    assert resp.status_code == 200 and resp.json()["orderStatus"] == "AUTHORIZED"
    assert sales(api, shop[1]["id"])["soldCount"] == 2  # the seats are sold: the money is held
    got = api.get(f"/events/v1/events/{o['eventId']}/orders/{o['orderNumber']}").json()["order"]
    assert got["status"] == "AUTHORIZED" and got["confirmed"] is False
    ci = api.post("/events/v1/tickets/check-in", {"eventId": o["eventId"], "ticketNumber": [got["tickets"][0]["ticketNumber"]]})
    assert ci.status_code == 428 and code(ci) == "ORDER_NOT_CONFIRMED"
    assert counts(database)["mail"] == 0
    # the same authorization event again changes nothing
    assert send(client, event_for(stripe_client, pi_id, "payment_intent.amount_capturable_updated")).json()["orderStatus"] == "AUTHORIZED"
    done = api.post(capture_path(o, "capture"), {"eventId": o["eventId"]})
    assert done.status_code == 200, done.text
    assert stripe_client.v1.payment_intents.retrieve(pi_id).status == "succeeded"
    assert order_row(database, o["orderNumber"]).status == "PAID"
    assert counts(database)["mail"] == 1  # the confirmation, now that it is paid
    before = counts(database)
    assert send(client, event_for(stripe_client, pi_id, "payment_intent.succeeded")).json()["orderStatus"] == "PAID"
    assert counts(database) == before
    again = api.post(capture_path(o, "capture"), {"eventId": o["eventId"]})
    assert again.status_code == 428 and code(again) == "ORDER_STATUS_NOT_AUTHORIZED"
    assert stripe_client.v1.refunds.list(params={"payment_intent": pi_id}).data == []


def test_void_lets_the_authorization_go_and_frees_the_seats(api, client, database, shop, stripe_client, make_api):
    o, pi_id, _ = authorize(api, client, shop, stripe_client)
    send(client, event_for(stripe_client, pi_id, "payment_intent.amount_capturable_updated"))
    assert make_api(identity="visitor").post(capture_path(o, "void"), {}).status_code == 403
    assert make_api(site="site-b").post(capture_path(o, "void"), {}).status_code == 404
    assert api.post(capture_path(o, "void"), {"orderNumber": "OTHER-1"}).status_code == 400
    done = api.post(capture_path(o, "void"), {})
    assert done.status_code == 200, done.text
    assert stripe_client.v1.payment_intents.retrieve(pi_id).status == "canceled"
    assert order_row(database, o["orderNumber"]).status == "VOIDED"
    assert sales(api, shop[1]["id"])["soldCount"] == 0 and sales(api, shop[1]["id"])["unsoldCount"] == 10
    assert api.post(capture_path(o, "capture"), {}).status_code == 428
    # Stripe's own canceled event afterwards changes nothing
    before = counts(database)
    assert send(client, event_for(stripe_client, pi_id, "payment_intent.canceled")).status_code == 200
    assert counts(database) == before


def test_capture_and_void_refuse_orders_without_an_authorization(api, client, database, shop, stripe_client):
    o, _ = paid(api, client, shop, stripe_client, 1)  # automatic capture: PAID at once
    for action in ("capture", "void"):
        r = api.post(capture_path(o, action), {})
        assert r.status_code == 428 and code(r) == "ORDER_STATUS_NOT_AUTHORIZED", r.text
    assert api.post("/events/v1/events/orders/NOPE-1/capture", {}).status_code == 404


def test_an_authorization_after_the_hold_is_let_go_not_kept(api, client, database, shop, stripe_client):
    o, pi_id, r = authorize(api, client, shop, stripe_client)
    expire_now(database, r["id"])
    resp = send(client, event_for(stripe_client, pi_id, "payment_intent.amount_capturable_updated"))
    assert resp.status_code == 200 and resp.json()["orderStatus"] == "CANCELED"
    assert stripe_client.v1.payment_intents.retrieve(pi_id).status == "canceled"  # nothing taken, nothing to refund
    assert counts(database)["refunds"] == 0
    assert sales(api, shop[1]["id"])["soldCount"] == 0


def test_canceling_an_authorized_order_lets_the_payment_go(api, client, database, shop, stripe_client):
    o, pi_id, _ = authorize(api, client, shop, stripe_client)
    send(client, event_for(stripe_client, pi_id, "payment_intent.amount_capturable_updated"))
    r = api.post(f"/boxoffice/v1/events/{o['eventId']}/orders/{o['orderNumber']}/cancel", {})
    assert r.status_code == 200 and r.json()["refund"] is None
    assert stripe_client.v1.payment_intents.retrieve(pi_id).status == "canceled"
    assert sales(api, shop[1]["id"])["soldCount"] == 0


# --- the selling state machine, paid through Stripe -------------------------------------


def test_selling_state_machine_with_stripe(api, client, database, stripe_client):
    """tests/test_inventory_model.py's machine, with every online payment a PaymentIntent
    at localstripe and its outcome a signed webhook: success, failure, and success after
    the hold ran out or the order was declined or canceled (refunded, never kept)."""
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis.stateful import run_state_machine_as_test

    from tests.test_inventory_model import Res, machine

    def pay(res: Res, ok: bool) -> bool:
        pi_id = res.payment["paymentIntentId"]
        pi = stripe_client.v1.payment_intents.retrieve(pi_id)
        if ok and pi.status in ("requires_payment_method", "requires_confirmation"):
            card_pays(stripe_client, pi_id)
        elif ok and pi.status != "succeeded":
            return False  # canceled (declined or canceled order): the buyer can no longer pay it
        kind = "payment_intent.succeeded" if ok else "payment_intent.payment_failed"
        if not ok and pi.status == "succeeded":
            return False  # a failure after a success is not something Stripe sends
        r = send(client, event_for(stripe_client, pi_id, kind))
        assert r.status_code == 200, r.text
        return ok

    run_state_machine_as_test(
        machine(api, database, payer=pay, late_payments=True),
        settings=settings(
            max_examples=8, stateful_step_count=20, deadline=None, suppress_health_check=list(HealthCheck), database=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: each step is a round trip to localstripe
        ),
    )


def test_the_stripe_webhook_under_schemathesis(app, client, database):
    """schemathesis' generated requests at the webhook (mounted only with Stripe on, so
    tests/test_openapi.py does not see it): unsigned or garbage bodies are 400, never a
    500, and write nothing."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    ops = [r.ok() for r in schema.get_all_operations() if r.ok().path == WEBHOOK]
    assert len(ops) == 1
    before = counts(database)

    @given(case=ops[0].as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: Any) -> None:
        r = case.call(headers={"Stripe-Signature": "t=1,v1=" + "0" * 64})
        assert r.status_code == 400, r.text  # a bad signature, whatever the body: never a 500

    check()
    assert counts(database) == before


def test_an_order_confirmed_while_awaiting_its_card_payment_is_paid_by_hand(api, client, database, shop, stripe_client):
    """Confirm Order of an order awaiting its card payment: the organiser took the money
    some other way. Its PaymentIntent is canceled; a cancel later is refunded BY_HAND."""
    body, o, _ = start(api, shop, 1)
    pi_id = body["payment"]["paymentIntentId"]
    r = api.post(f"/events/v1/events/{o['eventId']}/orders/confirm", {"orderNumber": [o["orderNumber"]]})
    assert r.status_code == 200 and r.json()["orders"][0]["status"] == "PAID"
    assert stripe_client.v1.payment_intents.retrieve(pi_id).status == "canceled"
    c = api.post(f"/boxoffice/v1/events/{o['eventId']}/orders/{o['orderNumber']}/cancel", {})
    assert c.status_code == 200 and c.json()["refund"]["status"] == "BY_HAND", c.text
    assert counts(database)["refunds"] == 1  # the by-hand record only: Stripe was asked for nothing


def test_a_card_payment_made_while_the_organiser_confirmed_is_given_back(api, client, database, shop, stripe_client):
    """The buyer pays by card at the moment the organiser confirms the order as paid some
    other way (its success event not yet delivered): the order stays PAID once, and the
    card payment is refunded when its event comes."""
    body, o, _ = start(api, shop, 1)
    pi_id = body["payment"]["paymentIntentId"]
    card_pays(stripe_client, pi_id)  # succeeded at Stripe; its webhook is on its way
    r = api.post(f"/events/v1/events/{o['eventId']}/orders/confirm", {"orderNumber": [o["orderNumber"]]})
    assert r.status_code == 200  # the PaymentIntent cannot be canceled any more (logged, best effort)
    resp = send(client, event_for(stripe_client, pi_id, "payment_intent.succeeded"))
    assert resp.status_code == 200 and resp.json()["orderStatus"] == "PAID" and resp.json()["refundId"]
    made = stripe_client.v1.refunds.list(params={"payment_intent": pi_id}).data
    assert [x.id for x in made] == [resp.json()["refundId"]]
    with database.session() as s:
        assert s.scalars(select(PaymentRefund.reason)).one() == "PAID_OTHERWISE"
    again = send(client, event_for(stripe_client, pi_id, "payment_intent.succeeded"))
    assert again.status_code == 200 and "refundId" not in again.json()
    assert sales(api, shop[1]["id"])["soldCount"] == 1
