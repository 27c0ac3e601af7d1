"""Flash sale: 10,000 buyers race for 1,000 seats of ONE ticket definition, over HTTP.

Sets up through the HTTP API (an app key creates a published event and one ticket
definition with initialLimit 1000), runs `ANALYZE` (this machine's PostgreSQL has
autovacuum off), then every buyer makes exactly one

    POST /events/v1/ticket-reservations
    {"ticketReservation":{"tickets":[{"ticketDefinitionId": TD, "quantity": 1}]}}

with one of --visitors visitor keys (buyer i uses key i % visitors). 200 is a seat,
428 with details.applicationError.code == "SOLD_OUT" is sold out, anything else
(other status, other code, transport error, timeout) is an error and is printed.

Before the sale, --warmup reservations go to a second definition of the same event,
so code paths, connection pools and every worker's key cache are warm; then ANALYZE.

The load comes from --procs client processes (default 2), each an asyncio (uvloop)
loop with concurrency/procs buyers in flight (default 64 in all), each on its own
keep-alive connection. --client raw (default) speaks HTTP/1.1 directly on asyncio
streams (~0.1 ms of client CPU per request); --client httpx uses one
httpx.AsyncClient per process, which measured ~3.6 ms of CPU per request here: too
much for 2 cores shared with the server and the database (the client became the
bottleneck). To show who is, the run prints the machine's CPU split over the run
(client processes / each server process / PostgreSQL's processes / anything else),
how busy the machine was just before (other work skews every figure), and on
PostgreSQL the per-request pg_stat_database counters and the mean number of the
server's backends in each state (running, waiting on the definition's row lock,
idle in a transaction while the server thinks), while selling and once sold out.

Checks (any failure makes the exit status 1):
* successes == seats exactly; OVERSOLD = successes beyond the seats;
* GET .../ticket-definitions/{id}?fields=SALES_DETAILS: reservedCount + soldCount ==
  seats and unsoldCount == 0;
* SQL: sum(quantity) of the definition's reservation_lines whose reservation is
  PENDING/CONFIRMED == seats == reserved_count + sold_count of its row, and those
  reservations are exactly the ones the 200 responses returned.

Then the database's own rate for the same inventory step, without the service: a
scratch table `flash_raw(id, limit_, sold, reserved)` and the same number of
connections (same split over processes), autocommit, each running
`UPDATE flash_raw SET reserved = reserved + 1 WHERE id = 1 AND limit_ - sold - reserved >= 1`
until seats + (the HTTP run's sold-out count) attempts are made. Our reservations/s
is printed as a ratio of that raw rate. (With --db sqlite the raw run uses sqlite3
threads on the same file, with the server's pragmas.)

Usage:  .venv/bin/python bench/flash_sale.py [--db postgresql|sqlite|both]
        [--buyers 10000] [--seats 1000] [--concurrency 64] [--procs 2] [--client raw|httpx]
        [--visitors 50] [--workers 2] [--warmup 200] [--max-seconds 180]
Every phase is bounded: --max-seconds per timed phase (buyers not sent by then are
counted as "not sent"), 60 s per request.
Target (information only): >= 1,000 successful reservations/s and 0 oversold.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from boxoffice import models_registry  # noqa: F401
from boxoffice.auth import create_api_key
from boxoffice.db import Database
from boxoffice.identity import IdentityType
from boxoffice.migrations import upgrade

PG_ADMIN = os.environ.get("BOXOFFICE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCRATCH_DB = "boxoffice_flash"
EVENTS_PATH = "/events/v3/events"
TD_PATH = "/events-ticket-definitions/v3/ticket-definitions"
RES_PATH = "/events/v1/ticket-reservations"
SITE = "flash-site"
TARGET_RPS = 1000.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- set-up ---------------------------------------------------------------------------


def fresh_database(kind: str, tmp: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'flash.db'}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{SCRATCH_DB}"')
    return PG_ADMIN.rpartition("/")[0] + f"/{SCRATCH_DB}"


def make_keys(url: str, visitors: int) -> tuple[str, list[str]]:
    """Migrate, then one app key and `visitors` visitor keys (one identity each)."""
    upgrade(url)
    db = Database(url)
    try:
        with db.session(write=True) as s:
            app_key = create_api_key(s, SITE, IdentityType.APP)
            keys = [create_api_key(s, SITE, IdentityType.VISITOR) for _ in range(visitors)]
    finally:
        db.dispose()
    return app_key, keys


def analyze(url: str) -> None:
    db = Database(url)
    try:
        with db.engine.connect() as conn:  # what autovacuum would have done in production
            conn.execute(text("ANALYZE"))
            conn.commit()
    finally:
        db.dispose()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "BOXOFFICE_DATABASE_URL": url}
    bin_ = Path(sys.executable).parent / "boxoffice"
    proc = subprocess.Popen(
        [
            str(bin_),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(300):  # up to ~30 s for every worker to import and answer
        if proc.poll() is not None:
            raise SystemExit(f"server exited with status {proc.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _check(r: Any, what: str) -> dict:
    if r.status_code != 200:
        raise SystemExit(
            f"set-up failed: {what}: {r.request.method} {r.request.url} -> {r.status_code} {r.text[:1000]}"
        )
    return r.json()


def setup_via_api(base: str, app_key: str, seats: int, warm_seats: int) -> tuple[str, str, str | None]:
    """A published event with the sale definition (and a warm-up definition) on it."""
    import datetime as dt

    import httpx

    def iso(t: dt.datetime) -> str:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"

    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    event = {
        "event": {
            "title": "Flash Sale",
            "dateAndTimeSettings": {
                "startDate": iso(start),
                "endDate": iso(start + dt.timedelta(hours=2)),
                "timeZoneId": "UTC",
            },
            "location": {"type": "VENUE", "name": "Arena", "address": {"formattedAddress": "1 Main St"}},
            "registration": {"initialType": "TICKETING"},
        },
        "draft": False,
    }
    headers = {"Authorization": app_key, "wix-site-id": SITE}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
        ev = _check(c.post(EVENTS_PATH, json=event), "create event")["event"]

        def td(name: str, limit: int) -> str:
            body = {
                "ticketDefinition": {
                    "eventId": ev["id"],
                    "name": name,
                    "initialLimit": limit,
                    "pricingMethod": {"fixedPrice": {"value": "25", "currency": "USD"}},
                    "feeType": "FEE_INCLUDED",
                }
            }
            return _check(c.post(TD_PATH, json=body), f"create ticket definition {name!r}")["ticketDefinition"]["id"]

        sale = td("Flash", seats)
        warm = td("Warm-up", warm_seats) if warm_seats else None
    return ev["id"], sale, warm


def sales_details(base: str, app_key: str, td_id: str) -> dict:
    import httpx

    r = httpx.get(
        f"{base}{TD_PATH}/{td_id}",
        params={"fields": "SALES_DETAILS"},
        headers={"Authorization": app_key, "wix-site-id": SITE},
        timeout=30,
    )
    return _check(r, "get ticket definition with SALES_DETAILS")["ticketDefinition"].get("salesDetails", {})


def sql_check(url: str, td_id: str) -> dict:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT COALESCE(SUM(l.quantity), 0), COUNT(DISTINCT r.id) FROM reservation_lines l "
                    "JOIN ticket_reservations r ON r.id = l.reservation_id "
                    "WHERE l.ticket_definition_id = :td AND r.status IN ('PENDING', 'CONFIRMED')"
                ),
                {"td": td_id},
            ).one()
            ids = {
                i
                for (i,) in conn.execute(
                    text(
                        "SELECT DISTINCT r.id FROM reservation_lines l JOIN ticket_reservations r "
                        "ON r.id = l.reservation_id WHERE l.ticket_definition_id = :td "
                        "AND r.status IN ('PENDING', 'CONFIRMED')"
                    ),
                    {"td": td_id},
                )
            }
            counts = conn.execute(
                text("SELECT reserved_count, sold_count, actual_limit FROM ticket_definitions WHERE id = :td"),
                {"td": td_id},
            ).one()
    finally:
        db.dispose()
    return {
        "lines_quantity": int(row[0]),
        "reservations": int(row[1]),
        "reserved_count": int(counts[0]),
        "sold_count": int(counts[1]),
        "actual_limit": int(counts[2]),
        "ids": ids,
    }


# --- CPU accounting (to see whether the client is the bottleneck) ---------------------------


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, all cores, from /proc/stat."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = f[3] + f[4]  # idle + iowait
    total = sum(f[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


def proc_cpu(root: int | None) -> tuple[dict[int, float], float]:
    """user+system CPU seconds of ({pid: cpu} of `root` and its descendants, i.e. the
    server's processes; all of PostgreSQL's processes). Backends that exit during the run are not counted; the
    server's pooled connections live through it."""
    stats: dict[int, tuple[int, float, str]] = {}
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            raw = (p / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.find("(") + 1 : raw.rfind(")")]
        rest = raw.rsplit(")", 1)[1].split()
        stats[int(p.name)] = (int(rest[1]), (int(rest[11]) + int(rest[12])) / CLK_TCK, comm)
    pg = sum(cpu for _, cpu, comm in stats.values() if comm.startswith("postgres"))
    if root is None:
        return {}, pg
    tree, frontier = {root: stats.get(root, (0, 0.0, ""))[1]}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, cpu, _) in stats.items():
            if ppid == parent and pid not in tree:
                tree[pid] = cpu
                frontier.append(pid)
    return tree, pg


PG_COUNTERS = (
    "xact_commit",
    "xact_rollback",
    "tup_returned",
    "tup_fetched",
    "tup_inserted",
    "tup_updated",
    "blks_hit",
    "blks_read",
)


def pg_counters(url: str) -> dict[str, int]:
    """The scratch database's pg_stat_database counters (flushed by backends about
    once a second, and when they exit)."""
    if not url.startswith("postgresql"):
        return {}
    with psycopg.connect(url, autocommit=True) as c:
        row = c.execute(
            f"SELECT {', '.join(PG_COUNTERS)} FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return dict(zip(PG_COUNTERS, map(int, row), strict=True))


class PgSampler:
    """Samples the scratch database's backends (pg_stat_activity) every 50 ms while the
    buyers run: how many are running, waiting on the definition's row lock
    (Lock:transactionid / Lock:tuple), on WAL flushes, or idle in a transaction."""

    def __init__(self, url: str) -> None:
        import threading

        self.url, self.samples = url, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True) if url.startswith("postgresql") else None
        if self._thread:
            self._thread.start()

    def _run(self) -> None:
        from collections import Counter

        with psycopg.connect(self.url, autocommit=True) as c:
            while not self._stop.wait(0.05):
                rows = c.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                ).fetchall()
                self.samples.append(
                    (
                        time.perf_counter(),
                        Counter(f"{st}" + (f" {wt}:{we}" if wt and st != "idle" else "") for st, wt, we in rows),
                    )
                )

    def stop(self) -> None:
        if self._thread:
            self._stop.set()
            self._thread.join(timeout=10)

    def averages(self, t_from: float, t_to: float) -> dict[str, float]:
        picked = [c for t, c in self.samples if t_from <= t <= t_to]
        if not picked:
            return {}
        keys = {k for c in picked for k in c}
        avg = {k: sum(c[k] for c in picked) / len(picked) for k in keys}
        return dict(sorted(((k, round(v, 1)) for k, v in avg.items() if v >= 0.05), key=lambda kv: -kv[1]))


# --- the buyers ----------------------------------------------------------------------------


class RawHttp:
    """A minimal HTTP/1.1 keep-alive connection on asyncio streams: a pre-built request
    out, status + headers + Content-Length (or chunked) body in. Far cheaper per request
    than a general client, so the 2 cores go to the server and the database."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: Any = None
        self.writer: Any = None

    async def connect(self) -> None:
        import asyncio

        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, raw: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
        if self.writer is None:
            await self.connect()
        try:
            self.writer.write(raw)
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            headers = {}
            for ln in lines[1:]:
                if ln:
                    k, _, v = ln.partition(b":")
                    headers[k.strip().lower()] = v.strip()
            if b"content-length" in headers:
                body = await self.reader.readexactly(int(headers[b"content-length"]))
            elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
                parts = []
                while True:
                    size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    parts.append(await self.reader.readexactly(size + 2))
                    if size == 0:
                        break
                body = b"".join(p[:-2] for p in parts)
            else:
                body = await self.reader.read()
            if headers.get(b"connection", b"").lower() == b"close":
                self.close()
            return status, headers, body
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _buyer_proc(
    client: str,
    base: str,
    keys: list[str],
    td_id: str,
    buyers: list[int],
    conc: int,
    timeout: float,
    max_seconds: float,
    barrier: Any,
    out: Any,
) -> None:
    """One client process: `conc` concurrent buyers, each on its own keep-alive
    connection (raw) or sharing one httpx.AsyncClient (httpx)."""
    import asyncio
    from urllib.parse import urlsplit

    import orjson

    body = orjson.dumps({"ticketReservation": {"tickets": [{"ticketDefinitionId": td_id, "quantity": 1}]}})
    hdrs = [{"Authorization": k, "wix-site-id": SITE, "Content-Type": "application/json"} for k in keys]
    u = urlsplit(base)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    raws = [
        (
            f"POST {RES_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {k}\r\nwix-site-id: {SITE}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for k in keys
    ]
    health = f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()

    async def run() -> dict:
        import httpx

        if client == "httpx":
            limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
            hc = httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout)
            # open every connection before the start line (a cheap request each)
            await asyncio.gather(*(hc.get("/healthz") for _ in range(conc)))

            async def send(_: int, b: int) -> tuple[int, bytes, str | None]:
                r = await hc.post(RES_PATH, content=body, headers=hdrs[b % len(hdrs)])
                return r.status_code, r.content, r.headers.get("x-wix-request-id")
        else:
            conns = [RawHttp(host, port) for _ in range(conc)]
            await asyncio.gather(*(c.request(health) for c in conns))

            async def send(w: int, b: int) -> tuple[int, bytes, str | None]:
                st, h, content = await asyncio.wait_for(conns[w].request(raws[b % len(raws)]), timeout)
                rid = h.get(b"x-wix-request-id")
                return st, content, rid.decode() if rid else None

        await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        deadline = t0 + max_seconds
        it = iter(buyers)
        rows: list[tuple] = []  # (buyer, outcome, start, end, status, reservation id)
        problems: list[dict] = []
        not_sent = 0

        async def worker(w: int) -> None:
            nonlocal not_sent
            for b in it:
                if time.perf_counter() > deadline:
                    not_sent += 1
                    continue
                s = time.perf_counter()
                try:
                    status, content, req_id = await send(w, b)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, httpx.HTTPError, ValueError) as e:
                    rows.append((b, "error", s, time.perf_counter(), 0, None))
                    problems.append({"buyer": b, "key": b % len(keys), "error": f"{type(e).__name__}: {e}"})
                    continue
                e_ = time.perf_counter()
                outcome, rid = "error", None
                try:
                    doc = orjson.loads(content)
                except orjson.JSONDecodeError:
                    doc = None
                if status == 200 and isinstance(doc, dict):
                    rid = (doc.get("ticketReservation") or {}).get("id")
                    outcome = "ok" if rid else "error"
                elif status == 428 and isinstance(doc, dict):
                    code = ((doc.get("details") or {}).get("applicationError") or {}).get("code")
                    outcome = "soldout" if code == "SOLD_OUT" else "error"
                rows.append((b, outcome, s, e_, status, rid))
                if outcome == "error":
                    problems.append(
                        {
                            "buyer": b,
                            "key": b % len(keys),
                            "status": status,
                            "body": content[:2000].decode(errors="replace"),
                            "request_id": req_id,
                        }
                    )

        await asyncio.gather(*(worker(w) for w in range(conc)))
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        if client == "httpx":
            await hc.aclose()
        else:
            for c in conns:
                c.close()
        return {"rows": rows, "problems": problems, "not_sent": not_sent, "cpu": cpu, "t0": t0}

    try:
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        out.put(asyncio.run(run()))
    except BaseException as e:  # report, never hang the parent
        out.put({"fatal": f"{type(e).__name__}: {e}"})
        raise


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000


def run_buyers(
    client: str,
    base: str,
    keys: list[str],
    td_id: str,
    n: int,
    concurrency: int,
    procs: int,
    max_seconds: float,
    server_pid: int | None,
    url: str,
) -> dict:
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(procs + 1)
    out = ctx.Queue()
    per = [concurrency // procs + (1 if i < concurrency % procs else 0) for i in range(procs)]
    ps = [
        ctx.Process(
            target=_buyer_proc,
            args=(client, base, keys, td_id, list(range(i, n, procs)), per[i], 60.0, max_seconds, barrier, out),
            daemon=True,
        )
        for i in range(procs)
    ]
    for p in ps:
        p.start()
    sampler = PgSampler(url)
    barrier.wait(timeout=120)
    m0, (srv0, pg0) = machine_busy(), proc_cpu(server_pid)
    try:
        results = [out.get(timeout=max_seconds + 180) for _ in ps]
    finally:
        sampler.stop()
    m1, (srv1, pg1) = machine_busy(), proc_cpu(server_pid)
    for p in ps:
        p.join(timeout=30)
    fatal = [r["fatal"] for r in results if "fatal" in r]
    if fatal:
        raise SystemExit(f"client process failed: {fatal}")
    t0 = min(r["t0"] for r in results)
    rows = [row for r in results for row in r["rows"]]
    ok = [row for row in rows if row[1] == "ok"]
    so = [row for row in rows if row[1] == "soldout"]
    err = [row for row in rows if row[1] == "error"]
    end = max((row[3] for row in rows), default=t0)
    last_ok = max((row[3] for row in ok), default=t0)
    wall = end - t0
    busy, total = m1[0] - m0[0], m1[1] - m0[1]
    client_cpu = sum(r["cpu"] for r in results)
    per_proc = sorted((cpu - srv0.get(pid, 0.0) for pid, cpu in srv1.items()), reverse=True)
    server_cpu = sum(per_proc)
    pg_cpu = max(0.0, pg1 - pg0)  # a backend that exited takes its counter with it
    # a success after the first sold-out would mean seats came back (or a reordering)
    first_so = min((row[3] for row in so), default=None)
    ok_after_so = sum(1 for row in ok if first_so is not None and row[2] > first_so)
    return {
        "attempts": len(rows),
        "not_sent": sum(r["not_sent"] for r in results),
        "successes": len(ok),
        "sold_out": len(so),
        "errors": len(err),
        "problems": [p for r in results for p in r["problems"]],
        "ids": {row[5] for row in ok},
        "total_s": wall,
        "to_last_success_s": last_ok - t0,
        "success_rps": len(ok) / (last_ok - t0) if ok else 0.0,
        "attempt_rps": len(rows) / wall if wall > 0 else 0.0,
        "ok_p50_ms": pct([row[3] - row[2] for row in ok], 0.50),
        "ok_p99_ms": pct([row[3] - row[2] for row in ok], 0.99),
        "soldout_p50_ms": pct([row[3] - row[2] for row in so], 0.50),
        "soldout_p99_ms": pct([row[3] - row[2] for row in so], 0.99),
        "ok_started_after_first_soldout": ok_after_so,
        # mean number of the server's PostgreSQL backends in each state, while selling / once sold out
        "pg_backends_selling": sampler.averages(t0, last_ok),
        "pg_backends_sold_out": sampler.averages(last_ok, end),
        # CPU over the run, in cores (the machine has os.cpu_count())
        "cpu_cores_machine": busy / wall if wall > 0 else 0.0,
        "cpu_cores_client": client_cpu / wall if wall > 0 else 0.0,
        "cpu_cores_server": server_cpu / wall if wall > 0 else 0.0,
        "cpu_cores_server_processes": [round(c / wall, 3) for c in per_proc if c / max(wall, 1e-9) >= 0.005]
        if wall > 0
        else [],
        "cpu_cores_postgres": pg_cpu / wall if wall > 0 else 0.0,
        "cpu_cores_other": max(0.0, busy - client_cpu - server_cpu - pg_cpu) / wall if wall > 0 else 0.0,
        "machine_idle_pct": 100.0 * (1 - busy / total) if total > 0 else 0.0,
        "client_cpu_ms_per_request": 1000 * client_cpu / len(rows) if rows else 0.0,
    }


def warm_up(base: str, keys: list[str], td_id: str, n: int) -> tuple[int, int, int]:
    """Reserve on a separate definition so code paths, pools and every worker's key
    cache are warm before the sale; returns (200s, sold-outs, other)."""
    import asyncio

    import httpx

    body = {"ticketReservation": {"tickets": [{"ticketDefinitionId": td_id, "quantity": 1}]}}

    async def run() -> tuple[int, int, int]:
        counts = [0, 0, 0]
        it = iter(range(n))
        async with httpx.AsyncClient(base_url=base, timeout=60) as c:

            async def w() -> None:
                for i in it:
                    r = await c.post(
                        RES_PATH, json=body, headers={"Authorization": keys[i % len(keys)], "wix-site-id": SITE}
                    )
                    counts[0 if r.status_code == 200 else 1 if r.status_code == 428 else 2] += 1

            await asyncio.gather(*(w() for _ in range(16)))
        return counts[0], counts[1], counts[2]

    return asyncio.run(run())


# --- the database's own rate ------------------------------------------------------------------

RAW_UPDATE = "UPDATE flash_raw SET reserved = reserved + 1 WHERE id = 1 AND limit_ - sold - reserved >= 1"


def _raw_pg_proc(url: str, conc: int, attempts: int, max_seconds: float, barrier: Any, out: Any) -> None:
    import asyncio

    async def run() -> dict:
        conns = [await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in range(conc)]
        try:
            for c in conns:  # prepare/plan once per connection, outside the timing
                await c.execute("SELECT 1 FROM flash_raw WHERE id = 1")
            await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
            t0 = time.perf_counter()
            deadline = t0 + max_seconds
            left = [attempts]
            oks: list[float] = []
            fails = [0]
            lat: list[float] = []

            async def worker(c: psycopg.AsyncConnection) -> None:
                while left[0] > 0 and time.perf_counter() < deadline:
                    left[0] -= 1
                    s = time.perf_counter()
                    cur = await c.execute(RAW_UPDATE)
                    e = time.perf_counter()
                    lat.append(e - s)
                    if cur.rowcount == 1:
                        oks.append(e)
                    else:
                        fails[0] += 1

            await asyncio.gather(*(worker(c) for c in conns))
            return {"t0": t0, "end": time.perf_counter(), "oks": oks, "fails": fails[0], "lat": lat}
        finally:
            for c in conns:
                await c.close()

    try:
        out.put(asyncio.run(run()))
    except BaseException as e:
        out.put({"fatal": f"{type(e).__name__}: {e}"})
        raise


def _raw_sqlite_proc(path: str, conc: int, attempts: int, max_seconds: float, barrier: Any, out: Any) -> None:
    import sqlite3
    import threading

    lock = threading.Lock()
    left = [attempts]
    oks: list[float] = []
    fails = [0]
    lat: list[float] = []

    def connect() -> sqlite3.Connection:
        c = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
            c.execute(f"PRAGMA {pragma}")
        return c

    try:
        conns = [connect() for _ in range(conc)]
        barrier.wait()
        t0 = time.perf_counter()
        deadline = t0 + max_seconds

        def worker(c: sqlite3.Connection) -> None:
            while time.perf_counter() < deadline:
                with lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
                s = time.perf_counter()
                n = c.execute(RAW_UPDATE).rowcount
                e = time.perf_counter()
                with lock:
                    lat.append(e - s)
                    if n == 1:
                        oks.append(e)
                    else:
                        fails[0] += 1

        ts = [threading.Thread(target=worker, args=(c,)) for c in conns]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for c in conns:
            c.close()
        out.put({"t0": t0, "end": time.perf_counter(), "oks": oks, "fails": fails[0], "lat": lat})
    except BaseException as e:
        out.put({"fatal": f"{type(e).__name__}: {e}"})
        raise


def raw_rate(kind: str, url: str, seats: int, attempts: int, concurrency: int, procs: int, max_seconds: float) -> dict:
    """The conditional single-row UPDATE alone, with the same connections and split."""
    if kind == "postgresql":
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("DROP TABLE IF EXISTS flash_raw")
            c.execute(
                "CREATE TABLE flash_raw (id int PRIMARY KEY, limit_ int NOT NULL, sold int NOT NULL, reserved int NOT NULL)"
            )
            c.execute("INSERT INTO flash_raw VALUES (1, %s, 0, 0)", (seats,))
            c.execute("ANALYZE flash_raw")
        target, arg = _raw_pg_proc, url
    else:
        import sqlite3

        arg = url.removeprefix("sqlite:///")
        c = sqlite3.connect(arg, isolation_level=None)
        c.execute("DROP TABLE IF EXISTS flash_raw")
        c.execute(
            "CREATE TABLE flash_raw (id int PRIMARY KEY, limit_ int NOT NULL, sold int NOT NULL, reserved int NOT NULL)"
        )
        c.execute("INSERT INTO flash_raw VALUES (1, ?, 0, 0)", (seats,))
        c.close()
        target = _raw_sqlite_proc
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(procs + 1)
    out = ctx.Queue()
    per = [concurrency // procs + (1 if i < concurrency % procs else 0) for i in range(procs)]
    share = [attempts // procs + (1 if i < attempts % procs else 0) for i in range(procs)]
    ps = [
        ctx.Process(target=target, args=(arg, per[i], share[i], max_seconds, barrier, out), daemon=True)
        for i in range(procs)
    ]
    for p in ps:
        p.start()
    barrier.wait(timeout=120)
    results = [out.get(timeout=max_seconds + 120) for _ in ps]
    for p in ps:
        p.join(timeout=30)
    fatal = [r["fatal"] for r in results if "fatal" in r]
    if fatal:
        raise SystemExit(f"raw {kind} run failed: {fatal}")
    t0 = min(r["t0"] for r in results)
    oks = [t for r in results for t in r["oks"]]
    lat = [x for r in results for x in r["lat"]]
    end = max(r["end"] for r in results)
    if kind == "postgresql":
        with psycopg.connect(url, autocommit=True) as c:
            reserved = c.execute("SELECT reserved FROM flash_raw WHERE id = 1").fetchone()[0]
    else:
        import sqlite3

        c = sqlite3.connect(arg)
        reserved = c.execute("SELECT reserved FROM flash_raw WHERE id = 1").fetchone()[0]
        c.close()
    last_ok = max(oks, default=t0)
    return {
        "attempts": len(lat),
        "successes": len(oks),
        "failures": sum(r["fails"] for r in results),
        "reserved": reserved,
        "total_s": end - t0,
        "to_last_success_s": last_ok - t0,
        "success_rps": len(oks) / (last_ok - t0) if oks else 0.0,
        "attempt_rps": len(lat) / (end - t0) if end > t0 else 0.0,
        "p50_ms": pct(lat, 0.50),
        "p99_ms": pct(lat, 0.99),
    }


# --- one database -------------------------------------------------------------------------------


def run_one(kind: str, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmpd:
        url = fresh_database(kind, Path(tmpd))
        app_key, keys = make_keys(url, args.visitors)
        proc, base = start_server(url, args.workers)
        try:
            event_id, td_id, warm_td = setup_via_api(base, app_key, args.seats, args.warmup // 2)
            if warm_td:
                w = warm_up(base, keys, warm_td, args.warmup)
                print(f"  warm-up on another definition: {w[0]} reserved, {w[1]} sold out, {w[2]} other")
            analyze(url)
            b0 = machine_busy()
            time.sleep(1.0)
            b1 = machine_busy()
            busy_before = 100.0 * (b1[0] - b0[0]) / max(1e-9, b1[1] - b0[1])
            print(
                f"  machine busy before the run: {busy_before:.0f}%"
                + ("  (WARNING: other work is running; figures will be low)" if busy_before > 10 else "")
            )
            pg0 = pg_counters(url)
            print(
                f"  event {event_id}, definition {td_id}: {args.seats:,} seats, {args.buyers:,} buyers, "
                f"{args.concurrency} in flight over {args.procs} {args.client} client process(es), {args.visitors} visitor keys"
            )
            r = run_buyers(
                args.client,
                base,
                keys,
                td_id,
                args.buyers,
                args.concurrency,
                args.procs,
                args.max_seconds,
                proc.pid,
                url,
            )
            r["sales_details"] = sales_details(base, app_key, td_id)
            r["machine_busy_before_pct"] = busy_before
        finally:
            stop_server(proc)
        pg1 = pg_counters(url)  # after the server's backends exited (and flushed their stats)
        r["pg_per_request"] = {k: (pg1[k] - pg0[k]) / max(1, r["attempts"]) for k in pg1}
        sql = sql_check(url, td_id)
        raw = raw_rate(
            kind, url, args.seats, args.seats + r["sold_out"], args.concurrency, args.procs, args.max_seconds
        )
    ids = r.pop("ids")
    sql_ids = sql.pop("ids")
    sd = r["sales_details"]
    seats = args.seats
    r["oversold"] = max(0, r["successes"] - seats)
    r["sales_details_ok"] = (
        sd.get("reservedCount", -1) + sd.get("soldCount", -1) == seats and sd.get("unsoldCount") == 0
    )
    r["sql"] = sql
    r["sql_ok"] = sql["lines_quantity"] == seats == sql["reserved_count"] + sql["sold_count"] and sql_ids == ids
    r["sql_ids_match_responses"] = sql_ids == ids
    r["raw"] = raw
    r["ratio_success_rps"] = r["success_rps"] / raw["success_rps"] if raw["success_rps"] else float("nan")
    r["ratio_attempt_rps"] = r["attempt_rps"] / raw["attempt_rps"] if raw["attempt_rps"] else float("nan")
    r["exact"] = r["successes"] == seats and r["errors"] == 0 and r["not_sent"] == 0
    r["target_met"] = r["success_rps"] >= TARGET_RPS and r["oversold"] == 0 and r["sales_details_ok"] and r["sql_ok"]
    return r


def report(kind: str, r: dict, seats: int) -> None:
    raw, sd, sql = r["raw"], r["sales_details"], r["sql"]
    print(
        f"  HTTP: {r['attempts']:,} attempts in {r['total_s']:.2f}s ({r['attempt_rps']:,.0f}/s); "
        f"{r['successes']:,} reserved in {r['to_last_success_s']:.2f}s ({r['success_rps']:,.0f}/s); "
        f"{r['sold_out']:,} sold out; {r['errors']} errors; {r['not_sent']} not sent (deadline)"
    )
    print(
        f"        latency ms: reserved p50 {r['ok_p50_ms']:.1f} p99 {r['ok_p99_ms']:.1f}; "
        f"sold out p50 {r['soldout_p50_ms']:.1f} p99 {r['soldout_p99_ms']:.1f}"
    )
    print(
        f"        CPU (cores of {os.cpu_count()}): client {r['cpu_cores_client']:.2f}, server {r['cpu_cores_server']:.2f} "
        f"(by process: {' + '.join(f'{c:.2f}' for c in r['cpu_cores_server_processes'])}), "
        f"postgres {r['cpu_cores_postgres']:.2f}, other {r['cpu_cores_other']:.2f}; machine idle {r['machine_idle_pct']:.0f}%; "
        f"client {r['client_cpu_ms_per_request']:.2f} ms CPU/request"
    )
    if r.get("pg_per_request"):
        print(
            "        PostgreSQL per HTTP request (pg_stat_database): "
            + ", ".join(f"{k} {v:.2f}" for k, v in r["pg_per_request"].items())
        )
    if r.get("pg_backends_selling"):
        print(f"        PostgreSQL backends (mean count) while selling: {r['pg_backends_selling']}")
        print(f"        ... once sold out: {r['pg_backends_sold_out']}")
    print(f"  salesDetails: {sd}  -> {'OK' if r['sales_details_ok'] else 'WRONG'}")
    print(
        f"  SQL: lines {sql['lines_quantity']} in {sql['reservations']} reservations; row reserved {sql['reserved_count']} "
        f"+ sold {sql['sold_count']} (limit {sql['actual_limit']}); ids match 200 responses: "
        f"{r['sql_ids_match_responses']}  -> {'OK' if r['sql_ok'] else 'WRONG'}"
    )
    if r["ok_started_after_first_soldout"]:
        print(f"  note: {r['ok_started_after_first_soldout']} successes were sent after the first sold-out answer")
    print(
        f"  raw {kind} UPDATE: {raw['attempts']:,} attempts in {raw['total_s']:.2f}s ({raw['attempt_rps']:,.0f}/s); "
        f"{raw['successes']:,} succeeded in {raw['to_last_success_s']:.2f}s ({raw['success_rps']:,.0f}/s); "
        f"p50 {raw['p50_ms']:.2f} ms p99 {raw['p99_ms']:.2f} ms; final reserved {raw['reserved']}"
    )
    print(f"  ours / raw: reservations/s {r['ratio_success_rps']:.2f}x, attempts/s {r['ratio_attempt_rps']:.2f}x")
    if r["problems"]:
        print(f"  UNEXPECTED RESPONSES ({len(r['problems'])}), first 5:")
        for p in r["problems"][:5]:
            print(
                f"    POST {RES_PATH} (visitor key #{p['key']}, buyer {p['buyer']}) -> "
                + json.dumps({k: v for k, v in p.items() if k not in ("buyer", "key")})
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="postgresql")
    ap.add_argument("--buyers", type=int, default=10_000)
    ap.add_argument("--seats", type=int, default=1_000)
    ap.add_argument("--concurrency", type=int, default=64, help="requests in flight (and raw DB connections)")
    ap.add_argument("--procs", type=int, default=2, help="client processes the concurrency is split over")
    ap.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="raw: minimal asyncio keep-alive HTTP/1.1 (default); httpx: httpx.AsyncClient",
    )
    ap.add_argument("--visitors", type=int, default=50, help="visitor keys the buyers are spread over")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=200, help="warm-up reservations on another definition (0: none)")
    ap.add_argument("--max-seconds", type=float, default=180, help="bound on each timed phase")
    args = ap.parse_args()
    if args.seats > 1_000_000 or args.concurrency < args.procs:
        raise SystemExit("need seats <= 1,000,000 (initialLimit) and concurrency >= procs")
    kinds = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    results: dict[str, dict] = {}
    for kind in kinds:
        print(f"[{kind}] setting up ...")
        r = run_one(kind, args)
        report(kind, r, args.seats)
        results[kind] = r
    print()
    print(
        f"flash sale: {args.buyers:,} buyers, {args.seats:,} seats, concurrency {args.concurrency} over "
        f"{args.procs} {args.client} client procs, server workers={args.workers}, cores={os.cpu_count()}"
    )
    cols = [
        "database",
        "total s",
        "ok/s",
        "tries/s",
        "ok p50",
        "ok p99",
        "so p50",
        "so p99",
        "ok",
        "sold out",
        "errors",
        "oversold",
        "details",
        "sql",
        "raw ok/s",
        "ratio",
        "target",
    ]
    fmt = "{:10s} {:>7s} {:>7s} {:>7s} {:>7s} {:>7s} {:>7s} {:>7s} {:>5s} {:>8s} {:>6s} {:>8s} {:>7s} {:>4s} {:>8s} {:>6s} {:>6s}"
    print(fmt.format(*cols))
    for kind, r in results.items():
        print(
            fmt.format(
                kind,
                f"{r['total_s']:.2f}",
                f"{r['success_rps']:.0f}",
                f"{r['attempt_rps']:.0f}",
                f"{r['ok_p50_ms']:.1f}",
                f"{r['ok_p99_ms']:.1f}",
                f"{r['soldout_p50_ms']:.1f}",
                f"{r['soldout_p99_ms']:.1f}",
                str(r["successes"]),
                str(r["sold_out"]),
                str(r["errors"]),
                str(r["oversold"]),
                "ok" if r["sales_details_ok"] else "WRONG",
                "ok" if r["sql_ok"] else "BAD",
                f"{r['raw']['success_rps']:.0f}",
                f"{r['ratio_success_rps']:.2f}",
                "met" if r["target_met"] else "NOT met",
            )
        )
    print(
        "(latencies in ms; ok = 200 reserved, so = 428 SOLD_OUT; ratio = our reserved/s over the raw UPDATE's; "
        f"target: >= {TARGET_RPS:,.0f} reserved/s and 0 oversold)"
    )
    summary = {
        kind: {k: v for k, v in r.items() if k not in ("problems",)} | {"problems": r["problems"][:20]}
        for kind, r in results.items()
    }
    print(json.dumps(summary, default=str))
    bad = [
        k for k, r in results.items() if r["oversold"] or not r["sales_details_ok"] or not r["sql_ok"] or not r["exact"]
    ]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
