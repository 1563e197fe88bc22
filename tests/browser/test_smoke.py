"""Smoke tests of the overview page in a real browser: it renders with no console error, asks
nothing of the internet, passes axe-core's serious and critical rules, and leaves a screenshot.

Only stable things are asserted (no layout, no row counts), so these hold as the pages grow.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

# Serious or critical axe rule ids tolerated for now, each with the reason and the app file that
# must fix it (app code, not this file). The set can only shrink: once a listed violation is gone
# the test fails until its entry is removed, so a fix cannot silently stop being checked.
KNOWN_SERIOUS: dict[str, str] = {}


@pytest.fixture
def overview(open_page):
    return open_page("/")


def test_overview_renders_without_console_errors(overview, page_log):
    assert page_log.console_errors == []
    assert page_log.page_errors == []
    assert page_log.failed_requests == []


def test_overview_attempts_no_outside_request(overview, page_log):
    assert page_log.outside_requests == [], "no outside request was attempted"


def test_overview_has_one_main_heading_and_names_the_dashboard(overview):
    headings = overview.locator("h1").all_inner_texts()
    assert len(headings) == 1 and headings[0].strip(), headings
    # The brand may sit in the h1 (first page) or the header and tab title (pages that grow).
    named = [headings[0], overview.title()]
    assert any("MSPBS" in t or "Tablero" in t for t in named), named


def test_overview_has_no_serious_accessibility_violations(overview, axe):
    serious = [v for v in axe(overview) if v["impact"] in ("serious", "critical")]
    new = [v for v in serious if v["id"] not in KNOWN_SERIOUS]
    assert new == [], json.dumps(new, ensure_ascii=False, indent=2)
    fixed = set(KNOWN_SERIOUS) - {v["id"] for v in serious}
    assert not fixed, f"fixed, remove from KNOWN_SERIOUS in {__file__}: {sorted(fixed)}"


def test_overview_screenshot_is_saved(overview, snap, page_log):
    path = snap(overview, "overview")
    assert path.is_file() and path.stat().st_size > 1000
    assert page_log.problems() == {}
