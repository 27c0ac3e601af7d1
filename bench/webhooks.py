"""Webhook delivery throughput and latency: `boxoffice worker` processes against a local receiver.

Setup: a fresh database (PostgreSQL by default; --db sqlite), `boxoffice migrate`'s
schema, one subscription (all event types) pointing at a local receiver, and a
history of --history already-DELIVERED events (a live installation has one; the
claim query must not get slower because of it). Then `ANALYZE` (this machine's
PostgreSQL has autovacuum off), and again before every phase.

The receiver is a separate process: an asyncio (uvloop when installed) HTTP/1.1
server that stamps each body with time.time() when it has fully arrived and answers
200 at once; it verifies the RS256 signatures (with `boxoffice keys webhook`'s key)
only afterwards, when the bench collects the receipts.

Events are ticket_definition `updated` events with a real definition body, for
--events/--per-entity entities, each entity's --per-entity events spread round-robin
(sequence 1, 2, ...). In the steady phase each is its own transaction, as one API write
commits it, writing what outbox.record + fan_out write (the event row, the
subscriptions read, one PENDING delivery, on PostgreSQL the NOTIFY that wakes idle
workers) in plain SQL, so that the producer leaves the CPU to the workers (--producer
orm goes through outbox.record instead). The API's own cost is left out:
this measures delivery. The drain phase's backlog goes through outbox.record.

Phases, for each worker count in --workers (default 1,2):
* steady: W `boxoffice worker` processes run; --events events are produced at --rate
  per second (scheduled times; --producers threads); the phase ends when every one
  is delivered or --grace seconds after the last was produced.
  deliveries/s = events delivered / (last first-receipt - first event's time);
  latency = first receipt at the receiver - OutboxEvent.created_date (the event's
  eventTime; ms precision, so up to 1 ms too high). Undelivered events count as
  infinitely late.
* drain (capacity): --events events are written with no worker running, then W
  workers start; deliveries/s = events delivered / (last first-receipt - first
  receipt), bounded by --grace seconds (latency here is only time spent queued).
Deliveries still PENDING at the end of a phase are set DEAD so that they do not leak
into the next phase (reported as `abandoned`).

Checks per phase: every receipt verifies; ids received are the phase's outbox ids;
per entity, sequence n was first received after sequence n-1 (`order violations`).
Target (printed, information only): steady phase >= 500 deliveries/s and p99 < 1 s,
all delivered, at --rate 600.

Usage:  .venv/bin/python bench/webhooks.py [--db postgresql|sqlite] [--events 5000]
        [--rate 600] [--workers 1,2] [--per-entity 5] [--producers 2] [--grace 30]
        [--history 50000] [--concurrency N] [--producer sql|orm] [--no-drain]
Every wait is bounded (--grace; 30 s for a worker to start; 20 s to stop, then SIGKILL).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import insert, select, text, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from boxoffice import (
    models_registry,  # noqa: F401
    outbox,
)
from boxoffice.db import Database
from boxoffice.migrations import upgrade
from boxoffice.outbox.models import OutboxEvent, WebhookDelivery
from boxoffice.webhooks import service as webhooks
from boxoffice.webhooks.signing import ensure_key

PG_ADMIN = os.environ.get("BOXOFFICE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SITE = "bench-webhooks"
FQDN = "wix.events.v3.ticket_definition"
IDENTITY = {"identityType": "APP", "appId": "33d101e8-6f4b-44fa-8cff-9c188d962e51"}
BOXOFFICE = str(Path(sys.executable).parent / "boxoffice")
TARGET_RPS, TARGET_P99 = 500.0, 1.0


def td_entity(entity_id: str, seq: int) -> dict:
    """A ticket definition as `updated` events carry it (copied from a real one)."""
    return {
        "id": entity_id, "eventId": "4286e057-51c1-41d8-952a-8c847116b621", "revision": str(seq),
        "createdDate": "2026-11-25T15:09:59.113Z", "updatedDate": "2026-11-25T15:10:00.219Z",
        "name": f"General admission v{seq}", "hidden": False, "limited": True, "initialLimit": 300,
        "actualLimit": 300, "pricingMethod": {"fixedPrice": {"value": "200.00", "currency": "USD"},
                                              "pricingType": "STANDARD", "free": False},
        "feeType": "FEE_INCLUDED", "salePeriod": {"displayNotOnSale": False}, "saleStatus": "SALE_STARTED",
        "limitPerCheckout": 50,
    }


# --- receiver (its own process) ------------------------------------------------------


def _receiver_main(port: int, public_pem: str, ready: mp.Event) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    receipts: list[tuple[float, bytes]] = []

    def dump() -> bytes:
        import jwt
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_public_key(public_pem.encode())
        out, bad = [], 0
        for t, body in receipts:
            try:
                env = json.loads(jwt.decode(body, key, algorithms=["RS256"])["data"])
                d = json.loads(env["data"])
                out.append([t, d["id"], d["entityId"], int(d["entityEventSequence"])])
            except Exception:  # noqa: BLE001 - counted
                bad += 1
        return json.dumps({"receipts": out, "bad": bad}).encode()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split(" ")[:2]
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if method == "POST" and path == "/hook":
                    receipts.append((time.time(), body))
                    out = b""
                elif path == "/count":
                    out = str(len(receipts)).encode()
                elif path == "/dump":
                    out = dump()
                elif path == "/reset":
                    receipts.clear()
                    out = b""
                else:
                    out = b"?"
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(out), out))
                if headers.get("connection", "").lower() == "close":
                    break
                if len(out) > 65536:
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


class Receiver:
    def __init__(self, public_pem: str) -> None:
        self.port = free_port()
        ready = mp.Event()
        self.proc = mp.Process(target=_receiver_main, args=(self.port, public_pem, ready), daemon=True)
        self.proc.start()
        if not ready.wait(30):
            raise SystemExit("receiver did not start")
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)

    def count(self) -> int:
        return int(self.http.get("/count").text)

    def reset(self) -> None:
        self.http.get("/reset")

    def dump(self) -> tuple[list[list], int]:
        d = self.http.get("/dump").json()
        return d["receipts"], d["bad"]

    def close(self) -> None:
        self.http.close()
        self.proc.terminate()
        self.proc.join(10)


# --- database, producer, workers ---------------------------------------------------


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fresh_database(kind: str, tmp: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "boxoffice_bench_webhooks" WITH (FORCE)')
        conn.execute('CREATE DATABASE "boxoffice_bench_webhooks"')
    return PG_ADMIN.rpartition("/")[0] + "/boxoffice_bench_webhooks"


def analyze(db: Database) -> None:
    with db.engine.connect() as conn:  # what autovacuum would have done in production
        conn.execute(text("ANALYZE"))
        conn.commit()


def load_history(db: Database, sub_id: str, n: int) -> None:
    """n events of the past, each DELIVERED to the subscription (bulk insert)."""
    t = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    chunk = 5000
    for start in range(0, n, chunk):
        rows, ids = [], []
        for i in range(start, min(n, start + chunk)):
            eid, ent = str(uuid.uuid4()), str(uuid.uuid4())
            ids.append(eid)
            rows.append({
                "event_id": eid, "site_id": SITE, "event_type": f"{FQDN}_updated", "entity_fqdn": FQDN, "slug": "updated",
                "entity_id": ent, "entity_event_sequence": 1, "identity": IDENTITY, "created_date": t,
                "payload": {"id": eid, "entityFqdn": FQDN, "slug": "updated", "entityId": ent,
                         "updatedEvent": {"currentEntity": td_entity(ent, 1)}, "entityEventSequence": "1"},
            })
        with db.session(write=True) as s:
            s.execute(insert(OutboxEvent), rows)
            pos = dict(s.execute(select(OutboxEvent.event_id, OutboxEvent.position).where(OutboxEvent.event_id.in_(ids))).all())
            s.execute(insert(WebhookDelivery), [
                {"subscription_id": sub_id, "outbox_position": pos[r["event_id"]], "entity_id": r["entity_id"],
                     "status": "DELIVERED", "attempts": 1, "next_attempt_date": t, "lease_until": None, "last_error": None,
                     "delivered_date": t, "created_date": t}
                for r in rows
            ])


def plan(n: int, per_entity: int) -> list[tuple[str, int]]:
    """(entity id, sequence) for n events: n/per_entity entities, round-robin."""
    ents = [str(uuid.uuid4()) for _ in range(max(1, n // per_entity))]
    out: list[tuple[str, int]] = []
    seq = 1
    while len(out) < n:
        for e in ents:
            if len(out) == n:
                break
            out.append((e, seq))
        seq += 1
    return out


def write_event(s, entity: str, seq: int) -> None:  # type: ignore[no-untyped-def]
    """outbox.record: the path every API write takes."""
    outbox.record(s, site_id=SITE, identity=IDENTITY, entity_fqdn=FQDN, slug="updated", entity_id=entity,
                  sequence=seq, body={"updatedEvent": {"currentEntity": td_entity(entity, seq)}})


INSERT_EVENT = text(
    "INSERT INTO outbox_events (event_id, site_id, event_type, entity_fqdn, slug, entity_id, entity_event_sequence,"
    " payload, identity, created_date) VALUES (:event_id, :site, :type, :fqdn, 'updated', :entity, :seq, :payload,"
    " :identity, :t) RETURNING position"
)
SUBS = text("SELECT id, event_types FROM webhook_subscriptions WHERE site_id = :site")
NOTIFY = text("SELECT pg_notify(:c, '')")
INSERT_DELIVERY = text(
    "INSERT INTO webhook_deliveries (subscription_id, outbox_position, entity_id, status, attempts, next_attempt_date,"
    " created_date) VALUES (:sub, :pos, :entity, 'PENDING', 0, :t, :t)"
)


def write_event_sql(conn, entity: str, seq: int) -> None:  # type: ignore[no-untyped-def]
    """The same rows as outbox.record + fan_out (event, then one delivery per subscription
    that wants it), in plain SQL, so that the producer leaves the CPU to the workers."""
    now = dt.datetime.now(dt.UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    from boxoffice.timefmt import iso

    eid = str(uuid.uuid4())
    payload = {"id": eid, "entityFqdn": FQDN, "slug": "updated", "entityId": entity,
               "updatedEvent": {"currentEntity": td_entity(entity, seq)}, "eventTime": iso(now),
               "triggeredByAnonymizeRequest": False, "entityEventSequence": str(seq)}
    t = now.replace(tzinfo=None)  # stored as naive UTC, as UTCDateTime does
    pos = conn.execute(INSERT_EVENT, {"event_id": eid, "site": SITE, "type": f"{FQDN}_updated", "fqdn": FQDN, "entity": entity,
                                          "seq": seq, "payload": json.dumps(payload), "identity": json.dumps(IDENTITY),
                                          "t": t}).scalar_one()
    wrote = False
    for sub, types in conn.execute(SUBS, {"site": SITE}).all():
        types = json.loads(types) if isinstance(types, str) else types
        if "*" in types or f"{FQDN}_updated" in types:
            conn.execute(INSERT_DELIVERY, {"sub": sub, "pos": pos, "entity": entity, "t": t})
            wrote = True
    if wrote and conn.dialect.name == "postgresql":  # wakes idle workers at COMMIT, as outbox does
        conn.execute(NOTIFY, {"c": outbox.CHANNEL})


def produce_at_rate(db: Database, events: list[tuple[str, int]], rate: float, threads: int, deadline: float,
                    orm: bool) -> dict:
    """One transaction per event, event k committed no earlier than t0 + k/rate."""
    lock = threading.Lock()
    nxt = [0]
    lag: list[float] = []
    write_engine = db.engine.execution_options(sqlite_begin="IMMEDIATE") if db.is_sqlite else db.engine
    t0 = time.perf_counter() + 0.05

    def run() -> None:
        while True:
            with lock:
                k = nxt[0]
                nxt[0] += 1
            if k >= len(events) or time.perf_counter() > deadline:
                return
            due = t0 + k / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            if orm:
                with db.session(write=True) as s:
                    write_event(s, *events[k])
            else:
                with write_engine.begin() as conn:
                    write_event_sql(conn, *events[k])
            lag.append(time.perf_counter() - due)

    ths = [threading.Thread(target=run) for _ in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(max(1.0, deadline - time.perf_counter() + 5))
    took = time.perf_counter() - t0
    lag.sort()
    return {"produced": len(lag), "seconds": took, "rate": len(lag) / took if took > 0 else 0.0,
            "lag_p99_ms": lag[int(len(lag) * 0.99)] * 1000 if lag else 0.0}


def produce_backlog(db: Database, events: list[tuple[str, int]]) -> None:
    for i in range(0, len(events), 250):
        with db.session(write=True) as s:
            for e in events[i : i + 250]:
                write_event(s, *e)


class Workers:
    """W `boxoffice worker` processes; started() returns once every one says it runs."""

    def __init__(self, url: str, n: int, logdir: Path, concurrency: int | None) -> None:
        env = {**os.environ, "BOXOFFICE_DATABASE_URL": url}
        args = [BOXOFFICE, "worker"] + (["--concurrency", str(concurrency)] if concurrency else [])
        self.logs = [logdir / f"worker-{uuid.uuid4().hex[:6]}.log" for _ in range(n)]
        self.procs = []
        for log in self.logs:
            with log.open("wb") as f:
                self.procs.append(subprocess.Popen(args, env=env, stdout=f, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all("worker running" in log.read_text() for log in self.logs):
                break
            if any(p.poll() is not None for p in self.procs):
                raise SystemExit("a worker exited:\n" + "\n".join(log.read_text() for log in self.logs))
            time.sleep(0.05)
        else:
            self.stop()
            raise SystemExit("workers did not start in 30 s")

    def stop(self) -> list[str]:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        errors = []
        for log in self.logs:
            errors += [ln for ln in log.read_text().splitlines() if "Traceback" in ln or "ERROR" in ln or "failed" in ln]
        return errors


def abandon_pending(db: Database) -> int:
    with db.session(write=True) as s:
        return s.execute(
            update(WebhookDelivery).where(WebhookDelivery.status == "PENDING")
            .values(status="DEAD", last_error="bench: abandoned at the end of a phase", lease_until=None)
            .execution_options(synchronize_session=False)
        ).rowcount or 0


def created_dates(db: Database, entities: set[str]) -> dict[str, float]:
    with db.session() as s:
        rows = s.execute(select(OutboxEvent.event_id, OutboxEvent.entity_id, OutboxEvent.created_date)
                         .where(OutboxEvent.site_id == SITE, OutboxEvent.created_date > dt.datetime.now(dt.UTC)
                                - dt.timedelta(hours=1))).all()
    return {eid: c.timestamp() for eid, ent, c in rows if ent in entities}


def wait_delivered(receiver: Receiver, n: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        if receiver.count() >= n:
            return
        time.sleep(0.05)


def pct(xs: list[float], p: float) -> float:
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else float("inf")


def analyse(db: Database, receiver: Receiver, events: list[tuple[str, int]], start: str | None) -> dict:
    receipts, bad = receiver.dump()
    created = created_dates(db, {e for e, _ in events})
    first: dict[str, float] = {}
    for t, eid, _, _ in receipts:
        if eid not in first or t < first[eid]:
            first[eid] = t
    ids = set(first)
    delivered = len(ids & set(created))
    lat = sorted(first[e] - created[e] for e in ids & set(created))
    lat_all = lat + [float("inf")] * (len(created) - delivered)
    lat_all.sort()
    # steady: from the first event's time; drain: from the first receipt (not the workers' start-up)
    t0 = min(created.values()) if start is None else min((first[e] for e in ids & set(created)), default=0.0)
    last = max((first[e] for e in ids & set(created)), default=t0)
    by_entity: dict[str, dict[int, float]] = defaultdict(dict)
    for t, eid, ent, seq in receipts:
        if by_entity[ent].get(seq, float("inf")) > t:
            by_entity[ent][seq] = t
    # n first received before n-1, or n received and n-1 never
    violations = sum(
        1 for seqs in by_entity.values() for n, t in seqs.items() if n > 1 and seqs.get(n - 1, float("inf")) > t
    )
    return {
        "events": len(created), "delivered": delivered, "receipts": len(receipts),
        "duplicates": len(receipts) - len(ids), "foreign": len(ids - set(created)), "bad_signatures": bad,
        "deliveries_per_s": delivered / (last - t0) if last > t0 else 0.0,
        "p50_ms": pct(lat_all, 0.50) * 1000, "p99_ms": pct(lat_all, 0.99) * 1000,
        "max_ms": (lat[-1] * 1000) if lat else float("inf"), "order_violations": violations,
    }


def fmt_ms(v: float) -> str:
    return "  never" if v == float("inf") else f"{v:7.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--rate", type=float, default=600.0, help="events produced per second in the steady phase")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--per-entity", type=int, default=5, help="events per entity (ordered by entityEventSequence)")
    ap.add_argument("--producers", type=int, default=2, help="producer threads")
    ap.add_argument("--producer", choices=["sql", "orm"], default="sql",
                    help="steady phase: the outbox rows in plain SQL (default), or through outbox.record")
    ap.add_argument("--grace", type=float, default=30.0, help="seconds to wait for deliveries after producing")
    ap.add_argument("--history", type=int, default=50000, help="DELIVERED events loaded beforehand")
    ap.add_argument("--concurrency", type=int, help="boxoffice worker --concurrency (default: its own, 32)")
    ap.add_argument("--no-drain", action="store_true", help="skip the backlog-drain (capacity) phases")
    args = ap.parse_args()
    counts = [int(x) for x in args.workers.split(",") if x.strip()]
    results = []
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        url = fresh_database(args.db, tmp)
        print(f"[{args.db}] loading ...")
        t = time.perf_counter()
        upgrade(url)
        db = Database(url)
        with db.session(write=True) as s:
            public_pem = ensure_key(s).public_pem
        db.dispose()
        receiver = Receiver(public_pem)  # forked before this process holds connections or threads
        db = Database(url)
        try:
            with db.session(write=True) as s:
                sub_id = webhooks.add(s, SITE, receiver.url, ["*"], allow_private=True).id
            load_history(db, sub_id, args.history)
            analyze(db)
            print(f"  {args.history:,} delivered events of history in {time.perf_counter() - t:.1f}s (+ANALYZE)")
            phases = [("steady", w) for w in counts] + ([] if args.no_drain else [("drain", w) for w in counts])
            for phase, w in phases:
                events = plan(args.events, args.per_entity)
                analyze(db)
                receiver.reset()
                if phase == "steady":
                    workers = Workers(url, w, tmp, args.concurrency)
                    prod = produce_at_rate(db, events, args.rate, args.producers,
                                           deadline=time.perf_counter() + args.events / args.rate * 3 + 30,
                                           orm=args.producer == "orm")
                    wait_delivered(receiver, prod["produced"], time.monotonic() + args.grace)
                    start = None
                else:
                    tp = time.perf_counter()
                    produce_backlog(db, events)
                    analyze(db)
                    prod = {"produced": len(events), "seconds": time.perf_counter() - tp, "rate": 0.0, "lag_p99_ms": 0.0}
                    start = "first receipt"
                    workers = Workers(url, w, tmp, args.concurrency)
                    wait_delivered(receiver, len(events), time.monotonic() + args.grace)
                errors = workers.stop()
                r = analyse(db, receiver, events, start)
                r.update(phase=phase, workers=w, produced_rate=prod["rate"], producer_lag_p99_ms=prod["lag_p99_ms"],
                         abandoned=abandon_pending(db), worker_errors=len(errors))
                if phase == "steady":
                    r["target_met"] = (r["deliveries_per_s"] >= TARGET_RPS and r["p99_ms"] < TARGET_P99 * 1000
                                       and r["delivered"] == r["events"])
                results.append(r)
                extra = (f"produced {prod['rate']:.0f}/s (producer lag p99 {prod['lag_p99_ms']:.0f} ms)"
                         if phase == "steady" else f"backlog written in {prod['seconds']:.1f}s")
                print(f"  {phase:6s} workers={w}: {r['delivered']:,}/{r['events']:,} delivered, "
                      f"{r['deliveries_per_s']:.0f} deliveries/s, latency p50 {fmt_ms(r['p50_ms']).strip()} ms "
                      f"p99 {fmt_ms(r['p99_ms']).strip()} ms; {extra}; dup {r['duplicates']}, "
                      f"order violations {r['order_violations']}, bad sigs {r['bad_signatures']}, "
                      f"abandoned {r['abandoned']}")
                for e in errors[:3]:
                    print(f"    worker log: {e}")
        finally:
            receiver.close()
            db.dispose()
    print()
    print(f"db={args.db} events={args.events} rate={args.rate:g}/s per-entity={args.per_entity} "
          f"history={args.history} cores={os.cpu_count()}")
    print(f"{'phase':7s} {'workers':>7s} {'delivered':>10s} {'deliv/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} "
          f"{'max ms':>8s} {'prod/s':>7s} {'dup':>5s} {'order':>5s} {'target':>7s}")
    for r in results:
        tm = ("met" if r["target_met"] else "NOT met") if "target_met" in r else "-"
        print(f"{r['phase']:7s} {r['workers']:7d} {r['delivered']:>5d}/{r['events']:<4d} {r['deliveries_per_s']:8.0f} "
              f"{fmt_ms(r['p50_ms']):>8s} {fmt_ms(r['p99_ms']):>8s} {fmt_ms(r['max_ms']):>8s} "
              f"{r['produced_rate']:7.0f} {r['duplicates']:5d} {r['order_violations']:5d} {tm:>7s}")
    print(f"target (steady phase, information only): >= {TARGET_RPS:.0f} deliveries/s and p99 < "
          f"{TARGET_P99 * 1000:.0f} ms at {args.rate:g} events/s, all delivered")
    finite = [{k: (None if v == float("inf") else v) for k, v in r.items()} for r in results]  # never -> null
    print(json.dumps({f"{args.db}/{r['phase']}/w{r['workers']}": r for r in finite}))
    ok = all(r["order_violations"] == 0 and r["bad_signatures"] == 0 and r["foreign"] == 0 for r in results)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
