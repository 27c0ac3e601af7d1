# Two commands on a fresh machine:
#   make run   - create .venv, install, migrate, serve on SQLite at http://127.0.0.1:8000
#   make test  - every test: pytest on SQLite and PostgreSQL, schemathesis, the Wix SDK conformance suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# make run installs what running needs; make test (and bench) add the test extras
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.installed-test-stamp

.PHONY: run test install bench clean vendor

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Boxoffice needs Python 3.11+ (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

install: $(STAMP)

conformance/node_modules/.package-lock.json: conformance/package.json conformance/package-lock.json
	cd conformance && npm ci --no-audit --no-fund

# the pages' browser libraries (web/package.json): axe-core for the accessibility tests,
# and the sources of the copies vendored into src/boxoffice/pages/static/vendor/
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund

# copy the pinned htmx and qr-scanner into the package (committed: make run needs no npm)
vendor: web/node_modules/.package-lock.json
	cp web/node_modules/htmx.org/dist/htmx.min.js web/node_modules/htmx.org/LICENSE src/boxoffice/pages/static/vendor/htmx/
	cp web/node_modules/qr-scanner/qr-scanner.min.js web/node_modules/qr-scanner/qr-scanner-worker.min.js \
	  web/node_modules/qr-scanner/LICENSE src/boxoffice/pages/static/vendor/qr-scanner/

# make run is a demo: the built-in `test` payment provider is on (never in production)
run: install
	$(BIN)/boxoffice migrate
	@echo "Organiser dashboard: open this one-time sign-in link for the site 'demo' (another: $(BIN)/boxoffice dashboard-link --site demo)"
	@$(BIN)/boxoffice dashboard-link --site demo
	BOXOFFICE_TEST_PAYMENTS=1 $(BIN)/boxoffice serve

test: $(TEST_STAMP) conformance/node_modules/.package-lock.json web/node_modules/.package-lock.json
	@# Debian's Chromium for the examples/live-counter browser test (no browser is ever downloaded)
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "!!! make test: /usr/bin/chromium is missing and this is not root: the browser test will skip (apt-get install chromium)" >&2; fi; \
	fi
	@# jq and curl: README's walk-through runs them (tests/test_readme.py)
	@if ! command -v jq >/dev/null || ! command -v curl >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq curl >/dev/null; \
	  else echo "!!! make test: jq or curl is missing and this is not root: the README test will skip (apt-get install jq curl)" >&2; fi; \
	fi
	@# the architecture, checked: layers and slice order (import-linter), lint, types
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy
	@# compiled once here: with PYTHONDONTWRITEBYTECODE set (as on CI machines) every
	@# server, worker and CLI process a test starts would compile all of src/ again
	$(BIN)/python -m compileall -q src tests
	$(BIN)/pytest -n 3 --dist worksteal

bench: $(TEST_STAMP)
	$(BIN)/python bench/ticket_definitions.py

clean:
	rm -rf $(VENV) conformance/node_modules web/node_modules boxoffice.db boxoffice.db-wal boxoffice.db-shm
