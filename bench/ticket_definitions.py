"""Ticket Definitions throughput and latency over HTTP, on SQLite and PostgreSQL.

Loads 100,000 definitions over 1,000 events (plus empty events for Create), runs
`ANALYZE` (this machine's PostgreSQL has autovacuum off), starts `boxoffice serve`
and drives it with wrk (`apt-get install wrk`) for:

* Get Ticket Definition       GET  /events-ticket-definitions/v3/ticket-definitions/{id}
* Query by event              POST .../query  {"query":{"filter":{"eventId":E}}}  (100 rows per page)
* Create Ticket Definition    POST .../ticket-definitions

Usage:  .venv/bin/python bench/ticket_definitions.py [--db sqlite|postgresql|both]
        [--events 1000] [--per-event 100] [--seconds 15] [--connections 32] [--workers 2]
Each operation runs twice: saturated with wrk at --connections (throughput: requests/s
and errors) and at light load with 1 and 4 plain keep-alive clients (--light-connections),
which time every request (latency: p50, p99). Prints one table row per run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from boxoffice import models_registry  # noqa: E402,F401
from boxoffice.auth import create_api_key
from boxoffice.db import Database  # noqa: E402
from boxoffice.events.models import Event  # noqa: E402
from boxoffice.identity import IdentityType  # noqa: E402
from boxoffice.migrations import upgrade  # noqa: E402
from boxoffice.ticket_definitions.models import TicketDefinition  # noqa: E402

PG_ADMIN = os.environ.get("BOXOFFICE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
TD_PATH = "/events-ticket-definitions/v3/ticket-definitions"
SITE = "bench-site"


def fresh_database(kind: str, tmp: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute('DROP DATABASE IF EXISTS "boxoffice_bench" WITH (FORCE)')
        conn.execute('CREATE DATABASE "boxoffice_bench"')
    return PG_ADMIN.rpartition("/")[0] + "/boxoffice_bench"


def load(url: str, events: int, per_event: int, empty_events: int) -> tuple[str, list[str], list[str], list[str]]:
    """Bulk-insert the data set; returns (key, definition ids, loaded event ids, empty event ids)."""
    upgrade(url)
    db = Database(url)
    now = dt.datetime.now(dt.UTC)
    with db.session(write=True) as s:
        key = create_api_key(s, SITE, IdentityType.APP)
    ev_ids = [str(uuid.uuid4()) for _ in range(events + empty_events)]
    td_ids: list[str] = []
    t0 = time.perf_counter()
    with db.session(write=True) as s:
        s.execute(
            insert(Event),
            [
                dict(
                    id=e, site_id=SITE, title=f"Event {i}", short_description=None, slug=f"event-{i}",
                    state="PUBLISHED", date_tbd=False, start_date=now + dt.timedelta(days=30),
                    end_date=now + dt.timedelta(days=30, hours=2), date_settings={"timeZoneId": "UTC"},
                    location={"type": "VENUE"}, initial_type="TICKETING", registration_type="TICKETING",
                    registration={"tickets": {}}, currency="USD", created_date=now, updated_date=now,
                    published_date=now, revision=1, event_seq=0,
                )
                for i, e in enumerate(ev_ids)
            ],
        )
    batch: list[dict] = []
    for ei, e in enumerate(ev_ids[:events]):
        for j in range(per_event):
            tid = str(uuid.uuid4())
            td_ids.append(tid)
            t = now + dt.timedelta(milliseconds=ei * per_event + j)
            batch.append(
                dict(
                    id=tid, site_id=SITE, event_id=e, revision=1, created_date=t, updated_date=t,
                    name=f"Ticket {j}", description="General admission", policy_text=None, hidden=j % 10 == 0,
                    limited=True, initial_limit=100 + j, actual_limit=100 + j, fixed_price_cents=1000 + j * 50,
                    guest_price_cents=None, price_options=None, currency="USD", pricing_type="STANDARD",
                    free=False, fee_type="FEE_INCLUDED", sale_start=None, sale_end=None,
                    display_not_on_sale=False, sort_index=j, extended_fields=None, sold_count=0,
                    reserved_count=0, event_seq=0,
                )
            )
            if len(batch) >= 5000:
                with db.session(write=True) as s:
                    s.execute(insert(TicketDefinition), batch)
                batch = []
    if batch:
        with db.session(write=True) as s:
            s.execute(insert(TicketDefinition), batch)
    with db.engine.connect() as conn:  # what autovacuum would have done in production
        conn.execute(text("ANALYZE"))
        conn.commit()
    print(f"  loaded {len(td_ids):,} definitions over {events:,} events in {time.perf_counter() - t0:.1f}s (+ANALYZE)")
    db.dispose()
    return key, td_ids, ev_ids[:events], ev_ids[events:]


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
        [str(bin_), "serve", "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


LUA = r"""
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
local key, site, mode = "%(key)s", "%(site)s", "%(mode)s"
local non200 = 0
request = function()
  local id = ids[math.random(#ids)]
  local h = { ["Authorization"] = key, ["wix-site-id"] = site, ["Content-Type"] = "application/json" }
  if mode == "get" then
    return wrk.format("GET", "%(path)s/" .. id, h)
  elseif mode == "query" then
    return wrk.format("POST", "%(path)s/query", h, '{"query":{"filter":{"eventId":"' .. id .. '"}}}')
  else
    return wrk.format("POST", "%(path)s", h, '{"ticketDefinition":{"eventId":"' .. id ..
      '","name":"Bench","initialLimit":10,"pricingMethod":{"fixedPrice":{"value":"25","currency":"USD"}},"feeType":"FEE_INCLUDED"}}')
  end
end
response = function(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%f %%f %%d\n", summary.requests, latency:percentile(50), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def wrk(base: str, mode: str, ids_file: Path, key: str, seconds: int, connections: int) -> dict:
    script = ids_file.with_suffix(f".{mode}.lua")
    script.write_text(LUA % {"ids": ids_file, "key": key, "site": SITE, "mode": mode, "path": TD_PATH})
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", str(script), base],
        capture_output=True, text=True, check=True,
    ).stdout
    print(out) if os.environ.get("BENCH_VERBOSE") else None
    m = re.search(r"RESULT (\d+) ([\d.]+) ([\d.]+) (\d+)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert m and rps, out
    return {
        "rps": float(rps.group(1)),
        "p50_ms": float(m.group(2)) / 1000,
        "p99_ms": float(m.group(3)) / 1000,
        "errors": int(m.group(4)),
        "requests": int(m.group(1)),
    }


def latency(base: str, mode: str, ids_file: Path, key: str, seconds: int, connections: int) -> dict:
    """Per-request latency at light load, timed by a plain keep-alive client per connection.

    (wrk's own percentiles came out larger than its run could hold, so latency is
    measured here; wrk measures throughput.)
    """
    import threading

    import httpx

    ids = ids_file.read_text().split()
    headers = {"Authorization": key, "wix-site-id": SITE}
    samples: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    lock = threading.Lock()

    def run() -> None:
        nonlocal errors
        mine, bad = [], 0
        rnd = random.Random()
        with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
            while time.perf_counter() < stop:
                i = rnd.choice(ids)
                t = time.perf_counter()
                if mode == "get":
                    r = c.get(f"{TD_PATH}/{i}")
                elif mode == "query":
                    r = c.post(f"{TD_PATH}/query", json={"query": {"filter": {"eventId": i}}})
                else:
                    r = c.post(TD_PATH, json={"ticketDefinition": {"eventId": i, "name": "Bench", "initialLimit": 10,
                               "pricingMethod": {"fixedPrice": {"value": "25", "currency": "USD"}}, "feeType": "FEE_INCLUDED"}})
                mine.append(time.perf_counter() - t)
                bad += r.status_code != 200
        with lock:
            samples.extend(mine)
            errors += bad

    threads = [threading.Thread(target=run) for _ in range(connections)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    samples.sort()
    n = len(samples)
    return {
        "rps": n / (time.perf_counter() - t0),
        "p50_ms": samples[n // 2] * 1000,
        "p99_ms": samples[min(n - 1, int(n * 0.99))] * 1000,
        "errors": errors,
        "requests": n,
    }


def lat(label: str, r: dict) -> str:
    """Latency columns; wrk's are not shown (its percentiles exceeded what its own run
    could hold: more slow requests than connection-seconds), the client's are."""
    if label.endswith("wrk"):
        return "(throughput run)          "
    return f"p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--per-event", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--connections", type=int, default=32, help="connections for the throughput run")
    ap.add_argument("--light-connections", default="1,4", help="comma-separated client counts for the latency runs")
    ap.add_argument("--only", choices=["get", "query", "create"], action="append")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench needs wrk: apt-get install wrk")
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = []
    for kind in kinds:
        with tempfile.TemporaryDirectory() as tmpd:
            tmp = Path(tmpd)
            print(f"[{kind}] loading ...")
            url = fresh_database(kind, tmp)
            key, td_ids, loaded, empty = load(url, args.events, args.per_event, empty_events=max(200, args.events // 2))
            (tmp / "tds.txt").write_text("\n".join(random.sample(td_ids, min(20000, len(td_ids)))) + "\n")
            (tmp / "events.txt").write_text("\n".join(loaded) + "\n")
            (tmp / "empty.txt").write_text("\n".join(empty) + "\n")
            proc, base = start_server(url, args.workers)
            try:
                for mode, ids in (("get", "tds.txt"), ("query", "events.txt"), ("create", "empty.txt")):
                    if args.only and mode not in args.only:
                        continue
                    wrk(base, mode, tmp / ids, key, 2, args.connections)  # warm-up
                    # saturated (throughput, wrk) and light (latency a user sees when not overloaded)
                    runs = [(f"{mode}@{args.connections} wrk", wrk, args.connections)] + [
                        (f"{mode}@{n} client", latency, n) for n in map(int, args.light_connections.split(","))
                    ]
                    for label, fn, conns in runs:
                        r = fn(base, mode, tmp / ids, key, args.seconds, conns)
                        results.append((kind, label, r))
                        print(f"  {label:18s} {r['rps']:8.0f} req/s  {lat(label, r)}  errors {r['errors']}")
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    print()
    print(f"workers={args.workers} seconds={args.seconds} cores={os.cpu_count()}; operation@connections")
    print(f"{'database':11s} {'operation':20s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>7s}")
    for kind, mode, r in results:
        p50, p99 = ("-", "-") if mode.endswith("wrk") else (f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}")
        print(f"{kind:11s} {mode:20s} {r['rps']:9.0f} {p50:>8s} {p99:>8s} {r['errors']:7d}")
    print(json.dumps({f"{k}/{m}": r for k, m, r in results}))


if __name__ == "__main__":
    main()
