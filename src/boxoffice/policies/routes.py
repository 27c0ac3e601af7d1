"""Policies v2 over HTTP. Paths are the SDK's proto paths (`/v2/policies...`); app.py
mounts the router under each prefix in PREFIXES."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from ..api.deps import DB, require
from ..api.http import JSON, secret
from ..identity import Permission, Principal
from ..query import raw
from ..schemas import Empty
from . import service, wire
from .schemas import (
    CreatePolicyRequest,
    PolicyResponse,
    QueryPoliciesRequest,
    QueryPoliciesResponse,
    ReorderEventPoliciesRequest,
    ReorderEventPoliciesResponse,
    UpdatePolicyRequest,
)

router = APIRouter(tags=["Policies v2"])
# Every path prefix the official SDK resolves for this module (the first is documented
# in OpenAPI, the others are aliases): `www.wixapis.com` gives `/events-policies`, any
# other host `/_api/events-policies`; Wix's docs show `/events/v2/policies`.
PREFIXES = ["/events-policies", "/events", "/_api/events-policies"]

Manage = require(Permission.MANAGE_EVENTS)
Read = require(Permission.READ_EVENTS, Permission.MANAGE_EVENTS)


@router.post("/v2/policies", response_model=PolicyResponse, summary="Create Policy")
def create_policy(db: DB, body: CreatePolicyRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        return JSON({"policy": wire.to_wire(service.create(session, principal, body))})

    return db.write(work)


@router.post("/v2/policies/query", response_model=QueryPoliciesResponse, summary="Query Policies")
def query_policies(request: Request, db: DB, body: QueryPoliciesRequest, principal: Principal = Read) -> JSON:
    def work(session: Session) -> JSON:
        page = service.query(session, principal, raw(body.query), secret(request))
        return JSON({"policies": [wire.to_wire(p) for p in page.rows], "metadata": page.metadata})

    return db.read(work)


@router.post("/v2/policies/reorder", response_model=ReorderEventPoliciesResponse, summary="Reorder Event Policies")
def reorder_event_policies(db: DB, body: ReorderEventPoliciesRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        return JSON({"policies": [wire.to_wire(p) for p in service.reorder(session, principal, body)]})

    return db.write(work)


@router.get("/v2/policies/{policyId}", response_model=PolicyResponse, summary="Get Policy")
def get_policy(policyId: str, db: DB, principal: Principal = Read) -> JSON:
    def work(session: Session) -> JSON:
        return JSON({"policy": wire.to_wire(service.get(session, principal, policyId))})

    return db.read(work)


@router.patch("/v2/policies/{policyId}", response_model=PolicyResponse, summary="Update Policy")
def update_policy(policyId: str, db: DB, body: UpdatePolicyRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        return JSON({"policy": wire.to_wire(service.update(session, principal, policyId, body))})

    return db.write(work)


@router.delete("/v2/policies/{policyId}", response_model=Empty, summary="Delete Policy")
def delete_policy(policyId: str, db: DB, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        service.delete(session, principal, policyId)
        return JSON({})

    return db.write(work)
