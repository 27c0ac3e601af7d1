"""The site's webhooks in the dashboard: its subscriptions (add, remove), the delivery
log (what is still to be delivered or dead: status, attempts, next try, last error) and
replaying the dead letters. The rules are the admin API's and the CLI's
(``webhooks.service``), including who may (the site's owner, a ``wix-user``: the admin
API's own check) and the URL policy, resolved before the transaction as there."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ..limits import MAX_SUBSCRIPTIONS_PER_SITE
from ..webhooks import event_types
from ..webhooks import routes as webhooks_routes
from ..webhooks import service as webhooks
from .web import CSRF, Owner, PageRoute, db_of, redirect, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DELIVERIES_SHOWN = 100
Url = Annotated[str, Form(max_length=2000)]
Types = Annotated[str, Form(max_length=4000)]


@router.get("/dashboard/webhooks")
def webhooks_page(request: Request, owner: Owner, replayed: int = -1) -> Response:
    webhooks_routes._admin(owner)

    def work(s: Session) -> dict[str, Any]:
        return {"webhooks": [webhooks.wire(w) for w in webhooks.list_(s, owner.site_id)],
                "deliveries": webhooks.deliveries(s, site_id=owner.site_id, limit=DELIVERIES_SHOWN)}

    data = db_of(request).read(work)
    return render(request, "dashboard/webhooks.html", nav="webhooks", replayed=replayed,
                  known=sorted(event_types.KNOWN), **data)


@router.post("/dashboard/webhooks", dependencies=[CSRF])
def add_webhook(request: Request, owner: Owner, url: Url, types: Types = "*") -> Response:
    """Add a subscription: ``types`` comma- or space-separated (``*``: every type)."""
    webhooks_routes._admin(owner)
    wanted = [t for t in types.replace(",", " ").split() if t][:100] or ["*"]
    checked = webhooks.check_url(url.strip(), allow_private=request.app.state.settings.webhook_allow_private_urls)
    db_of(request).write(lambda s: webhooks.add(s, owner.site_id, checked, wanted,
                                                 max_per_site=MAX_SUBSCRIPTIONS_PER_SITE).id)
    return redirect(request, "/dashboard/webhooks")


@router.post("/dashboard/webhooks/{webhook_id}/delete", dependencies=[CSRF])
def remove_webhook(request: Request, owner: Owner, webhook_id: str) -> Response:
    webhooks_routes._admin(owner)
    db_of(request).write(lambda s: webhooks.remove(s, owner.site_id, webhook_id))
    return redirect(request, "/dashboard/webhooks")


@router.post("/dashboard/webhooks/replay", dependencies=[CSRF])
def replay(request: Request, owner: Owner) -> Response:
    """Send the site's dead letters again (``boxoffice webhooks replay --site``)."""
    webhooks_routes._admin(owner)
    n = db_of(request).write(lambda s: webhooks.replay(s, site_id=owner.site_id, dead_only=True))
    return redirect(request, f"/dashboard/webhooks?replayed={n}")
