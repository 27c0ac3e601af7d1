"""Signing in to the pages (pages/signin.py, sessions.py): over HTTP for each refusal, and
once in the browser with axe-core. Security: the key never reaches the browser, CSRF is
checked on every form, a revoked key's session ends at once, a login link works once."""

from __future__ import annotations

import re
from typing import Any

import httpx

from boxoffice.auth import key_of
from tests.pages.kit import Live, axe, sign_in, watch


def _csrf(client: httpx.Client, path: str) -> str:
    html = client.get(path).text
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, html[:500]
    return m.group(1)


def test_key_sign_in_sets_a_session_not_the_key(live: Live) -> None:
    with httpx.Client(base_url=live.base) as c:
        token = _csrf(c, "/dashboard/login")
        r = c.post("/dashboard/login", data={"csrf_token": token, "key": live.key, "next": "/dashboard"})
        assert r.status_code == 303 and r.headers["location"] == "/dashboard"
        cookie = r.headers["set-cookie"]
        assert "bo_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert live.key not in cookie and live.key not in str(c.cookies)


def test_sign_in_refusals(live: Live) -> None:
    with httpx.Client(base_url=live.base) as c:
        token = _csrf(c, "/dashboard/login")
        # a wrong key
        r = c.post("/dashboard/login", data={"csrf_token": token, "key": "bo_nope"})
        assert r.status_code == 401 and "not a valid" in r.text
        # no CSRF token, a wrong one, or another site's Origin
        assert c.post("/dashboard/login", data={"key": live.key}).status_code == 403
        assert c.post("/dashboard/login", data={"csrf_token": "x" * 40, "key": live.key}).status_code == 403
        r = c.post("/dashboard/login", data={"csrf_token": token, "key": live.key}, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403
        # an open redirect through next
        r = c.post("/dashboard/login", data={"csrf_token": token, "key": live.key, "next": "//evil.example/x"})
        assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    # a visitor's key may not sign in to the dashboard
    visitor = live.cli("keys", "create", "--site", live.site, "--identity", "visitor").strip().splitlines()[0]
    with httpx.Client(base_url=live.base) as c:
        token = _csrf(c, "/dashboard/login")
        r = c.post("/dashboard/login", data={"csrf_token": token, "key": visitor})
        assert r.status_code == 403


def test_revoked_key_ends_its_session(live: Live) -> None:
    key = live.cli("keys", "create", "--site", live.site, "--identity", "app").strip().splitlines()[0]
    db = live.db()
    key_id = db.read(lambda s: key_of(s, key).id)  # type: ignore[union-attr]
    db.dispose()
    with httpx.Client(base_url=live.base) as c:
        token = _csrf(c, "/dashboard/login")
        assert c.post("/dashboard/login", data={"csrf_token": token, "key": key}).status_code == 303
        assert c.get("/dashboard").status_code == 200
        live.cli("keys", "revoke", key_id)
        r = c.get("/dashboard")
        assert r.status_code == 303 and r.headers["location"].startswith("/dashboard/login")


def test_login_link_works_once(live: Live) -> None:
    link = live.cli("dashboard-link", "--site", live.site).strip()
    path = link.removeprefix(live.base)
    assert path.startswith("/dashboard/login/")
    with httpx.Client(base_url=live.base) as c:
        token = _csrf(c, path)  # the GET only shows a button: a link preview does not spend it
        r = c.post(path, data={"csrf_token": token})
        assert r.status_code == 303 and r.headers["location"] == "/dashboard"
        assert c.get("/dashboard").status_code == 200
    with httpx.Client(base_url=live.base) as c:
        token = _csrf(c, path)
        assert c.post(path, data={"csrf_token": token}).status_code == 401  # used
        assert c.post("/dashboard/login/" + live.site + ".forged", data={"csrf_token": token}).status_code == 401


def test_sign_in_in_the_browser(live: Live, browser: Any) -> None:
    page = browser.new_page()
    problems = watch(page)
    page.goto(f"{live.base}/dashboard")
    assert "/dashboard/login" in page.url  # sent to sign in first
    axe(page, "the sign-in page")
    sign_in(page, live)
    assert page.url.endswith("/dashboard")
    assert not problems, problems
    page.close()
