"""examples/sync-external: a real Boxoffice server (its webhook worker in-process, a
temporary SQLite database) and the example receiver as a subprocess.

Initial load by Query, then 500 creates/updates/deletes while the receiver is down for
part of the burst (stopped, then started again on the same port); once every delivery
is done the mirror equals a fresh Query of the source. Then: duplicates, stale and
resurrecting events are ignored, and bad signatures are answered 401.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from boxoffice.auth import create_api_key
from boxoffice.db import Database
from boxoffice.identity import IdentityType
from boxoffice.migrations import upgrade
from boxoffice.webhooks.signing import ensure_key
from tests.helpers import EVENTS, TD, event_body, iso, td_body, utcnow
from tests.test_concurrency import free_port

ROOT = Path(__file__).resolve().parents[1]
BOXOFFICE = str(Path(sys.executable).parent / "boxoffice")
RECEIVER = ROOT / "examples" / "sync-external" / "receiver.py"
# The receiver stays down at least this long, whatever the pace of the burst.
DOWN_SECONDS = 3.0
TD_EVENTS = [f"wix.events.v3.ticket_definition_{s}" for s in ("created", "updated", "deleted")]


# --- a real Boxoffice (shared with test_example_notify) ---------------------------------


@dataclass
class Boxoffice:
    base: str
    site: str
    key: str  # an app key: the API calls
    owner_key: str  # a wix-user key: webhook subscriptions
    env: dict[str, str]
    db_path: Path
    public_pem_file: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": self.key, "wix-site-id": self.site}

    def subscribe(self, url: str, event_types: list[str]) -> str:
        r = httpx.post(f"{self.base}/boxoffice/v1/webhooks", json={"url": url, "eventTypes": event_types},
                       headers={"Authorization": self.owner_key, "wix-site-id": self.site}, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["webhook"]["id"]

    def cli(self, *args: str) -> str:
        """Run `boxoffice ARGS` on this server's database; the last stdout line."""
        r = subprocess.run([BOXOFFICE, *args], env=self.env, check=False, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""

    def sql(self, query: str, *args: Any) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.db_path, timeout=30)) as c:
            return c.execute(query, args).fetchall()

    def deliveries(self) -> dict[str, int]:
        return dict(self.sql("SELECT status, count(*) FROM webhook_deliveries GROUP BY status"))

    def wait_delivered(self, timeout: float) -> dict[str, int]:
        """Poll until no delivery is pending (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            d = self.deliveries()
            if not d.get("PENDING"):
                return d
            assert time.monotonic() < deadline, f"deliveries still pending after {timeout}s: {d}"
            time.sleep(0.1)

    def signing_key(self) -> tuple[str, str]:
        """(kid, private PEM): lets a test forge a delivery exactly as the worker signs it."""
        return self.sql("SELECT id, private_pem FROM webhook_keys ORDER BY created_date DESC LIMIT 1")[0]


def wait_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            assert time.monotonic() < deadline, f"{url} did not come up"
            time.sleep(0.05)


@contextlib.contextmanager
def run_boxoffice(
    tmp_path: Path, site: str = "example-site", separate_worker: bool = False, **settings: str
) -> Iterator[Boxoffice]:
    """`boxoffice serve` on a fresh SQLite file, with the webhook worker and scheduler in
    its process (the default) or, with ``separate_worker``, in a `boxoffice worker`
    process beside it (BOXOFFICE_BACKGROUND=0)."""
    db_path = tmp_path / "boxoffice.db"
    env = {
        **os.environ,
        "BOXOFFICE_DATABASE_URL": f"sqlite:///{db_path}",
        "BOXOFFICE_WEBHOOK_MAX_ATTEMPTS": "50",
        # the receivers are on 127.0.0.1, subscribed through the site owner's admin API:
        # the operator of this test allows non-public webhook URLs (urlpolicy.py)
        "BOXOFFICE_WEBHOOK_ALLOW_PRIVATE_URLS": "1",
        **({"BOXOFFICE_BACKGROUND": "0"} if separate_worker else {}),
        **{f"BOXOFFICE_{k.upper()}": v for k, v in settings.items()},
    }
    box = Boxoffice("", site, "", "", env, db_path, tmp_path / "webhook-public.pem")
    # What `boxoffice migrate`, `keys create` and `keys webhook` do, without three
    # interpreter start-ups.
    upgrade(env["BOXOFFICE_DATABASE_URL"])
    db = Database(env["BOXOFFICE_DATABASE_URL"])
    try:
        with db.session(write=True) as s:
            box.key = create_api_key(s, site, IdentityType.APP)
            box.owner_key = create_api_key(s, site, IdentityType.WIX_USER)
            box.public_pem_file.write_text(ensure_key(s).public_pem)
    finally:
        db.dispose()
    port = free_port()
    proc = subprocess.Popen(
        [BOXOFFICE, "serve", "--port", str(port), "--workers", "1", "--no-access-log", "--log-level", "warning"],
        env=env,
    )
    procs = [proc]
    if separate_worker:
        procs.append(subprocess.Popen([BOXOFFICE, "worker"], env=env, stderr=subprocess.DEVNULL))
    box.base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{box.base}/healthz")
        yield box
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)


def forge(box: Boxoffice, event_type: str, domain_event: dict[str, Any], key: tuple[str, str] | None = None) -> bytes:
    """A webhook body as Boxoffice sends it, signed with the server's key (or ``key``)."""
    kid, pem = key or box.signing_key()
    env = {
        "eventType": event_type,
        "instanceId": box.site,
        "data": json.dumps(domain_event),
        "identity": json.dumps({"identityType": "APP", "appId": "test"}),
    }
    t = int(time.time())
    return jwt.encode({"data": json.dumps(env), "iat": t, "exp": t + 300}, pem, algorithm="RS256",
                      headers={"kid": kid}).encode()


def other_key() -> tuple[str, str]:
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return "intruder", pem.decode()


# --- the receiver under test ---------------------------------------------------------


class Receiver:
    """examples/sync-external/receiver.py serve, stoppable and restartable on one port."""

    def __init__(self, tmp_path: Path, public_pem_file: Path) -> None:
        self.db = tmp_path / "external.db"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhooks"
        self.pem = public_pem_file
        self.log = open(tmp_path / "receiver.log", "ab")  # noqa: SIM115
        self.proc: subprocess.Popen | None = None

    def run(self, *args: str) -> str:
        r = subprocess.run([sys.executable, str(RECEIVER), "--db", str(self.db), *args],
                           check=False, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(RECEIVER), "--db", str(self.db), "--log-level", "warning", "serve",
             "--port", str(self.port), "--public-key-file", str(self.pem)],
            stdout=self.log, stderr=self.log,
        )
        wait_http(f"http://127.0.0.1:{self.port}/healthz")

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(10)
        self.proc = None

    def rows(self, event_id: str) -> dict[str, dict[str, Any]]:
        with contextlib.closing(sqlite3.connect(self.db, timeout=30)) as c:
            c.row_factory = sqlite3.Row
            return {r["wix_ticket_definition_id"]: dict(r)
                    for r in c.execute("SELECT * FROM external_ticket_types WHERE event_ref = ?", (event_id,))}

    def sql(self, query: str, *args: Any) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.db, timeout=30)) as c:
            return c.execute(query, args).fetchall()


# --- the source, and what the mirror must hold ---------------------------------------


def query_source(box: Boxoffice, event_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    body: dict[str, Any] = {"query": {"filter": {"eventId": event_id}, "cursorPaging": {"limit": 100}}}
    while True:
        r = httpx.post(f"{box.base}{TD}/query", json=body, headers=box.headers, timeout=30)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["ticketDefinitions"]
        nxt = (page.get("metadata") or {}).get("cursors", {}).get("next")
        if not nxt:
            return out
        body = {"query": {"cursorPaging": {"limit": 100, "cursor": nxt}}}


def expected_row(td: dict[str, Any]) -> dict[str, Any]:
    """The mapping, written out independently of the receiver's FIELD_MAP."""
    fixed = td["pricingMethod"].get("fixedPrice") or {}
    sp = td.get("salePeriod") or {}
    return {
        "event_ref": td["eventId"],
        "title": td["name"],
        "details": td.get("description"),
        "price": fixed.get("value"),
        "currency": fixed.get("currency"),
        "is_free": int(td["pricingMethod"]["free"]),
        "capacity": td.get("initialLimit"),
        "is_hidden": int(td["hidden"]),
        "fee_type": td["feeType"],
        "sale_starts_at": sp.get("startDate"),
        "sale_ends_at": sp.get("endDate"),
    }


def assert_mirror_equals_source(box: Boxoffice, receiver: Receiver, event_id: str) -> list[dict[str, Any]]:
    source = query_source(box, event_id)
    mirror = receiver.rows(event_id)
    assert sorted(mirror) == sorted(td["id"] for td in source)
    for td in source:
        row = mirror[td["id"]]
        got = {k: row[k] for k in expected_row(td)}
        assert got == expected_row(td), td["id"]
        assert row["external_id"].startswith("EXT-")
    return source


# --- driving the source ----------------------------------------------------------------


class Source:
    """Random creates/updates/deletes of ticket definitions through the API."""

    PRICES = ("0", "10", "12.50", "99.99", "250")

    def __init__(self, client: httpx.Client, rng: random.Random) -> None:
        self.c, self.rng = client, rng
        self.live: dict[str, dict[str, str]] = {}  # id -> {revision, eventId}

    def create(self, event_id: str) -> str:
        rng = self.rng
        over: dict[str, Any] = {
            "name": f"Ticket {uuid.uuid4().hex[:6]}",
            "initialLimit": rng.choice([None, 5, 50, 500]),
            "pricingMethod": {"fixedPrice": {"value": rng.choice(self.PRICES), "currency": "USD"}},
            "feeType": rng.choice(["FEE_INCLUDED", "FEE_ADDED_AT_CHECKOUT"]),
        }
        if rng.random() < 0.5:
            over["description"] = f"created {rng.random():.6f}"
        r = self.c.post(TD, json=td_body(event_id, **over))
        assert r.status_code == 200, r.text
        td = r.json()["ticketDefinition"]
        self.live[td["id"]] = {"revision": td["revision"], "eventId": event_id}
        return td["id"]

    def update(self, td_id: str) -> None:
        rng = self.rng
        patch: dict[str, Any] = {"revision": self.live[td_id]["revision"]}
        for _ in range(rng.randint(1, 3)):
            k = rng.choice(["name", "description", "price", "limit", "hidden", "fee", "sale"])
            if k == "name":
                patch["name"] = f"Renamed {uuid.uuid4().hex[:6]}"
            elif k == "description":
                patch["description"] = rng.choice([None, f"updated {rng.random():.6f}"])
            elif k == "price":
                patch["pricingMethod"] = {"fixedPrice": {"value": rng.choice(self.PRICES), "currency": "USD"}}
            elif k == "limit":
                patch["initialLimit"] = rng.choice([None, 1, 20, 300])
            elif k == "hidden":
                patch["hidden"] = rng.random() < 0.5
            elif k == "fee":
                patch["feeType"] = rng.choice(["FEE_INCLUDED", "FEE_ADDED_AT_CHECKOUT"])
            else:
                start = utcnow().replace(second=0, microsecond=0) + dt.timedelta(days=rng.randint(1, 9))
                end = iso(start + dt.timedelta(days=3)) if rng.random() < 0.5 else None
                patch["salePeriod"] = {"startDate": iso(start), "endDate": end}
        r = self.c.patch(f"{TD}/{td_id}", json={"ticketDefinition": patch})
        assert r.status_code == 200, r.text
        self.live[td_id]["revision"] = r.json()["ticketDefinition"]["revision"]

    def delete(self, td_id: str) -> None:
        r = self.c.delete(f"{TD}/{td_id}")
        assert r.status_code == 200, r.text
        del self.live[td_id]

    def random_op(self, event_id: str) -> str:
        mine = [i for i, v in self.live.items() if v["eventId"] == event_id]
        x = self.rng.random()
        if not mine or (len(mine) < 60 and x < 0.3):
            self.create(event_id)
            return "create"
        if x < 0.85:
            self.update(self.rng.choice(mine))
            return "update"
        self.delete(self.rng.choice(mine))
        return "delete"


# --- the test ------------------------------------------------------------------------


def test_mirror_follows_the_source_through_a_burst_and_downtime(tmp_path: Path) -> None:
    t0 = time.monotonic()
    rng = random.Random(20240611)
    # The worker runs as its own process: see the README of examples/sync-external.
    with (
        run_boxoffice(tmp_path, separate_worker=True) as box,
        httpx.Client(base_url=box.base, headers=box.headers, timeout=30) as c,
    ):
        event_id = c.post(EVENTS, json=event_body("Synced Workshop", draft=False)).json()["event"]["id"]
        other_id = c.post(EVENTS, json=event_body("Not Synced", draft=False)).json()["event"]["id"]
        src = Source(c, rng)

        # Definitions that exist before anyone listens: only the initial load brings them.
        for _ in range(40):
            src.create(event_id)
        for _ in range(3):
            src.create(other_id)
        for td_id in rng.sample([i for i, v in src.live.items() if v["eventId"] == event_id], 10):
            src.update(td_id)

        # Start listening, subscribe, then Part 1: the initial load.
        receiver = Receiver(tmp_path, box.public_pem_file)
        receiver.start()
        try:
            box.subscribe(receiver.url, TD_EVENTS)
            counts = json.loads(receiver.run("initial-sync", "--base-url", box.base, "--api-key", box.key,
                                             "--site", box.site, "--event-id", event_id))
            assert counts == {"loaded": 40, "skipped": 0, "removed": 0}
            assert_mirror_equals_source(box, receiver, event_id)
            assert receiver.rows(other_id) == {}

            # Part 2: a burst of 500 changes; the receiver is down for ops 150..349.
            ops: dict[str, int] = {}
            for i in range(500):
                if i == 150:
                    receiver.stop()
                    down_at = time.monotonic()
                if i == 350:
                    time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down_at)))
                    receiver.start()
                    down_for = time.monotonic() - down_at
                target = other_id if rng.random() < 0.05 else event_id
                op = src.random_op(target)
                ops[op] = ops.get(op, 0) + 1
            assert min(ops.values()) > 30, ops

            burst_done = time.monotonic() - t0
            status = box.wait_delivered(timeout=45)
            assert status.get("DEAD", 0) == 0, status
            retried = box.sql("SELECT count(*) FROM webhook_deliveries WHERE attempts > 1")[0][0]
            assert retried > 0, "the receiver's downtime made no delivery fail"
            source = assert_mirror_equals_source(box, receiver, event_id)
            assert len(source) > 10
            assert receiver.rows(other_id) == {}
            outcomes = dict(receiver.sql("SELECT outcome, count(*) FROM processed_events GROUP BY outcome"))
            assert outcomes.get("ignored", 0) > 0  # the unsynced event's definitions
            print(f"\nops {ops}, receiver down {down_for:.1f}s, {retried} deliveries retried, "
                  f"deliveries {status}, receiver outcomes {outcomes}, burst done at {burst_done:.1f}s, "
                  f"delivered at {time.monotonic() - t0:.1f}s")

            # A redelivery (same event id, sent again by the server) is not applied twice.
            [(ev_id,)] = receiver.sql(
                "SELECT event_id FROM processed_events WHERE outcome = 'updated' ORDER BY received_at LIMIT 1")
            box.cli("webhooks", "replay", "--event", ev_id)
            deadline = time.monotonic() + 20
            while receiver.sql("SELECT deliveries FROM processed_events WHERE event_id = ?", ev_id)[0][0] < 2:
                assert time.monotonic() < deadline, "the replayed delivery did not arrive"
                time.sleep(0.1)
            box.wait_delivered(timeout=20)
            assert_mirror_equals_source(box, receiver, event_id)

            # Stale events (an older sequence, under a new id) and resurrections are ignored.
            by_id = {td["id"]: td for td in source}
            touched = [i for (i,) in receiver.sql("SELECT wix_ticket_definition_id FROM sync_state "
                                                 "WHERE deleted = 0 AND last_sequence > 1") if i in by_id]
            live_td = by_id[touched[0]]
            stale = {"id": str(uuid.uuid4()), "entityFqdn": "wix.events.v3.ticket_definition", "slug": "updated",
                     "entityId": live_td["id"],
                     "updatedEvent": {"currentEntity": {**live_td, "name": "STALE", "revision": "1"}},
                     "eventTime": iso(utcnow()), "entityEventSequence": "1"}
            r = httpx.post(receiver.url, content=forge(box, "wix.events.v3.ticket_definition_updated", stale))
            assert (r.status_code, r.json()) == (200, {"outcome": "stale"})
            gone = receiver.sql("SELECT wix_ticket_definition_id FROM sync_state WHERE deleted = 1 LIMIT 1")[0][0]
            back = {"id": str(uuid.uuid4()), "entityFqdn": "wix.events.v3.ticket_definition", "slug": "created",
                    "entityId": gone, "createdEvent": {"entity": {**live_td, "id": gone, "revision": "999"}},
                    "eventTime": iso(utcnow()), "entityEventSequence": "999"}
            r = httpx.post(receiver.url, content=forge(box, "wix.events.v3.ticket_definition_created", back))
            assert (r.status_code, r.json()) == (200, {"outcome": "stale"})

            # Bodies not signed by the server's key are refused.
            for body in (forge(box, "wix.events.v3.ticket_definition_created", back, key=other_key()),
                         b"not-a-jwt", forge(box, "x", back)[:-5] + b"AAAAA"):
                r = httpx.post(receiver.url, content=body)
                assert r.status_code == 401, r.text
            assert_mirror_equals_source(box, receiver, event_id)
        finally:
            if receiver.proc is not None:
                receiver.stop()
