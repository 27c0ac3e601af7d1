"""Schedule items over HTTP. Paths are the SDK's proto paths (`/v1/schedule...`);
app.py mounts the router under each prefix in PREFIXES."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ..api.deps import DB, require
from ..api.http import JSON, PAGE, get_params, query_doc, secret, str_param
from ..errors import InvalidArgument, violations_from_pydantic
from ..identity import Permission, Principal
from . import service, wire
from .schemas import (
    AddScheduleItemRequest,
    EmptyResponse,
    EventIdRequest,
    GetScheduleItemResponse,
    ItemResponse,
    ListScheduleItemsParams,
    ListScheduleItemsResponse,
    QueryScheduleItemsRequest,
    QueryScheduleItemsResponse,
    RescheduleDraftRequest,
    UpdateScheduleItemRequest,
)

router = APIRouter(tags=["Schedule"])
# Every path prefix the official SDK resolves for this module (the first is documented
# in OpenAPI, the others are aliases): `www.wixapis.com` gives `/events/v1/schedule`,
# other hosts `/_api/wix-events-schedule/v1/schedule` or `/_api/wix-events-web/v1/schedule`.
PREFIXES = ["/events", "/_api/wix-events-schedule", "/_api/wix-events-web"]

Manage = require(Permission.MANAGE_EVENTS)
Read = require(Permission.READ_EVENTS, Permission.MANAGE_EVENTS)

LIST_ARRAYS = ("eventId", "state", "facet", "itemId", "tag", "stageName")


def _validated(model: Any, data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise InvalidArgument.many(violations_from_pydantic([dict(x) for x in e.errors()])) from None


def _bool_param(params: dict[str, Any], name: str) -> bool:
    v = params.get(name)
    if v is None or v is False or v in ("false", "0", ""):
        return False
    if v is True or v in ("true", "1"):
        return True
    raise InvalidArgument(name, "must be true or false", "FORMAT")


def _list_params(request: Request) -> ListScheduleItemsParams:
    p = get_params(request)
    for k in LIST_ARRAYS:
        if k in p and not isinstance(p[k], list):
            p[k] = [p[k]]
    given = p.get("paging")
    paging: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
    for k in ("limit", "offset"):
        if f"paging.{k}" in p:
            paging[k] = p.pop(f"paging.{k}")
    if paging:
        p["paging"] = paging
    return _validated(ListScheduleItemsParams, p)


@router.get(
    "/v1/schedule", response_model=ListScheduleItemsResponse, summary="List Schedule Items",
    openapi_extra=query_doc(
        ("eventId", "only these events' items (repeat the key for several)", list),
        ("state", "PUBLISHED, DRAFT (managers), VISIBLE, HIDDEN (managers)", ["PUBLISHED", "DRAFT", "VISIBLE", "HIDDEN"]),
        ("startingFrom", "only items starting at or after this time (ISO 8601)"),
        ("startingBefore", "only items starting before this time (ISO 8601)"),
        ("itemId", "only these items", list), ("tag", "only items with these tags", list),
        ("stageName", "only items on these stages", list), ("facet", "count items by tag and/or stageName", ["tag", "stageName"]),
        *PAGE,
    ),
)
def list_schedule_items(request: Request, db: DB, principal: Principal = Read) -> JSON:
    p = _list_params(request)

    def work(session: Session) -> JSON:
        r = service.list_schedule_items(session, principal, p)
        body: dict[str, Any] = {
            "total": r.total,
            "limit": r.limit,
            "offset": r.offset,
            "items": [wire.to_wire(i) for i in r.rows],
            "facets": r.facets,
            "pagingMetadata": {"count": len(r.rows), "offset": r.offset, "total": r.total, "tooManyToCount": False},
        }
        if r.draft_not_published is not None:
            body["draftNotPublished"] = r.draft_not_published
        return JSON(body)

    return db.read(work)


@router.post("/v1/schedule/query", response_model=QueryScheduleItemsResponse, summary="Query Schedule Items")
def query_schedule_items(request: Request, db: DB, body: QueryScheduleItemsRequest, principal: Principal = Read) -> JSON:
    def work(session: Session) -> JSON:
        page = service.query_schedule_items(session, principal, body, secret(request))
        return JSON({"items": [wire.to_wire(i) for i in page.rows], "pagingMetadata": page.metadata})

    return db.read(work)


@router.get(
    "/v1/schedule/{itemId}", response_model=GetScheduleItemResponse, summary="Get Schedule Item",
    openapi_extra=query_doc(("eventId", "the item's event"), ("includeDraft", "true: the draft version (managers)", ["true", "false"])),
)
def get_schedule_item(itemId: str, request: Request, db: DB, principal: Principal = Read) -> JSON:
    p = get_params(request)
    event_id = str_param(p, "eventId")
    include_draft = _bool_param(p, "includeDraft")

    def work(session: Session) -> JSON:
        item, draft = service.get_schedule_item(session, principal, itemId, event_id, include_draft)
        out = {"item": wire.to_wire(item)}
        if draft is not None:
            out["draft"] = wire.to_wire(draft)
        return JSON(out)

    return db.read(work)


@router.post("/v1/schedule/draft", response_model=ItemResponse, summary="Add Schedule Item")
def add_schedule_item(db: DB, body: AddScheduleItemRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        return JSON({"item": wire.to_wire(service.add_schedule_item(session, principal, body))})

    return db.write(work)


@router.patch("/v1/schedule/draft/{itemId}", response_model=ItemResponse, summary="Update Schedule Item")
def update_schedule_item(itemId: str, db: DB, body: UpdateScheduleItemRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        return JSON({"item": wire.to_wire(service.update_schedule_item(session, principal, itemId, body))})

    return db.write(work)


@router.delete(
    "/v1/schedule/draft/items", response_model=EmptyResponse, summary="Delete Schedule Item",
    openapi_extra=query_doc(("eventId", "the items' event (required)"), ("itemIds", "the items to delete from the draft", list)),
)
def delete_schedule_item(request: Request, db: DB, principal: Principal = Manage) -> JSON:
    p = get_params(request)
    event_id = str_param(p, "eventId")
    if not event_id:
        raise InvalidArgument("eventId", "is required", "REQUIRED_FIELD")
    ids = p.get("itemIds")
    ids = [] if ids is None else ids if isinstance(ids, list) else [ids]
    if not all(isinstance(i, str) for i in ids):
        raise InvalidArgument("itemIds", "must be a list of strings", "FORMAT")

    def work(session: Session) -> JSON:
        service.delete_schedule_item(session, principal, event_id, ids)
        return JSON({})

    return db.write(work)


@router.delete(
    "/v1/schedule/draft", response_model=EmptyResponse, summary="Discard Draft",
    openapi_extra=query_doc(("eventId", "the event whose draft schedule is discarded (required)")),
)
def discard_draft(request: Request, db: DB, principal: Principal = Manage) -> JSON:
    event_id = str_param(get_params(request), "eventId")
    if not event_id:
        raise InvalidArgument("eventId", "is required", "REQUIRED_FIELD")

    def work(session: Session) -> JSON:
        service.discard_draft(session, principal, event_id)
        return JSON({})

    return db.write(work)


@router.post("/v1/schedule/publish", response_model=EmptyResponse, summary="Publish Draft")
def publish_draft(db: DB, body: EventIdRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        service.publish_draft(session, principal, body.event_id)
        return JSON({})

    return db.write(work)


@router.post("/v1/schedule/draft/reschedule", response_model=EmptyResponse, summary="Reschedule Draft")
def reschedule_draft(db: DB, body: RescheduleDraftRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        service.reschedule_draft(session, principal, body)
        return JSON({})

    return db.write(work)
