"""Group commit: concurrent calls of one write method share one transaction (the one
documented exception to "one request, one unit of work"; see db.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


class GroupCommit(Generic[In, Out]):
    """Group commit: concurrent calls of one write method share one transaction.

    Why: when thousands of buyers want the same ticket definition, a transaction per
    call pays its own BEGIN, statements, COMMIT and WAL flush, and (PostgreSQL) holds
    the definition's row lock through all of it, so calls go single file however many
    cores there are. Here calls queue, and ONE thread per process runs whatever has
    queued as one batch through ``run`` while the next batch forms behind it: a lone
    call goes at once (no timer), a crowd is served in a few transactions.

    ``run(items)`` returns one outcome per item, in order: a value, or the exception
    that item's caller receives (a refusal of one call must not write or refuse its
    neighbours; ``run`` decides each before writing any). If ``run`` itself raises,
    every item is run again alone, so one bad call cannot fail the others.

    ``linger`` (seconds; default BOXOFFICE_GROUP_COMMIT_LINGER_MS): under load (the
    previous batch had more than one call) a batch waits this long for more calls
    before it starts; a lone call never waits. Off by default: bench/flash_sale.py
    --lingers measures it (README, Benchmarks).
    """

    def __init__(
        self,
        run: Callable[[list[In]], list[Out | BaseException]],
        name: str,
        max_batch: int = 128,
        linger: float | None = None,
    ) -> None:
        self.run, self.max_batch = run, max_batch
        if linger is None:
            from .config import get_settings

            linger = get_settings().group_commit_linger_ms / 1000
        self.linger = linger
        self._last = 0  # size of the previous batch
        self._queue: deque[tuple[In, asyncio.Future[Out], asyncio.AbstractEventLoop]] = deque()
        self._lock = threading.Lock()
        self._busy = False
        self._name = name
        self._thread: ThreadPoolExecutor | None = None

    async def __call__(self, item: In) -> Out:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Out] = loop.create_future()
        with self._lock:
            self._queue.append((item, fut, loop))
            start, self._busy = not self._busy, True
            if start:
                if self._thread is None:
                    self._thread = ThreadPoolExecutor(1, thread_name_prefix=self._name)
                self._thread.submit(self._drain)
        return await fut

    def _drain(self) -> None:
        try:
            while True:
                with self._lock:
                    if not self._queue:
                        self._busy = False
                        return
                    wait = self.linger > 0 and self._last > 1 and len(self._queue) < self.max_batch
                if wait:
                    time.sleep(self.linger)
                with self._lock:
                    batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
                self._last = len(batch)
                outcomes = self._outcomes([item for item, _, _ in batch])
                by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Out], Any]]] = {}
                for (_, fut, loop), outcome in zip(batch, outcomes, strict=True):
                    by_loop.setdefault(loop, []).append((fut, outcome))
                for loop, settled in by_loop.items():  # one wake-up per loop, not per call
                    try:
                        loop.call_soon_threadsafe(_settle, settled)
                    except RuntimeError:  # that loop has closed: nobody waits for these any more
                        pass
        except BaseException:
            with self._lock:  # the next call starts a new drain
                self._busy = False
            raise

    def _outcomes(self, items: list[In]) -> list[Out | BaseException]:
        try:
            return self.run(items)
        except Exception as e:
            if len(items) == 1:
                return [e]
            return [self._outcomes([item])[0] for item in items]

    def close(self) -> None:
        """Wait for the batch in hand (callers still waiting keep their answers)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.shutdown(wait=True)


def _settle(settled: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for fut, outcome in settled:
        if fut.done():  # the caller went away (client disconnected)
            continue
        if isinstance(outcome, BaseException):
            fut.set_exception(outcome)
        else:
            fut.set_result(outcome)
