"""Ticket Definitions v3 over HTTP.

Paths are the SDK's proto paths (`/v3/ticket-definitions...`); app.py mounts the
router under each prefix `@wix/auto_sdk_events_ticket-definitions-v-2` resolves.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from ..api.deps import DB, CurrentPrincipal, require
from ..api.http import JSON, get_params, secret
from ..db import Database
from ..errors import InvalidArgument, Unavailable, violations_from_pydantic
from ..fields import list_param
from ..identity import Permission, Principal
from ..query import raw
from ..schemas import Empty
from . import live, service
from .schemas import (
    BulkDeleteTicketDefinitionsByFilterRequest,
    ChangeCurrencyRequest,
    CountAvailableTicketDefinitionsRequest,
    CountTicketDefinitionsRequest,
    CountTicketDefinitionsResponse,
    CreateTicketDefinitionRequest,
    Fieldset,
    QueryTicketDefinitionsRequest,
    QueryTicketDefinitionsResponse,
    ReorderTicketDefinitionsRequest,
    TicketDefinitionResponse,
    UpdateTicketDefinitionRequest,
)

router = APIRouter(tags=["Ticket Definitions v3"])

# "Manage Ticket Definitions" or "Manage Events"; reads also allow "Manage Orders".
Manage = require(Permission.MANAGE_TICKET_DEFINITIONS, Permission.MANAGE_EVENTS)
Read = require(Permission.MANAGE_TICKET_DEFINITIONS, Permission.MANAGE_EVENTS, Permission.MANAGE_ORDERS)
# The ticket picker's list is what site visitors see.
ReadAvailable = require(*Permission)


def _one(session, td, fields) -> JSON:  # type: ignore[no-untyped-def]
    return JSON({"ticketDefinition": service.render(session, [td], fields)[0]})


@router.post("/v3/ticket-definitions", response_model=TicketDefinitionResponse, summary="Create Ticket Definition")
def create_ticket_definition(
    db: DB, body: CreateTicketDefinitionRequest, principal: Principal = Manage
) -> JSON:
    def work(session: Session) -> JSON:
        fields = service.check_fields(body.fields)
        return _one(session, service.create(session, principal, body), fields)

    return db.write(work)


@router.patch(
    "/v3/ticket-definitions/{ticketDefinitionId}",
    response_model=TicketDefinitionResponse,
    summary="Update Ticket Definition",
)
def update_ticket_definition(
    ticketDefinitionId: str, db: DB, body: UpdateTicketDefinitionRequest, principal: Principal = Manage
) -> JSON:
    def work(session: Session) -> JSON:
        fields = service.check_fields(body.fields)
        return _one(session, service.update(session, principal, ticketDefinitionId, body), fields)

    return db.write(work)


def _read_one(db: Database, principal: Principal, td_id: str, fields: list[str]) -> JSON:
    """Get's one read: a Core connection (no ORM session to set up), one statement."""
    with db.reading() as conn:
        return JSON({"ticketDefinition": service.render(conn, [service.get(conn, principal, td_id)], fields)[0]})


# What deps.py's dependencies run, called directly (the same key and permission checks).
_caller = CurrentPrincipal.__metadata__[0].dependency  # type: ignore[attr-defined]  # Annotated[..., Depends]
_may_read = Read.dependency
_FIELDSETS: TypeAdapter[list[Fieldset]] = TypeAdapter(list[Fieldset])


def _fields(request: Request) -> list[str]:
    """The fieldsets asked for: repeated ``fields`` keys checked as FastAPI checks a
    ``list[Fieldset]`` query parameter (same 400, ``fields[i]``), then the SDK's ``.r``."""
    given = request.query_params.getlist("fields")
    if given:
        try:
            _FIELDSETS.validate_python(given)
        except ValidationError as e:
            errs = [{**x, "loc": ("query", "fields", *x["loc"])} for x in e.errors()]
            raise InvalidArgument.many(violations_from_pydantic(errs)) from None
    return service.check_fields(list_param(get_params(request), "fields"))


async def _get_direct(request: Request) -> Response:
    """Get Ticket Definition as served: the key, the permission, the fieldsets, one read
    and orjson, called in that order without FastAPI's dependency solver and parameter
    models in between (measured: README "Benchmarks"). Refusals raise the same errors the
    dependencies raise, answered by the same handlers.

    On PostgreSQL the read runs on the event loop's own async connection
    (``db.async_reads()``) when the answer needs nothing more (:func:`service.render_alone`);
    otherwise, and on SQLite, in the thread pool."""
    principal = await _may_read(await _caller(request))
    fields = _fields(request)
    td_id = request.path_params["ticketDefinitionId"]
    db: Database = request.app.state.db
    pool = db.async_reads()
    if pool is not None:
        td = await service.get_async(db, pool, principal, td_id)
        done = None if td is None else service.render_alone([td], fields)
        if done is not None:
            return JSON({"ticketDefinition": done[0]})
    return await run_in_threadpool(_read_one, db, principal, td_id, fields)


class _Direct(APIRoute):
    """A route documented from its endpoint's signature (OpenAPI, /docs) but served by
    ``_get_direct``: FastAPI's per-request dependency solving and parameter validation
    cost about as much as the read itself (README "Benchmarks")."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return _get_direct


def get_ticket_definition(
    ticketDefinitionId: str,
    request: Request,
    db: DB,
    fields: list[Fieldset] | None = Query(None, description="Repeat for several; the SDK's `.r` form works too"),
    principal: Principal = Read,
) -> JSON:
    """Get Ticket Definition's documented signature; requests are served by ``_get_direct``."""
    return _read_one(db, principal, ticketDefinitionId, _fields(request))


router.add_api_route(
    "/v3/ticket-definitions/{ticketDefinitionId}",
    get_ticket_definition,
    methods=["GET"],
    response_model=TicketDefinitionResponse,
    summary="Get Ticket Definition",
    route_class_override=_Direct,
)


@router.delete("/v3/ticket-definitions/{ticketDefinitionId}", response_model=Empty, summary="Delete Ticket Definition")
def delete_ticket_definition(ticketDefinitionId: str, db: DB, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        service.delete(session, principal, ticketDefinitionId)
        return JSON({})

    return db.write(work)


@router.post("/v3/ticket-definitions/reorder", response_model=Empty, summary="Reorder Ticket Definitions")
def reorder_ticket_definitions(
    db: DB, body: ReorderTicketDefinitionsRequest, principal: Principal = Manage
) -> JSON:
    def work(session: Session) -> JSON:
        service.reorder(session, principal, body)
        return JSON({})

    return db.write(work)


def _page(session, page, fields) -> JSON:  # type: ignore[no-untyped-def]
    return JSON({"ticketDefinitions": service.render(session, page.rows, fields), "metadata": page.metadata})


@router.post(
    "/v3/ticket-definitions/query", response_model=QueryTicketDefinitionsResponse, summary="Query Ticket Definitions"
)
def query_ticket_definitions(
    request: Request, db: DB, body: QueryTicketDefinitionsRequest, principal: Principal = Read
) -> JSON:
    fields = service.check_fields(body.fields)
    with db.reading() as conn:  # a list to read and render: no ORM session to set up
        return _page(conn, service.query(conn, principal, raw(body.query), secret(request)), fields)


@router.post(
    "/v3/ticket-definitions/available/query",
    response_model=QueryTicketDefinitionsResponse,
    summary="Query Available Ticket Definitions",
)
def query_available_ticket_definitions(
    request: Request, db: DB, body: QueryTicketDefinitionsRequest, principal: Principal = ReadAvailable
) -> JSON:
    fields = service.check_fields(body.fields)
    if not principal.can(Permission.MANAGE_TICKET_DEFINITIONS, Permission.MANAGE_EVENTS, Permission.MANAGE_ORDERS):
        # salesDetails needs a read permission on ticket definitions, as on Wix
        fields = [f for f in fields if f != Fieldset.SALES_DETAILS.value]
    with db.reading() as conn:
        return _page(conn, service.query(conn, principal, raw(body.query), secret(request), available=True), fields)


@router.post(
    "/v3/ticket-definitions/count", response_model=CountTicketDefinitionsResponse, summary="Count Ticket Definitions"
)
def count_ticket_definitions(
    db: DB, body: CountTicketDefinitionsRequest, principal: Principal = Read
) -> JSON:
    def work(session: Session) -> JSON:
        total, facets = service.count(session, principal, body.filter, body.facet)
        return JSON({"metadata": {"count": total, "total": total}, "facets": facets})

    return db.read(work)


@router.post(
    "/v3/ticket-definitions/available/count",
    response_model=CountTicketDefinitionsResponse,
    summary="Count Available Ticket Definitions",
)
def count_available_ticket_definitions(
    db: DB, body: CountAvailableTicketDefinitionsRequest, principal: Principal = ReadAvailable
) -> JSON:
    def work(session: Session) -> JSON:
        total, _ = service.count(session, principal, body.filter, None, available=True)
        return JSON({"metadata": {"count": total, "total": total}})

    return db.read(work)


@router.post(
    "/v3/bulk/ticket-definitions/delete", response_model=Empty, summary="Bulk Delete Ticket Definitions By Filter"
)
def bulk_delete_ticket_definitions_by_filter(
    db: DB, body: BulkDeleteTicketDefinitionsByFilterRequest, principal: Principal = Manage
) -> JSON:
    def work(session: Session) -> JSON:
        service.bulk_delete(session, principal, body.filter)
        return JSON({})

    return db.write(work)

live_router = APIRouter(tags=["Boxoffice extensions"])


class LiveResponse(StreamingResponse):
    """The event stream's response: gives back the stream's slot however it ends (also
    when the body never starts, e.g. the client left before the first byte)."""

    def __init__(self, stream: live.Stream, headers: dict[str, str]) -> None:
        super().__init__(stream.events(), media_type="text/event-stream", headers=headers)
        self.stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.stream.close()


def unavailable(limit: int) -> JSON:
    """The answer when every stream slot of the process is taken: 503 in the Wix envelope."""
    err = Unavailable(f"This server already has {limit} live streams open; try again shortly")
    return JSON(err.body(), status_code=err.status, headers={"Retry-After": str(live.RETRY_AFTER)})


@live_router.get(
    "/boxoffice/v1/live/{siteId}/ticket-definitions/{ticketDefinitionId}",
    summary="Live unsoldCount (Server-Sent Events)",
    response_class=StreamingResponse,
    response_model=None,
    responses={503: {
        "description": "Every live-stream slot of this server process is taken (`Retry-After` says when to try again)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
    }},
)
async def live_unsold_count(siteId: str, ticketDefinitionId: str, request: Request) -> StreamingResponse | JSON:
    """Public and read-only (how many are left is what a site shows anyway): the count
    now, then each time it changes, as `data: {"ticketDefinitionId", "unsoldCount",
    "soldOut"}`. Embeddable from any origin. The streams of a definition share one read
    per change; past `BOXOFFICE_LIVE_MAX_STREAMS` open streams, 503 with `Retry-After`."""
    db, limit = request.app.state.db, request.app.state.settings.live_max_streams
    stream = live.hub.open(db, siteId, ticketDefinitionId, limit)
    if stream is None:
        return unavailable(limit)
    if await stream.first() is None:
        raise service.not_found(ticketDefinitionId)
    return LiveResponse(
        stream, headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*", "X-Accel-Buffering": "no"}
    )


@router.post("/v3/ticket-definitions/currency", response_model=Empty, summary="Change Currency")
def change_currency(db: DB, body: ChangeCurrencyRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        service.change_currency(session, principal, body)
        return JSON({})

    return db.write(work)
