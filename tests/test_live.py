"""Live unsoldCount over Server-Sent Events, against a real server: a sale made through
the API reaches an open stream at once (on PostgreSQL across server processes); the
streams of a definition share one read per change, however many they are; past
``live_max_streams`` a stream is refused with 503; keep-alives; ``event: deleted``."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from boxoffice.auth import create_api_key
from boxoffice.db import Database
from boxoffice.identity import IdentityType
from boxoffice.migrations import upgrade
from tests.conftest import make_pg_database
from tests.helpers import EVENTS, RES, TD, event_body, td_body
from tests.test_concurrency import free_port


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}" if request.param == "sqlite" else make_pg_database("boxoffice_live")
    upgrade(url)
    db = Database(url)
    with db.session(write=True) as s:
        key = create_api_key(s, "live", IdentityType.APP)
    db.dispose()
    port = free_port()
    workers = "1" if request.param == "sqlite" else "2"
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "boxoffice"), "serve", "--port", str(port), "--workers", workers,
         "--no-access-log", "--log-level", "warning"],
        env={**os.environ, "BOXOFFICE_DATABASE_URL": url},
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield base, {"Authorization": key, "wix-site-id": "live"}
    proc.terminate()
    proc.wait(30)


def test_a_purchase_reaches_an_open_stream_within_a_second(server):
    base, h = server
    ev = httpx.post(f"{base}{EVENTS}", json=event_body(draft=False), headers=h).json()["event"]
    td = httpx.post(f"{base}{TD}", json=td_body(ev["id"], initialLimit=5), headers=h).json()["ticketDefinition"]
    seen: queue.Queue = queue.Queue()

    def listen() -> None:
        with httpx.stream("GET", f"{base}/boxoffice/v1/live/live/ticket-definitions/{td['id']}", timeout=30) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            assert r.headers["access-control-allow-origin"] == "*"
            for line in r.iter_lines():
                if line.startswith("data: "):
                    msg = json.loads(line[6:])
                    seen.put((time.monotonic(), msg))
                    if msg["soldOut"]:
                        return  # closes the stream: the server's shutdown need not wait for it

    threading.Thread(target=listen, daemon=True).start()
    _, first = seen.get(timeout=10)
    assert first == {"ticketDefinitionId": td["id"], "unsoldCount": 5, "soldOut": False}
    for n in (2, 3):  # two purchases, each through whichever server process takes it
        t0 = time.monotonic()
        r = httpx.post(f"{base}{RES}", json={"ticketReservation": {"tickets": [{"ticketDefinitionId": td["id"], "quantity": n}]}}, headers=h)
        assert r.status_code == 200, r.text
        at, msg = seen.get(timeout=5)
        assert at - t0 < 1.0
        assert msg["unsoldCount"] == (3 if n == 2 else 0)
    assert msg["soldOut"] is True
    assert httpx.get(f"{base}/boxoffice/v1/live/live/ticket-definitions/nope").status_code == 404


# --- fan-out and the stream cap, in-process ---------------------------------------------
#
# The app runs under a real uvicorn (in a thread of this process, so that the snapshot
# read can be counted) and the streams are plain sockets: hundreds cost the test little.

import asyncio  # noqa: E402
import itertools  # noqa: E402

import uvicorn  # noqa: E402
from sqlalchemy import event as sa_event  # noqa: E402

from boxoffice.app import create_app  # noqa: E402
from boxoffice.config import Settings  # noqa: E402
from boxoffice.ticket_definitions import live  # noqa: E402
from tests.conftest import wipe  # noqa: E402

SITE = "live"


@pytest.fixture
def serve_app(database: Database):
    """``serve_app(**settings)``: the app on a real uvicorn in a thread; returns the port."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(**settings) -> int:
        wipe(database)
        app = create_app(Settings(database_url=str(database.engine.url), background=False, **settings), db=database)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                               access_log=False, timeout_graceful_shutdown=2, backlog=4096))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        for _ in range(400):
            if server.started:
                return port
            time.sleep(0.025)
        pytest.fail("uvicorn did not start")

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(15)


def setup_definition(database: Database, port: int, limit: int) -> tuple[str, dict[str, str]]:
    with database.session(write=True) as s:
        key = create_api_key(s, SITE, IdentityType.APP)
    h = {"Authorization": key, "wix-site-id": SITE}
    base = f"http://127.0.0.1:{port}"
    ev = httpx.post(f"{base}{EVENTS}", json=event_body(draft=False), headers=h)
    assert ev.status_code == 200, ev.text
    td = httpx.post(f"{base}{TD}", json=td_body(ev.json()["event"]["id"], initialLimit=limit), headers=h)
    assert td.status_code == 200, td.text
    return td.json()["ticketDefinition"]["id"], h


class RawStream:
    """One event stream over a bare socket (HTTP/1.1, chunked): the data messages it got."""

    def __init__(self, port: int, td_id: str) -> None:
        self.port, self.path = port, f"/boxoffice/v1/live/{SITE}/ticket-definitions/{td_id}"
        self.messages: list[dict] = []
        self.events: list[str] = []
        self.status = 0
        self.ended = False

    async def open(self) -> RawStream:
        """Connect, and read up to the first message (or the end of a refusal)."""
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(f"GET {self.path} HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])
        self.head = head.decode().lower()
        if self.status == 200:
            await self.next()
        return self

    async def next(self) -> bytes:
        """The next SSE line that matters (data, event, comment); b"" at the end."""
        while True:
            line = await self.reader.readline()
            if not line or line == b"0\r\n":  # closed, or the last chunk
                self.ended = True
                return b""
            if line.startswith(b"data: "):
                self.messages.append(json.loads(line[6:]))
                return line
            if line.startswith((b"event: ", b": ")):
                self.events.append(line.decode().strip())
                return line

    async def until_count(self, n: int) -> None:
        while not self.messages or self.messages[-1]["unsoldCount"] != n:
            if not await self.next():
                raise AssertionError(f"stream ended before unsoldCount {n}: {self.messages[-3:]}")

    def close(self) -> None:
        self.writer.close()


def count_calls(monkeypatch, module, name: str) -> itertools.count:
    calls = itertools.count()
    real = getattr(module, name)

    def counted(*args, **kw):
        next(calls)
        return real(*args, **kw)

    monkeypatch.setattr(module, name, counted)
    return calls


def taken(calls: itertools.count) -> int:
    return int(repr(calls)[6:-1])  # count(n): the calls so far, without taking one


STREAMS = 500
SALES = 20


def test_many_streams_share_one_read_per_change(serve_app, database, monkeypatch):
    """The finding of issue 9 §10: each stream read the database on every change (20 sales
    with 3,000 streams made 24,029 transactions). Now a process reads once per change
    (a burst: once) and sends that message to all of its streams of the definition."""
    port = serve_app()
    td_id, h = setup_definition(database, port, limit=100)
    reads = count_calls(monkeypatch, live, "snapshot")
    begins = itertools.count()
    on_begin = lambda *_: next(begins)  # noqa: E731
    sa_event.listen(database.engine, "begin", on_begin)

    async def main() -> tuple[int, int, int, float]:
        streams = [RawStream(port, td_id) for _ in range(STREAMS)]
        await asyncio.gather(*(s.open() for s in streams))
        assert all(s.status == 200 and s.messages[-1]["unsoldCount"] == 100 for s in streams)
        opening_reads = taken(reads)
        followers = asyncio.gather(*(s.until_count(100 - SALES) for s in streams))
        before, begun = taken(reads), taken(begins)
        t0 = time.monotonic()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=h, timeout=30) as client:
            for _ in range(SALES):
                r = await client.post(RES, json={"ticketReservation": {"tickets": [{"ticketDefinitionId": td_id, "quantity": 1}]}})
                assert r.status_code == 200, r.text
        await asyncio.wait_for(followers, 20)
        took = time.monotonic() - t0
        sale_reads, sale_begins = taken(reads) - before, taken(begins) - begun
        for s in streams:
            assert s.messages[-1] == {"ticketDefinitionId": td_id, "unsoldCount": 100 - SALES, "soldOut": False}
            s.close()
        return opening_reads, sale_reads, sale_begins, took

    try:
        opening_reads, sale_reads, sale_begins, took = asyncio.run(main())
    finally:
        sa_event.remove(database.engine, "begin", on_begin)
    print(f"\n{STREAMS} streams x {SALES} sales: {opening_reads} reads to open them, {sale_reads} reads and "
          f"{sale_begins} transactions for the sales, every stream at the final count {took * 1000:.0f} ms after the first sale")
    assert sale_reads <= SALES + 2, sale_reads  # one process: at most one read per change, whatever STREAMS is
    assert opening_reads <= 3, opening_reads  # newcomers share a read in flight, then take the cached count
    for _ in range(200):  # every closed stream gave its slot back
        if live.hub.streams == 0:
            break
        time.sleep(0.025)
    assert live.hub.streams == 0


def test_the_stream_cap_answers_503_and_a_closed_stream_frees_its_slot(serve_app, database):
    port = serve_app(live_max_streams=3)
    td_id, h = setup_definition(database, port, limit=5)

    async def main() -> None:
        streams = [await RawStream(port, td_id).open() for _ in range(3)]
        assert [s.status for s in streams] == [200, 200, 200]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            path = f"/boxoffice/v1/live/{SITE}/ticket-definitions/{td_id}"
            r = await client.get(path)
            assert r.status_code == 503, r.text
            assert r.headers["content-type"].startswith("application/json")
            assert int(r.headers["retry-after"]) > 0
            err = r.json()
            assert err["details"]["applicationError"]["code"] == "UNAVAILABLE"
            assert err["message"] == err["details"]["applicationError"]["description"]
            assert "3 live streams" in err["message"]

            streams.pop().close()  # the server notices the disconnect and frees the slot
            for _ in range(200):
                fourth = await RawStream(port, td_id).open()
                if fourth.status == 200:
                    break
                await asyncio.sleep(0.025)
            assert fourth.status == 200 and fourth.messages == [{"ticketDefinitionId": td_id, "unsoldCount": 5, "soldOut": False}]
            streams.append(fourth)
            assert (await client.get(path)).status_code == 503  # full again

            # a refused or unknown definition takes no slot for good
            streams.pop().close()
            for _ in range(200):
                if live.hub.streams == 2:
                    break
                await asyncio.sleep(0.025)
            for _ in range(5):
                assert (await client.get(f"/boxoffice/v1/live/{SITE}/ticket-definitions/nope")).status_code == 404
            last = await RawStream(port, td_id).open()
            assert last.status == 200
            streams.append(last)

            # the streams still follow sales
            r = await client.post(RES, headers=h, json={"ticketReservation": {"tickets": [{"ticketDefinitionId": td_id, "quantity": 2}]}})
            assert r.status_code == 200, r.text
            await asyncio.wait_for(asyncio.gather(*(s.until_count(3) for s in streams)), 10)
        for s in streams:
            s.close()

    asyncio.run(main())
    for _ in range(200):
        if live.hub.streams == 0:
            break
        time.sleep(0.025)
    assert live.hub.streams == 0


def test_keep_alive_and_deleted_end_every_stream(serve_app, database, monkeypatch):
    monkeypatch.setattr(live, "KEEPALIVE", 0.2, raising=False)
    port = serve_app()
    td_id, h = setup_definition(database, port, limit=5)

    async def main() -> None:
        streams = [await RawStream(port, td_id).open() for _ in range(3)]
        assert await asyncio.wait_for(streams[0].next(), 5) == b": keep-alive\n"  # nothing changed for 0.2 s
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=h, timeout=10) as client:
            r = await client.delete(f"{TD}/{td_id}")
            assert r.status_code == 200, r.text
        for s in streams:
            while not s.ended:
                await asyncio.wait_for(s.next(), 5)
            assert "event: deleted" in s.events
            assert s.messages[-1] == {}
            s.close()

    asyncio.run(main())
    for _ in range(200):
        if live.hub.streams == 0:
            break
        time.sleep(0.025)
    assert live.hub.streams == 0
