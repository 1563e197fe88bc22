"""Shared fixtures: a fresh store per test on SQLite, or on PostgreSQL when
DASHBOARD_TEST_DATABASE_URL is set (CI runs the suite once on each). Helper functions live in
tests/helpers.py."""

from __future__ import annotations

import pytest
from helpers import TODAY, demo_url, fresh_engine

from dashboard.db import make_engine
from dashboard.reference import load_reference
from dashboard.repository import Repository


def pytest_collection_modifyitems(items):
    """Tests that use the full demo store are `slow` (deselect with -m "not slow")."""
    for item in items:
        if "demo" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def repo(tmp_path) -> Repository:
    """The reference tree (18 regions, 263 districts) and catalogue, no facilities yet."""
    r = Repository(fresh_engine(tmp_path))
    load_reference(r)
    yield r
    r.engine.dispose()


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The full 1x demo store, built once per session: (repo, database URL, summary)."""
    from dashboard.demo import build_demo

    url = demo_url(tmp_path_factory.mktemp("demo"))
    r = Repository(make_engine(url))
    summary = build_demo(r, seed=1, scale=1, today=TODAY)
    yield r, url, summary
    r.engine.dispose()
