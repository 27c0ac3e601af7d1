"""Ticket Reservations: Create, Get, Cancel, Delete, and the inventory they move.

Inventory discipline (the rule that makes overselling impossible):

* A definition's free seats are ``actual_limit - sold_count - reserved_count``.
* Taking seats is ONE conditional statement per definition,
  ``UPDATE ticket_definitions SET reserved_count = reserved_count + q
  WHERE id = :id AND (NOT limited OR actual_limit - sold_count - reserved_count >= q)``,
  the last statement before COMMIT. Concurrent Create calls are batched (group commit,
  :func:`create_batch`): ``q`` is the total of the calls a batch accepted, each
  decided from the counts it read. PostgreSQL re-checks the WHERE on the locked row
  after any concurrent writer commits; SQLite writers are serialised by ``BEGIN
  IMMEDIATE``. Zero rows updated means another transaction took seats since the read:
  everything rolls back and the batch is decided again with the rows locked.
* Definitions are always updated (and locked) in id order, so two transactions cannot
  deadlock each other over them.
* Every status change is ``UPDATE ticket_reservations SET status = new WHERE id = :id
  AND status = old``; only the transaction that wins that update moves the counters,
  so seats are released or sold exactly once whoever (request, sweeper) gets there.
* Expiry is lazy: a PENDING reservation past its ``expirationDate`` reads as EXPIRED
  and its seats read as free at once (see :func:`overdue_holds`), before the sweeper
  or the next reservation of that definition actually releases them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Select, bindparam, case, func, literal, select, update
from sqlalchemy.orm import Session

from .. import limits, outbox
from .. import query as q
from ..db import Database, insert_rows, now
from ..errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, WixError
from ..events.models import DEFAULT_TICKET_LIMIT_PER_ORDER, Event, EventState
from ..identity import SYSTEM_IDENTITY, IdentityType, Permission, Principal
from ..limits import MAX_ORDER_TOTAL_CENTS
from ..money import money, parse_money
from ..schemas import Money
from ..ticket_definitions import inventory, live
from ..ticket_definitions.models import SaleStatus
from ..ticket_definitions.models import TicketDefinition as TD
from . import wire
from .models import NewLineRow, NewReservationRow, ReservationLine, ReservationStatus, TicketReservation
from .schemas import (
    BulkUpdateTicketReservationTagsByFilterRequest,
    BulkUpdateTicketReservationTagsRequest,
    CreateTicketReservationRequest,
    Tags,
)

FQDN = "wix.events.v1.ticket_reservation"


@dataclass
class Hooks:
    """How the slices built on reservations react to them: declared here, registered by
    them (orders), so that this slice imports nothing above it.

    ``ended(session, identity, reservation, t)``: a reservation expired or was canceled.
    ``deleting(session, reservation)``: may refuse (raise) a Delete Ticket Reservation."""

    ended: list[Callable[[Session, dict[str, str], TicketReservation, dt.datetime], None]] = field(default_factory=list)
    deleting: list[Callable[[Session, TicketReservation], None]] = field(default_factory=list)


hooks = Hooks()


class SoldOut(FailedPrecondition):
    code = "SOLD_OUT"


# --- inventory ---------------------------------------------------------------------


def move(session: Session, counts: dict[str, int], reserved: int = 0, sold: int = 0) -> None:
    """Add ``reserved``×q and ``sold``×q to each definition's counters, in id order."""
    for td_id in sorted(counts):
        q = counts[td_id]
        session.execute(
            update(TD)
            .where(TD.id == td_id)
            .values(reserved_count=TD.reserved_count + reserved * q, sold_count=TD.sold_count + sold * q)
            .execution_options(synchronize_session=False)
        )
        live.touch(session, td_id)


def line_counts(lines: Iterable[ReservationLine]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for ln in lines:
        out[ln.ticket_definition_id] += ln.quantity
    return dict(out)


def _refresh_next_expiry(session: Session, td_ids: Iterable[str]) -> None:
    for td_id in sorted(set(td_ids)):
        nxt = (
            select(func.min(TicketReservation.expiration_date))
            .join(ReservationLine, ReservationLine.reservation_id == TicketReservation.id)
            .where(ReservationLine.ticket_definition_id == td_id, TicketReservation.status == ReservationStatus.PENDING)
            .scalar_subquery()
        )
        session.execute(
            update(TD).where(TD.id == td_id).values(next_hold_expiry=nxt).execution_options(synchronize_session=False)
        )


# --- status changes ------------------------------------------------------------------


def transition(session: Session, r: TicketReservation, old: str | tuple[str, ...], new: str, t: dt.datetime) -> bool:
    """Guarded status change; True only for the one transaction that made it."""
    olds = (old,) if isinstance(old, str) else old
    res = session.execute(
        update(TicketReservation)
        .where(TicketReservation.id == r.id, TicketReservation.status.in_(olds))
        .values(status=new, updated_date=t, revision=TicketReservation.revision + 1)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's CursorResult
        return False
    session.refresh(r)
    return True


def lines_of(session: Session, r: TicketReservation) -> list[ReservationLine]:
    return list(
        session.scalars(select(ReservationLine).where(ReservationLine.reservation_id == r.id).order_by(ReservationLine.position))
    )


def release_hold(session: Session, r: TicketReservation, status: str, identity: dict[str, str], t: dt.datetime) -> bool:
    """PENDING -> ``status`` (EXPIRED, or CANCELED by a declined payment): the held seats
    go back to inventory, once, and an `updated` event says so. False if not PENDING."""
    if not transition(session, r, ReservationStatus.PENDING, status, t):
        return False
    lines = lines_of(session, r)
    counts = line_counts(lines)
    move(session, counts, reserved=-1)
    _refresh_next_expiry(session, counts)
    _emit(session, identity, r, lines, "updated")
    return True


def release_sale(session: Session, r: TicketReservation, status: str, identity: dict[str, str], t: dt.datetime) -> bool:
    """CONFIRMED -> ``status``: sold seats go back on sale, once. False if not CONFIRMED."""
    if not transition(session, r, ReservationStatus.CONFIRMED, status, t):
        return False
    lines = lines_of(session, r)
    move(session, line_counts(lines), sold=-1)
    _emit(session, identity, r, lines, "updated")
    return True


def expire(session: Session, r: TicketReservation, identity: dict[str, str], t: dt.datetime) -> bool:
    """PENDING past its time -> EXPIRED, seats back; an unpaid online order is canceled."""
    if not release_hold(session, r, ReservationStatus.EXPIRED, identity, t):
        return False
    for react in hooks.ended:
        react(session, identity, r, t)
    return True


def overdue_query(t: dt.datetime) -> Select[Any]:
    """PENDING reservations whose hold has run out (the scheduler's probe)."""
    return select(TicketReservation.id).where(
        TicketReservation.status == ReservationStatus.PENDING, TicketReservation.expiration_date <= t
    )


def release_overdue(session: Session, t: dt.datetime, td_ids: list[str] | None = None, limit: int = 500) -> int:
    """Expire PENDING reservations past their time (of these definitions, or any).

    PostgreSQL: SKIP LOCKED, so concurrent sweepers and buyers never wait on each other.
    """
    stmt = select(TicketReservation).where(
        TicketReservation.status == ReservationStatus.PENDING, TicketReservation.expiration_date <= t
    )
    if td_ids is not None:
        stmt = stmt.where(
            TicketReservation.id.in_(
                select(ReservationLine.reservation_id).where(ReservationLine.ticket_definition_id.in_(td_ids))
            )
        )
    due = list(session.scalars(stmt.order_by(TicketReservation.id).limit(limit).with_for_update(skip_locked=True)))
    return sum(expire(session, r, SYSTEM_IDENTITY, t) for r in due)


def confirm(session: Session, r: TicketReservation, t: dt.datetime, identity: dict[str, str]) -> bool:
    """PENDING -> CONFIRMED: the held seats become sold seats."""
    if r.status_at(t) == ReservationStatus.EXPIRED:  # refused: nothing of this unit is kept
        raise FailedPrecondition("The reservation has expired", code="RESERVATION_EXPIRED")
    if not transition(session, r, ReservationStatus.PENDING, ReservationStatus.CONFIRMED, t):
        raise FailedPrecondition(f"Reservation is {r.status}, not PENDING", code="RESERVATION_NOT_PENDING")
    lines = lines_of(session, r)
    move(session, line_counts(lines), reserved=-1, sold=1)
    _emit(session, identity, r, lines, "updated")
    return True


def _emit(session: Session, identity: dict[str, str], r: TicketReservation, lines: list[ReservationLine], slug: str) -> None:
    r.event_seq += 1
    outbox.record(
        session,
        site_id=r.site_id,
        identity=identity,
        entity_fqdn=FQDN,
        slug=slug,
        entity_id=r.id,
        sequence=r.event_seq,
        body=wire.event_body(slug, wire.to_wire(r, lines)),
    )


# --- methods -------------------------------------------------------------------------------


def _owner_check(principal: Principal, r: TicketReservation) -> None:
    """Managers see every reservation; a visitor or member only their own."""
    if principal.can(Permission.MANAGE_ORDERS, Permission.MANAGE_EVENTS):
        return
    mine = (principal.identity_type == IdentityType.VISITOR and r.visitor_id == principal.identity_id) or (
        principal.identity_type == IdentityType.MEMBER and r.member_id == principal.identity_id
    )
    if not mine:  # 404, as for an unknown id: a buyer learns nothing of others' reservations
        raise NotFound(f"Ticket reservation {r.id} not found", code="TICKET_RESERVATION_NOT_FOUND")


def get(session: Session, principal: Principal, reservation_id: str, lock_row: bool = False) -> TicketReservation:
    stmt = select(TicketReservation).where(
        TicketReservation.id == reservation_id, TicketReservation.site_id == principal.site_id
    )
    r = session.scalars(stmt.with_for_update() if lock_row else stmt).first()
    if r is None:
        raise NotFound(f"Ticket reservation {reservation_id} not found", code="TICKET_RESERVATION_NOT_FOUND")
    _owner_check(principal, r)
    return r


# --- Create Ticket Reservation, in batches ----------------------------------------------


@dataclass
class NewReservation:
    """One Create Ticket Reservation call, waiting in a batch (see :func:`create_batch`)."""

    principal: Principal
    request: CreateTicketReservationRequest


@dataclass
class _Decision:
    """A batch checked against every rule: one outcome per call (None = accepted),
    and what the accepted calls need written."""

    outcomes: list[Any]
    accepted: list[tuple[int, NewReservationRow, list[NewLineRow], dict[str, str]]]
    totals: dict[str, int]
    release: list[str]


class _Contended(Exception):
    """Seats were taken by another transaction between this batch's read and its update."""


def create_batch(
    db: Database, calls: list[NewReservation], default_minutes: int, take: inventory.SeatTake
) -> list[dict[str, Any] | BaseException]:
    """Create Ticket Reservation for many concurrent calls: one outcome each, the wire
    reservation or the error its caller gets. Every accepted call is written in ONE
    transaction (group commit, :class:`~boxoffice.db.GroupCommit`).

    1. Decide on a read-only snapshot: every rule, and seats handed out in call order
       from the free counts. A batch that accepts nothing (sold out) writes nothing.
    2. Write the accepted reservations, their lines and `created` events, and LAST, right
       before COMMIT, one conditional UPDATE per definition for the batch's total, so a
       definition's row lock is held for one statement and the commit.
    3. If another process took seats since the snapshot, that UPDATE matches no row:
       roll back, and decide again with the definitions locked (FOR UPDATE), where the
       counts cannot move until COMMIT.

    ``take`` is the seat take (:class:`~boxoffice.ticket_definitions.inventory.SeatTake`),
    given by the app factory: the race test gives a naive one to prove it sees overselling.
    """
    with db.reading() as conn:
        decision = _decide(conn, calls, default_minutes)
    if not decision.accepted:
        return decision.outcomes
    take.before_write()
    try:
        return db.write(lambda s: _write(s, decision, take))
    except _Contended:
        return db.write(lambda s: _write(s, _decide(s.connection(), calls, default_minutes, lock=True), take))


# What Create Ticket Reservation reads of the definitions (and their events): built once,
# so a batch pays for its execution only, not for building and compiling statements.
_TD, _EV = TD.__table__, Event.__table__
_READ = (
    select(
        *(_TD.c[n] for n in (
            "id", "site_id", "event_id", "name", "policy_text", "hidden", "limited", "actual_limit",
            "fixed_price_cents", "guest_price_cents", "price_options", "currency", "fee_type",
            "sale_start", "sale_end", "sold_count", "reserved_count", "next_hold_expiry",
        )),
        _EV.c.state.label("event_state"),
        _EV.c.registration.label("event_registration"),
    )
    .select_from(_TD.outerjoin(_EV, _EV.c.id == _TD.c.event_id))
    .where(_TD.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_TD.c.id)
)
_READ_LOCKED = _READ.with_for_update(of=_TD)


def _decide(conn: Connection, calls: list[NewReservation], default_minutes: int, lock: bool = False) -> _Decision:
    t = now()
    ids = sorted({ln.ticket_definition_id for c in calls for ln in c.request.ticket_reservation.tickets})
    defs = {d.id: d for d in conn.execute(_READ_LOCKED if lock else _READ, {"ids": ids})}
    due = inventory.due(defs.values(), t)
    overdue = inventory.overdue_holds(conn, due, t)
    free = {i: inventory.unsold(d, overdue.get(i, 0)) for i, d in defs.items()}
    decision = _Decision([None] * len(calls), [], defaultdict(int), due)
    for index, call in enumerate(calls):
        try:
            r, lines, wanted = _check(call, defs, t, default_minutes)
            for td_id, q in wanted.items():
                left = free[td_id]
                if left is not None and left < q:
                    raise _sold_out(defs[td_id].name, td_id, q)
        except WixError as e:
            decision.outcomes[index] = e
            continue
        for td_id, q in wanted.items():
            left = free[td_id]
            if left is not None:
                free[td_id] = left - q
            decision.totals[td_id] += q
        decision.accepted.append((index, r, lines, call.principal.webhook_identity()))
    return decision


def _write(session: Session, d: _Decision, take: inventory.SeatTake) -> list[dict[str, Any] | BaseException]:
    """The write transaction of :func:`create_batch`; the seats are taken last."""
    t = now()
    if d.release:  # lazy expiry: free what has run out before counting
        release_overdue(session, t, d.release)
    outcomes = list(d.outcomes)
    if not d.accepted:
        return outcomes
    changes = []
    for index, r, lines, identity in d.accepted:
        shown = wire.to_wire(r, lines, t)
        outcomes[index] = shown
        changes.append(outbox.Change(r.site_id, identity, FQDN, "created", r.id, r.event_seq, wire.event_body("created", shown)))
    insert_rows(session, TicketReservation, [vars(r) for _, r, _, _ in d.accepted])
    insert_rows(session, ReservationLine, [vars(ln) for _, _, lines, _ in d.accepted for ln in lines])
    outbox.record_many(session, changes)
    expires = min(r.expiration_date for _, r, _, _ in d.accepted)
    conn = session.connection()
    postgres = conn.dialect.name == "postgresql"
    statement = take.for_dialect(postgres)
    for td_id in sorted(d.totals):  # id order: two batches never wait on each other in a cycle
        res = conn.execute(statement, {"td": td_id, "q": d.totals[td_id], "expires": expires})
        if (len(res.all()) if postgres else res.rowcount) != 1:
            raise _Contended(td_id)
        live.touch(session, td_id, notified=postgres)
    return outcomes




def _check(
    call: NewReservation, defs: dict[str, Any], t: dt.datetime, default_minutes: int
) -> tuple[NewReservationRow, list[NewLineRow], dict[str, int]]:
    """Every rule of one call except seat availability; the reservation it would create
    (plain rows: they go to a bulk INSERT and to the presenter, never to the ORM)."""
    principal, tr = call.principal, call.request.ticket_reservation
    settings_in = tr.additional_reservation_settings
    disable_limit = bool(settings_in and settings_in.disable_ticket_limit_validation)
    allow_hidden = bool(settings_in and settings_in.enable_hidden_ticket_reservation)
    manager = principal.can(Permission.MANAGE_ORDERS, Permission.MANAGE_EVENTS)
    if (disable_limit or allow_hidden) and not manager:
        raise PermissionDenied("additionalReservationSettings need the \"Manage Orders\" permission")
    # a price is money: "Manage Orders" only (a price of 0 makes the order FREE, as markAsPaid would)
    if any(ln.ticket_info and ln.ticket_info.price_override is not None for ln in tr.tickets) and not principal.can(
        Permission.MANAGE_ORDERS
    ):
        raise PermissionDenied("ticketInfo.priceOverride needs the \"Manage Orders\" permission")
    mine: dict[str, Any] = {}
    for i, ln in enumerate(tr.tickets):
        d = defs.get(ln.ticket_definition_id)
        if d is None or d.site_id != principal.site_id:
            raise NotFound(
                f"Ticket definition {ln.ticket_definition_id} not found",
                code="TICKET_DEFINITION_NOT_FOUND",
                data={"field": f"ticketReservation.tickets[{i}].ticketDefinitionId"},
            )
        mine[d.id] = d
    for d in sorted(mine.values(), key=lambda d: d.event_id):
        if d.event_state is None:
            raise NotFound(f"Event {d.event_id} not found", code="EVENT_NOT_FOUND")
        if d.event_state == EventState.CANCELED:
            raise FailedPrecondition(f"Event {d.event_id} is canceled", code="EVENT_CANCELED")
        if d.event_state != EventState.PUBLISHED:
            raise FailedPrecondition(f"Event {d.event_id} is not published", code="EVENT_NOT_PUBLISHED")
        reg = d.event_registration or {}
        if reg.get("registrationDisabled") or reg.get("registrationPaused"):
            # the organiser closed registration (Update Event): registration.status reads
            # CLOSED_MANUALLY, and no new seats are held until it is opened again
            raise FailedPrecondition(f"Registration for event {d.event_id} is closed", code="REGISTRATION_CLOSED")
    currencies = {d.currency for d in mine.values()}
    if len(currencies) > 1:
        raise FailedPrecondition(
            f"Tickets in one reservation must share a currency, got {', '.join(sorted(currencies))}",
            code="MIXED_CURRENCIES",
        )
    ev_tickets = mine[tr.tickets[0].ticket_definition_id].event_registration.get("tickets") or {}
    minutes = int(ev_tickets.get("reservationDurationInMinutes") or default_minutes)
    r = NewReservationRow(
        id=str(uuid.uuid4()),
        site_id=principal.site_id,
        revision=1,
        status=ReservationStatus.PENDING,
        expiration_date=t + dt.timedelta(minutes=minutes),
        created_date=t,
        updated_date=t,
        member_id=principal.identity_id if principal.identity_type == IdentityType.MEMBER else None,
        visitor_id=principal.identity_id if principal.identity_type == IdentityType.VISITOR else None,
        currency=currencies.pop(),
        settings={
            "disableTicketLimitValidation": disable_limit,
            "enableHiddenTicketReservation": allow_hidden,
            "reservationDurationInMinutes": minutes,
            "ticketLimitPerOrder": int(ev_tickets.get("ticketLimitPerOrder") or DEFAULT_TICKET_LIMIT_PER_ORDER),
        },
        extended_fields=tr.extended_fields.model_dump(exclude_none=True) if tr.extended_fields else None,
        tags=tr.tags,
        event_seq=1,  # its `created` event
    )
    lines: list[NewLineRow] = []
    wanted: dict[str, int] = defaultdict(int)
    for i, ln in enumerate(tr.tickets):
        d = mine[ln.ticket_definition_id]
        where = f"ticketReservation.tickets[{i}]"
        status = inventory.sale_status(d, t)
        if status != SaleStatus.SALE_STARTED:
            raise FailedPrecondition(
                f'"{d.name}" is not on sale ({status})', code="TICKET_NOT_ON_SALE", data={"saleStatus": status}
            )
        if d.hidden and not allow_hidden:
            raise FailedPrecondition(f'"{d.name}" is hidden', code="TICKET_HIDDEN")
        price, option_id, option_name, guest = _price(d, ln.ticket_info, where)
        if ln.ticket_info and ln.ticket_info.price_override is not None:  # a manager's own price
            price, _ = parse_money(Money(value=ln.ticket_info.price_override, currency=d.currency), f"{where}.ticketInfo.priceOverride")
        wanted[d.id] += ln.quantity
        lines.append(
            NewLineRow(
                id=str(uuid.uuid4()),
                reservation_id=r.id,
                position=i,
                event_id=d.event_id,
                ticket_definition_id=d.id,
                quantity=ln.quantity,
                price_cents=price,
                fee_type=d.fee_type,
                ticket_name=d.name,
                policy=d.policy_text,
                pricing_option_id=option_id,
                pricing_option_name=option_name,
                guest_price_cents=guest,
            )
        )
    total = sum(ln.price_cents * ln.quantity for ln in lines)
    if total > MAX_ORDER_TOTAL_CENTS:
        raise InvalidArgument(
            "ticketReservation.tickets", f"add up to more than the largest order, {money(MAX_ORDER_TOTAL_CENTS, r.currency)['value']}", "MAX"
        )
    if not disable_limit:
        for td_id, q in wanted.items():
            if q > inventory.MAX_PER_CHECKOUT:
                raise FailedPrecondition(
                    f"At most {inventory.MAX_PER_CHECKOUT} tickets of \"{mine[td_id].name}\" per checkout",
                    code="TICKET_LIMIT_PER_CHECKOUT_EXCEEDED",
                    data={"ticketDefinitionId": td_id, "limitPerCheckout": inventory.MAX_PER_CHECKOUT},
                )
        limit = r.settings["ticketLimitPerOrder"]
        if sum(wanted.values()) > limit:
            raise FailedPrecondition(
                f"At most {limit} tickets per order", code="TICKET_LIMIT_PER_ORDER_EXCEEDED", data={"limit": limit}
            )
    return r, lines, dict(wanted)


def _sold_out(name: str, td_id: str, q: int) -> SoldOut:
    return SoldOut(f'Not enough "{name}" tickets left', data={"ticketDefinitionId": td_id, "requested": q})


def _price(d: TD, info: Any, where: str) -> tuple[int, str | None, str | None, int | None]:
    """(price in cents, option id, option name, guest price) for one line."""
    option_id = info.pricing_option_id if info else None
    guest = info.guest_price if info else None
    if d.price_options:
        if not option_id:
            raise FailedPrecondition(
                f'"{d.name}" has price options: choose one with ticketInfo.pricingOptionId',
                code="UNSUPPORTED_PRICING_OPTION",
            )
        opt = next((o for o in d.price_options if o["optionId"] == option_id), None)
        if opt is None:
            raise FailedPrecondition(
                f"Pricing option {option_id} is not an option of \"{d.name}\"", code="UNSUPPORTED_PRICING_OPTION"
            )
        return opt["cents"], option_id, opt["name"], None
    if option_id:
        raise FailedPrecondition(f'"{d.name}" has no price options', code="UNSUPPORTED_PRICING_OPTION")
    if d.guest_price_cents is not None:
        if guest is None:
            return d.guest_price_cents, None, None, d.guest_price_cents
        cents, _ = parse_money(Money(value=guest, currency=d.currency), f"{where}.ticketInfo.guestPrice")
        if cents < d.guest_price_cents:
            raise FailedPrecondition(
                f"guestPrice is below the minimum {money(d.guest_price_cents, d.currency)['value']}",
                code="GUEST_PRICE_TOO_LOW",
            )
        return cents, None, None, cents
    if guest is not None:
        raise InvalidArgument(f"{where}.ticketInfo.guestPrice", f'"{d.name}" has a fixed price')
    assert d.fixed_price_cents is not None
    return d.fixed_price_cents, None, None, None


def cancel(session: Session, principal: Principal, reservation_id: str) -> tuple[TicketReservation, list[ReservationLine]]:
    """Step 11: PENDING or CONFIRMED -> CANCELED_MANUALLY; the seats are free at once.
    A CONFIRMED reservation has an order (maybe paid): ending it ends the order without a
    refund, so only an organiser ("Manage Orders") may; a buyer lets go of its own hold
    (PENDING) only, and asks the organiser to cancel an order (Cancel Order refunds)."""
    r = get(session, principal, reservation_id, lock_row=True)
    if r.status == ReservationStatus.CONFIRMED and not principal.can(Permission.MANAGE_ORDERS):
        raise PermissionDenied('A checked-out reservation is canceled by the organiser ("Manage Orders"): cancel its order')
    return cancel_locked(session, r, principal.webhook_identity())


def cancel_locked(
    session: Session, r: TicketReservation, identity: dict[str, str]
) -> tuple[TicketReservation, list[ReservationLine]]:
    """Cancel's rule for a reservation its caller has already found (and locked) and may
    cancel: the legacy Cancel Reservation (orders) decides who may by its own rule."""
    t = now()
    if r.status_at(t) == ReservationStatus.EXPIRED:  # its seats are already free (lazy expiry)
        raise FailedPrecondition(f"A {ReservationStatus.EXPIRED} reservation cannot be canceled", code="RESERVATION_NOT_CANCELABLE")
    was = r.status
    if was not in (ReservationStatus.PENDING, ReservationStatus.CONFIRMED) or not transition(session, r, was, ReservationStatus.CANCELED_MANUALLY, t):
        raise FailedPrecondition(f"A {r.status} reservation cannot be canceled", code="RESERVATION_NOT_CANCELABLE")
    lines = lines_of(session, r)
    counts = line_counts(lines)
    if was == ReservationStatus.PENDING:
        move(session, counts, reserved=-1)
        _refresh_next_expiry(session, counts)
    else:
        move(session, counts, sold=-1)
    _emit(session, identity, r, lines, "updated")
    for react in hooks.ended:
        react(session, identity, r, t)
    return r, lines


def delete(session: Session, principal: Principal, reservation_id: str) -> dict[str, Any]:
    """Delete a reservation that has no order; a PENDING one gives its seats back first.
    Returns the reservation as it was deleted."""
    r = get(session, principal, reservation_id, lock_row=True)
    for guard in hooks.deleting:
        guard(session, r)
    t = now()
    lines = lines_of(session, r)
    if r.status == ReservationStatus.PENDING and transition(session, r, ReservationStatus.PENDING, ReservationStatus.CANCELED, t):
        counts = line_counts(lines)
        move(session, counts, reserved=-1)
        _refresh_next_expiry(session, counts)
    _emit(session, principal.webhook_identity(), r, lines, "deleted")
    snapshot = wire.to_wire(r, lines, t)
    session.delete(r)
    session.flush()
    return snapshot


# --- Bulk Update Ticket Reservation Tags (By Filter) ----------------------------------------

_TAG_LISTS = (("privateTags", "private_tags"), ("tags", "tags"))


def _tag_ids(tags: Tags | None, attr: str) -> list[str]:
    lst = getattr(tags, attr, None) if tags is not None else None
    return list(lst.tag_ids) if lst is not None else []


def _retag(current: dict[str, Any] | None, assign: Tags, unassign: Tags | None) -> dict[str, Any]:
    """Wix: "If a tag appears in both assign and unassign lists, it will be assigned."
    Order is kept: the tags a reservation had, then the new ones."""
    out: dict[str, Any] = dict(current or {})
    for wire_name, attr in _TAG_LISTS:
        cur = out.get(wire_name)
        have = cur.get("tagIds") if isinstance(cur, dict) else None
        have = [x for x in have if isinstance(x, str)] if isinstance(have, list) else []
        add = _tag_ids(assign, attr)
        drop = set(_tag_ids(unassign, attr)) - set(add)
        ids = [t for t in dict.fromkeys([*have, *add]) if t not in drop]
        if len(ids) > limits.RESERVATION_TAGS_MAX:
            raise FailedPrecondition(
                f"A reservation holds at most {limits.RESERVATION_TAGS_MAX} {wire_name}", code="TAGS_LIMIT_REACHED"
            )
        if ids or wire_name in out:
            out[wire_name] = {"tagIds": ids}
    return out


def _apply_tags(
    session: Session, identity: dict[str, str], r: TicketReservation, assign: Tags, unassign: Tags | None, t: dt.datetime
) -> None:
    """The tags of one (locked) reservation; a change is an update: revision, updatedDate
    and ``ticket_reservation_updated``, as every other change of a reservation."""
    new = _retag(r.tags, assign, unassign)
    if new == (r.tags or {}):
        return
    r.tags = new
    r.revision += 1
    r.updated_date = t
    session.flush()
    _emit(session, identity, r, lines_of(session, r), "updated")


def _not_found_error(rid: str) -> dict[str, Any]:
    return {"code": "TICKET_RESERVATION_NOT_FOUND", "description": f"Ticket reservation {rid} not found"}


def bulk_update_ticket_reservation_tags(
    session: Session, principal: Principal, body: BulkUpdateTicketReservationTagsRequest
) -> dict[str, Any]:
    """Managers retag up to 100 reservations in one transaction; an unknown (or another
    site's) id is a failed item, the others are changed."""
    t = now()
    identity = principal.webhook_identity()
    rows = {
        r.id: r
        for r in session.scalars(
            select(TicketReservation)
            .where(TicketReservation.site_id == principal.site_id, TicketReservation.id.in_(set(body.ids)))
            .order_by(TicketReservation.id)
            .with_for_update()
        )
    }
    results: list[dict[str, Any]] = []
    done: set[str] = set()
    for i, rid in enumerate(body.ids):
        r = rows.get(rid)
        if r is None:
            results.append({"itemMetadata": {"id": rid, "originalIndex": i, "success": False, "error": _not_found_error(rid)}})
            continue
        if rid not in done:  # the same id twice: changed once
            _apply_tags(session, identity, r, body.assign_tags, body.unassign_tags, t)
            done.add(rid)
        results.append({"itemMetadata": {"id": rid, "originalIndex": i, "success": True}})
    ok = sum(1 for x in results if x["itemMetadata"]["success"])
    return {
        "results": results,
        "bulkActionMetadata": {"totalSuccesses": ok, "totalFailures": len(results) - ok, "undetailedFailures": 0},
    }


def _status_expr(ctx: q.Ctx) -> Any:
    """The status a reservation reads as (lazy expiry), as SQL."""
    return case(
        (
            (TicketReservation.status == ReservationStatus.PENDING) & (TicketReservation.expiration_date <= ctx.now),
            literal(ReservationStatus.EXPIRED.value),
        ),
        else_=TicketReservation.status,
    )


FILTER = q.Spec(
    fields=[
        q.field("id", TicketReservation.id, "string", nullable=False, aliases=("_id",)),
        q.field("status", _status_expr, "enum", nullable=False, ops=q.EQ_OPS, enum=tuple(ReservationStatus)),
        q.field("createdDate", TicketReservation.created_date, "datetime", nullable=False, aliases=("_createdDate",)),
        q.field("updatedDate", TicketReservation.updated_date, "datetime", nullable=False, aliases=("_updatedDate",)),
        q.field("expirationDate", TicketReservation.expiration_date, "datetime"),
        q.field("memberId", TicketReservation.member_id, "string", ops=q.EQ_OPS),
        q.field("visitorId", TicketReservation.visitor_id, "string", ops=q.EQ_OPS),
        q.field(
            "tickets.eventId",
            select(func.min(ReservationLine.event_id)).where(ReservationLine.reservation_id == TicketReservation.id).scalar_subquery(),
            "string",
            ops=q.EQ_OPS,
            aliases=("eventId",),
        ),
    ],
    id_expr=TicketReservation.id,
    default_sort=[{"fieldName": "createdDate", "order": "ASC"}],
)


def bulk_update_ticket_reservation_tags_by_filter(
    session: Session, principal: Principal, body: BulkUpdateTicketReservationTagsByFilterRequest
) -> dict[str, Any]:
    """Wix runs this as a background job and answers its id; here the job is done by the
    time it answers (one transaction, all or nothing), so ``jobId`` names a finished job.
    An empty filter retags every reservation of the site, up to BULK_TAGS_BY_FILTER_MAX."""
    t = now()
    cond = q.compile_filter(FILTER, body.filter, q.Ctx(now=t), "filter")
    cap = limits.BULK_TAGS_BY_FILTER_MAX
    rows = list(
        session.scalars(
            select(TicketReservation)
            .where(TicketReservation.site_id == principal.site_id, cond)
            .order_by(TicketReservation.id)
            .limit(cap + 1)
            .with_for_update()
        )
    )
    if len(rows) > cap:
        raise FailedPrecondition(
            f"The filter matches more than {cap} reservations: narrow it", code="TOO_MANY_RESERVATIONS"
        )
    identity = principal.webhook_identity()
    for r in rows:
        _apply_tags(session, identity, r, body.assign_tags, body.unassign_tags, t)
    return {"jobId": str(uuid.uuid4())}
