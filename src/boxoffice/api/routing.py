"""Route dispatch indexed by the path's first two segments.

Starlette's router tries every route's regular expression, in order, on every request:
with Boxoffice's ~300 routes that loop was 15-20 % of a Get Ticket Definition's CPU
(py-spy under bench/ticket_definitions.py). The index hands the same loop only the
routes that could match the request path's first two segments, still in their original
order, so the first FULL (or, failing that, PARTIAL: 405) match is the very route
Starlette would pick. A request nothing matches (404, a slash redirect) goes to
Starlette's own loop unchanged.

Hand-written (~40 lines): neither Starlette nor FastAPI indexes its routes, and a radix
router would not keep Starlette's first-match order.
"""

from __future__ import annotations

from typing import Any

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Router
from starlette.types import Receive, Scope, Send

DEPTH = 2  # "/_api/events-ticket-definitions/...", "/events/v1/...": two segments part the 350 routes


def literal_segments(route: BaseRoute) -> tuple[str, ...]:
    """The first (at most DEPTH) path segments every path this route matches starts
    with; fewer when a parameter comes sooner (none: it may match any path)."""
    fmt = getattr(route, "path_format", None)  # Route, APIRoute, WebSocketRoute, Mount ("/p/{path}")
    if not isinstance(fmt, str) or not fmt.startswith("/"):
        return ()
    literal = fmt.split("{", 1)[0]
    parts = literal[1:].split("/")
    if literal != fmt:
        parts = parts[:-1]  # the last part runs into a parameter: not a whole segment
    return tuple(parts[:DEPTH])


def pick(routes: list[BaseRoute], scope: Scope) -> tuple[BaseRoute, Scope] | None:
    """Starlette's choice among ``routes``: the first FULL match, else the first PARTIAL."""
    partial: tuple[BaseRoute, Scope] | None = None
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is Match.FULL:
            return route, child_scope
        if match is Match.PARTIAL and partial is None:
            partial = (route, child_scope)
    return partial


class RouteIndex:
    """The router's dispatch (``router.middleware_stack``), rebuilt when its routes change."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._for: tuple[int, int] | None = None
        self._buckets: dict[tuple[str, ...], list[BaseRoute]] = {}
        self._rest: list[BaseRoute] = []

    def candidates(self, path: str) -> list[BaseRoute]:
        routes = self.router.routes
        if self._for != (id(routes), len(routes)):
            segs = [literal_segments(r) for r in routes]
            keys = {k[:n] for k in segs for n in range(1, len(k) + 1)}
            # a key's routes: those whose literal segments are a prefix of it, in order
            self._buckets = {k: [r for r, s in zip(routes, segs, strict=True) if k[: len(s)] == s] for k in keys}
            self._rest = [r for r, s in zip(routes, segs, strict=True) if not s]
            self._for = (id(routes), len(routes))
        if not path.startswith("/"):
            return routes
        parts = tuple(path[1:].split("/", DEPTH)[:DEPTH])
        for n in range(len(parts), 0, -1):
            found = self._buckets.get(parts[:n])
            if found is not None:
                return found
        return self._rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            found = pick(self.candidates(get_route_path(scope)), scope)
            if found is not None:
                route, child_scope = found
                scope.setdefault("router", self.router)
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
        await self.router.app(scope, receive, send)


def index_routes(app: Any) -> None:
    """Dispatch ``app``'s routes through a :class:`RouteIndex` (the router has no
    middleware of its own, which the index would otherwise skip)."""
    router = app.router
    assert router.middleware_stack == router.app, "the router has middleware: index after it, not instead"
    router.middleware_stack = RouteIndex(router)
