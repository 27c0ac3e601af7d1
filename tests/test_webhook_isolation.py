"""One receiver must not stall every tenant's webhooks (issue 9, finding 3).

Three sites, each subscribed to its own receiver on 127.0.0.1:

* ``hang``: accepts the connection, reads the request, never answers;
* ``drip``: answers the status line and headers at once, then one byte of its body
  every 1.5 s (httpx's per-read timeout never fires on it);
* ``good``: answers 200 at once.

For ~10 s each site creates a ticket definition every 0.25 s through the API, while the
real worker (``Background``, in-process: the delivery loop, the event-loop senders, the
after-commit wake-ups) delivers, with a 2.5 s deadline per attempt and 12 senders, of
which at most 4 per subscription. Then:

* the good site's event-to-delivery latency (first receipt minus the event's
  ``created_date``) has p99 < 2 s, over the whole run and in each third of it; every
  one of its events arrives;
* the hanging and dripping sites' deliveries are never DELIVERED: attempts are
  recorded with a last_error (the deadline), and retried with backoff;
* the deadline really closes the sockets: no connection to the bad receivers lives
  much longer than the deadline.

Before the fix (rounds of up to 200 deliveries recorded only when all were done, a
per-read timeout) the good site's deliveries waited for the slowest receiver of each
round: seconds each, minutes for the dripping one.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from sqlalchemy import select

from boxoffice.background import Background
from boxoffice.outbox.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from boxoffice.webhooks import service as webhooks
from boxoffice.webhooks.worker import Worker, WorkerSettings
from tests.helpers import TD, create_event, td_body

PRODUCE_SECONDS = 10.0
EVERY = 0.25
TIMEOUT = 2.5
DRIP_EVERY = 1.5


class Good:
    """Answers 200 at once; records (event id, time of receipt)."""

    def __init__(self) -> None:
        self.receipts: list[tuple[str, float]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                t = time.time()
                data = json.loads(json.loads(jwt.decode(body, options={"verify_signature": False})["data"])["data"])
                outer.receipts.append((data["id"], t))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Bad:
    """A raw TCP receiver that misbehaves: ``hang`` never answers, ``drip`` sends the
    headers then a byte every DRIP_EVERY seconds. Records how long each connection
    lived (until the worker closed it)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.lifetimes: list[float] = []  # seconds from accept to the worker's close
        self.open = 0
        self.accepted = 0
        self.lock = threading.Lock()
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with self.lock:
                self.accepted += 1
                self.open += 1
            threading.Thread(target=self._serve, args=(conn, time.monotonic()), daemon=True).start()

    def _serve(self, conn: socket.socket, t0: float) -> None:
        try:
            conn.settimeout(0.1)
            if self.mode == "drip":
                got = b""
                while b"\r\n\r\n" not in got and not self._stop.is_set():
                    try:
                        chunk = conn.recv(65536)
                    except TimeoutError:
                        continue
                    if not chunk:
                        return
                    got += chunk
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n")
                while not self._stop.wait(DRIP_EVERY):
                    conn.sendall(b".")  # raises once the worker has closed its end
            else:
                while not self._stop.is_set():  # read whatever comes, answer nothing
                    try:
                        if not conn.recv(65536):
                            return  # the worker closed the connection
                    except TimeoutError:
                        continue
        except OSError:
            pass
        finally:
            if not self._stop.is_set():
                with self.lock:
                    self.lifetimes.append(time.monotonic() - t0)
            with self.lock:
                self.open -= 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


@pytest.fixture
def receivers():
    good, hang, drip = Good(), Bad("hang"), Bad("drip")
    yield {"good": good, "hang": hang, "drip": drip}
    good.close()
    hang.close()
    drip.close()


def test_a_hanging_and_a_dripping_receiver_do_not_delay_another_sites_webhooks(make_api, database, receivers):
    apis = {name: make_api(site=f"{name}-site") for name in receivers}
    with database.session(write=True) as s:
        for name, r in receivers.items():
            webhooks.add(s, f"{name}-site", r.url, ["*"], allow_private=True)  # the operator's path: local receivers
    events = {name: create_event(api)["id"] for name, api in apis.items()}
    settings = WorkerSettings(timeout_seconds=TIMEOUT, concurrency=12, per_subscription=4, backoff_base=0.5,
                              max_attempts=50)
    t_start = time.monotonic()
    bg = Background(database, tick_seconds=1.0, settings=settings)
    try:
        i = 0
        while time.monotonic() - t_start < PRODUCE_SECONDS:
            for name, api in apis.items():
                r = api.post(TD, td_body(events[name], name=f"T{i}"))
                assert r.status_code == 200, r.text
            i += 1
            time.sleep(max(0.0, t_start + i * EVERY - time.monotonic()))
        produced_for = time.monotonic() - t_start
        # the good site's last events arrive within the bound too
        with database.session() as s:
            good_ids = set(s.scalars(select(OutboxEvent.event_id).where(OutboxEvent.site_id == "good-site")))
        deadline = time.monotonic() + 5
        while {e for e, _ in receivers["good"].receipts} < good_ids and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        with database.session() as s:
            rows = s.execute(select(WebhookDelivery, WebhookSubscription.site_id).join(
                WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)).all()
    finally:
        # the bad receivers go first: a worker without a deadline would wait on them forever
        receivers["hang"].close()
        receivers["drip"].close()
        t_stop = time.monotonic()
        bg.stop()
        stopped_in = time.monotonic() - t_stop

    with database.session() as s:
        created = {e: c.timestamp() for e, c in s.execute(
            select(OutboxEvent.event_id, OutboxEvent.created_date).where(OutboxEvent.site_id == "good-site"))}
    first: dict[str, float] = {}
    for eid, t in receivers["good"].receipts:
        first.setdefault(eid, t)
    latencies = sorted((created[e], first[e] - created[e]) for e in created if e in first)
    lat = [x for _, x in latencies]
    by_site: dict[str, list[WebhookDelivery]] = defaultdict(list)
    for d, site in rows:
        by_site[site].append(d)
    summary = {
        "good": {"events": len(created), "delivered": len(lat), "p50_ms": round(pct(lat, 50) * 1000),
                 "p99_ms": round(pct(lat, 99) * 1000), "max_ms": round(max(lat) * 1000)},
        **{name: {"deliveries": len(by_site[f"{name}-site"]),
                  "attempted": sum(d.attempts > 0 for d in by_site[f"{name}-site"]),
                  "attempts": sum(d.attempts for d in by_site[f"{name}-site"]),
                  "max_attempts": max(d.attempts for d in by_site[f"{name}-site"]),
                  "connections": receivers[name].accepted,
                  "longest_connection_s": round(max(receivers[name].lifetimes, default=0), 2)}
           for name in ("hang", "drip")},
        "produced_for_s": round(produced_for, 1), "stopped_in_s": round(stopped_in, 1),
    }
    print(f"\n{database.engine.dialect.name}: {summary}")

    # the good site: everything delivered, fast, all along
    assert set(first) >= set(created), f"{len(set(created) - set(first))} of the good site's events never arrived"
    assert len(created) >= PRODUCE_SECONDS / EVERY
    assert pct(lat, 99) < 2.0, summary
    third = len(latencies) // 3
    for part in (latencies[:third], latencies[third:2 * third], latencies[2 * third:]):
        assert pct([x for _, x in part], 99) < 2.0, (summary, [round(x, 2) for _, x in part])
    assert {d.status for d in by_site["good-site"]} == {"DELIVERED"}

    # the bad ones: never delivered, attempted, failed with the deadline, retried later
    for name in ("hang", "drip"):
        ds = by_site[f"{name}-site"]
        assert not [d for d in ds if d.status == "DELIVERED"], name
        tried = [d for d in ds if d.attempts > 0]
        assert tried and all(d.last_error and "Timeout" in d.last_error for d in tried), (name, [d.last_error for d in tried][:3])
        assert max(d.attempts for d in ds) >= 2, (name, summary)  # retried
        # backed off: a failed delivery is not due again at once
        assert all(d.next_attempt_date > d.created_date for d in tried if d.status == "PENDING"), name
        # the deadline closed the sockets (a dripping answer is not read for minutes)
        assert receivers[name].lifetimes and max(receivers[name].lifetimes) < TIMEOUT + DRIP_EVERY + 2.0, (name, summary)


def test_a_receiver_that_never_answers_holds_only_its_own_subscriptions_slots(make_api, database):
    """Per-subscription concurrency: a receiver that accepts and never answers (its
    deadline far away) holds at most ``per_subscription`` of the worker's senders, and
    another subscription's deliveries, claimed after its own, all arrive while it still
    hangs. Nothing here is timed but the bounded waits: the good site's webhooks must
    arrive while every attempt to the hanging one is still open. A worker that waited on
    its slowest receiver (rounds), or let one subscription take every sender, would
    deliver none of them before the hanging receiver let go."""
    hang, good = Bad("hang"), Good()
    stop = threading.Event()
    try:
        apis = {"hang": make_api(site="hang-site"), "good": make_api(site="good-site")}
        with database.session(write=True) as s:
            webhooks.add(s, "hang-site", hang.url, ["*"], allow_private=True)
            webhooks.add(s, "good-site", good.url, ["*"], allow_private=True)
        # the hanging site's events first: they are claimed (and sent) first
        events = {name: create_event(api)["id"] for name, api in apis.items()}
        for name in ("hang", "good"):
            for i in range(4):
                r = apis[name].post(TD, td_body(events[name], name=f"T{i}"))
                assert r.status_code == 200, r.text
        with database.session() as s:
            good_ids = set(s.scalars(select(OutboxEvent.event_id).where(OutboxEvent.site_id == "good-site")))
            hang_deliveries = len(s.scalars(select(WebhookDelivery.id).join(
                WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                .where(WebhookSubscription.site_id == "hang-site")).all())
        assert len(good_ids) >= 5 and hang_deliveries >= 5
        # 4 senders in all, 2 per subscription: without the per-subscription bound the
        # hanging receiver's deliveries would take all four
        worker = Worker(database, WorkerSettings(timeout_seconds=120, lease_seconds=300, concurrency=4,
                                                 per_subscription=2))
        serving = threading.Thread(target=worker.serve, args=(stop,), daemon=True)
        serving.start()
        deadline = time.monotonic() + 60  # a bound on the wait, not a timing assertion
        while {e for e, _ in good.receipts} < good_ids and time.monotonic() < deadline:
            time.sleep(0.05)
        received = {e for e, _ in good.receipts}
        with hang.lock:
            hanging, accepted, closed = hang.open, hang.accepted, list(hang.lifetimes)
        assert received >= good_ids, f"{len(good_ids - received)} of {len(good_ids)} never arrived while one hung"
        # ... while the hanging receiver still held exactly its two attempts, unanswered
        assert (hanging, accepted, closed) == (2, 2, []), (hanging, accepted, closed)
        with database.session() as s:
            statuses = s.execute(select(WebhookSubscription.site_id, WebhookDelivery.status, WebhookDelivery.attempts)
                                 .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                                 ).all()
        assert {(st, n) for site, st, n in statuses if site == "hang-site"} == {("PENDING", 0)}
    finally:
        hang.close()  # its attempts fail now; the worker records them and stops
        stop.set()
        if "serving" in locals():
            serving.join(30)
        if "worker" in locals():
            worker.close()
        good.close()
