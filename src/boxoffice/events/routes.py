"""Events v3 over HTTP. Paths are the SDK's `/v3/events...`; app.py mounts this router
under every prefix the SDK resolves (`/events`, `/_api/events-events-v3-adapter`, ...)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ..api.deps import DB, require
from ..api.http import JSON, get_params, secret
from ..fields import fieldsets, list_param
from ..identity import Permission, Principal
from ..links import Urls
from . import service, wire
from .schemas import (
    BulkEventsByFilterRequest,
    CancelEventRequest,
    CloneEventRequest,
    CountEventsByStatusRequest,
    CountEventsByStatusResponse,
    CreateEventRequest,
    DeleteEventResponse,
    EventField,
    EventResponse,
    PublishDraftEventRequest,
    QueryEventsRequest,
    QueryEventsResponse,
    UpdateEventRequest,
)

router = APIRouter(tags=["Events v3"])
# Mounted once, without the SDK prefixes: the calendarUrls.ics links.
calendar_router = APIRouter(tags=["Events v3"])

Manage = require(Permission.MANAGE_EVENTS)
Read = require(Permission.READ_EVENTS, Permission.MANAGE_EVENTS)


def _fields(values: list[Any] | None) -> list[str] | None:
    return None if values is None else fieldsets(values, EventField, "fields")


def links(request: Request) -> wire.Links:
    """This server's URL as the caller reached it, and the secret that signs ICS links."""
    return wire.Links(str(request.base_url).rstrip("/"), secret(request))


def _one(session: Session, principal: Principal, e: Any, fields: list[str] | None, request: Request) -> JSON:
    return JSON({"event": service.present_one(session, principal, e, fields, links(request))})


@router.post("/v3/events", response_model=EventResponse, summary="Create Event")
def create_event(request: Request, db: DB, body: CreateEventRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        return _one(session, principal, service.create(session, principal, body), _fields(body.fields), request)

    return db.write(work)


@router.get("/v3/events/{eventId}", response_model=EventResponse, summary="Get Event")
def get_event(
    eventId: str,
    request: Request,
    db: DB,
    fields: list[EventField] | None = Query(None),
    principal: Principal = Read,
) -> JSON:
    def work(session: Session) -> JSON:
        e = service.get(session, principal, eventId)
        return _one(session, principal, e, _fields(list_param(get_params(request), "fields")), request)

    return db.read(work)


@router.patch("/v3/events/{eventId}", response_model=EventResponse, summary="Update Event")
def update_event(eventId: str, request: Request, db: DB, body: UpdateEventRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        e = service.update(session, principal, eventId, body)
        return _one(session, principal, e, _fields(body.fields), request)

    return db.write(work)


@router.post("/v3/events/{eventId}/publish", response_model=EventResponse, summary="Publish Draft Event")
def publish_draft_event(
    eventId: str,
    request: Request,
    db: DB,
    body: PublishDraftEventRequest = Body(default_factory=PublishDraftEventRequest),
    principal: Principal = Manage,
) -> JSON:
    def work(session: Session) -> JSON:
        e = service.publish(session, principal, eventId)
        return _one(session, principal, e, _fields(body.fields), request)

    return db.write(work)


@router.post("/v3/events/query", response_model=QueryEventsResponse, summary="Query Events")
def query_events(request: Request, db: DB, body: QueryEventsRequest, principal: Principal = Read) -> JSON:
    def work(session: Session) -> JSON:
        page = service.query(session, principal, body, secret(request))
        events = service.present(session, principal, page.rows, _fields(body.fields), links(request))
        return JSON({"events": events, "pagingMetadata": page.metadata})

    return db.read(work)


@router.delete("/v3/events/{eventId}", response_model=DeleteEventResponse, summary="Delete Event")
def delete_event(eventId: str, db: DB, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        service.delete(session, principal, eventId)
        return JSON({"eventId": eventId})

    return db.write(work)


@router.get("/v3/events/slug/{slug}", response_model=EventResponse, summary="Get Event By Slug")
def get_event_by_slug(
    slug: str, request: Request, db: DB, fields: list[EventField] | None = Query(None), principal: Principal = Read
) -> JSON:
    """Drafts only for managers, as Get Event."""
    wanted = _fields(list_param(get_params(request), "fields"))

    def work(session: Session) -> JSON:
        return _one(session, principal, service.get_by_slug(session, principal, slug), wanted, request)

    return db.read(work)


@router.post("/v3/events/count-by-status", response_model=CountEventsByStatusResponse, summary="Count Events By Status")
def count_events_by_status(db: DB, body: CountEventsByStatusRequest, principal: Principal = Read) -> JSON:
    def work(session: Session) -> JSON:
        facets = service.count_by_status(session, principal, body.filter, body.facet, bool(body.include_drafts))
        return JSON({"facets": facets})

    return db.read(work)


@router.post("/v3/events/{eventId}/cancel", response_model=EventResponse, summary="Cancel Event")
def cancel_event(
    eventId: str,
    request: Request,
    db: DB,
    body: CancelEventRequest = Body(default_factory=CancelEventRequest),
    principal: Principal = Manage,
) -> JSON:
    def work(session: Session) -> JSON:
        return _one(session, principal, service.cancel(session, principal, eventId), _fields(body.fields), request)

    return db.write(work)


@router.post("/v3/bulk/events/cancel-by-filter", response_model=dict[str, Any], summary="Bulk Cancel Events By Filter")
def bulk_cancel_events_by_filter(db: DB, body: BulkEventsByFilterRequest, principal: Principal = Manage) -> JSON:
    flt = body.filter.filter if body.filter else None

    def work(session: Session) -> JSON:
        service.bulk_cancel(session, principal, flt)
        return JSON({})

    return db.write(work)


@router.post("/v3/bulk/events/delete-by-filter", response_model=dict[str, Any], summary="Bulk Delete Events By Filter")
def bulk_delete_events_by_filter(db: DB, body: BulkEventsByFilterRequest, principal: Principal = Manage) -> JSON:
    flt = body.filter.filter if body.filter else None

    def work(session: Session) -> JSON:
        service.bulk_delete(session, principal, flt)
        return JSON({})

    return db.write(work)


@router.post("/v3/events/{eventId}/clone", response_model=EventResponse, summary="Clone Event")
def clone_event(
    eventId: str,
    request: Request,
    db: DB,
    body: CloneEventRequest = Body(default_factory=CloneEventRequest),
    principal: Principal = Manage,
) -> JSON:
    def work(session: Session) -> JSON:
        return _one(session, principal, service.clone(session, principal, eventId, body), _fields(body.fields), request)

    return db.write(work)


@calendar_router.get(
    "/boxoffice/v1/calendar/{siteId}/{eventId}.ics",
    response_class=Response,
    summary="An event as an ICS calendar file (signed link)",
)
def event_calendar_file(siteId: str, eventId: str, request: Request, db: DB) -> Response:
    """Opened by calendar apps without credentials (calendarUrls.ics): the `sig` in the
    link is the authorisation. Drafts and events without dates are 404."""
    sig = get_params(request).get("sig", "")
    u = Urls(str(request.base_url).rstrip("/"), secret(request), siteId)
    body = db.read(lambda session: service.calendar_file(session, u, eventId, sig if isinstance(sig, str) else ""))
    return Response(body, media_type="text/calendar; charset=utf-8", headers={"Content-Disposition": 'inline; filename="event.ics"'})
