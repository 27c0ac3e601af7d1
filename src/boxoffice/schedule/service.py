"""Schedule items: the rules of Add, Update, Delete, Get, List and Query Schedule Items,
and of Reschedule, Publish and Discard Draft.

Every change goes to the draft version of an event's schedule; guests (keys without
"Manage Events") see only the published, visible items of published events. Writes
lock the event row first (the one lock per event, as ticket definitions do)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import case, delete, exists, func, insert, select
from sqlalchemy.orm import Session

from .. import query as q
from ..db import now
from ..errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from ..events import service as events
from ..events.models import Event, EventState
from ..fields import field_mask
from ..identity import Permission, Principal
from .models import (
    DEFAULT_TIME_ZONE,
    MAX_ITEMS_PER_EVENT,
    ScheduleDraft,
    ScheduleItem,
    ScheduleItemTag,
    ScheduleStatus,
)
from .schemas import (
    AddScheduleItemRequest,
    ListScheduleItemsParams,
    QueryScheduleItemsRequest,
    RescheduleDraftRequest,
    ScheduleItemData,
    StateFilter,
    UpdateScheduleItemRequest,
)

# --- shared ----------------------------------------------------------------------


def _manager(principal: Principal) -> bool:
    return principal.can(Permission.MANAGE_EVENTS)


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(tz: str, where: str) -> str:
    if tz not in _zones():
        raise InvalidArgument(where, "is not a time zone of the TZ database (e.g. America/Los_Angeles)", "FORMAT")
    return tz


def _visible_events(principal: Principal) -> Any:
    """Ids of the events whose schedule the caller may read."""
    stmt = select(Event.id).where(Event.site_id == principal.site_id)
    if not _manager(principal):
        stmt = stmt.where(Event.state != EventState.DRAFT)
    return stmt


def _versions(session: Session, site_id: str, event_id: str, draft: bool | None = None) -> list[ScheduleItem]:
    stmt = select(ScheduleItem).where(ScheduleItem.site_id == site_id, ScheduleItem.event_id == event_id)
    if draft is not None:
        stmt = stmt.where(ScheduleItem.draft == draft)
    return list(session.scalars(stmt.order_by(ScheduleItem.id, ScheduleItem.draft)))


def _set_tags(session: Session, item: ScheduleItem) -> None:
    session.execute(delete(ScheduleItemTag).where(ScheduleItemTag.item_id == item.id, ScheduleItemTag.draft == item.draft))
    if item.tags:
        session.execute(
            insert(ScheduleItemTag),
            [{"item_id": item.id, "draft": item.draft, "tag": t, "site_id": item.site_id} for t in item.tags],
        )


def _remember_changes(session: Session, site_id: str, event_id: str) -> None:
    """Keep ``draftNotPublished`` exact: does the draft differ from the published schedule?"""
    session.flush()
    rows = _versions(session, site_id, event_id)
    drafts = {r.id: r.content() for r in rows if r.draft}
    published = {r.id: r.content() for r in rows if not r.draft}
    state = session.get(ScheduleDraft, event_id)
    if state is None:
        state = ScheduleDraft(event_id=event_id, site_id=site_id, changed=False)
        session.add(state)
    state.changed = drafts != published
    session.flush()


def _item_error(item_id: str) -> NotFound:
    return NotFound(f"Schedule item {item_id} not found", code="SCHEDULE_ITEM_NOT_FOUND")


# --- writing the draft --------------------------------------------------------------


def _tags(values: list[str] | None) -> list[str]:
    return list(dict.fromkeys(values or []))  # duplicates once, in the order sent


def _apply(item: ScheduleItem, data: ScheduleItemData | None, paths: list[str] | None) -> None:
    """Set the item's fields from ``data``: all of them (``paths`` None: a full update,
    as Add), or only the field-mask ``paths``."""
    data = data or ScheduleItemData()
    ts = data.time_slot
    every = paths is None
    wanted = set(paths or [])
    known = {"hidden", "name", "timeSlot", "timeSlot.start", "timeSlot.end", "timeSlot.timeZoneId",
             "description", "stageName", "tags", "status"}
    for p in wanted:
        if p not in known:
            raise InvalidArgument("fields", f'"{p}" is not a field of a schedule item', "FORMAT")

    def want(name: str) -> bool:
        return every or name in wanted or (name.startswith("timeSlot.") and "timeSlot" in wanted)

    if want("name"):
        if not data.name or not data.name.strip():
            raise InvalidArgument("item.name", "is required", "REQUIRED_FIELD")
        item.name = data.name
    if want("description"):
        item.description = data.description or ""
    if want("stageName"):
        item.stage_name = data.stage_name or ""
    if want("tags"):
        item.tags = _tags(data.tags)
    if want("hidden"):
        item.hidden = bool(data.hidden)
    if want("status"):
        item.status = (data.status.value if data.status else None) or ScheduleStatus.SCHEDULED.value
    if want("timeSlot.start"):
        if ts is None or ts.start is None:
            raise InvalidArgument("item.timeSlot.start", "is required", "REQUIRED_FIELD")
        item.start = ts.start
    if want("timeSlot.end"):
        if ts is None or ts.end is None:
            raise InvalidArgument("item.timeSlot.end", "is required", "REQUIRED_FIELD")
        item.end = ts.end
    if want("timeSlot.timeZoneId"):
        tz = ts.time_zone_id if ts is not None and ts.time_zone_id else DEFAULT_TIME_ZONE
        item.time_zone_id = check_time_zone(tz, "item.timeSlot.timeZoneId")
    if item.end <= item.start:
        raise InvalidArgument("item.timeSlot.end", "must be after timeSlot.start")


def add_schedule_item(session: Session, principal: Principal, req: AddScheduleItemRequest) -> ScheduleItem:
    e = events.lock_for_update(session, principal.site_id, req.event_id)
    count = session.scalar(
        select(func.count()).where(ScheduleItem.event_id == e.id, ScheduleItem.draft.is_(True))
    ) or 0
    if count >= MAX_ITEMS_PER_EVENT:
        raise FailedPrecondition(
            f"An event's schedule holds at most {MAX_ITEMS_PER_EVENT} items",
            code="SCHEDULE_ITEMS_LIMIT_REACHED",
            data={"limit": MAX_ITEMS_PER_EVENT},
        )
    t = now()
    item = ScheduleItem(id=str(uuid.uuid4()), draft=True, site_id=e.site_id, event_id=e.id, created_date=t, updated_date=t)
    _apply(item, req.item, None)
    session.add(item)
    session.flush()
    _set_tags(session, item)
    _remember_changes(session, e.site_id, e.id)
    return item


def update_schedule_item(
    session: Session, principal: Principal, item_id: str, req: UpdateScheduleItemRequest
) -> ScheduleItem:
    """The draft version changes; without ``fields`` every field is replaced (a full update)."""
    e = events.lock_for_update(session, principal.site_id, req.event_id)
    item = session.get(ScheduleItem, (item_id, True))
    if item is None or item.event_id != e.id:
        raise _item_error(item_id)
    paths = field_mask(req.fields, "fields") or None
    _apply(item, req.item, paths)
    item.updated_date = now()
    session.flush()
    _set_tags(session, item)
    _remember_changes(session, e.site_id, e.id)
    return item


def delete_schedule_item(session: Session, principal: Principal, event_id: str, item_ids: list[str]) -> None:
    """Removes items from the draft (all or nothing: an id not in the draft is a 404)."""
    if not item_ids:
        raise InvalidArgument("itemIds", "must name at least one item", "MIN_SIZE")
    if len(item_ids) > 100:
        raise InvalidArgument("itemIds", "names more than 100 items", "MAX_SIZE")
    e = events.lock_for_update(session, principal.site_id, event_id)
    ids = list(dict.fromkeys(item_ids))
    found = {
        r.id: r
        for r in session.scalars(
            select(ScheduleItem).where(ScheduleItem.event_id == e.id, ScheduleItem.draft.is_(True), ScheduleItem.id.in_(ids))
        )
    }
    for i in ids:
        if i not in found:
            raise _item_error(i)
    session.execute(delete(ScheduleItemTag).where(ScheduleItemTag.draft.is_(True), ScheduleItemTag.item_id.in_(ids)))
    for r in found.values():
        session.delete(r)
    _remember_changes(session, e.site_id, e.id)


_DURATION = re.compile(r"^(-)?(\d{1,12})(?:\.(\d{1,9}))?s$")
_MAX_DURATION_SECONDS = 315_576_000_000  # protobuf Duration's range (10,000 years)


def parse_duration(value: str | None, where: str) -> dt.timedelta:
    """A protobuf Duration in JSON ("3600s", "-1.5s")."""
    if value is None:
        return dt.timedelta(0)
    m = _DURATION.match(value)
    if m is None or int(m.group(2)) > _MAX_DURATION_SECONDS:
        raise InvalidArgument(where, 'must be a duration such as "3600s" or "-90.5s"', "FORMAT")
    micros = int((m.group(3) or "0").ljust(9, "0")[:6])
    d = dt.timedelta(seconds=int(m.group(2)), microseconds=micros)
    return -d if m.group(1) else d


def _shift(t: dt.datetime, offset: dt.timedelta) -> dt.datetime:
    try:
        out = t + offset
    except OverflowError:
        out = None
    if out is None or not 2 <= out.year <= 9998:
        raise InvalidArgument("timeSlotOffset", "moves an item out of the supported date range (years 2 to 9998)", "MAX")
    return out


def reschedule_draft(session: Session, principal: Principal, req: RescheduleDraftRequest) -> None:
    """Every draft item moves by ``timeSlotOffset`` and takes ``timeZoneId``."""
    offset = parse_duration(req.time_slot_offset, "timeSlotOffset")
    tz = check_time_zone(req.time_zone_id, "timeZoneId")
    e = events.lock_for_update(session, principal.site_id, req.event_id)
    t = now()
    for item in _versions(session, e.site_id, e.id, draft=True):
        item.start, item.end = _shift(item.start, offset), _shift(item.end, offset)
        item.time_zone_id = tz
        item.updated_date = t
    _remember_changes(session, e.site_id, e.id)


def _copy(session: Session, e: Event, to_draft: bool) -> None:
    """Replace one version of the event's schedule by a copy of the other."""
    rows = _versions(session, e.site_id, e.id)
    sources = [r for r in rows if r.draft != to_draft]
    session.execute(
        delete(ScheduleItemTag).where(
            ScheduleItemTag.draft == to_draft,
            ScheduleItemTag.item_id.in_(select(ScheduleItem.id).where(ScheduleItem.event_id == e.id)),
        )
    )
    for r in rows:
        if r.draft == to_draft:
            session.delete(r)
    session.flush()
    for s in sources:
        c = ScheduleItem(
            id=s.id, draft=to_draft, site_id=s.site_id, event_id=s.event_id, name=s.name, description=s.description,
            stage_name=s.stage_name, tags=list(s.tags), status=s.status, hidden=s.hidden, start=s.start, end=s.end,
            time_zone_id=s.time_zone_id, created_date=s.created_date, updated_date=s.updated_date,
        )
        session.add(c)
        session.flush()
        _set_tags(session, c)
    _remember_changes(session, e.site_id, e.id)


def publish_draft(session: Session, principal: Principal, event_id: str) -> None:
    """The draft becomes the published schedule (items deleted in the draft go too)."""
    _copy(session, events.lock_for_update(session, principal.site_id, event_id), to_draft=False)


def discard_draft(session: Session, principal: Principal, event_id: str) -> None:
    """The draft goes back to the published schedule."""
    _copy(session, events.lock_for_update(session, principal.site_id, event_id), to_draft=True)



def clone_all_of_event(session: Session, principal: Principal, src: Event, copy: Event) -> dict[str, str]:
    """Clone Event: the copy gets the original's schedule, both versions (draft and
    published), each item under a new id shared by its two versions, so the copy's
    ``draftNotPublished`` is the original's. A copy given other dates takes its schedule
    along: every item moves by the shift of the event's start. Guests see none of it until
    the copy is published. EventCloned's id map lists ticket definitions only."""
    offset = dt.timedelta(0)
    if src.start_date is not None and copy.start_date is not None:
        offset = copy.start_date - src.start_date
    new_ids: dict[str, str] = {}
    for s in _versions(session, src.site_id, src.id):
        c = ScheduleItem(
            id=new_ids.setdefault(s.id, str(uuid.uuid4())), draft=s.draft, site_id=copy.site_id, event_id=copy.id,
            name=s.name, description=s.description, stage_name=s.stage_name, tags=list(s.tags), status=s.status,
            hidden=s.hidden, start=_shift(s.start, offset), end=_shift(s.end, offset), time_zone_id=s.time_zone_id,
            created_date=s.created_date, updated_date=s.updated_date,
        )
        session.add(c)
        session.flush()
        _set_tags(session, c)
    if new_ids:
        _remember_changes(session, copy.site_id, copy.id)
    return {}


events.hooks.cloning.append(clone_all_of_event)

# --- reading ------------------------------------------------------------------------


def get_schedule_item(
    session: Session, principal: Principal, item_id: str, event_id: str | None, include_draft: bool
) -> tuple[ScheduleItem, ScheduleItem | None]:
    """-> (item, draft). ``item`` is the published version (the draft when there is
    none yet and ``includeDraft``); ``draft`` only with ``includeDraft`` (managers)."""
    manager = _manager(principal)
    if include_draft and not manager:
        raise PermissionDenied('includeDraft requires the "Manage Events" permission')
    stmt = select(ScheduleItem).where(
        ScheduleItem.id == item_id,
        ScheduleItem.site_id == principal.site_id,
        ScheduleItem.event_id.in_(_visible_events(principal)),
    )
    if event_id:
        stmt = stmt.where(ScheduleItem.event_id == event_id)
    rows = list(session.scalars(stmt))
    pub = next((r for r in rows if not r.draft), None)
    draft = next((r for r in rows if r.draft), None) if include_draft else None
    if pub is not None and pub.hidden and not manager:
        pub = None
    item = pub or draft
    if item is None:
        raise _item_error(item_id)
    return item, draft


@dataclass
class ListResult:
    rows: list[ScheduleItem]
    total: int
    offset: int
    limit: int
    facets: dict[str, dict[str, dict[str, int]]]
    draft_not_published: bool | None


LIST_MAX_LIMIT = 100
FACETS = {"tag": "tag", "tags": "tag", "stageName": "stageName"}


def list_schedule_items(session: Session, principal: Principal, p: ListScheduleItemsParams) -> ListResult:
    manager = _manager(principal)
    states = set(p.state or [])
    if not states & {StateFilter.PUBLISHED, StateFilter.DRAFT}:
        states.add(StateFilter.PUBLISHED)
    if not states & {StateFilter.VISIBLE, StateFilter.HIDDEN}:
        states.add(StateFilter.VISIBLE)
    if not manager and states & {StateFilter.DRAFT, StateFilter.HIDDEN}:
        raise PermissionDenied('state DRAFT and HIDDEN require the "Manage Events" permission')
    drafts = [s == StateFilter.DRAFT for s in states if s in (StateFilter.PUBLISHED, StateFilter.DRAFT)]
    hidden = [s == StateFilter.HIDDEN for s in states if s in (StateFilter.VISIBLE, StateFilter.HIDDEN)]
    conds: list[Any] = [
        ScheduleItem.site_id == principal.site_id,
        ScheduleItem.draft.in_(drafts),
        ScheduleItem.hidden.in_(hidden),
    ]
    if not manager:
        conds.append(ScheduleItem.event_id.in_(_visible_events(principal)))
    if p.event_id:
        conds.append(ScheduleItem.event_id.in_(p.event_id))
    if p.item_id:
        conds.append(ScheduleItem.id.in_(p.item_id))
    if p.stage_name:
        conds.append(ScheduleItem.stage_name.in_(p.stage_name))
    if p.tag:
        conds.append(
            exists().where(
                ScheduleItemTag.item_id == ScheduleItem.id,
                ScheduleItemTag.draft == ScheduleItem.draft,
                ScheduleItemTag.tag.in_(p.tag),
            )
        )
    if p.starting_from is not None:
        conds.append(ScheduleItem.start >= p.starting_from)
    if p.starting_before is not None:
        conds.append(ScheduleItem.start < p.starting_before)
    paging = p.paging
    offset = (paging.offset if paging and paging.offset is not None else p.offset) or 0
    limit = paging.limit if paging and paging.limit is not None else p.limit
    limit = LIST_MAX_LIMIT if limit is None else min(limit, LIST_MAX_LIMIT)
    base = select(ScheduleItem).where(*conds)
    rows = list(
        session.scalars(
            base.order_by(ScheduleItem.start, ScheduleItem.id, ScheduleItem.draft).limit(limit).offset(offset)
        )
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    facets: dict[str, dict[str, dict[str, int]]] = {}
    for name in p.facet or []:
        kind = FACETS.get(name)
        if kind is None:
            raise InvalidArgument("facet", f'"{name}" is not a facet (tag, stageName)', "FORMAT")
        ids = base.with_only_columns(ScheduleItem.id, ScheduleItem.draft).subquery()
        if kind == "tag":
            stmt = (
                select(ScheduleItemTag.tag, func.count())
                .join(ids, (ids.c.id == ScheduleItemTag.item_id) & (ids.c.draft == ScheduleItemTag.draft))
                .group_by(ScheduleItemTag.tag)
            )
        else:
            sub = base.with_only_columns(ScheduleItem.stage_name.label("v")).subquery()
            stmt = select(sub.c.v, func.count()).where(sub.c.v != "").group_by(sub.c.v)
        facets[name] = {"counts": {str(v): n for v, n in session.execute(stmt).all()}}
    changed = None
    if manager:
        cond = (ScheduleDraft.site_id == principal.site_id) & ScheduleDraft.changed.is_(True)
        if p.event_id:
            cond = cond & ScheduleDraft.event_id.in_(p.event_id)
        changed = bool(session.scalar(select(exists().where(cond))))
    return ListResult(rows, total, offset, limit, facets, changed)


QUERY = q.Spec(
    fields=[
        q.field("id", ScheduleItem.id, "string", nullable=False),
        q.field("name", ScheduleItem.name, "string", nullable=False),
        q.field("description", ScheduleItem.description, "string", nullable=False),
        q.field("stageName", ScheduleItem.stage_name, "string", nullable=False),
        q.field("eventId", ScheduleItem.event_id, "string", nullable=False),
        q.field("createdDate", ScheduleItem.created_date, "datetime", nullable=False),
        q.field("updatedDate", ScheduleItem.updated_date, "datetime", nullable=False),
        q.field("timeSlot.start", ScheduleItem.start, "datetime", nullable=False),
        q.field("timeSlot.end", ScheduleItem.end, "datetime", nullable=False),
        q.field("status", ScheduleItem.status, "enum", enum=tuple(ScheduleStatus), ops=q.EQ_OPS, nullable=False),
        q.field("hidden", ScheduleItem.hidden, "bool", ops=q.EQ_OPS, nullable=False),
        q.field("draft", ScheduleItem.draft, "bool", ops=q.EQ_OPS, nullable=False),
    ],
    # a draft and a published version share an id: the tie-breaker tells them apart
    id_expr=ScheduleItem.id.concat(case((ScheduleItem.draft, ":d"), else_=":p")),
    default_sort=[{"fieldName": "createdDate", "order": "DESC"}],
    max_limit=100,
    default_limit=100,
)


def _names(flt: Any, name: str) -> bool:
    """Whether the filter has a condition on ``name`` anywhere (walked without recursion)."""
    stack = [flt]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if name in node:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def query_schedule_items(
    session: Session, principal: Principal, req: QueryScheduleItemsRequest, secret: bytes
) -> q.Page:
    """Published items unless a manager's filter names ``draft``; guests see only the
    visible published items of published events."""
    query = q.raw(req.query) or {}
    cond: Any = ScheduleItem.site_id == principal.site_id
    if not _manager(principal):
        cond = cond & ScheduleItem.draft.is_(False) & ScheduleItem.hidden.is_(False)
        cond = cond & ScheduleItem.event_id.in_(_visible_events(principal))
    elif not (query.get("cursorPaging") or {}).get("cursor") and not _names(query.get("filter"), "draft"):
        flt = query.get("filter")
        query["filter"] = {"$and": [flt, {"draft": False}]} if flt else {"draft": False}
    return q.run_query(
        session,
        QUERY,
        select(ScheduleItem).where(cond),
        query,
        q.Ctx(now=now()),
        secret=secret,
        scope=f"schedule:{principal.site_id}",
        default_mode="cursor",
    )
