"""/ods and the month's briefing in a real browser: both languages, axe-core, no CSP violation,
screenshots at 1366×768 for a human look."""

from __future__ import annotations

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixtures skip (or fail on CI) before any test uses it
    expect = None

pytestmark = pytest.mark.browser

# Written out here (not read from the locale files), so a wrong or missing translation fails.
ODS_TEXT = {
    "es": {
        "title": "Camino a las metas ODS 3 — Paraguay",
        "words": ["Proyección 2030", "Cambio anual necesario", "Meta 2030"],
        "statuses": ["Fuera de camino", "Meta alcanzada", "Datos insuficientes"],
    },
    "en": {
        "title": "Road to the SDG 3 targets — Paraguay",
        "words": ["Projected 2030", "Annual change needed", "2030 target"],
        "statuses": ["Off track", "Achieved", "Not enough data"],
    },
}
BRIEF_TITLE = {"es": "Lo más importante de oct 2026", "en": "What matters most in Oct 2026"}


def _serious(axe, page) -> list[dict]:
    return [v for v in axe(page) if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_ods_page_renders_statuses_chart_and_table(open_page, page, axe, snap, page_log, lang):
    page.set_viewport_size({"width": 1366, "height": 768})
    open_page(f"/ods?lang={lang}&indicador=MNI-01")
    text = ODS_TEXT[lang]
    expect(page.locator("h1")).to_have_text(text["title"])
    body = page.locator("#page-content")
    for word in text["words"]:
        expect(body).to_contain_text(word)
    # The demo's mix: an off-track target, an achieved one, and a region with too little data.
    for status in text["statuses"]:
        expect(body).to_contain_text(status)
    expect(page.locator("#ods-units tbody tr")).to_have_count(19)  # the country and 18 regions
    plot = "#ods-graph.js-plotly-plot, #ods-graph .js-plotly-plot"
    page.wait_for_function(f"() => (document.querySelector('{plot}') || {{}}).data")
    traces = page.evaluate(f"() => document.querySelector('{plot}').data.length")
    assert traces >= 4  # observed, band, projection, target
    assert _serious(axe, page) == []
    snap(page, f"ods_{lang}")
    # Printed (the PDF export), the chart keeps its place and size.
    page.emulate_media(media="print")
    box = page.locator("#ods-graph").bounding_box()
    snap(page, f"ods_{lang}_print")
    assert box is not None and box["height"] > 300, box
    assert page_log.page_errors == []
    assert page_log.outside_requests == []


@pytest.mark.parametrize("lang", ["es", "en"])
def test_briefing_on_overview_links_to_views(open_page, page, axe, snap, page_log, lang):
    page.set_viewport_size({"width": 1366, "height": 768})
    open_page(f"/?lang={lang}")
    brief = page.locator("#briefing")
    expect(brief.locator("h2")).to_have_text(BRIEF_TITLE[lang])
    items = brief.locator("li a")
    n = items.count()
    assert 1 <= n <= 8
    hrefs = [items.nth(i).get_attribute("href") for i in range(n)]
    assert all(h.startswith("/") and "periodo=202610" in h for h in hrefs)
    assert _serious(axe, page) == []
    snap(page, f"briefing_{lang}")
    # Each finding opens the view that shows it.
    items.first.click()
    page.wait_for_url(lambda url: "periodo=202610" in url)
    assert page_log.page_errors == []
