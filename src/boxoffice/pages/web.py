"""The pages' HTTP kit, shared by the dashboard, the public event page and the door
scanner: templates, the browser's cookies, CSRF, who is signed in, and refusals shown as
pages instead of the API's JSON envelope.

Cookies (all HttpOnly, ``SameSite=Lax``, ``Secure`` when the request came over TLS):

* ``bo_browser``: a random id every browser gets on its first page. The CSRF token is
  an HMAC of it with the instance secret (so it needs no storage), and so is the
  anonymous visitor id the public checkout buys under (a visitor's orders are its own).
* ``bo_session``: a signed-in organiser or staff member (``sessions.py``): the site and a
  random token whose hash is the session row.

Every POST is checked twice: its ``csrf_token`` form field (or ``X-CSRF-Token`` header,
which htmx sends from ``<body hx-headers>``) must be this browser's token, and an
``Origin`` header, when the browser sends one, must be this host. Pages that hold
credentials or act for an organiser cannot be framed (``frame-ancestors 'none'``); only
the public event's ``/embed`` may be.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from ..db import Database
from ..errors import InvalidArgument, PermissionDenied, Unauthenticated, WixError
from ..identity import IdentityType, Permission, Principal
from . import sessions

HERE = Path(__file__).parent
BROWSER_COOKIE = "bo_browser"
SESSION_COOKIE = "bo_session"

env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))
templates = Jinja2Templates(env=env)

# No inline script or style anywhere: every script and sheet is a file under /static.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; worker-src 'self' blob:; media-src 'self' blob:; form-action 'self'; base-uri 'none'")


def db_of(request: Request) -> Database:
    return request.app.state.db


def secret_of(request: Request) -> bytes:
    return request.app.state.secret


def _derive(request: Request, purpose: str, browser: str) -> str:
    return hmac.new(secret_of(request), f"pages:{purpose}:{browser}".encode(), hashlib.sha256).hexdigest()


def browser_id(request: Request) -> str:
    """This browser's id: its cookie, or a new one (set on the response by ``render``)."""
    got = request.cookies.get(BROWSER_COOKIE, "")
    if 20 <= len(got) <= 64 and got.replace("-", "").replace("_", "").isalnum():
        return got
    new = getattr(request.state, "new_browser", None)
    if new is None:
        new = request.state.new_browser = secrets.token_urlsafe(24)
    return new


def csrf_token(request: Request) -> str:
    return _derive(request, "csrf", browser_id(request))[:40]


def visitor(request: Request, site_id: str) -> Principal:
    """The anonymous buyer this browser is on ``site_id``: a stable id derived from its
    cookie (a different one per site), holding only what a visitor's key holds."""
    vid = str(uuid.UUID(_derive(request, f"visitor:{site_id}", browser_id(request))[:32]))
    return Principal(site_id, IdentityType.VISITOR, vid, frozenset({Permission.READ_EVENTS}))


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=secure(request))


def _finish(request: Request, response: Response, frameable: bool = False) -> Response:
    new = getattr(request.state, "new_browser", None)
    if new is not None and BROWSER_COOKIE not in request.cookies:
        set_cookie(response, request, BROWSER_COOKIE, new, max_age=400 * 24 * 3600)
    response.headers.setdefault("Content-Security-Policy",
                                CSP + ("" if frameable else "; frame-ancestors 'none'"))
    if not frameable:
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def render(request: Request, template: str, status_code: int = 200, *, frameable: bool = False,
           headers: dict[str, str] | None = None, **context: Any) -> Response:
    """A page (or an htmx fragment): the template with ``request``, ``csrf_token`` and
    ``principal`` (the signed-in one, if any) in its context."""
    context.setdefault("principal", getattr(request.state, "principal", None))
    context.setdefault("embed", frameable)
    response = templates.TemplateResponse(
        request, template, {"csrf_token": csrf_token(request), **context}, status_code=status_code, headers=headers
    )
    return _finish(request, response, frameable)


def redirect(request: Request, url: str, status_code: int = 303) -> Response:
    """Where to go next: a 303, or for an htmx request ``HX-Redirect`` (htmx follows it)."""
    if request.headers.get("hx-request"):
        return _finish(request, Response(status_code=204, headers={"HX-Redirect": url}))
    return _finish(request, RedirectResponse(url, status_code=status_code))


def safe_next(url: str | None, default: str) -> str:
    """Only a path on this host: never ``//evil`` or ``https://evil`` (an open redirect)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url or urlsplit(url).netloc:
        return default
    return url


class SignInRequired(Exception):
    def __init__(self, door: sessions.Door) -> None:
        self.door = door


def signed_in(door: sessions.Door) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """Dependency: the signed-in principal that may use ``door``, read on every request
    (a revoked key's session ends at once); else the sign-in page (``SignInRequired``)."""

    async def dependency(request: Request) -> Principal:
        cookie = request.cookies.get(SESSION_COOKIE)
        p = await run_in_threadpool(db_of(request).read, lambda s: sessions.resolve(s, cookie)) if cookie else None
        if p is None or not sessions.admits(door, p):
            raise SignInRequired(door)
        request.state.principal = p
        return p

    return dependency


Owner = Annotated[Principal, Depends(signed_in(sessions.Door.DASHBOARD))]
DoorStaff = Annotated[Principal, Depends(signed_in(sessions.Door.SCANNER))]


def login_url(door: sessions.Door) -> str:
    return "/dashboard/login" if door is sessions.Door.DASHBOARD else "/scan/login"


async def check_csrf(request: Request) -> None:
    """Dependency of every page POST (see the module's docstring)."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise PermissionDenied("This form was sent from another site")
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get("csrf_token")  # type: ignore[assignment]
    if BROWSER_COOKIE not in request.cookies or not isinstance(sent, str) or not hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), csrf_token(request).encode()
    ):
        raise PermissionDenied("This form has expired: reload the page and try again")


CSRF = Depends(check_csrf)


def _message(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, RequestValidationError):
        parts = []
        for e in exc.errors()[:5]:
            loc = ".".join(str(x) for x in e.get("loc", ())[1:]) or "form"
            parts.append(f"{loc}: {e.get('msg', 'is invalid')}")
        return 400, "; ".join(parts) or "The form is not valid"
    if isinstance(exc, InvalidArgument):
        body = exc.body()
        violations = body.get("details", {}).get("validationError", {}).get("fieldViolations", [])
        text = "; ".join(f"{v.get('field')}: {v.get('description')}" for v in violations[:5])
        return 400, text or exc.description
    assert isinstance(exc, WixError)
    return exc.status, exc.description


class PageRoute(APIRoute):
    """A page's route: a refusal is shown as a page (or, to htmx, as a fragment swapped
    into the page's ``#flash`` region), never as the API's JSON; a missing sign-in is a
    redirect to the sign-in page that comes back here afterwards."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as exc:
                back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if request.method != "GET":
                    back = request.headers.get("hx-current-url") or login_url(exc.door)
                    back = urlsplit(back).path or login_url(exc.door)
                return redirect(request, f"{login_url(exc.door)}?next={quote(back)}")
            except (WixError, RequestValidationError) as exc:
                status, message = _message(exc)
                if isinstance(exc, Unauthenticated):
                    status = 401
                if request.headers.get("hx-request"):
                    return render(request, "_flash.html", status, message=message, level="error",
                                  headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
                return render(request, "error.html", status, message=message, status=status)

        return route


__all__ = ["CSRF", "DoorStaff", "HTMLResponse", "Owner", "PageRoute", "render", "redirect", "visitor"]
