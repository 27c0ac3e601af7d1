from pathlib import Path

import pytest

from boxoffice.migrations import upgrade
from tests.pages.kit import browser, live  # noqa: F401  (fixtures)


@pytest.fixture(scope="session", params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The pages' in-process tests run on SQLite only: a page calls the slices' services,
    whose rules the API tests hold on both databases; running every page test twice made
    `make test` exceed its 15 minutes on 2 cores."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('db')) / 'test.db'}"
    upgrade(url)
    return url
