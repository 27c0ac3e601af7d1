"""The route index (api/routing.py) picks exactly the route Starlette's own loop picks.

Every route of the real app is tried with its path filled in several ways (its own
literal values, another route's, odd segments) under every method, and unknown paths
too; the index's choice must be the same route with the same path parameters."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from boxoffice.api.routing import RouteIndex, pick
from boxoffice.app import create_app
from boxoffice.config import Settings
from boxoffice.migrations import upgrade

METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"]


def _paths(app: Any) -> set[str]:
    fills = ["x1", "query", "v1", "", "a/b", "%20"]
    out = {"/", "/nope", "/nope/deeper", "/_api", "/_api/", "/events", "/events/", "/static", "/healthz/", "//x"}
    for route in app.router.routes:
        fmt = getattr(route, "path_format", None)
        if not fmt:
            continue
        for fill in fills:
            path = re.sub(r"\{[^}]*\}", fill, fmt)
            out |= {path, path + "/", path.rstrip("/"), path + "/extra", path.rsplit("/", 1)[0]}
    return {p for p in out if p.startswith("/")}


def _app(tmp_path: Any, **kw: Any) -> Any:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    upgrade(url)
    return create_app(Settings(database_url=url, background=False, **kw))


def _scope(path: str, method: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}


def test_the_index_picks_starlettes_route_for_every_path_and_method(tmp_path: Any) -> None:
    app = _app(tmp_path, test_payments=True)
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    routes = app.router.routes
    checked = 0
    for path in sorted(_paths(app)):
        candidates = index.candidates(path)
        assert len(candidates) < len(routes) or path == "//x"
        for method in METHODS:
            want, got = pick(routes, _scope(path, method)), pick(candidates, _scope(path, method))
            assert (want is None) == (got is None), (method, path)
            if want is not None and got is not None:
                assert got[0] is want[0], (method, path, got[0], want[0])
                assert got[1].get("path_params") == want[1].get("path_params"), (method, path)
            checked += 1
    assert checked > 5000


def test_routes_added_after_the_first_request_are_found(tmp_path: Any) -> None:
    app: FastAPI = _app(tmp_path)
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/late/1").status_code == 404

        @app.get("/late/{n}")
        def late(n: int) -> dict[str, int]:
            return {"n": n}

        assert c.get("/late/7").json() == {"n": 7}


def test_405_404_and_slash_redirects_are_starlettes(tmp_path: Any) -> None:
    app = _app(tmp_path)
    with TestClient(app) as c:
        assert c.put("/healthz").status_code == 405  # a PARTIAL match: the route exists, not the method
        assert c.get("/no/such/route").status_code == 404
        r = c.get("/healthz/", follow_redirects=False)  # nothing matches: Starlette's loop redirects
        assert r.status_code == 307 and r.headers["location"].endswith("/healthz")
