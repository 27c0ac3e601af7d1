"""Admin API for webhook subscriptions (site owners: the `wix-user` identity)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlalchemy.orm import Session

from ..api.deps import DB, CurrentPrincipal
from ..api.http import JSON
from ..errors import PermissionDenied
from ..identity import IdentityType, Principal
from ..limits import MAX_SUBSCRIPTIONS_PER_SITE
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
    # each one a type Boxoffice sends (webhooks/event_types.py) or "*": else 400 naming eventTypes
    event_types: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=lambda: ["*"], max_length=100)


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
    def work(s: Session) -> JSON:
        key = signing.current_key(s)  # made at start-up (create_app): reading writes nothing
        return JSON({"webhooks": [service.wire(w) for w in service.list_(s, principal.site_id)], "publicKey": key.public_pem})

    return db.read(work)


@router.post("/boxoffice/v1/webhooks", response_model=WebhookResponse, summary="Add a webhook subscription")
def add_webhook(body: AddWebhookRequest, request: Request, db: DB, principal: Principal = Admin) -> JSON:
    # A site owner is a tenant: the URL must reach only public addresses unless the
    # operator allows otherwise (urlpolicy.py). Resolved here, before the transaction.
    url = service.check_url(body.url, allow_private=request.app.state.settings.webhook_allow_private_urls)

    def work(s: Session) -> JSON:
        sub = service.add(s, principal.site_id, url, body.event_types, max_per_site=MAX_SUBSCRIPTIONS_PER_SITE)
        return JSON({"webhook": service.wire(sub)})

    return db.write(work)


@router.delete("/boxoffice/v1/webhooks/{webhookId}", response_model=dict[str, Any], summary="Remove a webhook subscription")
def remove_webhook(webhookId: str, db: DB, principal: Principal = Admin) -> JSON:
    def work(s: Session) -> JSON:
        service.remove(s, principal.site_id, webhookId)
        return JSON({})

    return db.write(work)
