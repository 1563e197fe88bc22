# Targets named in README.md.
PY ?= python3
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: install demo run test test-sqlite test-postgres lint bench

install:
	$(PY) -m pip install -q -e ".[test]"

demo: install
	$(PY) -m dashboard demo

# Builds the demo database on first use, then serves the dashboard.
run: install
	$(PY) -m dashboard serve --ensure-demo

test: install test-sqlite test-postgres

test-sqlite:
	$(PY) -m pytest -q

test-postgres:
	DASHBOARD_TEST_DATABASE_URL=$(PG_TEST_URL) $(PY) -m pytest -q

lint:
	$(PY) -m ruff check dashboard layouts callbacks tests benchmarks

bench: install
	$(PY) benchmarks/bench_store.py
