"""How `boxoffice serve --workers N` (uvicorn) shares connections between its workers.

uvicorn's workers share one listening socket. A connection goes to whichever worker's
event loop accepts first, and a loop accepts every connection waiting when it wakes.
Connections that arrive together while the workers are idle (a reverse proxy or a
client filling its keep-alive pool) all land on one worker while the others idle.

:class:`SharingHttpTools` pauses the accepting worker for 1 ms after a connection is
accepted (under uvloop, before the next accept), so that another worker, woken by the
same arrival, takes the next. libuv had a switch for a gentler form of this
(``UV_TCP_SINGLE_ACCEPT``: a nanosleep after each accept); the libuv in uvloop here no
longer has it. The pause blocks the worker's loop, so it is bounded: at most
:data:`PAUSES_PER_SECOND` of :data:`PAUSE_S` each per worker in a one-second window,
~1 % of the loop's time sustained and ~2 % in the worst second (a review measured
~1.13 ms a sleep and 19 pauses inside one second across a window's edge). With one
worker it is not used. Under the plain asyncio loop the constructors run after the whole
burst is accepted, so it spreads less there (uvloop is what `serve` runs on Linux).

The trade, measured by a review: a new connection waits ~1 ms more before its first
request is read (p50 0.8 -> 1.8 ms, one connection at a time), and a burst of 20 pauses
the accepting worker ~11-13 ms in all (the burst's median latency 4.5 -> 10.6 ms);
requests on open keep-alive connections showed no difference beyond this machine's noise.
What it buys (``bench/worker_balance.py``, 2 workers, N connections at once from one
client, 20 rounds; README "Benchmarks"): every worker got a connection in 20/20 rounds at
N = 2, 4 and 8, against 0/20, 3/20 and 4/20 with plain httptools. A busy or stopped
worker still does not accept (nothing is handed to it), which the reverted hand-off lost.
A better form would pause only while the listening socket's accept queue is not empty,
and only until another worker has taken one."""

from __future__ import annotations

import time
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

PAUSE_S = 0.001
PAUSES_PER_SECOND = 10


class _Budget:
    """Pauses left in the current one-second window (per process: each worker has its own)."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self.window = -1.0
        self.left = 0

    def take(self, now: float) -> bool:
        if now - self.window >= 1.0:
            self.window, self.left = now, self.per_second
        if self.left <= 0:
            return False
        self.left -= 1
        return True


_budget = _Budget(PAUSES_PER_SECOND)


class SharingHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol; its construction (once per accepted connection,
    before the loop accepts the next) pauses within the budget."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if _budget.take(time.monotonic()):
            time.sleep(PAUSE_S)
