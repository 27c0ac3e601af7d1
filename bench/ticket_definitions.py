"""Ticket Definitions reads (and Create) over HTTP, against the bare-ASGI ceiling.

Loads D definitions over E events (COPY on PostgreSQL, batched INSERTs on SQLite; the
load time is printed), runs ``ANALYZE`` (this machine's PostgreSQL has autovacuum
off), starts ``boxoffice serve --workers W`` and drives it with bench/ceiling.py's
client (pre-built keep-alive HTTP/1.1 requests from 2 client processes, ~0.1 ms of
client CPU a request) for:

* Get Ticket Definition   GET  /events-ticket-definitions/v3/ticket-definitions/{id}?fields=SALES_DETAILS
* Query by event          POST .../query  {"query":{"filter":{"eventId":E}}}  (100 rows per page)
* Create                  POST .../ticket-definitions (only with --create)

In the same run, bench/ceiling.py's bare ASGI app serves a body of exactly the size
Get answers (a real answer captured first) under the same server, workers and load:
Get's throughput is reported as a share of that ceiling (issue 15 target 3: >= 40 % at
C=64, 2 workers, PostgreSQL). Each operation is swept over --concurrency (throughput,
p50, p99 at each point); the JSON and a PNG (throughput and p50/p99 against
concurrency) go to docs/bench/ticket_definitions[-<label>].{json,png}.

    .venv/bin/python bench/ticket_definitions.py                       # 100,000 definitions over 1,000 events
    .venv/bin/python bench/ticket_definitions.py --events 100000 --per-event 10 --label 1m   # 1,000,000 over 100,000
    options: [--db postgresql|sqlite|both] [--workers 2] [--concurrency 1,4,16,64] [--requests 20000] [--create]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import ceiling  # noqa: E402  (bench/ceiling.py: the bare app and the load client)

from boxoffice import models_registry  # noqa: E402,F401
from boxoffice.auth import create_api_key  # noqa: E402
from boxoffice.db import Database  # noqa: E402
from boxoffice.events.models import Event  # noqa: E402
from boxoffice.identity import IdentityType  # noqa: E402
from boxoffice.migrations import upgrade  # noqa: E402
from boxoffice.ticket_definitions.models import TicketDefinition  # noqa: E402

PG_ADMIN = os.environ.get("BOXOFFICE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_DB = f"bo_h_reads_bench_{os.getpid()}"  # one per run: two runs never drop each other's
TD_PATH = "/events-ticket-definitions/v3/ticket-definitions"
GET_QUERY = "?fields=SALES_DETAILS"
SITE = "bench-site"
OUT = ROOT / "docs" / "bench"


# --- the data set -------------------------------------------------------------------------


def fresh_database(kind: str, tmp: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DB}"')
    return PG_ADMIN.rpartition("/")[0] + "/" + PG_DB


def drop_database(kind: str) -> None:
    if kind == "postgresql":
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')


def _event_rows(ids: list[str], now: dt.datetime, first: int = 0) -> list[dict[str, Any]]:
    return [
        dict(
            id=e, site_id=SITE, title=f"Event {i}", short_description=None, slug=f"event-{i}",
            state="PUBLISHED", date_tbd=False, start_date=now + dt.timedelta(days=30),
            end_date=now + dt.timedelta(days=30, hours=2), date_settings={"timeZoneId": "UTC"},
            location={"type": "VENUE"}, initial_type="TICKETING", registration_type="TICKETING",
            registration={"tickets": {}}, currency="USD", created_date=now, updated_date=now,
            published_date=now, revision=1, event_seq=0,
        )
        for i, e in enumerate(ids, first)
    ]


def _td_row(tid: str, e: str, ei: int, j: int, per_event: int, now: dt.datetime) -> dict[str, Any]:
    t = now + dt.timedelta(milliseconds=ei * per_event + j)
    return dict(
        id=tid, site_id=SITE, event_id=e, revision=1, created_date=t, updated_date=t,
        name=f"Ticket {j}", description="General admission", policy_text=None, hidden=j % 10 == 0,
        limited=True, initial_limit=100 + j, actual_limit=100 + j, fixed_price_cents=1000 + j * 50,
        guest_price_cents=None, price_options=None, currency="USD", pricing_type="STANDARD",
        free=False, fee_type="FEE_INCLUDED", sale_start=None, sale_end=None,
        display_not_on_sale=False, sort_index=j, extended_fields=None, sold_count=0,
        reserved_count=0, event_seq=0,
    )


def _copy(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """COPY ``rows`` into ``table`` (psycopg's C copy), each value through its column's
    SQLAlchemy bind processor first (UTC timestamps, JSON), as an INSERT would store it."""
    dialect = conn.dialect
    cols = [c for c in table.columns if c.name in rows[0]]
    procs = [c.type.bind_processor(dialect) for c in cols]
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(c.name for c in cols)}) FROM STDIN") as cp:
        for r in rows:
            cp.write_row([p(r[c.name]) if p else r[c.name] for c, p in zip(cols, procs, strict=True)])


def load(url: str, events: int, per_event: int, empty_events: int) -> tuple[str, list[str], list[str], list[str], float]:
    """The data set; returns (key, definition ids, loaded event ids, empty event ids, seconds)."""
    upgrade(url)
    db = Database(url)
    now = dt.datetime.now(dt.UTC)
    with db.session(write=True) as s:
        key = create_api_key(s, SITE, IdentityType.APP)
    ev_ids = [str(uuid.uuid4()) for _ in range(events + empty_events)]
    td_ids: list[str] = []
    t0 = time.perf_counter()
    pg = not db.is_sqlite
    chunk = 50_000 if pg else 5_000
    for i in range(0, len(ev_ids), chunk):
        rows = _event_rows(ev_ids[i : i + chunk], now, i)
        with db.engine.begin() as conn:
            _copy(conn, Event.__table__, rows) if pg else conn.execute(insert(Event), rows)
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        with db.engine.begin() as conn:
            _copy(conn, TicketDefinition.__table__, batch) if pg else conn.execute(insert(TicketDefinition), batch)
        batch.clear()

    for ei, e in enumerate(ev_ids[:events]):
        for j in range(per_event):
            tid = str(uuid.uuid4())
            td_ids.append(tid)
            batch.append(_td_row(tid, e, ei, j, per_event, now))
            if len(batch) >= chunk:
                flush()
    if batch:
        flush()
    with db.engine.connect() as conn:  # what autovacuum would have done in production
        conn.execute(text("ANALYZE"))
        conn.commit()
    took = time.perf_counter() - t0
    print(f"  loaded {len(td_ids):,} definitions over {events:,} events (+{empty_events:,} empty) in {took:.1f} s "
          f"({'COPY' if pg else 'INSERT'}, + ANALYZE)")
    db.dispose()
    return key, td_ids, ev_ids[:events], ev_ids[events:], took


# --- the server -----------------------------------------------------------------------------


def start_server(url: str, workers: int, env_extra: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    port = ceiling.free_port()
    env = {**os.environ, "BOXOFFICE_DATABASE_URL": url, **(env_extra or {})}
    bin_ = Path(sys.executable).parent / "boxoffice"
    proc = subprocess.Popen(
        [str(bin_), "serve", "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"],
        env=env,
        start_new_session=True,  # its own process group: stop_server ends the workers too
    )
    base = f"http://127.0.0.1:{port}"
    ceiling.wait_ready(proc, base, seconds=180)  # a loaded 2-core machine takes ~20 s to import the app
    return proc, base


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, SIGKILL to it after 60 s (a loaded machine
    has taken longer than 40 s to shut uvicorn's workers down)."""
    import signal

    for sig, wait in ((signal.SIGTERM, 60), (signal.SIGKILL, 30)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def requests_for(mode: str, port: int, key: str, ids: list[str], n: int = 4000) -> list[bytes]:
    """``n`` pre-built requests over random ``ids`` (definitions for get, events otherwise)."""
    h = {"Authorization": key, "wix-site-id": SITE}
    rnd = random.Random(7)
    pick = [rnd.choice(ids) for _ in range(n)]
    if mode == "get":
        return [ceiling.get_request("127.0.0.1", port, f"{TD_PATH}/{i}{GET_QUERY}", h) for i in pick]
    if mode == "query":
        return [ceiling.post_request("127.0.0.1", port, f"{TD_PATH}/query",
                                     json.dumps({"query": {"filter": {"eventId": i}}}).encode(), h) for i in pick]
    body = {"name": "Bench", "initialLimit": 10, "pricingMethod": {"fixedPrice": {"value": "25", "currency": "USD"}},
            "feeType": "FEE_INCLUDED"}
    return [ceiling.post_request("127.0.0.1", port, TD_PATH,
                                 json.dumps({"ticketDefinition": {**body, "eventId": i}}).encode(), h) for i in pick]


def sweep(
    base: str, reqs: list[bytes], concurrencies: list[int], requests: int, seconds: float, server: int | None = None
) -> list[dict[str, Any]]:
    """One load point per concurrency; with ``server`` (the serve process's pid), also
    the busiest worker's share of the servers' CPU at each point (0.5: even)."""
    out = []
    for c in concurrencies:
        n = requests if c >= 16 else max(500, requests // (8 if c < 4 else 3))
        before = ceiling.tree_cpu_s(server) if server else {}
        r = ceiling.run_load(base, reqs, n, c, procs=min(2, c), max_seconds=seconds)
        r["concurrency"] = c
        if server:
            r["busiest_worker_share"] = ceiling.busiest_share(before, ceiling.tree_cpu_s(server))
        out.append(r)
        print(f"    C={c:<3d} {r['rps']:8.0f} req/s  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
              f"statuses {r['statuses']} errors {r['errors']}"
              + (f"  busiest worker {r['busiest_worker_share']:.0%} of the servers' CPU"
                 if r.get("busiest_worker_share") is not None else ""))
    return out


# --- the plot -------------------------------------------------------------------------------------


def plot(result: dict[str, Any], path: Path) -> None:
    """Throughput and p50/p99 against concurrency, one line per database and operation,
    the ceiling as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for kind, run in result["runs"].items():
        for op, points in run["sweeps"].items():
            cs = [p["concurrency"] for p in points]
            label = f"{op} ({kind})"
            ax1.plot(cs, [p["rps"] for p in points], marker="o", label=label)
            line = ax2.plot(cs, [p["p99_ms"] for p in points], marker="o", label=f"{label} p99")[0]
            ax2.plot(cs, [p["p50_ms"] for p in points], marker=".", linestyle=":", color=line.get_color(),
                     label=f"{label} p50")
        if run.get("ceiling"):
            ax1.axhline(run["ceiling"]["rps"], linestyle="--", color="grey",
                        label=f"bare ASGI ceiling at C={run['ceiling']['concurrency']} ({kind})")
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrent connections")
        ax.grid(True, alpha=0.3)
    ax1.set_ylabel("requests/s")
    ax2.set_ylabel("latency, ms")
    ax2.set_yscale("log")
    ax1.legend(fontsize=7)
    ax2.legend(fontsize=7)
    m = result["machine"]
    fig.suptitle(f"Ticket Definitions, {result['definitions']:,} definitions over {result['events']:,} events; "
                 f"serve --workers {result['workers']}; {m['cores']} cores, load avg {m['loadavg_start']:.1f}; "
                 f"{result['date']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- main -------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="postgresql")
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--per-event", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", default="1,4,16,64", help="the sweep, comma-separated")
    ap.add_argument("--ceiling-concurrency", type=int, default=64)
    ap.add_argument("--requests", type=int, default=20000, help="requests per point at C >= 16")
    ap.add_argument("--seconds", type=float, default=60, help="at most this long per point")
    ap.add_argument("--only", choices=["get", "query", "create"], action="append")
    ap.add_argument("--create", action="store_true", help="also sweep Create Ticket Definition")
    ap.add_argument("--label", default="", help="output names docs/bench/ticket_definitions-<label>.*")
    ap.add_argument("--no-write", action="store_true", help="print only; write no JSON/PNG")
    args = ap.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    modes = args.only or ["get", "query"] + (["create"] if args.create else [])
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cores": os.cpu_count(), "loadavg_start": os.getloadavg()[0]},
        "definitions": args.events * args.per_event, "events": args.events, "workers": args.workers,
        "runs": {},
    }
    for kind in kinds:
        with tempfile.TemporaryDirectory() as tmpd:
            tmp = Path(tmpd)
            print(f"[{kind}] loading ...")
            url = fresh_database(kind, tmp)
            try:
                key, td_ids, loaded, empty, took = load(url, args.events, args.per_event,
                                                        empty_events=max(200, args.events // 10))
                run: dict[str, Any] = {"load_seconds": round(took, 1), "sweeps": {}}
                proc, base = start_server(url, args.workers)
                port = int(base.rsplit(":", 1)[1])
                try:
                    headers = {"Authorization": key, "wix-site-id": SITE}
                    got = httpx.get(f"{base}{TD_PATH}/{td_ids[0]}{GET_QUERY}", headers=headers)
                    assert got.status_code == 200, got.text
                    get_body = got.content
                    ids = {"get": td_ids, "query": loaded, "create": empty}
                    for mode in modes:
                        reqs = requests_for(mode, port, key, ids[mode])
                        ceiling.run_load(base, reqs, 1000, 16, procs=2, max_seconds=30)  # warm-up
                        print(f"  {mode}")
                        run["sweeps"][mode] = sweep(base, reqs, concurrencies, args.requests, args.seconds, proc.pid)
                finally:
                    stop_server(proc)
                if "get" in modes:
                    # the bare app answering Get's exact bytes, same server, workers and load
                    c = ceiling.ceiling("uvicorn", "GET", args.workers, args.requests, args.ceiling_concurrency,
                                        body=get_body, path=f"{TD_PATH}/{td_ids[0]}{GET_QUERY}", headers=headers)
                    at = next((p for p in run["sweeps"]["get"] if p["concurrency"] == args.ceiling_concurrency), None)
                    run["ceiling"] = {k: c[k] for k in ("rps", "p50_ms", "p99_ms", "statuses", "concurrency")}
                    run["ceiling"]["body_bytes"] = len(get_body)
                    if at:
                        run["get_share_of_ceiling"] = round(at["rps"] / c["rps"], 3)
                    print(f"  bare ASGI ceiling (GET, {len(get_body)} bytes) C={args.ceiling_concurrency}: "
                          f"{c['rps']:.0f} req/s p99 {c['p99_ms']:.1f} ms"
                          + (f"; Get reaches {at['rps'] / c['rps']:.0%} of it" if at else ""))
            finally:
                drop_database(kind)
            result["runs"][kind] = run
    result["machine"]["loadavg_end"] = os.getloadavg()[0]
    print(f"load average {result['machine']['loadavg_start']:.1f} at start, {result['machine']['loadavg_end']:.1f} at end")
    if not args.no_write:
        OUT.mkdir(parents=True, exist_ok=True)
        name = "ticket_definitions" + (f"-{args.label}" if args.label else "")
        (OUT / f"{name}.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
        plot(result, OUT / f"{name}.png")
        print(f"wrote {OUT / name}.json and .png")
    buf = io.StringIO()
    json.dump({k: v for k, v in result.items() if k != "runs"}, buf)
    print(buf.getvalue())


if __name__ == "__main__":
    main()
