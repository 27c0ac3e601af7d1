"""Inventory: the one home of the rules about a definition's seats.

* ``unsold``: ``actualLimit - sold - reserved`` (None when unlimited), where seats of
  PENDING reservations past their expiry already count as free (:func:`overdue_holds`):
  expiry is lazy, so reads are right before the scheduler releases them.
* ``soldOut``, ``limitPerCheckout`` (Wix's 50 per definition per checkout, fewer when
  fewer are left) and the default ``ticketLimitPerOrder`` of an event that sets none.
* The seat take: ONE conditional ``UPDATE`` per definition, the last statement before
  COMMIT (:class:`SeatTake`). This statement is what makes overselling impossible; the
  race test swaps it (through the app factory, never a setting) for a naive one to prove
  it would see overselling.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from sqlalchemy import Connection, Table, Update, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session

from ..db import UTCDateTime
from ..reservations.models import ReservationLine, ReservationStatus, TicketReservation
from .models import SaleStatus
from .models import TicketDefinition as TD

# The PostgreSQL channel on which a committed change of a definition's counts is announced
# (the live counter LISTENs to it in every process).
LIVE_CHANNEL = "boxoffice_td"
# Wix: "limitPerCheckout": at most this many of one definition in one checkout.
MAX_PER_CHECKOUT = 50


class Counts(Protocol):
    """What the rules read of a definition (an ORM row or a Core row alike)."""

    limited: bool
    actual_limit: int | None
    sold_count: int
    reserved_count: int


def unsold(td: Counts, overdue: int = 0) -> int | None:
    """What a buyer can still take (None when unlimited). ``overdue``: seats of expired
    reservations the counters still hold (they are free)."""
    if not td.limited or td.actual_limit is None:
        return None
    return max(0, td.actual_limit - td.sold_count - (td.reserved_count - overdue))


def sale_status(td: Any, t: dt.datetime) -> str:
    if td.sale_start is not None and t < td.sale_start:
        return SaleStatus.SALE_SCHEDULED
    if td.sale_end is not None and t >= td.sale_end:
        return SaleStatus.SALE_ENDED
    return SaleStatus.SALE_STARTED


def sold_out(left: int | None) -> bool:
    return left == 0 if left is not None else False


def limit_per_checkout(left: int | None) -> int:
    return MAX_PER_CHECKOUT if left is None else min(MAX_PER_CHECKOUT, left)


def due(defs: Any, t: dt.datetime) -> list[str]:
    """Definitions whose earliest hold has run out: only these need :func:`overdue_holds`."""
    return [d.id for d in defs if d.next_hold_expiry is not None and d.next_hold_expiry <= t]


def overdue_holds(session: Session | Connection, td_ids: list[str], t: dt.datetime) -> dict[str, int]:
    """Seats still counted as reserved whose reservation is past its expiry: they read as free."""
    if not td_ids:
        return {}
    rows = session.execute(
        select(ReservationLine.ticket_definition_id, func.sum(ReservationLine.quantity))
        .join(TicketReservation, TicketReservation.id == ReservationLine.reservation_id)
        .where(
            ReservationLine.ticket_definition_id.in_(td_ids),
            TicketReservation.status == ReservationStatus.PENDING,
            TicketReservation.expiration_date <= t,
        )
        .group_by(ReservationLine.ticket_definition_id)
    ).all()
    return {td_id: int(n) for td_id, n in rows}


_TD: Table = TD.__table__  # type: ignore[assignment]  # a mapped class's Table
_TAKE_VALUES = {
    "reserved_count": _TD.c.reserved_count + bindparam("q"),
    "next_hold_expiry": case(
        (
            or_(_TD.c.next_hold_expiry.is_(None), _TD.c.next_hold_expiry > bindparam("expires", type_=UTCDateTime())),
            bindparam("expires", type_=UTCDateTime()),
        ),
        else_=_TD.c.next_hold_expiry,
    ),
}


class SeatTake:
    """Take ``q`` seats of definition ``td`` and note the hold's expiry, in one statement
    that matches no row when fewer than ``q`` are left. PostgreSQL re-checks the WHERE on
    the locked row after a concurrent writer commits; SQLite writers are serialised by
    ``BEGIN IMMEDIATE``. Parameters: ``td``, ``q``, ``expires``."""

    def __init__(self) -> None:
        self._plain = self.statement()
        # PostgreSQL: the UPDATE itself sends the live counter's NOTIFY (one round trip less)
        self._returning = self._plain.returning(func.pg_notify(LIVE_CHANNEL, _TD.c.id))

    def statement(self) -> Update:
        return (
            update(_TD)
            .where(
                _TD.c.id == bindparam("td"),
                or_(_TD.c.limited.is_(False), _TD.c.actual_limit - _TD.c.sold_count - _TD.c.reserved_count >= bindparam("q")),
            )
            .values(_TAKE_VALUES)
        )

    def for_dialect(self, postgres: bool) -> Update:
        return self._returning if postgres else self._plain

    def before_write(self) -> None:
        """Called between a batch's read and its write; nothing to do in production."""
