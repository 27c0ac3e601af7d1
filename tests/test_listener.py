"""The PostgreSQL listener hands a notification on when it arrives, not when its wait
ends, and stops at once: with a wait of 60 s both would otherwise take a minute."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from boxoffice.db import Database
from boxoffice.listener import Listener


@pytest.fixture
def pg(database: Database) -> Database:
    if database.is_sqlite:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's (SQLite runs in one process)")
    return database


def test_a_notification_is_handled_before_the_wait_ends_and_stop_is_prompt(pg: Database, monkeypatch) -> None:
    monkeypatch.setattr(Listener, "WAIT_SECONDS", 60.0)
    got: list[set[str]] = []
    arrived = threading.Event()

    def handle(payloads: set[str]) -> None:
        got.append(payloads)
        arrived.set()

    listener = Listener(pg, {"boxoffice_test_channel": handle})
    try:
        deadline = time.monotonic() + 20
        while not arrived.is_set() and time.monotonic() < deadline:  # until its LISTEN is in place
            with pg.engine.begin() as conn:
                conn.execute(text("NOTIFY boxoffice_test_channel, 'a'"))
            arrived.wait(0.2)
        assert arrived.is_set(), "a notification waited for the end of the listener's 60 s wait"
        assert {"a"} <= set().union(*got)
    finally:
        started = time.monotonic()
        listener.stop()
    assert not listener._thread.is_alive()
    assert time.monotonic() - started < 20, "stop() waited for the end of the listener's 60 s wait"
