"""PostgreSQL LISTEN in a thread of its own: how one process learns, at once, what
another committed (the live counter, the webhook worker's wake-up)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg

from .db import Database


class Listener:
    """PostgreSQL LISTEN in a thread of its own: ``handlers[channel](payloads)`` for each
    burst of notifications. A NOTIFY sent inside a transaction arrives only once it
    commits (never on rollback), so this is how one process learns, at once, what
    another committed."""

    def __init__(self, db: Database, handlers: dict[str, Callable[[set[str]], None]]) -> None:
        self.db, self.handlers = db, handlers
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="boxoffice-listen", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        url = self.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    for channel in self.handlers:
                        conn.execute(f"LISTEN {channel}")
                    while not self._stop.is_set():
                        got: dict[str, set[str]] = {}
                        for n in conn.notifies(timeout=0.5):
                            got.setdefault(n.channel, set()).add(n.payload)
                        for channel, payloads in got.items():
                            self.handlers[channel](payloads)
            except Exception:
                logging.getLogger("boxoffice.listen").exception("listener lost its connection; reconnecting")
                self._stop.wait(1)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
