"""Flash sale: 10,000 buyers race for 1,000 seats of ONE ticket definition, over HTTP,
against PostgreSQL's own one-order transaction rate and the bare HTTP ceiling, in one run.

Sets up through the HTTP API (an app key creates a published event and one ticket
definition with initialLimit --seats), runs `ANALYZE` (this machine's PostgreSQL has
autovacuum off), then every buyer makes exactly one

    POST /events/v1/ticket-reservations
    {"ticketReservation":{"tickets":[{"ticketDefinitionId": TD, "quantity": 1}]}}

with one of --visitors visitor keys (buyer i uses key i % visitors). 200 is a seat,
428 with details.applicationError.code == "SOLD_OUT" is sold out, anything else
(other status, other code, transport error, timeout) is an error and is printed.
Before the first sale, --warmup reservations go to a warm-up definition, so code paths,
connection pools and every worker's key cache are warm. Each --concurrency level sells
a fresh event's definition on the same server.

The load comes from --procs client processes (default 2), each an asyncio (uvloop)
loop with concurrency/procs buyers in flight, each on its own keep-alive connection
(bench/ceiling.py's RawHttp: ~0.1 ms of client CPU a request; httpx cost ~3.6 ms, which
made the client the bottleneck on 2 cores). The run prints the machine's CPU split
(client / each server process / PostgreSQL / anything else), how busy the machine was
just before (other work skews every figure: read the ratios), the server's resident
memory per process at rest and its peak while selling, and on PostgreSQL the mean
number of the server's backends in each state while selling.

The references, measured in the same run at each concurrency:
* PostgreSQL's one-order transaction rate: pgbench -M prepared, -c C -j --procs, a
  script `BEGIN; UPDATE seats ... WHERE id = 1 AND limit - sold - reserved >= 1;
  INSERT INTO orders ...; COMMIT;` on a scratch table (one hot row, like the sale);
* the HTTP ceiling: bench/ceiling.py's bare ASGI app answering a reservation-sized
  JSON (the size of a real answer of this run) under uvicorn (uvloop, httptools) with
  the same --workers, loaded by the same client.

Variants: --servers uvicorn,granian sells under each HTTP server (`boxoffice serve
--server`); --before-src DIR sells once more with the server run from another source
tree (PYTHONPATH=DIR, e.g. the tree with the hot-path changes undone) for a
before/after in one run; --lingers 1,3 sells again with the group commit's linger
(BOXOFFICE_GROUP_COMMIT_LINGER_MS) at each value.

Checks (any failure makes the exit status 1), for every sale:
* successes == seats exactly; OVERSOLD = successes beyond the seats;
* GET .../ticket-definitions/{id}?fields=SALES_DETAILS: reservedCount + soldCount ==
  seats and unsoldCount == 0;
* SQL: sum(quantity) of the definition's reservation_lines whose reservation is
  PENDING/CONFIRMED == seats == reserved_count + sold_count of its row, and those
  reservations are exactly the ones the 200 responses returned.

Targets (issue 15, printed as ratios with both sides, at C=64 or the largest level):
reserved/s >= 2x pgbench's one-order tps and >= 0.5x the uvicorn ceiling's requests/s,
reserved p99 < 100 ms, 0 oversold, exactly-once accounting (PostgreSQL; SQLite alongside).

Writes --out.json and --out.png (throughput and p50/p99 against concurrency).

Usage:  .venv/bin/python bench/flash_sale.py [--db postgresql|sqlite|both]
        [--concurrency 16,32,64] [--buyers 10000] [--seats 1000] [--procs 2]
        [--servers uvicorn[,granian]] [--before-src DIR] [--lingers 1,3] [--workers 2] [--visitors 50]
        [--warmup 400] [--pgbench-seconds 8] [--max-seconds 180] [--out docs/bench/flash_sale]
Every phase is bounded: --max-seconds per timed phase (buyers not sent by then are
counted as "not sent"), 60 s per request.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from ceiling import RawHttp, descendants, pct, proc_stats, tree_rss_mb

from boxoffice import models_registry  # noqa: F401
from boxoffice.auth import create_api_key
from boxoffice.db import Database
from boxoffice.identity import IdentityType
from boxoffice.migrations import upgrade

PG_ADMIN = os.environ.get("BOXOFFICE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCRATCH_DB = "boxoffice_flash"
PGBENCH_DB = "boxoffice_flash_pgbench"
EVENTS_PATH = "/events/v3/events"
TD_PATH = "/events-ticket-definitions/v3/ticket-definitions"
RES_PATH = "/events/v1/ticket-reservations"
SITE = "flash-site"
TARGET_VS_PGBENCH = 2.0
TARGET_VS_CEILING = 0.5
TARGET_P99_MS = 100.0
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


def start_server(
    url: str, workers: int, server: str = "uvicorn", src: str | None = None, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """`boxoffice serve` under `server`; with `src`, the code of that source tree (PYTHONPATH)."""
    port = free_port()
    env = {**os.environ, "BOXOFFICE_DATABASE_URL": url, **(extra_env or {})}
    if src:
        env["PYTHONPATH"] = str(Path(src).resolve())
    bin_ = Path(sys.executable).parent / "boxoffice"
    proc = subprocess.Popen(
        [str(bin_), "serve", "--port", str(port), "--workers", str(workers), "--server", server,
         "--no-access-log", "--log-level", "warning"],
        env=env,
        start_new_session=True,  # its own process group: stop_server ends the workers too
    )
    base = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(600):  # up to ~60 s for every worker to import and answer
        if proc.poll() is not None:
            raise SystemExit(f"server exited with status {proc.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_server(proc)
    raise SystemExit("server did not start")


def stop_server(proc: subprocess.Popen) -> None:
    """End the server and every worker it started (its process group)."""
    import ceiling

    ceiling.stop(proc)


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
    stats = proc_stats()
    pg = sum(cpu for _, cpu, comm in stats.values() if comm.startswith("postgres"))
    if root is None:
        return {}, pg
    return {pid: stats.get(pid, (0, 0.0, ""))[1] for pid in descendants(root, stats)}, pg


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


# --- memory ---------------------------------------------------------------------------------


class RssSampler:
    """The peak resident memory (MiB) of each of the server's processes while it runs,
    sampled every 100 ms from /proc."""

    def __init__(self, root: int) -> None:
        self.root, self.peak = root, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            for pid, mib in tree_rss_mb(self.root).items():
                self.peak[pid] = max(self.peak.get(pid, 0.0), mib)

    def stop(self) -> dict[int, float]:
        self._stop.set()
        self._thread.join(timeout=10)
        return self.peak


def _serve_processes(rss: dict[int, float], root: int, workers: int) -> dict[int, float]:
    """The processes that serve (with several workers, not the supervisor that only
    forks and watches them)."""
    if workers > 1:
        return {pid: v for pid, v in rss.items() if pid != root}
    return rss


# --- the references -------------------------------------------------------------------------

PGBENCH_SCRIPT = """BEGIN;
UPDATE seats SET reserved = reserved + 1 WHERE id = 1 AND limit_ - sold - reserved >= 1;
INSERT INTO orders (seat_id, quantity) VALUES (1, 1);
COMMIT;
"""


def pgbench_rate(concurrency: int, threads: int, seconds: float) -> dict:
    """PostgreSQL's one-order transaction rate: pgbench at `concurrency` clients running
    the sale's essential transaction (take a seat of the one hot row, write the order,
    commit) on a scratch database; tps and per-transaction p50/p99 from pgbench's log."""
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        return {"error": "pgbench is not installed (apt-get install postgresql-client)"}
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PGBENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PGBENCH_DB}"')
    url = PG_ADMIN.rpartition("/")[0] + f"/{PGBENCH_DB}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE seats (id int PRIMARY KEY, limit_ int NOT NULL, sold int NOT NULL, reserved int NOT NULL)"
            )
            conn.execute("INSERT INTO seats VALUES (1, 2000000000, 0, 0)")  # never sold out: every try is an order
            conn.execute(
                "CREATE TABLE orders (id bigserial PRIMARY KEY, seat_id int NOT NULL, quantity int NOT NULL, "
                "created timestamptz NOT NULL DEFAULT now())"
            )
            conn.execute("ANALYZE")
        with tempfile.TemporaryDirectory() as tmpd:
            script = Path(tmpd) / "one_order.sql"
            script.write_text(PGBENCH_SCRIPT)
            cmd = [pgbench, "-n", "-M", "prepared", "-c", str(concurrency), "-j", str(threads), "-T", str(int(seconds)),
                   "-f", str(script), "-l", "--log-prefix", str(Path(tmpd) / "log"), url]
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, cwd=tmpd)
            if out.returncode != 0:
                return {"error": f"pgbench failed: {out.stderr.strip()[-500:]}"}
            lat = []
            for f in Path(tmpd).glob("log*"):
                for line in f.read_text().splitlines():
                    parts = line.split()
                    if len(parts) >= 3:
                        lat.append(int(parts[2]) / 1e6)
            tps = next(float(ln.split("=")[1].split()[0]) for ln in out.stdout.splitlines() if ln.startswith("tps"))
        with psycopg.connect(url, autocommit=True) as conn:
            orders, reserved = conn.execute("SELECT (SELECT count(*) FROM orders), reserved FROM seats").fetchone()
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PGBENCH_DB}" WITH (FORCE)')
    return {"tps": tps, "p50_ms": pct(lat, 0.50), "p99_ms": pct(lat, 0.99), "transactions": len(lat),
            "exact": orders == reserved}


def ceiling_rate(server: str, workers: int, concurrency: int, procs: int, body: bytes, n: int, max_seconds: float) -> dict:
    """bench/ceiling.py's bare ASGI app under `server`, answering `body` (a real
    reservation answer of this run) to the same POST, from the same client."""
    import ceiling

    proc, base = ceiling.serve(server, workers, post_body=body)
    try:
        port = int(base.rsplit(":", 1)[1])
        req = json.dumps({"ticketReservation": {"tickets": [{"ticketDefinitionId": "x" * 36, "quantity": 1}]}}).encode()
        headers = {"Authorization": "x" * 120, "wix-site-id": SITE}
        reqs = [ceiling.post_request("127.0.0.1", port, RES_PATH, req, headers)]
        ceiling.run_load(base, reqs, min(n, 2000), concurrency, procs, max_seconds)  # warm
        r = ceiling.run_load(base, reqs, n, concurrency, procs, max_seconds)
    finally:
        ceiling.stop(proc)
    return {k: r[k] for k in ("rps", "p50_ms", "p99_ms", "requests", "errors")}


# --- one variant: one server, a sale per concurrency ------------------------------------------


def sale(kind: str, url: str, base: str, proc: subprocess.Popen, app_key: str, keys: list[str], concurrency: int,
         args: argparse.Namespace) -> dict:
    event_id, td_id, _ = setup_via_api(base, app_key, args.seats, 0)
    analyze(url)
    b0 = machine_busy()
    time.sleep(0.5)
    b1 = machine_busy()
    busy_before = 100.0 * (b1[0] - b0[0]) / max(1e-9, b1[1] - b0[1])
    load_before = os.getloadavg()[0]
    rss = RssSampler(proc.pid)
    try:
        r = run_buyers("raw", base, keys, td_id, args.buyers, concurrency, args.procs, args.max_seconds, proc.pid, url)
    finally:
        peak = rss.stop()
    r["rss_mb_peak"] = {str(k): round(v, 1) for k, v in _serve_processes(peak, proc.pid, args.workers).items()}
    r["sales_details"] = sd = sales_details(base, app_key, td_id)
    r["machine_busy_before_pct"] = busy_before
    r["loadavg_before"] = load_before
    sql = sql_check(url, td_id)
    ids, sql_ids = r.pop("ids"), sql.pop("ids")
    seats = args.seats
    r["concurrency"] = concurrency
    r["oversold"] = max(0, r["successes"] - seats)
    r["sales_details_ok"] = sd.get("reservedCount", -1) + sd.get("soldCount", -1) == seats and sd.get("unsoldCount") == 0
    r["sql"] = sql
    r["sql_ids_match_responses"] = sql_ids == ids
    r["sql_ok"] = sql["lines_quantity"] == seats == sql["reserved_count"] + sql["sold_count"] and sql_ids == ids
    r["exact"] = r["successes"] == seats and r["errors"] == 0 and r["not_sent"] == 0
    return r


def run_variant(
    kind: str, name: str, server: str, src: str | None, args: argparse.Namespace, env: dict[str, str] | None = None
) -> dict:
    """A fresh database, one server (`server`, code from `src` or this tree, `env` on
    top of this one's), a warm-up, then one sale per concurrency level."""
    with tempfile.TemporaryDirectory() as tmpd:
        url = fresh_database(kind, Path(tmpd))
        app_key, keys = make_keys(url, args.visitors)
        proc, base = start_server(url, args.workers, server, src, env)
        try:
            if args.warmup:
                _, warm_td, _ = setup_via_api(base, app_key, args.warmup // 2, 0)
                w = warm_up(base, keys, warm_td, args.warmup)
                print(f"  [{name}] warm-up: {w[0]} reserved, {w[1]} sold out, {w[2]} other")
            time.sleep(1.0)
            rest = _serve_processes(tree_rss_mb(proc.pid), proc.pid, args.workers)
            answer = one_answer(base, app_key, keys[0], args.seats)
            sales = []
            for c in args.concurrency:
                r = sale(kind, url, base, proc, app_key, keys, c, args)
                report_sale(name, r)
                sales.append(r)
        finally:
            stop_server(proc)
    return {"name": name, "server": server, "src": src, "rss_mb_at_rest": {str(k): round(v, 1) for k, v in rest.items()},
            "answer_bytes": len(answer), "answer": answer.decode(), "sales": sales}


def one_answer(base: str, app_key: str, key: str, seats: int) -> bytes:
    """One real Create Ticket Reservation answer (its bytes size the ceiling's body)."""
    import httpx

    _, td, _ = setup_via_api(base, app_key, 1, 0)
    body = {"ticketReservation": {"tickets": [{"ticketDefinitionId": td, "quantity": 1}]}}
    r = httpx.post(base + RES_PATH, json=body, headers={"Authorization": key, "wix-site-id": SITE}, timeout=30)
    _check(r, "one reservation")
    return r.content


# --- reporting ------------------------------------------------------------------------------


def report_sale(name: str, r: dict) -> None:
    sd, sql = r["sales_details"], r["sql"]
    ok = r["sales_details_ok"] and r["sql_ok"] and r["exact"] and not r["oversold"]
    print(
        f"  [{name}] C={r['concurrency']}: {r['successes']:,} reserved in {r['to_last_success_s']:.2f}s "
        f"({r['success_rps']:,.0f}/s, p50 {r['ok_p50_ms']:.1f} p99 {r['ok_p99_ms']:.1f} ms); {r['sold_out']:,} sold out "
        f"(p50 {r['soldout_p50_ms']:.1f} p99 {r['soldout_p99_ms']:.1f} ms); all {r['attempts']:,} in {r['total_s']:.2f}s "
        f"({r['attempt_rps']:,.0f}/s); {r['errors']} errors, {r['not_sent']} not sent, {r['oversold']} oversold; "
        f"checks {'OK' if ok else 'WRONG'}"
    )
    print(
        f"        CPU cores: client {r['cpu_cores_client']:.2f}, server {r['cpu_cores_server']:.2f} "
        f"({' + '.join(f'{c:.2f}' for c in r['cpu_cores_server_processes'])}), postgres {r['cpu_cores_postgres']:.2f}, "
        f"other {r['cpu_cores_other']:.2f}; busy before {r['machine_busy_before_pct']:.0f}%, load {r['loadavg_before']:.1f}; "
        f"server RSS peak MiB {sorted(r['rss_mb_peak'].values())}"
    )
    if r.get("pg_backends_selling"):
        print(f"        PostgreSQL backends while selling: {r['pg_backends_selling']}")
    if not ok:
        print(f"        salesDetails {sd}; SQL {sql}; ids match {r['sql_ids_match_responses']}")
    for p in r["problems"][:5]:
        print(f"        unexpected: {json.dumps(p)[:400]}")


def plot(path: Path, results: dict, title: str) -> None:
    """Throughput and p50/p99 against concurrency, per database and variant, with the references."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    for kind, res in results.items():
        for v in res["variants"]:
            cs = [s["concurrency"] for s in v["sales"]]
            label = f"{kind} {v['name']}"
            ax1.plot(cs, [s["success_rps"] for s in v["sales"]], marker="o", label=f"{label}: reserved/s")
            ax2.plot(cs, [s["ok_p50_ms"] for s in v["sales"]], marker="o", label=f"{label}: p50")
            ax2.plot(cs, [s["ok_p99_ms"] for s in v["sales"]], marker="^", linestyle="--", label=f"{label}: p99")
        refs = res.get("references", {})
        if refs.get("pgbench"):
            cs = sorted(int(c) for c in refs["pgbench"])
            ax1.plot(cs, [refs["pgbench"][str(c)].get("tps", float("nan")) for c in cs], color="black", marker="s",
                     linestyle=":", label="pgbench one-order tps")
            ax2.plot(cs, [refs["pgbench"][str(c)].get("p99_ms", float("nan")) for c in cs], color="black", marker="s",
                     linestyle=":", label="pgbench p99")
        for server, by_c in refs.get("ceiling", {}).items():
            cs = sorted(int(c) for c in by_c)
            ax1.plot(cs, [by_c[str(c)]["rps"] for c in cs], color="grey", marker="x", linestyle="-.",
                     label=f"bare ASGI ({server}) req/s ({kind} run)")
    ax1.set_xlabel("concurrency (requests in flight)")
    ax1.set_ylabel("per second")
    ax1.set_yscale("log")
    ax1.set_title("throughput")
    ax1.legend(fontsize=7)
    ax2.set_xlabel("concurrency (requests in flight)")
    ax2.set_ylabel("ms")
    ax2.set_title("reservation latency")
    ax2.axhline(TARGET_P99_MS, color="red", linewidth=0.8, linestyle=":")
    ax2.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def targets(kind: str, res: dict, args: argparse.Namespace) -> list[str]:
    """The issue's targets at C=64 (or the largest level run), each a ratio with its two sides."""
    shipped = res["variants"][0]
    c = 64 if 64 in args.concurrency else max(args.concurrency)
    s = next(x for x in shipped["sales"] if x["concurrency"] == c)
    refs = res.get("references", {})
    lines = [f"[{kind}] targets at C={c} ({shipped['name']}):"]
    pg = refs.get("pgbench", {}).get(str(c), {})
    if pg.get("tps"):
        ratio = s["success_rps"] / pg["tps"]
        lines.append(f"  reserved/s {s['success_rps']:,.0f} / pgbench one-order tps {pg['tps']:,.0f} = {ratio:.2f}x "
                     f"(target >= {TARGET_VS_PGBENCH:.1f}x: {'met' if ratio >= TARGET_VS_PGBENCH else 'NOT met'})")
        res.setdefault("ratios", {})["vs_pgbench"] = ratio
    ce = refs.get("ceiling", {}).get("uvicorn", {}).get(str(c))
    if ce:
        ratio = s["success_rps"] / ce["rps"]
        lines.append(f"  reserved/s {s['success_rps']:,.0f} / bare ASGI ceiling (uvicorn) {ce['rps']:,.0f} req/s = {ratio:.2f}x "
                     f"(target >= {TARGET_VS_CEILING:.1f}x: {'met' if ratio >= TARGET_VS_CEILING else 'NOT met'})")
        lines.append(f"  all answers/s {s['attempt_rps']:,.0f} / ceiling {ce['rps']:,.0f} = {s['attempt_rps'] / ce['rps']:.2f}x")
        res.setdefault("ratios", {})["vs_ceiling"] = ratio
    lines.append(f"  reserved p99 {s['ok_p99_ms']:.1f} ms (target < {TARGET_P99_MS:.0f}: "
                 f"{'met' if s['ok_p99_ms'] < TARGET_P99_MS else 'NOT met'}); sold-out p99 {s['soldout_p99_ms']:.1f} ms")
    lines.append(f"  oversold {s['oversold']}, exactly-once accounting (salesDetails, SQL, ids): "
                 f"{'yes' if s['sales_details_ok'] and s['sql_ok'] and s['exact'] else 'NO'}")
    for v in res["variants"]:
        rest = sorted(v["rss_mb_at_rest"].values())
        peak = sorted(max(float(x) for x in s2["rss_mb_peak"].values()) for s2 in v["sales"]) if v["sales"] else []
        lines.append(f"  memory [{v['name']}]: RSS per serve process at rest {', '.join(f'{x:.0f}' for x in rest)} MiB; "
                     f"peak under the sale {max(peak):.0f} MiB" if peak else "")
    for v in res["variants"][1:]:
        o = next((x for x in v["sales"] if x["concurrency"] == c), None)
        if o:
            lines.append(f"  lever: {shipped['name']} {s['success_rps']:,.0f}/s p99 {s['ok_p99_ms']:.1f} ms vs {v['name']} "
                         f"{o['success_rps']:,.0f}/s p99 {o['ok_p99_ms']:.1f} ms = {s['success_rps'] / max(o['success_rps'], 1e-9):.2f}x")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="postgresql")
    ap.add_argument("--buyers", type=int, default=10_000)
    ap.add_argument("--seats", type=int, default=1_000)
    ap.add_argument("--concurrency", default="16,32,64", help="comma-separated levels of requests in flight")
    ap.add_argument("--procs", type=int, default=2, help="client processes the concurrency is split over")
    ap.add_argument("--visitors", type=int, default=50, help="visitor keys the buyers are spread over")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--servers", default="uvicorn", help="comma-separated: uvicorn, granian (the first is the one reported)")
    ap.add_argument("--before-src", help="also sell with the server run from this source tree (a before/after)")
    ap.add_argument("--lingers", default="", help="comma-separated BOXOFFICE_GROUP_COMMIT_LINGER_MS values to sell with too")
    ap.add_argument("--warmup", type=int, default=400, help="warm-up reservations before the first sale (0: none)")
    ap.add_argument("--pgbench-seconds", type=float, default=8.0)
    ap.add_argument("--ceiling-requests", type=int, default=20_000)
    ap.add_argument("--max-seconds", type=float, default=180, help="bound on each timed phase")
    ap.add_argument("--out", default=str(ROOT / "docs" / "bench" / "flash_sale"), help="writes OUT.json and OUT.png")
    args = ap.parse_args()
    args.concurrency = sorted({int(c) for c in args.concurrency.split(",")})
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    args.lingers = [float(x) for x in args.lingers.split(",") if x.strip()]
    if args.seats > 1_000_000 or min(args.concurrency) < args.procs:
        raise SystemExit("need seats <= 1,000,000 (initialLimit) and concurrency >= procs")
    kinds = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    load0 = os.getloadavg()
    results: dict[str, dict] = {}
    for kind in kinds:
        print(f"[{kind}] selling ...")
        variants = [run_variant(kind, f"{s}", s, None, args) for s in servers]
        if args.before_src:
            variants.append(run_variant(kind, f"before ({servers[0]})", servers[0], args.before_src, args))
        for ms in args.lingers:
            variants.append(run_variant(kind, f"{servers[0]}, linger {ms:g} ms", servers[0], None, args,
                                        {"BOXOFFICE_GROUP_COMMIT_LINGER_MS": str(ms)}))
        refs: dict[str, Any] = {"ceiling": {}}
        if kind == "postgresql":
            refs["pgbench"] = {}
            for c in args.concurrency:
                refs["pgbench"][str(c)] = pg = pgbench_rate(c, args.procs, args.pgbench_seconds)
                print(f"  pgbench one-order C={c}: " + (f"{pg['tps']:,.0f} tps, p50 {pg['p50_ms']:.1f} p99 {pg['p99_ms']:.1f} ms"
                                                        if "tps" in pg else pg["error"]))
        body = variants[0]["answer"].encode()
        for server in dict.fromkeys(["uvicorn", *servers]):
            refs["ceiling"][server] = {}
            for c in args.concurrency:
                refs["ceiling"][server][str(c)] = ce = ceiling_rate(
                    server, args.workers, c, args.procs, body, args.ceiling_requests, args.max_seconds)
                print(f"  bare ASGI ({server}, {len(body)}-byte answer) C={c}: {ce['rps']:,.0f} req/s, "
                      f"p50 {ce['p50_ms']:.1f} p99 {ce['p99_ms']:.1f} ms")
        results[kind] = {"variants": variants, "references": refs}
    print()
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{os.cpu_count()} cores, {os.uname().machine}"
    print(f"flash sale: {args.buyers:,} buyers, {args.seats:,} seats, client {args.procs} procs, server workers={args.workers}, "
          f"{machine}, {when}; load average {load0[0]:.1f} before, {os.getloadavg()[0]:.1f} after (other work skews rates: read the ratios)")
    for kind, res in results.items():
        for line in targets(kind, res, args):
            if line:
                print(line)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = {"when": when, "machine": machine, "loadavg_before": load0, "args": {k: v for k, v in vars(args).items()},
               "results": {k: {**r, "variants": [{**v, "sales": [{**s, "problems": s["problems"][:20]} for s in v["sales"]]}
                                                  for v in r["variants"]]} for k, r in results.items()}}
    out.with_suffix(".json").write_text(json.dumps(summary, indent=1, default=str))
    plot(out.with_suffix(".png"), results, f"flash sale, {args.buyers:,} buyers for {args.seats:,} seats, "
         f"{args.workers} server workers; {machine}; {when}")
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.png')}")
    bad = [s for r in results.values() for v in r["variants"] for s in v["sales"]
           if s["oversold"] or not s["sales_details_ok"] or not s["sql_ok"] or not s["exact"]]
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
