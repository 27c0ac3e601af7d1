"""The FastAPI application factory."""

from __future__ import annotations

import functools
import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline
from starlette.routing import BaseRoute

from . import __version__, outbox
from .api import errors
from .api.middleware import BodyLimit, RequestIds
from .api.routing import index_routes
from .auth import cursor_secret
from .background import Background
from .categories.routes import PREFIXES as CATEGORIES_PREFIXES
from .categories.routes import events_router as categories_events_router
from .categories.routes import router as categories_router
from .config import Settings, get_settings
from .db import Database
from .events.routes import calendar_router as events_calendar_router
from .events.routes import router as events_router
from .forms.routes import PREFIXES as FORMS_PREFIXES
from .forms.routes import router as forms_router
from .groupcommit import GroupCommit
from .guests.routes import PREFIXES as GUESTS_PREFIXES
from .guests.routes import router as guests_router
from .listener import Listener
from .mail import worker as mail_worker
from .mail.routes import router as mail_router
from .migrations import check_migrated
from .orders.routes import admin_router as orders_admin_router
from .orders.routes import checkout_router, orders_router, stripe_router, test_payments_router
from .pages import router as pages_router
from .pages import static as pages_static
from .payments import Payments
from .policies.routes import PREFIXES as POLICIES_PREFIXES
from .policies.routes import router as policies_router
from .reservations import service as reservations
from .reservations.routes import router as reservations_router
from .schedule.routes import PREFIXES as SCHEDULE_PREFIXES
from .schedule.routes import router as schedule_router
from .staff_members.routes import PREFIXES as STAFF_MEMBERS_PREFIXES
from .staff_members.routes import router as staff_members_router
from .ticket_definitions import inventory, live
from .ticket_definitions.routes import live_router
from .ticket_definitions.routes import router as td_router
from .ticket_definitions_v1.routes import PREFIXES as TD_V1_PREFIXES
from .ticket_definitions_v1.routes import router as td_v1_router
from .tickets.routes import extras as extras_router
from .tickets.routes import router as tickets_router
from .webhooks import signing
from .webhooks.routes import router as webhooks_router
from .webhooks.worker import WorkerSettings

# Every prefix the official SDK resolves for these services (wire notes §4): the
# first of each is documented in OpenAPI, the others are aliases.
TD_PREFIXES = ["/events-ticket-definitions", "/events", "/_api/events-ticket-definitions"]
EVENTS_PREFIXES = ["/events", "/events-events-v3-adapter", "/_api/events-events-v3-adapter"]
RESERVATIONS_PREFIXES = ["/events", "/_api/events-ticket-reservations"]
CHECKOUT_PREFIXES = ["/events", "/_api/events"]
ORDERS_PREFIXES = ["/events", "/_api/wix-events-web"]
TICKETS_PREFIXES = ["/events", "/_api/events-ticketing-v1-proxy"]


DESCRIPTION = """Self-hostable event ticketing that implements the Wix Events API.

**Try it out**: press *Authorize* and give an API key (`boxoffice keys create --site SITE
--identity app` prints one) and its site id (`wix-site-id`); every request then sends
both headers. The official Wix SDK sends them the same way (`ApiKeyStrategy`)."""

# Routes whose credential is a signature in the URL or the body, not an API key.
_UNAUTHENTICATED = ("/boxoffice/v1/pdf/", "/boxoffice/v1/calendar/", "/boxoffice/v1/payments/stripe/webhook")


def _security(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the two headers every key-authenticated request sends, as API-key security
    schemes, so that /docs' "Authorize" makes "Try it out" work."""
    schema.setdefault("components", {})["securitySchemes"] = {
        "ApiKey": {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "An API key (`boxoffice keys create`), or a staff member's access token",
        },
        "SiteId": {"type": "apiKey", "in": "header", "name": "wix-site-id", "description": "The key's site id"},
    }
    schema["security"] = [{"ApiKey": [], "SiteId": []}]
    for path, ops in schema.get("paths", {}).items():
        if path.startswith(_UNAUTHENTICATED):
            for op in ops.values():
                op["security"] = []
    return schema


# PostgreSQL connections each serving process opens for reads on its event loop, beyond
# its thread pool's (docs/deploy.md "Connections").
ASYNC_READ_CONNECTIONS = 4


def create_app(
    settings: Settings | None = None, db: Database | None = None, *, seat_take: inventory.SeatTake | None = None
) -> FastAPI:
    """``seat_take``: the inventory's seat take; only the race test passes another (a
    naive one, tests/naive_inventory.py, to prove the test sees overselling)."""
    settings = settings or get_settings()
    db = db or Database(settings.database_url)
    check_migrated(db.engine)
    secret = db.read(lambda s: cursor_secret(s, settings.secret))
    # The webhook signing key pair is made once, here, so that reading it (the admin
    # API's GET) never writes.
    db.write(signing.ensure_key)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        # Shutdown runs what was started, last first, each step even if one before it
        # raised (the database is disposed of whatever else fails).
        async with AsyncExitStack() as stack:
            stack.callback(db.dispose)
            # PostgreSQL: Get Ticket Definition reads on the loop (db.open_async_reads
            # says why). A read holds its connection for one round trip (~0.3 ms), so a
            # few serve thousands a second. First: the one start-up step that awaits.
            await db.open_async_reads(ASYNC_READ_CONNECTIONS)
            stack.push_async_callback(db.close_async_reads)
            # make run's single process also delivers webhooks, plans sale transitions and
            # expires reservations; `boxoffice worker` does the same in a process of its own
            if settings.background:
                background = Background(db, settings.tick_seconds, WorkerSettings.from_settings(settings),
                                        mail_worker.MailSettings.from_settings(settings), app.state.payments)
                stack.callback(background.stop)
            # PostgreSQL: what other processes commit reaches this one's live streams
            # (and wakes its webhook worker) at once
            if not db.is_sqlite:
                handlers = {live.CHANNEL: live.hub.publish, outbox.CHANNEL: outbox.wake,
                            mail_worker.CHANNEL: mail_worker.wake}
                stack.callback(Listener(db, handlers).stop)
            stack.callback(app.state.reserve.close)
            # Everything alive now (modules, the app, its routes and models) lives as long
            # as the process: keep it out of the cyclic GC's full collections, which
            # otherwise stopped every thread for 100-170 ms every second or two under load.
            gc.freeze()
            yield

    # FastAPIOffline: FastAPI whose /docs and /redoc load Swagger UI and ReDoc from files
    # installed with the package (fastapi-offline), never from a CDN
    app = FastAPIOffline(
        title="Boxoffice",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # the pasted key is not kept in the browser's localStorage after the tab closes
        swagger_ui_parameters={"persistAuthorization": False},
    )
    app.state.settings = settings
    app.state.db = db
    app.state.secret = secret
    app.state.payments = Payments.from_settings(settings)
    # Create Ticket Reservation calls queue here and commit in batches (group commit)
    app.state.reserve = GroupCommit[reservations.NewReservation, dict[str, Any]](
        partial(
            reservations.create_batch,
            db,
            default_minutes=settings.reservation_minutes,
            take=seat_take or inventory.SeatTake(),
        ),
        name="boxoffice-reserve",
    )
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIds, log_requests=settings.log_format == "json")
    app.router.routes.extend(_routes(settings.test_payments, app.state.payments.stripe is not None))
    # the pages (dashboard, event page and checkout, door scanner) and their files
    app.mount("/static", pages_static, name="static")

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = _security(errors.document_errors(FastAPI.openapi(app)))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    index_routes(app)  # routes added later (a test's) are indexed at their first request
    return app


@functools.cache
def _routes(test_payments: bool, stripe: bool = False) -> tuple[BaseRoute, ...]:
    """Every API route, built once per process: a route holds no app state (what it needs
    it reads from ``request.app.state``), and building ~230 of them (FastAPI analyses each
    signature and makes its models) costs about half a second, once per app otherwise.

    Routes are matched in the order included: the selling flow (reservations, checkout,
    orders, tickets) first, since a sale is where the traffic is; no two routes overlap."""
    root = APIRouter()
    for router, prefixes in (
        (reservations_router, RESERVATIONS_PREFIXES),
        (checkout_router, CHECKOUT_PREFIXES),
        (orders_router, ORDERS_PREFIXES),
        (tickets_router, TICKETS_PREFIXES),
        (td_router, TD_PREFIXES),
        (td_v1_router, TD_V1_PREFIXES),
        (events_router, EVENTS_PREFIXES),
        (policies_router, POLICIES_PREFIXES),
        (schedule_router, SCHEDULE_PREFIXES),
        (categories_router, CATEGORIES_PREFIXES),
        (staff_members_router, STAFF_MEMBERS_PREFIXES),
        (forms_router, FORMS_PREFIXES),
        (guests_router, GUESTS_PREFIXES),
        (categories_events_router, EVENTS_PREFIXES),
    ):
        for i, prefix in enumerate(prefixes):
            root.include_router(router, prefix=prefix, include_in_schema=i == 0)
    for extra in (extras_router, events_calendar_router, orders_admin_router):
        root.include_router(extra)
    if test_payments:
        root.include_router(test_payments_router)
    if stripe:  # Stripe's webhook, only where Stripe takes the payments
        root.include_router(stripe_router)
    for extra in (webhooks_router, mail_router, live_router, pages_router):
        root.include_router(extra)
    return tuple(root.routes)
