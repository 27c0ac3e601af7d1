"""HTTP helpers shared by every ``routes.py``: the JSON response, and reading a GET's
query (including the SDK's ``.r``) and a legacy List call's paging."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope, Send

from .. import errors, limits
from ..values import check_json
from .middleware import replaying


class JSON(Response):
    """A JSON body serialised with orjson (200 unless told; the SDK accepts nothing else
    as success)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


Fast = Callable[[Scope, bytes], Awaitable[Response | None]]


def lean(fast: Fast) -> type[APIRoute]:
    """A route class for a hot route: ``fast(scope, body)`` answers the common case
    without FastAPI's request object, dependency resolution and two-step validation
    (the route's own code does the minimum: a cached key, ``model_validate_json``), or
    returns None, and the route runs as usual on the same body, with its dependencies,
    validation and error envelope. ``fast`` may return None only before it has done
    anything (no write, nothing sent), so the two paths cannot both act.

    Used with ``router.add_api_route(..., route_class_override=lean(fast))``: the route
    stays an APIRoute (OpenAPI, path aliases by include_router, tests' overrides)."""

    class LeanRoute(APIRoute):
        lean_path: Fast = staticmethod(fast)  # a test swaps it to compare both paths

        async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
            if self.methods and scope["method"] not in self.methods:
                await super().handle(scope, receive, send)
                return
            chunks = []
            while True:
                message = await receive()
                if message["type"] != "http.request":  # the client went away
                    return
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            body = b"".join(chunks)
            response = await self.lean_path(scope, body)
            if response is not None:
                await response(scope, receive, send)
                return
            await super().handle(scope, replaying(body, receive), send)

    LeanRoute.__name__ = LeanRoute.__qualname__ = f"LeanRoute_{getattr(fast, '__name__', 'fast')}"
    return LeanRoute


def header(scope: Scope, name: bytes) -> str | None:
    """One request header from an ASGI scope (``name`` lower-case), decoded as Starlette does."""
    for k, v in scope["headers"]:
        if k == name:
            return v.decode("latin-1")
    return None


def get_params(request: Request) -> dict[str, Any]:
    """Query parameters of a GET/DELETE, including the SDK's ``.r`` form.

    ``.r`` is base64url(JSON of the whole request); repeated keys become lists. It is
    bounded: at most limits.MAX_R_CHARS long, nested at most limits.MAX_JSON_DEPTH deep, no
    lone surrogates; else a 400.
    """
    out: dict[str, Any] = {}
    for k in request.query_params.keys():
        if k == ".r":
            continue
        vals = request.query_params.getlist(k)
        out[k] = vals if len(vals) > 1 else vals[0]
    r = request.query_params.get(".r")
    if r:
        if len(r) > limits.MAX_R_CHARS:
            raise errors.InvalidArgument(".r", f"is longer than {limits.MAX_R_CHARS} characters", "MAX_LENGTH")
        try:
            decoded = json.loads(base64.urlsafe_b64decode(r + "=" * (-len(r) % 4)))
        except RecursionError:  # json.loads recurses per level; the walk below bounds the rest
            raise errors.InvalidArgument(".r", f"is nested deeper than {limits.MAX_JSON_DEPTH} levels", "FORMAT") from None
        except (ValueError, UnicodeDecodeError):
            raise errors.InvalidArgument(".r", "is not base64url-encoded JSON", "FORMAT") from None
        if not isinstance(decoded, dict):
            raise errors.InvalidArgument(".r", "must encode an object", "FORMAT")
        check_json(decoded, ".r")
        out.update(decoded)
    return out


def str_param(params: dict[str, Any], name: str) -> str | None:
    """One string parameter (absent: None); anything else `.r` can carry is a 400."""
    v = params.get(name)
    if v is not None and not isinstance(v, str):
        raise errors.InvalidArgument(name, "must be a string", "FORMAT")
    return v


def secret(request: Request) -> bytes:
    return request.app.state.secret


def list_params(request: Request, arrays: tuple[str, ...], max_limit: int, default_limit: int) -> dict[str, Any]:
    """A legacy List call's query: repeated keys as lists, plus checked offset/limit.
    A limit above what a page may hold is served as the largest page (Wix's orders
    accept 400 and answer with at most 100); an offset above limits.MAX_OFFSET, or more
    than limits.FILTER_MAX_IN values for one repeated key, is a 400."""
    p = get_params(request)
    for k, v in list(p.items()):  # the query string gives strings; `.r` may give any JSON
        if k in ("offset", "limit"):
            continue
        values = v if isinstance(v, list) and k in arrays else [v]
        if not all(isinstance(x, str) for x in values):
            raise errors.InvalidArgument(k, "must be a string" + (" or a list of strings" if k in arrays else ""), "FORMAT")
    for k in arrays:
        v = p.get(k)
        if v is not None and not isinstance(v, list):
            p[k] = [v]
        if v is not None and len(p[k]) > limits.FILTER_MAX_IN:  # each becomes one SQL IN list
            raise errors.InvalidArgument(k, f"has more than {limits.FILTER_MAX_IN} values", "MAX_SIZE")
    for k, default in (("offset", 0), ("limit", default_limit)):
        raw = p.get(k, default)
        try:
            p[k] = int(raw)
        except (TypeError, ValueError):
            raise errors.InvalidArgument(k, "must be an integer", "FORMAT") from None
        if p[k] < 0:
            raise errors.InvalidArgument(k, "must not be negative", "MIN")
    if p["offset"] > limits.MAX_OFFSET:
        raise errors.InvalidArgument("offset", f"must be at most {limits.MAX_OFFSET}", "MAX")
    p["limit"] = min(p["limit"], max_limit)
    return p


def query_doc(*params: tuple[str, str] | tuple[str, str, Any]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its query itself (the legacy List methods
    take repeated keys and the SDK's `.r`, which FastAPI's parameters cannot express):
    each ``(name, description)`` or ``(name, description, values)`` becomes a documented
    query parameter; ``values`` a list (an enum, repeatable), ``int`` (an integer) or
    ``list`` (a repeatable string), so that /docs shows and can send them."""
    out = []
    for name, description, *kind in params:
        schema: dict[str, Any] = {"type": "string"}
        k = kind[0] if kind else None
        if k is int:
            schema = {"type": "integer", "minimum": 0}
        elif k is list:
            schema = {"type": "array", "items": {"type": "string"}}
        elif isinstance(k, (list, tuple, set, frozenset)):
            schema = {"type": "array", "items": {"type": "string", "enum": sorted(k)}}
        param: dict[str, Any] = {"name": name, "in": "query", "required": False, "description": description, "schema": schema}
        if schema["type"] == "array":
            param.update(style="form", explode=True)
        out.append(param)
    return {"parameters": out}


PAGE = (("offset", "how many to skip", int), ("limit", "how many at most (100 at most; 0 or none: the default)", int))
