"""Live ``unsoldCount``: Server-Sent Events on every change, without polling.

Any transaction that changes a definition's inventory or settings calls :func:`touch`.
The change is announced only once the transaction commits:

* PostgreSQL: ``pg_notify('boxoffice_td', id)`` inside the transaction (PostgreSQL
  delivers it at COMMIT, never on rollback), and every server process LISTENs, so a
  sale made by any process reaches the streams of all;
* SQLite (one process): an ``after_commit`` hook publishes in-process.

Fan-out: the streams of one definition in one process share a :class:`Channel`. Told of
a change, the channel reads the count ONCE (off the event loop; a burst of changes is
one read, at most one every :data:`MIN_INTERVAL`) and, if it changed, encodes the
message once and wakes every stream, which sends those same bytes. So a sale costs a
process one read per watched definition, however many streams watch it. A stream holds
no queue: it waits on the channel's version and, woken, sends the latest message (a
slow client skips the ones it missed; nothing piles up for it). A new stream gets the
channel's message without a read while it is current, or shares the one read
concurrent newcomers wait for. At most ``settings.live_max_streams`` streams are open
per process; the next is answered 503.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import threading
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import Database, after_commit, notify, now
from . import inventory
from .models import TicketDefinition as TD

log = logging.getLogger("boxoffice.live")
CHANNEL = inventory.LIVE_CHANNEL

KEEPALIVE = 15.0  # seconds of silence before a stream sends a comment line
MIN_INTERVAL = 0.05  # a channel reads at most this often: a burst of changes is one read
RETRY_READ = 1.0  # a channel whose read failed tries again after this long
RETRY_AFTER = 5  # seconds, in the Retry-After of a 503 when every stream slot is taken
KEEPALIVE_MESSAGE = b": keep-alive\n\n"
DELETED_MESSAGE = b"event: deleted\ndata: {}\n\n"


class Snapshot(dict):
    """The message a stream sends, and when it goes stale by itself (``stale_at``: a hold
    expires then, which frees seats without any commit announcing it)."""

    stale_at: dt.datetime | None = None


def snapshot(db: Database, site_id: str, td_id: str) -> Snapshot | None:
    """The count now (one short read transaction); None if there is no such definition."""
    def read(s: Session) -> tuple[Any, int | None] | None:
        td = s.execute(select(TD.__table__).where(TD.id == td_id, TD.site_id == site_id)).first()
        if td is None:
            return None
        t = now()
        due = inventory.due([td], t)
        return td, inventory.unsold(td, inventory.overdue_holds(s, due, t).get(td.id, 0) if due else 0)

    found = db.read(read)
    if found is None:
        return None
    td, left = found
    snap = Snapshot(ticketDefinitionId=td_id, unsoldCount=left, soldOut=inventory.sold_out(left))
    snap.stale_at = td.next_hold_expiry
    return snap


class Channel:
    """One definition's live count in one event loop: the last snapshot, encoded once,
    and the version streams wait on. Lives while a stream (or a stream being opened)
    holds it. Every method runs on the channel's loop, except :meth:`Hub.publish`'s hop."""

    def __init__(self, hub: Hub, key: tuple[Any, ...], db: Database, site_id: str, td_id: str) -> None:
        self.hub, self.key, self.db, self.site_id, self.td_id = hub, key, db, site_id, td_id
        self.loop = asyncio.get_running_loop()
        self.refs = 0
        self.loaded = False  # a read has succeeded
        self.value: Snapshot | None = None
        self.message = b""
        self.version = 0  # bumped when the message changes
        self.deleted = False
        self.dirty = False  # a change was announced that no read has started after
        self.reading = False
        self.started = self.finished = 0  # reads
        self.error: BaseException | None = None  # of the last read
        self.fresh_until = -math.inf  # loop time: the cached value goes stale by itself then
        self._last_read = -math.inf
        self._reader: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._changed: asyncio.Future[None] = self.loop.create_future()  # resolved at the next version
        self._read: asyncio.Future[None] = self.loop.create_future()  # resolved when a read ends

    # --- told of changes ------------------------------------------------------------

    def changed(self) -> None:
        """A change committed (or a hold expired): read again, soon, once."""
        self.dirty = True
        if self._reader is None and self.refs:
            self._reader = self.loop.create_task(self._read_loop())

    async def _read_loop(self) -> None:
        loop = self.loop
        try:
            while self.dirty and self.refs:
                wait = self._last_read + MIN_INTERVAL - loop.time()
                if wait > 0:  # changes that come meanwhile join this read
                    await asyncio.sleep(wait)
                    if not self.refs:
                        break
                self.dirty, self.reading = False, True
                self.started += 1
                self._last_read = loop.time()
                try:
                    value = await asyncio.to_thread(snapshot, self.db, self.site_id, self.td_id)
                except Exception as e:
                    self.error = e
                    log.warning("live count of %s: read failed: %s", self.td_id, e)
                    if self.loaded:  # streams are open: try again later; they keep the last count
                        self.dirty = True
                        self._last_read = loop.time() + RETRY_READ - MIN_INTERVAL
                else:
                    self.error = None
                    self._set(value)
                finally:
                    self.reading = False
                    self.finished += 1
                    done, self._read = self._read, loop.create_future()
                    done.set_result(None)
        finally:
            self._reader = None

    def _set(self, value: Snapshot | None) -> None:
        first, self.loaded = not self.loaded, True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        stale_at = value.stale_at if value is not None else None
        if stale_at is None:
            self.fresh_until = math.inf
        else:
            delay = (stale_at - now()).total_seconds()
            self.fresh_until = self.loop.time() + delay
            if delay > 0:  # a hold expires then: its seats come back without a commit
                self._timer = self.loop.call_later(delay + 0.01, self.changed)
        if not first and value == self.value:
            return
        self.value = value
        if value is None:
            self.deleted = True
            self.message = DELETED_MESSAGE
        else:
            self.message = f"data: {json.dumps(value)}\n\n".encode()
        self.version += 1
        woken, self._changed = self._changed, self.loop.create_future()
        woken.set_result(None)

    # --- streams ----------------------------------------------------------------------

    async def current(self) -> Snapshot | None:
        """The count for a new stream: the cached one while current, else the result of
        a read that covers every change announced before the call (shared by everyone
        asking meanwhile). Raises if that read failed and nothing was ever read."""
        if self.loaded and not self.dirty and not self.reading and self.loop.time() < self.fresh_until:
            return self.value
        if self.reading and not self.dirty:
            need = self.started  # the read in flight started after the last change announced
        else:
            need = self.started + 1  # a read that starts after now
            self.changed()
        while self.finished < need:
            await asyncio.wait((self._read,))  # never cancels the shared future
        if self.error is not None and not self.loaded:
            raise self.error
        return self.value

    async def wait(self, version: int, timeout: float) -> bool:
        """Until the version moves past ``version`` (True) or ``timeout`` passes (False)."""
        if self.version != version:
            return True
        done, _ = await asyncio.wait((self._changed,), timeout=timeout)
        return bool(done)

    def release(self) -> None:
        self.refs -= 1
        if self.refs == 0:
            self.hub._drop(self)
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None


class Stream:
    """One open stream: a slot of the process's stream cap and a hold on its channel.
    :meth:`close` gives both back (once, however often it is called)."""

    def __init__(self, hub: Hub, channel: Channel) -> None:
        self.hub, self.channel = hub, channel  # Hub.open took the slot and the hold
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.channel.release()
            self.hub._free_slot()

    async def first(self) -> Snapshot | None:
        """The count to start with (see :meth:`Channel.current`). None when there is no
        such definition: the stream is closed then, as it is when this raises."""
        try:
            value = await self.channel.current()
        except BaseException:
            self.close()
            raise
        if value is None:
            self.close()
        return value

    async def events(self, keepalive: float | None = None) -> AsyncIterator[bytes]:
        """The count now, then again each time it changes; a comment line after
        ``keepalive`` seconds of silence; ``event: deleted`` and the end when the
        definition is gone. The bytes sent are the channel's, shared by every stream."""
        ch = self.channel
        try:
            keepalive = KEEPALIVE if keepalive is None else keepalive
            version, sent = ch.version, ch.message
            yield sent
            while not ch.deleted:
                if not await ch.wait(version, keepalive):
                    yield KEEPALIVE_MESSAGE
                    continue
                version = ch.version  # the latest: versions a slow client missed are skipped
                if ch.message != sent:
                    sent = ch.message
                    yield sent
        finally:
            self.close()


class Hub:
    """In-process fan-out from committed changes to the channels of the open streams."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # td_id -> (loop, db, site_id, td_id) -> channel
        self._channels: dict[str, dict[tuple[Any, ...], Channel]] = {}
        self.streams = 0  # open (or opening) in this process

    def open(self, db: Database, site_id: str, td_id: str, limit: int) -> Stream | None:
        """A stream slot and its channel, or None when ``limit`` streams are open."""
        key = (asyncio.get_running_loop(), db, site_id, td_id)
        with self._lock:
            if self.streams >= limit:
                return None
            chans = self._channels.setdefault(td_id, {})
            ch = chans.get(key)
            if ch is None:
                ch = chans[key] = Channel(self, key, db, site_id, td_id)
            self.streams += 1
            ch.refs += 1  # taken under the lock: a channel in the map always has a holder
        return Stream(self, ch)

    def _free_slot(self) -> None:
        with self._lock:
            self.streams -= 1

    def _drop(self, ch: Channel) -> None:
        with self._lock:
            chans = self._channels.get(ch.td_id)
            if chans is not None and chans.get(ch.key) is ch:
                del chans[ch.key]
                if not chans:
                    del self._channels[ch.td_id]

    def publish(self, td_ids: set[str]) -> None:
        """These definitions changed (committed): any thread. One wake-up per channel."""
        with self._lock:
            targets = [ch for i in td_ids for ch in self._channels.get(i, {}).values()]
        for ch in targets:
            try:
                ch.loop.call_soon_threadsafe(ch.changed)
            except RuntimeError:  # that loop has closed: its streams are gone
                pass


hub = Hub()


def touch(session: Session, td_id: str, notified: bool = False) -> None:
    """Announce, once this unit of work commits, that ``td_id``'s counts or settings
    changed. PostgreSQL: a NOTIFY in the transaction (delivered at COMMIT to every
    process's Listener); ``notified``: the caller's own statement already sent it (the
    seat take). SQLite (one process): published in-process after COMMIT."""
    touched: set[str] = session.info.setdefault("live_touched", set())
    if td_id in touched:
        return
    touched.add(td_id)
    if session.get_bind().dialect.name == "postgresql":
        if not notified:
            notify(session, CHANNEL, td_id)
    else:
        after_commit(session, "live.publish", lambda: hub.publish(touched))
