"""200 buyers race for 50 seats over HTTP, against a real multi-process uvicorn server.

Following pretix's discipline, the same race is first run with the inventory check
replaced by a naive "read, then take" (tests/naive_inventory.py, given to the app
factory; no setting reaches it): it must oversell, which
proves the race test can catch overselling. Then, with the real check, exactly 50
seats are sold, every loser gets SOLD_OUT, and the counters agree with the rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from boxoffice.auth import create_api_key
from boxoffice.db import Database
from boxoffice.identity import IdentityType
from boxoffice.migrations import upgrade
from boxoffice.reservations.models import ReservationLine, TicketReservation
from boxoffice.ticket_definitions.models import TicketDefinition
from tests.conftest import ROOT, make_pg_database
from tests.helpers import EVENTS, RES, TD, event_body, free_port, td_body, wait_healthy

SEATS, BUYERS = 50, 200


def race(url: str, naive: bool) -> tuple[Counter, dict, int, int]:
    upgrade(url)
    db = Database(url)
    with db.session(write=True) as s:
        owner = create_api_key(s, "race", IdentityType.APP)
        buyers = [create_api_key(s, "race", IdentityType.VISITOR) for _ in range(10)]
    port = free_port()
    env = {**os.environ, "BOXOFFICE_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    if naive:  # the same server, through uvicorn directly, with the naive seat take
        cmd = [sys.executable, "-m", "uvicorn", "tests.naive_inventory:naive_app", "--factory", "--workers", "2",
               "--port", str(port), "--no-access-log", "--log-level", "warning"]
    else:
        cmd = [str(Path(sys.executable).parent / "boxoffice"), "serve", "--port", str(port), "--workers", "2",
               "--no-access-log", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, cwd=str(ROOT))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base)
        h = {"Authorization": owner, "wix-site-id": "race"}
        ev = httpx.post(f"{base}{EVENTS}", json=event_body(draft=False), headers=h).json()["event"]
        td = httpx.post(f"{base}{TD}", json=td_body(ev["id"], initialLimit=SEATS), headers=h).json()["ticketDefinition"]
        results: list[tuple[int, str]] = []
        lock = threading.Lock()
        start = threading.Barrier(BUYERS)

        def buy(i: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as c:
                start.wait()
                r = c.post(
                    RES,
                    json={"ticketReservation": {"tickets": [{"ticketDefinitionId": td["id"], "quantity": 1}]}},
                    headers={"Authorization": buyers[i % len(buyers)], "wix-site-id": "race"},
                )
                err = r.json().get("details", {}).get("applicationError", {}).get("code", "") if r.status_code != 200 else ""
                with lock:
                    results.append((r.status_code, err))

        threads = [threading.Thread(target=buy, args=(i,)) for i in range(BUYERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        details = httpx.get(f"{base}{TD}/{td['id']}", params={"fields": "SALES_DETAILS"}, headers=h).json()
        with db.session() as s:
            held = s.scalar(
                select(func.coalesce(func.sum(ReservationLine.quantity), 0))
                .join(TicketReservation, TicketReservation.id == ReservationLine.reservation_id)
                .where(ReservationLine.ticket_definition_id == td["id"], TicketReservation.status == "PENDING")
            )
            row = s.get(TicketDefinition, td["id"])
            counted = row.reserved_count + row.sold_count
    finally:
        proc.terminate()
        proc.wait(30)
        db.dispose()
    return Counter(results), details["ticketDefinition"]["salesDetails"], held, counted


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'race.db'}"
    return make_pg_database("boxoffice_race")


def test_without_the_atomic_check_the_race_oversells(store):
    """Overselling needs two server processes deciding at the same moment; on a loaded
    machine (make test runs two pytest workers on two cores) one race may happen not to
    interleave, so up to three races are run: one must oversell."""
    for _ in range(3):
        outcome, _, held, _ = race(store, naive=True)
        sold = outcome[(200, "")]
        assert held == sold
        if sold > SEATS:
            break
    assert sold > SEATS, f"the naive check should oversell, but sold {sold}: {outcome}"


def test_two_hundred_buyers_fifty_seats_none_oversold(store):
    outcome, details, held, counted = race(store, naive=False)
    assert outcome == Counter({(200, ""): SEATS, (428, "SOLD_OUT"): BUYERS - SEATS}), outcome
    assert details == {"unsoldCount": 0, "soldCount": 0, "reservedCount": SEATS, "soldOut": True}
    assert held == counted == SEATS
