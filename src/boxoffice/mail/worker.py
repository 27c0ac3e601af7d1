"""The mail worker: sends what the mail outbox holds (``boxoffice serve`` runs it in a
thread unless BOXOFFICE_BACKGROUND=0; so does ``boxoffice worker``).

The same discipline as webhook delivery (``webhooks/worker.py``):

* a message is claimed with a lease (``lease_until``) in one short transaction
  (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so several workers never take the same
  row), composed and sent outside any transaction, and its outcome written in another,
  only while the lease is still ours;
* a worker killed mid-send leaves its lease, which expires; the message is sent again
  (at most once more per crash), with the same ``Message-ID``, so a mail client shows
  it once;
* a failure backs off exponentially with full jitter; after ``max_attempts`` the
  message is DEAD (``boxoffice orders resend-confirmation`` queues it anew). A refusal
  for good (the server refused the recipient) is DEAD at once. Nothing is ever dropped
  without a row saying why;
* the lease must cover the send (each is cut at ``timeout_seconds``): a claimed message
  is not started with less than 1.5 times that left of its lease; it is handed back.

:func:`send_due` is one round (claim, send each, record each), for tests and tools;
:class:`MailLoop` runs rounds until stopped, woken at once by a commit that queued mail.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from ..auth import cursor_secret
from ..db import Database, now
from .compose import Composer, Skip, check_recipient, compose
from .models import MailMessage, MailStatus
from .sender import DirSender, PermanentFailure, Sender, SmtpSender, parse_smtp_url

log = logging.getLogger("boxoffice.mail")

# Mail was committed: wakes the mail loop. In this process through the event (set after
# COMMIT); in the others through PostgreSQL NOTIFY on CHANNEL (app.py, cli.py listen).
CHANNEL = "boxoffice_mail"
committed = threading.Event()


def wake(_: set[str]) -> None:
    """The :class:`~boxoffice.listener.Listener` handler for CHANNEL."""
    committed.set()


@dataclass
class MailSettings:
    from_addr: str = "Boxoffice <boxoffice@localhost>"
    smtp_url: str = field(default="", repr=False)  # holds the password: never shown
    mail_dir: str = "./outbox-mail"
    templates_dir: str = ""
    public_url: str = "http://127.0.0.1:8000"
    secret: str = field(default="", repr=False)  # BOXOFFICE_SECRET, else the stored one
    timeout_seconds: float = 30.0  # total, per message
    lease_seconds: float = 300.0
    max_attempts: int = 12
    backoff_base: float = 30.0
    backoff_cap: float = 3600.0
    batch: int = 20
    idle_seconds: float = 1.0  # a commit that queued mail wakes the loop sooner

    @classmethod
    def from_settings(cls, settings: Any) -> MailSettings:
        return cls(
            from_addr=settings.mail_from,
            smtp_url=settings.smtp_url.get_secret_value(),
            mail_dir=settings.mail_dir,
            templates_dir=settings.mail_templates_dir,
            public_url=settings.public_url,
            secret=settings.secret,
            timeout_seconds=settings.mail_timeout_seconds,
            lease_seconds=settings.mail_lease_seconds,
            max_attempts=settings.mail_max_attempts,
            backoff_base=settings.mail_backoff_seconds,
        )

    def sender(self) -> Sender:
        """SMTP when BOXOFFICE_SMTP_URL is set, else .eml files in BOXOFFICE_MAIL_DIR."""
        if self.smtp_url:
            return SmtpSender(parse_smtp_url(self.smtp_url), self.timeout_seconds)
        return DirSender(self.mail_dir)

    def describe(self) -> str:
        return parse_smtp_url(self.smtp_url).describe() if self.smtp_url else f"the directory {self.mail_dir}"


@dataclass
class Job:
    id: str
    attempts: int
    lease_until: dt.datetime
    recipient: str


def backoff(attempts: int, s: MailSettings) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^attempts)]; at least a second."""
    return max(1.0, random.uniform(0, min(s.backoff_cap, s.backoff_base * 2**attempts)))


def _claimable(t: dt.datetime) -> Any:
    M = MailMessage
    return and_(M.status == MailStatus.PENDING, M.next_attempt_date <= t, or_(M.lease_until.is_(None), M.lease_until <= t))


def due_exists(session: Session, t: dt.datetime) -> bool:
    return session.execute(select(MailMessage.id).where(_claimable(t)).limit(1)).first() is not None


def claim(session: Session, t: dt.datetime, s: MailSettings, limit: int | None = None) -> list[Job]:
    """Lease up to ``limit`` due messages, oldest first; another worker's are skipped."""
    M = MailMessage
    rows = session.execute(
        select(M.id, M.attempts, M.recipient)
        .where(_claimable(t))
        .order_by(M.next_attempt_date, M.id)
        .limit(limit or s.batch)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return []
    lease = t + dt.timedelta(seconds=s.lease_seconds)
    session.execute(
        update(M).where(M.id.in_([r[0] for r in rows])).values(lease_until=lease).execution_options(synchronize_session=False)
    )
    return [Job(mid, attempts, lease, recipient) for mid, attempts, recipient in rows]


def _ours(job: Job) -> Any:
    return and_(MailMessage.id == job.id, MailMessage.lease_until == job.lease_until)


def record(session: Session, job: Job, s: MailSettings, t: dt.datetime, error: str | None,
           permanent: bool = False, skipped: bool = False, release: bool = False) -> None:
    """The outcome of one attempt, only if the lease is still ours (else another worker
    has the message now, and records it)."""
    stmt = update(MailMessage).where(_ours(job)).execution_options(synchronize_session=False)
    if release:
        session.execute(stmt.values(lease_until=None))
    elif skipped:
        session.execute(stmt.values(status=MailStatus.SKIPPED, lease_until=None, last_error=(error or "")[:500]))
    elif error is None:
        session.execute(stmt.values(status=MailStatus.SENT, sent_date=t, lease_until=None, last_error=None,
                                    attempts=job.attempts + 1))
    else:
        attempts = job.attempts + 1
        dead = permanent or attempts >= s.max_attempts
        session.execute(stmt.values(
            status=MailStatus.DEAD if dead else MailStatus.PENDING,
            attempts=attempts,
            last_error=error[:500],
            lease_until=None,
            next_attempt_date=t if dead else t + dt.timedelta(seconds=backoff(attempts, s)),
        ))


def _error(e: BaseException) -> str:
    return (f"{type(e).__name__}: {e}" if str(e) else type(e).__name__)[:500]


def send_due(db: Database, s: MailSettings, *, sender: Sender | None = None, t: dt.datetime | None = None,
             limit: int | None = None) -> int:
    """One round: claim what is due (at ``t``, default now), compose and send each,
    record each outcome as soon as it is known. Returns how many were sent."""
    at = t or now()
    if not db.read(lambda session: due_exists(session, at)):
        return 0
    jobs = db.write(lambda session: claim(session, at, s, limit))
    if not jobs:
        return 0
    sender = sender or s.sender()
    lease_ends = time.monotonic() + s.lease_seconds
    secret = db.read(lambda session: cursor_secret(session, s.secret))
    c = Composer(s.from_addr, s.public_url, s.templates_dir, secret)
    envelope_from = parseaddr(s.from_addr)[1] or s.from_addr
    sent = 0
    for i, job in enumerate(jobs):
        # each send is cut at timeout_seconds; one that could outlast the lease is not
        # started (the first always is: its lease has just begun)
        if i and lease_ends - time.monotonic() < 1.5 * s.timeout_seconds:  # hand the rest back
            _release(db, s, jobs[i:])
            break
        if _attempt(db, s, sender, c, envelope_from, job, None if t is None else at):
            sent += 1
    return sent


def _release(db: Database, s: MailSettings, jobs: list[Job]) -> None:
    def work(session: Session) -> None:
        for j in jobs:
            record(session, j, s, now(), None, release=True)

    db.write(work)


def _attempt(db: Database, s: MailSettings, sender: Sender, c: Composer, envelope_from: str, job: Job,
             t: dt.datetime | None) -> bool:
    """Compose, send and record one claimed message; True if it was sent."""
    error: str | None = None
    permanent = skipped = False

    def build(session: Session) -> EmailMessage:
        m = session.get(MailMessage, job.id)
        if m is None:
            raise Skip("the message is gone")
        return compose(session, m, c)

    try:
        recipient = check_recipient(job.recipient)
        sender.send(db.read(build), envelope_from, recipient)
    except Skip as e:
        skipped, error = True, str(e)
    except PermanentFailure as e:
        permanent, error = True, _error(e)
    except Exception as e:  # noqa: BLE001 - any failure is this message's: recorded, retried
        error = _error(e)
    done = t or now()
    db.write(lambda session: record(session, job, s, done, error, permanent, skipped))
    if skipped:
        log.info("mail %s not sent: %s", job.id, error)
    elif error is not None:
        given_up = permanent or job.attempts + 1 >= s.max_attempts
        log.warning("mail %s failed (attempt %d%s): %s", job.id, job.attempts + 1, ", given up" if given_up else "", error)
    return error is None


class MailLoop:
    """Runs :func:`send_due` until stopped (Background's mail thread)."""

    def __init__(self, db: Database, settings: MailSettings | None = None) -> None:
        self.db = db
        self.s = settings or MailSettings()
        if self.s.lease_seconds < 3 * self.s.timeout_seconds:
            log.warning("mail lease (%gs) is shorter than three times the send timeout (%gs): a slow server's "
                        "messages may be sent twice", self.s.lease_seconds, self.s.timeout_seconds)
        self.sender = self.s.sender()  # a bad BOXOFFICE_SMTP_URL fails here, at start
        log.info("mail: sending through %s", self.s.describe())

    def serve(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                n = send_due(self.db, self.s, sender=self.sender)
            except Exception:
                log.exception("mail round failed")
                stop.wait(1)
                continue
            if n:
                continue  # there may be more
            if committed.wait(self.s.idle_seconds):
                committed.clear()
