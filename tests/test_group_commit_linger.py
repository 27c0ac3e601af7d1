"""Group commit's linger (BOXOFFICE_GROUP_COMMIT_LINGER_MS): under load a batch waits
for more calls before it starts; a lone call never waits; off by default."""

from __future__ import annotations

import asyncio
import threading

from boxoffice.config import Settings
from boxoffice.groupcommit import GroupCommit


def _batches(linger: float) -> list[list[int]]:
    """A crowd of 3 (held behind the first call's batch), then call 4, then call 5 a
    moment (0.2 s) later: with a linger longer than that moment, 4 and 5 share a batch."""
    batches: list[list[int]] = []
    release = threading.Event()

    def run(items: list[int]) -> list[object]:
        batches.append(list(items))
        if items == [0]:
            release.wait(10)
        return list(items)

    gc = GroupCommit(run, name="linger-test", linger=linger)

    async def main() -> None:
        first = asyncio.ensure_future(gc(0))
        await asyncio.sleep(0.2)  # 0 is being run, alone: nothing to wait for
        crowd = [asyncio.ensure_future(gc(i)) for i in (1, 2, 3)]
        await asyncio.sleep(0.2)
        release.set()
        assert await first == 0 and await asyncio.gather(*crowd) == [1, 2, 3]
        fourth = asyncio.ensure_future(gc(4))
        await asyncio.sleep(0.2)
        assert await asyncio.gather(fourth, gc(5)) == [4, 5]

    try:
        asyncio.run(main())
    finally:
        gc.close()
    return batches


def test_under_load_a_batch_lingers_for_more_calls():
    assert _batches(linger=2.0) == [[0], [1, 2, 3], [4, 5]]


def test_without_linger_each_call_goes_at_once():
    assert _batches(linger=0.0) == [[0], [1, 2, 3], [4], [5]]


def test_linger_is_off_by_default():
    assert Settings().group_commit_linger_ms == 0
    assert GroupCommit(lambda items: items, name="x", linger=None).linger == 0
