"""Sync ticket definitions with an external ticketing system.

The seed's use case "Sync ticket definitions with an external ticketing system", as a
small standalone program. The "external system" is a SQLite file of its own whose table
``external_ticket_types`` is keyed by the Wix ticket definition id (one row per
definition, never more) and whose other columns are filled through ``FIELD_MAP``.

Part 1, ``initial-sync``: Query Ticket Definitions by ``eventId`` (every page) and
upsert each definition into the external table.

Part 2, ``serve``: an HTTP endpoint (``POST /webhooks``) for the
``ticket_definition_created`` / ``_updated`` / ``_deleted`` webhooks. Every body is a
JWT verified with the webhook public key (RS256); anything else is answered 401. The
changes are applied

* idempotently: an event ``id`` seen before is answered 200 and not applied again
  (deliveries are at least once);
* in order: an event whose ``entityEventSequence`` is not above the last one applied
  to that definition is stale and ignored; a definition loaded by the initial sync (no
  sequence known yet) compares ``revision`` instead; a deleted definition stays
  deleted (a tombstone remembers it).

Only the events that were synced (``initial-sync --event-id``, or ``serve
--event-id``) are mirrored. Needs Python 3.11+ and PyJWT with its crypto extra.

    python receiver.py serve --db mirror.db --port 8080 --public-key-file webhook.pem
    python receiver.py initial-sync --db mirror.db --base-url http://127.0.0.1:8000 \\
        --api-key KEY --site SITE --event-id EVENT_ID
    python receiver.py show --db mirror.db
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sqlite3
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt

log = logging.getLogger("sync-external")

FQDN = "wix.events.v3.ticket_definition"
QUERY_PATH = "/events-ticket-definitions/v3/ticket-definitions/query"
PAGE_SIZE = 100  # the most Query Ticket Definitions returns per page


def _bool(v: Any) -> int | None:
    return None if v is None else int(bool(v))


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


# The mapping from site ticket definition fields to the external system's columns:
# external column -> (SQL type, dotted path in the Wix entity, conversion).
# The Wix id is the key and is not in the map: no update ever rewrites it, nor the
# external system's own ``external_id``.
FIELD_MAP: dict[str, tuple[str, str, Callable[[Any], Any]]] = {
    "event_ref": ("TEXT", "eventId", _str),
    "title": ("TEXT", "name", _str),
    "details": ("TEXT", "description", _str),
    "price": ("TEXT", "pricingMethod.fixedPrice.value", _str),
    "currency": ("TEXT", "pricingMethod.fixedPrice.currency", _str),
    "is_free": ("INTEGER", "pricingMethod.free", _bool),
    "capacity": ("INTEGER", "initialLimit", _int),
    "is_hidden": ("INTEGER", "hidden", _bool),
    "fee_type": ("TEXT", "feeType", _str),
    "sale_starts_at": ("TEXT", "salePeriod.startDate", _str),
    "sale_ends_at": ("TEXT", "salePeriod.endDate", _str),
}


def get_path(entity: dict[str, Any], path: str) -> Any:
    cur: Any = entity
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def map_entity(entity: dict[str, Any]) -> dict[str, Any]:
    """A Wix ticket definition as the external system's columns."""
    return {col: conv(get_path(entity, path)) for col, (_, path, conv) in FIELD_MAP.items()}


# --- the external system's store ------------------------------------------------------


class Store:
    """The mirror (``external_ticket_types``) and the bookkeeping of the sync, in one
    SQLite file. Safe for the threads of one process (one connection behind a lock)
    and for several processes (WAL, ``BEGIN IMMEDIATE``, busy timeout)."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.lock = threading.Lock()
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        mapped = ",\n".join(f"  {col} {sqltype}" for col, (sqltype, _, _) in FIELD_MAP.items())
        with self.tx() as c:
            c.execute(
                f"""CREATE TABLE IF NOT EXISTS external_ticket_types (
  wix_ticket_definition_id TEXT PRIMARY KEY,
  external_id TEXT NOT NULL UNIQUE,
{mapped},
  synced_at REAL NOT NULL
)"""
            )
            # Per definition: the last sequence and revision applied, and a tombstone.
            c.execute(
                """CREATE TABLE IF NOT EXISTS sync_state (
  wix_ticket_definition_id TEXT PRIMARY KEY,
  last_sequence INTEGER,
  revision INTEGER NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0
)"""
            )
            c.execute(
                """CREATE TABLE IF NOT EXISTS processed_events (
  event_id TEXT PRIMARY KEY,
  event_type TEXT NOT NULL,
  entity_id TEXT,
  sequence INTEGER,
  outcome TEXT NOT NULL,
  deliveries INTEGER NOT NULL DEFAULT 1,
  received_at REAL NOT NULL
)"""
            )
            c.execute("CREATE TABLE IF NOT EXISTS tracked_events (event_id TEXT PRIMARY KEY)")

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def close(self) -> None:
        with self.lock:  # not under a handler thread's feet
            self.conn.close()

    # -- writes ----------------------------------------------------------------------

    def track(self, event_ids: list[str]) -> None:
        with self.tx() as c:
            c.executemany("INSERT OR IGNORE INTO tracked_events VALUES (?)", [(e,) for e in event_ids])

    def _upsert(self, c: sqlite3.Connection, entity: dict[str, Any]) -> None:
        values = map_entity(entity)
        cols = list(values)
        assign = ", ".join(f"{col} = excluded.{col}" for col in cols)
        c.execute(
            f"INSERT INTO external_ticket_types (wix_ticket_definition_id, external_id, {', '.join(cols)}, synced_at) "
            f"VALUES (?, ?, {', '.join('?' for _ in cols)}, ?) "
            f"ON CONFLICT (wix_ticket_definition_id) DO UPDATE SET {assign}, synced_at = excluded.synced_at",
            [entity["id"], f"EXT-{uuid.uuid4().hex[:12]}", *values.values(), time.time()],
        )

    def _delete(self, c: sqlite3.Connection, td_id: str) -> None:
        c.execute("DELETE FROM external_ticket_types WHERE wix_ticket_definition_id = ?", (td_id,))

    def load(self, entity: dict[str, Any]) -> bool:
        """Part 1: one definition from Query. Skipped if a webhook already brought a
        newer revision, or its deletion."""
        td_id, rev = entity["id"], int(entity["revision"])
        with self.tx() as c:
            st = c.execute("SELECT * FROM sync_state WHERE wix_ticket_definition_id = ?", (td_id,)).fetchone()
            if st is not None and (st["deleted"] or rev < st["revision"]):
                return False
            self._upsert(c, entity)
            c.execute(
                "INSERT INTO sync_state (wix_ticket_definition_id, last_sequence, revision) VALUES (?, NULL, ?) "
                "ON CONFLICT (wix_ticket_definition_id) DO UPDATE SET revision = excluded.revision",
                (td_id, rev),
            )
            return True

    def reconcile_deleted(self, event_id: str, seen: set[str], started: float) -> int:
        """After a full load: mirror rows of ``event_id`` the source no longer has (and
        no webhook touched since the load began) were deleted while nobody listened."""
        with self.tx() as c:
            gone = [
                r[0]
                for r in c.execute(
                    "SELECT wix_ticket_definition_id FROM external_ticket_types WHERE event_ref = ? AND synced_at < ?",
                    (event_id, started),
                )
                if r[0] not in seen
            ]
            for td_id in gone:
                self._delete(c, td_id)
                c.execute("UPDATE sync_state SET deleted = 1 WHERE wix_ticket_definition_id = ?", (td_id,))
            return len(gone)

    def apply(self, event_type: str, ev: dict[str, Any]) -> str:
        """Part 2: one webhook's domain event. Returns what was done with it."""
        event_id = ev.get("id")
        if not isinstance(event_id, str) or not event_id:
            raise ValueError("the domain event has no id")
        td_id = ev.get("entityId")
        seq = int(ev["entityEventSequence"]) if ev.get("entityEventSequence") not in (None, "") else None
        with self.tx() as c:
            if c.execute("UPDATE processed_events SET deliveries = deliveries + 1 WHERE event_id = ?", (event_id,)).rowcount:
                return "duplicate"
            outcome = self._apply(c, ev, td_id, seq)
            c.execute(
                "INSERT INTO processed_events (event_id, event_type, entity_id, sequence, outcome, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (event_id, event_type, td_id, seq, outcome, time.time()),
            )
            return outcome

    def _apply(self, c: sqlite3.Connection, ev: dict[str, Any], td_id: Any, seq: int | None) -> str:
        slug = ev.get("slug")
        if ev.get("entityFqdn") != FQDN or slug not in ("created", "updated", "deleted") or not td_id or seq is None:
            return "ignored"
        st = c.execute("SELECT * FROM sync_state WHERE wix_ticket_definition_id = ?", (td_id,)).fetchone()
        if st is not None and st["last_sequence"] is not None and seq <= st["last_sequence"]:
            return "stale"
        if slug == "deleted":
            entity = (ev.get("deletedEvent") or {}).get("deletedEntity") or {}
            self._delete(c, td_id)
            c.execute(
                "INSERT INTO sync_state (wix_ticket_definition_id, last_sequence, revision, deleted) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (wix_ticket_definition_id) DO UPDATE SET last_sequence = excluded.last_sequence, deleted = 1",
                (td_id, seq, int(entity.get("revision") or 0)),
            )
            return "deleted"
        entity = ev["createdEvent"]["entity"] if slug == "created" else ev["updatedEvent"]["currentEntity"]
        if entity.get("id") != td_id:
            raise ValueError("entityId and the entity's id differ")
        rev = int(entity["revision"])
        if st is not None and (st["deleted"] or rev < st["revision"]):
            return "stale"
        tracked = c.execute("SELECT 1 FROM tracked_events WHERE event_id = ?", (entity.get("eventId"),)).fetchone()
        if tracked is None:
            return "ignored"
        self._upsert(c, entity)
        c.execute(
            "INSERT INTO sync_state (wix_ticket_definition_id, last_sequence, revision) VALUES (?, ?, ?) "
            "ON CONFLICT (wix_ticket_definition_id) DO UPDATE SET last_sequence = excluded.last_sequence, "
            "revision = excluded.revision",
            (td_id, seq, rev),
        )
        return "created" if slug == "created" else "updated"

    # -- reads -----------------------------------------------------------------------

    def rows(self, event_id: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            sql = "SELECT * FROM external_ticket_types"
            args: tuple[Any, ...] = ()
            if event_id:
                sql, args = sql + " WHERE event_ref = ?", (event_id,)
            return [dict(r) for r in self.conn.execute(sql + " ORDER BY wix_ticket_definition_id", args)]


# --- Part 1: initial load ----------------------------------------------------------


def query_all(base_url: str, api_key: str, site: str, event_id: str, timeout: float = 30) -> Iterator[dict[str, Any]]:
    """Every ticket definition of ``event_id``, following ``metadata.cursors.next``."""
    body: dict[str, Any] = {"query": {"filter": {"eventId": event_id}, "cursorPaging": {"limit": PAGE_SIZE}}}
    while True:
        req = urllib.request.Request(
            base_url.rstrip("/") + QUERY_PATH,
            data=json.dumps(body).encode(),
            headers={"Authorization": api_key, "wix-site-id": site, "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=timeout) as r:
            page = json.load(r)
        yield from page.get("ticketDefinitions", [])
        cursor = ((page.get("metadata") or {}).get("cursors") or {}).get("next")
        if not cursor:
            return
        # following pages send the cursor only: it carries the filter and sort
        body = {"query": {"cursorPaging": {"limit": PAGE_SIZE, "cursor": cursor}}}


def initial_sync(store: Store, base_url: str, api_key: str, site: str, event_ids: list[str]) -> dict[str, int]:
    """Track the events first (so webhooks arriving from now on apply), then load."""
    store.track(event_ids)
    loaded = skipped = removed = 0
    for event_id in event_ids:
        started = time.time()
        seen: set[str] = set()
        for entity in query_all(base_url, api_key, site, event_id):
            seen.add(entity["id"])
            if store.load(entity):
                loaded += 1
            else:
                skipped += 1
        removed += store.reconcile_deleted(event_id, seen, started)
    return {"loaded": loaded, "skipped": skipped, "removed": removed}


# --- Part 2: the webhook endpoint -------------------------------------------------


class BadSignature(Exception):
    pass


def verify(token: bytes, public_key: str) -> tuple[str, dict[str, Any]]:
    """The JWT body -> (eventType, domain event). BadSignature if it is not ours."""
    try:
        claims = jwt.decode(token.strip(), public_key, algorithms=["RS256"], options={"require": ["exp"]})
    except jwt.InvalidTokenError as e:
        raise BadSignature(str(e)) from None
    envelope = json.loads(claims["data"])  # a JSON string, as Wix sends it
    return envelope["eventType"], json.loads(envelope["data"])


def make_handler(store: Store, public_key: str, path: str = "/webhooks") -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the sender reuses its connection
        # One write per response, sent at once: headers and body as separate small
        # writes would wait on Nagle + delayed ACK (~40 ms each) on a kept-alive socket.
        wbufsize = 64 * 1024
        disable_nagle_algorithm = True

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._reply(200, {"ok": True})
            else:
                self._reply(404, {"message": "not found"})

        def do_POST(self) -> None:
            token = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != path:
                self._reply(404, {"message": "not found"})
                return
            try:
                event_type, ev = verify(token, public_key)
            except BadSignature as e:
                log.warning("refused a webhook: %s", e)
                self._reply(401, {"message": "invalid signature"})
                return
            except (ValueError, KeyError, TypeError) as e:
                self._reply(400, {"message": f"malformed webhook: {e}"})
                return
            try:
                outcome = store.apply(event_type, ev)
            except (ValueError, KeyError, TypeError) as e:
                self._reply(400, {"message": f"malformed event: {e}"})
                return
            except Exception:  # the store failed: 500 makes the sender try again later
                log.exception("could not apply %s", ev.get("id"))
                self._reply(500, {"message": "try again"})
                return
            log.info("%s %s seq=%s: %s", event_type, ev.get("entityId"), ev.get("entityEventSequence"), outcome)
            self._reply(200, {"outcome": outcome})

        def log_message(self, format: str, *args: Any) -> None:
            log.debug(format, *args)

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(store: Store, public_key: str, host: str, port: int) -> None:
    server = Server((host, port), make_handler(store, public_key))

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.warning("sync-external: listening on http://%s:%d/webhooks", host, port)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()


# --- command line --------------------------------------------------------------------


def read_public_key(args: argparse.Namespace) -> str:
    if args.public_key_file:
        with open(args.public_key_file) as f:
            return f.read()
    pem = os.environ.get("WEBHOOK_PUBLIC_KEY", "")
    if not pem:
        sys.exit("sync-external: give --public-key-file or WEBHOOK_PUBLIC_KEY (the output of `boxoffice keys webhook`)")
    return pem


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=os.environ.get("SYNC_DB", "external.db"), help="the external system's SQLite file")
    p.add_argument("--log-level", default="WARNING")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("serve", help="Part 2: the webhook endpoint, POST /webhooks")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--public-key-file", help="the SPKI PEM of `boxoffice keys webhook` (or env WEBHOOK_PUBLIC_KEY)")
    s.add_argument("--event-id", action="append", default=[], help="also mirror this event (repeatable)")

    i = sub.add_parser("initial-sync", help="Part 1: load every definition of the events by Query")
    i.add_argument("--base-url", default=os.environ.get("BOXOFFICE_URL", "http://127.0.0.1:8000"))
    i.add_argument("--api-key", default=os.environ.get("BOXOFFICE_API_KEY"), help="an app key (or env BOXOFFICE_API_KEY)")
    i.add_argument("--site", default=os.environ.get("BOXOFFICE_SITE"), help="the wix-site-id (or env BOXOFFICE_SITE)")
    i.add_argument("--event-id", action="append", required=True, help="an event to mirror (repeatable)")

    sh = sub.add_parser("show", help="print the mirror as JSON lines")
    sh.add_argument("--event-id")

    args = p.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    store = Store(args.db)
    try:
        if args.cmd == "serve":
            if args.event_id:
                store.track(args.event_id)
            serve(store, read_public_key(args), args.host, args.port)
        elif args.cmd == "initial-sync":
            if not args.api_key or not args.site:
                p.error("initial-sync needs --api-key and --site")
            try:
                counts = initial_sync(store, args.base_url, args.api_key, args.site, args.event_id)
            except urllib.error.HTTPError as e:
                print(f"sync-external: Query Ticket Definitions answered {e.code}: {e.read().decode()[:500]}", file=sys.stderr)
                return 1
            print(json.dumps(counts))
        elif args.cmd == "show":
            for row in store.rows(args.event_id):
                print(json.dumps(row))
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
