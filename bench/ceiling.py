"""The HTTP ceiling: bare ASGI apps that answer a fixed JSON body, and the load that
measures them, so a bench can say what share of "the server alone" it reaches.

Issue 15 compares the flash sale (POST a reservation) and the reads (GET a ticket
definition) with a bare ASGI app returning a body of the same size, served by the same
server (uvicorn with uvloop/httptools, or Granian), the same number of workers, under
the same client load, in the same run. This module is that app and that load:

* ``app``: one bare ASGI callable (no framework). ``POST`` anything: reads the whole
  request body, answers ``RESERVATION_BODY`` (a Create Ticket Reservation response);
  ``GET`` anything: answers ``TICKET_DEFINITION_BODY`` (a Get Ticket Definition
  response); ``GET /healthz``: ``{}``. The bodies default to realistic documents of the
  size the real routes answer; a bench can make them exact by writing a real response
  to a file and naming it in ``BOXOFFICE_CEILING_POST_BODY`` / ``BOXOFFICE_CEILING_GET_BODY``
  (``serve(..., post_body=..., get_body=...)`` does that).
* ``serve(server, port, workers, ...)``: starts ``app`` under ``uvicorn`` (uvloop,
  httptools, no access log: what ``boxoffice serve`` uses) or ``granian`` (ASGI
  interface) in a subprocess and waits until it answers; ``stop(proc)`` ends it.
* ``RawHttp`` and ``run_load(base, requests, n, concurrency, procs)``: the client. Each
  of ``procs`` processes runs an asyncio (uvloop) loop with concurrency/procs
  keep-alive connections, each sending pre-built HTTP/1.1 requests (``post_request`` /
  ``get_request`` build them) as fast as answers come back (~0.1 ms of client CPU a
  request; a general client such as httpx costs ~3.6 ms, which on 2 cores makes the
  client the bottleneck). Returns requests/s, p50/p99 and the status counts.
* ``tree_rss_mb(pid)``: resident memory of a process and its descendants (serve workers).

Hand-written rather than a load tool (wrk, oha, locust) because none is installed here
and the benches need the per-request outcome (the reservation id, the 428 code) which a
load tool does not return; the client is deliberately minimal so it costs little CPU.

Usage:  .venv/bin/python bench/ceiling.py [--server uvicorn|granian|both] [--method POST|GET]
        [--workers 2] [--concurrency 64] [--procs 2] [--requests 20000]
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

HERE = Path(__file__).resolve().parent
SERVERS = ("uvicorn", "granian")

# --- the bodies ------------------------------------------------------------------------------

_RESERVATION: dict[str, Any] = {
    "ticketReservation": {
        "id": "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f",
        "revision": "1",
        "createdDate": "2026-11-30T08:00:00.000Z",
        "updatedDate": "2026-11-30T08:00:00.000Z",
        "status": "PENDING",
        "tickets": [
            {
                "ticketLineItemId": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
                "eventId": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
                "ticketDefinitionId": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
                "quantity": 1,
                "ticketInfo": {},
                "eventSettingsSnapshot": {"reservationDurationInMinutes": 20, "ticketLimitPerOrder": 50},
                "removedQuantity": 0,
                "policy": "",
                "ticketName": "Flash",
                "price": {"value": "25", "currency": "USD", "formattedValue": "$25.00"},
                "subTotal": {"value": "25", "currency": "USD", "formattedValue": "$25.00"},
            }
        ],
        "additionalReservationSettings": {"disableTicketLimitValidation": False, "enableHiddenTicketReservation": False},
        "expirationDate": "2026-11-30T08:20:00.000Z",
        "visitorId": "3d4e5f6a-7b8c-4d9e-0f1a-2b3c4d5e6f7a",
    }
}

_TICKET_DEFINITION: dict[str, Any] = {
    "ticketDefinition": {
        "id": "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
        "eventId": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
        "revision": "3",
        "createdDate": "2026-11-30T08:00:00.000Z",
        "updatedDate": "2026-11-30T08:00:00.000Z",
        "name": "Flash",
        "hidden": False,
        "limited": True,
        "initialLimit": 1000,
        "actualLimit": 1000,
        "pricingMethod": {
            "fixedPrice": {"value": "25", "currency": "USD", "formattedValue": "$25.00"},
            "pricingType": "STANDARD",
            "free": False,
        },
        "feeType": "FEE_INCLUDED",
        "saleStatus": "SALE_STARTED",
        "salesDetails": {"unsoldCount": 1000, "reservedCount": 0, "soldCount": 0, "soldOut": False},
        "eventDetails": {
            "title": "Flash Sale",
            "slug": "flash-sale",
            "status": "UPCOMING",
            "dateAndTimeSettings": {
                "startDate": "2026-12-30T08:00:00.000Z",
                "endDate": "2026-12-30T10:00:00.000Z",
                "timeZoneId": "UTC",
            },
            "location": {"type": "VENUE", "name": "Arena"},
        },
    }
}

RESERVATION_BODY: bytes = json.dumps(_RESERVATION, separators=(",", ":")).encode()
TICKET_DEFINITION_BODY: bytes = json.dumps(_TICKET_DEFINITION, separators=(",", ":")).encode()
HEALTH_BODY = b"{}"


def _body_from_env(name: str, default: bytes) -> bytes:
    path = os.environ.get(name)
    return Path(path).read_bytes() if path else default


_POST = _body_from_env("BOXOFFICE_CEILING_POST_BODY", RESERVATION_BODY)
_GET = _body_from_env("BOXOFFICE_CEILING_GET_BODY", TICKET_DEFINITION_BODY)


def _start(body: bytes) -> dict[str, Any]:
    return {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The bare ASGI app: POST -> the reservation body, GET -> the ticket definition body."""
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["method"] == "POST":
        more = True
        while more:  # read the request body, as a real route must
            msg = await receive()
            more = msg.get("more_body", False)
        body = _POST
    elif scope["path"] == "/healthz":
        body = HEALTH_BODY
    else:
        body = _GET
    await send(_start(body))
    await send({"type": "http.response.body", "body": body})


# --- serving it -------------------------------------------------------------------------------


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def server_command(server: str, port: int, workers: int, target: str = "ceiling:app", app_dir: Path = HERE) -> list[str]:
    """The command line that serves the ASGI app `target` (module:attr, importable from
    `app_dir`) under `server`, as `boxoffice serve` would: uvicorn with uvloop and
    httptools and no access log, or granian's ASGI interface."""
    bindir = Path(sys.executable).parent
    if server == "uvicorn":
        return [
            str(bindir / "uvicorn"),
            target,
            "--app-dir",
            str(app_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    if server == "granian":
        return [
            str(bindir / "granian"),
            "--interface",
            "asgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--loop",
            "uvloop",
            "--no-access-log",
            "--log-level",
            "warning",
            "--working-dir",
            str(app_dir),
            target,
        ]
    raise ValueError(f"unknown server {server!r}; one of {SERVERS}")


def wait_ready(proc: subprocess.Popen, base: str, path: str = "/healthz", seconds: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with status {proc.returncode}")
        try:
            if httpx.get(base + path, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop(proc)
    raise SystemExit(f"server at {base} did not answer {path} within {seconds:.0f}s")


def serve(
    server: str,
    workers: int = 2,
    port: int | None = None,
    post_body: bytes | None = None,
    get_body: bytes | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start the bare app under `server` with `workers`; (process, base URL) once it answers.
    `post_body` / `get_body`: answer these exact bytes instead of the built-in documents."""
    port = port or free_port()
    env = dict(os.environ)
    for name, body in (("BOXOFFICE_CEILING_POST_BODY", post_body), ("BOXOFFICE_CEILING_GET_BODY", get_body)):
        if body is not None:
            f = tempfile.NamedTemporaryFile(prefix="ceiling-", suffix=".json", delete=False)
            f.write(body)
            f.close()
            env[name] = f.name
    proc = subprocess.Popen(server_command(server, port, workers), env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_ready(proc, base)
    return proc, base


def stop(proc: subprocess.Popen) -> None:
    """End a server started with start_new_session=True and all its workers (its
    process group: a supervisor killed alone would leave its workers running)."""
    import signal

    def signal_group(sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass

    signal_group(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        signal_group(signal.SIGKILL)
        proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # workers may outlive their supervisor a moment
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    signal_group(signal.SIGKILL)


def proc_stats() -> dict[int, tuple[int, float, str]]:
    """{pid: (parent pid, CPU seconds used so far (user + system), command name)} of every
    process, from one pass over /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[int, float, str]] = {}
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            raw = (p / "stat").read_text()
        except OSError:
            continue
        rest = raw.rsplit(")", 1)[1].split()
        out[int(p.name)] = (int(rest[1]), (int(rest[11]) + int(rest[12])) / tick, raw[raw.find("(") + 1 : raw.rfind(")")])
    return out


def descendants(root: int, stats: dict[int, tuple[int, float, str]] | None = None) -> list[int]:
    """`root` and every process below it (a server's master and workers), sorted."""
    stats = proc_stats() if stats is None else stats
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _, _) in stats.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sorted(tree)


def tree_cpu_s(root: int) -> dict[int, float]:
    """{pid: CPU seconds used so far (user + system)} of `root` and its descendants.
    Two readings around a load point show how the load spread over a server's workers
    (README "Benchmarks")."""
    stats = proc_stats()
    return {pid: stats[pid][1] for pid in descendants(root, stats) if pid in stats}


def busiest_share(before: dict[int, float], after: dict[int, float]) -> float | None:
    """The share of the CPU the busiest process used between two ``tree_cpu_s``
    readings (0.5 for two evenly loaded workers, 1.0 when one did all the work)."""
    used = {p: after[p] - before.get(p, 0.0) for p in after}
    total = sum(used.values())
    return round(max(used.values()) / total, 2) if total > 0 else None


def tree_rss_mb(root: int) -> dict[int, float]:
    """{pid: resident MiB} of `root` and its descendants (a server's master and workers)."""
    out: dict[int, float] = {}
    for pid in descendants(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out[pid] = int(line.split()[1]) / 1024
        except OSError:
            continue
    return out


# --- the load ---------------------------------------------------------------------------------


def post_request(host: str, port: int, path: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    """A pre-built HTTP/1.1 keep-alive POST with a JSON body."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def get_request(host: str, port: int, path: str, headers: dict[str, str] | None = None) -> bytes:
    """A pre-built HTTP/1.1 keep-alive GET."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n".encode()


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


def pct(xs: list[float], q: float) -> float:
    """The q-quantile of seconds `xs`, in ms (nan when empty)."""
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000


def _load_proc(
    host: str, port: int, requests: list[bytes], n: int, conc: int, max_seconds: float, barrier: Any, out: Any
) -> None:
    import asyncio

    async def run() -> dict:
        conns = [RawHttp(host, port) for _ in range(conc)]
        await asyncio.gather(*(c.connect() for c in conns))
        await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        deadline = t0 + max_seconds
        left = [n]
        lat: list[float] = []
        statuses: dict[int, int] = {}
        errors = [0]

        async def worker(w: int) -> None:
            i = w
            while left[0] > 0 and time.perf_counter() < deadline:
                left[0] -= 1
                s = time.perf_counter()
                try:
                    st, _, _ = await asyncio.wait_for(conns[w].request(requests[i % len(requests)]), 60)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                    errors[0] += 1
                    continue
                lat.append(time.perf_counter() - s)
                statuses[st] = statuses.get(st, 0) + 1
                i += conc

        await asyncio.gather(*(worker(w) for w in range(conc)))
        end = time.perf_counter()
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        for c in conns:
            c.close()
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        return {"t0": t0, "end": end, "lat": lat, "statuses": statuses, "errors": errors[0], "cpu": cpu}

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


def run_load(
    base: str, requests: list[bytes], n: int, concurrency: int = 64, procs: int = 2, max_seconds: float = 120.0
) -> dict[str, Any]:
    """Send `n` requests (cycling through the pre-built `requests`) from `procs` client
    processes with `concurrency` keep-alive connections in all; returns rps, p50_ms,
    p99_ms, statuses {code: count}, errors, wall seconds, client CPU ms per request."""
    from urllib.parse import urlsplit

    u = urlsplit(base)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(procs + 1)
    out = ctx.Queue()
    per = [concurrency // procs + (1 if i < concurrency % procs else 0) for i in range(procs)]
    share = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
    ps = [
        ctx.Process(target=_load_proc, args=(host, port, requests, share[i], per[i], max_seconds, barrier, out), daemon=True)
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
        raise SystemExit(f"load process failed: {fatal}")
    t0 = min(r["t0"] for r in results)
    end = max(r["end"] for r in results)
    lat = [x for r in results for x in r["lat"]]
    statuses: dict[int, int] = {}
    for r in results:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    wall = end - t0
    return {
        "requests": len(lat),
        "errors": sum(r["errors"] for r in results),
        "statuses": statuses,
        "wall_s": wall,
        "rps": len(lat) / wall if wall > 0 else 0.0,
        "p50_ms": pct(lat, 0.50),
        "p99_ms": pct(lat, 0.99),
        "client_cpu_ms_per_request": 1000 * sum(r["cpu"] for r in results) / max(1, len(lat)),
    }


def ceiling(
    server: str,
    method: str = "POST",
    workers: int = 2,
    n: int = 20_000,
    concurrency: int = 64,
    procs: int = 2,
    body: bytes | None = None,
    path: str | None = None,
    headers: dict[str, str] | None = None,
    max_seconds: float = 120.0,
) -> dict[str, Any]:
    """Serve the bare app under `server`, load it with `method` requests, stop it: the
    ceiling figures (run_load's) plus the server's RSS per process under load and after.
    `body` replaces the answer of that method (e.g. a real response captured from the
    route being compared); `path`/`headers` shape the requests like the real ones."""
    proc, base = serve(server, workers, post_body=body if method == "POST" else None, get_body=body if method == "GET" else None)
    try:
        port = int(base.rsplit(":", 1)[1])
        req_body = json.dumps({"ticketReservation": {"tickets": [{"ticketDefinitionId": "x", "quantity": 1}]}}).encode()
        if method == "POST":
            reqs = [post_request("127.0.0.1", port, path or "/events/v1/ticket-reservations", req_body, headers)]
        else:
            reqs = [get_request("127.0.0.1", port, path or "/events-ticket-definitions/v3/ticket-definitions/x", headers)]
        run_load(base, reqs, min(n, 2000), concurrency, procs, max_seconds)  # warm up
        rss_rest = tree_rss_mb(proc.pid)
        r = run_load(base, reqs, n, concurrency, procs, max_seconds)
        r["rss_mb_after_load"] = tree_rss_mb(proc.pid)
        r["rss_mb_at_rest"] = rss_rest
    finally:
        stop(proc)
    r.update(server=server, method=method, workers=workers, concurrency=concurrency)
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", choices=[*SERVERS, "both"], default="both")
    ap.add_argument("--method", choices=["POST", "GET"], default="POST")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--requests", type=int, default=20_000)
    args = ap.parse_args()
    servers = list(SERVERS) if args.server == "both" else [args.server]
    rows = []
    for s in servers:
        r = ceiling(s, args.method, args.workers, args.requests, args.concurrency, args.procs)
        rows.append(r)
        print(
            f"{s:8s} {args.method} x{args.workers} workers, C={args.concurrency}: {r['rps']:,.0f} req/s, "
            f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, statuses {r['statuses']}, errors {r['errors']}, "
            f"RSS MiB at rest {sorted(round(v) for v in r['rss_mb_at_rest'].values())}, "
            f"after load {sorted(round(v) for v in r['rss_mb_after_load'].values())}"
        )
    print(f"load average {os.getloadavg()}")
    print(json.dumps(rows, default=str))


if __name__ == "__main__":
    main()
