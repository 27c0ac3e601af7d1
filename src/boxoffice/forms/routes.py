"""Registration forms over HTTP. Paths are the SDK's proto paths
(`/v1/events/{eventId}/form...`); app.py mounts the router under each prefix in PREFIXES.

Update Control and Delete Control of `@wix/auto_sdk_events_forms` 1.0.108 drop the
control id and request `.../form/controls/undefined` (an SDK bug, wire notes §8): the
documented `/form/controls/{controlId}` is served, and `undefined` is simply a control
that does not exist (404 CONTROL_NOT_FOUND)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from ..api.deps import DB, require
from ..api.http import JSON
from ..identity import Permission, Principal
from ..schemas import Empty
from . import service, wire
from .schemas import (
    AddControlRequest,
    AddControlResponse,
    FormResponse,
    GetFormResponse,
    UpdateControlRequest,
    UpdateMessagesRequest,
)

router = APIRouter(tags=["Registration Form"])
# Every path prefix the official SDK resolves for this module (the first is documented
# in OpenAPI, the other is the alias): `www.wixapis.com` gives `/events/v1/events/...`,
# any other host `/_api/wix-events-web/v1/events/...`.
PREFIXES = ["/events", "/_api/wix-events-web"]

Manage = require(Permission.MANAGE_EVENTS)
Read = require(Permission.READ_EVENTS, Permission.MANAGE_EVENTS)


@router.get("/v1/events/{eventId}/form", response_model=GetFormResponse, summary="Get Form")
def get_form(eventId: str, db: DB, principal: Principal = Read) -> JSON:
    def work(session: Session) -> JSON:
        form = wire.form(service.get(session, principal, eventId))
        # draftForm: deprecated, "currently returns the same value as the form field"
        return JSON({"form": form, "draftForm": form})

    return db.read(work)


@router.post("/v1/events/{eventId}/form/control", response_model=AddControlResponse, summary="Add Control")
def add_control(eventId: str, db: DB, body: AddControlRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        control_id, f = service.add_control(session, principal, eventId, body)
        return JSON({"id": control_id, "form": wire.form(f)})

    return db.write(work)


@router.put("/v1/events/{eventId}/form/controls/{controlId}", response_model=FormResponse, summary="Update Control")
def update_control(eventId: str, controlId: str, db: DB, body: UpdateControlRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        return JSON({"form": wire.form(service.update_control(session, principal, eventId, controlId, body))})

    return db.write(work)


@router.delete("/v1/events/{eventId}/form/controls/{controlId}", response_model=FormResponse, summary="Delete Control")
def delete_control(eventId: str, controlId: str, db: DB, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        return JSON({"form": wire.form(service.delete_control(session, principal, eventId, controlId))})

    return db.write(work)


@router.patch("/v1/events/{eventId}/form/messages", response_model=FormResponse, summary="Update Messages")
def update_messages(eventId: str, db: DB, body: UpdateMessagesRequest, principal: Principal = Manage) -> JSON:
    def work(session: Session) -> JSON:
        return JSON({"form": wire.form(service.update_messages(session, principal, eventId, body))})

    return db.write(work)


@router.post("/v1/events/{eventId}/form/publish", response_model=FormResponse, summary="Publish Draft")
def publish_draft(eventId: str, db: DB, principal: Principal = Manage) -> JSON:
    """Deprecated: every change to a form is live at once; answers the form."""

    def work(session: Session) -> JSON:
        return JSON({"form": wire.form(service.publish_draft(session, principal, eventId))})

    return db.write(work)


@router.delete("/v1/events/{eventId}/form", response_model=Empty, summary="Discard Draft")
def discard_draft(eventId: str, db: DB, principal: Principal = Manage) -> JSON:
    """Deprecated: there is no draft to discard; answers `{}`."""

    def work(session: Session) -> JSON:
        service.discard_draft(session, principal, eventId)
        return JSON({})

    return db.write(work)
