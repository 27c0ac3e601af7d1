"""What every browser test of the pages shares: a real `boxoffice serve` on a scratch
SQLite database (the test payment provider on), Debian's Chromium driven by Playwright,
signing in, and axe-core's accessibility check.

Chromium comes from Debian (`make test` installs it when /usr/bin/chromium is missing)
and axe-core from npm (`web/package.json`, installed by `make test`); without either the
tests skip loudly, or fail under CI=true. Screenshots go to the test's temporary
directory, or to ``docs/img/`` when ``BOXOFFICE_SCREENSHOTS=1`` (that is how the ones in
README were taken).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from boxoffice.auth import create_api_key
from boxoffice.db import Database
from boxoffice.identity import IdentityType
from boxoffice.migrations import upgrade
from tests.helpers import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
IN_CI = os.environ.get("CI", "").lower() == "true"
SHOTS = ROOT / "docs" / "img"


def need(ok: bool, msg: str) -> None:
    """Skip loudly when a browser prerequisite is missing; under CI=true, fail instead."""
    if ok:
        return
    if IN_CI:
        pytest.fail("CI=true: " + msg, pytrace=False)
    print("\n" + "!" * 78 + f"\n!!! SKIPPING A BROWSER TEST OF THE PAGES: {msg}\n" + "!" * 78, file=sys.stderr)
    pytest.skip(msg)


@dataclass
class Live:
    """A running server: its address, a site with an owner's API key, and its database."""

    base: str
    site: str
    key: str
    db_url: str
    proc: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": self.key, "wix-site-id": self.site}

    def api(self, method: str, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return httpx.request(method, f"{self.base}{path}", json=json, headers=self.headers, timeout=30, **kw)

    def cli(self, *args: str) -> str:
        """`boxoffice ...` against this server's database; its stdout."""
        out = subprocess.run([str(Path(sys.executable).parent / "boxoffice"), *args], env=self.env,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def db(self) -> Database:
        return Database(self.db_url)


def start_server(tmp_path: Path, site: str = "pages-site", **env_over: str) -> Iterator[Live]:
    url = f"sqlite:///{tmp_path / 'pages.db'}"
    upgrade(url)
    db = Database(url)
    with db.session(write=True) as s:
        key = create_api_key(s, site, IdentityType.APP)
    db.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BOXOFFICE_DATABASE_URL": url, "BOXOFFICE_TEST_PAYMENTS": "1",
           "BOXOFFICE_PUBLIC_URL": base, **env_over}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "boxoffice"), "serve", "--port", str(port), "--workers", "1",
         "--no-access-log", "--log-level", "warning"],
        env=env,
    )
    try:
        wait_healthy(base, timeout=60)
        yield Live(base, site, key, url, proc, env)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from start_server(tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (apt-get install chromium; `make test` does it as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "the Python package playwright is missing (pip install -e '.[test]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def until(page: Any, expression: str, timeout: float = 30.0) -> None:
    """Wait until a JavaScript expression is true in the page. Polled from here through
    ``page.evaluate`` (devtools: the page's CSP does not apply) because Playwright's
    ``wait_for_function`` compiles its predicate with eval inside the page once it has
    to poll, which the pages' CSP (no 'unsafe-eval') refuses."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"not true within {timeout:.0f} s: {expression}"
        page.wait_for_timeout(25)


class Problems(list[str]):
    """What went wrong in the browser (console errors, page errors, HTTP >= 500): a
    test asserts it stays empty."""


def watch(page: Any) -> Problems:
    problems = Problems()
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 500 else None)
    return problems


def sign_in(page: Any, live: Live, door: str = "dashboard", key: str | None = None) -> None:
    """Sign in through the page, as a person would: paste the key, press Sign in."""
    page.goto(f"{live.base}/{'dashboard' if door == 'dashboard' else 'scan'}/login")
    page.get_by_label(re.compile("^API key")).fill(key or live.key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def axe(page: Any, what: str) -> None:
    """axe-core in the page as it stands: no serious or critical violation."""
    need(AXE.exists(), f"{AXE} is missing (cd web && npm ci; `make test` does it)")
    page.evaluate(AXE.read_text() + "\n;0")  # evaluated by the browser's devtools: the page's CSP does not apply
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [f"{v['id']} ({v['impact']}): {v['help']} -- {[n['target'] for n in v['nodes']][:3]}"
           for v in result["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"accessibility violations on {what}:\n" + "\n".join(bad)


def shot(page: Any, name: str, tmp_path: Path, full_page: bool = True) -> Path:
    out = (SHOTS if os.environ.get("BOXOFFICE_SCREENSHOTS") == "1" else tmp_path) / f"pages-{name}.png"
    page.screenshot(path=str(out), full_page=full_page)
    return out
