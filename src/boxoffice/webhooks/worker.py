"""The delivery worker and the scheduler (`boxoffice worker`, or inside `boxoffice serve`).

Delivery discipline:

* at least once: a delivery is claimed with a lease (``lease_until``) in one short
  transaction, sent outside any transaction, and its outcome written in another, but
  only while the lease is still ours. A worker killed mid-flight leaves leases that
  expire, and the deliveries go again (receivers drop duplicates by the event ``id``);
* per-entity order: a delivery is not claimed while an earlier delivery of the same
  entity to the same subscription is still pending (``entityEventSequence`` order);
* several workers at once on PostgreSQL: claims use ``FOR UPDATE SKIP LOCKED``; on
  SQLite run one worker (its writers are serialised anyway);
* failures back off exponentially with full jitter; after ``max_attempts`` the
  delivery is DEAD (``boxoffice webhooks replay`` sends it again).

Isolation (one receiver must not stall the others):

* the senders are coroutines on one event loop (aiohttp's client: one kept-alive
  connection pool per subscription), not threads: an attempt waiting on a receiver
  costs no thread, and a hanging receiver holds only its own subscription's slots;
* every attempt has a TOTAL deadline (``timeout_seconds``) over resolving, connecting,
  sending and the whole response (``asyncio.timeout`` around all of it), so however
  slowly a receiver drips bytes the attempt fails when the deadline passes, and its
  connection is closed;
* each outcome is recorded as soon as it is known (outcomes are batched by what
  finished in the last ``record_interval``), not when a whole round is done;
* at most ``per_subscription`` deliveries of one subscription are in flight in a
  worker, so one subscription cannot take all ``concurrency`` senders. A subscription
  whose last attempt succeeded may have more claimed ahead, as many as it answers in a
  quarter of the lease at its recent pace (at most half of ``batch``), so that a fast
  receiver is not paced by claim transactions; an unknown or failing one gets no more
  than it may have in flight. A failure pauses that subscription in this worker for a
  backoff of its own (its queued deliveries are handed back unattempted); it pushes
  only that delivery's ``next_attempt_date``.
* the destination's address is checked at send time (urlpolicy.py): a subscription
  may reach non-public addresses only if the operator allowed it.

Cost (bench/webhooks.py measures a worker against a bare client posting the same signed
bodies): the RSA signature, the largest part of a delivery's CPU, is made on a few
signer threads (cryptography releases the GIL while it signs, so signing runs beside
the event loop and the claims); the claim's statements are built once.

The scheduler emits ``sale_started`` / ``sale_ended`` once per definition per
transition (a definition remembers the boundary it emitted for, so a restart after
downtime emits exactly one catch-up event, and a moved sale period re-plans), and
expires overdue reservations.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
import yarl
from sqlalchemy import Table, and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from ..db import Database, now
from ..outbox.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from . import sending, signing, urlpolicy

log = logging.getLogger("boxoffice.worker")
# A receiver's answer is read (so that the connection can be kept alive) up to this
# many bytes; beyond it the connection is dropped. Only the status counts.
MAX_RESPONSE_BYTES = 64 * 1024
HEADERS = {"Content-Type": "text/plain", "User-Agent": "Boxoffice-Webhooks/1"}


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
    subscription_id: str = ""
    allow_private: bool = False


@dataclass
class WorkerSettings:
    batch: int = 200  # deliveries claimed and not yet recorded, per worker, at most
    concurrency: int = 32  # deliveries in flight per worker
    per_subscription: int = 4  # ... of which to one subscription
    lease_seconds: float = 30.0
    timeout_seconds: float = 5.0  # total, per attempt
    max_attempts: int = 8
    backoff_base: float = 1.0
    backoff_cap: float = 3600.0
    idle_sleep: float = 0.05  # first wait when nothing is due; doubles while idle...
    idle_max: float = 0.25  # ...up to this (a commit with deliveries wakes it at once)
    record_interval: float = 0.02  # outcomes are written at most this long after they are known
    allow_private_urls: bool = False  # BOXOFFICE_WEBHOOK_ALLOW_PRIVATE_URLS: send to any address

    @classmethod
    def from_settings(cls, settings: Any) -> WorkerSettings:
        return cls(
            concurrency=settings.webhook_concurrency,
            per_subscription=settings.webhook_per_subscription_concurrency,
            timeout_seconds=settings.webhook_timeout_seconds,
            lease_seconds=settings.webhook_lease_seconds,
            max_attempts=settings.webhook_max_attempts,
            backoff_base=settings.webhook_backoff_seconds,
            allow_private_urls=settings.webhook_allow_private_urls,
        )


def backoff(attempts: int, s: WorkerSettings) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^attempts)]."""
    return random.uniform(0, min(s.backoff_cap, s.backoff_base * 2**attempts))


# --- claiming: statements built once ---------------------------------------------------
#
# Every claim runs the same few statements. They are built here once, on the Core tables,
# with bound parameters: a statement built per call cost more CPU (constructing the
# expression, its cache key, the ORM's compile step) than the database spent running it.

_TABLE = cast(Table, WebhookDelivery.__table__)
_T = _TABLE.c
_SUBS = cast(Table, WebhookSubscription.__table__).c
_EVENTS = cast(Table, OutboxEvent.__table__).c
_EARLIER = _TABLE.alias("earlier")
_AT = bindparam("t", type_=_T.next_attempt_date.type)
_CLAIMABLE = and_(_T.status == "PENDING", _T.next_attempt_date <= _AT, or_(_T.lease_until.is_(None), _T.lease_until <= _AT))
# an earlier delivery of the same entity to the same subscription is still pending
_BLOCKED = exists().where(
    _EARLIER.c.subscription_id == _T.subscription_id,
    _EARLIER.c.entity_id == _T.entity_id,
    _EARLIER.c.id < _T.id,
    _EARLIER.c.status == "PENDING",
)
_EXCLUDED = _T.subscription_id.not_in(bindparam("exclude", expanding=True))
_DUE = {
    False: select(_T.id).where(_CLAIMABLE).limit(1),
    True: select(_T.id).where(_CLAIMABLE, _EXCLUDED).limit(1),
}


def _candidates(excluding: bool, after: bool) -> Any:
    stmt = select(_T.id, _T.subscription_id, _T.attempts).where(_CLAIMABLE, ~_BLOCKED)
    if excluding:
        stmt = stmt.where(_EXCLUDED)
    if after:
        stmt = stmt.where(_T.id > bindparam("after"))
    return stmt.order_by(_T.id).limit(bindparam("n")).with_for_update(skip_locked=True)


_CANDIDATES = {(e, a): _candidates(e, a) for e in (False, True) for a in (False, True)}
_LEASE = (
    update(_TABLE).where(_T.id.in_(bindparam("ids", expanding=True)))
    .values(lease_until=bindparam("lease", type_=_T.lease_until.type))
)
_JOBS = (
    select(_T.id, _SUBS.url, _SUBS.allow_private, _EVENTS.event_type, _EVENTS.site_id, _EVENTS.payload,
           _EVENTS.identity)
    .join(_SUBS.id.table, _SUBS.id == _T.subscription_id)
    .join(_EVENTS.position.table, _EVENTS.position == _T.outbox_position)
    .where(_T.id.in_(bindparam("ids", expanding=True)))
)


def due_exists(session: Session, t: dt.datetime, exclude: Collection[str] = ()) -> bool:
    params: dict[str, Any] = {"t": t}
    if exclude:
        params["exclude"] = sorted(exclude)
    return session.connection().execute(_DUE[bool(exclude)], params).first() is not None


def claim(
    session: Session,
    t: dt.datetime,
    s: WorkerSettings,
    *,
    limit: int | None = None,
    quota: Callable[[str], int] | None = None,
    exclude: Collection[str] = (),
) -> list[Job]:
    """Lease up to ``limit`` (``s.batch``) due deliveries, in id order, at most
    ``quota(subscription)`` (``s.per_subscription``) of any one subscription and none
    of the ``exclude``d ones.

    Candidates are read ``s.batch`` at a time (fewer when less is wanted), locked
    (``SKIP LOCKED``: another worker's claim is not waited for); a subscription that
    reaches its quota is left out of the next read, so that a long backlog of one
    subscription cannot hide the others' deliveries behind it."""
    conn = session.connection()
    limit = s.batch if limit is None else limit
    quota = quota or (lambda _: s.per_subscription)
    full: set[str] = set(exclude)
    taken: list[tuple[int, str, int]] = []
    counts: Counter[str] = Counter()
    after: int | None = None
    # read a little more than wanted (some may be over their subscription's quota), not
    # a whole batch for a handful
    n = min(s.batch, max(2 * limit, 16))
    for _ in range(4):
        if len(taken) >= limit:
            break
        params: dict[str, Any] = {"t": t, "n": n}
        if full:
            params["exclude"] = sorted(full)
        if after is not None:
            params["after"] = after
        rows = conn.execute(_CANDIDATES[bool(full), after is not None], params).all()
        for did, sub, attempts in rows:
            if sub in full:
                continue
            if counts[sub] >= quota(sub):
                full.add(sub)
                continue
            counts[sub] += 1
            taken.append((did, sub, attempts))
            if len(taken) >= limit:
                break
        if len(rows) < n:
            break
        after = rows[-1][0]
    if not taken:
        return []
    ids = [d for d, _, _ in taken]
    lease = t + dt.timedelta(seconds=s.lease_seconds)
    conn.execute(_LEASE, {"ids": ids, "lease": lease})
    info = {row[0]: row[1:] for row in conn.execute(_JOBS, {"ids": ids}).all()}
    jobs = []
    for did, sub, attempts in taken:
        if did in info:
            url, allow_private, event_type, site_id, payload, identity = info[did]
            jobs.append(Job(did, url, event_type, site_id, payload, identity, attempts, lease, sub, bool(allow_private)))
    return jobs


def log_failure(job: Job, error: str, max_attempts: int) -> None:
    """One structured line per failed attempt (logger ``boxoffice.worker``, WARNING): the
    subscription, delivery, event id and type, site, attempt and error, and whether it
    is now dead-lettered; the fields also as the record's attributes (for a JSON
    formatter). Never the body, its signature or a key (the URL neither: a receiver may
    keep a token in its query)."""
    attempt = job.attempts + 1
    dead = attempt >= max_attempts
    event_id = str(job.payload.get("id", ""))
    log.warning(
        "webhook delivery failed: subscription=%s event_id=%s event_type=%s delivery=%s site=%s attempt=%d/%d "
        "status=%s error=%s",
        job.subscription_id, event_id, job.event_type, job.id, job.site_id, attempt, max_attempts,
        "DEAD" if dead else "RETRY", error,
        extra={"subscription_id": job.subscription_id, "event_id": event_id, "event_type": job.event_type,
               "delivery_id": job.id, "site_id": job.site_id, "attempt": attempt, "max_attempts": max_attempts,
               "dead": dead, "error": error},
    )


@dataclass
class Outcome:
    job: Job
    error: str | None  # None: delivered
    release: bool = False  # not attempted: hand the lease back
    seconds: float = 0.0  # how long the attempt took
    t: dt.datetime = field(default_factory=now)
    finished: float = field(default_factory=time.monotonic)


@dataclass
class _Health:
    """What this worker knows of one subscription's receiver."""

    ok: bool = False  # its last attempt succeeded
    failures: int = 0  # consecutive failure episodes
    pace: float = 1.0  # seconds per attempt, moving average
    paused_until: float = 0.0  # monotonic; no claims for it before
    seen: float = field(default_factory=time.monotonic)


_DELIVERED = (
    update(_TABLE)
    .where(_T.id == bindparam("b_id"), _T.lease_until == bindparam("b_lease", type_=_T.lease_until.type))
    .values(status="DELIVERED", delivered_date=bindparam("b_t", type_=_T.delivered_date.type), last_error=None,
            lease_until=None, attempts=_T.attempts + 1)
)
_FAILED = (
    update(_TABLE)
    .where(_T.id == bindparam("b_id"), _T.lease_until == bindparam("b_lease", type_=_T.lease_until.type))
    .values(attempts=bindparam("b_attempts"), last_error=bindparam("b_error"), lease_until=None,
            status=bindparam("b_status"), next_attempt_date=bindparam("b_next", type_=_T.next_attempt_date.type))
)
_RELEASED = (
    update(_TABLE)
    .where(_T.id == bindparam("b_id"), _T.lease_until == bindparam("b_lease", type_=_T.lease_until.type))
    .values(lease_until=None)
)


class _Sub:
    """A subscription's sending state in this worker: its queue and connections (an
    aiohttp session, made on the event loop at its first attempt)."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.session: aiohttp.ClientSession | None = None
        self.queue: deque[Job] = deque()
        self.sending = 0
        self.used = time.monotonic()


class Worker:
    """Delivers the outbox.

    Sending: coroutines on one event loop (its own thread), at most ``concurrency`` in
    flight; each subscription has its own queue, at most ``per_subscription`` of its
    deliveries handed to the loop at a time, and its own connections (an aiohttp session,
    kept alive between deliveries). Each attempt runs under a total deadline. Claiming and recording
    happen in the caller's thread: :meth:`serve` (the loop `Background` runs) claims
    whenever there is room and records outcomes as they come; :meth:`run_once` is one
    synchronous claim-send-record round, for tests and tools.
    """

    def __init__(self, db: Database, settings: WorkerSettings | None = None) -> None:
        self.db = db
        self.s = settings or WorkerSettings()
        if self.s.lease_seconds < 2 * self.s.timeout_seconds:
            log.warning("webhook lease (%gs) is shorter than twice the timeout (%gs): a slow receiver's deliveries "
                        "may be sent twice", self.s.lease_seconds, self.s.timeout_seconds)
        key = db.write(signing.ensure_key)
        self.key_id, self.private_key = key.id, signing.load_private_key(key.private_pem)
        self._lock = threading.Lock()
        self._sent = threading.Condition(self._lock)  # notified when a send finishes
        self._held: Counter[str] = Counter()  # claimed and not yet recorded, per subscription
        self._held_total = 0
        self._sending = 0  # submitted, outcome not known yet
        self._done: deque[Outcome] = deque()
        self._health: dict[str, _Health] = {}
        self._subs: dict[tuple[str, bool], _Sub] = {}
        self._wake = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()  # on the loop
        self._found = False  # the last claim found deliveries (so the next skips the probe)
        self._committed = False
        self._closing = False
        self._serving = False  # serve() pauses a failing subscription; run_once() sends what it claimed
        self._recorded_subs: set[str] = set()  # subscriptions with outcomes recorded since the last claim
        self._resolver = ThreadPoolExecutor(4, thread_name_prefix="boxoffice-resolve")
        self._signers = ThreadPoolExecutor(min(4, os.cpu_count() or 1), thread_name_prefix="boxoffice-sign")
        # the senders' event loop, in a thread of its own
        self._loop = asyncio.new_event_loop()
        self._slots = asyncio.Semaphore(self.s.concurrency)  # deliveries in flight, all subscriptions
        self._loop_thread = threading.Thread(target=self._loop.run_forever, name="boxoffice-deliver", daemon=True)
        self._loop_thread.start()

    # --- sending (the event loop's thread) -------------------------------------------

    def _session(self, sub: _Sub) -> aiohttp.ClientSession:
        """The subscription's connections (on the loop): never shared with another
        subscription (nor across policies), at most as many as it may have in flight,
        resolved and checked by sending.Connector; no cookies kept, no redirect
        followed, no proxy from the environment, the answer not decompressed."""
        if sub.session is None:
            connector = sending.Connector(allow_private=sub.allow_private, resolver_pool=self._resolver,
                                            limit=self.s.per_subscription, keepalive_timeout=5.0)
            sub.session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False, auto_decompress=False,
                timeout=aiohttp.ClientTimeout(total=None), skip_auto_headers=("Accept", "Accept-Encoding"),
            )
        return sub.session

    def _sign(self, job: Job) -> bytes:
        env = signing.envelope(job.event_type, job.site_id, job.payload, job.identity)
        return signing.sign(self.key_id, self.private_key, env).encode()

    async def _attempt(self, job: Job, sub: _Sub) -> str | None:
        """None on success, else the error to record (never the body or the token)."""
        try:
            urlpolicy.parse(job.url)
            urlpolicy.check_literal(yarl.URL(job.url).raw_host or "", allow_private=sub.allow_private)
        except urlpolicy.Refused as e:
            return f"Refused: the URL {e.reason}"
        except urlpolicy.AddressRefused as e:
            return f"Refused: {e}"
        limit = self.s.timeout_seconds
        try:
            # the RSA signature (~1 ms of CPU) is made off the loop, on the signer threads:
            # cryptography releases the GIL while it signs, so it runs beside the loop
            # (and the claims) on another core, and the loop keeps sending meanwhile
            token = await asyncio.get_running_loop().run_in_executor(self._signers, self._sign, job)
            async with asyncio.timeout(limit):
                session = self._session(sub)
                async with session.post(job.url, data=token, headers=HEADERS, allow_redirects=False) as r:
                    got = 0
                    while chunk := await r.content.readany():
                        got += len(chunk)
                        if got > MAX_RESPONSE_BYTES:
                            r.close()  # not worth keeping: the connection goes
                            break
                    status = r.status
        except TimeoutError:
            return f"Timeout: no complete answer within {limit:g} s"
        except urlpolicy.AddressRefused as e:
            return f"Refused: {e}"
        except aiohttp.ClientConnectorDNSError as e:
            return f"ConnectError: {e.os_error}"[:500]
        except Exception as e:  # noqa: BLE001 - any failure is this delivery's, recorded and retried
            return (f"{type(e).__name__}: {e}" if str(e) else type(e).__name__)[:500]
        return None if 200 <= status < 300 else f"HTTP {status}"

    async def _run(self, job: Job, sub: _Sub) -> None:
        error: str | None = None
        release = True
        started = time.monotonic()
        try:
            async with self._slots:
                started = time.monotonic()
                with self._lock:
                    h = self._health.get(job.subscription_id)
                    paused = self._serving and h is not None and h.paused_until > started
                left = (job.lease_until - now()).total_seconds()
                # its receiver just failed, or the lease is nearly gone, or we are stopping:
                # hand it back unattempted
                if not (paused or self._closing or left < min(self.s.timeout_seconds, self.s.lease_seconds / 2)):
                    release = False
                    error = await self._attempt(job, sub)
        except BaseException as e:  # cancelled at close: recorded as failed, so it goes again
            error = error or f"{type(e).__name__}: interrupted"
            raise
        finally:
            self._finish(Outcome(job, error, release, seconds=time.monotonic() - started), sub)

    def _start(self, job: Job, sub: _Sub) -> None:
        # on the loop: keep a reference until it finishes (the loop keeps only a weak one)
        task = self._loop.create_task(self._run(job, sub))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _finish(self, o: Outcome, sub: _Sub) -> None:
        job = o.job
        with self._lock:
            self._done.append(o)
            self._sending -= 1
            sub.sending -= 1
            sub.used = o.finished
            if not o.release:
                h = self._health.setdefault(job.subscription_id, _Health())
                h.seen = o.finished
                h.pace = 0.8 * h.pace + 0.2 * o.seconds if h.ok or h.failures else o.seconds
                if o.error is None:
                    h.ok, h.failures, h.paused_until = True, 0, 0.0
                elif h.paused_until <= o.finished:
                    # a new failure episode (not one more of the attempts that were already
                    # in flight when the first failed): pause this subscription, for longer
                    # each time, 0.5-1 x min(cap, base * 2^(episode-1)), at most 2^5 x base
                    h.ok, h.failures = False, h.failures + 1
                    pause = min(self.s.backoff_cap, self.s.backoff_base * 2 ** (min(h.failures, 6) - 1))
                    h.paused_until = o.finished + pause * random.uniform(0.5, 1.0)
            self._dispatch(sub)
            self._sent.notify_all()
        self._wake.set()
        if o.error is not None and not o.release:
            log_failure(job, o.error, self.s.max_attempts)

    def _dispatch(self, sub: _Sub) -> None:
        """Hand ``sub``'s queued deliveries to the senders, at most per_subscription at a
        time (call with the lock held)."""
        while sub.queue and (self._closing or sub.sending < self.s.per_subscription):
            job = sub.queue.popleft()
            if self._closing:  # stopping: not attempted, handed back at the last flush
                self._done.append(Outcome(job, None, release=True))
                self._sending -= 1
                continue
            sub.sending += 1
            self._loop.call_soon_threadsafe(self._start, job, sub)

    def _submit(self, jobs: list[Job]) -> None:
        with self._lock:
            touched = []
            for job in jobs:
                self._held[job.subscription_id] += 1
                key = (job.subscription_id, job.allow_private or self.s.allow_private_urls)
                sub = self._subs.get(key)
                if sub is None:
                    sub = self._subs[key] = _Sub(key[1])
                sub.queue.append(job)
                touched.append(sub)
            self._held_total += len(jobs)
            self._sending += len(jobs)
            for sub in dict.fromkeys(touched):
                self._dispatch(sub)
            idle = [k for k, sub in self._subs.items() if not sub.sending and not sub.queue
                    and time.monotonic() - sub.used > 60]
            sessions = [sub.session for sub in (self._subs.pop(k) for k in idle) if sub.session is not None]
        for session in sessions:  # idle for a minute: its kept-alive connections are closed
            asyncio.run_coroutine_threadsafe(session.close(), self._loop)

    # --- claiming and recording (the caller's thread) --------------------------------

    def _quota(self, sub: str) -> int:
        """How many deliveries of ``sub`` this worker may hold (claimed, not recorded)."""
        s, h = self.s, self._health.get(sub)
        if h is None or not h.ok:
            return s.per_subscription
        ahead = int(s.per_subscription * (s.lease_seconds / 4) / max(h.pace, 0.001))
        return max(s.per_subscription, min(s.batch // 2, ahead))

    def pump(self) -> int:
        """Claim as many due deliveries as there is room for, and start sending them."""
        t = time.monotonic()
        with self._lock:
            room = self.s.batch - self._held_total
            paused = sorted((h.paused_until, sub) for sub, h in self._health.items() if h.paused_until > t)
            # (the longest pauses, if very many: any other is handed back unattempted at send)
            exclude = {sub for _, sub in paused[-1000:]}
            exclude |= {sub for sub, n in self._held.items() if n >= self._quota(sub)}
            quota = {sub: self._quota(sub) - n for sub, n in self._held.items()}
            if len(self._health) > 10_000:  # forget receivers not heard of for ten minutes
                for sub in [k for k, h in self._health.items() if t - h.seen > 600 and k not in self._held]:
                    del self._health[sub]
        if room <= 0:
            return 0
        # a worker with nothing to take writes nothing: when its last claim came back
        # empty it first looks (one read-only probe) before it claims (a write)
        if not self._found and not self.db.read(lambda s: due_exists(s, now(), exclude)):
            return 0

        def q(sub: str) -> int:
            return quota[sub] if sub in quota else self._quota(sub)

        self._recorded_subs.clear()

        jobs = self.db.write(lambda s: claim(s, now(), self.s, limit=room, quota=q, exclude=exclude))
        self._found = bool(jobs)
        if jobs:
            self._submit(jobs)
        return len(jobs)

    def flush(self) -> int:
        """Record every outcome known so far (one transaction); returns how many."""
        with self._lock:
            outcomes = list(self._done)
            self._done.clear()
        if not outcomes:
            return 0
        self._recorded_subs.update(o.job.subscription_id for o in outcomes)
        try:
            self.db.write(lambda s: self._record(s, outcomes))
        except BaseException:
            t = now()
            with self._lock:  # try again next time, while the leases last (then they go again anyway)
                self._done.extendleft(reversed([o for o in outcomes if o.job.lease_until > t]))
                self._forget([o for o in outcomes if o.job.lease_until <= t])
            raise
        with self._lock:
            self._forget(outcomes)
        return len(outcomes)

    def _forget(self, outcomes: list[Outcome]) -> None:
        for o in outcomes:
            sub = o.job.subscription_id
            self._held[sub] -= 1
            if self._held[sub] <= 0:
                del self._held[sub]
        self._held_total -= len(outcomes)

    def _record(self, session: Session, outcomes: list[Outcome]) -> None:
        # Only rows still under the lease we claimed them with: if it ran out and another
        # worker took a delivery again, that worker records it (at least once, never lost).
        conn = session.connection()
        ok, failed, released = [], [], []
        for o in outcomes:
            key = {"b_id": o.job.id, "b_lease": o.job.lease_until}
            if o.release:
                released.append(key)
            elif o.error is None:
                ok.append({**key, "b_t": o.t})
            else:
                attempts = o.job.attempts + 1
                dead = attempts >= self.s.max_attempts
                failed.append({
                    **key, "b_attempts": attempts, "b_error": o.error[:500], "b_status": "DEAD" if dead else "PENDING",
                    "b_next": o.t if dead else o.t + dt.timedelta(seconds=backoff(attempts, self.s)),
                })
        for stmt, params in ((_DELIVERED, ok), (_FAILED, failed), (_RELEASED, released)):
            if params:
                conn.execute(stmt, params)

    def poke(self, committed: bool = True) -> None:
        """Wake :meth:`serve` (deliveries were committed)."""
        self._committed = self._committed or committed
        self._wake.set()

    def serve(self, stop: threading.Event) -> None:
        """Claim, send and record until ``stop`` is set (Background's delivery thread).

        Outcomes are recorded ``record_interval`` after the first of them is known.
        A claim is made when deliveries were committed (woken at once), after recording
        when it is worth one (:meth:`_worth_claiming`), and otherwise every
        ``idle_sleep``..``idle_max`` (retries come due by the clock); while deliveries are
        held, at most one claim per ``record_interval``: a claim reads the due backlog,
        so many small ones would cost more than they bring."""
        s = self.s
        self._serving = True
        idle = s.idle_sleep
        look_at = 0.0  # look for due deliveries by this time anyway
        not_before = 0.0  # no claim before this time
        want = True
        while not stop.is_set():
            try:
                oldest = self._oldest_done()
                if oldest is not None and time.monotonic() - oldest >= s.record_interval:
                    self.flush()  # frees room, and unblocks each entity's next event
                    if self._worth_claiming():
                        want = True
                t = time.monotonic()
                if (want and t >= not_before) or t >= look_at:
                    n = self.pump()
                    idle = s.idle_sleep if n or want else min(idle * 2, s.idle_max)
                    want = False
                    t = time.monotonic()
                    look_at = t + idle
                    with self._lock:
                        not_before = t + s.record_interval if self._held_total else 0.0
            except Exception:
                log.exception("delivery round failed")
                stop.wait(1)
                continue
            wake_at = min(look_at, not_before) if want else look_at
            oldest = self._oldest_done()
            if oldest is not None:
                wake_at = min(wake_at, oldest + s.record_interval)
            if self._wake.wait(max(wake_at - time.monotonic(), 0.0)):
                self._wake.clear()
                if self._committed:
                    self._committed = False
                    want = True

    def _worth_claiming(self) -> bool:
        """After recording: claim if the senders may run dry, or a subscription that had
        outcomes recorded has used up half of what it may hold (or it was waiting on
        them: its next event per entity is claimable only now)."""
        with self._lock:
            if self._held_total <= self.s.concurrency:
                return True
            return any(self._held.get(sub, 0) <= self._quota(sub) // 2 for sub in self._recorded_subs)

    def _oldest_done(self) -> float | None:
        with self._lock:
            return self._done[0].finished if self._done else None

    def run_once(self) -> int:
        """One synchronous round: claim (at most ``per_subscription`` per subscription),
        send, wait for every outcome, record. Returns how many were claimed."""
        # An idle worker asks every `idle_sleep`: one read-only probe, not a write
        # transaction, so that waiting costs (almost) nothing.
        if not self.db.read(lambda s: due_exists(s, now())):
            return 0
        with self._lock:
            room = self.s.batch - self._held_total
        jobs = self.db.write(lambda s: claim(s, now(), self.s, limit=room))
        if not jobs:
            return 0
        self._submit(jobs)
        with self._sent:
            self._sent.wait_for(lambda: self._sending == 0)
        self.flush()
        return len(jobs)

    def close(self) -> None:
        """Let the attempts in flight finish (they are bounded by the deadline), hand
        back what was not attempted, record every outcome, close the connections."""
        self._closing = True
        with self._sent:
            self._sent.wait_for(lambda: self._sending == 0, timeout=self.s.timeout_seconds + 1)
        with self._lock:
            sessions = [sub.session for sub in self._subs.values() if sub.session is not None]
            self._subs.clear()

        async def shut() -> None:
            for task in list(self._tasks):  # past their deadline only if the loop was starved
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            for session in sessions:
                await session.close()

        try:
            asyncio.run_coroutine_threadsafe(shut(), self._loop).result(timeout=10)
        except Exception:
            log.exception("closing the webhook connections failed")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop_thread.join(timeout=10)
        if not self._loop.is_running():
            self._loop.close()
        self._resolver.shutdown(wait=False, cancel_futures=True)
        self._signers.shutdown(wait=False, cancel_futures=True)
        try:
            self.flush()
        except Exception:
            log.exception("recording the last outcomes failed (those deliveries go again after their lease)")
