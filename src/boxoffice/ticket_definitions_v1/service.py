"""Ticket Definitions v1 (legacy `TicketDefinitionManagement`): an adapter over Ticket
Definitions v3, by the Wix method names.

There is one store: every write is a call of the v3 service (``ticket_definitions.service``:
its permissions, limits, validation, event checks, inventory and v3 domain events), with
the v1 request translated by ``wire``; a v3 refusal names the v1 field that caused it.
Reads present the v3 row. What v1 adds of its own:

* ``orderIndex`` on Create/Update sets the sort index Reorder Ticket Definitions moves;
* Delete by ids or all of an event, in one unit (all or nothing);
* the legacy webhooks ``wix.events.ticketing.events.TicketDefinition{Created,Updated,Deleted}``
  for the changes made through v1, written in the same unit after v3's own events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from .. import outbox
from .. import query as q
from ..db import lock, now
from ..errors import InvalidArgument, NotFound, violations_from_pydantic
from ..events import service as events
from ..events.models import Event
from ..fields import field_mask, fieldsets
from ..identity import Principal
from ..money import check_currency
from ..ticket_definitions import schemas as v3_schemas
from ..ticket_definitions import service as v3
from ..ticket_definitions.inventory import due, overdue_holds
from ..ticket_definitions.models import TicketDefinition as TD
from . import wire
from .schemas import (
    ChangeCurrencyRequest,
    CreateTicketDefinitionRequest,
    Fieldset,
    QueryTicketDefinitionsRequest,
    SaleStatus,
    State,
    TicketDefinitionData,
    UpdateTicketDefinitionRequest,
)

CREATED, UPDATED, DELETED = "TicketDefinitionCreated", "TicketDefinitionUpdated", "TicketDefinitionDeleted"
# The typings: a page holds at most 100; byId.definitionId 1-100; eventId @maxSize 100;
# eventCreatorId @maxSize 1; saleStatus @maxSize 5; state @maxSize 20; facet @maxSize 10.
MAX_LIMIT = 100
MAX_IDS = 100
MAX_EVENT_IDS = 100
MAX_FACETS = 10

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


# --- v3 calls, named in v1 terms ----------------------------------------------------------


def _renamed(violations: list[dict[str, str]], priced_by: str) -> InvalidArgument:
    return InvalidArgument.many([{**v, "field": wire.v1_field(v["field"], priced_by)} for v in violations])


def _v3_request(model: type[M], data: dict[str, Any], priced_by: str) -> M:
    """The v3 request (its own bounds are checked again: a refusal names the v1 field)."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise _renamed(violations_from_pydantic([dict(x) for x in e.errors()]), priced_by) from None


def _as_v1(priced_by: str, call: Callable[[], T]) -> T:
    """Run a v3 write; a 400 it raises names the v1 field (``definition.pricing...``)."""
    try:
        return call()
    except InvalidArgument as e:
        raise _renamed(e.violations, priced_by) from None


def _emit(session: Session, principal: Principal, td: TD, name: str, sequence: int | None = None) -> None:
    """A legacy webhook (data: ``{timestamp, ticketDefinitionId, eventId}``). It takes the
    next number of the definition's event sequence, which v3's events share."""
    if sequence is None:
        td.event_seq += 1
        sequence = td.event_seq
    outbox.record_legacy(
        session,
        site_id=td.site_id,
        identity=principal.webhook_identity(),
        name=name,
        entity_id=td.id,
        sequence=sequence,
        data=wire.event_data(td),
    )


def _paths(raw: Any, d: TicketDefinitionData, where: str) -> set[str]:
    paths = wire.normalize(raw, d)
    if isinstance(paths, str):
        raise InvalidArgument(where, f'"{paths}" is not a field of a ticket definition')
    return paths


# --- reading ----------------------------------------------------------------------------


def render(session: Session, tds: list[Any], wanted: list[str]) -> list[dict[str, Any]]:
    """v1 dicts for many definitions; seats of reservations past their expiry read as free
    (one grouped query, only for definitions whose earliest hold is due)."""
    t = now()
    overdue = overdue_holds(session, due(tds, t), t)
    return [wire.to_wire(td, wanted, t, overdue.get(td.id, 0)) for td in tds]


def check_fieldsets(values: Any, name: str = "fieldset") -> list[str]:
    return fieldsets(values, Fieldset, name)


def get(session: Session, principal: Principal, td_id: str) -> Any:
    """Get Ticket Definition: v3's read (its site only; another site's is 404)."""
    return v3.get(session, principal, td_id)


_FIELDS = [
    q.field("id", TD.id, "string", nullable=False, aliases=("_id",)),
    q.field("eventId", TD.event_id, "string", nullable=False, aliases=("event_id",)),
    q.field("name", TD.name, "string", nullable=False),
    q.field("description", TD.description, "string"),
    q.field("free", TD.free, "bool", ops=q.EQ_OPS, nullable=False),
    q.field("hidden", TD.hidden, "bool", ops=q.EQ_OPS, nullable=False, aliases=("dashboard.hidden",)),
    q.field("limited", TD.limited, "bool", ops=q.EQ_OPS, nullable=False, aliases=("dashboard.limited",)),
    q.field("quantity", TD.initial_limit, "int", aliases=("dashboard.quantity",)),
    q.field("orderIndex", TD.sort_index, "int", nullable=False, aliases=("order_index",)),
    q.field(
        "pricing.pricingType", TD.pricing_type, "enum", nullable=False, enum=("STANDARD", "DONATION"),
        aliases=("pricingType",),
    ),
    q.field(
        "saleStatus", v3.sale_status_expr, "enum", nullable=False, enum=tuple(s.value for s in SaleStatus),
        aliases=("sale_status",),
    ),
    q.field("created", TD.created_date, "datetime", nullable=False, aliases=("createdDate", "_createdDate")),
    q.field("updated", TD.updated_date, "datetime", nullable=False, aliases=("updatedDate", "_updatedDate")),
]
QUERY = q.Spec(fields=_FIELDS, id_expr=TD.id, default_sort=[{"fieldName": "created", "order": "ASC"}])

# The legacy `sort` string: "field:direction", several comma-joined.
SORTS = {
    "created": TD.created_date,
    "updated": TD.updated_date,
    "name": TD.name,
    "orderIndex": TD.sort_index,
    "order_index": TD.sort_index,
}
DEFAULT_SORT = "created:asc"


def _order_by(value: str | None) -> list[Any]:
    out = []
    for part in (value or DEFAULT_SORT).split(","):
        name, _, direction = part.strip().partition(":")
        col = SORTS.get(name)
        if col is None or direction.lower() not in ("", "asc", "desc"):
            raise InvalidArgument("sort", f'unsupported sort "{part}"; use e.g. {DEFAULT_SORT}, name:desc or orderIndex:asc')
        out.append(col.desc() if direction.lower() == "desc" else col.asc())
    return [*out, TD.id.asc()]


def _site(principal: Principal) -> Select[Any]:
    """Read-only rows of the caller's site (a manager's read: hidden ones included)."""
    return select(TD.__table__).where(TD.site_id == principal.site_id)


def _page(
    session: Session, base: Select[Any], offset: int, limit: int, sort: str | None, facets: list[str] | None, ctx: q.Ctx
) -> tuple[list[Any], int, dict[str, Any]]:
    order = _order_by(sort)
    if facets is not None and len(facets) > MAX_FACETS:
        raise InvalidArgument("facet", f"has more than {MAX_FACETS} values", "MAX_SIZE")
    counted = q.facet_counts(session, base, QUERY, None, facets, ctx) if facets else {}
    total = q.count(session, base, QUERY, None, ctx)
    rows = list(session.connection().execute(base.order_by(*order).offset(offset).limit(limit)).all())
    return rows, total, counted


def query(
    session: Session, principal: Principal, req: QueryTicketDefinitionsRequest
) -> tuple[list[Any], int, dict[str, Any]]:
    """Query Ticket Definitions (v1): ``filter`` in the query language over the v1 field
    names (:data:`QUERY`), the legacy ``sort`` string, offset paging; facet counts."""
    ctx = q.Ctx(now=now())
    base = _site(principal).where(q.compile_filter(QUERY, req.filter, ctx, "filter"))
    return _page(session, base, req.offset or 0, req.limit or MAX_LIMIT, req.sort, req.facet, ctx)


def query_v2(session: Session, principal: Principal, raw: dict[str, Any] | None, secret: bytes) -> q.Page:
    """Query Ticket Definitions V2: QueryV2 (filter, sort, paging or cursorPaging; cursor
    by default) over the v1 field names."""
    ctx = q.Ctx(now=now())
    return q.run_query(session, QUERY, _site(principal), raw, ctx, secret=secret, scope=f"tdv1:{principal.site_id}")


def _values(p: dict[str, Any], name: str, allowed: Any, most: int) -> list[str]:
    vals = p.get(name) or []
    if len(vals) > most:
        raise InvalidArgument(name, f"has more than {most} values", "MAX_SIZE")
    known = {a.value for a in allowed} if allowed is not None else None
    for v in vals:
        if known is not None and v not in known:
            raise InvalidArgument(name, f'unknown value "{v}"; one of {", ".join(sorted(known))}')
    return list(vals)


def list_definitions(session: Session, principal: Principal, p: dict[str, Any]) -> tuple[list[Any], int, dict[str, Any]]:
    """List Ticket Definitions: by events, their creator, state (VISIBLE/HIDDEN and
    FREE/PAID: either of a pair, both pairs together) and sale status."""
    ctx = q.Ctx(now=now())
    base = _site(principal)
    event_ids = _values(p, "eventId", None, MAX_EVENT_IDS)
    if event_ids:
        base = base.where(TD.event_id.in_(event_ids))
    creators = _values(p, "eventCreatorId", None, 1)
    if creators:
        base = base.where(TD.event_id.in_(select(Event.id).where(Event.site_id == principal.site_id, Event.user_id.in_(creators))))
    states = set(_values(p, "state", State, 20))
    shown = [cond for s, cond in ((State.VISIBLE, TD.hidden.is_(False)), (State.HIDDEN, TD.hidden.is_(True))) if s.value in states]
    priced = [cond for s, cond in ((State.FREE, TD.free.is_(True)), (State.PAID, TD.free.is_(False))) if s.value in states]
    for group in (shown, priced):
        if group:
            base = base.where(or_(*group))
    status = _values(p, "saleStatus", SaleStatus, 5)
    if status:
        base = base.where(v3.sale_status_expr(ctx).in_(status))
    sort = p.get("sort")
    if isinstance(sort, list):
        raise InvalidArgument("sort", "must be one string")
    return _page(session, base, p["offset"], p["limit"] or MAX_LIMIT, sort, p.get("facet"), ctx)


# --- writing ----------------------------------------------------------------------------


def create(session: Session, principal: Principal, req: CreateTicketDefinitionRequest) -> TD:
    """Create Ticket Definition: v3's Create (event type, 100 per event, one currency per
    event, fee and sale period rules, its `created` event), then orderIndex if given, then
    the legacy TicketDefinitionCreated. Without a currency the price is in the event's."""
    event = events.lock_for_update(session, principal.site_id, req.event_id)
    d = req.definition
    if not d.name:
        raise InvalidArgument("definition.name", "is required", "REQUIRED_FIELD")
    if d.pricing is None and d.price is None:
        raise InvalidArgument("definition.pricing", "is required (or the legacy definition.price)", "REQUIRED_FIELD")
    paths = _paths(wire.sent_paths(d), d, "definition") | {"wixFeeConfig"}
    body, priced_by, missing = wire.v3_definition(d, paths, event.currency, None)
    if missing:
        raise InvalidArgument(f"definition.{missing}", "is required when limited is true", "REQUIRED_FIELD")
    body["eventId"] = event.id
    body["feeType"] = body.get("feeType") or "FEE_ADDED_AT_CHECKOUT"  # the typings' default
    v3_req = _v3_request(v3_schemas.CreateTicketDefinitionRequest, {"ticketDefinition": body}, priced_by)
    td = _as_v1(priced_by, lambda: v3.create(session, principal, v3_req))
    if d.order_index is not None:
        td.sort_index = d.order_index
        session.flush()
    _emit(session, principal, td, CREATED)
    return td


def update(session: Session, principal: Principal, td_id: str, req: UpdateTicketDefinitionRequest) -> TD:
    """Update Ticket Definition: the fields ``fields`` names, or else those the request
    carries, through v3's Update (its revision is the current one: v1 knows none)."""
    td = lock(session, select(TD).where(TD.id == td_id, TD.site_id == principal.site_id))
    if td is None or td.event_id != req.event_id:
        raise v3.not_found(td_id)
    d = req.definition or TicketDefinitionData()
    mask = field_mask(req.fields, "fields")
    paths = _paths(wire.sent_paths(d) if mask is None else mask, d, "fields")
    if "orderIndex" in paths and d.order_index is None:
        raise InvalidArgument("definition.orderIndex", "is required", "REQUIRED_FIELD")
    currency = None
    if paths & {"price", "pricing"}:
        event = session.get(Event, td.event_id)
        currency = event.currency if event is not None else None
    body, priced_by, missing = wire.v3_definition(d, paths, currency, td.initial_limit)
    if missing:
        raise InvalidArgument(f"definition.{missing}", "is required when limited is true", "REQUIRED_FIELD")
    body["revision"] = str(td.revision)
    v3_req = _v3_request(
        v3_schemas.UpdateTicketDefinitionRequest, {"ticketDefinition": body, "mask": wire.v3_mask(paths)}, priced_by
    )
    td = _as_v1(priced_by, lambda: v3.update(session, principal, td_id, v3_req))
    if "orderIndex" in paths and d.order_index is not None:
        td.sort_index = d.order_index
        session.flush()
    _emit(session, principal, td, UPDATED)
    return td


def delete(session: Session, principal: Principal, event_id: str | None, ids: list[str] | None, everything: bool) -> int:
    """Delete Ticket Definition: those of ``ids`` (1-100, all of ``event_id``) or every
    definition of the event, each through v3's Delete (refused while it has sales or
    holds); all or nothing. Returns how many went."""
    if not event_id:
        raise InvalidArgument("eventId", "is required", "REQUIRED_FIELD")
    if everything and ids:
        raise InvalidArgument("byId", "give byId or all, not both")
    if not everything:
        if not ids:
            raise InvalidArgument("byId.definitionId", "is required (or all: true)", "REQUIRED_FIELD")
        if len(ids) > MAX_IDS:
            raise InvalidArgument("byId.definitionId", f"has more than {MAX_IDS} ids", "MAX_SIZE")
    event = events.lock_for_update(session, principal.site_id, event_id)
    stmt = select(TD).where(TD.event_id == event.id)
    if not everything:
        stmt = stmt.where(TD.id.in_(set(ids or [])))
    tds = list(session.scalars(stmt.order_by(TD.id).with_for_update()))
    found = {td.id for td in tds}
    for td_id in ids or []:
        if td_id not in found:
            raise NotFound(f"Ticket definition {td_id} not found in event {event.id}", code="TICKET_DEFINITION_NOT_FOUND")
    for td in tds:
        v3.delete(session, principal, td.id)
        _emit(session, principal, td, DELETED, sequence=td.event_seq + 1)
    return len(tds)


def change_currency(session: Session, principal: Principal, req: ChangeCurrencyRequest) -> None:
    """Change Currency: v3's (every definition of the event and the event itself, at once;
    refused with CURRENCY_LOCKED once a ticket is sold); each definition whose currency
    changed also says TicketDefinitionUpdated."""
    if not req.event_id:
        raise InvalidArgument("eventId", "is required", "REQUIRED_FIELD")
    currency = check_currency(req.currency, "currency")
    events.lock_for_update(session, principal.site_id, req.event_id)
    mine = and_(TD.event_id == req.event_id, TD.site_id == principal.site_id)
    before = dict(session.execute(select(TD.id, TD.currency).where(mine)).tuples().all())
    v3.change_currency(session, principal, v3_schemas.ChangeCurrencyRequest(event_id=req.event_id, currency=currency))
    for td in session.scalars(select(TD).where(mine).order_by(TD.sort_index, TD.id)):
        if before.get(td.id) != td.currency:
            _emit(session, principal, td, UPDATED)
    session.flush()
