"""Staff members over HTTP. Paths are the SDK's proto paths (`/v1/staff-members...`);
app.py mounts the router under each prefix in PREFIXES.

Create, Get, Update, Delete and Query need "Manage Events" (the typings' permission
scope). Join, Login and Access are the staff member's own calls: the token in the body
is their credential, so they need no key (an `Authorization` header, if sent, is not
read)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from ..api.deps import DB, require
from ..api.http import JSON, get_params, query_doc, secret
from ..fields import fieldsets, list_param
from ..identity import Permission, Principal
from ..query import raw
from ..schemas import Empty
from . import service, wire
from .models import StaffMember
from .schemas import (
    AccessStaffMemberRequest,
    CreateStaffMemberRequest,
    JoinStaffMemberRequest,
    LoginStaffMemberRequest,
    LoginStaffMemberResponse,
    QueryStaffMembersRequest,
    QueryStaffMembersResponse,
    StaffMemberResponse,
    UpdateStaffMemberRequest,
)

router = APIRouter(tags=["Staff Members"])
# Every path prefix the official SDK resolves for this module (the first is documented
# in OpenAPI, the others are aliases): `www.wixapis.com` gives `/events/v1/staff-members`,
# any other host `/_api/events-staff-members`, Wix's own back-office hosts `/events-staff-members`.
PREFIXES = ["/events", "/_api/events-staff-members", "/events-staff-members"]

Manage = require(Permission.MANAGE_EVENTS)
# JOIN_LINK is in the package's Fieldset enum (not its typings): the join token is the login token
FIELDSETS = {"LOGIN_LINK", "JOIN_LINK"}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _link(request: Request, s: StaffMember, fs: list[str]) -> str | None:
    return service.login_link(_base(request), secret(request), s) if FIELDSETS & set(fs) else None


@router.post("/v1/staff-members", response_model=StaffMemberResponse, summary="Create Staff Member")
def create_staff_member(request: Request, db: DB, body: CreateStaffMemberRequest, principal: Principal = Manage) -> JSON:
    """The answer carries the new staff member's ``loginLink``: what to hand them."""

    def work(session: Session) -> JSON:
        s, events = service.create(session, principal, body)
        return JSON({"staffMember": wire.to_wire(s, events, _link(request, s, ["LOGIN_LINK"]))})

    return db.write(work)


@router.post("/v1/staff-members/query", response_model=QueryStaffMembersResponse, summary="Query Staff Members")
def query_staff_members(request: Request, db: DB, body: QueryStaffMembersRequest, principal: Principal = Manage) -> JSON:
    fs = fieldsets((body.fieldsets or []) + ((body.query.fieldsets or []) if body.query else []), FIELDSETS, "fieldsets")

    def work(session: Session) -> JSON:
        page = service.query(session, principal, raw(body.query), secret(request))
        events = service.events_by_member(session, [s.id for s in page.rows])
        items = [wire.to_wire(s, events[s.id], _link(request, s, fs)) for s in page.rows]
        return JSON({"staffMembers": items, "pagingMetadata": page.metadata})

    return db.read(work)


@router.post("/v1/staff-members/join", response_model=LoginStaffMemberResponse, summary="Join Staff Member")
def join_staff_member(request: Request, db: DB, body: JoinStaffMemberRequest) -> JSON:
    """Deprecated by Wix; the join token is the login token, and Join does what Login does."""
    return db.write(lambda session: JSON(_login(service.login(session, secret(request), body.join_token, "joinToken"))))


@router.post("/v1/staff-members/login", response_model=LoginStaffMemberResponse, summary="Login Staff Member")
def login_staff_member(request: Request, db: DB, body: LoginStaffMemberRequest) -> JSON:
    """Exchanges the login token (from the login link) for an access token: an API key of
    the staff member, for the SDK's ``ApiKeyStrategy``."""
    return db.write(lambda session: JSON(_login(service.login(session, secret(request), body.login_token))))


def _login(r: service.Login) -> dict[str, Any]:
    return {"staffMember": wire.to_wire(r.staff_member, r.events), "accessToken": r.access_token, "deviceId": r.device_id}


@router.post("/v1/staff-members/access", response_model=StaffMemberResponse, summary="Access Staff Member")
def access_staff_member(db: DB, body: AccessStaffMemberRequest) -> JSON:
    def work(session: Session) -> JSON:
        s, events = service.access(session, body.access_token)
        return JSON({"staffMember": wire.to_wire(s, events)})

    return db.read(work)


@router.get(
    "/v1/staff-members/{staffMemberId}", response_model=StaffMemberResponse, summary="Get Staff Member",
    openapi_extra=query_doc(("fieldsets", "LOGIN_LINK: the member's login link; JOIN_LINK: its join link", sorted(FIELDSETS))),
)
def get_staff_member(staffMemberId: str, request: Request, db: DB, principal: Principal = Manage) -> JSON:
    fs = fieldsets(list_param(get_params(request), "fieldsets"), FIELDSETS, "fieldsets")

    def work(session: Session) -> JSON:
        s = service.get(session, principal, staffMemberId)
        return JSON({"staffMember": wire.to_wire(s, service.events_of(session, s), _link(request, s, fs))})

    return db.read(work)


@router.patch("/v1/staff-members/{staffMemberId}", response_model=StaffMemberResponse, summary="Update Staff Member")
def update_staff_member(staffMemberId: str, db: DB, body: UpdateStaffMemberRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        s, events = service.update(session, principal, staffMemberId, body)
        return JSON({"staffMember": wire.to_wire(s, events)})

    return db.write(work)


@router.delete("/v1/staff-members/{staffMemberId}", response_model=Empty, summary="Delete Staff Member")
def delete_staff_member(staffMemberId: str, db: DB, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        service.delete(session, principal, staffMemberId)
        return JSON({})

    return db.write(work)
