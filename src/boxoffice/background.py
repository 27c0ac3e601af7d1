"""What runs beside the API: the webhook worker, the mail worker, the refunder and the
scheduler, as daemon threads (``boxoffice serve`` runs one of these unless BOXOFFICE_BACKGROUND=0; so
does each ``boxoffice worker`` process)."""

from __future__ import annotations

import threading

from . import outbox
from .config import get_settings
from .db import Database
from .mail import worker as mail
from .payments import Payments
from .payments.refunds import Refunder
from .scheduler import Scheduler
from .webhooks.worker import Worker, WorkerSettings


class Background:
    """The workers and the scheduler as daemon threads (serve runs one of these; so does
    `boxoffice worker`). ``mail_settings``: the mail worker's settings (default: from the
    environment, ``MailSettings.from_settings``)."""

    def __init__(
        self, db: Database, tick_seconds: float = 0.2, settings: WorkerSettings | None = None,
        mail_settings: mail.MailSettings | None = None, payments: Payments | None = None,
    ) -> None:
        self.db = db
        self.worker = Worker(db, settings)
        self.mail = mail.MailLoop(db, mail_settings or mail.MailSettings.from_settings(get_settings()))
        # refunds whose first try (by the request that owed them) did not finish
        self.refunder = Refunder(db, payments or Payments.from_settings(get_settings()))
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self.worker.serve, args=(self._stop,), name="boxoffice-worker", daemon=True),
            threading.Thread(target=self._wakeups, name="boxoffice-wakeups", daemon=True),
            threading.Thread(target=self.mail.serve, args=(self._stop,), name="boxoffice-mail", daemon=True),
            threading.Thread(target=self.refunder.serve, args=(self._stop,), name="boxoffice-refunds", daemon=True),
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
        mail.committed.set()
        self.worker.poke()
        for th in self._threads:
            th.join(timeout=15)
        self.worker.close()
