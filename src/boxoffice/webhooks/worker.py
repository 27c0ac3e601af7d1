"""The delivery worker and the scheduler (`boxoffice worker`, or inside `boxoffice serve`).

Delivery discipline:

* at least once: a delivery is claimed with a lease (``lease_until``) in one short
  transaction, sent outside any transaction, and its outcome written in another. A
  worker killed mid-batch leaves leases that expire, and the deliveries go again
  (receivers drop duplicates by the event ``id``);
* per-entity order: a delivery is not claimed while an earlier delivery of the same
  entity to the same subscription is still pending (``entityEventSequence`` order);
* several workers at once on PostgreSQL: claims use ``FOR UPDATE SKIP LOCKED``; on
  SQLite run one worker (its writers are serialised anyway);
* failures back off exponentially with full jitter; after ``max_attempts`` the
  delivery is DEAD (``boxoffice webhooks replay`` sends it again).

The scheduler emits ``sale_started`` / ``sale_ended`` once per definition per
transition (a definition remembers the boundary it emitted for, so a restart after
downtime emits exactly one catch-up event, and a moved sale period re-plans), and
expires overdue reservations.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from ..db import Database, now
from ..reservations.service import overdue_exists, release_overdue
from ..ticket_definitions import service as tds
from ..ticket_definitions.models import TicketDefinition as TD
from . import outbox, signing
from .models import OutboxEvent, WebhookDelivery, WebhookSubscription

log = logging.getLogger("boxoffice.worker")
SYSTEM = {"identityType": "APP", "appId": "boxoffice"}


@dataclass
class Job:
    id: int
    url: str
    event_type: str
    site_id: str
    payload: dict[str, Any]
    identity: dict[str, Any]
    attempts: int
    lease_until: dt.datetime


@dataclass
class WorkerSettings:
    batch: int = 200
    concurrency: int = 32
    lease_seconds: float = 30.0
    timeout_seconds: float = 5.0
    max_attempts: int = 8
    backoff_base: float = 1.0
    backoff_cap: float = 3600.0
    idle_sleep: float = 0.05  # first wait when nothing is due; doubles while idle...
    idle_max: float = 0.25  # ...up to this (a commit with deliveries wakes it at once)

    @classmethod
    def from_settings(cls, settings: Any) -> WorkerSettings:
        return cls(
            concurrency=settings.webhook_concurrency,
            timeout_seconds=settings.webhook_timeout_seconds,
            lease_seconds=settings.webhook_lease_seconds,
            max_attempts=settings.webhook_max_attempts,
            backoff_base=settings.webhook_backoff_seconds,
        )


def backoff(attempts: int, s: WorkerSettings) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^attempts)]."""
    return random.uniform(0, min(s.backoff_cap, s.backoff_base * 2**attempts))


def due_exists(session: Session, t: dt.datetime) -> bool:
    D = WebhookDelivery
    probe = select(D.id).where(D.status == "PENDING", D.next_attempt_date <= t).limit(1)
    return session.execute(probe).first() is not None


def claim(session: Session, t: dt.datetime, s: WorkerSettings) -> list[Job]:
    D = WebhookDelivery
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        earlier.subscription_id == D.subscription_id,
        earlier.entity_id == D.entity_id,
        earlier.id < D.id,
        earlier.status == "PENDING",
    )
    rows = list(
        session.scalars(
            select(D)
            .where(D.status == "PENDING", D.next_attempt_date <= t, or_(D.lease_until.is_(None), D.lease_until <= t), ~blocked)
            .order_by(D.id)
            .limit(s.batch)
            .with_for_update(skip_locked=True)
        )
    )
    if not rows:
        return []
    lease = t + dt.timedelta(seconds=s.lease_seconds)
    for d in rows:
        d.lease_until = lease
    info = {
        d.id: (sub_url, ev)
        for d, sub_url, ev in session.execute(
            select(D, WebhookSubscription.url, OutboxEvent)
            .join(WebhookSubscription, WebhookSubscription.id == D.subscription_id)
            .join(OutboxEvent, OutboxEvent.position == D.outbox_position)
            .where(D.id.in_([d.id for d in rows]))
        ).all()
    }
    return [
        Job(d.id, info[d.id][0], info[d.id][1].event_type, info[d.id][1].site_id, info[d.id][1].payload,
            info[d.id][1].identity, d.attempts, lease)
        for d in rows
        if d.id in info
    ]


class Worker:
    """Delivers the outbox; ``run_once`` is one claim-send-record round."""

    def __init__(self, db: Database, settings: WorkerSettings | None = None) -> None:
        self.db = db
        self.s = settings or WorkerSettings()
        self.http = httpx.Client(timeout=self.s.timeout_seconds, follow_redirects=False)
        self.pool = ThreadPoolExecutor(self.s.concurrency, thread_name_prefix="boxoffice-deliver")
        with db.session(write=True) as session:
            key = signing.ensure_key(session)
        self.key_id, self.private_key = key.id, signing.load_private_key(key.private_pem)

    def _send(self, job: Job) -> str | None:
        """None on success, else the error to record."""
        env = signing.envelope(job.event_type, job.site_id, job.payload, job.identity)
        token = signing.sign(self.key_id, self.private_key, env)
        try:
            r = self.http.post(job.url, content=token, headers={"Content-Type": "text/plain"})
        except httpx.HTTPError as e:
            return f"{type(e).__name__}: {e}"[:500]
        return None if 200 <= r.status_code < 300 else f"HTTP {r.status_code}"

    def run_once(self) -> int:
        # An idle worker asks every `idle_sleep`: one read-only probe, not a write
        # transaction, so that waiting costs (almost) nothing.
        with self.db.session() as s:
            if not due_exists(s, now()):
                return 0
        jobs = self.db.write(lambda s: claim(s, now(), self.s))
        if not jobs:
            return 0
        leases = jobs[0].lease_until
        results = list(self.pool.map(self._send, jobs))
        t = now()

        def record(session: Session) -> None:
            # Only rows still under this round's lease: if it ran out and another worker
            # took a delivery again, that worker records it (at least once, never lost).
            lease = WebhookDelivery.lease_until == leases
            ok = [job.id for job, err in zip(jobs, results, strict=True) if err is None]
            if ok:
                session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id.in_(ok), lease)
                    .values(status="DELIVERED", delivered_date=t, last_error=None, lease_until=None,
                            attempts=WebhookDelivery.attempts + 1)
                    .execution_options(synchronize_session=False)
                )
            for job, err in zip(jobs, results, strict=True):
                if err is None:
                    continue
                attempts = job.attempts + 1
                dead = attempts >= self.s.max_attempts
                session.execute(
                    update(WebhookDelivery)
                    .where(WebhookDelivery.id == job.id, lease)
                    .values(
                        attempts=attempts,
                        last_error=err,
                        lease_until=None,
                        status="DEAD" if dead else "PENDING",
                        next_attempt_date=t if dead else t + dt.timedelta(seconds=backoff(attempts, self.s)),
                    )
                    .execution_options(synchronize_session=False)
                )

        self.db.write(record)
        return len(jobs)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.http.close()


# --- scheduler -------------------------------------------------------------------------


def emit_sale_transitions(session: Session, t: dt.datetime, limit: int = 500) -> int:
    """sale_started / sale_ended for every definition whose boundary has passed."""
    due = list(
        session.scalars(
            select(TD)
            .where(TD.next_sale_transition.is_not(None), TD.next_sale_transition <= t)
            .order_by(TD.next_sale_transition, TD.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    n = 0
    for td in due:
        if td.sale_start is not None and td.sale_started_for != td.sale_start and td.sale_start <= t:
            td.sale_started_for = td.sale_start
            tds.emit_action(session, SYSTEM, td, "sale_started")
            n += 1
        if td.sale_end is not None and td.sale_ended_for != td.sale_end and td.sale_end <= t:
            td.sale_ended_for = td.sale_end
            tds.emit_action(session, SYSTEM, td, "sale_ended")
            n += 1
        tds.plan_sale_transitions(td, t, creating=False, was=None)
    return n


def tick(db: Database) -> int:
    """One scheduler pass: sale transitions, then overdue reservations."""
    n = db.write(lambda s: emit_sale_transitions(s, now()))
    with db.session() as s:
        due = overdue_exists(s, now())
    if due:
        n += db.write(lambda s: release_overdue(s, now()))
    return n


def scheduler_due(session: Session, t: dt.datetime) -> bool:
    return session.scalars(select(TD.id).where(and_(TD.next_sale_transition.is_not(None), TD.next_sale_transition <= t)).limit(1)).first() is not None


class Background:
    """The worker and the scheduler as daemon threads (serve runs one of these; so does
    `boxoffice worker`)."""

    def __init__(self, db: Database, tick_seconds: float = 0.2, settings: WorkerSettings | None = None) -> None:
        self.db, self.tick_seconds = db, tick_seconds
        self.worker = Worker(db, settings)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._deliver, name="boxoffice-worker", daemon=True),
            threading.Thread(target=self._schedule, name="boxoffice-scheduler", daemon=True),
        ]
        for th in self._threads:
            th.start()

    def _deliver(self) -> None:
        s = self.worker.s
        idle = s.idle_sleep
        while not self._stop.is_set():
            try:
                if self.worker.run_once():
                    idle = s.idle_sleep
                    continue
            except Exception:
                log.exception("delivery round failed")
                self._stop.wait(1)
                continue
            if outbox.committed.wait(idle):
                outbox.committed.clear()
                idle = s.idle_sleep
            else:  # retries come due by the clock: keep looking, less often
                idle = min(idle * 2, s.idle_max)

    def _schedule(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            try:
                with self.db.session() as s:
                    work = scheduler_due(s, now()) or overdue_exists(s, now())
                if work:
                    tick(self.db)
            except Exception:
                log.exception("scheduler pass failed")

    def stop(self) -> None:
        self._stop.set()
        outbox.committed.set()
        for th in self._threads:
            th.join(timeout=15)
        self.worker.close()
