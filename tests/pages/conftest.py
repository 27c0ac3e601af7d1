from tests.pages.kit import browser, live  # noqa: F401  (fixtures)
