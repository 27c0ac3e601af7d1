"""Engine, sessions and transactions.

Locking discipline (read this before writing a service function):

* One request = one session = one transaction, committed once at the end of the
  request by :func:`write_session` (or rolled back when anything raised).
* Write transactions on SQLite start with ``BEGIN IMMEDIATE``: the writer takes the
  database's write lock up front, so two writers never both read and then fail to
  upgrade (SQLite's "database is locked" deadlock). ``busy_timeout`` makes the
  second writer wait instead of failing.
* On PostgreSQL a service that reads a row in order to decide a write locks that row
  first (``SELECT ... FOR UPDATE`` via :func:`lock`); the parent event row is the lock
  that serialises changes spanning all of an event's ticket definitions (the
  100-per-event limit, reordering, Change Currency). Always lock event before
  definitions, never the other way round, so transactions cannot deadlock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson
from sqlalchemy import DateTime, Engine, String, create_engine, event, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from .config import get_settings


T = TypeVar("T")


class Base(DeclarativeBase):
    pass


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, hands back aware UTC; identical on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to UTCDateTime")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text, e.g. from a literal in a CASE
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=dt.timezone.utc)


def Text(length: int | None = None) -> Any:
    """A string column that compares and sorts by code point on both databases.

    PostgreSQL's default collation follows the OS locale; "C" makes ``$lt``/sort on
    names agree with SQLite (and with Python), so query results are the same
    whichever store runs.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def now() -> dt.datetime:
    """Current UTC time with millisecond precision, as Wix serialises timestamps."""
    t = dt.datetime.now(dt.timezone.utc)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def normalize_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str | None = None) -> Engine:
    url = normalize_url(url or get_settings().database_url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, json_serializer=_json
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    import psycopg.types.json

    psycopg.types.json.set_json_loads(orjson.loads)  # JSON columns parse in C
    settings = get_settings()
    pool = max(settings.db_pool_size, settings.threads + 2)
    return create_engine(url, pool_size=pool, max_overflow=10, pool_recycle=1800, json_serializer=_json)


class Database:
    """Holds the engine and the two session factories of one app instance."""

    def __init__(self, url: str | None = None) -> None:
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # Reads on PostgreSQL run in autocommit: one round trip per statement instead of
        # BEGIN + statement + COMMIT. Each statement still sees one consistent snapshot.
        read_bind = self.engine if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._read = sessionmaker(read_bind, expire_on_commit=False)
        write_bind = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        self._write = sessionmaker(write_bind, expire_on_commit=False)

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raised."""
        factory = self._write if write else self._read
        with factory() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def write(self, fn: Callable[[Session], T], attempts: int = 3) -> T:
        """Run ``fn`` in one write transaction; rerun it (from scratch) if the database
        chose it as a deadlock victim or could not serialise it. Nothing of a failed
        attempt remains: it was rolled back."""
        for attempt in range(attempts):
            try:
                with self.session(write=True) as s:
                    return fn(s)
            except DBAPIError as e:
                if attempt == attempts - 1 or not _retryable(e):
                    raise
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()


def _retryable(e: DBAPIError) -> bool:
    code = getattr(e.orig, "sqlstate", None)
    return code in ("40P01", "40001") or "database is locked" in str(e.orig)


def lock(session: Session, stmt: Any) -> Any:
    """SELECT ... FOR UPDATE where the database has row locks (SQLite locked at BEGIN)."""
    return session.scalars(stmt.with_for_update()).first()


__all__ = ["Base", "Database", "UTCDateTime", "Text", "now", "lock", "select"]


# --- FastAPI dependency -------------------------------------------------------------


from typing import Annotated  # noqa: E402

from fastapi import Depends, Request  # noqa: E402


async def _database(request: Request) -> Database:
    return request.app.state.db


# Routes open their one transaction with ``with db.session(write=...) as session:`` inside
# the (threadpool) handler, so it begins, commits and returns its connection in the same
# thread, before the response is sent. A yield-dependency would end it in a second
# thread hop while still holding the connection: under load every pool thread can end
# up waiting for a connection that only a queued hop would release.
DB = Annotated[Database, Depends(_database)]
