"""The data-quality mark in a real browser: beside a shaky value, explained in words on focus,
with its legend, and the page still axe-clean. Screenshots for a human look."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("lang", "words"), [("es", "pocos casos"), ("en", "small numbers")])
def test_quality_mark_on_the_overview_explains_itself(open_page, axe, snap, lang, words):
    # Alto Paraguay, one month: few births, so maternal mortality rests on small numbers.
    page = open_page(f"/?region=PY-16&periodo=202401&lang={lang}")
    mark = page.locator(".kpi-card .dq-mark").first
    mark.wait_for()
    label = mark.get_attribute("aria-label") or ""
    assert words in label and label == mark.get_attribute("title")
    mark.focus()
    assert page.evaluate("() => document.activeElement.classList.contains('dq-mark')")
    assert page.locator(".dq-legend").count() == 1
    assert page.locator(".status-badge.uncertain").count() >= 1
    assert [v for v in axe(page) if v["impact"] in ("serious", "critical")] == [], axe(page)
    snap(page, f"quality-overview-{lang}")


def test_quality_marks_in_the_scorecard_cells(open_page, axe, snap):
    page = open_page("/desempeno?region=PY-16&periodo=202401&dominio=MNI")
    page.locator(".scorecard .dq-mark").first.wait_for()
    cell = page.locator(".scorecard td.uncertain").first
    assert "pocos casos" in (cell.get_attribute("title") or "")
    assert page.locator(".dq-legend").count() == 1
    assert [v for v in axe(page) if v["impact"] in ("serious", "critical")] == [], axe(page)
    snap(page, "quality-scorecard")
