"""serving.py: how `serve --workers N` spreads connections that arrive together.

Whether the pause spreads them over real worker processes is measured by
bench/worker_balance.py (README, "Benchmarks"); the 2-worker race tests in
test_concurrency.py run through it. Here: the budget that bounds the pause, and that
`serve` uses it only with several workers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from uvicorn.config import Config
from uvicorn.server import ServerState

from boxoffice import cli, serving
from boxoffice.config import get_settings
from boxoffice.migrations import upgrade


def test_budget_gives_so_many_pauses_a_second_then_refills():
    b = serving._Budget(3)
    assert [b.take(10.0), b.take(10.2), b.take(10.5), b.take(10.9)] == [True, True, True, False]
    assert b.take(11.0)  # a new window
    assert [b.take(11.1), b.take(11.2), b.take(11.3)] == [True, True, False]


def test_a_new_connection_pauses_its_worker_only_within_the_budget(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(serving.time, "sleep", slept.append)
    monkeypatch.setattr(serving.time, "monotonic", lambda: 500.0)
    monkeypatch.setattr(serving, "_budget", serving._Budget(serving.PAUSES_PER_SECOND))

    async def app(scope: Any, receive: Any, send: Any) -> None:  # never called
        raise AssertionError

    config = Config(app=app, http=serving.SharingHttpTools)
    config.load()
    loop = asyncio.new_event_loop()
    try:
        for _ in range(serving.PAUSES_PER_SECOND + 5):
            serving.SharingHttpTools(config=config, server_state=ServerState(), app_state={}, _loop=loop)
    finally:
        loop.close()
    # the pause per second is bounded: 10 x 1 ms, whatever the rate of new connections
    assert slept == [serving.PAUSE_S] * serving.PAUSES_PER_SECOND
    assert serving.PAUSE_S * serving.PAUSES_PER_SECOND <= 0.01


@pytest.mark.parametrize(("workers", "http"), [(1, "httptools"), (2, "boxoffice.serving:SharingHttpTools")])
def test_serve_pauses_after_an_accept_only_with_several_workers(tmp_path, monkeypatch, workers, http):
    url = f"sqlite:///{tmp_path / 'b.db'}"
    upgrade(url)
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", url)
    get_settings.cache_clear()
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw))
    try:
        assert cli.main(["serve", "--port", "1", "--workers", str(workers)]) == 0
    finally:
        get_settings.cache_clear()
    assert (seen["workers"], seen["http"]) == (workers, http)
