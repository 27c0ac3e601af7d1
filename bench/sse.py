"""The live counter's event-stream response: Starlette's StreamingResponse (what
`ticket_definitions/routes.py` LiveResponse builds on, with Boxoffice's own framing and
fan-out) against `sse-starlette`'s EventSourceResponse (framing, pings, disconnect
handling), measured as a ratio in one run (issue 13).

In-process, no network: S streams are opened at once on one event loop, each sends E
pre-encoded `data:` messages (what a channel hands every stream after one shared read)
and ends. Printed, per variant: the wall time per message per stream, and the memory
the open streams hold at their peak (tracemalloc), each against the other's in the same
run. The fan-out itself (one read per change, shared bytes) is the same for both and is
not measured here (tests/test_live.py holds it).

    .venv/bin/python bench/sse.py [--streams 1000] [--events 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from typing import Any

from sse_starlette import EventSourceResponse
from starlette.responses import StreamingResponse

MESSAGE = b'event: sales\ndata: {"unsoldCount": 41, "soldOut": false}\n\n'
PAYLOAD = '{"unsoldCount": 41, "soldOut": false}'


def streaming(events: int) -> Any:
    async def gen() -> AsyncIterator[bytes]:
        for _ in range(events):
            yield MESSAGE
            await asyncio.sleep(0)
    return StreamingResponse(gen(), media_type="text/event-stream")


def sse_starlette(events: int) -> Any:
    async def gen() -> AsyncIterator[dict[str, str]]:
        for _ in range(events):
            yield {"event": "sales", "data": PAYLOAD}
            await asyncio.sleep(0)
    return EventSourceResponse(gen(), ping=15)


async def run(make: Callable[[int], Any], streams: int, events: int) -> tuple[float, int]:
    scope = {"type": "http", "method": "GET", "path": "/live", "headers": [], "query_string": b"", "http_version": "1.1",
             "asgi": {"version": "3.0", "spec_version": "2.4"}}
    gate = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await gate.wait()  # the client never leaves before the stream ends
        return {"type": "http.disconnect"}

    sent = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal sent
        if message["type"] == "http.response.body" and message.get("body"):
            sent += 1

    tracemalloc.start()
    start = time.perf_counter()
    await asyncio.gather(*(make(events)(dict(scope), receive, send) for _ in range(streams)))
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    gate.set()
    assert sent >= streams * events, (sent, streams * events)
    return elapsed / (streams * events), peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--events", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    variants = {"StreamingResponse (Boxoffice)": streaming, "sse-starlette EventSourceResponse": sse_starlette}
    res: dict[str, list[tuple[float, int]]] = {k: [] for k in variants}
    for _ in range(args.rounds):
        for name, make in variants.items():
            res[name].append(asyncio.run(run(make, args.streams, args.events)))
    print(f"{args.streams} streams x {args.events} messages")
    print(f"{'variant':36} {'us/message':>10} {'peak memory':>12}")
    med = {}
    for name, rows in res.items():
        t = statistics.median(r[0] for r in rows)
        m = statistics.median(r[1] for r in rows)
        med[name] = (t, m)
        print(f"{name:36} {t * 1e6:10.2f} {m / 1e6:10.1f} MB")
    (t0, m0), (t1, m1) = med.values()
    print(f"\nsse-starlette: {t1 / t0:.1f}x the time per message, {m1 / m0:.1f}x the memory of StreamingResponse (same run)")


if __name__ == "__main__":
    main()
