"""The request-id middleware: Boxoffice's hand-written `RequestIds` against the
maintained `asgi-correlation-id` (issue 13: "keep the hand-written piece where the library
costs more"), measured as a ratio in one run.

In-process, no network: each variant wraps the same bare ASGI app (a fixed
reservation-sized JSON answer), and N requests are driven straight through the ASGI
interface in one event loop, the variants interleaved round by round so that the
machine's speed, which swings from hour to hour, affects them alike. Printed: the
median time per request of each, and each middleware's cost over the bare app.

    .venv/bin/python bench/request_id.py [--requests 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware

from boxoffice.api.middleware import RequestIds

BODY = b'{"ticketReservation":{"id":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","status":"PENDING","tickets":[]}}' * 4


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": BODY})


SCOPE = {
    "type": "http", "method": "POST", "path": "/events/v1/ticket-reservations", "raw_path": b"/events/v1/ticket-reservations",
    "query_string": b"", "headers": [(b"authorization", b"bo_x"), (b"wix-site-id", b"demo"), (b"content-type", b"application/json")],
    "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5000), "root_path": "",
}


async def drive(app: Any, n: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    start = time.perf_counter()
    for _ in range(n):
        await app(dict(SCOPE), receive, send)
    return (time.perf_counter() - start) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    logging.getLogger("boxoffice.request").addHandler(logging.NullHandler())
    logging.getLogger("boxoffice.request").propagate = False
    variants = {
        "bare app": bare,
        "RequestIds (Boxoffice)": RequestIds(bare),
        "RequestIds + JSON request log line": RequestIds(bare, log_requests=True),
        "asgi-correlation-id": CorrelationIdMiddleware(bare, header_name="X-Wix-Request-Id"),
    }
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.rounds):
        for name, app in variants.items():
            times[name].append(asyncio.run(drive(app, args.requests)))
    base = statistics.median(times["bare app"])
    print(f"{'variant':38} {'us/request':>10} {'cost over bare':>15}")
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"{name:38} {m * 1e6:10.2f} {'' if name == 'bare app' else f'{(m - base) * 1e6:+13.2f} us':>15}")
    ours = statistics.median(times["RequestIds (Boxoffice)"]) - base
    lib = statistics.median(times["asgi-correlation-id"]) - base
    print(f"\nasgi-correlation-id costs {lib / ours:.1f}x what RequestIds costs per request (same run)")


if __name__ == "__main__":
    main()
