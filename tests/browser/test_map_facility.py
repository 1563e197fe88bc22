"""The map's district view and the facility profile in a real browser: a district lists its
facilities as links a keyboard reaches, the map rings and frames the district; a facility has a
readable chart per indicator that opens its own trend."""

from __future__ import annotations

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixtures skip (or fail on CI) before any test uses it
    expect = None

pytestmark = pytest.mark.browser

MAP_GEO = """() => {
    const gd = document.querySelector('#map-graph .js-plotly-plot');
    return gd && gd.layout ? {geo: gd.layout.geo, names: gd.data.map(d => d.name)} : null;
}"""
TREND_TRACES = """() => {
    const gd = document.querySelector('#trend-graph .js-plotly-plot');
    return gd && gd.data ? gd.data.map(d => ({name: d.name, x: d.x, y: d.y})) : null;
}"""


@pytest.fixture(scope="module")
def itacua(demo):
    """District 0114 (Itacuá, Concepción) and its facilities sorted by code."""
    cat = demo[0].catalog()
    district = cat.unit("0114")
    return district, sorted(cat.descendants(district, 3), key=lambda u: u.code)


def test_district_view_lists_its_facilities_as_links_and_frames_the_district(
    open_page, settle, page_log, snap, axe, itacua
):
    district, facilities = itacua
    page = open_page(f"/mapa?region=PY-1&distrito={district.code}")
    expect(page.locator("#map-table-title")).to_have_text(f"Establecimientos de {district.name}")
    links = page.locator("#map-table tbody th a")
    expect(links).to_have_count(len(facilities))
    hrefs = sorted(links.evaluate_all("els => els.map(a => a.getAttribute('href'))"))
    assert [h.split("?")[0] for h in hrefs] == [f"/establecimiento/{u.code}" for u in facilities]
    # The map: the chosen district named in the legend, the view framed on it (not fitted).
    page.wait_for_function(f"() => ({MAP_GEO})() !== null")
    geo = page.evaluate(MAP_GEO)
    assert f"Distrito elegido: {district.name}" in geo["names"]
    assert geo["geo"]["fitbounds"] is False
    low, high = geo["geo"]["lataxis"]["range"]
    assert low < district.latitude < high and high - low < 2
    snap(page, "map-district-0114-es")
    serious = [v for v in axe(page) if v["impact"] in ("serious", "critical")]
    assert serious == []
    # Reached from the keyboard: focus the first facility's link and press Enter.
    first = links.first
    name = first.inner_text()
    first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/establecimiento/" in url)
    settle(page)
    expect(page.locator("#fac-header h1")).to_have_text(name)
    assert page_log.problems() == {}


def test_facility_profile_charts_each_indicator_and_opens_its_trend(
    open_page, settle, page_log, snap, itacua
):
    _district, facilities = itacua
    fac = facilities[0]
    page = open_page(f"/establecimiento/{fac.code}")
    charts = page.locator("#fac-trends .fac-chart")
    expect(charts.first).to_be_visible()
    n = charts.count()
    assert n >= 10
    expect(page.locator("#fac-trends .fac-chart .js-plotly-plot")).to_have_count(n)
    card = charts.filter(has_text="INM-03")
    data = card.locator(".js-plotly-plot").evaluate(
        "gd => ({names: gd.data.map(d => d.name), sep: gd.layout.separators,"
        " x: gd.data[0].x, range: gd.layout.yaxis.range})"
    )
    assert data["names"][0] == fac.name and "Concepción" in data["names"]
    assert data["sep"] == ",." and len(data["x"]) == 24 and data["range"][0] > 0
    # The chart is described for a screen reader (the picture itself says nothing to one).
    expect(card.locator("[role=img]")).to_have_attribute(
        "aria-label", re.compile(r"^Cobertura Pentavalente 3: ")
    )
    snap(page, f"facility-{fac.code}-es")

    card.get_by_role("link", name="Ver en Tendencias").click()
    page.wait_for_url(lambda url: f"establecimiento={fac.code}" in url and "/tendencias" in url)
    settle(page)
    expect(page.locator("#trend-title")).to_have_text(f"Cobertura Pentavalente 3 — {fac.name}")
    page.wait_for_function(f"() => ({TREND_TRACES})() !== null")
    names = [t["name"] for t in page.evaluate(TREND_TRACES)]
    assert names[:3] == [fac.name, "Concepción", "Paraguay"]
    # The facility's region is drawn already: it is not offered as a comparison too.
    expect(page.locator("#trend-compare a", has_text="Concepción")).to_have_count(0)
    assert page_log.problems() == {}
