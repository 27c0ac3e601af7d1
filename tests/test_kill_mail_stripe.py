"""SIGKILL while Stripe webhooks and confirmation e-mails are in flight: nothing is lost,
nothing is done twice in effect. On SQLite (a file) and on PostgreSQL.

Real processes: ``localstripe`` (as tests/test_stripe.py runs it) holds the
PaymentIntents; ``boxoffice serve`` / ``boxoffice worker`` talk to it and send mail
through a slow aiosmtpd server on loopback (every DATA is answered after
``SMTP_DELAY``; the test can make it hold a DATA open, unanswered, until it lets go).
The test plays Stripe: it pays each PaymentIntent with a card at localstripe and sends
the signed ``payment_intent.succeeded`` event, as Stripe does, again whenever the
endpoint gave no 2xx, and sometimes when it did (Stripe delivers at least once).

1. ``serve`` A (API + mail thread). N orders are checked out through it. Batch 1's
   events are delivered (two of them twice at once); A starts mailing. Three threads
   then deliver batch 2's events over and over (a redelivery storm). Once some are
   answered, the SMTP server holds the next DATA, and **A is SIGKILLed** (kill 1) the
   moment its mail loop is inside that DATA while webhook requests are outstanding.
   Proven in flight: the server holds A's DATA (arrived less than half the send
   deadline before: A was still waiting for the answer), requests were unanswered,
   and some but not all orders are paid (batch 3 was not sent yet). Stripe then
   tries batch 3 against the dead endpoint: refused.
2. ``serve`` B (API only) and ``worker`` W1 start. Every event that never got a 2xx
   (but batch 3) is redelivered to B. W1 takes over the mail (A's claimed messages
   once their lease ran out); the SMTP server answers W1's first DATA and holds the
   next, and **W1 is SIGKILLed** (kill 2) inside it: some but not all confirmations
   are recorded as sent.
3. Batch 3 is redelivered to B while no mail worker runs (its mail waits in the
   table); ``worker`` W2 sends everything that is left. Stripe delivers every event
   once more. Then:

* every order is PAID once: its one PaymentIntent (succeeded at Stripe), one
  OrderConfirmed event, its tickets issued once (no duplicate ticket, none canceled),
  its reservation CONFIRMED; every webhook answered 2xx in the end, never a refund
  (``payment_refunds`` empty; no refund at Stripe);
* seats are exact: the definition's sold count is the number of tickets, nothing is
  left reserved (the stored counters and Get Ticket Definition's SALES_DETAILS agree);
* every buyer got their confirmation (one ``mail_messages`` row per order, SENT, with
  its tickets attached), at least once. **At most one duplicate per kill of a process
  that was sending mail**, and only of the message that was inside DATA at the kill:
  SMTP cannot be exactly-once. A sender that dies after the server has the whole
  message but before it records SENT (here: while the server holds the DATA answer)
  cannot know whether the server took it; after its lease the message is sent again,
  with the same Message-ID, so a mail client shows it once. The mail loop sends one
  message at a time and records each before the next, so a kill leaves at most one
  such message. (A killed webhook request is not a duplicate: the order row is locked
  and its state decides, so a redelivered event finds the order PAID.)

Leases are shortened through the environment (BOXOFFICE_MAIL_LEASE_SECONDS) so the
restarted worker takes the killed one's messages after seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from boxoffice import models_registry  # noqa: F401
from boxoffice.auth import create_api_key
from boxoffice.db import Database
from boxoffice.identity import IdentityType
from boxoffice.mail.models import MailMessage, MailStatus
from boxoffice.migrations import upgrade
from boxoffice.orders.models import Order
from boxoffice.outbox.models import OutboxEvent
from boxoffice.payments.models import PaymentRefund
from boxoffice.reservations.models import TicketReservation
from boxoffice.ticket_definitions.models import TicketDefinition
from boxoffice.tickets.models import Ticket
from boxoffice.webhooks.signing import ensure_key
from tests.conftest import PG_DB, Api, make_pg_database
from tests.helpers import RES, create_event, create_td, guest_form, sales
from tests.test_mail import Inbox, free_port
from tests.test_stripe import SECRET, card_pays, event_for, send

BOXOFFICE = str(Path(sys.executable).parent / "boxoffice")
SITE = "kill"
N = 12
BATCH1, BATCH2 = range(0, 4), range(4, 10)  # batch 3: the rest
BATCH3 = range(BATCH2.stop, N)
SEATS = 30
SMTP_DELAY = 0.05  # each DATA answered after this long
MAIL_TIMEOUT, MAIL_LEASE = 1.0, 3.0  # a killed worker's messages go again after MAIL_LEASE
KILLS_OF_MAIL_SENDERS = 2
DEADLINE = 25.0  # any single wait


def quantity(i: int) -> int:
    return 1 + i % 2


class SlowInbox(Inbox):
    """tests/test_mail.py's Inbox, slow and without blocking aiosmtpd's loop: each DATA
    is answered after SMTP_DELAY. ``hold_after(k)`` lets k more DATA transactions through
    and holds every later one open (received, not answered) until ``release()``. A
    message counts as received when its DATA arrives whole (a real server keeps it even
    if the client vanishes before the answer)."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.passes: int | None = None  # None: nothing is held
        self.holding: dict[int, tuple[str, float]] = {}  # DATA held open now: (Message-ID, when it arrived)

    def hold_after(self, after: int = 0) -> None:
        with self.lock:
            self.passes = after

    def release(self) -> None:
        with self.lock:
            self.passes = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mid = str(BytesParser(policy=policy.default).parsebytes(envelope.content, headersonly=True)["Message-ID"])
        t = time.monotonic()
        with self.lock:
            self.envelopes.append(envelope)
            held = self.passes is not None and self.passes <= 0
            if self.passes is not None and self.passes > 0:
                self.passes -= 1
        self.received.set()
        await asyncio.sleep(SMTP_DELAY)
        if held:
            with self.lock:
                self.holding[id(envelope)] = (mid, t)
            try:
                while self.passes is not None:
                    await asyncio.sleep(0.002)
            finally:
                with self.lock:
                    self.holding.pop(id(envelope), None)
        return "250 OK"

    def held(self) -> list[str]:
        with self.lock:
            return [mid for mid, _ in self.holding.values()]

    def oldest_hold(self) -> float:
        """Seconds since the oldest held DATA arrived (its sender's deadline runs from before)."""
        with self.lock:
            return max((time.monotonic() - t for _, t in self.holding.values()), default=0.0)


class StripeSide:
    """Stripe delivering events to the webhook endpoint: each one signed afresh, the
    outcome of every attempt kept (a 2xx, another status, or a transport error), and
    how many requests are outstanding right now."""

    def __init__(self, base: str, events: dict[str, bytes]) -> None:
        self.base, self.events = base, events
        self.lock = threading.Lock()
        self.ok: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.answers: list[dict[str, Any]] = []
        self.in_flight = 0

    def deliver(self, http: httpx.Client, number: str) -> bool:
        with self.lock:
            self.in_flight += 1
        try:
            r = send(http, self.events[number])
        except httpx.TransportError as e:
            with self.lock:
                self.failed[number] += 1
                self.errors[type(e).__name__] += 1
            return False
        finally:
            with self.lock:
                self.in_flight -= 1
        with self.lock:
            if 200 <= r.status_code < 300:
                self.ok[number] += 1
                self.answers.append(r.json())
            else:
                self.failed[number] += 1
                self.errors[f"HTTP {r.status_code}"] += 1
        return 200 <= r.status_code < 300

    def deliver_all(self, numbers: list[str], threads: int = 4) -> None:
        """Each once, concurrently (a number listed twice is sent twice, at once)."""
        local, clients = threading.local(), []

        def one(n: str) -> bool:
            if not hasattr(local, "http"):
                local.http = httpx.Client(base_url=self.base, timeout=15)
                clients.append(local.http)
            return self.deliver(local.http, n)

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, numbers))
        for c in clients:
            c.close()

    def storm(self, numbers: list[str], threads: int, stop: threading.Event) -> list[threading.Thread]:
        """Redeliver ``numbers`` over and over from ``threads`` threads until ``stop``."""

        def run(j: int) -> None:
            mine = numbers[j::threads]
            with httpx.Client(base_url=self.base, timeout=15) as http:
                k = 0
                while not stop.is_set():
                    self.deliver(http, mine[k % len(mine)])
                    k += 1

        ts = [threading.Thread(target=run, args=(j,), daemon=True) for j in range(threads)]
        for t in ts:
            t.start()
        return ts

    def never_ok(self, numbers: Any) -> list[str]:
        with self.lock:
            return [n for n in numbers if not self.ok[n]]


def wait_for(cond: Callable[[], Any], what: str, timeout: float = DEADLINE, step: float = 0.002) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(step)


class Procs:
    """The boxoffice processes of one run, their output in one log file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.all: list[subprocess.Popen] = []

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        with self.log.open("ab") as f:
            p = subprocess.Popen([BOXOFFICE, *args], env={**self.env, **env}, stdout=f, stderr=subprocess.STDOUT)
        self.all.append(p)
        return p

    def serve(self, **env: str) -> tuple[subprocess.Popen, str]:
        port = free_port()
        p = self.start("serve", "--port", str(port), "--no-access-log", "--log-level", "warning", **env)
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert p.poll() is None, f"serve exited; log:\n{self.tail()}"
            try:
                return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, "boxoffice serve to answer", timeout=90, step=0.05)  # a start, not a recovery: slow on a busy machine
        return p, base

    def kill(self, p: subprocess.Popen) -> None:
        p.send_signal(signal.SIGKILL)
        p.wait(10)

    def stop_all(self) -> None:
        for p in self.all:
            if p.poll() is None:
                p.terminate()
        for p in self.all:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


class KillWhen(threading.Thread):
    """SIGKILLs ``proc`` the moment ``ready()`` holds (polled every 2 ms, beside whatever
    the test does meanwhile), keeping what the SMTP server held open then and for how long."""

    def __init__(self, procs: Procs, proc: subprocess.Popen, ready: Callable[[], Any], inbox: SlowInbox,
                 what: str) -> None:
        super().__init__(daemon=True)
        self.procs, self.proc, self.ready, self.inbox, self.what = procs, proc, ready, inbox, what
        self.held: list[str] = []
        self.age = 0.0
        self.error: str | None = None
        self.start()

    def run(self) -> None:
        try:
            wait_for(self.ready, self.what)
        except AssertionError as e:
            self.error = str(e)
            return
        self.held, self.age = self.inbox.held(), self.inbox.oldest_hold()
        self.procs.kill(self.proc)

    def result(self) -> list[str]:
        self.join(DEADLINE + 5)
        assert self.error is None and not self.is_alive(), f"{self.error}; log:\n{self.procs.tail()}"
        assert self.proc.poll() == -signal.SIGKILL
        # the sender was still waiting for the answer (its deadline is MAIL_TIMEOUT)
        assert len(self.held) == 1 and self.age < MAIL_TIMEOUT / 2, (self.held, self.age)
        return self.held


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kill.db'}"
    return make_pg_database(f"{PG_DB}_kill")


@pytest.fixture(scope="module")
def localstripe() -> Iterator[str]:
    """tests/test_stripe.py's localstripe process, started ``--from-scratch``: localstripe
    pickles its whole store to /tmp/localstripe.pickle on every write and, without the
    flag, loads that file at start, so it fails to start when another localstripe on the
    machine is halfway through writing it (and inherits every object ever made)."""
    port = free_port()
    exe = Path(sys.executable).with_name("localstripe")
    proc = subprocess.Popen([str(exe), "--port", str(port), "--from-scratch"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, "localstripe exited"
        try:
            httpx.get(f"{base}/v1/payment_intents", headers={"Authorization": "Bearer sk_test_x"}, timeout=1)
            return True
        except httpx.TransportError:
            return False

    try:
        wait_for(up, "localstripe to answer", step=0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def smtp() -> Iterator[tuple[SlowInbox, int]]:
    inbox, port = SlowInbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        inbox.release()
        controller.stop()


def count(db: Database, stmt: Any) -> int:
    with db.session() as s:
        return int(s.scalar(stmt) or 0)


def paid(db: Database) -> int:
    return count(db, select(func.count()).select_from(Order).where(Order.status == "PAID"))


def mails_sent(db: Database) -> int:
    return count(db, select(func.count()).select_from(MailMessage).where(MailMessage.status == MailStatus.SENT))


def test_kill_serve_and_worker_mid_webhooks_and_mid_smtp(store: str, localstripe: str, smtp: tuple[SlowInbox, int],
                                                         tmp_path: Path) -> None:
    t_start = time.monotonic()
    inbox, smtp_port = smtp
    upgrade(store)
    t_up = time.monotonic()
    db = Database(store)
    with db.session(write=True) as s:
        ensure_key(s)
        key = create_api_key(s, SITE, IdentityType.APP)
    env = {
        **os.environ,
        "BOXOFFICE_DATABASE_URL": store,
        "BOXOFFICE_STRIPE_SECRET_KEY": "sk_test_boxoffice",
        "BOXOFFICE_STRIPE_WEBHOOK_SECRET": SECRET,
        "BOXOFFICE_STRIPE_API_BASE": localstripe,
        "BOXOFFICE_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "BOXOFFICE_MAIL_FROM": "Leather Shop <tickets@shop.example>",
        "BOXOFFICE_PUBLIC_URL": "https://tickets.example.org",
        "BOXOFFICE_MAIL_TIMEOUT_SECONDS": str(MAIL_TIMEOUT),
        "BOXOFFICE_MAIL_LEASE_SECONDS": str(MAIL_LEASE),
        "BOXOFFICE_MAIL_BACKOFF_SECONDS": "1",
    }
    procs = Procs(env, tmp_path / "boxoffice.log")
    stripe_client = stripe.StripeClient("sk_test_boxoffice", base_addresses={"api": localstripe}, max_network_retries=0)
    held_at_kill: list[str] = []
    try:
        # --- 1. serve A: the shop, N orders, their card payments at Stripe ------------------
        a, base = procs.serve()
        t_a = time.monotonic()
        owner = Api(httpx.Client(base_url=base, timeout=30), key, SITE)
        ev = create_event(owner, draft=False)
        td = create_td(owner, ev["id"], name="Seat", initialLimit=SEATS,
                       pricingMethod={"fixedPrice": {"value": "40", "currency": "USD"}})

        def buy(i: int) -> tuple[str, str, bytes]:
            api = Api(httpx.Client(base_url=base, timeout=30), key, SITE)
            r = api.post(RES, {"ticketReservation": {"tickets": [{"ticketDefinitionId": td["id"], "quantity": quantity(i)}]}})
            assert r.status_code == 200, r.text
            body = {"eventId": ev["id"], "reservationId": r.json()["ticketReservation"]["id"],
                    "guests": [guest_form(first=f"Buyer{i}", email=f"buyer{i}@example.com")]}
            c = api.post("/events/v1/checkout", body)
            assert c.status_code == 200, c.text
            number, pi = c.json()["order"]["orderNumber"], c.json()["payment"]["paymentIntentId"]
            card_pays(stripe_client, pi)  # the buyer pays with Stripe.js
            return number, pi, event_for(stripe_client, pi, "payment_intent.succeeded")

        with ThreadPoolExecutor(4) as pool:
            bought = list(pool.map(buy, range(N)))
        numbers = [b[0] for b in bought]
        pis = {b[0]: b[1] for b in bought}
        sq = StripeSide(base, {b[0]: b[2] for b in bought})
        assert paid(db) == 0
        t_orders = time.monotonic()

        # batch 1, two of its events twice at once (Stripe's duplicate delivery)
        b1 = [numbers[i] for i in BATCH1]
        sq.deliver_all(b1 + b1[:2])
        assert sq.never_ok(b1) == [] and paid(db) == len(b1), (sq.errors, procs.tail())

        # batch 2: a redelivery storm; A is mailing batch 1's confirmations meanwhile
        b2 = [numbers[i] for i in BATCH2]
        stop = threading.Event()
        storm = sq.storm(b2, 3, stop)
        wait_for(lambda: sum(sq.ok[n] for n in b2) >= 2, "batch 2's first answers")
        in_flight_1 = 0

        def kill1_ready() -> bool:
            nonlocal in_flight_1
            in_flight_1 = sq.in_flight
            return bool(inbox.held()) and in_flight_1 >= 1

        inbox.hold_after(0)  # the next DATA is held open
        kill1 = KillWhen(procs, a, kill1_ready, inbox, "A inside DATA with webhooks outstanding")
        held_at_kill += kill1.result()  # kill 1
        stop.set()
        for t in storm:
            t.join(20)
        b3 = [numbers[i] for i in BATCH3]
        sq.deliver_all(b3)  # Stripe tries batch 3 now: the endpoint is down
        assert sq.never_ok(b3) == b3
        inbox.release()
        paid_1, sent_1 = paid(db), mails_sent(db)
        assert len(b1) < paid_1 < N, paid_1  # some but not all orders paid at the kill
        assert sent_1 < paid_1  # the message held in DATA was not recorded as sent
        lost_answers_1 = dict(sq.errors)
        with db.session() as s:  # events whose order was paid but whose answer the kill lost
            status = dict(s.execute(select(Order.order_number, Order.status)).all())
        paid_unanswered = [n for n in sq.never_ok(b2) if status[n] == "PAID"]
        t_kill1 = time.monotonic()

        # --- 2. serve B (API only) and worker W1; Stripe redelivers what got no 2xx --------
        passes = 1 if paid_1 - sent_1 >= 2 else 0  # W1 sends one (if it has two), the next is held
        inbox.hold_after(passes)
        w1 = procs.start("worker")  # (starting up beside B)
        kill2 = KillWhen(procs, w1, inbox.held, inbox, "W1 inside DATA")
        _, base_b = procs.serve(BOXOFFICE_BACKGROUND="0")
        sq.base = base_b
        retry = sq.never_ok(numbers[: BATCH2.stop])
        sq.deliver_all(retry)
        assert sq.never_ok(numbers[: BATCH2.stop]) == [], (sq.errors, procs.tail())
        assert paid(db) == BATCH2.stop
        held_at_kill += kill2.result()  # kill 2
        inbox.release()
        sent_2 = mails_sent(db)
        assert sent_1 + passes <= sent_2 < N  # some but not all confirmations recorded as sent
        t_kill2 = time.monotonic()

        # --- 3. batch 3 arrives while no worker runs; W2 sends what is left ------------------
        procs.start("worker")  # W2: it takes W1's messages once their lease runs out
        sq.deliver_all(sq.never_ok(numbers))
        assert sq.never_ok(numbers) == [] and paid(db) == N
        wait_for(lambda: mails_sent(db) == N, f"all {N} confirmations sent", step=0.05)
        sq.deliver_all(numbers)  # and Stripe delivers every event once more
        time.sleep(SMTP_DELAY * 3)  # (a message queued again by mistake would be on its way now)
        t_done = time.monotonic()
        # seats as the API tells them (B still runs)
        owner = Api(httpx.Client(base_url=base_b, timeout=30), key, SITE)
        total_tickets = sum(quantity(i) for i in range(N))
        assert sales(owner, td["id"]) == {
            "unsoldCount": SEATS - total_tickets, "soldCount": total_tickets, "reservedCount": 0, "soldOut": False,
        }
    finally:
        procs.stop_all()
        log = procs.tail()
    t_stopped = time.monotonic()
    print(
        f"\n{store.split(':')[0]}: kill 1 with {in_flight_1} webhook requests outstanding, {paid_1}/{N} paid, "
        f"{sent_1} mails sent (transport errors then: {lost_answers_1}; paid but unanswered: {len(paid_unanswered)}); kill 2 with {sent_2}/{N} sent; "
        f"held in DATA at the kills: {held_at_kill}; deliveries: {sum(sq.ok.values())} answered 2xx, "
        f"{sum(sq.failed.values())} not; {len(inbox.envelopes)} messages received. "
        f"Times: migrated {t_up - t_start:.1f}s, A up {t_a - t_start:.1f}s, orders {t_orders - t_start:.1f}s, kill 1 at {t_kill1 - t_start:.1f}s, kill 2 at {t_kill2 - t_start:.1f}s, "
        f"done at {t_done - t_start:.1f}s, stopped at {t_stopped - t_start:.1f}s"
    )

    # --- every order paid exactly once ------------------------------------------------------
    assert all(a.get("orderStatus") == "PAID" and "refundId" not in a for a in sq.answers), sq.answers
    assert not [e for e in sq.errors if e.startswith("HTTP")], sq.errors  # only the kills cost answers
    assert sq.never_ok(numbers) == []
    with db.session() as s:
        orders = {o.order_number: o for o in s.scalars(select(Order).where(Order.site_id == SITE))}
        assert sorted(orders) == sorted(numbers)
        assert {n: (o.status, o.payment_provider, o.payment_id) for n, o in orders.items()} == {
            n: ("PAID", "stripe", pis[n]) for n in numbers
        }
        confirmed = Counter(
            e for e, t in s.execute(select(OutboxEvent.entity_id, OutboxEvent.event_type)) if "OrderConfirmed" in t
        )
        assert confirmed == Counter({o.id: 1 for o in orders.values()}), "an order confirmed twice (or never)"
        tickets = list(s.scalars(select(Ticket).where(Ticket.site_id == SITE)))
        per_order = Counter(t.order_number for t in tickets)
        assert per_order == Counter({numbers[i]: quantity(i) for i in range(N)})
        assert len({t.ticket_number for t in tickets}) == len(tickets) and not any(t.canceled for t in tickets)
        res = Counter(s.scalars(select(TicketReservation.status).where(TicketReservation.site_id == SITE)))
        assert res == Counter({"CONFIRMED": N})
        # no refund: none owed, none made
        assert s.scalar(select(func.count()).select_from(PaymentRefund)) == 0
        # seats exact
        row = s.get(TicketDefinition, td["id"])
        assert row is not None and (row.sold_count, row.reserved_count) == (len(tickets), 0)
        mails = list(s.scalars(select(MailMessage).where(MailMessage.site_id == SITE)))
    db.dispose()
    assert len(tickets) == total_tickets
    for n, pi_id in pis.items():
        pi = stripe_client.v1.payment_intents.retrieve(pi_id)
        assert (pi.status, pi.amount) == ("succeeded", orders[n].total_cents)
        assert stripe_client.v1.refunds.list(params={"payment_intent": pi_id}).data == []

    # --- every buyer got their confirmation; a duplicate only of a message killed in DATA ----
    by_order = {m.order_id: m for m in mails}
    assert len(mails) == N and set(by_order) == {o.id for o in orders.values()}, "one message per order"
    assert all(m.status == MailStatus.SENT for m in mails), [(m.status, m.last_error) for m in mails]
    received = inbox.messages()
    ids = Counter(str(m["Message-ID"]) for m in received)
    expected = {f"<{m.message_id}@shop.example>": orders_by_id(orders)[m.order_id] for m in mails}
    assert set(ids) == set(expected), f"missing {set(expected) - set(ids)}, unknown {set(ids) - set(expected)}"
    for msg in received:
        number = expected[str(msg["Message-ID"])]
        i = numbers.index(number)
        assert msg["To"].addresses[0].addr_spec == f"buyer{i}@example.com" and number in str(msg["Subject"])
        assert sum(1 for a in msg.iter_attachments() if a.get_content_type() == "application/pdf") == quantity(i)
    duplicates = {mid: n - 1 for mid, n in ids.items() if n > 1}
    assert sum(duplicates.values()) <= KILLS_OF_MAIL_SENDERS, duplicates
    assert set(duplicates) <= set(held_at_kill), (duplicates, held_at_kill)
    assert len(held_at_kill) == KILLS_OF_MAIL_SENDERS, held_at_kill
    assert "mail round failed" not in log, log


def orders_by_id(orders: dict[str, Order]) -> dict[str, str]:
    return {o.id: n for n, o in orders.items()}
