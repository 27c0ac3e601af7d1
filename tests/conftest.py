"""Every API test runs twice: on SQLite and on PostgreSQL.

PostgreSQL comes from BOXOFFICE_TEST_PG_URL (default: the machine's server at
127.0.0.1:5432, database `test`), in which a scratch database `boxoffice_test` is
made afresh. With CI=true a missing server fails the run; locally it skips loudly.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from boxoffice import models_registry  # noqa: F401
from boxoffice.app import create_app
from boxoffice.auth import _cache, create_api_key
from boxoffice.config import Settings
from boxoffice.db import Base, Database
from boxoffice.identity import IdentityType, Permission
from boxoffice.migrations import upgrade

PG_ADMIN_URL = os.environ.get("BOXOFFICE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
# BOXOFFICE_TEST_PG_DB: another scratch database name, so that two test runs on one
# server (two checkouts, or two people) do not drop each other's database.
PG_DB = os.environ.get("BOXOFFICE_TEST_PG_DB", "boxoffice_test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


def make_pg_database(dbname: str) -> str:
    """(Re)create a scratch database; returns its URL, or skips/fails when no server answers.
    Under pytest-xdist each worker gets its own (the worker's id is appended)."""
    dbname += os.environ.get("PYTEST_XDIST_WORKER", "")
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{dbname}"')
    except psycopg.OperationalError as e:
        msg = f"PostgreSQL at {PG_ADMIN_URL} is not answering ({e}); the PostgreSQL half of the suite cannot run"
        if IN_CI:
            pytest.fail("CI=true: " + msg, pytrace=False)
        print("\n" + "!" * 78 + f"\n!!! SKIPPING POSTGRESQL TESTS: {msg}\n" + "!" * 78, file=sys.stderr)
        pytest.skip(msg)
    return pg_url(dbname)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = make_pg_database(PG_DB)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    yield db
    db.dispose()


def wipe(db: Database) -> None:
    """Empty every table except the instance's secrets, between tests."""
    # the webhook signing key stays too: the app makes one when there is none, and an
    # RSA key took 53 ms of every test's set-up (tests that want their own make one)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in ("instance_secrets", "webhook_keys")]
    # DELETE, children first: on a few rows it is ~10x quicker than TRUNCATE, which
    # makes new files for every table (0.15 s a test on PostgreSQL)
    with db.session(write=True) as s:
        for t in tables:
            s.execute(text(f"DELETE FROM {t}"))
    _cache._items.clear()


@pytest.fixture
def app(database: Database) -> Any:
    wipe(database)
    # no background worker in API tests: they drive expiry and delivery themselves
    return create_app(Settings(database_url=str(database.engine.url), background=False, test_payments=True), db=database)


class Api:
    """A TestClient speaking as one key of one site."""

    def __init__(self, client: TestClient, key: str, site: str) -> None:
        self.client, self.key, self.site = client, key, site

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": self.key, "wix-site-id": self.site, **(extra or {})}

    def get(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers(headers), **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.client.delete(path, headers=self.headers(), **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(path, headers=self.headers(), json=json, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.client.patch(path, headers=self.headers(), json=json, **kw)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def make_api(client: TestClient, database: Database) -> Any:
    def make(site: str = "site-a", identity: str = "app", permissions: set[Permission] | None = None) -> Api:
        with database.session(write=True) as s:
            key = create_api_key(s, site, IdentityType(identity), frozenset(permissions) if permissions is not None else None)
        return Api(client, key, site)

    return make


@pytest.fixture
def api(make_api: Any) -> Api:
    return make_api()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Keep each database's tests together so the session fixtures are built once each.
    def key(item: pytest.Item) -> tuple[int, str]:
        cs = getattr(item, "callspec", None)
        p = cs.params.get("db_url") if cs else None
        return ({"sqlite": 0, "postgresql": 1}.get(p, 2), item.nodeid)

    items.sort(key=key)


ROOT = Path(__file__).resolve().parents[1]


def new_id() -> str:
    return str(uuid.uuid4())
