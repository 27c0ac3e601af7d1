"""CPU instructions per read, counted by valgrind: a before/after that this machine's noise
cannot move.

On this 2-core VM the same code's CPU time per Query moved by ±30 % within a minute
(2026-12-01: 3.9-6.1 ms in seven back-to-back runs), so a lever worth 5-10 % could not
be told from noise by timing it. valgrind's cachegrind counts the instructions the
process executes, which is the same from run to run to well under 1 %. It runs the
read in one process (no HTTP: the service and its presenter, as the route calls them)
N1 and N2 times and reports (instructions(N2) - instructions(N1)) / (N2 - N1), so the
start-up (imports, the first connection) cancels out. Instructions are not time (a
cache miss costs more than an add), so the HTTP benches stay the measure of the
targets; this one says whether a lever took work away.

    .venv/bin/python bench/instructions.py                          # this tree
    .venv/bin/python bench/instructions.py --before-src /tmp/old/src   # and another tree, same data
    options: [--only query|get] [--n1 20] [--n2 120]

Needs valgrind (Debian's package) and the machine's PostgreSQL; loads 20,000
definitions over 200 events (bench/ticket_definitions.py's load) into a scratch
database it drops at the end. Under valgrind a run is ~50x slower: ~1-2 min per tree.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPS = ("query", "get")


def child(src: str, data: str, url: str, op: str, n: int) -> None:
    """Run ``op`` ``n`` times in this process (under valgrind)."""
    sys.path.insert(0, src)
    from boxoffice import models_registry  # noqa: F401
    from boxoffice import query as q
    from boxoffice.db import Database
    from boxoffice.identity import IdentityType, Permission, Principal
    from boxoffice.ticket_definitions import service

    d = json.loads(Path(data).read_text())
    db = Database(url)
    principal = Principal(site_id=d["site"], identity_type=IdentityType.APP, identity_id="bench",
                          permissions=frozenset(Permission))
    evs, tds = d["events"], d["definitions"]

    # As routes.query_ticket_definitions reads: on a Core connection where the tree's
    # run_query takes one (since 2026-12-01), else in an ORM session as it did before.
    on_conn = "Connection" in str(inspect.signature(q.run_query).parameters["session"].annotation)

    def query(i: int) -> None:
        with db.reading() if on_conn else db.session() as s:
            page = service.query(s, principal, {"filter": {"eventId": evs[i % len(evs)]}}, b"k" * 32)
            service.render(s, page.rows, [])

    def get(i: int) -> None:
        with db.reading() as conn:
            service.render(conn, [service.get(conn, principal, tds[i % len(tds)])], ["SALES_DETAILS"])

    fn = query if op == "query" else get
    for i in range(n):
        fn(i)


def count(src: str, data: str, url: str, op: str, n: int) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, __file__, "--child", src, data, url, op, str(n)],
        capture_output=True, text=True, check=True,
    ).stderr
    m = re.search(r"I\s+refs:\s+([\d,]+)", out)
    if m is None:
        raise SystemExit(f"no instruction count from valgrind:\n{out[-2000:]}")
    return int(m.group(1).replace(",", ""))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        src, data, url, op, n = sys.argv[2:7]
        child(src, data, url, op, int(n))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before-src", help="also count with this source tree (its src directory)")
    ap.add_argument("--only", choices=OPS, action="append")
    ap.add_argument("--n1", type=int, default=20)
    ap.add_argument("--n2", type=int, default=120)
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    sys.path.insert(0, str(ROOT / "bench"))
    import ticket_definitions as tdb

    trees = [("this tree", str(ROOT / "src"))] + ([("before", args.before_src)] if args.before_src else [])
    with tempfile.TemporaryDirectory() as tmp:
        url = tdb.fresh_database("postgresql", Path(tmp))
        try:
            key, tds, evs, _, _ = tdb.load(url, 200, 100, 0)
            data = Path(tmp) / "data.json"
            data.write_text(json.dumps({"site": tdb.SITE, "events": evs, "definitions": tds[:2000]}))
            for op in args.only or OPS:
                counts = {}
                for label, src in trees:
                    a, b = (count(src, str(data), url, op, n) for n in (args.n1, args.n2))
                    counts[label] = (b - a) / (args.n2 - args.n1)
                    print(f"  {op:6s} {label:10s} {counts[label] / 1e6:8.3f} M instructions a request ({src})")
                if len(counts) == 2:
                    print(f"  {op:6s} this tree / before = {counts['this tree'] / counts['before']:.3f}")
        finally:
            tdb.drop_database("postgresql")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
