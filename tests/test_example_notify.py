"""examples/notify-on-sale: a real Boxoffice server (webhook worker and scheduler in its
process, a temporary SQLite database), the example receiver as a subprocess and a real
SMTP server (aiosmtpd) in the test.

A scheduled sale is made to start (its start moved a minute into the past): the
scheduler emits sale_started, and exactly the opted-in subscribers of that event get one
email each, naming the event and the ticket. A redelivery of the same event (`boxoffice
webhooks replay --event`) sends nothing more; nor does another sale_started for the same
sale start; bad signatures are answered 401.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import EVENTS, TD, event_body, iso, td_body, utcnow
from tests.test_concurrency import free_port
from tests.test_example_sync import forge, other_key, run_boxoffice, wait_http

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller", reason="pip install aiosmtpd (the test extra)")

ROOT = Path(__file__).resolve().parents[1]
RECEIVER = ROOT / "examples" / "notify-on-sale" / "receiver.py"
SALE_STARTED = "wix.events.v3.ticket_definition_sale_started"


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def wait_for(self, n: int, timeout: float) -> float:
        """Seconds until at least ``n`` messages arrived (bounded)."""
        t0 = time.monotonic()
        while len(self.messages) < n:
            assert time.monotonic() - t0 < timeout, f"{len(self.messages)} of {n} emails after {timeout}s"
            time.sleep(0.02)
        return time.monotonic() - t0


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = aiosmtpd_controller.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def receiver_cli(db: Path, *args: str) -> str:
    r = subprocess.run([sys.executable, str(RECEIVER), "--db", str(db), *args], check=False, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


@contextlib.contextmanager
def run_receiver(tmp_path: Path, db: Path, box: Any, smtp_port: int) -> Iterator[str]:
    port = free_port()
    with open(tmp_path / "notify.log", "ab") as logf:
        proc = subprocess.Popen(
            [sys.executable, str(RECEIVER), "--db", str(db), "--log-level", "info", "serve", "--port", str(port),
             "--public-key-file", str(box.public_pem_file), "--base-url", box.base, "--api-key", box.key,
             "--site", box.site, "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port)],
            stdout=logf, stderr=logf,
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz")
            yield f"http://127.0.0.1:{port}/webhooks"
        finally:
            proc.terminate()
            proc.wait(15)


def store(db: Path, query: str, *args: Any) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as c:
        return c.execute(query, args).fetchall()


def test_opted_in_subscribers_get_one_email_when_the_sale_starts(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, smtp_port = smtp
    db = tmp_path / "notify.db"
    with run_boxoffice(tmp_path) as box, httpx.Client(base_url=box.base, headers=box.headers, timeout=30) as c:
        fair = c.post(EVENTS, json=event_body("Spring Leather Fair", draft=False)).json()["event"]
        gala = c.post(EVENTS, json=event_body("Autumn Gala", draft=False)).json()["event"]
        later = utcnow().replace(second=0, microsecond=0) + dt.timedelta(days=1)
        period = {"startDate": iso(later), "endDate": iso(later + dt.timedelta(days=30))}
        r = c.post(TD, json=td_body(fair["id"], name="Early Bird", salePeriod=period))
        assert r.status_code == 200, r.text
        early = r.json()["ticketDefinition"]
        assert early["saleStatus"] == "SALE_SCHEDULED"
        r = c.post(TD, json=td_body(gala["id"], name="Gala Seat", salePeriod=period))
        assert r.status_code == 200, r.text

        # The marketing list: per event, with and without opt-in.
        for event_id, addr, name, opted in [
            (fair["id"], "ann@example.com", "Ann", True),
            (fair["id"], "bob@example.com", "Bob", True),
            (fair["id"], "cat@example.com", "Cat", False),
            (gala["id"], "dan@example.com", "Dan", True),
        ]:
            receiver_cli(db, "subscribers", "add", "--event-id", event_id, "--email", addr, "--name", name,
                         "--opted-in" if opted else "--no-opted-in")

        with run_receiver(tmp_path, db, box, smtp_port) as url:
            box.subscribe(url, [SALE_STARTED])

            # The sale starts: its start moves a minute into the past.
            start = utcnow().replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
            patch = {"ticketDefinition": {"revision": early["revision"], "salePeriod": {"startDate": iso(start)}}}
            r = c.patch(f"{TD}/{early['id']}", json=patch)
            assert r.status_code == 200, r.text
            took = inbox.wait_for(2, timeout=10)
            time.sleep(1.0)  # nothing else comes
            assert took < 5, f"the emails took {took:.1f}s"

            assert sorted(rcpt for rcpts, _ in inbox.messages for rcpt in rcpts) == ["ann@example.com", "bob@example.com"]
            for rcpts, msg in inbox.messages:
                assert "Spring Leather Fair" in msg["Subject"] and "Early Bird" in msg["Subject"], msg["Subject"]
                body = msg.get_content()
                assert "Spring Leather Fair" in body and "Early Bird" in body
                assert msg["To"].addresses[0].addr_spec == rcpts[0]
            sent = store(db, "SELECT status, count(*) FROM notifications GROUP BY status")
            assert sent == [("SENT", 2)]

            # The same delivery again (same event id): no second email.
            [(event_id, deliveries)] = store(db, "SELECT event_id, deliveries FROM processed_events")
            assert deliveries == 1
            box.cli("webhooks", "replay", "--event", event_id)
            deadline = time.monotonic() + 15
            while store(db, "SELECT deliveries FROM processed_events WHERE event_id = ?", event_id)[0][0] < 2:
                assert time.monotonic() < deadline, "the replayed delivery did not arrive"
                time.sleep(0.05)
            # Another announcement of the same sale start (a new event id): still none.
            td_now = c.get(f"{TD}/{early['id']}").json()["ticketDefinition"]
            again = {"id": str(uuid.uuid4()), "entityFqdn": "wix.events.v3.ticket_definition",
                     "slug": "sale_started", "entityId": early["id"],
                     "actionEvent": {"body": {"ticketDefinition": td_now}},
                     "eventTime": iso(utcnow()), "entityEventSequence": "99"}
            r = httpx.post(url, content=forge(box, SALE_STARTED, again))
            assert (r.status_code, r.json()) == (200, {"outcome": "queued", "queued": 0})

            # Bodies not signed by the server's key are refused, and mail nobody.
            again["id"] = str(uuid.uuid4())
            for body in (forge(box, SALE_STARTED, again, key=other_key()), b"not-a-jwt"):
                r = httpx.post(url, content=body)
                assert r.status_code == 401, r.text
            time.sleep(1.2)  # a mailer round
            assert len(inbox.messages) == 2
            assert store(db, "SELECT count(*) FROM notifications") == [(2,)]
