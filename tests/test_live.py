"""Live unsoldCount over Server-Sent Events, against a real server: a sale made through
the API reaches an open stream at once (on PostgreSQL across server processes)."""

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

from boxoffice.auth import IdentityType, create_api_key
from boxoffice.db import Database
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
                    seen.put((time.monotonic(), json.loads(line[6:])))

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
