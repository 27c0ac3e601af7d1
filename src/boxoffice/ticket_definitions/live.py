"""Live ``unsoldCount``: Server-Sent Events on every change, without polling.

Any transaction that changes a definition's inventory or settings calls :func:`touch`.
The change is announced only once the transaction commits:

* PostgreSQL: ``pg_notify('boxoffice_td', id)`` inside the transaction (PostgreSQL
  delivers it at COMMIT, never on rollback), and every server process LISTENs, so a
  sale made by any process reaches the streams of all;
* SQLite (one process): an ``after_commit`` hook publishes in-process.

Streams re-read the count when told and send it if it changed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from ..db import Database, notify, now
from .models import TicketDefinition as TD

log = logging.getLogger("boxoffice.live")
CHANNEL = "boxoffice_td"


class Hub:
    """In-process fan-out from committed changes to the open streams."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]]] = defaultdict(set)

    def subscribe(self, td_id: str) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]:
        item = (asyncio.get_running_loop(), asyncio.Queue())
        with self._lock:
            self._subs[td_id].add(item)
        return item

    def unsubscribe(self, td_id: str, item: Any) -> None:
        with self._lock:
            self._subs[td_id].discard(item)
            if not self._subs[td_id]:
                del self._subs[td_id]

    def publish(self, td_ids: set[str]) -> None:
        with self._lock:
            targets = [item for i in td_ids for item in self._subs.get(i, ())]
        for loop, queue in targets:
            loop.call_soon_threadsafe(queue.put_nowait, "change")


hub = Hub()


def touch(session: Session, td_id: str, notified: bool = False) -> None:
    """Announce, once the transaction commits, that ``td_id`` changed. ``notified``: the
    caller's own statement already did ``pg_notify`` (see :func:`notify_returning`)."""
    touched: set[str] = session.info.setdefault("live_touched", set())
    if td_id in touched:
        return
    touched.add(td_id)
    if not notified and session.get_bind().dialect.name == "postgresql":
        notify(session, CHANNEL, td_id)


def notify_returning(id_column: Any) -> Any:
    """For ``UPDATE ... RETURNING`` on PostgreSQL: the NOTIFY :func:`touch` would send,
    sent by the update itself (one round trip less on the hottest path)."""
    return func.pg_notify(CHANNEL, id_column)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    touched = session.info.pop("live_touched", None)
    if touched and session.get_bind().dialect.name != "postgresql":
        hub.publish(touched)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("live_touched", None)


def snapshot(db: Database, site_id: str, td_id: str) -> dict[str, Any] | None:
    from . import service

    with db.session() as s:
        td = s.execute(select(TD.__table__).where(TD.id == td_id, TD.site_id == site_id)).first()
        if td is None:
            return None
        t = now()
        due = [td.id] if td.next_hold_expiry is not None and td.next_hold_expiry <= t else []
        left = service.unsold(td, service.overdue_holds(s, due, t).get(td.id, 0) if due else 0)
    return {"ticketDefinitionId": td_id, "unsoldCount": left, "soldOut": left == 0 if left is not None else False}


async def stream(db: Database, site_id: str, td_id: str, first: dict[str, Any], keepalive: float = 15.0) -> AsyncIterator[str]:
    """The event stream: the count now, then again each time it changes."""
    item = hub.subscribe(td_id)
    _, queue = item
    try:
        last = first
        yield f"data: {json.dumps(first)}\n\n"
        while True:
            try:
                await asyncio.wait_for(queue.get(), keepalive)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            while not queue.empty():  # a burst of changes: one fresh read
                queue.get_nowait()
            current = await asyncio.to_thread(snapshot, db, site_id, td_id)
            if current is None:
                yield "event: deleted\ndata: {}\n\n"
                return
            if current != last:
                last = current
                yield f"data: {json.dumps(current)}\n\n"
    finally:
        hub.unsubscribe(td_id, item)
