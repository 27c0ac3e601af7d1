"""The `boxoffice` command: serve, migrate, keys."""

from __future__ import annotations

import argparse
import sys

from .auth import IdentityType, Permission, create_api_key
from .config import get_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .db import Database
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
    uvicorn.run(
        "boxoffice.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=args.access_log,
    )
    return 0


def _migrate(_: argparse.Namespace) -> int:
    from .migrations import upgrade

    upgrade(get_settings().database_url)
    print("boxoffice: database is up to date")
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
        with db.session(write=True) as s:
            key = create_api_key(s, args.site, IdentityType(args.identity), perms)
    finally:
        db.dispose()
    print(f"# site {args.site}, identity {args.identity}; send as `Authorization: <key>` and `wix-site-id: {args.site}`",
          file=sys.stderr)
    print(key)
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

    args = p.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
