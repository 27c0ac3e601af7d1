"""PostgreSQL LISTEN in a thread of its own: how one process learns, at once, what
another committed (the live counter, the webhook worker's wake-up)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

import psycopg

from .db import Database


class Listener:
    """PostgreSQL LISTEN in a thread of its own: ``handlers[channel](payloads)`` for each
    burst of notifications. A NOTIFY sent inside a transaction arrives only once it
    commits (never on rollback), so this is how one process learns, at once, what
    another committed."""

    WAIT_SECONDS = 0.5  # how often the thread looks at its stop flag when nothing arrives

    def __init__(self, db: Database, handlers: dict[str, Callable[[set[str]], None]]) -> None:
        self.handlers = handlers
        self._stop = threading.Event()
        # a channel of this listener's own: stop() notifies it so that the thread ends at
        # once instead of at the end of its wait
        self._wake = f"boxoffice_wake_{uuid.uuid4().hex}"
        self._params = db.driver_params()
        self._thread = threading.Thread(target=self._run, name="boxoffice-listen", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(**self._params, autocommit=True) as conn:
                    for channel in [*self.handlers, self._wake]:
                        conn.execute(f"LISTEN {channel}")
                    while not self._stop.is_set():
                        got: dict[str, set[str]] = {}
                        # the first notification ends the wait (psycopg's notifies() with
                        # only a timeout would hold a burst until the timeout passed), then
                        # whatever else has already arrived, without waiting
                        for n in conn.notifies(timeout=self.WAIT_SECONDS, stop_after=1):
                            got.setdefault(n.channel, set()).add(n.payload)
                        if got:
                            for n in conn.notifies(timeout=0):
                                got.setdefault(n.channel, set()).add(n.payload)
                        got.pop(self._wake, None)
                        for channel, payloads in got.items():
                            self.handlers[channel](payloads)
            except Exception:
                logging.getLogger("boxoffice.listen").exception("listener lost its connection; reconnecting")
                self._stop.wait(1)

    def stop(self) -> None:
        self._stop.set()
        try:
            with psycopg.connect(**{**self._params, "connect_timeout": 2}, autocommit=True) as conn:
                conn.execute(f"NOTIFY {self._wake}")
        except Exception:  # noqa: BLE001 - the thread still ends within WAIT_SECONDS
            pass
        self._thread.join(timeout=5)
