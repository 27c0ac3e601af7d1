"""Ticket Definitions v3: every rule of the API, by its Wix name.

Create / Update / Get / Delete / Reorder / Query / Query Available / Count /
Count Available / Bulk Delete By Filter / Change Currency, and the domain events
each writes to the outbox in its own transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

from psycopg import OperationalError
from psycopg.errors import QueryCanceled
from sqlalchemy import Connection, bindparam, case, func, literal, select
from sqlalchemy.orm import Session

from .. import ordering, outbox
from .. import query as q
from ..db import Database, UTCDateTime, lock, now
from ..errors import FailedPrecondition, InvalidArgument, NotFound
from ..events import service as events
from ..events import wire as events_wire
from ..events.models import Event, EventState
from ..events.schemas import EventField
from ..fields import field_mask, fieldsets
from ..identity import Permission, Principal
from ..money import check_currency, money, parse_money
from . import live, wire
from .inventory import due, overdue_holds, sale_status, sold_out, unsold
from .models import SaleStatus
from .models import TicketDefinition as TD
from .schemas import (
    ChangeCurrencyRequest,
    CreateTicketDefinitionRequest,
    FeeType,
    Fieldset,
    ReorderTicketDefinitionsRequest,
    TicketDefinitionIn,
    UpdateTicketDefinitionRequest,
)

FQDN = "wix.events.v3.ticket_definition"
EVENT_DETAILS = Fieldset.EVENT_DETAILS.value
MAX_PER_EVENT = 100




# --- values --------------------------------------------------------------------


def _minute(t: dt.datetime | None) -> dt.datetime | None:
    """Sale period boundaries are rounded down to the minute."""
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).replace(second=0, microsecond=0)


# --- derived fields --------------------------------------------------------------


def sale_status_expr(ctx: q.Ctx) -> Any:
    t = literal(ctx.now, UTCDateTime())
    return case(
        (TD.sale_start.is_not(None) & (TD.sale_start > t), SaleStatus.SALE_SCHEDULED.value),
        (TD.sale_end.is_not(None) & (TD.sale_end <= t), SaleStatus.SALE_ENDED.value),
        else_=SaleStatus.SALE_STARTED.value,
    )


def render(session: Session | Connection, tds: list[TD], fields: list[str] | None) -> list[dict[str, Any]]:
    """Wire dicts for many definitions, loading their events in one query if asked.

    Seats of reservations past their expiry read as free even before they are released
    (one grouped query, only for definitions whose earliest hold is due). ``session``
    may be a plain Core connection (Get's read, which needs no ORM session)."""
    t = now()
    wanted = frozenset(fields or ())
    evmap: dict[str, Event] = {}
    if EVENT_DETAILS in wanted and tds:
        ids = {td.event_id for td in tds}
        stmt = select(Event).where(Event.id.in_(ids))
        if isinstance(session, Session):
            evmap = {e.id: e for e in session.scalars(stmt)}
        else:  # events are ORM entities (their presenter reads attributes): a session on this connection
            with Session(bind=session) as orm:
                evmap = {e.id: e for e in orm.scalars(stmt)}
    overdue = overdue_holds(session, due(tds, t), t)
    return [wire.to_wire(td, wanted, t, evmap.get(td.event_id), overdue.get(td.id, 0)) for td in tds]


def render_alone(tds: list[Any], fields: list[str] | None) -> list[dict[str, Any]] | None:
    """:func:`render` when it needs no read of its own, else None: no event details were
    asked and no definition has a hold past its expiry (whose seats read as free)."""
    t = now()
    wanted = frozenset(fields or ())
    if EVENT_DETAILS in wanted or due(tds, t):
        return None
    return [wire.to_wire(td, wanted, t) for td in tds]


def check_fields(values: list[Any] | None) -> list[str]:
    out = fieldsets(values, Fieldset, "fields")
    if len(out) > 5:
        raise InvalidArgument("fields", "at most 5 fieldsets", "MAX_SIZE")
    return out


# --- outbox ----------------------------------------------------------------------


def _emit(session: Session, identity: dict[str, str], td: TD, slug: str, body: dict[str, Any]) -> None:
    """Every change of a definition writes an event: also tell the live streams."""
    live.touch(session, td.id)
    td.event_seq += 1
    outbox.record(
        session,
        site_id=td.site_id,
        identity=identity,
        entity_fqdn=FQDN,
        slug=slug,
        entity_id=td.id,
        sequence=td.event_seq,
        body=body,
    )


def plan_sale_transitions(td: TD, t: dt.datetime, creating: bool, was: str | None) -> None:
    """Mark boundaries already behind us that were no transition (created on sale, or the
    status did not change), then note when the scheduler next has work for ``td``."""
    if td.sale_start is not None and td.sale_start <= t and (creating or was != SaleStatus.SALE_SCHEDULED):
        td.sale_started_for = td.sale_start
    if td.sale_end is not None and td.sale_end <= t and (creating or was == SaleStatus.SALE_ENDED):
        td.sale_ended_for = td.sale_end
    pending = []
    if td.sale_start is not None and td.sale_started_for != td.sale_start:
        pending.append(td.sale_start)
    if td.sale_end is not None and td.sale_ended_for != td.sale_end:
        pending.append(td.sale_end)
    td.next_sale_transition = min(pending) if pending else None


def emit_action(session: Session, identity: dict[str, str], td: TD, slug: str) -> None:
    """sale_started / sale_ended: an action whose body is ``{ticketDefinition}``."""
    _emit(session, identity, td, slug, {"actionEvent": {"body": {"ticketDefinition": wire.entity(td)}}})


def _emit_updated(session: Session, principal: Principal, td: TD, period_changed: bool) -> None:
    """An update is `updated`; if the sale period moved it is also `sale_period_updated`."""
    _emit(session, principal.webhook_identity(), td, "updated", {"updatedEvent": {"currentEntity": wire.entity(td)}})
    if period_changed:
        sp = wire.entity(td)["salePeriod"]
        _emit(session, principal.webhook_identity(), td, "sale_period_updated", {"actionEvent": {"body": {"afterUpdate": sp}}})


# --- reading -------------------------------------------------------------------


def not_found(td_id: str) -> NotFound:
    """The 404 for a definition the caller cannot see: absent, or another site's."""
    return NotFound(f"Ticket definition {td_id} not found", code="TICKET_DEFINITION_NOT_FOUND")


# Built once: Get is the hottest path, and a prepared Core statement skips the ORM.
_GET = select(TD.__table__).where(TD.id == bindparam("id"), TD.site_id == bindparam("site"))
TDRow = namedtuple("TDRow", [c.name for c in TD.__table__.columns])  # type: ignore[misc]


class _PgGet:
    """``_GET`` run by psycopg itself on PostgreSQL, each value through its column's
    SQLAlchemy result processor (UTC timestamps come back aware, as through Core).

    Hand-written because Core's execution and result machinery cost ~500 µs of CPU per
    Get against ~150 µs for the driver's own execute and a namedtuple (measured in one
    process on this machine: 890 vs 370 µs for the whole read and render); the row is
    the same (tests/test_ticket_definitions_reads.py compares them)."""

    def __init__(self) -> None:
        self.sql: str | None = None
        self.procs: list[tuple[int, Callable[[Any], Any]]] = []

    def prepare(self, dialect: Any) -> str:
        if self.sql is None:
            self.procs = [
                (i, p) for i, c in enumerate(TD.__table__.columns)
                if (p := c.type.dialect_impl(dialect).result_processor(dialect, None)) is not None
            ]
            self.sql = str(_GET.compile(dialect=dialect))
        return self.sql

    def row(self, values: Any) -> TDRow | None:
        if values is None:
            return None
        out = list(values)
        for i, proc in self.procs:
            out[i] = proc(out[i])
        return TDRow._make(out)

    def __call__(self, conn: Connection, td_id: str, site: str) -> TDRow | None:
        sql = self.prepare(conn.dialect)
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur:
            return self.row(cur.execute(sql, {"id": td_id, "site": site}).fetchone())

    async def run_async(self, pool: Any, dialect: Any, td_id: str, site: str) -> TDRow | None:
        sql = self.prepare(dialect)
        async with pool.connection() as conn:
            cur = await conn.execute(sql, {"id": td_id, "site": site})
            return self.row(await cur.fetchone())


_pg_get = _PgGet()


def get(session: Session | Connection, principal: Principal, td_id: str) -> Any:
    """A read-only row (Core, not ORM: reads are the hot path; on PostgreSQL the driver's
    own execute, :class:`_PgGet`); ``session`` may be a Core connection
    (``Database.reading``), which Get Ticket Definition's route uses."""
    conn = session.connection() if isinstance(session, Session) else session
    td: Any
    if conn.dialect.name == "postgresql":
        td = _pg_get(conn, td_id, principal.site_id)
    else:
        td = conn.execute(_GET, {"id": td_id, "site": principal.site_id}).first()
    if td is None:
        raise not_found(td_id)
    return td


async def get_async(db: Database, pool: Any, principal: Principal, td_id: str) -> Any:
    """:func:`get` on ``pool``, the loop's ``db.async_reads()`` (PostgreSQL while an app
    serves): the same row, the same refusal, no thread. None when this pool could not
    read it (no connection within ``db.ASYNC_READ_WAIT``; a pooled connection that a
    PostgreSQL restart or a pooler broke; the pool closing): the caller's thread-pool
    read then answers as it would without this pool. One autocommit SELECT, so reading
    again is safe."""
    try:
        td = await _pg_get.run_async(pool, db.engine.dialect, td_id, principal.site_id)
    except QueryCanceled:  # statement_timeout: the same refusal the thread pool's read would meet
        raise
    except OperationalError:  # also psycopg_pool's PoolTimeout and PoolClosed
        return None
    if td is None:
        raise not_found(td_id)
    return td


_FIELDS = [
    q.field("id", TD.id, "string", nullable=False, aliases=("_id",)),
    q.field("eventId", TD.event_id, "string", nullable=False, aliases=("event_id",)),
    q.field("revision", TD.revision, "int", nullable=False),
    q.field("name", TD.name, "string", nullable=False),
    q.field("description", TD.description, "string"),
    q.field("initialLimit", TD.initial_limit, "int", aliases=("limit", "initial_limit")),
    q.field("pricingMethod.fixedPrice.value", TD.fixed_price_cents, "money", aliases=("pricing_method.fixed_price.value",)),
    q.field(
        "pricingMethod.fixedPrice.currency",
        lambda ctx: case((TD.fixed_price_cents.is_not(None), TD.currency), else_=None),
        "string",
        aliases=("pricing_method.fixed_price.currency",),
    ),
    q.field(
        "pricingMethod.pricingType",
        TD.pricing_type,
        "enum",
        nullable=False,
        enum=("STANDARD", "DONATION"),
        aliases=("pricing_method.pricing_type", "pricingType"),
    ),
    q.field("pricingMethod.free", TD.free, "bool", ops=q.EQ_OPS, nullable=False, aliases=("pricing_method.free",)),
    q.field("feeType", TD.fee_type, "enum", nullable=False, enum=tuple(f.value for f in FeeType), aliases=("fee_type",)),
    q.field(
        "saleStatus",
        sale_status_expr,
        "enum",
        nullable=False,
        enum=tuple(s.value for s in SaleStatus),
        aliases=("sale_status",),
    ),
    q.field("hidden", TD.hidden, "bool", ops=q.EQ_OPS, nullable=False),
    q.field("createdDate", TD.created_date, "datetime", nullable=False, aliases=("_createdDate", "created_date")),
    q.field("updatedDate", TD.updated_date, "datetime", nullable=False, aliases=("_updatedDate", "updated_date")),
    # Boxoffice extension: the organiser's order as set by Reorder Ticket Definitions.
    q.field("sortIndex", TD.sort_index, "int", nullable=False),
]
QUERY = q.Spec(fields=_FIELDS, id_expr=TD.id, default_sort=[{"fieldName": "createdDate", "order": "ASC"}])
# Reorder "changes the order ... in the list of available tickets in the ticket picker":
# without an explicit sort, Query Available lists in the organiser's order.
AVAILABLE_QUERY = q.Spec(fields=_FIELDS, id_expr=TD.id, default_sort=[{"fieldName": "sortIndex", "order": "ASC"}])


# What a listed definition is read for (render and its wire form): the scheduler's
# bookkeeping, the site, the organiser's order and the event counter are left out, 6 of
# 32 columns a row (3 of them timestamps, each a Python call to convert). Built once:
# coercing 26 columns costs more than a Query's filter.
_LISTED = select(
    *[
        c for c in TD.__table__.columns
        if c.name not in {"site_id", "sort_index", "event_seq", "sale_started_for", "sale_ended_for", "next_sale_transition"}
    ]
)


def _site(principal: Principal, rows: bool = True) -> Any:
    """Definitions of the caller's site: read-only Rows, or ORM entities to change."""
    return (_LISTED if rows else select(TD)).where(TD.__table__.c.site_id == principal.site_id)


def _available(principal: Principal) -> Any:
    """What site visitors may list: definitions that aren't hidden (SDK: "ticket
    definitions that aren't in the hidden state"), and, for callers who cannot see
    draft events, only those of published events."""
    stmt = _site(principal).where(TD.hidden.is_(False))
    if not principal.can(Permission.MANAGE_EVENTS, Permission.MANAGE_TICKET_DEFINITIONS):
        stmt = stmt.join(Event.__table__, Event.id == TD.event_id).where(Event.state != EventState.DRAFT)
    return stmt


def query(
    session: Session | Connection, principal: Principal, raw: dict[str, Any] | None, secret: bytes, available: bool = False
) -> q.Page:
    ctx = q.Ctx(now=now())
    base = _available(principal) if available else _site(principal)
    scope = f"td{'-avail' if available else ''}:{principal.site_id}"
    spec = AVAILABLE_QUERY if available else QUERY
    return q.run_query(session, spec, base, raw, ctx, secret=secret, scope=scope)


def count(
    session: Session, principal: Principal, flt: Any, facets: Any, available: bool = False
) -> tuple[int, dict[str, Any]]:
    ctx = q.Ctx(now=now())
    base = _available(principal) if available else _site(principal)
    total = q.count(session, base, QUERY, flt, ctx)
    return total, q.facet_counts(session, base, QUERY, flt, facets, ctx)


# --- writing -------------------------------------------------------------------


def _apply_pricing(td: TD, pm: Any, event: Event, where: str) -> None:
    """Exactly one of fixedPrice / guestPrice / pricingOptions; derives pricingType and free."""
    if pm is None:
        raise InvalidArgument(where, "is required", "REQUIRED_FIELD")
    given = [k for k in ("fixed_price", "guest_price", "pricing_options") if getattr(pm, k) is not None]
    if len(given) != 1:
        raise InvalidArgument(where, "must have exactly one of fixedPrice, guestPrice or pricingOptions")
    td.fixed_price_cents = td.guest_price_cents = None
    td.price_options = None
    kind = given[0]
    if kind == "fixed_price":
        td.fixed_price_cents, currency = parse_money(pm.fixed_price, f"{where}.fixedPrice")
        td.free = td.fixed_price_cents == 0
    elif kind == "guest_price":
        td.guest_price_cents, currency = parse_money(pm.guest_price, f"{where}.guestPrice")
        td.free = td.guest_price_cents == 0
    else:
        opts = pm.pricing_options.option_details or []
        if not 1 <= len(opts) <= 100:
            raise InvalidArgument(f"{where}.pricingOptions.optionDetails", "must have 1 to 100 options", "MIN_SIZE")
        currencies = set()
        stored = []
        for i, o in enumerate(opts):
            ow = f"{where}.pricingOptions.optionDetails[{i}]"
            if not o.name:
                raise InvalidArgument(f"{ow}.name", "is required", "REQUIRED_FIELD")
            cents, cur = parse_money(o.price, f"{ow}.price")
            currencies.add(cur)
            oid = o.option_id if o.option_id and _is_guid(o.option_id) else str(uuid.uuid4())
            stored.append({"optionId": oid, "name": o.name, "cents": cents})
        if len(currencies) != 1:
            raise InvalidArgument(f"{where}.pricingOptions", "all options must have the same currency")
        if len({o["optionId"] for o in stored}) != len(stored):
            raise InvalidArgument(f"{where}.pricingOptions", "optionId values must be unique")
        currency = currencies.pop()
        td.price_options = stored
        td.free = all(o["cents"] == 0 for o in stored)
    td.pricing_type = "DONATION" if kind == "guest_price" else "STANDARD"
    if event.currency is None:
        event.currency = currency
    elif currency != event.currency:
        raise InvalidArgument(
            where,
            f"currency {currency} differs from the event's ticket currency {event.currency} (see Change Currency)",
        )
    td.currency = currency


def _is_guid(s: str) -> bool:
    try:
        uuid.UUID(s)
        return True
    except ValueError:
        return False


def _apply_fee(td: TD) -> None:
    if td.fee_type == FeeType.NO_FEE.value and not td.free:
        raise InvalidArgument("ticketDefinition.feeType", "NO_FEE is available only for free tickets")


def _apply_limit(td: TD, limit: int | None) -> None:
    if limit is not None and limit < td.sold_count + td.reserved_count:
        raise FailedPrecondition(
            f"initialLimit {limit} is below the {td.sold_count + td.reserved_count} tickets sold or reserved",
            code="LIMIT_BELOW_SOLD",
        )
    td.limited = limit is not None
    td.initial_limit = limit
    td.actual_limit = limit  # no seating plans: actualLimit follows initialLimit


def _apply_sale_period(td: TD, start: dt.datetime | None, end: dt.datetime | None, display: bool) -> None:
    start, end = _minute(start), _minute(end)
    if start is not None and end is not None and start >= end:
        raise FailedPrecondition("salePeriod.startDate must be before salePeriod.endDate", code="INVALID_SALE_PERIOD")
    td.sale_start, td.sale_end, td.display_not_on_sale = start, end, display


def create(session: Session, principal: Principal, req: CreateTicketDefinitionRequest) -> TD:
    d = req.ticket_definition
    w = "ticketDefinition"
    if not d.event_id:
        raise InvalidArgument(f"{w}.eventId", "is required", "REQUIRED_FIELD")
    if not d.name:
        raise InvalidArgument(f"{w}.name", "is required", "REQUIRED_FIELD")
    if d.fee_type is None:
        raise InvalidArgument(f"{w}.feeType", "is required", "REQUIRED_FIELD")
    if d.pricing_method is None:
        raise InvalidArgument(f"{w}.pricingMethod", "is required", "REQUIRED_FIELD")
    event = events.lock_for_update(session, principal.site_id, d.event_id)
    if event.initial_type != "TICKETING":
        raise FailedPrecondition(
            f"Event {event.id} is a {event.initial_type} event; ticket definitions need a TICKETING event",
            code="INVALID_EVENT_TYPE",
        )
    n, top = session.execute(
        select(func.count(), func.max(TD.sort_index)).where(TD.event_id == event.id)
    ).one()
    if n >= MAX_PER_EVENT:
        raise FailedPrecondition(
            f"An event can have at most {MAX_PER_EVENT} ticket definitions", code="TICKET_DEFINITIONS_LIMIT_REACHED"
        )
    t = now()
    td = TD(
        id=str(uuid.uuid4()),
        site_id=principal.site_id,
        event_id=event.id,
        revision=1,
        created_date=t,
        updated_date=t,
        name=d.name,
        description=d.description,
        policy_text=d.policy_text,
        hidden=bool(d.hidden),
        fee_type=d.fee_type.value,
        sort_index=(top if top is not None else -1) + 1,
        extended_fields=d.extended_fields.model_dump(exclude_none=True) if d.extended_fields else None,
        sold_count=0,
        reserved_count=0,
        event_seq=0,
    )
    _apply_pricing(td, d.pricing_method, event, f"{w}.pricingMethod")
    _apply_fee(td)
    _apply_limit(td, d.initial_limit)
    sp = d.sale_period
    _apply_sale_period(td, sp.start_date if sp else None, sp.end_date if sp else None, bool(sp and sp.display_not_on_sale))
    plan_sale_transitions(td, t, creating=True, was=None)
    session.add(td)
    session.flush()
    _emit(session, principal.webhook_identity(), td, "created", {"createdEvent": {"entity": wire.entity(td)}})
    return td


def _changed(paths: set[str] | None, sent: set[str], name: str) -> bool:
    """Whether wire field ``name`` is to change: named by the mask, else sent in the body."""
    if paths is None:
        return name in sent
    return any(p == name or p.startswith(name + ".") or name.startswith(p + ".") for p in paths)


def _wire_sent(d: TicketDefinitionIn) -> set[str]:
    out = set()
    for py in d.model_fields_set:
        out.add(TicketDefinitionIn.model_fields[py].alias or py)
    if d.sale_period is not None:
        for py in d.sale_period.model_fields_set:
            out.add("salePeriod." + (type(d.sale_period).model_fields[py].alias or py))
    return out


def _revision(value: Any) -> int:
    if value is None or value == "":
        raise FailedPrecondition("ticketDefinition.revision is required to update", code="REVISION_MISSING")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgument("ticketDefinition.revision", "must be an integer", "FORMAT") from None


def update(session: Session, principal: Principal, td_id: str, req: UpdateTicketDefinitionRequest) -> TD:
    """PATCH: fields named by ``mask``, or else those the request carries, change."""
    d = req.ticket_definition
    w = "ticketDefinition"
    if d.id is not None and d.id != td_id:
        raise InvalidArgument(f"{w}.id", "does not match the path")
    rev = _revision(d.revision)
    td = lock(session, select(TD).where(TD.id == td_id, TD.site_id == principal.site_id))
    if td is None:
        raise not_found(td_id)
    if rev != td.revision:
        raise FailedPrecondition(
            f"revision {rev} is stale; the current revision is {td.revision}",
            code="REVISION_MISMATCH",
            data={"currentRevision": str(td.revision)},
        )
    if d.event_id is not None and d.event_id != td.event_id:
        raise InvalidArgument(f"{w}.eventId", "cannot change", "CUSTOM")
    mask = field_mask(req.mask)
    paths = None if mask is None else set(mask)
    sent = _wire_sent(d)
    ch = lambda name: _changed(paths, sent, name)  # noqa: E731

    if ch("name"):
        if not d.name:
            raise InvalidArgument(f"{w}.name", "is required", "REQUIRED_FIELD")
        td.name = d.name
    if ch("description"):
        td.description = d.description
    if ch("policyText"):
        td.policy_text = d.policy_text
    if ch("hidden"):
        td.hidden = bool(d.hidden)
    if ch("extendedFields"):
        td.extended_fields = d.extended_fields.model_dump(exclude_none=True) if d.extended_fields else None
    if ch("pricingMethod"):
        event = session.get(Event, td.event_id)
        assert event is not None
        before = (td.fixed_price_cents, td.guest_price_cents, td.price_options, td.currency)
        _apply_pricing(td, d.pricing_method, event, f"{w}.pricingMethod")
        if td.sold_count > 0 and (td.fixed_price_cents, td.guest_price_cents, td.price_options, td.currency) != before:
            raise FailedPrecondition(
                "Tickets of this definition are sold; its price can no longer change", code="PRICE_LOCKED"
            )
    if ch("feeType"):
        if d.fee_type is None:
            raise InvalidArgument(f"{w}.feeType", "is required", "REQUIRED_FIELD")
        td.fee_type = d.fee_type.value
    _apply_fee(td)
    if ch("initialLimit"):
        _apply_limit(td, d.initial_limit)
    period_before = (td.sale_start, td.sale_end, td.display_not_on_sale)
    t = now()
    was = sale_status(td, t)
    sp = d.sale_period
    start, end, display = period_before
    if ch("salePeriod.startDate"):
        start = sp.start_date if sp else None
    if ch("salePeriod.endDate"):
        end = sp.end_date if sp else None
    if ch("salePeriod.displayNotOnSale"):
        display = bool(sp and sp.display_not_on_sale)
    _apply_sale_period(td, start, end, display)
    period_changed = (td.sale_start, td.sale_end, td.display_not_on_sale) != period_before
    if period_changed:
        plan_sale_transitions(td, t, creating=False, was=was)

    td.revision += 1
    td.updated_date = now()
    session.flush()
    _emit_updated(session, principal, td, period_changed)
    return td


def _delete(session: Session, principal: Principal, td: TD) -> None:
    if td.sold_count > 0 or td.reserved_count > 0:
        raise FailedPrecondition(
            f"Ticket definition {td.id} has sold or reserved tickets and cannot be deleted",
            code="TICKET_DEFINITION_HAS_SALES",
        )
    _emit(session, principal.webhook_identity(), td, "deleted", {"deletedEvent": {"deletedEntity": wire.entity(td)}})
    session.delete(td)


def delete(session: Session, principal: Principal, td_id: str) -> None:
    td = lock(session, select(TD).where(TD.id == td_id, TD.site_id == principal.site_id))
    if td is None:
        raise not_found(td_id)
    _delete(session, principal, td)
    session.flush()


def delete_all_of_event(session: Session, principal: Principal, event: Event) -> None:
    for td in session.scalars(select(TD).where(TD.event_id == event.id).order_by(TD.sort_index).with_for_update()):
        _delete(session, principal, td)
    session.flush()


def clone_all_of_event(session: Session, principal: Principal, src: Event, copy: Event) -> dict[str, str]:
    """Clone Event: each definition of ``src`` again in ``copy``, in the same order, with
    no sales; its own `created` event. Returns {original id: copy id}."""
    t = now()
    copied: dict[str, str] = {}
    for old in session.scalars(select(TD).where(TD.event_id == src.id).order_by(TD.sort_index, TD.created_date)):
        new = TD(
            id=str(uuid.uuid4()),
            site_id=copy.site_id,
            event_id=copy.id,
            revision=1,
            created_date=t,
            updated_date=t,
            sold_count=0,
            reserved_count=0,
            event_seq=0,
            **{c: getattr(old, c) for c in _COPIED},
        )
        plan_sale_transitions(new, t, creating=True, was=None)
        session.add(new)
        session.flush()
        _emit(session, principal.webhook_identity(), new, "created", {"createdEvent": {"entity": wire.entity(new)}})
        copied[old.id] = new.id
    return copied


# What a clone keeps of a definition (sales, ids, dates and the scheduler's marks are new).
_COPIED = (
    "name", "description", "policy_text", "hidden", "limited", "initial_limit", "actual_limit",
    "fixed_price_cents", "guest_price_cents", "price_options", "pricing_type", "free", "currency",
    "fee_type", "sale_start", "sale_end", "display_not_on_sale", "sort_index", "extended_fields",
)


# Deleting an event deletes its definitions (or is refused while one has sales); cloning
# one copies them.
events.hooks.deleting.append(delete_all_of_event)
events.hooks.cloning.append(clone_all_of_event)


def present_registration(session: Session, principal: Principal, evs: Sequence[Event]) -> dict[str, dict[str, Any]]:
    """Events v3's REGISTRATION fieldset, the part ticket definitions know: per event,
    registration.tickets.lowestPrice / highestPrice over its definitions that guests see
    (not hidden; a price-option definition counts each option, a guest-priced one its
    minimum), and soldOut: it has such definitions and every one is sold out (seats of
    holds past their expiry count as free). A sold-out ticketed event's open
    registration reads CLOSED_AUTOMATICALLY. One query for all the events."""
    ids = [e.id for e in evs]
    tds = list(session.scalars(select(TD).where(TD.event_id.in_(ids), TD.hidden.is_(False)))) if ids else []
    t = now()
    overdue = overdue_holds(session, due(tds, t), t)
    prices: dict[str, list[tuple[int, str]]] = {}
    left: dict[str, list[bool]] = {}
    for td in tds:
        if td.fixed_price_cents is not None:
            cents = [td.fixed_price_cents]
        elif td.guest_price_cents is not None:
            cents = [td.guest_price_cents]
        else:
            cents = [o["cents"] for o in td.price_options or []]
        prices.setdefault(td.event_id, []).extend((c, td.currency) for c in cents)
        left.setdefault(td.event_id, []).append(sold_out(unsold(td, overdue.get(td.id, 0))))
    out: dict[str, dict[str, Any]] = {}
    for e in evs:
        tickets: dict[str, Any] = {"soldOut": bool(left.get(e.id)) and all(left[e.id])}
        if prices.get(e.id):
            lo, hi = min(prices[e.id]), max(prices[e.id])
            tickets["lowestPrice"], tickets["highestPrice"] = money(*lo), money(*hi)
        reg: dict[str, Any] = {"tickets": tickets}
        if tickets["soldOut"] and events_wire.registration_status(e, t) == "OPEN_TICKETS":
            reg["status"] = "CLOSED_AUTOMATICALLY"
        out[e.id] = {"registration": reg}
    return out


events.hooks.presenting.setdefault(EventField.REGISTRATION.value, []).append(present_registration)


def bulk_delete(session: Session, principal: Principal, flt: Any) -> int:
    ctx = q.Ctx(now=now())
    cond = q.compile_filter(QUERY, flt, ctx, "filter")
    stmt = _site(principal, rows=False).where(cond).order_by(TD.created_date, TD.id).with_for_update()
    tds = list(session.scalars(stmt))
    for td in tds:
        _delete(session, principal, td)
    session.flush()
    return len(tds)


def reorder(session: Session, principal: Principal, req: ReorderTicketDefinitionsRequest) -> None:
    """Move one definition before/after another; if both are given the `after` wins."""
    event = events.lock_for_update(session, principal.site_id, req.event_id)
    after = req.after_definition_id or req.after_ticket_definition_id
    before = req.before_definition_id or req.before_ticket_definition_id
    tds = list(session.scalars(select(TD).where(TD.event_id == event.id).order_by(TD.sort_index, TD.created_date)))
    ordering.move(
        tds, lambda td: td.id, req.ticket_definition_id, before, after,
        missing=lambda: NotFound(
            f"Ticket definition {req.ticket_definition_id} not found in event {event.id}", code="TICKET_DEFINITION_NOT_FOUND"
        ),
        names=("beforeDefinitionId", "afterDefinitionId", f"another definition of event {event.id}"),
    )
    session.flush()


def change_currency(session: Session, principal: Principal, req: ChangeCurrencyRequest) -> None:
    """All of an event's definitions and the event itself move to ``currency`` at once."""
    currency = check_currency(req.currency, "currency")
    event = events.lock_for_update(session, principal.site_id, req.event_id)
    tds = list(session.scalars(select(TD).where(TD.event_id == event.id).order_by(TD.sort_index).with_for_update()))
    if any(td.sold_count > 0 for td in tds):
        raise FailedPrecondition(
            "The event has sold tickets; its currency can no longer change", code="CURRENCY_LOCKED"
        )
    t = now()
    for td in tds:
        if td.currency != currency:
            td.currency = currency
            td.revision += 1
            td.updated_date = t
    event.currency = currency
    event.revision += 1
    event.updated_date = t
    session.flush()
    for td in tds:
        if td.updated_date == t:
            _emit_updated(session, principal, td, period_changed=False)
    events.emit_updated(session, principal, event)
