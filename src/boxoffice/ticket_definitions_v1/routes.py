"""Ticket Definitions v1 (legacy) over HTTP.

Paths are the SDK's proto paths (`/v1/ticket-definitions...`, `/v2/ticket-definitions/query`);
app.py mounts the router under each prefix in PREFIXES. Permissions are v3's: reads need
"Manage Ticket Definitions", "Manage Events" or "Manage Orders"; writes one of the first two.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from ..api.deps import DB
from ..api.http import JSON, get_params, list_params, secret
from ..errors import InvalidArgument
from ..fields import list_param
from ..identity import Principal
from ..query import raw
from ..schemas import Empty
from ..ticket_definitions.routes import Manage, Read
from . import service
from .schemas import (
    ChangeCurrencyRequest,
    CreateTicketDefinitionRequest,
    DefinitionResponse,
    ListTicketDefinitionsResponse,
    QueryTicketDefinitionsRequest,
    QueryTicketDefinitionsResponse,
    QueryTicketDefinitionsV2Request,
    QueryTicketDefinitionsV2Response,
    SaleStatus,
    State,
    UpdateTicketDefinitionRequest,
)

router = APIRouter(tags=["Ticket Definitions v1 (legacy)"])
# Every prefix `@wix/auto_sdk_events_ticket-definitions` 1.0.53 resolves: `www.wixapis.com`
# gives `/events/v1/...` and `/events/v2/...`; any other host (`_`) `/_api/events/v1/...`
# and `/_api/events/v2/ticket-definition/query` (sic: the singular is the SDK's mapping,
# served below as an alias); the other hosts' mappings `/_api/wix-events-web/v1/...` and
# `/_api/events-ticketing-v1-proxy/v1|v2/...`. The first is documented in OpenAPI.
PREFIXES = ["/events", "/_api/events", "/_api/wix-events-web", "/_api/events-ticketing-v1-proxy"]


def _one(session: Session, td: Any, fieldsets: list[str]) -> JSON:
    return JSON({"definition": service.render(session, [td], fieldsets)[0]})


@router.post("/v1/ticket-definitions", response_model=DefinitionResponse, summary="Create Ticket Definition")
def create_ticket_definition(db: DB, body: CreateTicketDefinitionRequest, principal: Principal = Manage) -> JSON:
    return db.write(lambda s: _one(s, service.create(s, principal, body), []))


@router.patch(
    "/v1/ticket-definitions/{definitionId}", response_model=DefinitionResponse, summary="Update Ticket Definition"
)
def update_ticket_definition(
    definitionId: str, db: DB, body: UpdateTicketDefinitionRequest, principal: Principal = Manage
) -> JSON:
    return db.write(lambda s: _one(s, service.update(s, principal, definitionId, body), []))


@router.get("/v1/ticket-definitions/{definitionId}", response_model=DefinitionResponse, summary="Get Ticket Definition")
def get_ticket_definition(
    definitionId: str,
    request: Request,
    db: DB,
    fieldset: list[str] | None = Query(
        None, max_length=20, description="POLICY, DASHBOARD: repeat for several (or comma-join); the SDK's `.r` form works too"
    ),
    principal: Principal = Read,
) -> JSON:
    wanted = service.check_fieldsets(list_param(get_params(request), "fieldset"))
    return db.read(lambda s: _one(s, service.get(s, principal, definitionId), wanted))


_ARRAYS = ("eventId", "fieldset", "eventCreatorId", "state", "saleStatus", "facet")


@router.get("/v1/ticket-definitions", response_model=ListTicketDefinitionsResponse, summary="List Ticket Definitions")
def list_ticket_definitions(
    request: Request,
    db: DB,
    eventId: list[str] | None = Query(None, max_length=100),
    offset: int | None = Query(None, ge=0, le=100_000),
    limit: int | None = Query(None, ge=0, le=100, description="0 or absent: 100"),
    fieldset: list[str] | None = Query(None, max_length=20, description="POLICY, DASHBOARD"),
    eventCreatorId: list[str] | None = Query(None, max_length=1),
    state: list[str] | None = Query(None, max_length=20, description=", ".join(s.value for s in State)),
    sort: str | None = Query(None, max_length=100, description='"created:asc" (default), "name:desc", "orderIndex:asc"'),
    saleStatus: list[str] | None = Query(None, max_length=5, description=", ".join(s.value for s in SaleStatus)),
    facet: list[str] | None = Query(None, max_length=10),
    principal: Principal = Read,
) -> JSON:
    p = list_params(request, _ARRAYS, max_limit=1_000_000, default_limit=0)
    if p["limit"] > service.MAX_LIMIT:
        raise InvalidArgument("limit", f"must be at most {service.MAX_LIMIT}", "MAX")
    wanted = service.check_fieldsets(p.get("fieldset"))

    def work(session: Session) -> JSON:
        rows, total, facets = service.list_definitions(session, principal, p)
        return JSON(
            {
                "metaData": {"count": len(rows), "offset": p["offset"], "total": total},
                "definitions": service.render(session, rows, wanted),
                "facets": facets,
            }
        )

    return db.read(work)


@router.post(
    "/v1/ticket-definitions/query", response_model=QueryTicketDefinitionsResponse, summary="Query Ticket Definitions"
)
def query_ticket_definitions(db: DB, body: QueryTicketDefinitionsRequest, principal: Principal = Read) -> JSON:
    wanted = service.check_fieldsets(body.fieldset)

    def work(session: Session) -> JSON:
        rows, total, facets = service.query(session, principal, body)
        return JSON(
            {
                "total": total,
                "offset": body.offset or 0,
                "limit": body.limit or service.MAX_LIMIT,
                "definitions": service.render(session, rows, wanted),
                "facets": facets,
            }
        )

    return db.read(work)


def _v2_fieldsets(body: QueryTicketDefinitionsV2Request) -> list[str]:
    """``query.fieldsets``, and ``query.fields`` naming ``policy`` or ``dashboard`` (the
    other fields are always there)."""
    qv = body.query
    if qv is None:
        return []
    out = {f.value for f in qv.fieldsets or []}
    for name in qv.fields or []:
        top = name.split(".")[0]
        if top in ("policy", "dashboard"):
            out.add(top.upper())
    return sorted(out)


@router.post(
    "/v2/ticket-definitions/query",
    response_model=QueryTicketDefinitionsV2Response,
    summary="Query Ticket Definitions V2",
)
def query_ticket_definitions_v2(
    request: Request, db: DB, body: QueryTicketDefinitionsV2Request, principal: Principal = Read
) -> JSON:
    wanted = _v2_fieldsets(body)

    def work(session: Session) -> JSON:
        page = service.query_v2(session, principal, raw(body.query), secret(request))
        return JSON({"definitions": service.render(session, page.rows, wanted), "metadata": page.metadata})

    return db.read(work)


# The SDK's `_` mapping sends Query Ticket Definitions V2 to `/_api/events/v2/ticket-definition/query`.
router.add_api_route(
    "/v2/ticket-definition/query",
    query_ticket_definitions_v2,
    methods=["POST"],
    response_model=QueryTicketDefinitionsV2Response,
    summary="Query Ticket Definitions V2",
    include_in_schema=False,
)


def _flag(value: Any, name: str) -> bool:
    if value in (None, False, "false", "False", "0", ""):
        return False
    if value in (True, "true", "True", "1"):
        return True
    raise InvalidArgument(name, "must be true or false", "FORMAT")


@router.delete("/v1/ticket-definitions", response_model=Empty, summary="Delete Ticket Definition")
def delete_ticket_definition(
    request: Request,
    db: DB,
    eventId: str | None = Query(None, max_length=64),
    definition_ids: list[str] | None = Query(None, alias="byId.definitionId", max_length=100),
    all: bool | None = Query(None, description="Delete every definition of the event"),  # noqa: A002 - the wire name
    principal: Principal = Manage,
) -> JSON:
    p = get_params(request)
    by_id = p.get("byId")
    ids = list_param(by_id, "definitionId") if isinstance(by_id, dict) else list_param(p, "byId.definitionId")
    event_id = p.get("eventId")
    if event_id is not None and not isinstance(event_id, str):
        raise InvalidArgument("eventId", "must be a string", "FORMAT")
    everything = _flag(p.get("all"), "all")

    def work(session: Session) -> JSON:
        service.delete(session, principal, event_id, ids, everything)
        return JSON({})

    return db.write(work)


@router.put("/v1/ticket-definitions/currency", response_model=Empty, summary="Change Currency")
def change_currency(db: DB, body: ChangeCurrencyRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        service.change_currency(session, principal, body)
        return JSON({})

    return db.write(work)
