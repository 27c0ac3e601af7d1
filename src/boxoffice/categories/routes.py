"""Categories over HTTP: the SDK's `/v1/categories...`, `/v1/bulk/categories...` and
`/v1/bulk-async/categories...` paths, under `/events` (www.wixapis.com) and
`/_api/wix-events-web` (any other host)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Body, Query, Request
from sqlalchemy.orm import Session

from .. import query as q
from ..api.deps import DB, require
from ..api.http import JSON, get_params, secret
from ..errors import InvalidArgument
from ..events import service as events_service
from ..events.schemas import EventField, QueryEventsResponse
from ..events.wire import Links
from ..fields import fieldsets, list_param
from ..identity import Permission, Principal
from ..schemas import Empty
from . import service, wire
from .schemas import (
    AssignEventsRequest,
    BulkAssignEventsRequest,
    BulkCategoryResponse,
    BulkCreateCategoryRequest,
    ByFilterRequest,
    CategoryFieldset,
    CategoryResponse,
    CreateCategoryRequest,
    ListEventCategoriesResponse,
    QueryCategoriesRequest,
    QueryCategoriesResponse,
    ReorderCategoryEventsRequest,
    UpdateCategoryRequest,
)

router = APIRouter(tags=["Categories"])
# Every path prefix the official SDK resolves for this module (the first is documented
# in OpenAPI, the others are aliases).
PREFIXES = ["/events", "/_api/wix-events-web"]
# List Events By Category belongs to the Events v3 module: mounted under its prefixes.
events_router = APIRouter(tags=["Events v3"])

Manage = require(Permission.MANAGE_EVENTS)
Read = require(Permission.READ_EVENTS, Permission.MANAGE_EVENTS)


@router.post("/v1/categories", response_model=CategoryResponse, summary="Create Category")
def create_category(db: DB, body: CreateCategoryRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        return JSON({"category": wire.to_wire(service.create(session, principal, body.category))})

    return db.write(work)


@router.post("/v1/bulk/categories/create", response_model=BulkCategoryResponse, summary="Bulk Create Category")
def bulk_create_category(db: DB, body: BulkCreateCategoryRequest, principal: Principal = Manage) -> JSON:
    return db.write(lambda session: JSON(wire.bulk(service.bulk_create(session, principal, body.categories))))


@router.patch("/v1/categories/{categoryId}", response_model=CategoryResponse, summary="Update Category")
def update_category(categoryId: str, db: DB, body: UpdateCategoryRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        return JSON({"category": wire.to_wire(service.update(session, principal, categoryId, body.category))})

    return db.write(work)


@router.delete("/v1/categories/{categoryId}", response_model=Empty, summary="Delete Category")
def delete_category(categoryId: str, db: DB, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        service.delete_category(session, principal, categoryId)
        return JSON({})

    return db.write(work)


@router.post("/v1/categories/query", response_model=QueryCategoriesResponse, summary="Query Categories")
def query_categories(request: Request, db: DB, body: QueryCategoriesRequest, principal: Principal = Read) -> JSON:
    counts = CategoryFieldset.COUNTS.value in fieldsets(body.fieldset, CategoryFieldset, "fieldset")

    def work(session: Session) -> JSON:
        page = service.query(session, principal, q.raw(body.query), secret(request))
        n = service.counts(session, principal, [c.id for c in page.rows]) if counts else {}
        cats = [wire.to_wire(c, n.get(c.id)) for c in page.rows]
        return JSON({"categories": cats, "metaData": page.metadata})

    return db.read(work)


@router.get("/v1/categories/{eventId}", response_model=ListEventCategoriesResponse, summary="List Event Categories")
def list_event_categories(eventId: str, db: DB, principal: Principal = Read) -> JSON:
    def work(session: Session) -> JSON:
        cats = service.list_event_categories(session, principal, eventId)
        return JSON({"categories": [wire.to_wire(c) for c in cats]})

    return db.read(work)


@router.post("/v1/categories/{categoryId}/events", response_model=Empty, summary="Assign Events")
def assign_events(categoryId: str, db: DB, body: AssignEventsRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        service.assign_events(session, principal, categoryId, body.event_id)
        return JSON({})

    return db.write(work)


@router.delete("/v1/categories/{categoryId}/events", response_model=Empty, summary="Unassign Events")
def unassign_events(
    categoryId: str,
    request: Request,
    db: DB,
    eventId: list[str] | None = Query(None, max_length=100),
    principal: Principal = Manage,
) -> JSON:
    ids = list_param(get_params(request), "eventId")

    def work(session: Session) -> JSON:
        service.unassign_events(session, principal, categoryId, ids)
        return JSON({})

    return db.write(work)


@router.post("/v1/bulk/categories/events", response_model=BulkCategoryResponse, summary="Bulk Assign Events")
def bulk_assign_events(db: DB, body: BulkAssignEventsRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        return JSON(wire.bulk(service.bulk_assign_events(session, principal, body.category_id, body.event_id)))

    return db.write(work)


@router.delete("/v1/bulk/categories/events", response_model=BulkCategoryResponse, summary="Bulk Unassign Events")
def bulk_unassign_events(
    request: Request,
    db: DB,
    categoryId: list[str] = Query(..., min_length=1, max_length=10),
    eventId: list[str] | None = Query(None, max_length=1),
    principal: Principal = Manage,
) -> JSON:
    params = get_params(request)
    cids = list_param(params, "categoryId") or []
    eids = list_param(params, "eventId")

    def work(session: Session) -> JSON:
        return JSON(wire.bulk(service.bulk_unassign_events(session, principal, cids, eids)))

    return db.write(work)


@router.post(
    "/v1/bulk-async/categories/assign-events-by-filter", response_model=Empty, summary="Bulk Assign Events Async"
)
def bulk_assign_events_async(db: DB, body: ByFilterRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        service.bulk_assign_events_async(session, principal, body.category_id, body.filter)
        return JSON({})

    return db.write(work)


@router.post(
    "/v1/bulk-async/categories/unassign-events-by-filter", response_model=Empty, summary="Bulk Unassign Events Async"
)
def bulk_unassign_events_async(db: DB, body: ByFilterRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        service.bulk_unassign_events_async(session, principal, body.category_id, body.filter)
        return JSON({})

    return db.write(work)


@router.post("/v1/categories/{categoryId}/reorder", response_model=Empty, summary="Reorder Category Events")
def reorder_category_events(
    categoryId: str,
    db: DB,
    body: ReorderCategoryEventsRequest = Body(default_factory=ReorderCategoryEventsRequest),
    principal: Principal = Manage,
) -> JSON:
    def work(session: Session) -> JSON:
        service.reorder(session, principal, categoryId, body)
        return JSON({})

    return db.write(work)


def _int_param(params: dict[str, object], name: str) -> int | None:
    v = params.get(name)
    if v is None:
        return None
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str) and re.fullmatch(r"-?[0-9]{1,18}", v):
        return int(v)
    raise InvalidArgument(name, "must be an integer", "FORMAT")


# Events v3's List Events By Category (`@wix/auto_sdk_events_wix-events-v-2`): served here,
# where the order of a category's events lives.
@events_router.get("/v3/events/category/{categoryId}", response_model=QueryEventsResponse, summary="List Events By Category")
def list_events_by_category(
    categoryId: str,
    request: Request,
    db: DB,
    fields: list[EventField] | None = Query(None, max_length=20),
    principal: Principal = Read,
) -> JSON:
    params = get_params(request)
    paging = params.get("paging")
    if isinstance(paging, dict):  # the SDK's `.r` form
        params = {**params, **{f"paging.{k}": v for k, v in paging.items()}}
    limit, offset = _int_param(params, "paging.limit"), _int_param(params, "paging.offset")
    wanted = fieldsets(list_param(params, "fields"), EventField, "fields")

    def work(session: Session) -> JSON:
        rows, total = service.list_events_by_category(session, principal, categoryId, limit, offset)
        meta = {"count": len(rows), "offset": offset or 0, "total": total, "tooManyToCount": False}
        links = Links(str(request.base_url).rstrip("/"), secret(request))
        events = events_service.present(session, principal, rows, wanted, links)
        return JSON({"events": events, "pagingMetadata": meta})

    return db.read(work)
