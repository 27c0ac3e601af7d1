"""The FastAPI application factory."""

from __future__ import annotations

import logging
import threading
import uuid

import anyio.to_thread
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__, errors
from .auth import cursor_secret
from .config import Settings, get_settings
from .db import Database, now
from .events.routes import router as events_router
from .migrations import check_migrated
from .orders.routes import checkout_router, orders_router
from .reservations.routes import router as reservations_router
from .ticket_definitions.routes import router as td_router
from .tickets.routes import extras as extras_router
from .tickets.routes import router as tickets_router

# Every prefix the official SDK resolves for these services (wire notes §4): the
# first of each is documented in OpenAPI, the others are aliases.
TD_PREFIXES = ["/events-ticket-definitions", "/events", "/_api/events-ticket-definitions"]
EVENTS_PREFIXES = ["/events", "/events-events-v3-adapter", "/_api/events-events-v3-adapter"]
RESERVATIONS_PREFIXES = ["/events", "/_api/events-ticket-reservations"]
CHECKOUT_PREFIXES = ["/events", "/_api/events"]
ORDERS_PREFIXES = ["/events", "/_api/wix-events-web"]
TICKETS_PREFIXES = ["/events", "/_api/events-ticketing-v1-proxy"]


class RequestIds:
    """Pure ASGI middleware: every response carries ``X-Wix-Request-Id`` (the SDK puts it
    on errors as ``requestId``) and echoes ``X-Wix-Consistent``, as Wix does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        consistent = next((v for k, v in scope["headers"] if k == b"x-wix-consistent"), None)
        rid = uuid.uuid4().hex.encode()

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-wix-request-id", rid))
                if consistent is not None:
                    headers.append((b"x-wix-consistent", consistent))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_ids)


class Sweeper:
    """Expires overdue reservations in the background, so seats return to inventory and
    unpaid orders end even when nobody reads them. Safe to run in every process: each
    expiry is a guarded status change (and SKIP LOCKED on PostgreSQL)."""

    def __init__(self, db: Database, every: float) -> None:
        self.db, self.every = db, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="boxoffice-sweeper", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from .reservations.service import release_overdue, overdue_exists

        while not self._stop.wait(self.every):
            try:
                with self.db.session() as s:
                    due = overdue_exists(s, now())
                if due:
                    self.db.write(lambda s: release_overdue(s, now()))
            except Exception:  # keep sweeping; the next pass retries
                logging.getLogger("boxoffice").exception("reservation sweep failed")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = db or Database(settings.database_url)
    check_migrated(db.engine)
    with db.session() as s:
        secret = cursor_secret(s, settings.secret)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        sweeper = Sweeper(db, settings.sweep_seconds) if settings.sweep_seconds > 0 else None
        yield
        if sweeper:
            sweeper.stop()
        db.dispose()

    app = FastAPI(
        title="Boxoffice",
        version=__version__,
        description="Self-hostable event ticketing that implements the Wix Events ticketing API.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.secret = secret
    errors.install(app)
    app.add_middleware(RequestIds)
    for i, prefix in enumerate(TD_PREFIXES):
        app.include_router(td_router, prefix=prefix, include_in_schema=i == 0)
    for router, prefixes in (
        (events_router, EVENTS_PREFIXES),
        (reservations_router, RESERVATIONS_PREFIXES),
        (checkout_router, CHECKOUT_PREFIXES),
        (orders_router, ORDERS_PREFIXES),
        (tickets_router, TICKETS_PREFIXES),
    ):
        for i, prefix in enumerate(prefixes):
            app.include_router(router, prefix=prefix, include_in_schema=i == 0)
    app.include_router(extras_router)

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = errors.document_errors(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
