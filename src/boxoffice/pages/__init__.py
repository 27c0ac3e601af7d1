"""The pages people use without an API: the organiser dashboard (``/dashboard``), the
public event page with its checkout (``/e/{siteId}/{slug}``, and ``/embed`` for an
iframe) and the door scanner (``/scan``).

Server-rendered (Jinja2) with htmx, both served from ``static/`` (vendored from npm with
their licences: ``web/package.json`` pins them, ``make vendor`` copies them). Every page
action calls the same services as the API, under the same principal and permission
rules, in one unit of work each: a page never goes around a rule. ``web.py`` is the kit
they share (cookies, CSRF, sign-in, refusals as pages); ``sessions.py`` the sign-ins.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from . import dashboard, public, scanner, signin
from .web import HERE

router = APIRouter(include_in_schema=False)
for _module in (signin, dashboard, public, scanner):
    router.include_router(_module.router)

static = StaticFiles(directory=HERE / "static")
