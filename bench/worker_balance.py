"""How connections that arrive together are spread over uvicorn's workers.

Serves a bare ASGI app that answers its worker's pid under uvicorn (uvloop, 2 workers,
as `boxoffice serve --workers 2` runs), once with plain httptools and once with
``boxoffice.serving:SharingHttpTools`` (what `serve` uses with several workers), in the
same run. Each round opens N keep-alive connections at once from one client process,
sends one request on each, counts which worker answered, closes them and waits for the
workers to go idle. Printed: for each N, how the N connections were split (e.g. 2-2
in 28 rounds, 4-0 in 2) and the share of rounds in which every worker got at least one.

    .venv/bin/python bench/worker_balance.py [--connections 2,4,8] [--rounds 30] [--workers 2]

The rounds are 1.1 s apart so that each starts with the pause budget
(``serving.PAUSES_PER_SECOND``) refilled, as a burst after a quiet second would.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ceiling  # noqa: E402


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The worker's pid; /healthz answers too (ceiling.wait_ready)."""
    if scope["type"] != "http":
        return
    body = str(os.getpid()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _one(port: int) -> tuple[asyncio.StreamWriter, str]:
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
    await w.drain()
    head = await r.readuntil(b"\r\n\r\n")
    length = int(next(h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")))
    return w, (await r.readexactly(length)).decode()


async def rounds(port: int, n: int, count: int, gap: float) -> collections.Counter[tuple[int, ...]]:
    splits: collections.Counter[tuple[int, ...]] = collections.Counter()
    for _ in range(count):
        got = await asyncio.gather(*[_one(port) for _ in range(n)])
        by_pid = collections.Counter(pid for _, pid in got)
        splits[tuple(sorted(by_pid.values(), reverse=True))] += 1
        for w, _ in got:
            w.close()
        await asyncio.sleep(gap)
    return splits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connections", default="2,4,8")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--gap", type=float, default=1.1, help="seconds between rounds")
    args = ap.parse_args()
    ns = [int(x) for x in args.connections.split(",")]
    for label, http in (
        ("plain httptools (shared socket as uvicorn ships it)", "httptools"),
        ("boxoffice.serving:SharingHttpTools (what serve uses)", "boxoffice.serving:SharingHttpTools"),
    ):
        port = ceiling.free_port()
        cmd = ceiling.server_command("uvicorn", port, args.workers, target="worker_balance:app", app_dir=HERE)
        cmd[cmd.index("--http") + 1] = http

        proc = subprocess.Popen(cmd, start_new_session=True)
        try:
            ceiling.wait_ready(proc, f"http://127.0.0.1:{port}", seconds=60)
            print(f"{label}, {args.workers} workers:")
            for n in ns:
                splits = asyncio.run(rounds(port, n, args.rounds, args.gap))
                spread = sum(c for s, c in splits.items() if len(s) == min(n, args.workers))
                shown = ", ".join(
                    f"{'-'.join(map(str, s + (0,) * (args.workers - len(s))))} in {c}" for s, c in splits.most_common()
                )
                print(f"  {n} connections at once: {shown}; every worker got one in {spread}/{args.rounds} rounds")
        finally:
            ceiling.stop(proc)


if __name__ == "__main__":
    main()
