"""A delivery worker killed with SIGKILL mid-batch loses nothing and breaks no order.

1,000 outbox events (5 events created, then 199 ticket definitions created and each
updated 4 times, all through the API in-process) wait for a local receiver. A real
`boxoffice worker` process starts delivering; once the receiver has some but not all
of them, the process is killed with SIGKILL (no cleanup: its claimed deliveries stay
leased, some of them already received but not recorded). A second worker takes over
after the leases run out. Then:

* every delivery is DELIVERED, none DEAD or PENDING;
* the ids received are exactly the 1,000 outbox event ids (at least once each; a
  duplicate is the same event again: same id, same body);
* per entity, sequence n was first received after sequence n-1 (and never again after
  n was sent: a later event is claimed only once the earlier one is DELIVERED).

The lease is shortened for the test through BOXOFFICE_WEBHOOK_LEASE_SECONDS (the
default 30 s would make the second worker wait 30 s for the killed one's deliveries).
Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from boxoffice import models_registry  # noqa: F401
from boxoffice.app import create_app
from boxoffice.auth import _cache, create_api_key
from boxoffice.config import Settings
from boxoffice.db import Database
from boxoffice.identity import IdentityType
from boxoffice.migrations import upgrade
from boxoffice.outbox.models import OutboxEvent, WebhookDelivery
from boxoffice.webhooks import service as webhooks
from boxoffice.webhooks.signing import ensure_key
from tests.conftest import make_pg_database
from tests.helpers import EVENTS, TD, event_body, td_body

TOTAL = 1000
EVENTS_N, DEFS, UPDATES = 5, 199, 4  # 5 + 199 * (1 + 4) = 1000 outbox events
LEASE_SECONDS = 2
KILL_AT = 100  # receipts before the kill
# The second worker needs ~5-10 s (a 2 s lease, start-up, ~900 deliveries); generous.
# (Before fb64ff5 parsed the signing key once, a worker managed ~20 deliveries/s: ~45 s.)
DRAIN_DEADLINE = 60
SITE = "faults"
BOXOFFICE = str(Path(sys.executable).parent / "boxoffice")


class Receiver:
    """A threaded HTTP endpoint that verifies each JWT and records (order, event id,
    entity id, sequence, body) of every receipt, duplicates included."""

    def __init__(self, public_pem: str) -> None:
        self.receipts: list[tuple[int, str, str, int, str]] = []
        self.bad: list[str] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the worker's client expects

            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request (SIGKILL): nothing arrived
                    self.close_connection = True
                    return
                try:
                    claims = jwt.decode(body, public_pem, algorithms=["RS256"])
                    env = json.loads(claims["data"])
                    data = json.loads(env["data"])
                    rec = (data["id"], data["entityId"], int(data["entityEventSequence"]), env["data"])
                except Exception as e:  # noqa: BLE001 - recorded, and the test fails on it
                    with outer.lock:
                        outer.bad.append(f"{type(e).__name__}: {e}")
                    self.send_response(400)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with outer.lock:
                    outer.receipts.append((len(outer.receipts), *rec))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                if not isinstance(sys.exc_info()[1], ConnectionError):  # the killed worker's sockets
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self) -> int:
        with self.lock:
            return len(self.receipts)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'faults.db'}"
    return make_pg_database("boxoffice_worker_faults")


def produce(db: Database, url: str, receiver_url: str) -> None:
    """Subscribe the receiver, then write 1,000 outbox events through the API."""
    with db.session(write=True) as s:
        key = create_api_key(s, SITE, IdentityType.APP)
        webhooks.add(s, SITE, receiver_url, ["*"], allow_private=True)  # the operator's path: a local receiver
    h = {"Authorization": key, "wix-site-id": SITE}
    app = create_app(Settings(database_url=url, background=False), db=db)
    with TestClient(app) as c:
        evs = []
        for _ in range(EVENTS_N):
            r = c.post(EVENTS, json=event_body(), headers=h)
            assert r.status_code == 200, r.text
            evs.append(r.json()["event"]["id"])
        tds = []
        for i in range(DEFS):
            r = c.post(TD, json=td_body(evs[i % EVENTS_N], name=f"Ticket {i}"), headers=h)
            assert r.status_code == 200, r.text
            tds.append(r.json()["ticketDefinition"]["id"])
        for rev in range(1, UPDATES + 1):  # round-robin: each entity's events spread out
            for td in tds:
                r = c.patch(f"{TD}/{td}", json={"ticketDefinition": {"revision": str(rev), "name": f"v{rev + 1}"}}, headers=h)
                assert r.status_code == 200, r.text
    _cache._items.clear()


def start_worker(url: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "BOXOFFICE_DATABASE_URL": url,
        "BOXOFFICE_WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS),
        "BOXOFFICE_WEBHOOK_MAX_ATTEMPTS": "8",
    }
    with log.open("ab") as f:
        return subprocess.Popen([BOXOFFICE, "worker"], env=env, stdout=f, stderr=subprocess.STDOUT)


def statuses(db: Database) -> dict[str, int]:
    with db.session() as s:
        return dict(s.execute(select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)).all())


def test_a_worker_killed_mid_batch_loses_nothing_and_keeps_entity_order(store, tmp_path):
    assert "webhook_lease_seconds" in Settings.model_fields, "needs BOXOFFICE_WEBHOOK_LEASE_SECONDS (config.Settings)"
    upgrade(store)
    db = Database(store)
    with db.session(write=True) as s:
        public_pem = ensure_key(s).public_pem
    receiver = Receiver(public_pem)
    log = tmp_path / "worker.log"
    procs: list[subprocess.Popen] = []
    try:
        produce(db, store, receiver.url)
        with db.session() as s:
            outbox = {
                eid: (entity, seq)
                for eid, entity, seq in s.execute(
                    select(OutboxEvent.event_id, OutboxEvent.entity_id, OutboxEvent.entity_event_sequence)
                )
            }
        assert len(outbox) == TOTAL
        assert statuses(db) == {"PENDING": TOTAL}

        # 1. a worker delivers some, and is killed without warning
        first = start_worker(store, log)
        procs.append(first)
        deadline = time.monotonic() + 30
        while receiver.count() < KILL_AT and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.002)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        at_kill = receiver.count()
        assert at_kill >= KILL_AT, f"first worker delivered only {at_kill} in 30 s; log:\n{log.read_text()}"
        assert at_kill < TOTAL, "the first worker delivered everything before the kill: nothing was tested"
        after_kill = statuses(db)
        with db.session() as s:
            leased = s.scalar(
                select(func.count()).select_from(WebhookDelivery).where(
                    WebhookDelivery.status == "PENDING", WebhookDelivery.lease_until.is_not(None)
                )
            )

        # 2. another worker finishes the job (after the killed worker's leases run out)
        second = start_worker(store, log)
        procs.append(second)
        t_second = time.monotonic()
        deadline = t_second + DRAIN_DEADLINE
        while time.monotonic() < deadline and second.poll() is None:
            if statuses(db) == {"DELIVERED": TOTAL}:
                break
            time.sleep(0.1)
        final = statuses(db)
        drain_seconds = time.monotonic() - t_second
        time.sleep(0.2)  # (nothing more should arrive; let a straggler show if it would)
        receipts = list(receiver.receipts)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)
        receiver.close()
        db.dispose()

    print(
        f"\n{store.split(':')[0]}: {at_kill} received before SIGKILL, {leased} deliveries left leased "
        f"(statuses then {after_kill}); second worker done in {drain_seconds:.1f}s; {len(receipts)} receipts in all, "
        f"{len(receipts) - TOTAL} duplicates"
    )
    assert not receiver.bad, receiver.bad[:5]
    # none lost, none invented, at least once each
    ids = [r[1] for r in receipts]
    assert set(ids) == set(outbox), (
        f"missing {len(set(outbox) - set(ids))}, unexpected {len(set(ids) - set(outbox))}; statuses {final}"
    )
    assert len(receipts) >= TOTAL
    assert final == {"DELIVERED": TOTAL}, f"{final}; worker log:\n{log.read_text()[-3000:]}"
    # the kill interrupted a batch: some deliveries had arrived but were not recorded yet
    assert at_kill > after_kill.get("DELIVERED", 0), (at_kill, after_kill)
    # a duplicate is the same event again: same id, same body, same entity and sequence
    bodies: dict[str, set[str]] = defaultdict(set)
    for _, eid, entity, seq, body in receipts:
        bodies[eid].add(body)
        assert (entity, seq) == outbox[eid]
    assert all(len(b) == 1 for b in bodies.values()), "one id, two different bodies"

    # per-entity order
    first_at: dict[tuple[str, int], int] = {}
    last_at: dict[tuple[str, int], int] = {}
    for order, _, entity, seq, _ in receipts:
        first_at.setdefault((entity, seq), order)
        last_at[(entity, seq)] = order
    seqs: dict[str, list[int]] = defaultdict(list)
    for entity, seq in outbox.values():
        seqs[entity].append(seq)
    assert len(seqs) == EVENTS_N + DEFS
    for entity, ss in seqs.items():
        ss.sort()
        assert ss == list(range(1, len(ss) + 1)), (entity, ss)
        for n in ss[1:]:
            assert first_at[(entity, n - 1)] < first_at[(entity, n)], f"{entity}: {n} first received before {n - 1}"
            assert last_at[(entity, n - 1)] < first_at[(entity, n)], f"{entity}: {n - 1} received again after {n}"
