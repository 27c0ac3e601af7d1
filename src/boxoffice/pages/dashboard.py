"""The organiser dashboard (``/dashboard``): the site's events, their ticket definitions,
sales, orders and webhooks. Each action is the API's service call under the signed-in
owner's principal, in one unit of work; the templates show the same wire dicts the API
answers (``events.service.present`` etc.), so the page and the API cannot disagree.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ..events import service as events
from ..events.routes import links as event_links
from ..events.schemas import QueryEventsRequest
from .web import Owner, PageRoute, db_of, render, secret_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)

EVENTS_PAGE = 100


@router.get("/dashboard")
def home(request: Request, owner: Owner, status: str = "") -> Response:
    """Every event of the site, newest first, drafts included; ``status`` narrows it."""
    filt: dict[str, Any] = {}
    if status in ("DRAFT", "UPCOMING", "STARTED", "ENDED", "CANCELED"):
        filt = {"status": status}
    req = QueryEventsRequest.model_validate({
        "query": {"filter": filt, "sort": [{"fieldName": "dateAndTimeSettings.startDate", "order": "DESC"}],
                  "paging": {"limit": EVENTS_PAGE}},
        "includeDrafts": True, "fields": ["DASHBOARD"],
    })

    def work(s: Session) -> dict[str, Any]:
        page = events.query(s, owner, req, secret_of(request))
        return {"events": events.present(s, owner, page.rows, req.fields, event_links(request)),
                "total": page.metadata.get("total")}

    data = db_of(request).read(work)
    return render(request, "dashboard/home.html", status=status, **data)
