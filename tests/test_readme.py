"""README.md's walk-through and its SDK snippet, run as written (issue 13).

The blocks are taken from README.md itself, by the HTML comment before each fence:

* ``<!-- readme-test: server ... -->``: the ``make run &`` block. It is not run (``make``
  would install into the checkout and serve its ./boxoffice.db on port 8000); the test
  starts the server the way ``make run`` does instead (``boxoffice migrate``, then
  ``BOXOFFICE_TEST_PAYMENTS=1 boxoffice serve``), in a temp directory whose ``.venv`` is
  a link to the running venv, so README's ``.venv/bin/boxoffice`` and its default
  ``./boxoffice.db`` and ``./outbox-mail`` work as written, on a free port.
* ``<!-- readme-test: walk-through -->``: shell blocks, run in README order,
* ``<!-- readme-test: after the walk-through -->``: shell blocks run after those,
* ``<!-- readme-test: file PATH -->``: a block saved as PATH (relative to the temp
  directory) before anything runs; ``conformance/node_modules`` is linked there, so the
  SDK snippet runs with the pinned SDK packages.

The shell blocks run in one ``bash`` process with ``set -euo pipefail`` (they share
variables, as a reader's shell does); the only substitution is ``BOXOFFICE_URL``, which
README's blocks read with the default ``http://127.0.0.1:8000``. Any block that exits
non-zero fails the test, which names the block's line in README.md.

A small hand-written runner, not a tool: pytest-markdown-docs and similar run Python
(or isolated per-block) snippets, while this needs ordered bash blocks sharing one
shell, a JavaScript file written from the page, and a server started around them; the
marker parsing is twenty lines.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI, ROOT

VENV = Path(sys.executable).parent.parent
MARKER = re.compile(r"^<!-- readme-test: (?P<what>[^>]*?) -->\n```(?P<lang>\w+)\n(?P<body>.*?)^```$", re.M | re.S)


@dataclass
class Block:
    what: str
    lang: str
    body: str
    line: int  # of the fence's first content line in README.md


def blocks(text: str) -> list[Block]:
    out = []
    for m in MARKER.finditer(text):
        line = text.count("\n", 0, m.start("body")) + 1
        out.append(Block(m["what"].strip(), m["lang"], m["body"], line))
    return out


def test_markers_are_found():
    """The runner cannot pass by finding nothing: README keeps its marked blocks."""
    found = blocks((ROOT / "README.md").read_text())
    kinds = [b.what.split(" ")[0] for b in found]
    assert kinds.count("server") == 1 and "make run" in next(b.body for b in found if b.what.startswith("server"))
    assert kinds.count("walk-through") >= 4
    assert any(b.what == "file conformance/sdk-demo.mjs" and b.lang == "js" for b in found)
    assert any(b.what == "after the walk-through" and "sdk-demo.mjs" in b.body for b in found)
    assert {b.lang for b in found if b.what in ("walk-through", "after the walk-through")} == {"sh"}
    # a broken marker (a typo, a missing fence) would silently drop a block: every marker is parsed
    assert (ROOT / "README.md").read_text().count("<!-- readme-test:") == len(found)


def needs(tool: str) -> None:
    if shutil.which(tool) is None:
        if IN_CI:
            pytest.fail(f"{tool} is not installed (README's walk-through needs it)")
        pytest.skip(f"!!! {tool} is not installed: README's walk-through is not checked")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def script(found: list[Block]) -> str:
    """One bash script: the walk-through's blocks, then those after it; each announces
    its README line so that a failure names it."""
    ordered = [b for b in found if b.what == "walk-through"] + [b for b in found if b.what == "after the walk-through"]
    parts = ["set -euo pipefail", "trap 'echo \"README.md block at line $README_LINE failed\" >&2' ERR"]
    for b in ordered:
        parts += [f"README_LINE={b.line}", b.body]
    return "\n".join(parts) + "\n"


def test_readme_walk_through_and_sdk_snippet_run_as_written(tmp_path):
    for tool in ("curl", "jq", "node"):
        needs(tool)
    modules = ROOT / "conformance" / "node_modules"
    if not (modules / "@wix" / "sdk").is_dir():
        if IN_CI:
            pytest.fail("conformance/node_modules is missing (cd conformance && npm ci)")
        pytest.skip("!!! conformance/node_modules is missing: README's SDK snippet is not checked")
    found = blocks((ROOT / "README.md").read_text())
    (tmp_path / ".venv").symlink_to(VENV, target_is_directory=True)
    for b in found:
        if b.what.startswith("file "):
            target = (tmp_path / b.what.removeprefix("file ")).resolve()
            assert target.is_relative_to(tmp_path.resolve()), f"{b.what}: a README block may only write inside the temp directory"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(b.body)
            if not (target.parent / "node_modules").exists():
                (target.parent / "node_modules").symlink_to(modules, target_is_directory=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # a clean environment for the server and the blocks: no inherited BOXOFFICE_* setting
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOXOFFICE_")}
    env.update(BOXOFFICE_PORT=str(port), BOXOFFICE_URL=url)
    boxoffice = str(tmp_path / ".venv" / "bin" / "boxoffice")
    # as `make run` does: migrate, then serve with the test payment provider on
    migrated = subprocess.run([boxoffice, "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert migrated.returncode == 0, migrated.stderr
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [boxoffice, "serve"], cwd=tmp_path, env={**env, "BOXOFFICE_TEST_PAYMENTS": "1"}, stdout=log, stderr=log
    )
    try:
        try:
            run = subprocess.run(
                ["bash", "-c", script(found)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
            )
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"README's blocks did not finish in 60 s\n{e.stdout!r}\n{e.stderr!r}")
        assert run.returncode == 0, f"exit {run.returncode}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr}"
        # what the blocks claim happened, seen from outside: three seats sold, one scanned
        assert "Leather Workshop: 3 sold, 0 left" in run.stdout
        assert (tmp_path / "leather-workshop.pdf").read_bytes().startswith(b"%PDF")
        assert (tmp_path / "boxoffice.db").exists()  # README's default database, in the temp directory
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
        log.close()
