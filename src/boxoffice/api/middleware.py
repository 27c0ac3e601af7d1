"""Pure ASGI middleware: request ids on every response, and the request body checked
(size, strict JSON) before any route sees it."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import errors, limits

request_log = logging.getLogger("boxoffice.request")


class RequestIds:
    """Pure ASGI middleware: every response carries ``X-Wix-Request-Id`` (the SDK puts it
    on errors as ``requestId``) and echoes ``X-Wix-Consistent``, as Wix does.

    ``log_requests`` (BOXOFFICE_LOG_FORMAT=json): one ``boxoffice.request`` line per
    request with its id, method, route (the template, never the path: a path or query may
    hold a signed link's credential), the ``wix-site-id`` header, status and duration.
    Written by hand: one dict and one log call where a correlation-id library would add a
    context variable and a filter for the same two values."""

    def __init__(self, app: ASGIApp, log_requests: bool = False) -> None:
        self.app, self.log_requests = app, log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        consistent = next((v for k, v in scope["headers"] if k == b"x-wix-consistent"), None)
        rid = uuid.uuid4().hex.encode()
        status = 500  # an exception before any response: the error handler's 500
        start = time.perf_counter()

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-wix-request-id", rid))
                if consistent is not None:
                    headers.append((b"x-wix-consistent", consistent))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        finally:
            if self.log_requests:
                route = scope.get("route")
                site = next((v for k, v in scope["headers"] if k == b"wix-site-id"), b"")
                request_log.info(
                    "request",
                    extra={
                        "request_id": rid.decode(),
                        "method": scope["method"],
                        "route": getattr(route, "path", None) or "(no route)",
                        "site": site[:64].decode("utf-8", "replace"),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                    },
                )


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
        if body and b"json" in headers.get(b"content-type", b"application/json").lower():
            problem = _json_problem(body)
            if problem:
                err = errors.InvalidArgument("body", problem, "FORMAT")
                await _refuse(send, 400, "", "", err.body())
                return
        await self.app(scope, replaying(body, receive), send)


def _json_problem(body: bytes) -> str | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        return f"is not valid JSON ({e})"
    # a document nests at most as deep as it has brackets: most bodies (a reservation has
    # 4) are cleared by counting them, without walking the parsed value
    if body.count(b"{") + body.count(b"[") <= limits.MAX_JSON_DEPTH:
        return None
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


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, once, then the client's own
    messages (a disconnect): for code that read the body before the app does."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
