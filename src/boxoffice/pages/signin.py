"""Signing in and out of the dashboard and the door scanner, and the landing page.

An organiser pastes an API key once (it becomes a session cookie; the key is not kept in
the browser), or opens a login link the operator printed (``boxoffice dashboard-link``).
A link is used by a POST from its page, never by the GET: mail scanners and link
previews open links, and must not spend it. Door staff may also paste a staff member's
access token, or open their staff login link (Login Staff Member's token).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from .. import limits
from ..staff_members import service as staff
from . import sessions
from .web import CSRF, SESSION_COOKIE, PageRoute, db_of, redirect, render, safe_next, secret_of, set_cookie

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Key = Annotated[str, Form(max_length=200)]
Next = Annotated[str, Form(max_length=500)]

_HOME = {sessions.Door.DASHBOARD: "/dashboard", sessions.Door.SCANNER: "/scan"}


def _signed_in(request: Request, cookie: str, door: sessions.Door, next_url: str) -> Response:
    response = redirect(request, safe_next(next_url, _HOME[door]))
    set_cookie(response, request, SESSION_COOKIE, cookie, max_age=limits.PAGE_SESSION_HOURS * 3600)
    return response


@router.get("/")
def landing(request: Request) -> Response:
    return render(request, "landing.html")


@router.get("/dashboard/login")
def dashboard_login_page(request: Request, next: str = "") -> Response:
    return render(request, "login.html", door="dashboard", next=safe_next(next, "/dashboard"))


@router.post("/dashboard/login", dependencies=[CSRF])
def dashboard_login(request: Request, key: Key, next: Next = "") -> Response:
    cookie = db_of(request).write(lambda s: sessions.sign_in_with_key(s, key, sessions.Door.DASHBOARD))
    return _signed_in(request, cookie, sessions.Door.DASHBOARD, next)


@router.get("/dashboard/login/{token}")
def login_link_page(request: Request, token: str) -> Response:
    return render(request, "login_link.html", token=token[:200])


@router.post("/dashboard/login/{token}", dependencies=[CSRF])
def login_link(request: Request, token: str) -> Response:
    cookie = db_of(request).write(lambda s: sessions.sign_in_with_link(s, token))
    return _signed_in(request, cookie, sessions.Door.DASHBOARD, "/dashboard")


@router.get("/scan/login")
def scan_login_page(request: Request, next: str = "", token: str = "") -> Response:
    return render(request, "login.html", door="scan", next=safe_next(next, "/scan"), staff_token=token[:200])


@router.post("/scan/login", dependencies=[CSRF])
def scan_login(request: Request, key: Key = "", staff_token: Key = "", next: Next = "") -> Response:
    """A key or access token, or a staff member's login token (Login Staff Member: a new
    access token is made for this device and the session stands on it)."""

    def work(s):  # type: ignore[no-untyped-def]
        raw = key
        if not raw and staff_token:
            raw = staff.login(s, secret_of(request), staff_token).access_token
        return sessions.sign_in_with_key(s, raw, sessions.Door.SCANNER)

    cookie = db_of(request).write(work)
    return _signed_in(request, cookie, sessions.Door.SCANNER, next)


@router.post("/dashboard/logout", dependencies=[CSRF])
@router.post("/scan/logout", dependencies=[CSRF])
def logout(request: Request) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    db_of(request).write(lambda s: sessions.sign_out(s, cookie))
    door = sessions.Door.SCANNER if request.url.path.startswith("/scan") else sessions.Door.DASHBOARD
    response = redirect(request, "/scan/login" if door is sessions.Door.SCANNER else "/dashboard/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
