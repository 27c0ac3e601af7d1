"""Webhook delivery (signed JWTs, order, retries, dead letters, replay, leases) and the
sale scheduler, driven step by step (no background threads)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from sqlalchemy import select, update

from boxoffice.db import now
from boxoffice.outbox.models import WebhookDelivery
from boxoffice.scheduler import emit_sale_transitions
from boxoffice.ticket_definitions.models import TicketDefinition
from boxoffice.webhooks import service as webhooks
from boxoffice.webhooks.signing import ensure_key
from boxoffice.webhooks.worker import Worker, WorkerSettings
from tests.helpers import TD, create_event, create_td, iso, utcnow


class Receiver:
    """A local HTTP endpoint that records bodies and answers with ``self.status``."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.bodies.append(body)
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, public_pem: str) -> list[dict]:
        out = []
        for b in self.bodies:
            claims = jwt.decode(b, public_pem, algorithms=["RS256"])
            env = json.loads(claims["data"])
            out.append({**env, "data": json.loads(env["data"]), "identity": json.loads(env["identity"]), "exp": claims["exp"]})
        return out


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def worker(database):
    w = Worker(database, WorkerSettings(max_attempts=3, backoff_base=0.001, backoff_cap=0.002))
    yield w
    w.close()


def public_key(database) -> str:
    with database.session(write=True) as s:
        return ensure_key(s).public_pem


def drain(worker, rounds: int = 20) -> None:
    for _ in range(rounds):
        if worker.run_once() == 0:
            return


def test_admin_api_manages_subscriptions(make_api):
    owner, app = make_api(identity="wix-user"), make_api(identity="app")
    # a public address (an IP literal: nothing is resolved, and no worker runs to send to it)
    r = owner.post("/boxoffice/v1/webhooks", {"url": "https://93.184.215.14/x", "eventTypes": ["wix.events.v3.ticket_definition_created"]})
    assert r.status_code == 200, r.text
    wid = r.json()["webhook"]["id"]
    listed = owner.get("/boxoffice/v1/webhooks").json()
    assert [w["id"] for w in listed["webhooks"]] == [wid] and "BEGIN PUBLIC KEY" in listed["publicKey"]
    assert app.get("/boxoffice/v1/webhooks").status_code == 403
    assert owner.post("/boxoffice/v1/webhooks", {"url": "ftp://x"}).status_code == 400
    assert owner.delete(f"/boxoffice/v1/webhooks/{wid}").status_code == 200
    assert owner.delete(f"/boxoffice/v1/webhooks/{wid}").status_code == 404


def test_signed_wix_envelopes_in_entity_order(api, database, receiver, worker):
    with database.session(write=True) as s:
        webhooks.add(s, "site-a", receiver.url, ["*"], allow_private=True)
    ev = create_event(api)
    td = create_td(api, ev["id"])
    for i in range(3):
        api.patch(f"{TD}/{td['id']}", {"ticketDefinition": {"revision": str(i + 1), "name": f"v{i + 2}"}})
    drain(worker)
    got = receiver.events(public_key(database))
    mine = [e for e in got if e["data"]["entityId"] == td["id"]]
    assert [e["eventType"] for e in mine] == ["wix.events.v3.ticket_definition_created"] + ["wix.events.v3.ticket_definition_updated"] * 3
    assert [e["data"]["entityEventSequence"] for e in mine] == ["1", "2", "3", "4"]
    assert mine[-1]["data"]["updatedEvent"]["currentEntity"]["name"] == "v4"
    assert all(e["instanceId"] == "site-a" and e["identity"]["identityType"] == "APP" for e in mine)
    assert len({e["data"]["id"] for e in got}) == len(got)
    assert mine[0]["exp"] > utcnow().timestamp()
    with database.session() as s:
        assert {d.status for d in s.scalars(select(WebhookDelivery))} == {"DELIVERED"}


def test_only_subscribed_event_types(api, database, receiver, worker):
    with database.session(write=True) as s:
        webhooks.add(s, "site-a", receiver.url, ["wix.events.v3.ticket_definition_deleted"], allow_private=True)
        webhooks.add(s, "site-b", receiver.url, ["*"], allow_private=True)
    ev = create_event(api)
    td = create_td(api, ev["id"])
    api.delete(f"{TD}/{td['id']}")
    drain(worker)
    assert [e["eventType"] for e in receiver.events(public_key(database))] == ["wix.events.v3.ticket_definition_deleted"]


def test_failures_back_off_then_dead_letter_then_replay(api, database, receiver, worker):
    with database.session(write=True) as s:
        webhooks.add(s, "site-a", receiver.url, ["wix.events.v3.event_created"], allow_private=True)
    receiver.status = 500
    create_event(api)
    for _ in range(10):
        worker.run_once()
        with database.session(write=True) as s:  # let the (tiny) backoff pass
            s.execute(update(WebhookDelivery).values(next_attempt_date=utcnow() - dt.timedelta(seconds=1)))
    with database.session() as s:
        d = s.scalars(select(WebhookDelivery)).one()
        assert d.status == "DEAD" and d.attempts == 3 and d.last_error == "HTTP 500"
    assert len(receiver.bodies) == 3
    receiver.status = 200
    with database.session(write=True) as s:
        assert webhooks.replay(s) == 1
    drain(worker)
    with database.session() as s:
        assert s.scalars(select(WebhookDelivery)).one().status == "DELIVERED"
    assert len(receiver.bodies) == 4 and len({json.loads(jwt.decode(b, options={"verify_signature": False})["data"])["data"] for b in receiver.bodies}) == 1


def test_a_crashed_workers_lease_expires_and_the_event_goes_again(api, database, receiver, worker):
    from boxoffice.webhooks.worker import claim

    with database.session(write=True) as s:
        webhooks.add(s, "site-a", receiver.url, ["wix.events.v3.event_created"], allow_private=True)
    create_event(api)
    jobs = database.write(lambda s: claim(s, now(), WorkerSettings(lease_seconds=30)))
    assert len(jobs) == 1  # ... and this worker dies before recording anything
    assert worker.run_once() == 0  # leased: nobody else takes it meanwhile
    with database.session(write=True) as s:
        s.execute(update(WebhookDelivery).values(lease_until=utcnow() - dt.timedelta(seconds=1)))
    drain(worker)
    assert len(receiver.bodies) == 1


def time_travel(database, td_id: str, **cols) -> None:
    with database.session(write=True) as s:
        s.execute(update(TicketDefinition).where(TicketDefinition.id == td_id).values(**cols))


def slugs(database, td_id: str) -> list[str]:
    from boxoffice.outbox.models import OutboxEvent

    with database.session() as s:
        return [o.slug for o in s.scalars(select(OutboxEvent).where(OutboxEvent.entity_id == td_id).order_by(OutboxEvent.position))]


def test_scheduler_emits_each_transition_once_and_catches_up(api, database):
    ev = create_event(api)
    t = utcnow()
    td = create_td(api, ev["id"], salePeriod={"startDate": iso(t + dt.timedelta(hours=1)), "endDate": iso(t + dt.timedelta(hours=2))})
    with database.session(write=True) as s:
        assert emit_sale_transitions(s, now()) == 0
    # everything was down while both boundaries passed: one of each when it returns
    past_start, past_end = t - dt.timedelta(minutes=10), t - dt.timedelta(minutes=5)
    time_travel(database, td["id"], sale_start=past_start, sale_end=past_end, next_sale_transition=past_start)
    with database.session(write=True) as s:
        assert emit_sale_transitions(s, now()) == 2
    with database.session(write=True) as s:
        assert emit_sale_transitions(s, now()) == 0
    assert slugs(database, td["id"]) == ["created", "sale_started", "sale_ended"]
    from boxoffice.outbox.models import OutboxEvent

    with database.session() as s:
        started = s.scalars(select(OutboxEvent).where(OutboxEvent.slug == "sale_started")).one()
        assert started.payload["actionEvent"]["body"]["ticketDefinition"]["id"] == td["id"]


def test_created_on_sale_emits_nothing_and_a_moved_period_replans(api, database):
    ev = create_event(api)
    t = utcnow()
    on_sale = create_td(api, ev["id"], salePeriod={"startDate": iso(t - dt.timedelta(days=1))})
    with database.session(write=True) as s:
        assert emit_sale_transitions(s, now()) == 0
    assert slugs(database, on_sale["id"]) == ["created"]
    later = create_td(api, ev["id"], name="Later", salePeriod={"startDate": iso(t + dt.timedelta(days=1))})
    # moved to a start in the past: the sale starts now, once
    r = api.patch(f"{TD}/{later['id']}", {"ticketDefinition": {"revision": "1", "salePeriod": {"startDate": iso(t - dt.timedelta(minutes=1))}}})
    assert r.status_code == 200
    with database.session(write=True) as s:
        assert emit_sale_transitions(s, now()) == 1
    assert slugs(database, later["id"]) == ["created", "updated", "sale_period_updated", "sale_started"]
