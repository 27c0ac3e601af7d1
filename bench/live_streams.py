"""Live-counter streams under a real server: what 1,000 open streams cost in memory, and
whether they slow a concurrent Get Ticket Definition (issue 15 target 4: < 50 MB, Get
slowed by <= 20 %).

Starts ``boxoffice serve --workers W`` on a scratch database (PostgreSQL by default),
then, in one run:

1. Get Ticket Definition (``fields=SALES_DETAILS``) at --concurrency with bench/ceiling.py's
   client: the reference, with no stream open; the server's resident memory (all its
   processes) at that point;
2. opens --streams event streams (``GET /boxoffice/v1/live/{site}/ticket-definitions/{id}``
   over --definitions definitions, from a separate client process that reads every
   message), waits for each stream's first count, and measures the memory again;
3. the same Get load with the streams open, while --changes-per-second sales (Create
   Ticket Reservation, 1 seat) change the watched counts, so the streams receive messages;
4. closes the streams and runs the Get load once more (the reference again, which
   brackets the run's noise).

The slowdown is Get's throughput with the streams open against the mean of the two
references; memory is the servers' RSS with the streams open minus before. Writes
docs/bench/live_streams.json and .png (with --no-write, prints only).

    .venv/bin/python bench/live_streams.py [--streams 1000] [--db postgresql|sqlite] [--workers 2]
        [--concurrency 16] [--requests 10000] [--changes-per-second 10]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing as mp
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import ceiling  # noqa: E402
import ticket_definitions as tdbench  # noqa: E402

OUT = ROOT / "docs" / "bench"
LIVE = "/boxoffice/v1/live/{site}/ticket-definitions/{id}"


def _streams_proc(port: int, paths: list[str], ready: Any, stop: Any, out: Any) -> None:
    """Open one stream per path, count messages, until ``stop``; report what was seen."""

    async def one(path: str, opened: asyncio.Event, counts: dict[str, int]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            counts["refused"] += 1
            opened.set()
            writer.close()
            return
        counts["open"] += 1
        first = True
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                if line.startswith(b"data: "):
                    counts["messages"] += 1
                    if first:
                        first = False
                        opened.set()
        finally:
            writer.close()

    async def run() -> dict[str, int]:
        counts = {"open": 0, "refused": 0, "messages": 0}
        events = [asyncio.Event() for _ in paths]
        tasks = []
        for i, (p, e) in enumerate(zip(paths, events, strict=True)):
            tasks.append(asyncio.create_task(one(p, e, counts)))
            if i % 50 == 49:
                await asyncio.sleep(0.01)  # do not overflow the accept queue
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 300)
        first_messages = counts["messages"]
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {**counts, "messages_after_open": counts["messages"] - first_messages}

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    out.put(asyncio.run(run()))


def _sales(base: str, headers: dict[str, str], td_ids: list[str], per_second: float, stop: threading.Event,
           made: list[int]) -> None:
    """Create Ticket Reservation of 1 seat on a random watched definition, ``per_second``."""
    if per_second <= 0:
        return
    with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
        nxt = time.monotonic()
        while not stop.is_set():
            td = random.choice(td_ids)
            r = c.post("/events/v1/ticket-reservations",
                       json={"ticketReservation": {"tickets": [{"ticketDefinitionId": td, "quantity": 1}]}})
            made[0 if r.status_code == 200 else 1] += 1
            nxt += 1 / per_second
            time.sleep(max(0.0, nxt - time.monotonic()))


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    phases = result["phases"]
    names = [p["phase"] for p in phases]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.bar(names, [p["rps"] for p in phases], color=["grey", "tab:blue", "grey"])
    ax1.set_ylabel(f"Get req/s at C={result['concurrency']}")
    for i, p in enumerate(phases):
        ax1.annotate(f"p99 {p['p99_ms']:.0f} ms", (i, p["rps"]), ha="center", va="bottom", fontsize=8)
    ax2.bar(["at rest", f"{result['streams']} streams open"], [result["rss_mb_before"], result["rss_mb_with_streams"]],
            color=["grey", "tab:blue"])
    ax2.set_ylabel("servers' RSS, MB (all processes)")
    for ax in (ax1, ax2):
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(True, axis="y", alpha=0.3)
    m = result["machine"]
    fig.suptitle(f"{result['streams']} live streams, serve --workers {result['workers']} ({result['db']}): "
                 f"Get x{result['get_ratio']:.2f}, +{result['rss_mb_delta']:.1f} MB; {m['cores']} cores, "
                 f"load avg {m['loadavg_start']:.1f}; {result['date']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--definitions", type=int, default=100, help="the streams watch this many definitions")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--requests", type=int, default=10000)
    ap.add_argument("--changes-per-second", type=float, default=10)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cores": os.cpu_count(), "loadavg_start": os.getloadavg()[0]},
        "db": args.db, "workers": args.workers, "streams": args.streams, "concurrency": args.concurrency,
        "changes_per_second": args.changes_per_second, "phases": [],
    }
    with tempfile.TemporaryDirectory() as tmpd:
        url = tdbench.fresh_database(args.db, Path(tmpd))
        try:
            per_event = 100
            events = max(1, -(-args.definitions // per_event))
            key, td_ids, _, _, _ = tdbench.load(url, events, per_event, empty_events=10)
            # seats to sell: large limits, so the sales never sell out
            from sqlalchemy import create_engine, text

            eng = create_engine(tdbench.Database(url).engine.url)
            with eng.begin() as c:
                c.execute(text("UPDATE ticket_definitions SET initial_limit = 1000000, actual_limit = 1000000"))
            eng.dispose()
            watched = td_ids[: args.definitions]
            proc, base = tdbench.start_server(url, args.workers)
            port = int(base.rsplit(":", 1)[1])
            headers = {"Authorization": key, "wix-site-id": tdbench.SITE}
            try:
                reqs = tdbench.requests_for("get", port, key, td_ids)
                ceiling.run_load(base, reqs, 2000, args.concurrency, procs=2)  # warm-up

                def get_phase(name: str) -> dict[str, Any]:
                    r = ceiling.run_load(base, reqs, args.requests, args.concurrency, procs=2)
                    row = {"phase": name, **{k: r[k] for k in ("rps", "p50_ms", "p99_ms", "statuses", "errors")}}
                    result["phases"].append(row)
                    print(f"  {name:28s} {r['rps']:7.0f} req/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  "
                          f"{r['statuses']}", flush=True)
                    return row

                get_phase("Get, no streams")
                rss_before = sum(ceiling.tree_rss_mb(proc.pid).values())
                ctx = mp.get_context("fork")
                ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
                paths = [LIVE.format(site=tdbench.SITE, id=watched[i % len(watched)]) for i in range(args.streams)]
                t0 = time.perf_counter()
                sp = ctx.Process(target=_streams_proc, args=(port, paths, ready, stop, out), daemon=True)
                sp.start()
                if not ready.wait(600):
                    raise SystemExit("the streams did not all open")
                opened_in = time.perf_counter() - t0
                time.sleep(2)  # settle
                rss_streams = sum(ceiling.tree_rss_mb(proc.pid).values())
                print(f"  {args.streams} streams open in {opened_in:.1f} s; servers' RSS {rss_before:.1f} -> "
                      f"{rss_streams:.1f} MB (+{rss_streams - rss_before:.1f})", flush=True)
                halt, made = threading.Event(), [0, 0]
                seller = threading.Thread(target=_sales, args=(base, headers, watched, args.changes_per_second, halt, made))
                seller.start()
                with_streams = get_phase(f"Get, {args.streams} streams open")
                halt.set()
                seller.join()
                time.sleep(1)
                stop.set()
                seen = out.get(timeout=120)
                sp.join(30)
                time.sleep(1)
                get_phase("Get, streams closed")
            finally:
                tdbench.stop_server(proc)
        finally:
            tdbench.drop_database(args.db)
    refs = [p["rps"] for p in result["phases"] if p is not with_streams]
    ref = sum(refs) / len(refs)
    result.update(
        rss_mb_before=round(rss_before, 1), rss_mb_with_streams=round(rss_streams, 1),
        rss_mb_delta=round(rss_streams - rss_before, 1), streams_opened_in_s=round(opened_in, 1),
        get_ratio=round(with_streams["rps"] / ref, 3), sales_made=made[0], sales_refused=made[1], stream_client=seen,
    )
    result["machine"]["loadavg_end"] = os.getloadavg()[0]
    print(f"streams: {seen}; sales during the streamed phase: {made[0]} ({made[1]} refused)")
    print(f"Get with {args.streams} streams open: {result['get_ratio']:.2f} x the reference "
          f"({with_streams['rps']:.0f} vs {ref:.0f} req/s); memory +{result['rss_mb_delta']:.1f} MB; "
          f"load average {result['machine']['loadavg_start']:.1f} -> {result['machine']['loadavg_end']:.1f}")
    if not args.no_write:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "live_streams.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
        plot(result, OUT / "live_streams.png")
        print(f"wrote {OUT / 'live_streams'}.json and .png")


if __name__ == "__main__":
    main()
