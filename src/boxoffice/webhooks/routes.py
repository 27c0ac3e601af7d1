"""Admin API for webhook subscriptions (site owners: the `wix-user` identity)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import Field

from ..auth import CurrentPrincipal, IdentityType, Principal
from ..db import DB
from ..errors import PermissionDenied
from ..http import JSON
from ..schemas import WixModel
from . import service, signing

router = APIRouter(tags=["Webhooks (Boxoffice admin)"])


def _admin(principal: CurrentPrincipal) -> Principal:
    if principal.identity_type != IdentityType.WIX_USER:
        raise PermissionDenied("Webhook subscriptions are managed by the site owner (a wix-user key)")
    return principal


Admin = Depends(_admin)


class AddWebhookRequest(WixModel):
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(default_factory=lambda: ["*"], max_length=100)


class WebhookOut(WixModel):
    id: str
    site_id: str
    url: str
    event_types: list[str]


class WebhookResponse(WixModel):
    webhook: WebhookOut


class WebhooksResponse(WixModel):
    webhooks: list[WebhookOut]
    public_key: str


@router.get("/boxoffice/v1/webhooks", response_model=WebhooksResponse, summary="List webhook subscriptions")
def list_webhooks(db: DB, principal: Principal = Admin) -> JSON:
    with db.session(write=True) as s:
        key = signing.ensure_key(s)
        return JSON({"webhooks": [service.wire(w) for w in service.list_(s, principal.site_id)], "publicKey": key.public_pem})


@router.post("/boxoffice/v1/webhooks", response_model=WebhookResponse, summary="Add a webhook subscription")
def add_webhook(body: AddWebhookRequest, db: DB, principal: Principal = Admin) -> JSON:
    with db.session(write=True) as s:
        return JSON({"webhook": service.wire(service.add(s, principal.site_id, body.url, body.event_types))})


@router.delete("/boxoffice/v1/webhooks/{webhookId}", response_model=dict[str, Any], summary="Remove a webhook subscription")
def remove_webhook(webhookId: str, db: DB, principal: Principal = Admin) -> JSON:
    with db.session(write=True) as s:
        service.remove(s, principal.site_id, webhookId)
        return JSON({})
