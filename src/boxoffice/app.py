"""The FastAPI application factory."""

from __future__ import annotations

import uuid

import anyio.to_thread
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__, errors
from .auth import cursor_secret
from .config import Settings, get_settings
from .db import Database
from .events.routes import router as events_router
from .migrations import check_migrated
from .ticket_definitions.routes import router as td_router

# Every prefix the official SDK resolves for these services (wire notes §4): the
# first of each is documented in OpenAPI, the others are aliases.
TD_PREFIXES = ["/events-ticket-definitions", "/events", "/_api/events-ticket-definitions"]
EVENTS_PREFIXES = ["/events", "/events-events-v3-adapter", "/_api/events-events-v3-adapter"]


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


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = db or Database(settings.database_url)
    check_migrated(db.engine)
    with db.session() as s:
        secret = cursor_secret(s, settings.secret)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        yield
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
    for i, prefix in enumerate(EVENTS_PREFIXES):
        app.include_router(events_router, prefix=prefix, include_in_schema=i == 0)

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = errors.document_errors(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
