"""An event's setup in the dashboard: its registration form, policies, schedule,
categories and staff members, as their slices present them. Policies can be added and
deleted here, and staff members added to the event (the answer shows the login link to
hand them); the rest is shown read-only, each with the API method that changes it.
Every change is the slice's service call under the owner's principal, one unit each."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ..categories import service as categories
from ..categories import wire as categories_wire
from ..errors import NotFound
from ..forms import service as forms
from ..forms import wire as forms_wire
from ..identity import Permission, Principal
from ..policies import service as policies
from ..policies import wire as policies_wire
from ..policies.schemas import CreatePolicyRequest
from ..schedule import service as schedule
from ..schedule import wire as schedule_wire
from ..schedule.schemas import QueryScheduleItemsRequest
from ..staff_members import service as staff
from ..staff_members import wire as staff_wire
from ..staff_members.models import StaffPermission
from ..staff_members.schemas import CreateStaffMemberRequest
from .dashboard_common import get_event, need, parse, present_event
from .web import CSRF, Owner, PageRoute, db_of, redirect, render, secret_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

STAFF_SHOWN = 100
PolicyName = Annotated[str, Form(max_length=200)]
PolicyBody = Annotated[str, Form(max_length=20_000)]
StaffName = Annotated[str, Form(max_length=200)]
Flag = Annotated[str, Form(max_length=10)]


def _setup(s: Session, request: Request, owner: Principal, event_id: str) -> dict[str, Any]:
    e = get_event(s, owner, event_id)
    secret = secret_of(request)
    f = forms.get(s, owner, event_id)
    items = schedule.query_schedule_items(
        s, owner, QueryScheduleItemsRequest.model_validate({"query": {"filter": {"eventId": event_id},
                                                                      "paging": {"limit": 100}}}), secret)
    page = staff.query(s, owner, {"paging": {"limit": STAFF_SHOWN}}, secret)
    by_member = staff.events_by_member(s, [m.id for m in page.rows])
    members = [staff_wire.to_wire(m, by_member[m.id]) for m in page.rows]
    mine = [m for m in members if m.get("allEvents") is not None or event_id in (m.get("specificEvents") or {}).get("events", [])]
    return {
        "event": present_event(s, owner, e, request),
        "form": forms_wire.form(f),
        "policies": [policies_wire.to_wire(p) for p in policies.of_event(s, event_id)],
        "schedule": [schedule_wire.to_wire(i) for i in items.rows],
        "categories": [categories_wire.to_wire(c) for c in categories.list_event_categories(s, owner, event_id)],
        "staff": mine,
    }


@router.get("/dashboard/events/{event_id}/setup")
def setup_page(request: Request, owner: Owner, event_id: str) -> Response:
    need(owner, Permission.MANAGE_EVENTS)
    data = db_of(request).read(lambda s: _setup(s, request, owner, event_id))
    return render(request, "dashboard/setup.html", nav="events", tab="setup", new_link="", **data)


@router.post("/dashboard/events/{event_id}/policies", dependencies=[CSRF])
def add_policy(request: Request, owner: Owner, event_id: str, name: PolicyName, body: PolicyBody) -> Response:
    """Create Policy for this event."""
    need(owner, Permission.MANAGE_EVENTS)
    req = parse(CreatePolicyRequest, {"policy": {"name": name.strip(), "body": body.strip(), "eventId": event_id}})
    db_of(request).write(lambda s: policies.create(s, owner, req).id)
    return redirect(request, f"/dashboard/events/{event_id}/setup")


@router.post("/dashboard/events/{event_id}/policies/{policy_id}/delete", dependencies=[CSRF])
def delete_policy(request: Request, owner: Owner, event_id: str, policy_id: str) -> Response:
    need(owner, Permission.MANAGE_EVENTS)

    def work(s: Session) -> None:
        if policies.get(s, owner, policy_id).event_id != event_id:
            raise NotFound(f"Policy {policy_id} not found", code="POLICY_NOT_FOUND")
        policies.delete(s, owner, policy_id)

    db_of(request).write(work)
    return redirect(request, f"/dashboard/events/{event_id}/setup")


@router.post("/dashboard/events/{event_id}/staff", dependencies=[CSRF])
def add_staff(request: Request, owner: Owner, event_id: str, name: StaffName, sell: Flag = "") -> Response:
    """Create Staff Member assigned to this event (checking guests in; selling at the door
    if ticked); the page then shows the login link to hand them, as the API's answer does."""
    need(owner, Permission.MANAGE_EVENTS)
    perms = [StaffPermission.CHECK_IN_GUESTS.value] + ([StaffPermission.SELL_TICKETS.value] if sell else [])
    req = parse(CreateStaffMemberRequest, {"staffMember": {"name": name.strip(), "permissions": perms,
                                                           "specificEvents": {"events": [event_id]}}})

    def work(s: Session) -> str:
        get_event(s, owner, event_id)
        member, _ = staff.create(s, owner, req)
        return staff.login_link(str(request.base_url).rstrip("/"), secret_of(request), member)

    link = db_of(request).write(work)
    # shown in this answer, never put in a URL (the link signs its holder in)
    data = db_of(request).read(lambda s: _setup(s, request, owner, event_id))
    return render(request, "dashboard/setup.html", nav="events", tab="setup", new_link=link, **data)
