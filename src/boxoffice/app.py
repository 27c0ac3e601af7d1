"""The FastAPI application factory."""

from __future__ import annotations

import gc
import uuid
from functools import partial
from typing import Any

import orjson

import anyio.to_thread
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__, errors, limits
from .auth import cursor_secret
from .config import Settings, get_settings
from .db import Database, GroupCommit, Listener
from .events.routes import router as events_router
from .migrations import check_migrated
from .orders.routes import checkout_router, orders_router, test_payments_router
from .payments import Payments
from .reservations import service as reservations
from .reservations.routes import router as reservations_router
from .ticket_definitions import inventory, live
from .ticket_definitions.routes import live_router
from .ticket_definitions.routes import router as td_router
from .tickets.routes import extras as extras_router
from .tickets.routes import router as tickets_router
from .webhooks.routes import router as webhooks_router
from .webhooks import outbox
from .webhooks.worker import Background, WorkerSettings

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


class BodyLimit:
    """Pure ASGI middleware: a request body is at most ``max_bytes`` (413 above it, read
    no further), and a JSON body is JSON that every later step can hold: strict (orjson:
    no NaN, no lone UTF-16 surrogates, which PostgreSQL cannot store) and at most
    ``limits.MAX_JSON_DEPTH`` deep (Python's own parser recurses). Refused with a 400
    before any route sees it, so no handler can half-write bad input."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _refuse(send, 413, "PAYLOAD_TOO_LARGE", f"The request body is larger than {self.max_bytes} bytes")
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _refuse(send, 413, "PAYLOAD_TOO_LARGE", f"The request body is larger than {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and b"json" in headers.get(b"content-type", b"application/json"):
            problem = _json_problem(body)
            if problem:
                err = errors.InvalidArgument("body", problem, "FORMAT")
                await _refuse(send, 400, "", "", err.body())
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _json_problem(body: bytes) -> str | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        return f"is not valid JSON ({e})"
    if isinstance(value, (dict, list)) and _too_deep(value, limits.MAX_JSON_DEPTH):
        return f"is nested deeper than {limits.MAX_JSON_DEPTH} levels"
    return None


def _too_deep(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if d > limit:
            return True
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values() if isinstance(x, (dict, list)))
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v if isinstance(x, (dict, list)))
    return False


async def _refuse(send: Send, status: int, code: str, description: str, body: dict[str, Any] | None = None) -> None:
    if body is None:
        body = {"message": description, "details": {"applicationError": {"code": code, "description": description, "data": {}}}}
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                        (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def create_app(
    settings: Settings | None = None, db: Database | None = None, *, seat_take: inventory.SeatTake | None = None
) -> FastAPI:
    """``seat_take``: the inventory's seat take; only the race test passes another (a
    naive one, tests/naive_inventory.py, to prove the test sees overselling)."""
    settings = settings or get_settings()
    db = db or Database(settings.database_url)
    check_migrated(db.engine)
    with db.session() as s:
        secret = cursor_secret(s, settings.secret)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        # make run's single process also delivers webhooks, plans sale transitions and
        # expires reservations; `boxoffice worker` does the same in a process of its own
        background = (
            Background(db, settings.tick_seconds, WorkerSettings.from_settings(settings)) if settings.background else None
        )
        # PostgreSQL: what other processes commit reaches this one's live streams
        # (and wakes its webhook worker) at once
        handlers = {live.CHANNEL: live.hub.publish, outbox.CHANNEL: outbox.wake}
        listener = None if db.is_sqlite else Listener(db, handlers)
        # Everything alive now (modules, the app, its routes and models) lives as long as
        # the process: keep it out of the cyclic GC's full collections, which otherwise
        # stopped every thread for 100-170 ms every second or two under load.
        gc.freeze()
        yield
        app.state.reserve.close()
        if listener:
            listener.stop()
        if background:
            background.stop()
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
    app.state.payments = Payments.from_settings(settings.test_payments)
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
    app.add_middleware(RequestIds)
    # Routes are matched in the order included: the selling flow (reservations, checkout,
    # orders, tickets) first, since a sale is where the traffic is; no two routes overlap.
    for router, prefixes in (
        (reservations_router, RESERVATIONS_PREFIXES),
        (checkout_router, CHECKOUT_PREFIXES),
        (orders_router, ORDERS_PREFIXES),
        (tickets_router, TICKETS_PREFIXES),
        (td_router, TD_PREFIXES),
        (events_router, EVENTS_PREFIXES),
    ):
        for i, prefix in enumerate(prefixes):
            app.include_router(router, prefix=prefix, include_in_schema=i == 0)
    app.include_router(extras_router)
    if settings.test_payments:
        app.include_router(test_payments_router)
    app.include_router(webhooks_router)
    app.include_router(live_router)

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = errors.document_errors(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
