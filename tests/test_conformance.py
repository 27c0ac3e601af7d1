"""The official Wix JavaScript SDK, unchanged but for its fetch, against a real server.

Runs `conformance/run.sh --local` (a uvicorn server on a scratch database, an app
key and a visitor key, then `node --test`) on SQLite and on PostgreSQL, the test files
in two halves (each with a server of its own) that xdist can run side by side.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_CI, ROOT, make_pg_database

FILES = sorted(p.name for p in (ROOT / "conformance").glob("*.test.mjs"))
HALVES = 2


@pytest.mark.parametrize("half", range(HALVES))
@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_wix_sdk_conformance(store: str, half: int, tmp_path: Path) -> None:
    if shutil.which("node") is None:
        msg = "node is not installed: the Wix SDK conformance suite cannot run"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    env = {
        **os.environ,
        "BOXOFFICE_BIN": str(Path(sys.executable).parent / "boxoffice"),
        "BOXOFFICE_SHOW_SERVER_LOG": "1",
    }
    if store == "postgresql":
        env["BOXOFFICE_CONFORMANCE_DATABASE_URL"] = make_pg_database(f"boxoffice_conformance{half}")
    files = FILES[half::HALVES]
    assert len(FILES) >= 14 and files
    r = subprocess.run(
        ["bash", str(ROOT / "conformance" / "run.sh"), "--local", *files],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    tail = "\n".join((r.stdout + r.stderr).splitlines()[-120:])
    assert r.returncode == 0, tail
    assert "# fail 0" in r.stdout and "# pass " in r.stdout, tail
