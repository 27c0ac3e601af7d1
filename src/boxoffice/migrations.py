"""Applying and checking Alembic migrations (the scripts live in the repo's `migrations/`, shipped in the package as `_migrations`)."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from .db import normalize_url

# migrations/ at the repository's root, reached through the package's _migrations link
# (a symlink in a checkout; real files in an installed wheel)
SCRIPTS = Path(__file__).parent / "_migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


class NotMigrated(RuntimeError):
    pass


@functools.cache
def head_revision() -> str | None:
    """The scripts' newest revision, read once per process: Alembic compiles every
    script to find it (~40 ms, which each app made by a test paid)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def check_migrated(engine: Engine) -> None:
    """Refuse to serve a database that is behind the code, with the fix in the message."""
    head = head_revision()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        raise NotMigrated(
            f"database {engine.url.render_as_string(hide_password=True)} is at migration {current or 'none'}, "
            f"the code needs {head}: run `boxoffice migrate` first"
        )
