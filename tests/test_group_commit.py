"""Group commit: concurrent Create Ticket Reservation calls share one transaction, and
each call still gets exactly the outcome it would have had alone, in call order."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from sqlalchemy import func, select

from boxoffice.auth import _hash, lookup
from boxoffice.errors import NotFound
from boxoffice.groupcommit import GroupCommit
from boxoffice.outbox.models import OutboxEvent
from boxoffice.reservations import service
from boxoffice.reservations.models import TicketReservation
from boxoffice.reservations.schemas import CreateTicketReservationRequest
from boxoffice.ticket_definitions.inventory import SeatTake
from tests.helpers import create_event, create_td, sales

# --- the mechanism, without a database ---------------------------------------------------


def test_calls_queue_into_batches_and_keep_their_own_outcomes():
    batches: list[list[int]] = []
    first = threading.Event()

    def run(items: list[int]) -> list[object]:
        batches.append(list(items))
        if not first.is_set():  # hold the first batch so the others queue behind it
            first.set()
            time.sleep(0.2)
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]

    gc = GroupCommit(run, name="test")

    async def main() -> tuple[list[object], object]:
        crowd = await asyncio.gather(*(gc(i) for i in range(40)), return_exceptions=True)
        return crowd, await gc(100)  # a lone call goes at once, alone

    try:
        out, lone = asyncio.run(main())
    finally:
        gc.close()
    assert [o if isinstance(o, int) else str(o) for o in out] == [i * 10 if i % 2 == 0 else f"odd {i}" for i in range(40)]
    assert len(batches) <= 4  # the crowd queued behind the first batch and went as one or two more
    assert sorted(i for b in batches[:-1] for i in b) == list(range(40))
    assert lone == 1000 and batches[-1] == [100]


def test_a_batch_that_raises_is_rerun_call_by_call():
    def run(items: list[str]) -> list[object]:
        if "poison" in items:
            raise RuntimeError("this batch failed")
        return [item.upper() for item in items]

    gc = GroupCommit(run, name="test")
    gate = threading.Lock()
    gate.acquire()
    gc_run = gc.run

    def slow_first(items: list[str]) -> list[object]:
        gate.acquire(timeout=5)  # let all three queue up together
        gate.release()
        return gc_run(items)

    gc.run = slow_first  # type: ignore[method-assign]

    async def main() -> list[object]:
        tasks = [asyncio.ensure_future(gc(x)) for x in ("warm", "a", "poison", "b")]
        await asyncio.sleep(0.1)
        gate.release()
        return await asyncio.gather(*tasks, return_exceptions=True)

    try:
        out = asyncio.run(main())
    finally:
        gc.close()
    assert out[0] == "WARM" and out[1] == "A" and out[3] == "B"
    assert isinstance(out[2], RuntimeError)


def test_a_caller_whose_loop_closed_does_not_stop_the_next_batches():
    started, release = threading.Event(), threading.Event()

    def run(items: list[int]) -> list[object]:
        started.set()
        release.wait(5)
        return items

    gc = GroupCommit(run, name="test")

    async def abandon() -> None:
        asyncio.ensure_future(gc(1))
        await asyncio.sleep(0)  # queued; this loop closes before the outcome is ready

    try:
        asyncio.run(abandon())
        assert started.wait(5)
        release.set()
        assert asyncio.run(asyncio.wait_for(gc(2), 5)) == 2
    finally:
        gc.close()


# --- Create Ticket Reservation in batches --------------------------------------------------


def calls(principal, td_ids_and_quantities):
    return [
        service.NewReservation(
            principal,
            CreateTicketReservationRequest.model_validate(
                {"ticketReservation": {"tickets": [{"ticketDefinitionId": td, "quantity": q}]}}
            ),
        )
        for td, q in td_ids_and_quantities
    ]


@pytest.fixture
def seats3(api, database):
    ev = create_event(api, draft=False)
    td = create_td(api, ev["id"], initialLimit=3)
    return td["id"], lookup(database, _hash(api.key))


def stored(database) -> tuple[int, int]:
    with database.session() as s:
        return (
            s.scalar(select(func.count()).select_from(TicketReservation)),
            s.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.event_type.like("%ticket_reservation_created"))),
        )


def test_one_batch_decides_each_call_in_order(api, database, seats3):
    td, principal = seats3
    unknown = "00000000-0000-0000-0000-000000000000"
    out = service.create_batch(database, calls(principal, [(td, 2), (td, 2), (td, 1), (unknown, 1), (td, 1)]), 20, SeatTake())
    assert isinstance(out[0], dict) and out[0]["tickets"][0]["quantity"] == 2
    assert isinstance(out[1], service.SoldOut)  # 2 wanted, 1 left after the first call
    assert isinstance(out[2], dict) and out[2]["tickets"][0]["quantity"] == 1
    assert isinstance(out[3], NotFound)
    assert isinstance(out[4], service.SoldOut)
    assert sales(api, td) == {"unsoldCount": 0, "soldCount": 0, "reservedCount": 3, "soldOut": True}
    assert stored(database) == (2, 2)  # the refused calls wrote nothing
    assert out[0]["id"] != out[2]["id"]


def test_a_batch_that_lost_a_race_is_decided_again_under_lock(api, database, seats3, monkeypatch):
    """Between a batch's read and its UPDATE another transaction takes two of the three
    seats: the UPDATE matches no row, everything rolls back, and the locked second
    decision grants the one seat left to the first call only."""
    td, principal = seats3
    real = service._decide
    seen: list[bool] = []

    def racing(conn, batch, minutes, lock=False):
        decision = real(conn, batch, minutes, lock)
        seen.append(lock)
        if not lock:  # the competitor commits after our snapshot
            monkeypatch.setattr(service, "_decide", real)
            (won,) = service.create_batch(database, calls(principal, [(td, 2)]), minutes, SeatTake())
            assert isinstance(won, dict)
            monkeypatch.setattr(service, "_decide", racing)
        return decision

    monkeypatch.setattr(service, "_decide", racing)
    out = service.create_batch(database, calls(principal, [(td, 1), (td, 1), (td, 1)]), 20, SeatTake())
    assert seen == [False, True]
    assert isinstance(out[0], dict) and all(isinstance(o, service.SoldOut) for o in out[1:])
    assert sales(api, td)["reservedCount"] == 3 and sales(api, td)["unsoldCount"] == 0
    assert stored(database) == (2, 2)  # the competitor's and ours; the rolled-back attempt left nothing
