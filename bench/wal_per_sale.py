"""What one sale costs PostgreSQL: bytes on disk per row, WAL bytes and database CPU per step.

A sale here is what a buyer's three calls write through the HTTP API (the app in this
process, driven by Starlette's TestClient, so that no network or server process sits
between the measured statements and their counts):

    reserve    POST /events/v1/ticket-reservations      (1 seat of one definition)
    checkout   POST /events/v1/checkout                  (the order and its ticket, PENDING online)
    pay        POST /boxoffice/v1/test-payments/{n}/pay  (PAID: guests, confirmation mail queued)

Each step runs --sales times in a row after --warmup whole sales. Around each step the
bench reads, from the server:

* ``pg_current_wal_lsn()`` (the WAL bytes the step wrote) and ``pg_stat_wal`` (records,
  full-page images); the full-page images' share of the bytes comes from ``pg_waldump
  --stats`` over the step's range when the bench runs its own cluster;
* the CPU time of every PostgreSQL process (``/proc``: the postmaster and its children),
  and of this process (the app, with the test client in it: an upper bound for the app).

After the run: for each table a sale writes, its rows, the mean row size
(``pg_column_size`` of the row), and the bytes on disk per row (heap + indexes + TOAST,
``pg_total_relation_size`` / rows), and so the bytes a sale leaves behind.

By default the bench starts a throwaway PostgreSQL cluster of its own (``initdb`` in a
temporary directory; as root it runs the server as the ``postgres`` user), so that the
WAL it counts is its own: WAL is written per cluster, and on a shared server any other
database's writes in the same seconds would be counted too. ``--pg-url`` measures on a
server you name instead (the bench then says the WAL figures may include others').
The cluster runs with ``fsync=off`` (WAL bytes and CPU do not depend on it; it keeps the
shared disk out of the run) and otherwise PostgreSQL's defaults (``full_page_writes=on``).
A CHECKPOINT starts the measured steps, so full-page images are counted as production
sees them just after a checkpoint: the "without full-page images" figure is the floor.

Usage:  .venv/bin/python bench/wal_per_sale.py [--sales 1000] [--warmup 50]
        [--pg-url postgresql://postgres@127.0.0.1:5432/test] [--out docs/bench/wal_per_sale.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import pwd
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient
from tests.helpers import CHECKOUT, RES, create_event, create_td, guest_form

from boxoffice import models_registry  # noqa: F401
from boxoffice.app import create_app
from boxoffice.auth import create_api_key
from boxoffice.config import Settings
from boxoffice.db import Database
from boxoffice.identity import IdentityType
from boxoffice.migrations import upgrade

DBNAME = "boxoffice_wal"
SITE = "wal-site"
# the tables one sale writes rows into
TABLES = [
    "ticket_reservations", "reservation_lines", "orders", "tickets", "guests",
    "outbox_events", "webhook_deliveries", "mail_messages",
]
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- a cluster of its own --------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / name).exists():
            return str(d / name)
    raise SystemExit(f"{name} not found: install PostgreSQL's server binaries or pass --pg-url")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def own_cluster() -> Iterator[tuple[str, Path]]:
    """initdb + pg_ctl start in a temporary directory; yields (admin URL, data directory)."""
    tmp = Path(tempfile.mkdtemp(prefix="bo_wal_"))
    data, port = tmp / "data", _free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(tmp, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_user, _pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"], check=True, capture_output=True)
    opts = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
    subprocess.run([*as_user, _pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-l", str(tmp / "log"), "-w", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", data
    finally:
        subprocess.run([*as_user, _pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


# --- what the server tells ---------------------------------------------------------------------


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def pg_cpu(postmaster: int | None) -> float | None:
    """CPU seconds of the postmaster and all its children (None: not on this machine)."""
    if postmaster is None:
        return None
    total = _proc_cpu(postmaster)
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == postmaster:
                total += _proc_cpu(int(p.name))
    return total


def self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Probe:
    def __init__(self, admin: psycopg.Connection, postmaster: int | None, waldir: Path | None) -> None:
        self.admin, self.postmaster, self.waldir = admin, postmaster, waldir

    def read(self) -> dict[str, Any]:
        # the insert position: pg_current_wal_lsn() is only what has been written out
        lsn = self.admin.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()[0]
        sizes = {t: self.admin.execute("SELECT pg_total_relation_size(%s)", (t,)).fetchone()[0] for t in TABLES}
        return {"lsn": lsn, "sizes": sizes, "pg_cpu": pg_cpu(self.postmaster), "app_cpu": self_cpu()}

    def diff(self, a: dict[str, Any], b: dict[str, Any], n: int) -> dict[str, Any]:
        wal = self.admin.execute("SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)", (b["lsn"], a["lsn"])).fetchone()[0]
        out: dict[str, Any] = {
            "n": n,
            "wal_bytes_per": float(wal) / n,
            "disk_bytes_per": sum(b["sizes"][t] - a["sizes"][t] for t in TABLES) / n,
            "app_cpu_ms_per": (b["app_cpu"] - a["app_cpu"]) * 1000 / n,
        }
        if a["pg_cpu"] is not None:
            out["pg_cpu_ms_per"] = (b["pg_cpu"] - a["pg_cpu"]) * 1000 / n
        out["_range"] = (a["lsn"], b["lsn"], float(wal))
        return out

    def add_fpi(self, steps: dict[str, dict[str, Any]]) -> None:
        """Each step's WAL bytes without full-page images (when pg_waldump can read the
        cluster's WAL). One WAL switch first, after every step: so the last segment is
        complete on disk, and no step's range holds the switch's padding."""
        if self.waldir is not None:
            self.admin.execute("SELECT pg_switch_wal()")
        for step in steps.values():
            start, end, wal = step.pop("_range")
            got = self.waldump(start, end)
            if got is not None:
                records, fpi = got
                step["wal_records_per"] = records / step["n"]
                step["fpi_bytes_per"] = fpi / step["n"]
                step["wal_bytes_per_without_fpi"] = (wal - fpi) / step["n"]

    def waldump(self, start: str, end: str) -> tuple[int, float] | None:
        """The records and the full-page images' bytes in [start, end), from pg_waldump --stats."""
        if self.waldir is None:
            return None
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        r = subprocess.run([*as_user, _pg_bin("pg_waldump"), "--stats", "-p", str(self.waldir), "-s", start, "-e", end],
                           capture_output=True, text=True)
        m = re.search(r"^Total\s+(\d+)\s+\d+\s+[\[(]\s*[\d.]+%[\])]\s+(\d+)", r.stdout, re.M)
        if not m:
            print(f"pg_waldump said: {r.stderr.strip()[:300]}", file=sys.stderr)
            return None
        return int(m.group(1)), float(m.group(2))


# --- the sale --------------------------------------------------------------------------------


def run(url: str, admin_url: str, sales: int, warmup: int, waldir: Path | None, shared: bool) -> dict[str, Any]:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DBNAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DBNAME}"')
    upgrade(url)
    db = Database(url)
    admin = psycopg.connect(url, autocommit=True)
    try:
        postmaster = None
        if waldir is not None:
            postmaster = int((waldir.parent / "postmaster.pid").read_text().split()[0])
        probe = Probe(admin, postmaster, waldir)
        with db.session(write=True) as s:
            key = create_api_key(s, SITE, IdentityType.APP)
        app = create_app(Settings(database_url=url, background=False, test_payments=True), db=db)
        with TestClient(app) as client:
            api = _Api(client, key)
            ev = create_event(api, draft=False)
            td = create_td(api, ev["id"], initialLimit=sales + warmup + 10)

            def reserve() -> str:
                r = api.post(RES, {"ticketReservation": {"tickets": [{"ticketDefinitionId": td["id"], "quantity": 1}]}})
                assert r.status_code == 200, r.text
                return str(r.json()["ticketReservation"]["id"])

            def check_out(res_id: str) -> str:
                r = api.post(CHECKOUT, {"eventId": ev["id"], "reservationId": res_id, "guests": [guest_form()]})
                assert r.status_code == 200, r.text
                return str(r.json()["order"]["orderNumber"])

            def pay(number: str) -> None:
                r = api.post(f"/boxoffice/v1/test-payments/{number}/pay")
                assert r.status_code == 200, r.text

            for _ in range(warmup):
                pay(check_out(reserve()))
            admin.execute("ANALYZE")
            admin.execute("CHECKPOINT")
            steps: dict[str, Any] = {}
            a = probe.read()
            res_ids = [reserve() for _ in range(sales)]
            b = probe.read()
            steps["reserve"] = probe.diff(a, b, sales)
            numbers = [check_out(r) for r in res_ids]
            c = probe.read()
            steps["checkout"] = probe.diff(b, c, sales)
            for n in numbers:
                pay(n)
            d = probe.read()
            steps["pay"] = probe.diff(c, d, sales)
            steps["sale"] = probe.diff(a, d, sales)
            probe.add_fpi(steps)
        admin.execute("VACUUM ANALYZE")
        tables = {}
        for t in TABLES:
            rows, avg = admin.execute(f"SELECT count(*), coalesce(avg(pg_column_size(x.*)), 0) FROM {t} x").fetchone()
            heap, total = admin.execute("SELECT pg_relation_size(%s), pg_total_relation_size(%s)", (t, t)).fetchone()
            grown = d["sizes"][t] - a["sizes"][t]  # over the measured sales (the warm-up's pages are made)
            tables[t] = {
                "rows": int(rows),
                "rows_per_sale": round(rows / (sales + warmup), 2),
                "mean_row_bytes": round(float(avg), 1),
                "heap_bytes_per_row": round(heap / rows, 1) if rows else None,
                "disk_bytes_per_row": round(total / rows, 1) if rows else None,
                "disk_bytes_grown_per_sale": round(grown / sales, 1),
            }
        version = admin.execute("SHOW server_version").fetchone()[0]
    finally:
        admin.close()
        db.dispose()
    return {
        "what": "one sale = reserve 1 seat + checkout (PENDING online) + pay (PAID), through the HTTP API in-process",
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.node()} {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}",
        "postgresql": version,
        "own_cluster": not shared,
        "sales": sales,
        "warmup": warmup,
        "steps": steps,
        "tables": tables,
        "disk_bytes_grown_per_sale": round(sum(t["disk_bytes_grown_per_sale"] for t in tables.values()), 1),
    }


class _Api:
    def __init__(self, client: TestClient, key: str) -> None:
        self.client, self.key = client, key

    def post(self, path: str, json: Any = None) -> Any:
        return self.client.post(path, headers={"Authorization": self.key, "wix-site-id": SITE}, json=json)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sales", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--pg-url", help="measure on this server (admin URL) instead of a cluster of the bench's own")
    ap.add_argument("--out", default=str(ROOT / "docs" / "bench" / "wal_per_sale.json"))
    args = ap.parse_args()
    t0 = time.monotonic()
    if args.pg_url:
        url = args.pg_url.rpartition("/")[0] + f"/{DBNAME}"
        result = run(url, args.pg_url, args.sales, args.warmup, None, shared=True)
        print("NOTE: a shared server: WAL figures include whatever else it wrote meanwhile", file=sys.stderr)
    else:
        with own_cluster() as (admin_url, data):
            url = admin_url.rpartition("/")[0] + f"/{DBNAME}"
            result = run(url, admin_url, args.sales, args.warmup, data / "pg_wal", shared=False)
    result["seconds"] = round(time.monotonic() - t0, 1)
    print(json.dumps(result, indent=2))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
