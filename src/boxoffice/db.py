"""Engine, units of work and the locking discipline.

The unit of work (read this before writing a route, a worker loop or a CLI command):

* The caller owns it: a route, a worker loop or a CLI command runs ONE unit with
  :meth:`Database.read` (read-only) or :meth:`Database.write` (one transaction, rerun
  from scratch on a deadlock or serialisation failure), passing a function of the
  session. Services receive that session and never begin, commit or roll back.
* Effects that must happen only once the change is durable (PostgreSQL NOTIFY is
  transactional by itself; waking this process's webhook worker, publishing to this
  process's live streams) are registered on the unit with :func:`after_commit`, and run
  after COMMIT, never after a rollback.
* A change that must persist although the request is refused is committed in a unit
  of its own, visibly, by the caller; a refusal raised inside a unit rolls back all of
  it.
* The one exception is a hot write that many buyers make at once (Create Ticket
  Reservation): its concurrent calls share one unit through :class:`GroupCommit`, each
  call still all-or-nothing (see ``reservations.service.create_batch``).

Locking discipline:

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

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import BigInteger, Connection, DateTime, Engine, Integer, String, create_engine, event, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from .config import get_settings

T = TypeVar("T")
In = TypeVar("In")
Out = TypeVar("Out")


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
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text, e.g. from a literal in a CASE
            value = dt.datetime.fromisoformat(value)
        return value.replace(tzinfo=dt.UTC)

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        """On PostgreSQL the driver hands back a naive ``datetime`` (never text), so one
        plain function: TypeDecorator's generic processor costs two more Python calls a
        value, and a query page reads ~9 timestamp columns a row."""
        if dialect.name != "postgresql":
            return super().result_processor(dialect, coltype)
        utc = dt.UTC

        def process(value: dt.datetime | None) -> dt.datetime | None:
            return None if value is None else value.replace(tzinfo=utc)

        return process


def Cents() -> Any:
    """Money in minor units: 64-bit. SQLite's INTEGER is 64-bit already, so the columns
    that were created as INTEGER there stay so (no table rebuild on upgrade)."""
    return BigInteger().with_variant(Integer, "sqlite")


def Text(length: int | None = None) -> Any:
    """A string column that compares and sorts by code point on both databases.

    PostgreSQL's default collation follows the OS locale; "C" makes ``$lt``/sort on
    names agree with SQLite (and with Python), so query results are the same
    whichever store runs.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def now() -> dt.datetime:
    """Current UTC time with millisecond precision, as Wix serialises timestamps."""
    t = dt.datetime.now(dt.UTC)
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
            url, connect_args={"check_same_thread": False, "timeout": 30}, json_serializer=_json, hide_parameters=True
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
    # hide_parameters: errors and logs carry the SQL, never the values bound into it
    # (names, e-mails, tags a client sent; one 500 used to log megabytes of them)
    return create_engine(
        url, pool_size=pool, max_overflow=10, pool_recycle=1800, json_serializer=_json, hide_parameters=True
    )


# How long a read on the event loop waits for one of its connections before the request
# fails (PostgreSQL down or stalled): a bound on a hung request, not a normal wait.
ASYNC_READ_WAIT = 2.0
# How long start-up waits for the pool's first connection before it gives up on it.
ASYNC_OPEN_WAIT = 10.0


class Database:
    """Holds the engine and the two session factories of one app instance."""

    def __init__(self, url: str | None = None) -> None:
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # Reads on PostgreSQL run in autocommit: one round trip per statement instead of
        # BEGIN + statement + COMMIT. Each statement still sees one consistent snapshot.
        read_bind = self.engine if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._read_bind = read_bind
        self._read = sessionmaker(read_bind, expire_on_commit=False)
        write_bind = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        self._write = sessionmaker(write_bind, expire_on_commit=False)
        # PostgreSQL, while an app serves: psycopg's own async connections (autocommit),
        # for a hot read that is one statement and needs no ORM. A pool belongs to the
        # event loop whose app lifespan opened it (asyncio connections cannot move
        # between loops; tests run several apps on one Database): loop -> [pool, users].
        self._async_reads: dict[asyncio.AbstractEventLoop, list[Any]] = {}

    def driver_params(self) -> dict[str, Any]:
        """PostgreSQL: psycopg's ``connect`` keywords for this database, as SQLAlchemy
        passes them (a URL rendered back to text would mangle a space in the password
        or in ``options``; libpq reads ``+`` literally)."""
        _, params = self.engine.dialect.create_connect_args(self.engine.url)
        params.pop("context", None)  # SQLAlchemy's own adapters, not ours to share
        return dict(params)

    def async_reads(self) -> AsyncConnectionPool[AsyncConnection[Any]] | None:
        """The running loop's pool, or None (SQLite, no app lifespan opened one in this
        loop, or it is still opening): the caller then reads in the thread pool."""
        try:
            entry = self._async_reads.get(asyncio.get_running_loop())
        except RuntimeError:
            return None
        return entry[0] if entry else None

    async def open_async_reads(self, size: int) -> None:
        """Open this loop's pool (PostgreSQL only). Why: a read in the thread pool pays
        ~0.3 ms of CPU for the hop there and back (measured in one process: Get
        Ticket Definition 0.85 ms through the pool, 0.55 ms on the loop); an async
        connection waits for PostgreSQL without a thread and without blocking the loop.

        Best effort: if the pool cannot open, the app serves every read from the thread
        pool as before. A caller waits at most ``ASYNC_READ_WAIT`` for a connection."""
        if self.is_sqlite:
            return
        loop = asyncio.get_running_loop()
        entry = self._async_reads.get(loop)
        if entry is not None:
            entry[1] += 1
            return
        entry = self._async_reads[loop] = [None, 1]  # taken before the await: a second opener counts itself
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            "", kwargs={**self.driver_params(), "autocommit": True}, min_size=1, max_size=size,
            timeout=ASYNC_READ_WAIT, open=False, name="boxoffice-async-reads",
        )
        try:
            await pool.open(wait=True, timeout=ASYNC_OPEN_WAIT)
        except BaseException as e:
            # not retried: this process reads in the thread pool until it restarts
            await asyncio.shield(pool.close())
            if not isinstance(e, Exception):  # cancelled: the caller never owned an entry
                entry[1] -= 1
                if entry[1] == 0:
                    del self._async_reads[loop]
                raise
            logging.getLogger("boxoffice.db").warning(
                "async read pool did not open; reads use the thread pool", exc_info=True
            )
            return
        entry[0] = pool

    async def close_async_reads(self) -> None:
        loop = asyncio.get_running_loop()
        entry = self._async_reads.get(loop)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            del self._async_reads[loop]
            if entry[0] is not None:
                await entry[0].close()

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """The primitive under :meth:`read` and :meth:`write` (and tests' set-up): one
        transaction, committed when the block ends, rolled back if it raised; then the
        unit's :func:`after_commit` effects run."""
        factory = self._write if write else self._read
        with factory() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                s.info.pop(_EFFECTS, None)
                raise
            effects = s.info.pop(_EFFECTS, None)
        for effect in (effects or {}).values():
            try:
                effect()
            except Exception:  # the change is committed; an effect is best effort
                logging.getLogger("boxoffice.db").exception("after-commit effect failed")

    def read(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` in one read-only unit (PostgreSQL: autocommit, each statement its
        own snapshot; nothing written is kept)."""
        with self.session() as s:
            return fn(s)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only Core connection, for a hot path's one or two statements without an
        ORM session to set up. Nothing written here is kept."""
        with self._read_bind.connect() as conn:
            yield conn

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


_EFFECTS = "boxoffice_after_commit"


def after_commit(session: Session, key: str, effect: Callable[[], None]) -> None:
    """Run ``effect`` once this unit of work commits (never if it rolls back). Effects are
    kept by ``key``: registering the same key again within a unit replaces, not repeats."""
    session.info.setdefault(_EFFECTS, {})[key] = effect


def _retryable(e: DBAPIError) -> bool:
    code = getattr(e.orig, "sqlstate", None)
    return code in ("40P01", "40001") or "database is locked" in str(e.orig)


def insert_rows(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows of one table, cheaply: the hot write path (a batch of reservations)
    writes dozens of rows per table per transaction.

    PostgreSQL: ``COPY ... FROM STDIN`` (psycopg's C copy; a multi-row INSERT costs ~5x
    the CPU here, mostly in parsing its placeholders); values pass through the columns'
    own SQLAlchemy bind processors first, so JSON and UTC timestamps are stored exactly
    as an INSERT would store them. Elsewhere: an executemany INSERT."""
    if not rows:
        return
    table = model.__table__
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert(), rows)
        return
    names, processors, defaults = _copy_plan(table, conn.dialect)
    raw = conn.connection.driver_connection
    assert raw is not None
    sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    with raw.cursor() as cur, cur.copy(sql) as copy:
        for row in rows:
            values = [row.get(n, d) for n, d in zip(names, defaults, strict=True)]
            copy.write_row([p(v) if p else v for v, p in zip(values, processors, strict=True)])


_copy_plans: dict[tuple[str, str], tuple[list[str], list[Any], list[Any]]] = {}


def _copy_plan(table: Any, dialect: Any) -> tuple[list[str], list[Any], list[Any]]:
    """Column names (without database-numbered keys), their bind processors, and the
    value a row without that column gets (the column's scalar default, else NULL)."""
    key = (table.name, dialect.name)
    plan = _copy_plans.get(key)
    if plan is None:
        cols = [c for c in table.columns if c is not table.autoincrement_column]
        plan = _copy_plans[key] = (
            [c.name for c in cols],
            [c.type.bind_processor(dialect) for c in cols],
            [c.default.arg if c.default is not None and c.default.is_scalar else None for c in cols],
        )
    return plan


def lock(session: Session, stmt: Any) -> Any:
    """SELECT ... FOR UPDATE where the database has row locks (SQLite locked at BEGIN)."""
    return session.scalars(stmt.with_for_update()).first()


_ADVISORY = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


def advisory_lock(session: Session, key: str) -> None:
    """Serialise the units that take ``key`` until their transactions end (PostgreSQL's
    transaction-scoped advisory lock; SQLite writers are serialised already). For a rule
    that counts rows no single row stands for, e.g. "a buyer's unpaid seats of an event".
    Take several in one fixed order, so that two units cannot wait on each other."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_ADVISORY, {"key": key})


_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


def notify(session: Session, channel: str, payload: str = "") -> None:
    """PostgreSQL NOTIFY inside the session's transaction: delivered to every
    :class:`Listener` when it commits, never if it rolls back."""
    session.connection().execute(_NOTIFY, {"channel": channel, "payload": payload})


__all__ = ["Base", "Database", "advisory_lock", "after_commit", "insert_rows", "notify", "UTCDateTime", "Text", "Cents", "now", "lock", "select"]
