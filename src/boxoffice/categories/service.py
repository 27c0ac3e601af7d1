"""Event categories: the rules of the 13 methods of `@wix/auto_sdk_events_categories`.

* Categories are per site; names are 1-30 characters (typings), unique in the site, and
  a site holds at most ``MAX_CATEGORIES_PER_SITE`` of them.
* An event can be in several categories; a category's events keep an order
  (``sort_index``: assigned last = last; Reorder Category Events moves one).
* Every event named must be an event of the caller's site (404 otherwise, another
  site's ids included); the by-filter variants take an Events v3 filter, compiled by the
  kernel's query compiler against the Events query surface (plus ``name`` = ``title``,
  which the typings list). They complete synchronously.
* Visitors (no "Manage Events") see categories that are not ``HIDDEN``, and only
  non-draft events: counts leave drafts out, List Event Categories of a draft is a 404.
* Deleting an event drops its assignments (``events.hooks.deleting``).

The SDK defines no webhooks for categories, so none are written to the outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, case, delete, func, select
from sqlalchemy.orm import Session

from .. import limits, ordering
from .. import query as q
from ..db import advisory_lock, lock, now
from ..errors import AlreadyExists, FailedPrecondition, FilterParserError, InvalidArgument, NotFound, WixError
from ..events import service as events
from ..events.models import Event, EventState
from ..events.schemas import EventField
from ..identity import Permission, Principal
from ..timefmt import iso
from . import wire
from .models import STATE_COLUMNS, Category, CategoryEvent, CategoryState
from .schemas import (
    BULK_CATEGORIES_MAX,
    BULK_EVENTS_MAX,
    EVENTS_PER_CALL_MAX,
    MAX_CATEGORIES_PER_SITE,
    NAME_MAX,
    CategoryIn,
    ReorderCategoryEventsRequest,
)


def _manager(principal: Principal) -> bool:
    return principal.can(Permission.MANAGE_EVENTS)


def _visible(principal: Principal) -> Any:
    cond = Category.site_id == principal.site_id
    if not _manager(principal):
        cond = cond & Category.state_hidden.is_(False)
    return cond


def _not_found(category_id: str) -> NotFound:
    return NotFound(f"Category {category_id} not found", code="CATEGORY_NOT_FOUND")


def _lock_category(session: Session, principal: Principal, category_id: str) -> Category:
    c = lock(session, select(Category).where(Category.id == category_id, Category.site_id == principal.site_id))
    if c is None:
        raise _not_found(category_id)
    return c


def _ids(values: Iterable[str] | None, where: str, lo: int, hi: int) -> list[str]:
    """A list of ids from the request: its size within the typings' bounds, duplicates dropped."""
    vals = list(values or [])
    if len(vals) < lo:
        raise InvalidArgument(where, f"must have at least {lo} item(s)", "MIN_SIZE" if lo > 1 or vals else "REQUIRED_FIELD")
    if len(vals) > hi:
        raise InvalidArgument(where, f"must have at most {hi} item(s)", "MAX_SIZE")
    if not all(isinstance(v, str) and v for v in vals):
        raise InvalidArgument(where, "must be a list of ids", "FORMAT")
    return list(dict.fromkeys(vals))


def _lock_events(session: Session, site_id: str, event_ids: list[str]) -> list[str]:
    """The events, locked in id order (so a concurrent Delete Event waits or goes first);
    an id that is not an event of this site is a 404."""
    found = set(
        session.scalars(
            select(Event.id).where(Event.site_id == site_id, Event.id.in_(event_ids)).order_by(Event.id).with_for_update()
        ).all()
    )
    for e in event_ids:
        if e not in found:
            raise NotFound(f"Event {e} not found", code="EVENT_NOT_FOUND")
    return event_ids


# --- categories -------------------------------------------------------------------------


def _name(value: str | None, where: str) -> str:
    if value is None or not value.strip():
        raise InvalidArgument(where, "is required", "REQUIRED_FIELD")
    if len(value) > NAME_MAX:
        raise InvalidArgument(where, f"must be at most {NAME_MAX} characters", "MAX_LENGTH")
    return value


def _check_name_free(session: Session, site_id: str, name: str, category_id: str | None) -> None:
    other = session.scalars(select(Category.id).where(Category.site_id == site_id, Category.name == name)).first()
    if other is not None and other != category_id:
        raise AlreadyExists(f'A category named "{name}" already exists', code="CATEGORY_ALREADY_EXISTS")


def _states(values: list[Any] | None) -> list[str]:
    out = [getattr(v, "value", v) for v in values or []]
    return out or [CategoryState.MANUAL.value]


def create(session: Session, principal: Principal, ci: CategoryIn, where: str = "category") -> Category:
    name = _name(ci.name, f"{where}.name")
    # one writer of a site's categories at a time: the count and the name stay exact
    advisory_lock(session, f"categories:{principal.site_id}")
    n = session.scalar(select(func.count()).select_from(Category).where(Category.site_id == principal.site_id)) or 0
    if n >= MAX_CATEGORIES_PER_SITE:
        raise FailedPrecondition(
            f"A site has at most {MAX_CATEGORIES_PER_SITE} categories", code="CATEGORY_LIMIT_REACHED"
        )
    _check_name_free(session, principal.site_id, name, None)
    c = Category(id=str(uuid.uuid4()), site_id=principal.site_id, name=name, created_date=now())
    c.states = _states(ci.states)
    session.add(c)
    session.flush()
    return c


def bulk_create(session: Session, principal: Principal, items: list[CategoryIn]) -> list[dict[str, Any]]:
    """Each item on its own: a refused one is reported in its result, the others are made.
    (Every check runs before anything of that item is written.)"""
    results = []
    for i, ci in enumerate(items):
        try:
            c = create(session, principal, ci, f"categories[{i}]")
        except WixError as e:
            results.append(wire.item_result(i, None, None, {"code": e.code, "description": e.description}))
        else:
            results.append(wire.item_result(i, c.id, wire.to_wire(c), None))
    return results


def update(session: Session, principal: Principal, category_id: str, ci: CategoryIn) -> Category:
    """PATCH: only what the request carries changes."""
    c = _lock_category(session, principal, category_id)
    sent = ci.model_fields_set
    if "name" in sent:
        name = _name(ci.name, "category.name")
        if name != c.name:
            advisory_lock(session, f"categories:{principal.site_id}")
            _check_name_free(session, principal.site_id, name, c.id)
            c.name = name
    if "states" in sent and ci.states is not None:
        c.states = _states(ci.states)
    session.flush()
    return c


def delete_category(session: Session, principal: Principal, category_id: str) -> None:
    c = _lock_category(session, principal, category_id)
    session.execute(delete(CategoryEvent).where(CategoryEvent.category_id == c.id))
    session.delete(c)
    session.flush()


def counts(session: Session, principal: Principal, ids: list[str]) -> dict[str, tuple[int, int | None]]:
    """(non-draft, draft) events assigned to each category; drafts None for a visitor."""
    if not ids:
        return {}
    draft = case((Event.state == EventState.DRAFT, 1), else_=0)
    rows = session.execute(
        select(CategoryEvent.category_id, func.count(), func.sum(draft))
        .join(Event, and_(Event.id == CategoryEvent.event_id, Event.site_id == CategoryEvent.site_id))
        .where(CategoryEvent.site_id == principal.site_id, CategoryEvent.category_id.in_(ids))
        .group_by(CategoryEvent.category_id)
    ).all()
    by_id = {cid: (int(total) - int(drafts or 0), int(drafts or 0)) for cid, total, drafts in rows}
    manager = _manager(principal)
    out: dict[str, tuple[int, int | None]] = {}
    for cid in ids:
        published, drafts = by_id.get(cid, (0, 0))
        out[cid] = (published, drafts if manager else None)
    return out


QUERY = q.Spec(
    fields=[
        q.field("id", Category.id, "string", ops=q.EQ_OPS, nullable=False),
        q.field("name", Category.name, "string", ops=q.EQ_OPS, nullable=False),
        q.field("createdDate", Category.created_date, "datetime", nullable=False),
        # what `states: {$hasSome: [...]}` is rewritten to (one flag per state)
        *[
            q.field(f"states.{s.value}", getattr(Category, col), "bool", ops=q.EQ_OPS, sortable=False, nullable=False)
            for s, col in STATE_COLUMNS.items()
        ],
    ],
    id_expr=Category.id,
    default_sort=[{"fieldName": "createdDate", "order": "ASC"}],
    max_limit=1000,
    default_limit=50,
)


def _rewrite_states(flt: Any, where: str) -> Any:
    """``{"states": {"$hasSome": [A, B]}}`` -> ``{"$or": [{"states.A": true}, {"states.B": true}]}``.
    Runs after q.check_filter, so the filter is bounded (depth, size) already."""
    if isinstance(flt, list):
        return [_rewrite_states(x, f"{where}[{i}]") for i, x in enumerate(flt)]
    if not isinstance(flt, dict):
        return flt
    out: dict[str, Any] = {}
    extra: list[Any] = []
    for k, v in flt.items():
        if k == "states":
            conds = v if isinstance(v, dict) and v and all(str(op).startswith("$") for op in v) else None
            if conds is None or set(conds) != {"$hasSome"} or not isinstance(conds["$hasSome"], list):
                raise FilterParserError(f"{where}.states", "supports only $hasSome with an array of states")
            states = conds["$hasSome"]
            for s in states:
                if s not in CategoryState.__members__:
                    raise FilterParserError(f"{where}.states.$hasSome", f"must be among {', '.join(CategoryState)}")
            extra.append({"$or": [{f"states.{s}": True} for s in states]})
        elif k in ("$and", "$or", "$not"):
            out[k] = _rewrite_states(v, f"{where}.{k}")
        else:
            out[k] = v
    if extra:
        return {"$and": [out, *extra]} if out else ({"$and": extra} if len(extra) > 1 else extra[0])
    return out


def query(session: Session, principal: Principal, raw_query: dict[str, Any] | None, secret: bytes) -> q.Page:
    raw_query = dict(raw_query or {})
    flt = raw_query.get("filter")
    if flt is not None:
        q.check_filter(flt)
        raw_query["filter"] = _rewrite_states(flt, "query.filter")
    return q.run_query(
        session,
        QUERY,
        select(Category).where(_visible(principal)),
        raw_query,
        q.Ctx(now=now()),
        secret=secret,
        scope=f"categories:{principal.site_id}",
        default_mode="offset",
    )


def list_event_categories(session: Session, principal: Principal, event_id: str) -> list[Category]:
    """The event's categories that are not HIDDEN (typings), oldest first; the event must
    be one the caller may see (a visitor: not a draft)."""
    e = events.get(session, principal, event_id)
    return list(
        session.scalars(
            select(Category)
            .join(CategoryEvent, CategoryEvent.category_id == Category.id)
            .where(
                CategoryEvent.event_id == e.id,
                Category.site_id == principal.site_id,
                Category.state_hidden.is_(False),
            )
            .order_by(Category.created_date, Category.id)
        ).all()
    )


# --- assignments ------------------------------------------------------------------------


def _assign(session: Session, category: Category, event_ids: list[str]) -> None:
    """Append the events not yet in the category at its end, in the order given."""
    have = set(
        session.scalars(
            select(CategoryEvent.event_id).where(
                CategoryEvent.category_id == category.id, CategoryEvent.event_id.in_(event_ids)
            )
        ).all()
    )
    new = [e for e in event_ids if e not in have]
    if not new:
        return
    top = session.scalar(select(func.max(CategoryEvent.sort_index)).where(CategoryEvent.category_id == category.id))
    start = -1 if top is None else top
    for n, e in enumerate(new, start=start + 1):
        session.add(CategoryEvent(category_id=category.id, event_id=e, site_id=category.site_id, sort_index=n))
    session.flush()


def _unassign(session: Session, category: Category, event_ids: list[str] | None) -> None:
    stmt = delete(CategoryEvent).where(CategoryEvent.category_id == category.id)
    if event_ids is not None:
        stmt = stmt.where(CategoryEvent.event_id.in_(event_ids))
    session.execute(stmt)
    session.flush()


def assign_events(session: Session, principal: Principal, category_id: str, event_ids: list[str]) -> None:
    ids = _ids(event_ids, "eventId", 1, EVENTS_PER_CALL_MAX)
    c = _lock_category(session, principal, category_id)
    _assign(session, c, _lock_events(session, principal.site_id, ids))


def unassign_events(session: Session, principal: Principal, category_id: str, event_ids: list[str] | None) -> None:
    ids = _ids(event_ids, "eventId", 1, EVENTS_PER_CALL_MAX)
    c = _lock_category(session, principal, category_id)
    _unassign(session, c, _lock_events(session, principal.site_id, ids))


def _lock_categories(session: Session, principal: Principal, category_ids: list[str]) -> dict[str, Category]:
    rows = session.scalars(
        select(Category)
        .where(Category.site_id == principal.site_id, Category.id.in_(category_ids))
        .order_by(Category.id)
        .with_for_update()
    ).all()
    return {c.id: c for c in rows}


def _bulk(
    session: Session, principal: Principal, category_ids: list[str], event_ids: list[str] | None, assign: bool
) -> list[dict[str, Any]]:
    cids = _ids(category_ids, "categoryId", 1, BULK_CATEGORIES_MAX)
    eids = None
    if event_ids is not None or assign:
        eids = _ids(event_ids, "eventId", 1, BULK_EVENTS_MAX)
    cats = _lock_categories(session, principal, cids)
    if eids is not None:
        _lock_events(session, principal.site_id, eids)
    results = []
    for i, cid in enumerate(category_ids):
        c = cats.get(cid)
        if c is None:
            err = _not_found(cid)
            results.append(wire.item_result(i, cid, None, {"code": err.code, "description": err.description}))
            continue
        if assign:
            assert eids is not None
            _assign(session, c, eids)
        else:
            _unassign(session, c, eids)
        results.append(wire.item_result(i, cid, wire.to_wire(c), None))
    return results


def bulk_assign_events(
    session: Session, principal: Principal, category_ids: list[str], event_ids: list[str]
) -> list[dict[str, Any]]:
    """The event (the typings allow exactly one) into each category; an unknown category
    is a failed item, an unknown event a 404 for the whole request."""
    return _bulk(session, principal, category_ids, event_ids, assign=True)


def bulk_unassign_events(
    session: Session, principal: Principal, category_ids: list[str], event_ids: list[str] | None
) -> list[dict[str, Any]]:
    """The event out of each category; without ``eventId``, every event of each category."""
    return _bulk(session, principal, category_ids, event_ids, assign=False)


EVENT_FILTER = q.Spec(
    fields=[*events.QUERY.fields, q.field("name", Event.title, "string", nullable=False)],
    id_expr=Event.id,
    default_sort=events.QUERY.default_sort,
)


def _events_by_filter(session: Session, principal: Principal, flt: dict[str, Any] | None) -> list[str]:
    if flt is None:
        raise InvalidArgument("filter", "is required", "REQUIRED_FIELD")
    cond = q.compile_filter(EVENT_FILTER, flt, q.Ctx(now=now()), "filter")
    return list(
        session.scalars(
            select(Event.id).where(Event.site_id == principal.site_id, cond).order_by(Event.id).with_for_update()
        ).all()
    )


def _by_filter(
    session: Session, principal: Principal, category_ids: list[str], flt: dict[str, Any] | None, assign: bool
) -> None:
    cids = _ids(category_ids, "categoryId", 1, BULK_CATEGORIES_MAX)
    cats = _lock_categories(session, principal, cids)
    for cid in cids:
        if cid not in cats:
            raise _not_found(cid)
    eids = _events_by_filter(session, principal, flt)
    for cid in cids:
        if assign:
            _assign(session, cats[cid], eids)
        elif eids:
            _unassign(session, cats[cid], eids)


def bulk_assign_events_async(
    session: Session, principal: Principal, category_ids: list[str], flt: dict[str, Any] | None
) -> None:
    """Every event of the site matching the Events v3 filter (drafts included) into each
    category; done at once (the SDK's "async" promises no more than eventually)."""
    _by_filter(session, principal, category_ids, flt, assign=True)


def bulk_unassign_events_async(
    session: Session, principal: Principal, category_ids: list[str], flt: dict[str, Any] | None
) -> None:
    _by_filter(session, principal, category_ids, flt, assign=False)


def reorder(session: Session, principal: Principal, category_id: str, req: ReorderCategoryEventsRequest) -> None:
    """Move one of the category's events before/after another; if both are given the
    `after` wins (as ticket definitions' Reorder)."""
    if not req.event_id:
        raise InvalidArgument("eventId", "is required", "REQUIRED_FIELD")
    c = _lock_category(session, principal, category_id)
    rows = list(
        session.scalars(
            select(CategoryEvent)
            .where(CategoryEvent.category_id == c.id)
            .order_by(CategoryEvent.sort_index, CategoryEvent.event_id)
        )
    )
    ordering.move(
        rows, lambda r: r.event_id, req.event_id, req.before_event_id, req.after_event_id,
        missing=lambda: NotFound(f"Event {req.event_id} is not in category {c.id}", code="EVENT_NOT_FOUND"),
        names=("beforeEventId", "afterEventId", f"another event of category {c.id}"),
    )
    session.flush()


# --- List Events By Category (Events v3) ----------------------------------------------

# "Retrieves a list of up to 100 events" (Events v3 typings): a page holds at most 100.
EVENTS_PAGE_MAX = 100


def list_events_by_category(
    session: Session, principal: Principal, category_id: str, limit: int | None, offset: int | None
) -> tuple[list[Event], int]:
    """The category's events in its order (Reorder Category Events), a page of them and
    how many there are. A visitor sees neither HIDDEN categories nor draft events."""
    if limit is None:
        limit = EVENTS_PAGE_MAX
    if limit < 0 or limit > EVENTS_PAGE_MAX:
        raise InvalidArgument("paging.limit", f"must be between 0 and {EVENTS_PAGE_MAX}", "MAX" if limit > 0 else "MIN")
    offset = offset or 0
    if offset < 0 or offset > limits.MAX_OFFSET:
        raise InvalidArgument("paging.offset", f"must be between 0 and {limits.MAX_OFFSET}", "MAX" if offset > 0 else "MIN")
    c = session.scalars(select(Category).where(Category.id == category_id, _visible(principal))).first()
    if c is None:
        raise _not_found(category_id)
    cond = and_(CategoryEvent.category_id == c.id, Event.site_id == principal.site_id)
    if not _manager(principal):
        cond = and_(cond, Event.state != EventState.DRAFT)
    base = select(Event).join(CategoryEvent, CategoryEvent.event_id == Event.id).where(cond)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(
        base.order_by(CategoryEvent.sort_index, CategoryEvent.event_id).limit(limit).offset(offset)
    ).all()
    return list(rows), total


# --- reacting to events -------------------------------------------------------------------


def delete_all_of_event(session: Session, principal: Principal, event: Event) -> None:
    """An event being deleted leaves every category it was in."""
    session.execute(
        delete(CategoryEvent).where(CategoryEvent.site_id == event.site_id, CategoryEvent.event_id == event.id)
    )


def clone_all_of_event(session: Session, principal: Principal, src: Event, copy: Event) -> dict[str, str]:
    """Clone Event: the copy is in every category the original is in, last in each."""
    for link in session.scalars(select(CategoryEvent).where(CategoryEvent.event_id == src.id)).all():
        top = session.scalar(select(func.max(CategoryEvent.sort_index)).where(CategoryEvent.category_id == link.category_id))
        session.add(CategoryEvent(category_id=link.category_id, event_id=copy.id, site_id=copy.site_id, sort_index=(top or 0) + 1))
    session.flush()
    return {}


events.hooks.deleting.append(delete_all_of_event)
events.hooks.cloning.append(clone_all_of_event)

# An event carries at most this many categories (Events v3 typings: categories @maxSize 10).
EVENT_CATEGORIES_MAX = 10


def present_categories(session: Session, principal: Principal, evs: Sequence[Event]) -> dict[str, dict[str, Any]]:
    """Events v3's CATEGORIES fieldset: ``categories: {categories: [EventCategory]}`` per
    event (id, name, createdDate, hidden, type), oldest category first, at most 10; a
    visitor does not see HIDDEN ones. One query for all the events."""
    ids = [e.id for e in evs]
    rows = (
        session.execute(
            select(CategoryEvent.event_id, Category)
            .join(Category, Category.id == CategoryEvent.category_id)
            .where(CategoryEvent.event_id.in_(ids), _visible(principal))
            .order_by(CategoryEvent.event_id, Category.created_date, Category.id)
        ).all()
        if ids
        else []
    )
    found: dict[str, list[dict[str, Any]]] = {e.id: [] for e in evs}
    for event_id, c in rows:
        if len(found[event_id]) < EVENT_CATEGORIES_MAX:
            found[event_id].append(
                {
                    "id": c.id,
                    "name": c.name,
                    "createdDate": iso(c.created_date),
                    "hidden": c.state_hidden,
                    "type": "RECURRING_EVENT" if c.state_recurring_event else "MANUAL",
                }
            )
    return {event_id: {"categories": {"categories": cats}} for event_id, cats in found.items()}


events.hooks.presenting.setdefault(EventField.CATEGORIES.value, []).append(present_categories)
