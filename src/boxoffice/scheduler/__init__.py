"""The scheduler: what happens because time passed, not because someone asked.

* ``sale_started`` / ``sale_ended`` once per definition per transition (each definition
  remembers the boundary it emitted for, so downtime is caught up exactly once);
* ``event_started`` / ``event_ended`` / ``event_reminder`` (7 days, 3 days, 1 day, 2 hours,
  1 hour and 30 minutes before the start) of published events, the same way
  (``events.service.emit_lifecycle``: each event remembers the start and end it emitted
  for and how far its reminders are dealt with; after downtime started/ended go once,
  and of the reminders missed only the latest, only before the start);
* reservations past their hold expire (their seats already read as free: lazy expiry);
* pay-in-person orders past their hold are canceled and their seats go back on sale.

Each job is one unit of work of its own (a failure of one does not undo another), run
by :class:`Scheduler` every ``BOXOFFICE_TICK_SECONDS`` in ``boxoffice serve`` (by
default) or ``boxoffice worker``.
Delivering what these jobs write to the outbox is the webhook worker's business.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from .. import slices  # every slice, so that every hook is registered
from ..db import Database, now
from ..events import service as events
from ..identity import SYSTEM_IDENTITY
from ..orders import service as orders
from ..reservations import service as reservations
from ..ticket_definitions import service as tds
from ..ticket_definitions.models import TicketDefinition as TD

log = logging.getLogger("boxoffice.scheduler")
T = TypeVar("T")
__all__ = ["Scheduler", "emit_sale_transitions", "tick", "slices"]


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
            tds.emit_action(session, SYSTEM_IDENTITY, td, "sale_started")
            n += 1
        if td.sale_end is not None and td.sale_end <= t and td.sale_ended_for != td.sale_end:
            td.sale_ended_for = td.sale_end
            tds.emit_action(session, SYSTEM_IDENTITY, td, "sale_ended")
            n += 1
        tds.plan_sale_transitions(td, t, creating=False, was=None)
    return n


def sale_transitions_query(t: dt.datetime) -> Select[Any]:
    return select(TD.id).where(TD.next_sale_transition.is_not(None), TD.next_sale_transition <= t)


# (which rows mean work, do it): each probe an indexed query, each job a write unit of its own
JOBS: tuple[tuple[Callable[[dt.datetime], Select[Any]], Callable[[Session, dt.datetime], int]], ...] = (
    (sale_transitions_query, emit_sale_transitions),
    (events.lifecycle_due_query, events.emit_lifecycle),
    (reservations.overdue_query, reservations.release_overdue),
    (orders.overdue_offline_query, orders.release_overdue_offline),
)


def tick(db: Database) -> int:
    """One pass: every probe in ONE statement (``SELECT EXISTS(..), EXISTS(..), ..``),
    then each job that has work in a write unit of its own. Every serve and worker
    process ticks 5 times a second, so an idle pass is kept to one round trip: the four
    probes as four statements cost ~2.9 ms of CPU a pass (py-spy, issue 15)."""
    t = now()
    flags = db.read(lambda s: s.execute(select(*[probe(t).exists() for probe, _ in JOBS])).one())
    return sum(db.write(partial(_at_now, job)) for (_, job), due in zip(JOBS, flags, strict=True) if due)


def _at_now(fn: Callable[[Session, dt.datetime], T], session: Session) -> T:
    return fn(session, now())


class Scheduler:
    """:func:`tick` every ``tick_seconds`` in a daemon thread, until :meth:`stop`."""

    def __init__(self, db: Database, tick_seconds: float = 0.2) -> None:
        self.db, self.tick_seconds = db, tick_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="boxoffice-scheduler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            try:
                tick(self.db)
            except Exception:
                log.exception("scheduler pass failed")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)
