"""Equidad in a real browser: both languages, axe-core clean, no CSP violation or outside request,
the groupings as links that change the URL, and screenshots at a laptop and a phone size."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixtures skip (or fail on CI) before any test uses it
    expect = None

pytestmark = pytest.mark.browser

# Written out here (not read from the locale files), so a wrong or missing translation fails.
TEXT = {
    "es": {
        "h1": "Brechas de Cobertura Pentavalente 3 · Paraguay",
        "cards": ["Mejor", "Peor", "Brecha absoluta", "Índice de disparidad"],
        "change": re.compile(r"Respecto a .*: la brecha (se redujo|aumentó|no cambió)"),
        "access": "Acceso: personas por USF y por establecimiento",
        "norm": "3.500–5.000 personas por USF",
    },
    "en": {
        "h1": "Gaps in DTP3-containing vaccine coverage · Paraguay",
        "cards": ["Best", "Worst", "Absolute gap", "Index of disparity"],
        "change": re.compile(r"Against .*: the gap (narrowed|widened|did not change)"),
        "access": "Access: people per USF and per facility",
        "norm": "3.500–5.000 personas por USF",  # the source is cited as published
    },
}
WIDEST = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
        && !e.closest('.table-responsive'))
    .slice(0, 5).map(e => e.tagName + ' in #' + (e.closest('[id]') || {}).id)"""
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}
DOTS = """() => {
    const gd = document.querySelector('#eq-graph .js-plotly-plot');
    return gd && gd.data ? gd.data.map(d => ({name: d.name, n: (d.x || []).length})) : null;
}"""


@pytest.mark.parametrize("lang", ["es", "en"])
def test_equity_page_renders_in_each_language_cleanly(lang, open_page, settle, page_log, snap, axe):
    page = open_page("/equidad" + ("?lang=en" if lang == "en" else ""))
    settle(page)
    words = TEXT[lang]
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_contain_text(words["h1"])
    for label in words["cards"]:
        expect(page.locator("#eq-summary")).to_contain_text(label)
    assert page.locator("#eq-summary li").count() == 3
    expect(page.locator("#eq-summary li").first).to_have_text(words["change"])
    expect(page.locator("#page-content")).to_contain_text(words["access"])
    expect(page.locator("#eq-note")).to_contain_text(words["norm"])
    # 18 regions as dots in four years (some may rest on small numbers) and the weighted mean.
    traces = page.evaluate(DOTS)
    assert sum(t["n"] for t in traces[:2]) == 18 * 4
    assert traces[2]["n"] == 4
    assert page.locator("#eq-table tbody tr").count() == 18
    assert page.locator("#eq-access tbody tr").count() == 18
    # The frame's own landmarks (its footer) are the shell's business; nothing of this page.
    violations = [v for v in axe(page) if not v["id"].startswith("landmark-")]
    assert violations == [], violations
    assert page_log.problems() == {}
    snap(page, f"equidad_{lang}")


def test_equity_grouping_links_change_the_url_and_the_groups(open_page, settle, page_log, snap):
    page = open_page("/equidad")
    settle(page)
    page.locator("#eq-grouping").get_by_role("link", name="Chaco y Oriental").click()
    page.wait_for_url(re.compile(r"agrupar=chaco"))
    settle(page)
    expect(page.locator("#eq-table tbody tr")).to_have_count(2)
    expect(page.locator("#eq-table")).to_contain_text("Región Oriental")
    expect(page.locator("#eq-table")).to_contain_text(
        "Chaco (Pdte. Hayes, Boquerón, Alto Paraguay)"
    )
    page.go_back()
    page.wait_for_url(lambda url: "agrupar" not in url)
    settle(page)
    expect(page.locator("#eq-table tbody tr")).to_have_count(18)
    assert page_log.problems() == {}


def test_equity_inside_a_region_compares_its_districts(open_page, settle, page_log):
    page = open_page("/equidad?region=PY-1&agrupar=chaco")
    settle(page)
    q = parse_qs(urlsplit(page.url).query)
    assert q.get("region") == ["PY-1"]
    expect(page.locator("#eq-grouping")).not_to_contain_text("Chaco y Oriental")
    expect(page.locator("#eq-grouping")).to_contain_text("Distritos")
    expect(page.locator("#eq-table")).to_contain_text("Concepción")
    expect(page.locator("#eq-access")).to_contain_text("Horqueta")
    assert page_log.problems() == {}


def test_equity_units_open_their_map_and_the_title_opens_the_definition(
    open_page, settle, page_log
):
    page = open_page("/equidad?indicador=MNI-04&periodo=2025")
    settle(page)
    # the (i) beside the title opens the compared indicator's definition
    page.locator("#eq-title .info-summary").click()
    expect(page.locator("#eq-title .info-body")).to_be_visible()
    expect(page.locator("#eq-title .info-body")).to_contain_text("Denominador")
    page.keyboard.press("Escape")
    # a region's name in the table is a link to its map, the other filters kept
    link = page.locator("#eq-table tbody a", has_text="Concepción")
    expect(link).to_have_count(1)
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/mapa\?"))
    q = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert q.get("region") == "PY-1" and q.get("indicador") == "MNI-04"
    assert q.get("periodo") == "2025"
    settle(page)
    expect(page.locator("h1")).to_contain_text("Concepción")
    assert page_log.problems() == {}


@pytest.mark.parametrize("size", list(SIZES))
def test_equity_screenshots(size, page, live_server, settle, page_log, snap):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    page.goto(live_server + "/equidad")
    settle(page)
    expect(page.locator("#eq-summary")).to_contain_text("Mejor")
    snap(page, f"equidad_{size}_{width}x{height}")
    # Nothing wider than the screen: the tables scroll inside their own box.
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, (overflow, page.evaluate(WIDEST))
    assert page_log.problems() == {}
