"""The `boxoffice` command: serve, migrate, keys, worker, webhooks, orders."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from .auth import issue_key
from .config import get_settings
from .identity import IdentityType, Permission


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .db import Database
    from .logs import uvicorn_log_config
    from .migrations import NotMigrated, check_migrated

    settings = get_settings()
    db = Database(settings.database_url)
    try:
        check_migrated(db.engine)
    except NotMigrated as e:
        print(f"boxoffice: {e}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    host = args.host or settings.host
    tls: dict[str, str] = {}
    if args.tls_self_signed:
        if args.tls_cert or args.tls_key:
            print("boxoffice: --tls-self-signed or --tls-cert/--tls-key, not both", file=sys.stderr)
            return 2
        tls = _self_signed(Path(args.tls_dir), host)
    elif args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            print("boxoffice: --tls-cert and --tls-key go together", file=sys.stderr)
            return 2
        tls = {"ssl_certfile": args.tls_cert, "ssl_keyfile": args.tls_key}
    if args.server == "granian":
        return _serve_granian(args, host, args.port or settings.port, tls, args.forwarded_allow_ips or settings.forwarded_allow_ips)
    uvicorn.run(
        "boxoffice.app:create_app",
        factory=True,
        host=host,
        port=args.port or settings.port,
        workers=args.workers,
        # several workers share one socket: spread connections that arrive together (serving.py)
        http="boxoffice.serving:SharingHttpTools" if args.workers > 1 else "httptools",
        log_level=args.log_level,
        # JSON logs: one boxoffice.request line per request replaces uvicorn's access log
        access_log=args.access_log and settings.log_format != "json",
        log_config=uvicorn_log_config(settings.log_format),
        # open event streams never finish by themselves: don't wait on them forever
        timeout_graceful_shutdown=5,
        # behind a reverse proxy: X-Forwarded-Proto/-For from these addresses are believed,
        # so links in answers (PDFs, checkInUrl) carry the public scheme
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips or settings.forwarded_allow_ips,
        **tls,  # type: ignore[arg-type]
    )
    return 0


def _serve_granian(args: argparse.Namespace, host: str, port: int, tls: dict[str, str], forwarded: str) -> int:
    """`boxoffice serve --server granian`: the same app under Granian (a Rust HTTP
    server; its ASGI interface). Measured against uvicorn by bench/flash_sale.py
    --servers uvicorn,granian (README, Benchmarks); uvicorn stays the default. Granian's
    own access log is never turned on: it would not redact signed links' query values
    (logs.py); BOXOFFICE_LOG_FORMAT=json's boxoffice.request lines still come."""
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels
    from granian.server import Server

    os.environ["BOXOFFICE_FORWARDED_ALLOW_IPS"] = forwarded  # read by each worker's _granian_app
    ssl: dict[str, Any] = {}
    if tls:
        from granian.constants import SSLProtocols

        ssl = {"ssl_cert": Path(tls["ssl_certfile"]), "ssl_key": Path(tls["ssl_keyfile"]),
               "ssl_protocol_min": SSLProtocols.tls12}
    Server(
        "boxoffice.cli:_granian_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=args.workers,
        loop=Loops.uvloop,
        log_level=LogLevels(args.log_level.lower()),
        # JSON logs: boxoffice's and granian's lines one JSON object each; text: granian's own
        log_dictconfig=_granian_json_logs() if get_settings().log_format == "json" else None,
        log_access=False,
        workers_kill_timeout=5,  # open event streams never finish by themselves
        **ssl,
    ).serve()
    return 0


def _granian_json_logs() -> dict[str, Any]:
    from .logs import uvicorn_log_config

    config = uvicorn_log_config("json")
    for name in ("_granian", "granian.access"):
        config["loggers"][name] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def _granian_app() -> Any:
    """The app for Granian's workers, behind the X-Forwarded-* handling uvicorn does
    itself (granian.utils.proxies, trusting BOXOFFICE_FORWARDED_ALLOW_IPS)."""
    from importlib import import_module

    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    # by name, as uvicorn.run is given "boxoffice.app:create_app": cli and app are the
    # face's two independent halves (pyproject's layers)
    app = import_module("boxoffice.app").create_app()
    return wrap_asgi_with_proxy_headers(app, os.environ.get("BOXOFFICE_FORWARDED_ALLOW_IPS", "127.0.0.1"))


def _self_signed(directory: Path, host: str) -> dict[str, str]:
    """A development CA and a certificate for localhost, 127.0.0.1, ::1 and ``host``
    (trustme), made once in ``directory`` and reused, so that trusting the CA once lasts."""
    import trustme

    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)  # the CA's key is in it: whoever reads it can impersonate any host
    ca_cert, ca_key = directory / "ca.pem", directory / "ca.key"
    cert, key = directory / "server.pem", directory / "server.key"
    if ca_cert.exists() and ca_key.exists():
        ca = trustme.CA.from_pem(ca_cert.read_bytes(), ca_key.read_bytes())
    else:
        ca = trustme.CA(organization_name="Boxoffice development CA")
        ca.cert_pem.write_to_path(str(ca_cert))
        _write_private(ca_key, ca.private_key_pem.bytes())
    names = list(dict.fromkeys(["localhost", "127.0.0.1", "::1", *([host] if host not in ("0.0.0.0", "::") else [])]))
    issued = ca.issue_cert(*names)
    issued.cert_chain_pems[0].write_to_path(str(cert))
    for extra in issued.cert_chain_pems[1:]:
        extra.write_to_path(str(cert), append=True)
    _write_private(key, issued.private_key_pem.bytes())
    print(
        f"boxoffice: TLS with a self-signed development certificate for {', '.join(names)}.\n"
        f"  Trust its CA, {ca_cert}:\n"
        f"    Node (the Wix SDK): NODE_EXTRA_CA_CERTS={ca_cert.resolve()}\n"
        f"    curl: --cacert {ca_cert.resolve()}    Python: SSL_CERT_FILE={ca_cert.resolve()}",
        file=sys.stderr,
    )
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}


def _write_private(path: Path, data: bytes) -> None:
    """A key file that is never readable by others, not even for a moment (0600 at creation)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


def _migrate(_: argparse.Namespace) -> int:
    from .db import Database
    from .migrations import upgrade
    from .webhooks import signing

    url = get_settings().database_url
    upgrade(url)
    # the webhook signing key pair, made once here (one process), so that serve and
    # worker processes starting together find it rather than each making one
    db = Database(url)
    try:
        db.write(signing.ensure_key)
    finally:
        db.dispose()
    print("boxoffice: database is up to date")
    return 0


def _dashboard_link(args: argparse.Namespace) -> int:
    """A one-time sign-in link to a site's dashboard, for an operator to hand to its owner."""
    from . import limits
    from .db import Database
    from .pages import sessions

    settings = get_settings()
    db = Database(settings.database_url)
    try:
        token = db.write(lambda s: sessions.create_login_link(s, args.site))
    except ValueError as e:
        print(f"boxoffice: {e}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    base = (args.base_url or settings.public_url).rstrip("/")
    print(f"{base}/dashboard/login/{token}")
    print(f"(works once, within {limits.LOGIN_LINK_MINUTES} minutes)", file=sys.stderr)
    return 0


def _keys_create(args: argparse.Namespace) -> int:
    from .db import Database

    perms = None
    if args.permissions:
        try:
            perms = frozenset(Permission(p.strip()) for p in args.permissions.split(",") if p.strip())
        except ValueError as e:
            print(f"boxoffice: {e}; choose from: {', '.join(p.value for p in Permission)}", file=sys.stderr)
            return 2
    db = Database(get_settings().database_url)
    try:
        identity = IdentityType(args.identity)

        def create(s: Any) -> tuple[str, str]:
            row, raw = issue_key(s, args.site, identity, str(uuid.uuid4()), perms)
            return row.id, raw

        key_id, key = db.write(create)
    finally:
        db.dispose()
    print(f"# site {args.site}, identity {args.identity}; send as `Authorization: <key>` and `wix-site-id: {args.site}`",
          file=sys.stderr)
    print(f"# key id {key_id} (`boxoffice keys list` shows it, `boxoffice keys revoke {key_id}` ends it); "
          "the key itself is shown only now", file=sys.stderr)
    print(key)
    return 0


def _when(t: Any) -> str:
    from .timefmt import iso

    return (iso(t) if t is not None else None) or "-"


def _cell(v: str | None) -> str:
    """One tab-separated cell: no tab or line break inside, '-' for nothing."""
    return " ".join(str(v).split()) if v else "-"


def _keys_list(args: argparse.Namespace) -> int:
    """Every API key (of --site): id, site, identity, permissions, created, last used,
    state; never the key itself (only its hash is kept)."""
    from .auth import LAST_USED_RESOLUTION_SECONDS, list_keys

    db = _db()
    try:
        rows = db.read(lambda s: [
            (k.id, k.site_id, k.identity_type, k.permissions, k.created_date, k.last_used_date, k.revoked_date)
            for k in list_keys(s, args.site)
        ])
    finally:
        db.dispose()
    print(f"# id\tsite\tidentity\tpermissions\tcreated\tlast used (to {LAST_USED_RESOLUTION_SECONDS // 60} min; "
          "- never)\tstate", file=sys.stderr)
    for key_id, site, identity, perms, created, used, revoked in rows:
        state = f"revoked {_when(revoked)}" if revoked is not None else "active"
        print("\t".join([key_id, site, identity, _cell(perms), _when(created), _when(used), state]))
    return 0


def _keys_revoke(args: argparse.Namespace) -> int:
    from .auth import revoke_key
    from .errors import WixError

    def revoke(s: Any) -> tuple[str, bool]:
        row, was_live = revoke_key(s, args.key_id)
        return row.site_id, was_live

    ttl = get_settings().auth_cache_seconds
    db = _db()
    try:
        site, was_live = db.write(revoke)
    except WixError as e:
        print(f"boxoffice: {e.description}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    if was_live:
        print(f"boxoffice: key {args.key_id} (site {site}) revoked; running servers refuse it within {ttl:g} s "
              "(BOXOFFICE_AUTH_CACHE_SECONDS)", file=sys.stderr)
    else:
        print(f"boxoffice: key {args.key_id} (site {site}) was already revoked", file=sys.stderr)
    return 0


def _db():  # type: ignore[no-untyped-def]
    from .db import Database

    return Database(get_settings().database_url)


def _worker(args: argparse.Namespace) -> int:
    """Deliver webhooks and run the scheduler until interrupted."""
    import signal
    import threading

    from . import outbox
    from .background import Background
    from .listener import Listener
    from .mail import worker as mail
    from .migrations import NotMigrated, check_migrated
    from .webhooks.worker import WorkerSettings

    if get_settings().log_format == "json":  # the same JSON lines as serve's
        import logging.config

        from .logs import uvicorn_log_config

        logging.config.dictConfig(uvicorn_log_config("json"))
    db = _db()
    try:
        check_migrated(db.engine)
    except NotMigrated as e:
        print(f"boxoffice: {e}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ws = WorkerSettings.from_settings(get_settings())
    if args.concurrency:
        ws.concurrency = args.concurrency
    if args.max_attempts:
        ws.max_attempts = args.max_attempts
    bg = Background(db, args.tick, ws)
    # PostgreSQL: woken at once when an API process commits deliveries
    listener = None if db.is_sqlite else Listener(db, {outbox.CHANNEL: outbox.wake, mail.CHANNEL: mail.wake})
    print("boxoffice: worker running (webhook delivery, e-mail, sale transitions, reservation expiry)", file=sys.stderr)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    if listener:
        listener.stop()
    bg.stop()
    db.dispose()
    return 0


def _webhooks(args: argparse.Namespace) -> int:
    from .errors import WixError
    from .webhooks import service

    if args.webhooks_cmd == "deliveries":
        return _webhook_deliveries(args)
    allow_private = False
    types: list[str] = []
    if args.webhooks_cmd == "add":
        from .webhooks import event_types

        try:
            types = event_types.check((args.events or "*").split(","))
        except event_types.UnknownEventType as e:
            print(f"boxoffice: --events: Boxoffice sends no {', '.join(repr(t) for t in e.unknown)}; "
                  "the event types it sends are ('*' for all of them):", file=sys.stderr)
            for t in sorted(event_types.EVENT_TYPES):
                print(f"  {t}", file=sys.stderr)
            return 2
        # The operator may point a subscription at a non-public address (an internal
        # service): allowed, with a warning, and remembered on the subscription so that
        # the worker delivers it even with BOXOFFICE_WEBHOOK_ALLOW_PRIVATE_URLS off.
        from .webhooks import urlpolicy

        try:
            urlpolicy.check_url(args.url, allow_private=False)
        except urlpolicy.Refused as e:
            if not e.address:
                print(f"boxoffice: --url {e.reason}", file=sys.stderr)
                return 2
            allow_private = True
            print(f"boxoffice: warning: --url points at a non-public address ({e.reason}); it is subscribed anyway "
                  "because an operator asked, and will be delivered there (site owners cannot add such URLs)",
                  file=sys.stderr)
    db = _db()
    try:
        if args.webhooks_cmd == "add":
            print(db.write(lambda s: service.add(s, args.site, args.url, types, allow_private=allow_private).id))
        elif args.webhooks_cmd == "list":
            for line in db.read(lambda s: [
                f"{sub.id}\t{sub.site_id}\t{sub.url}\t{','.join(sub.event_types)}" for sub in service.list_(s, args.site)
            ]):
                print(line)
        elif args.webhooks_cmd == "remove":
            db.write(lambda s: service.remove(s, None, args.id))
        elif args.webhooks_cmd == "replay":
            n = db.write(lambda s: service.replay(s, site_id=args.site, dead_only=not args.event, event_id=args.event))
            print(f"boxoffice: {n} deliveries queued again", file=sys.stderr)
    except WixError as e:
        print(f"boxoffice: {e.description}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    return 0


def _webhook_deliveries(args: argparse.Namespace) -> int:
    """Undelivered webhook deliveries, oldest first: what is queued, failing or dead."""
    from .webhooks import service

    db = _db()
    try:
        rows = db.read(lambda s: service.deliveries(s, site_id=args.site, state=args.status, limit=args.limit + 1))
    finally:
        db.dispose()
    more = len(rows) > args.limit
    print("# delivery\tsite\tsubscription\tevent id\tevent type\tstate\tattempts\tnext attempt\tlast error",
          file=sys.stderr)
    for d in rows[: args.limit]:
        print("\t".join([
            str(d.id), d.site_id, d.subscription_id, d.event_id, d.event_type, d.state, str(d.attempts),
            _when(d.next_attempt_date), _cell(d.last_error),
        ]))
    shown = min(len(rows), args.limit)
    print(f"boxoffice: {shown} deliveries" + (f" shown; there are more (--limit {args.limit})" if more else ""),
          file=sys.stderr)
    return 0


def _limit(v: str) -> int:
    n = int(v)
    if not 1 <= n <= 10_000:
        raise argparse.ArgumentTypeError("must be 1..10000")
    return n


def _orders(args: argparse.Namespace) -> int:
    """`orders resend-confirmation ORDER [--site S]`: queue the buyer's confirmation
    e-mail again (a new message, to the order's own address); the worker sends it."""
    from . import slices  # noqa: F401 - every hook registered
    from .errors import WixError
    from .identity import Principal
    from .mail import service as mail

    db = _db()
    try:
        sites = [args.site] if args.site else db.read(lambda s: mail.find_order_site(s, args.order))
        if not sites:
            print(f"boxoffice: order {args.order} not found", file=sys.stderr)
            return 2
        if len(sites) > 1:
            print(f"boxoffice: order {args.order} exists in several sites ({', '.join(sites)}): name one with --site",
                  file=sys.stderr)
            return 2
        operator = Principal(sites[0], IdentityType.APP, "boxoffice-cli", frozenset({Permission.MANAGE_ORDERS}))
        m = db.write(lambda s: mail.resend_confirmation(s, operator, args.order))
        print(f"boxoffice: confirmation of order {args.order} queued (message {m.message_id})", file=sys.stderr)
        print(m.id)
    except WixError as e:
        print(f"boxoffice: {e.description}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    return 0


def _keys_webhook(args: argparse.Namespace) -> int:
    """Create the webhook signing key pair (once) and print its SPKI public key."""
    from .webhooks import signing

    db = _db()
    try:
        print(db.write(lambda s: signing.ensure_key(s).public_pem), end="")
    finally:
        db.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="boxoffice", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("serve", help="serve the API (BOXOFFICE_DATABASE_URL, BOXOFFICE_HOST, BOXOFFICE_PORT)")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--log-level", default="info")
    s.add_argument("--no-access-log", dest="access_log", action="store_false")
    s.add_argument(
        "--server", choices=["uvicorn", "granian"], default="uvicorn",
        help="the HTTP server: uvicorn (uvloop, httptools; default) or granian (README, Benchmarks, compares them)",
    )
    s.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM, the chain)")
    s.add_argument("--tls-key", help="... and this private key (PEM)")
    s.add_argument(
        "--tls-self-signed", action="store_true",
        help="serve HTTPS with a development CA and certificate made (once) in --tls-dir; prints how to trust it",
    )
    s.add_argument("--tls-dir", default=".boxoffice-tls", help="where --tls-self-signed keeps its CA and certificate")
    s.add_argument(
        "--forwarded-allow-ips",
        help="reverse proxies whose X-Forwarded-Proto/-For are believed (comma-separated, or *; "
        "default BOXOFFICE_FORWARDED_ALLOW_IPS, 127.0.0.1)",
    )
    s.set_defaults(func=_serve)

    m = sub.add_parser("migrate", help="create or upgrade the database schema")
    m.set_defaults(func=_migrate)

    k = sub.add_parser("keys", help="API keys")
    ksub = k.add_subparsers(dest="keys_cmd", required=True)
    kc = ksub.add_parser("create", help="create a key for a site (the site is created if new); prints the key")
    kc.add_argument("--site", required=True, help="site id, sent by clients as wix-site-id")
    kc.add_argument("--identity", required=True, choices=[i.value for i in IdentityType])
    kc.add_argument("--permissions", help="comma-separated subset, e.g. 'Manage Orders' (default: by identity)")
    kc.set_defaults(func=_keys_create)

    kl = ksub.add_parser("list", help="list API keys (never the keys themselves): id, site, identity, permissions, "
                         "created, last used, active or revoked")
    kl.add_argument("--site")
    kl.set_defaults(func=_keys_list)
    kr = ksub.add_parser("revoke", help="revoke an API key by its id (running servers refuse it within "
                         "BOXOFFICE_AUTH_CACHE_SECONDS)")
    kr.add_argument("key_id", metavar="KEY_ID", help="the key's id, from `keys list` (or what `keys create` printed)")
    kr.set_defaults(func=_keys_revoke)

    kw = ksub.add_parser("webhook", help="create the webhook signing key pair if needed; print its public key (PEM)")
    kw.set_defaults(func=_keys_webhook)

    w = sub.add_parser("worker", help="deliver webhooks and e-mail, emit sale_started/sale_ended, expire reservations")
    w.add_argument("--tick", type=float, default=0.2, help="seconds between scheduler passes")
    w.add_argument("--concurrency", type=int, help="deliveries in flight (BOXOFFICE_WEBHOOK_CONCURRENCY, 32)")
    w.add_argument("--max-attempts", type=int, help="attempts before dead-lettering (BOXOFFICE_WEBHOOK_MAX_ATTEMPTS, 8)")
    w.set_defaults(func=_worker)

    wh = sub.add_parser("webhooks", help="webhook subscriptions")
    whs = wh.add_subparsers(dest="webhooks_cmd", required=True)
    wa = whs.add_parser("add", help="subscribe a URL; prints the subscription id")
    wa.add_argument("--site", required=True)
    wa.add_argument("--url", required=True)
    wa.add_argument("--events", help="comma-separated event types Boxoffice sends, e.g. "
                    "wix.events.v3.ticket_definition_created, or * (default: all)")
    wl = whs.add_parser("list", help="list subscriptions")
    wl.add_argument("--site")
    wr = whs.add_parser("remove", help="remove a subscription")
    wr.add_argument("id")
    wp = whs.add_parser("replay", help="send dead-lettered deliveries again (or every delivery of --event)")
    wp.add_argument("--site")
    wp.add_argument("--event", help="an event id: resend all its deliveries")
    wd = whs.add_parser("deliveries", help="undelivered deliveries, oldest first: event type, subscription, attempts, "
                        "next attempt, last error")
    wd.add_argument("--site")
    wd.add_argument("--status", choices=["pending", "failing", "dead"],
                    help="pending: not delivered yet (failing ones included); failing: pending, tried and failed at "
                    "least once; dead: dead-lettered (default: pending and dead)")
    wd.add_argument("--limit", type=_limit, default=100, help="at most this many (1..10000, default 100)")
    for x in (wa, wl, wr, wp, wd):
        x.set_defaults(func=_webhooks)

    dl = sub.add_parser("dashboard-link", help="print a one-time link that signs a site's owner in to /dashboard")
    dl.add_argument("--site", required=True)
    dl.add_argument("--base-url", help="the address browsers reach this server at (default BOXOFFICE_PUBLIC_URL)")
    dl.set_defaults(func=_dashboard_link)

    o = sub.add_parser("orders", help="orders")
    osub = o.add_subparsers(dest="orders_cmd", required=True)
    orc = osub.add_parser("resend-confirmation", help="send an order's confirmation e-mail (with its tickets) again")
    orc.add_argument("order", help="the order number, e.g. 7KQ2-M9XD")
    orc.add_argument("--site", help="the order's site (needed only if several sites have this number)")
    orc.set_defaults(func=_orders)

    args = p.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
