"""What runs beside the API: the webhook worker and the scheduler, as daemon threads
(``boxoffice serve`` runs one of these unless BOXOFFICE_BACKGROUND=0; so does each
``boxoffice worker`` process)."""

from __future__ import annotations

import threading

from . import outbox
from .db import Database
from .scheduler import Scheduler
from .webhooks.worker import Worker, WorkerSettings


class Background:
    """The worker and the scheduler as daemon threads (serve runs one of these; so does
    `boxoffice worker`)."""

    def __init__(self, db: Database, tick_seconds: float = 0.2, settings: WorkerSettings | None = None) -> None:
        self.db = db
        self.worker = Worker(db, settings)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self.worker.serve, args=(self._stop,), name="boxoffice-worker", daemon=True),
            threading.Thread(target=self._wakeups, name="boxoffice-wakeups", daemon=True),
        ]
        for th in self._threads:
            th.start()
        self.scheduler = Scheduler(db, tick_seconds)

    def _wakeups(self) -> None:
        # outbox.committed is set after a commit that wrote deliveries (in this process,
        # or by NOTIFY from another): pass it on to the worker at once.
        while not self._stop.is_set():
            if outbox.committed.wait(1.0):
                outbox.committed.clear()
                self.worker.poke()

    def stop(self) -> None:
        self.scheduler.stop()
        self._stop.set()
        outbox.committed.set()
        self.worker.poke()
        for th in self._threads:
            th.join(timeout=15)
        self.worker.close()
