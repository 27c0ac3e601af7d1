"""The browser libraries the pages serve are the pinned npm releases, byte for byte, with
their licences (`make vendor` copies them from web/node_modules; no CDN is ever used)."""

from __future__ import annotations

import json
import re

import pytest

from tests.pages.kit import ROOT, need

VENDOR = ROOT / "src" / "boxoffice" / "pages" / "static" / "vendor"
COPIES = {
    "htmx/htmx.min.js": "htmx.org/dist/htmx.min.js",
    "htmx/LICENSE": "htmx.org/LICENSE",
    "qr-scanner/qr-scanner.min.js": "qr-scanner/qr-scanner.min.js",
    "qr-scanner/qr-scanner-worker.min.js": "qr-scanner/qr-scanner-worker.min.js",
    "qr-scanner/LICENSE": "qr-scanner/LICENSE",
}


@pytest.mark.parametrize("copy,source", sorted(COPIES.items()))
def test_vendored_file_is_the_pinned_release(copy: str, source: str) -> None:
    src = ROOT / "web" / "node_modules" / source
    need(src.exists(), f"{src} is missing (cd web && npm ci; `make test` does it)")
    assert (VENDOR / copy).read_bytes() == src.read_bytes(), f"{copy} differs from npm's {source}: run `make vendor`"


def test_every_vendored_file_is_listed_and_pinned() -> None:
    files = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file()}
    assert files == set(COPIES), files ^ set(COPIES)
    pins = json.loads((ROOT / "web" / "package.json").read_text())["devDependencies"]
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in pins.values()), pins  # exact versions only


def test_no_page_loads_anything_from_another_host() -> None:
    pages = ROOT / "src" / "boxoffice" / "pages"
    for p in list((pages / "templates").rglob("*.html")) + list((pages / "static").glob("*.js")):
        text = p.read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), p
