"""The operator's commands (issue 13): `keys list` / `keys revoke`, `webhooks deliveries`,
event-type validation on `webhooks add` and the admin API, and the log line of a failed
delivery attempt. On both databases.

The commands run in-process (``cli.main``, quick) against the test database; the one
that must show a *separate* process's revocation reaching a server runs the installed
``boxoffice`` in a subprocess.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from boxoffice.app import create_app
from boxoffice.auth import ApiKey, key_of
from boxoffice.cli import main
from boxoffice.config import Settings, get_settings
from boxoffice.outbox.models import OutboxEvent
from boxoffice.webhooks import event_types
from boxoffice.webhooks import service as webhooks
from boxoffice.webhooks.worker import Worker, WorkerSettings
from tests.conftest import ROOT
from tests.helpers import EVENTS, TD, checkout, create_event, create_td, reserve

BIN = Path(sys.executable).parent / "boxoffice"
HOOKS = "/boxoffice/v1/webhooks"
DEAD_URL = "http://127.0.0.1:1/hook"  # nothing listens on port 1: every attempt fails at once


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(db_url: str, app: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """``boxoffice ARGS`` in this process, on the test database (wiped by ``app``)."""
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", db_url)
    get_settings.cache_clear()

    def run(*args: str) -> Ran:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse refusals
            code = int(e.code or 0)
        got = capsys.readouterr()
        return Ran(code, got.out, got.err)

    yield run
    get_settings.cache_clear()


def _new_key(cli: Any, site: str, identity: str = "app") -> tuple[str, str]:
    r = cli("keys", "create", "--site", site, "--identity", identity)
    assert r.code == 0, r.err
    key = r.out.strip()
    [key_id] = re.findall(r"# key id (\S+) ", r.err)
    return key_id, key


def _call(client: TestClient, key: str, site: str = "site-a") -> int:
    """The status of one authenticated call (Query Events) made with ``key``."""
    return client.post(f"{EVENTS}/query", json={}, headers={"Authorization": key, "wix-site-id": site}).status_code


def _rows(out: str) -> list[list[str]]:
    return [line.split("\t") for line in out.splitlines() if line]


# --- keys ---------------------------------------------------------------------------


def test_keys_list_shows_every_key_but_never_a_secret(cli: Any, client: TestClient) -> None:
    a_id, a_key = _new_key(cli, "site-a")
    b_id, b_key = _new_key(cli, "site-b", "wix-user")
    r = cli("keys", "create", "--site", "site-a", "--identity", "member", "--permissions", "Read Events")
    assert r.code == 0

    listed = cli("keys", "list")
    assert listed.code == 0
    rows = {row[0]: row for row in _rows(listed.out)}
    assert set(rows) >= {a_id, b_id} and len(rows) == 3
    assert rows[a_id][1:4] == ["site-a", "app", "Manage Events,Manage Orders,Manage Ticket Definitions,Read Events"]
    assert rows[b_id][1:3] == ["site-b", "wix-user"]
    assert all(len(row) == 7 and row[5] == "-" and row[6] == "active" for row in rows.values())
    assert a_key not in listed.out + listed.err and b_key not in listed.out + listed.err
    assert "bo_" not in listed.out  # no key, nor its hash (a hash is hex; check there is none of 64)
    assert not re.search(r"\b[0-9a-f]{64}\b", listed.out)

    only_b = cli("keys", "list", "--site", "site-b")
    assert [row[0] for row in _rows(only_b.out)] == [b_id]
    assert cli("keys", "list", "--site", "nowhere").out == ""

    # using a key records its last use
    assert _call(client, a_key) == 200
    rows = {row[0]: row for row in _rows(cli("keys", "list").out)}
    assert rows[a_id][5].endswith("Z") and rows[b_id][5] == "-"


def test_revoking_a_key_in_this_process_refuses_it_at_once(cli: Any, client: TestClient, database: Any) -> None:
    key_id, key = _new_key(cli, "site-a")
    other_id, other = _new_key(cli, "site-a")
    assert _call(client, key) == 200  # now cached for 30 s

    r = cli("keys", "revoke", key_id)
    assert r.code == 0 and "revoked" in r.err and "30 s" in r.err
    assert _call(client, key) == 401  # this process forgot it at once
    assert _call(client, other) == 200
    with database.session() as s:
        assert key_of(s, key) is None and key_of(s, other) is not None  # the staff login path refuses it too

    rows = {row[0]: row for row in _rows(cli("keys", "list").out)}
    assert rows[key_id][6].startswith("revoked 20") and rows[other_id][6] == "active"
    again = cli("keys", "revoke", key_id)
    assert again.code == 0 and "already revoked" in again.err


def test_revoking_an_unknown_key_is_a_clear_error(cli: Any) -> None:
    _new_key(cli, "site-a")
    for bad in ("no-such-key", ""):
        r = cli("keys", "revoke", bad)
        assert r.code == 2 and "not found" in r.err, r.err
    assert "active" in cli("keys", "list").out
    assert cli("keys", "revoke").code == 2  # no id: a usage error


def test_another_process_revoking_reaches_a_server_within_the_cache_time(db_url: str, database: Any, cli: Any) -> None:
    ttl = 1.0
    app = create_app(Settings(database_url=db_url, background=False, auth_cache_seconds=ttl), db=database)
    key_id, key = _new_key(cli, "site-a")
    with TestClient(app) as c:
        assert _call(c, key) == 200
        r = subprocess.run([str(BIN), "keys", "revoke", key_id], env={**os.environ, "BOXOFFICE_DATABASE_URL": db_url},
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        revoked_at = time.monotonic()
        # this server resolved the key before: it may trust it until its cache entry runs out ...
        while _call(c, key) == 200:
            assert time.monotonic() - revoked_at < ttl + 0.5, "a revoked key still works after the cache time"
            time.sleep(0.05)
        assert _call(c, key) == 401  # ... and never after


# --- webhook event types --------------------------------------------------------------


def test_webhooks_add_refuses_unknown_event_types(cli: Any) -> None:
    r = cli("webhooks", "add", "--site", "site-a", "--url", "https://93.184.215.14/x",
            "--events", "wix.events.v3.event_created,bogus")
    assert r.code == 2 and "'bogus'" in r.err
    assert "wix.events.v3.ticket_definition_created" in r.err and "wix.events.ticketing.events.OrderConfirmed" in r.err
    assert "*" in r.err
    assert cli("webhooks", "list").out == ""  # nothing was subscribed

    ok = cli("webhooks", "add", "--site", "site-a", "--url", "https://93.184.215.14/x",
             "--events", " wix.events.v3.event_created , wix.events.events.EventUpdated,wix.events.v3.event_created")
    assert ok.code == 0, ok.err
    every = cli("webhooks", "add", "--site", "site-a", "--url", "https://93.184.215.14/y", "--events", "*")
    assert every.code == 0, every.err
    listed = {row[0]: row[3] for row in _rows(cli("webhooks", "list").out)}
    assert listed == {ok.out.strip(): "wix.events.v3.event_created,wix.events.events.EventUpdated", every.out.strip(): "*"}


def test_admin_api_refuses_unknown_event_types(make_api: Any) -> None:
    owner = make_api(identity="wix-user")
    for types in (["bogus"], ["wix.events.v3.event_created", "wix.events.v3.event_createdX"], ["x" * 200]):
        r = owner.post(HOOKS, {"url": "https://93.184.215.14/x", "eventTypes": types})
        assert r.status_code == 400, r.text
        [v] = r.json()["details"]["validationError"]["fieldViolations"]
        assert v["field"] == "eventTypes" and "wix.events.v3.event_created" in v["description"]
    r = owner.post(HOOKS, {"url": "https://93.184.215.14/x", "eventTypes": ["x" * 201]})  # too long to look at
    assert r.status_code == 400
    assert owner.get(HOOKS).json()["webhooks"] == []
    r = owner.post(HOOKS, {"url": "https://93.184.215.14/x", "eventTypes": ["wix.events.guests.v1.guest_created", "*"]})
    assert r.status_code == 200, r.text


def _conformance_types() -> set[str]:
    """Every webhook type the SDK conformance suite subscribes to and sees dispatched."""
    text = (ROOT / "conformance" / "webhooks.test.mjs").read_text()
    handlers = text[text.index("const HANDLERS = ["):]
    handlers = handlers[: handlers.index("];")]
    found = set(re.findall(r"\[\s*'\w+',\s*'on\w+',\s*'([^']+)'\s*\]", handlers))
    forms = (ROOT / "conformance" / "forms.test.mjs").read_text()
    found |= set(re.findall(r"const WEBHOOK_TYPE = '([^']+)'", forms))
    return found


def test_the_event_type_list_is_what_the_sdk_suite_receives() -> None:
    assert len(event_types.EVENT_TYPES) == len(event_types.KNOWN)  # no repeats
    declared = _conformance_types()
    assert len(declared) > 30
    assert declared == event_types.KNOWN


def test_every_entity_that_writes_to_the_outbox_has_its_types_listed() -> None:
    """Statically: each FQDN a slice declares, and each legacy prefix, has types in the list."""
    src = ROOT / "src" / "boxoffice"
    fqdns = set()
    for path in src.rglob("*.py"):
        fqdns |= set(re.findall(r'^FQDN = "([^"]+)"', path.read_text(), re.M))
    fqdns |= {"wix.events.ticketing.events"}  # outbox.LEGACY_PREFIX
    fqdns |= set(re.findall(r'^WEBHOOK_PREFIX = "([^"]+)"', (src / "forms" / "service.py").read_text(), re.M))
    assert len(fqdns) >= 8
    for fqdn in fqdns:
        assert any(t.startswith(fqdn + "_") or t.startswith(fqdn + ".") for t in event_types.KNOWN), fqdn


def test_what_a_sale_writes_to_the_outbox_is_all_listed(make_api: Any, database: Any) -> None:
    api = make_api()
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"])
    assert api.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"revision": td["revision"], "name": "v2"}}).status_code == 200
    r = reserve(api, td["id"])
    checkout(api, ev["id"], r["id"])
    assert api.post("/events-policies/v2/policies", {"policy": {"eventId": ev["id"], "name": "N", "body": "B"}}).status_code == 200
    assert api.post("/events/v1/staff-members", {"staffMember": {"name": "Dan", "permissions": ["CHECK_IN_GUESTS"],
                                                                 "allEvents": {}}}).status_code == 200
    with database.session() as s:
        written = set(s.scalars(select(OutboxEvent.event_type).distinct()))
    assert len(written) >= 8, written
    assert written <= event_types.KNOWN, written - event_types.KNOWN


# --- deliveries and the log of a failed attempt -----------------------------------------


def test_deliveries_pending_failing_dead_and_the_log_line(
    cli: Any, make_api: Any, database: Any, caplog: pytest.LogCaptureFixture
) -> None:
    api, b = make_api("site-a"), make_api("site-b")
    with database.session(write=True) as s:
        sub = webhooks.add(s, "site-a", DEAD_URL, ["wix.events.v3.event_created"], allow_private=True).id
        sub_b = webhooks.add(s, "site-b", DEAD_URL, ["*"], allow_private=True).id
    e1, e2 = create_event(api), create_event(api, title="Second")
    create_event(b)
    with database.session() as s:
        event_ids = {row.entity_id: row.event_id for row in s.scalars(select(OutboxEvent))}

    r = cli("webhooks", "deliveries")
    assert r.code == 0 and "3 deliveries" in r.err
    rows = _rows(r.out)
    assert [(x[1], x[2], x[4], x[5], x[6], x[8]) for x in rows] == [
        ("site-a", sub, "wix.events.v3.event_created", "pending", "0", "-"),
        ("site-a", sub, "wix.events.v3.event_created", "pending", "0", "-"),
        ("site-b", sub_b, "wix.events.v3.event_created", "pending", "0", "-"),
    ]
    assert [x[3] for x in rows[:2]] == [event_ids[e1["id"]], event_ids[e2["id"]]] and rows[0][7].endswith("Z")
    assert [x[1] for x in _rows(cli("webhooks", "deliveries", "--site", "site-b").out)] == ["site-b"]
    assert cli("webhooks", "deliveries", "--status", "failing").out == ""
    assert cli("webhooks", "deliveries", "--status", "dead").out == ""

    worker = Worker(database, WorkerSettings(max_attempts=2, backoff_base=0.001, backoff_cap=0.002, timeout_seconds=2))
    try:
        with caplog.at_level(logging.WARNING, logger="boxoffice.worker"):
            assert worker.run_once() == 3
            failing = _rows(cli("webhooks", "deliveries", "--status", "failing").out)
            assert [(x[5], x[6]) for x in failing] == [("failing", "1")] * 3
            assert all(x[8] != "-" and "\t" not in x[8] for x in failing)
            assert len(_rows(cli("webhooks", "deliveries", "--status", "pending").out)) == 3  # failing ones are pending
            time.sleep(0.01)
            assert worker.run_once() == 3  # the second attempt: max_attempts=2, so dead
    finally:
        worker.close()
    dead = cli("webhooks", "deliveries", "--status", "dead", "--site", "site-a")
    assert [(x[2], x[5], x[6], x[7]) for x in _rows(dead.out)] == [(sub, "dead", "2", "-")] * 2
    assert cli("webhooks", "deliveries", "--status", "pending").out == ""
    limited = cli("webhooks", "deliveries", "--limit", "1")
    assert len(_rows(limited.out)) == 1 and "more" in limited.err
    assert cli("webhooks", "deliveries", "--limit", "0").code == 2
    assert cli("webhooks", "deliveries", "--status", "lost").code == 2

    # one structured line per failed attempt: 3 deliveries x 2 attempts
    recs = [x for x in caplog.records if x.name == "boxoffice.worker" and x.getMessage().startswith("webhook delivery failed")]
    assert len(recs) == 6
    first = [x for x in recs if getattr(x, "event_id", None) == event_ids[e1["id"]]]
    assert [(x.subscription_id, x.event_type, x.attempt, x.dead) for x in first] == [
        (sub, "wix.events.v3.event_created", 1, False), (sub, "wix.events.v3.event_created", 2, True),
    ]
    assert all(x.error and x.levelno == logging.WARNING for x in recs)
    msg = first[0].getMessage()
    for part in (f"subscription={sub}", f"event_id={event_ids[e1['id']]}", "event_type=wix.events.v3.event_created",
                 "attempt=1/2", "error="):
        assert part in msg, msg
    # never the body (a JWT), a key, or the URL
    with database.session() as s:
        hashes = list(s.scalars(select(ApiKey.key_hash)))
    text = caplog.text
    assert "eyJ" not in text and api.key not in text and b.key not in text and DEAD_URL not in text
    assert not any(h in text for h in hashes)
