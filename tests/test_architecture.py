"""The architecture of docs/architecture.md, checked beyond import-linter's contracts."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SLICES = ["events", "ticket_definitions", "reservations", "orders", "tickets", "webhooks"]


@pytest.mark.parametrize("slice_", SLICES)
def test_a_service_imports_without_any_http_framework(slice_):
    """A fresh interpreter: importing the service must not load FastAPI or Starlette."""
    code = (
        f"import boxoffice.{slice_}.service, sys; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette')); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_units_of_work_are_opened_only_through_read_and_write():
    """Production code runs its transactions with db.read / db.write (db.py holds the one
    primitive they share); services never commit or roll back."""
    offenders = []
    for path in (ROOT / "src" / "boxoffice").rglob("*.py"):
        if path.name == "db.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\.session\(|\.commit\(\)|\.rollback\(\)|sessionmaker\(", line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_no_global_session_listeners():
    """After-commit effects are registered on the unit of work (db.after_commit), never on
    SQLAlchemy's global Session class."""
    hits = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "src" / "boxoffice").rglob("*.py")
        if re.search(r"listens_for\(\s*Session", p.read_text())
    ]
    assert not hits, hits
