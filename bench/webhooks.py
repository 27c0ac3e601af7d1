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

Phases, for each worker count in --workers (default 1):
* raw (the ceiling), at the start and again at the end of the run: a bare client posts
  --events bodies, signed beforehand exactly as the worker signs them, to the same
  receiver, over as many kept-alive connections as a worker may use for one
  subscription (BOXOFFICE_WEBHOOK_PER_SUBSCRIPTION_CONCURRENCY, 4), in a process of its
  own as a worker is; once per client in --raw-clients (aiohttp, httpx's AsyncClient,
  httpcore's sync pool with one thread per connection: the candidate senders, so that
  the choice is measured). The ceiling is the fastest of them; every delivery rate is
  also printed as a share of it, with the client's and the worker's CPU per post.
* steady, at each offered load in --rates (events/s): W `boxoffice worker` processes
  run; --seconds x rate events are produced at that rate (scheduled times;
  --producers threads); the phase ends when every one is delivered or --grace seconds
  after the last was produced.
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
Targets (printed, information only): the drain rate >= 50 % of the raw ceiling; at
500 events/s offered, p99 event-to-delivery < 1 s and all delivered.

Writes --out.json (every figure, the machine, the date, the load average before and
after) and --out.png (deliveries/s and latency against offered load, with the raw
ceiling and the drain capacity), default docs/bench/webhooks.*; --out '' writes none.
The machine may be shared: compare the ratios of one run, not numbers across runs.

Usage:  .venv/bin/python bench/webhooks.py [--db postgresql|sqlite] [--rates 100,250,500]
        [--seconds 10] [--events 5000] [--workers 1] [--per-entity 5] [--producers 2]
        [--grace 30] [--history 50000] [--concurrency N] [--producer sql|orm] [--no-drain]
        [--raw-clients aiohttp,httpx,httpcore] [--out docs/bench/webhooks]
Every wait is bounded (--grace; 120 s for a worker to start; 20 s to stop, then SIGKILL;
120 s for a raw client).
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

# the raw client (run first: it needs nothing of boxoffice)
HEADERS = {"Content-Type": "text/plain", "User-Agent": "Boxoffice-Webhooks/1"}


def _raw_main(client: str, url: str, path: str, connections: int) -> None:
    """Post every body of `path` (one a line) to `url` over `connections` kept-alive
    connections, as fast as the answers come; print the rate and the CPU per post."""
    import resource

    bodies = Path(path).read_bytes().split(b"\n")
    nxt = iter(range(len(bodies)))
    failed = [0]

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    if client == "httpcore":
        import httpcore

        pool = httpcore.ConnectionPool(max_connections=connections)
        lock = threading.Lock()

        def run() -> None:
            while True:
                with lock:
                    i = next(nxt, None)
                if i is None:
                    return
                r = pool.request("POST", url, headers=list(HEADERS.items()), content=bodies[i])
                if r.status != 200:
                    failed[0] += 1

        c0, t0 = cpu(), time.perf_counter()
        ths = [threading.Thread(target=run) for _ in range(connections)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        took = time.perf_counter() - t0
    else:
        async def go() -> float:
            if client == "aiohttp":
                import aiohttp

                session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections))

                async def post(body: bytes) -> int:
                    async with session.post(url, data=body, headers=HEADERS) as r:
                        await r.read()
                        return r.status
            else:
                h = httpx.AsyncClient(limits=httpx.Limits(max_connections=connections,
                                                          max_keepalive_connections=connections))

                async def post(body: bytes) -> int:
                    return (await h.post(url, content=body, headers=HEADERS)).status_code

            async def run() -> None:
                for i in nxt:
                    if await post(bodies[i]) != 200:
                        failed[0] += 1

            t0 = time.perf_counter()
            await asyncio.gather(*(run() for _ in range(connections)))
            took = time.perf_counter() - t0
            await (session.close() if client == "aiohttp" else h.aclose())
            return took

        c0 = cpu()
        took = asyncio.run(go())
    used = cpu() - c0
    print(json.dumps({"client": client, "posts": len(bodies), "failed": failed[0], "seconds": took,
                      "per_s": len(bodies) / took, "cpu_ms_per_post": used / len(bodies) * 1000}))


if __name__ == "__main__" and "--raw-client" in sys.argv:  # a raw client's own process: boxoffice not imported
    _a = sys.argv
    _raw_main(_a[_a.index("--raw-client") + 1], _a[_a.index("--raw-url") + 1], _a[_a.index("--raw-bodies") + 1],
              int(_a[_a.index("--raw-connections") + 1]))
    sys.exit(0)


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
TARGET_SHARE, TARGET_P99, TARGET_RATE = 0.5, 1.0, 500.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
# a worker imports the whole app: on a machine shared by many processes that has taken 30 s
START_SECONDS = 120


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



# --- the raw send ceiling: a bare client, in a process of its own ---------------------


def event_payload(entity: str, seq: int, t: dt.datetime) -> tuple[str, dict]:
    """(event id, payload) of one `updated` event, as write_event_sql stores it."""
    from boxoffice.timefmt import iso

    eid = str(uuid.uuid4())
    return eid, {"id": eid, "entityFqdn": FQDN, "slug": "updated", "entityId": entity,
                 "updatedEvent": {"currentEntity": td_entity(entity, seq)}, "eventTime": iso(t),
                 "triggeredByAnonymizeRequest": False, "entityEventSequence": str(seq)}


def signed_bodies(db: Database, events: list[tuple[str, int]]) -> tuple[list[bytes], float]:
    """The bodies the worker would send for these events, signed as it signs them, and
    the CPU ms of one signature (envelope + PyJWT RS256): every delivery pays it, the raw
    client does not, so 1000 / it is what one core can deliver at most, however cheap
    the rest of the worker becomes."""
    from boxoffice.webhooks import signing

    with db.session() as s:
        key = signing.current_key(s)
    private = signing.load_private_key(key.private_pem)
    t = dt.datetime.now(dt.UTC)
    out = []
    cpu = time.process_time()
    for entity, seq in events:
        _, payload = event_payload(entity, seq, t)
        env = signing.envelope(f"{FQDN}_updated", SITE, payload, IDENTITY)
        out.append(signing.sign(key.id, private, env).encode())
    return out, (time.process_time() - cpu) / max(1, len(events)) * 1000


def raw_ceiling(client: str, receiver: Receiver, bodies: list[bytes], connections: int, tmp: Path) -> dict:
    path = tmp / "bodies.txt"
    path.write_bytes(b"\n".join(bodies))
    receiver.reset()
    r = subprocess.run([sys.executable, __file__, "--raw-client", client, "--raw-url", receiver.url,
                        "--raw-bodies", str(path), "--raw-connections", str(connections)],
                       capture_output=True, text=True, timeout=120, check=False)
    if r.returncode != 0:
        raise SystemExit(f"raw client {client} failed:\n{r.stderr}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["received"] = receiver.count()
    receiver.reset()
    return out


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
    eid, payload = event_payload(entity, seq, now)
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
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if all("worker running" in log.read_text() for log in self.logs):
                break
            if any(p.poll() is not None for p in self.procs):
                raise SystemExit("a worker exited:\n" + "\n".join(log.read_text() for log in self.logs))
            time.sleep(0.05)
        else:
            self.stop()
            raise SystemExit(f"workers did not start in {START_SECONDS} s")
        self.cpu0 = self.cpu()

    def cpu(self) -> float:
        """CPU seconds the worker processes used so far (user + system)."""
        total = 0
        for p in self.procs:
            try:
                fields = Path(f"/proc/{p.pid}/stat").read_text().rpartition(")")[2].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
        return total / CLK_TCK

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


def run_phase(phase: str, w: int, rate: float, args: argparse.Namespace, db: Database, url: str,
              receiver: Receiver, tmp: Path) -> dict:
    n = args.events if phase == "drain" else max(1, int(rate * args.seconds))
    events = plan(n, args.per_entity)
    analyze(db)
    receiver.reset()
    if phase == "steady":
        workers = Workers(url, w, tmp, args.concurrency)
        prod = produce_at_rate(db, events, rate, args.producers, deadline=time.perf_counter() + n / rate * 3 + 30,
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
    cpu = workers.cpu() - workers.cpu0
    errors = workers.stop()
    r = analyse(db, receiver, events, start)
    r.update(phase=phase, workers=w, offered_per_s=rate if phase == "steady" else None, produced_rate=prod["rate"],
             producer_lag_p99_ms=prod["lag_p99_ms"], abandoned=abandon_pending(db), worker_errors=len(errors),
             worker_cpu_ms_per_delivery=cpu / r["delivered"] * 1000 if r["delivered"] else None)
    extra = (f"offered {rate:g}/s, produced {prod['rate']:.0f}/s (producer lag p99 {prod['lag_p99_ms']:.0f} ms)"
             if phase == "steady" else f"backlog written in {prod['seconds']:.1f}s")
    cpu_txt = f"{r['worker_cpu_ms_per_delivery']:.2f}" if r["worker_cpu_ms_per_delivery"] else "-"
    print(f"  {phase:6s} workers={w}: {r['delivered']:,}/{r['events']:,} delivered, "
          f"{r['deliveries_per_s']:.0f} deliveries/s, latency p50 {fmt_ms(r['p50_ms']).strip()} ms "
          f"p99 {fmt_ms(r['p99_ms']).strip()} ms, worker CPU {cpu_txt} ms/delivery; {extra}; "
          f"dup {r['duplicates']}, order violations {r['order_violations']}, bad sigs {r['bad_signatures']}, "
          f"abandoned {r['abandoned']}", flush=True)
    for e in errors[:3]:
        print(f"    worker log: {e}")
    return r


def machine() -> str:
    model = "?"
    try:
        model = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                     if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores"


def draw(out: dict, path: Path) -> None:
    """deliveries/s and latency against offered load (matplotlib, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steady = [r for r in out["phases"] if r["phase"] == "steady"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    for w in sorted({r["workers"] for r in steady}):
        rs = sorted((r for r in steady if r["workers"] == w), key=lambda r: r["offered_per_s"])
        xs = [r["offered_per_s"] for r in rs]
        a.plot(xs, [r["deliveries_per_s"] for r in rs], "o-", label=f"delivered, {w} worker(s)")
        b.plot(xs, [r["p50_ms"] for r in rs], "o-", label=f"p50, {w} worker(s)")
        b.plot(xs, [r["p99_ms"] if r["p99_ms"] is not None else float("nan") for r in rs], "s--",
               label=f"p99, {w} worker(s)")
    xmax = max([r["offered_per_s"] for r in steady], default=1)
    a.plot([0, xmax], [0, xmax], ":", color="grey", label="offered")
    a.axhline(out["raw_ceiling_per_s"], color="red", label=f"raw send ceiling ({out['raw_client']})")
    for r in out["phases"]:
        if r["phase"] == "drain":
            a.axhline(r["deliveries_per_s"], color="green", ls="--", label=f"drain capacity, {r['workers']} worker(s)")
    a.set(xlabel="offered events/s", ylabel="deliveries/s", title="Webhook deliveries")
    b.axhline(TARGET_P99 * 1000, color="red", ls=":", label="target p99")
    b.set(xlabel="offered events/s", ylabel="event to delivery, ms", title="Latency", yscale="log")
    a.legend(fontsize=7)
    b.legend(fontsize=7)
    fig.suptitle(f"bench/webhooks.py, {out['db']}: {out['machine']}, {out['date']} (load avg {out['load_before']})",
                 fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--rates", default="100,250,500", help="offered loads of the steady phases, events/s")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of a steady phase (events = rate x this)")
    ap.add_argument("--events", type=int, default=5000, help="events of the drain and the raw phases")
    ap.add_argument("--workers", default="1", help="comma-separated worker counts")
    ap.add_argument("--per-entity", type=int, default=5, help="events per entity (ordered by entityEventSequence)")
    ap.add_argument("--producers", type=int, default=2, help="producer threads")
    ap.add_argument("--producer", choices=["sql", "orm"], default="sql",
                    help="steady phase: the outbox rows in plain SQL (default), or through outbox.record")
    ap.add_argument("--grace", type=float, default=30.0, help="seconds to wait for deliveries after producing")
    ap.add_argument("--history", type=int, default=50000, help="DELIVERED events loaded beforehand")
    ap.add_argument("--concurrency", type=int, help="boxoffice worker --concurrency (default: its own, 32)")
    ap.add_argument("--no-drain", action="store_true", help="skip the backlog-drain (capacity) phases")
    ap.add_argument("--raw-clients", default="aiohttp,httpx,httpcore", help="bare clients measured for the ceiling")
    ap.add_argument("--out", default=str(ROOT / "docs" / "bench" / "webhooks"), help="where .json and .png go")
    args = ap.parse_args()
    from boxoffice.config import get_settings

    connections = get_settings().webhook_per_subscription_concurrency
    counts = [int(x) for x in args.workers.split(",") if x.strip()]
    rates = [float(x) for x in args.rates.split(",") if x.strip()]
    clients = [c for c in args.raw_clients.split(",") if c.strip()]
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    results: list[dict] = []
    raws: list[dict] = []
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        url = fresh_database(args.db, tmp)
        print(f"[{args.db}] loading ... (load average {load_before})")
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
            bodies, sign_ms = signed_bodies(db, plan(args.events, args.per_entity))

            def raw_round(when: str) -> None:
                for c in clients:
                    r = raw_ceiling(c, receiver, bodies, connections, tmp)
                    r.update(when=when, connections=connections)
                    raws.append(r)
                    print(f"  raw    {c:8s} ({when}): {r['per_s']:.0f} posts/s over {connections} connections, "
                          f"client CPU {r['cpu_ms_per_post']:.2f} ms/post, {r['received']:,}/{r['posts']:,} received, "
                          f"{r['failed']} failed", flush=True)

            raw_round("start")
            phases = [("steady", w, r) for w in counts for r in rates]
            phases += [] if args.no_drain else [("drain", w, 0.0) for w in counts]
            for phase, w, rate in phases:
                results.append(run_phase(phase, w, rate, args, db, url, receiver, tmp))
            raw_round("end")
        finally:
            receiver.close()
            db.dispose()
    best = max(raws, key=lambda r: r["per_s"])
    ceiling = best["per_s"]
    for r in results:
        r["share_of_raw"] = r["deliveries_per_s"] / ceiling if ceiling else 0.0
        if r["phase"] == "steady":
            r["target_met"] = (r["p99_ms"] < TARGET_P99 * 1000 and r["delivered"] == r["events"]
                               if r["offered_per_s"] >= TARGET_RATE else None)
    load_after = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print()
    print(f"db={args.db} rates={args.rates} seconds={args.seconds:g} events={args.events} "
          f"per-entity={args.per_entity} history={args.history} {machine()}; load average {load_before} -> "
          f"{load_after}")
    by_client: dict[str, list[float]] = defaultdict(list)
    for r in raws:
        by_client[r["client"]].append(r["per_s"])
    print("raw send ceiling: " + ", ".join(f"{c} {max(v):.0f}/s" for c, v in by_client.items())
          + f" -> {best['client']} {ceiling:.0f}/s")
    print(f"{'phase':7s} {'workers':>7s} {'offered':>7s} {'delivered':>10s} {'deliv/s':>8s} {'of raw':>7s} "
          f"{'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} {'cpu ms':>7s} {'dup':>5s} {'order':>5s}")
    for r in results:
        off = f"{r['offered_per_s']:7.0f}" if r["offered_per_s"] else "      -"
        cpu = f"{r['worker_cpu_ms_per_delivery']:7.2f}" if r["worker_cpu_ms_per_delivery"] else "      -"
        print(f"{r['phase']:7s} {r['workers']:7d} {off} {r['delivered']:>5d}/{r['events']:<4d} "
              f"{r['deliveries_per_s']:8.0f} {r['share_of_raw'] * 100:6.0f}% {fmt_ms(r['p50_ms']):>8s} "
              f"{fmt_ms(r['p99_ms']):>8s} {fmt_ms(r['max_ms']):>8s} {cpu} {r['duplicates']:5d} "
              f"{r['order_violations']:5d}")
    if sign_ms:
        print(f"signing: {sign_ms:.2f} ms of CPU per RS256 signature -> one core signs at most {1000 / sign_ms:.0f}/s "
              f"= {1000 / sign_ms / ceiling * 100:.0f}% of the raw ceiling ({os.cpu_count()} cores in all, shared with "
              f"the receiver, the producer and PostgreSQL)")
    print(f"targets (information only): drain >= {TARGET_SHARE * 100:.0f}% of the raw ceiling; p99 < "
          f"{TARGET_P99 * 1000:.0f} ms and all delivered at {TARGET_RATE:g} events/s offered")
    finite = [{k: (None if v == float("inf") else v) for k, v in r.items()} for r in results]  # never -> null
    out = {"db": args.db, "machine": machine(), "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
           "load_before": load_before, "load_after": load_after, "history": args.history,
           "per_entity": args.per_entity, "raw_client": best["client"], "raw_ceiling_per_s": ceiling, "raw": raws,
           "sign_cpu_ms": sign_ms,
           "phases": finite}
    print(json.dumps(out))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out + ".json").write_text(json.dumps(out, indent=1) + "\n")
        draw(out, Path(args.out + ".png"))
        print(f"wrote {args.out}.json and {args.out}.png")
    ok = all(r["order_violations"] == 0 and r["bad_signatures"] == 0 and r["foreign"] == 0 for r in results)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
