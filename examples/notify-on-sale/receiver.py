"""Notify customers when tickets go on sale.

The seed's use case "Notify customers when tickets go on sale", as a small standalone
program. It keeps a subscriber list per event (with an opt-in flag, as a marketing tool
would) in a SQLite file of its own, and listens for
``wix.events.v3.ticket_definition_sale_started``: when a definition's sale starts, every
subscriber of that definition's event who opted in gets one email, through SMTP.

* Every webhook body is a JWT verified with the webhook public key (RS256); anything
  else is answered 401.
* The webhook is answered at once: the handler only records one pending notification
  per opted-in subscriber (in the transaction that marks the event ``id`` as seen), and
  a mailer thread sends them. So a duplicate delivery (same event ``id``) sends nothing
  twice, nor does a second ``sale_started`` for the same sale start (one email per
  subscriber, definition and start date), and an SMTP outage only delays mail: a
  failed send is retried with backoff.
* Before mailing, the mailer calls Get Ticket Definition (``fields=EVENT_DETAILS``) for
  the event's title, and skips the mail if the definition was deleted, is hidden, or is
  no longer on sale.

    python receiver.py --db notify.db subscribers add --event-id EVENT --email ann@example.com --name Ann --opted-in
    python receiver.py --db notify.db serve --port 8081 --public-key-file webhook.pem \\
        --base-url http://127.0.0.1:8000 --api-key KEY --site SITE --smtp-host 127.0.0.1 --smtp-port 1025
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import smtplib
import sqlite3
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt

log = logging.getLogger("notify-on-sale")

SALE_STARTED = "wix.events.v3.ticket_definition_sale_started"
TD_PATH = "/events-ticket-definitions/v3/ticket-definitions"
MAX_SEND_ATTEMPTS = 10


# --- store -------------------------------------------------------------------------


class Store:
    """Subscribers, the event ids seen, and the notifications to send (one SQLite file;
    one connection behind a lock for the threads of one process, WAL and ``BEGIN
    IMMEDIATE`` between processes)."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.lock = threading.Lock()
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.executescript(  # idempotent; executescript manages its own transaction
            """
CREATE TABLE IF NOT EXISTS subscribers (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL,
  email TEXT NOT NULL,
  name TEXT,
  opted_in INTEGER NOT NULL DEFAULT 0,
  UNIQUE (event_id, email)
);
CREATE TABLE IF NOT EXISTS processed_events (
  event_id TEXT PRIMARY KEY,
  event_type TEXT NOT NULL,
  ticket_definition_id TEXT,
  outcome TEXT NOT NULL,
  deliveries INTEGER NOT NULL DEFAULT 1,
  received_at REAL NOT NULL
);
-- One row per email to send. A sale start mails a subscriber once, whatever the
-- number of webhooks that announce it.
CREATE TABLE IF NOT EXISTS notifications (
  id INTEGER PRIMARY KEY,
  webhook_event_id TEXT NOT NULL,
  subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
  ticket_definition_id TEXT NOT NULL,
  sale_start TEXT NOT NULL,
  ticket_definition TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'PENDING',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at REAL NOT NULL,
  last_error TEXT,
  sent_at REAL,
  message_id TEXT,
  UNIQUE (subscriber_id, ticket_definition_id, sale_start)
);
CREATE INDEX IF NOT EXISTS ix_notifications_due ON notifications (status, next_attempt_at);
"""
        )

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

    def add_subscriber(self, event_id: str, email: str, name: str | None, opted_in: bool) -> int:
        with self.tx() as c:
            c.execute(
                "INSERT INTO subscribers (event_id, email, name, opted_in) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (event_id, email) DO UPDATE SET name = excluded.name, opted_in = excluded.opted_in",
                (event_id, email, name, int(opted_in)),
            )
            return c.execute("SELECT id FROM subscribers WHERE event_id = ? AND email = ?", (event_id, email)).fetchone()[0]

    def subscribers(self, event_id: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            sql, args = "SELECT * FROM subscribers", ()
            if event_id:
                sql, args = sql + " WHERE event_id = ?", (event_id,)
            return [dict(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def record_sale_started(self, event_type: str, ev: dict[str, Any]) -> tuple[str, int]:
        """The webhook's whole effect, in one transaction: (outcome, emails queued)."""
        event_id = ev.get("id")
        if not isinstance(event_id, str) or not event_id:
            raise ValueError("the domain event has no id")
        td = ((ev.get("actionEvent") or {}).get("body") or {}).get("ticketDefinition") or {}
        with self.tx() as c:
            if c.execute("UPDATE processed_events SET deliveries = deliveries + 1 WHERE event_id = ?", (event_id,)).rowcount:
                return "duplicate", 0
            queued = 0
            if event_type != SALE_STARTED or not td.get("id") or not td.get("eventId"):
                outcome = "ignored"
            else:
                sale_start = (td.get("salePeriod") or {}).get("startDate") or ev.get("eventTime") or ""
                queued = c.execute(
                    "INSERT OR IGNORE INTO notifications "
                    "(webhook_event_id, subscriber_id, ticket_definition_id, sale_start, ticket_definition, next_attempt_at) "
                    "SELECT ?, id, ?, ?, ?, ? FROM subscribers WHERE event_id = ? AND opted_in = 1",
                    (event_id, td["id"], sale_start, json.dumps(td), time.time(), td["eventId"]),
                ).rowcount
                outcome = "queued"
            c.execute(
                "INSERT INTO processed_events (event_id, event_type, ticket_definition_id, outcome, received_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (event_id, event_type, td.get("id"), outcome, time.time()),
            )
            return outcome, queued

    def due(self, limit: int = 100) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT n.*, s.email, s.name, s.event_id, s.opted_in FROM notifications n "
                "JOIN subscribers s ON s.id = n.subscriber_id "
                "WHERE n.status = 'PENDING' AND n.next_attempt_at <= ? ORDER BY n.id LIMIT ?",
                (time.time(), limit),
            )
            return [dict(r) for r in rows]

    def mark(self, notification_id: int, status: str, *, error: str | None = None, message_id: str | None = None) -> None:
        with self.tx() as c:
            if status == "SENT":
                c.execute(
                    "UPDATE notifications SET status = 'SENT', sent_at = ?, message_id = ?, attempts = attempts + 1, "
                    "last_error = NULL WHERE id = ?",
                    (time.time(), message_id, notification_id),
                )
            elif status == "RETRY":
                attempts = c.execute("SELECT attempts FROM notifications WHERE id = ?", (notification_id,)).fetchone()[0] + 1
                c.execute(
                    "UPDATE notifications SET attempts = ?, last_error = ?, next_attempt_at = ?, status = ? WHERE id = ?",
                    (attempts, error, time.time() + min(300, 2**attempts),
                     "FAILED" if attempts >= MAX_SEND_ATTEMPTS else "PENDING", notification_id),
                )
            else:  # SKIPPED
                c.execute("UPDATE notifications SET status = ?, last_error = ? WHERE id = ?", (status, error, notification_id))


# --- the mailer --------------------------------------------------------------------


@dataclass
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "tickets@example.com"
    sender_name: str = "Box office"
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    timeout: float = 10.0


@dataclass
class ApiConfig:
    base_url: str
    api_key: str
    site: str


class NotFound(Exception):
    pass


def get_ticket_definition(api: ApiConfig, td_id: str) -> dict[str, Any]:
    """Get Ticket Definition with the event's details (its title)."""
    url = f"{api.base_url.rstrip('/')}{TD_PATH}/{urllib.parse.quote(td_id)}?fields=EVENT_DETAILS"
    req = urllib.request.Request(url, headers={"Authorization": api.api_key, "wix-site-id": api.site})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)["ticketDefinition"]
    except urllib.error.HTTPError as e:
        if e.code == 404:
            raise NotFound(td_id) from None
        raise


def price_text(td: dict[str, Any]) -> str:
    pm = td.get("pricingMethod") or {}
    if pm.get("free"):
        return "Free"
    for key in ("fixedPrice", "guestPrice"):
        if pm.get(key):
            return f"{pm[key]['value']} {pm[key]['currency']}" + (" or more" if key == "guestPrice" else "")
    options = (pm.get("pricingOptions") or {}).get("optionDetails") or []
    if options:
        return ", ".join(f"{o['name']}: {o['price']['value']} {o['price']['currency']}" for o in options)
    return ""


def compose(n: dict[str, Any], td: dict[str, Any], smtp: SmtpConfig) -> EmailMessage:
    title = (td.get("eventDetails") or {}).get("title") or "the event"
    ticket = td.get("name") or "Tickets"
    msg = EmailMessage()
    msg["From"] = formataddr((smtp.sender_name, smtp.sender))
    msg["To"] = formataddr((n["name"] or "", n["email"]))
    msg["Subject"] = f"{ticket} tickets for {title} are on sale now"
    # the same notification always carries the same Message-ID, so a resend after a
    # crash between sending and recording it can be recognised downstream
    msg["Message-ID"] = f"<{n['webhook_event_id']}.{n['subscriber_id']}@notify-on-sale>"
    lines = [
        f"Hello {n['name'] or 'there'},",
        "",
        f"Tickets for {title} are on sale now.",
        "",
        f"  Ticket: {ticket}",
    ]
    if price := price_text(td):
        lines.append(f"  Price:  {price}")
    end = (td.get("salePeriod") or {}).get("endDate")
    if end:
        lines.append(f"  On sale until: {end}")
    lines += ["", f"You get this email because you asked for news about {title}."]
    msg.set_content("\n".join(lines) + "\n")
    return msg


class Mailer:
    """Sends the pending notifications, on its own thread."""

    def __init__(self, store: Store, smtp: SmtpConfig, api: ApiConfig) -> None:
        self.store, self.smtp, self.api = store, smtp, api
        self.wake = threading.Event()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="mailer", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        self.thread.join(15)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.send_due()
            except Exception:
                log.exception("mailer round failed")
            self.wake.wait(1.0)
            self.wake.clear()

    def send_due(self) -> int:
        due = self.store.due()
        if not due:
            return 0
        current: dict[str, dict[str, Any] | None] = {}  # one Get per definition per round
        sent = 0
        conn: smtplib.SMTP | None = None
        try:
            for n in due:
                td_id = n["ticket_definition_id"]
                try:
                    if td_id not in current:
                        try:
                            current[td_id] = get_ticket_definition(self.api, td_id)
                        except NotFound:
                            current[td_id] = None
                    td = current[td_id]
                    skip = (
                        "the ticket definition was deleted" if td is None
                        else "the ticket definition is hidden" if td.get("hidden")
                        else f"the sale is {td.get('saleStatus')}" if td.get("saleStatus") != "SALE_STARTED"
                        else "the subscriber opted out" if not n["opted_in"]
                        else None
                    )
                    if skip:
                        log.warning("not mailing %s about %s: %s", n["email"], td_id, skip)
                        self.store.mark(n["id"], "SKIPPED", error=skip)
                        continue
                    assert td is not None
                    msg = compose(n, td, self.smtp)
                    if conn is None:
                        conn = self._connect()
                    conn.send_message(msg)
                except (OSError, smtplib.SMTPException, urllib.error.URLError, ValueError, KeyError) as e:
                    log.warning("could not mail %s (will retry): %s", n["email"], e)
                    self.store.mark(n["id"], "RETRY", error=f"{type(e).__name__}: {e}"[:500])
                    if conn is not None and isinstance(e, (OSError, smtplib.SMTPServerDisconnected)):
                        conn = None  # a fresh connection for the next one
                    continue
                self.store.mark(n["id"], "SENT", message_id=msg["Message-ID"])
                log.info("mailed %s: %s", n["email"], msg["Subject"])
                sent += 1
        finally:
            if conn is not None:
                try:
                    conn.quit()
                except (OSError, smtplib.SMTPException):
                    pass
        return sent

    def _connect(self) -> smtplib.SMTP:
        conn = smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self.smtp.timeout)
        if self.smtp.starttls:
            conn.starttls()
        if self.smtp.user:
            conn.login(self.smtp.user, self.smtp.password or "")
        return conn


# --- the webhook endpoint --------------------------------------------------------------


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


def make_handler(store: Store, public_key: str, mailer: Mailer | None, path: str = "/webhooks") -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the sender reuses its connection
        # One write per response, sent at once (no Nagle + delayed-ACK stall).
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
            self._reply(200, {"ok": True}) if self.path == "/healthz" else self._reply(404, {"message": "not found"})

        def do_POST(self) -> None:
            token = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != path:
                self._reply(404, {"message": "not found"})
                return
            try:
                event_type, ev = verify(token, public_key)
                outcome, queued = store.record_sale_started(event_type, ev)
            except BadSignature as e:
                log.warning("refused a webhook: %s", e)
                self._reply(401, {"message": "invalid signature"})
                return
            except (ValueError, KeyError, TypeError) as e:
                self._reply(400, {"message": f"malformed webhook: {e}"})
                return
            except Exception:  # the store failed: 500 makes the sender try again later
                log.exception("could not record a webhook")
                self._reply(500, {"message": "try again"})
                return
            if queued and mailer is not None:
                mailer.wake.set()
            self._reply(200, {"outcome": outcome, "queued": queued})

        def log_message(self, format: str, *args: Any) -> None:
            log.debug(format, *args)

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(store: Store, public_key: str, host: str, port: int, smtp: SmtpConfig, api: ApiConfig) -> None:
    mailer = Mailer(store, smtp, api)
    server = Server((host, port), make_handler(store, public_key, mailer))

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    mailer.start()
    log.warning("notify-on-sale: listening on http://%s:%d/webhooks, mailing through %s:%d",
                host, port, smtp.host, smtp.port)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        mailer.stop()


# --- command line ----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default=env("NOTIFY_DB", "notify.db"), help="this program's SQLite file")
    p.add_argument("--log-level", default="WARNING")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("serve", help="the webhook endpoint, POST /webhooks, and the mailer")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8081)
    s.add_argument("--public-key-file", help="the SPKI PEM of `boxoffice keys webhook` (or env WEBHOOK_PUBLIC_KEY)")
    s.add_argument("--base-url", default=env("BOXOFFICE_URL", "http://127.0.0.1:8000"))
    s.add_argument("--api-key", default=env("BOXOFFICE_API_KEY"), help="an app key (or env BOXOFFICE_API_KEY)")
    s.add_argument("--site", default=env("BOXOFFICE_SITE"), help="the wix-site-id (or env BOXOFFICE_SITE)")
    s.add_argument("--smtp-host", default=env("SMTP_HOST", "127.0.0.1"))
    s.add_argument("--smtp-port", type=int, default=int(env("SMTP_PORT", "25")))
    s.add_argument("--smtp-from", default=env("SMTP_FROM", "tickets@example.com"))
    s.add_argument("--smtp-starttls", action="store_true")
    s.add_argument("--smtp-user", default=env("SMTP_USER"), help="log in as this user (password: env SMTP_PASSWORD)")

    sb = sub.add_parser("subscribers", help="the subscriber list")
    sbs = sb.add_subparsers(dest="sub_cmd", required=True)
    sa = sbs.add_parser("add", help="add or change a subscriber of an event")
    sa.add_argument("--event-id", required=True)
    sa.add_argument("--email", required=True)
    sa.add_argument("--name")
    sa.add_argument("--opted-in", action=argparse.BooleanOptionalAction, default=False,
                    help="whether they agreed to marketing email (default: no)")
    sl = sbs.add_parser("list", help="print subscribers as JSON lines")
    sl.add_argument("--event-id")

    args = p.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    store = Store(args.db)
    try:
        if args.cmd == "serve":
            if not args.api_key or not args.site:
                p.error("serve needs --api-key and --site (Get Ticket Definition gives the event's title)")
            if args.public_key_file:
                with open(args.public_key_file) as f:
                    public_key = f.read()
            else:
                public_key = env("WEBHOOK_PUBLIC_KEY", "")
                if not public_key:
                    p.error("give --public-key-file or WEBHOOK_PUBLIC_KEY (the output of `boxoffice keys webhook`)")
            smtp = SmtpConfig(args.smtp_host, args.smtp_port, args.smtp_from, starttls=args.smtp_starttls,
                              user=args.smtp_user, password=env("SMTP_PASSWORD"))
            serve(store, public_key, args.host, args.port, smtp, ApiConfig(args.base_url, args.api_key, args.site))
        elif args.sub_cmd == "add":
            print(store.add_subscriber(args.event_id, args.email, args.name, args.opted_in))
        else:
            for row in store.subscribers(args.event_id):
                print(json.dumps(row))
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
