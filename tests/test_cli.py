"""The `boxoffice` command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "boxoffice"


def run(args: list[str], db: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "BOXOFFICE_DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=60)


def test_refuses_to_serve_an_unmigrated_database(tmp_path):
    r = run(["serve", "--port", "1"], tmp_path / "fresh.db")
    assert r.returncode == 2
    assert "boxoffice migrate" in r.stderr and "none" in r.stderr


def test_migrate_then_keys(tmp_path):
    db = tmp_path / "b.db"
    assert run(["migrate"], db).returncode == 0
    assert run(["migrate"], db).returncode == 0  # idempotent
    r = run(["keys", "create", "--site", "my-site", "--identity", "app"], db)
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip().splitlines()[-1]
    assert key.startswith("bo_") and len(key) > 30
    assert key not in db.read_bytes().decode("latin-1")  # only its hash is stored
    r = run(["keys", "create", "--site", "my-site", "--identity", "app", "--permissions", "Manage Everything"], db)
    assert r.returncode == 2 and "Manage Orders" in r.stderr
    r = run(["keys", "create", "--site", "my-site", "--identity", "robot"], db)
    assert r.returncode != 0
