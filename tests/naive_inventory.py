"""TEST ONLY: an app whose seat take trusts the counts it read ("read, then take").

The race test (tests/test_concurrency.py) first runs its race against this app, which
must oversell, proving the test can see overselling (pretix's discipline); then
against the real app. Nothing in production can switch this on: it is passed through
the app factory from this module, which uvicorn loads by name.
"""

from __future__ import annotations

import time

from fastapi import FastAPI
from sqlalchemy import Update, bindparam, update

from boxoffice.app import create_app
from boxoffice.ticket_definitions.inventory import _TAKE_VALUES, _TD, SeatTake


class NaiveSeatTake(SeatTake):
    def statement(self) -> Update:
        return update(_TD).where(_TD.c.id == bindparam("td")).values(_TAKE_VALUES)  # no check: the race

    def before_write(self) -> None:
        time.sleep(0.01)  # widen the window between the read and the write


def naive_app() -> FastAPI:
    """``uvicorn tests.naive_inventory:naive_app --factory``"""
    return create_app(seat_take=NaiveSeatTake())
