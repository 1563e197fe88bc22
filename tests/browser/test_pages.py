"""Every page in a real browser: both languages, no error, nothing fetched from outside, axe-core,
and what a manager does with it: change filters, share a link, go Back, drill down on the map,
sort the scorecard, open a facility, download the table, switch language.

Assertions wait for what the user would see (URL, heading, figure data) and then for Dash to be
idle; nothing sleeps. Screenshots land in artifacts/screenshots/ for a human look.
"""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixtures skip (or fail on CI) before any test uses it
    expect = None

pytestmark = pytest.mark.browser

NAV = {
    "es": ["Resumen", "Mapa", "Tendencias", "Desempeño", "Equidad", "ODS 3", "Calidad de datos"],
    "en": ["Overview", "Map", "Trends", "Scorecard", "Equity", "SDG 3", "Data quality"],
}
# Text each page shows in each language, written out here (not read from the locale files), so a
# wrong or missing translation fails.
PAGE_TEXT = {
    "resumen": {"es": "Dónde prestar atención", "en": "Where attention is needed"},
    "mapa": {"es": "Valores por unidad", "en": "Values by unit"},
    "tendencias": {"es": "Comparar con regiones", "en": "Compare with regions"},
    "desempeno": {"es": "Inmunizaciones", "en": "Immunisation"},
    "establecimiento": {"es": "Informes mensuales (24 meses)", "en": "Monthly reports (24 months)"},
}
HEADING = {
    "resumen": {"es": "Resumen · Paraguay", "en": "Overview · Paraguay"},
    "mapa": {"es": "Cobertura Pentavalente 3 · Paraguay", "en": "DTP3-containing vaccine coverage"},
    "tendencias": {"es": "Cobertura Pentavalente 3 — Paraguay", "en": "DTP3-containing vaccine"},
    "desempeno": {"es": "Desempeño · Paraguay", "en": "Scorecard · Paraguay"},
    "establecimiento": {"es": "", "en": ""},  # the facility's own name, filled in by the test
}
# Interface words of one language that must not show on a page in the other (whole words, so
# 'Met' does not match 'Meta'); place names are Spanish in both languages and are not listed.
FOREIGN = {
    "es": ["Skip to content", "Showing", "Whole country", "Health region", "Download", "Not met"],
    "en": [
        "Saltar al contenido",
        "Mostrando",
        "Todo el país",
        "Región sanitaria",
        "Descargar",
        "No cumple",
        "Completitud",
    ],
}

TREND_TRACES = """() => {
    const gd = document.querySelector('#trend-graph .js-plotly-plot');
    return gd && gd.data ? gd.data.map(d => ({name: d.name, x: d.x, y: d.y})) : null;
}"""
CHOROPLETH_CODES = """() => [...document.querySelectorAll('#map-graph path.choroplethlocation')]
    .map(e => e.__data__ && e.__data__.loc)"""
# A point inside a region's shape: plotly's geo drag layer covers the paths, so elementFromPoint
# does not help; ask the path itself, in its own coordinates, from the bounding-box centre out.
POINT_IN_REGION = """(code) => {
    const el = [...document.querySelectorAll('#map-graph path.choroplethlocation')]
        .find(e => e.__data__ && e.__data__.loc === code);
    if (!el) return null;
    const r = el.getBoundingClientRect();
    const toLocal = el.getScreenCTM().inverse();
    const cx = r.x + r.width / 2, cy = r.y + r.height / 2;
    const candidates = [[cx, cy]];
    for (let k = 1; k < 8; k++)
        for (const [dx, dy] of [[1,0],[-1,0],[0,1],[0,-1],[1,1],[-1,-1],[1,-1],[-1,1]])
            candidates.push([cx + dx * k * r.width / 16, cy + dy * k * r.height / 16]);
    for (const [x, y] of candidates)
        if (el.isPointInFill(new DOMPoint(x, y).matrixTransform(toLocal))) return [x, y];
    return null;
}"""
# Tile grid: one transparent square marker per region carrying its code; page coordinates.
TILES = """() => {
    const gd = document.querySelector('#map-graph .js-plotly-plot');
    const fl = gd._fullLayout, box = gd.getBoundingClientRect(), out = [];
    gd.data.forEach(d => (d.customdata || []).forEach((code, j) => out.push({
        code: code,
        x: box.x + fl.xaxis._offset + fl.xaxis.l2p(d.x[j]),
        y: box.y + fl.yaxis._offset + fl.yaxis.l2p(d.y[j]),
    })));
    return out;
}"""


# --- helpers ------------------------------------------------------------------------------------


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def url_has(**params):
    """A predicate for page.wait_for_url: the query holds these parameters (None = absent)."""

    def check(url: str) -> bool:
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        return all(q.get(k) == v for k, v in params.items())

    return check


def number(text: str, lang: str = "es") -> float | None:
    """'✖ 1.234,5* ↑' -> 1234.5 (es) and '1,234.5' (en); '—' -> None."""
    thousands, decimal = (".", ",") if lang == "es" else (",", ".")
    m = re.search(
        r"-?\d[\d" + re.escape(thousands) + r"]*(?:" + re.escape(decimal) + r"\d+)?", text
    )
    if not m:
        return None
    return float(m.group().replace(thousands, "").replace(decimal, "."))


def column_index(page, code: str) -> int:
    """Index of the scorecard column of an indicator (its header names it; data-col has the code)."""
    cols = page.eval_on_selector_all(
        "#score-table thead th", "ths => ths.map(th => th.dataset.col || '')"
    )
    return cols.index(code)


def score_rows(page) -> list[list[str]]:
    return page.evaluate(
        """() => [...document.querySelectorAll('#score-table tbody tr')]
            .map(tr => [...tr.children].map(c => c.innerText.trim()))"""
    )


def ascending(values: list[float | None]) -> bool:
    """Non-decreasing, with the units without a value (None) all at the end."""
    known = [v for v in values if v is not None]
    return values[: len(known)] == known and known == sorted(known)


def axe_serious(axe, page) -> list[dict]:
    return [v for v in axe(page) if v["impact"] in ("serious", "critical")]


@pytest.fixture(scope="session")
def hr_hospital(demo) -> tuple[str, str]:
    """(code, name) of the first regional hospital (HR) of the demo by code."""
    repo, _url, _summary = demo
    cat = repo.catalog()
    units = sorted((u for u in cat.level_units(3) if u.facility_type == "HR"), key=lambda u: u.code)
    return units[0].code, units[0].name


def page_path(name: str, hospital: tuple[str, str]) -> str:
    return {
        "resumen": "/",
        "mapa": "/mapa",
        "tendencias": "/tendencias",
        "desempeno": "/desempeno",
        "establecimiento": f"/establecimiento/{hospital[0]}",
    }[name]


# --- 1. every page, both languages --------------------------------------------------------------

PAGE_NAMES = ["resumen", "mapa", "tendencias", "desempeno", "establecimiento"]


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("name", PAGE_NAMES)
def test_page_loads_in_each_language_cleanly(
    name, lang, open_page, settle, page_log, snap, hr_hospital
):
    path = page_path(name, hr_hospital) + ("?lang=en" if lang == "en" else "")
    page = open_page(path)
    settle(page)

    assert page.evaluate("document.documentElement.lang") == lang
    expect(page.locator("#nav-links a")).to_have_text(NAV[lang])
    expect(page.locator("#page-content")).to_contain_text(PAGE_TEXT[name][lang])
    heading = HEADING[name][lang] or hr_hospital[1]
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_contain_text(heading)
    text = page.locator("body").inner_text()
    leaked = [w for w in FOREIGN[lang] if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)]
    assert leaked == [], f"{lang} page shows the other language's words: {leaked}"
    assert page_log.problems() == {}
    snap(page, f"page-{name}-{lang}")


class KnownViolation(Exception):
    """Only this exception makes an xfail-marked axe test count as the known failure; anything
    else (a new rule, a load error) fails it outright, and a pass fails it as XPASS(strict)."""


# Serious axe violations the app has today; the fix belongs in the app, not here. Once fixed, the
# strict xfail turns into a failure until the page's entry is removed, so it stays checked.
# assets/10-app.css paints the page background #f6f7f9, on which Bootstrap 5.3's link blue
# #0d6efd (4.19:1) and secondary grey #6c757d (4.37:1) fall below 4.5:1. Verified fix (clears
# every page): :root { --bs-link-color: #0a58ca; --bs-link-color-rgb: 10, 88, 202; }
# .btn-outline-primary { --bs-btn-color: #0a58ca; } .btn-outline-secondary { --bs-btn-color: #565e64; }
KNOWN_AXE: dict[str, tuple[set[str], str]] = {}


def _axe_param(name: str):
    if name not in KNOWN_AXE:
        return name
    _ids, reason = KNOWN_AXE[name]
    return pytest.param(
        name, marks=pytest.mark.xfail(strict=True, raises=KnownViolation, reason=reason)
    )


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("name", [_axe_param(n) for n in PAGE_NAMES])
def test_page_has_no_serious_accessibility_violation(
    name, lang, open_page, settle, axe, page_log, hr_hospital
):
    page = open_page(page_path(name, hr_hospital) + ("?lang=en" if lang == "en" else ""))
    settle(page)
    serious = axe_serious(axe, page)
    known = KNOWN_AXE.get(name, (set(), ""))[0]
    new = [v for v in serious if v["id"] not in known]
    assert new == [], json.dumps(new, ensure_ascii=False, indent=2)
    assert page_log.problems() == {}
    if serious:
        raise KnownViolation(json.dumps(serious, ensure_ascii=False, indent=2))


# --- 2. filters drive the URL and the figures ---------------------------------------------------


def test_trends_filters_update_url_heading_and_figure(open_page, settle, page_log):
    page = open_page("/tendencias")
    settle(page)
    heading = page.locator("#trend-title")
    expect(heading).to_have_text("Cobertura Pentavalente 3 — Paraguay")
    before = page.evaluate(TREND_TRACES)
    assert [t["name"] for t in before][0] == "Paraguay"

    page.select_option("#filter-region", "PY-11")
    page.wait_for_url(url_has(region="PY-11"))
    expect(heading).to_have_text("Cobertura Pentavalente 3 — Central")
    settle(page)
    page.wait_for_function(
        "() => { const gd = document.querySelector('#trend-graph .js-plotly-plot');"
        " return gd && gd.data && gd.data[0].name === 'Central'; }"
    )
    central = page.evaluate(TREND_TRACES)
    assert [t["name"] for t in central][:2] == ["Central", "Paraguay"]
    assert central[0]["y"] != before[0]["y"]
    expect(page.locator("#filter-summary")).to_contain_text("Central")

    page.select_option("#filter-indicator", "MNI-05")
    page.wait_for_url(url_has(region="PY-11", indicador="MNI-05"))
    expect(heading).to_contain_text("Captación precoz del embarazo")
    expect(heading).to_contain_text("Central")
    settle(page)
    early = page.evaluate(TREND_TRACES)
    assert early[0]["name"] == "Central" and early[0]["y"] != central[0]["y"]

    page.select_option("#filter-period", "2025")
    page.wait_for_url(url_has(region="PY-11", indicador="MNI-05", periodo="2025"))
    settle(page)
    # By month a trend shows at least 24 months: 2024 for context, 2025 (the period) shaded.
    page.wait_for_function(
        "() => { const gd = document.querySelector('#trend-graph .js-plotly-plot');"
        " return gd && gd.data && gd.data[0].x[0] === 'ene 2024'; }"
    )
    year = page.evaluate(TREND_TRACES)
    assert year[0]["x"][0] == "ene 2024" and year[0]["x"][-1] == "dic 2025"
    assert len(year[0]["x"]) == 24
    expect(page.locator("#filter-summary")).to_contain_text("2025")
    assert page.input_value("#filter-period") == "2025"
    assert page_log.problems() == {}


# --- 3. a copied link restores the view ---------------------------------------------------------


def test_scorecard_copied_link_restores_filters_heading_and_rows(open_page, settle, page_log, demo):
    page = open_page("/desempeno?region=PY-11&indicador=MNI-05&periodo=2025Q3&lang=en")
    settle(page)
    assert page.input_value("#filter-region") == "PY-11"
    assert page.input_value("#filter-indicator") == "MNI-05"
    assert page.input_value("#filter-period") == "2025Q3"
    assert page.input_value("#filter-district") == "*"
    heading = page.locator("#score-title")
    expect(heading).to_contain_text("Central")
    expect(heading).to_contain_text("Q3 2025")
    assert page.evaluate("document.documentElement.lang") == "en"

    cat = demo[0].catalog()
    districts = {u.name for u in cat.descendants(cat.unit("PY-11"), 2)}
    shown = page.locator("#score-table tbody th").all_inner_texts()
    assert sorted(s.strip() for s in shown) == sorted(districts)
    assert "MNI-05" in [
        h.split("\n")[-1].strip(" ▲▼")
        for h in page.locator("#score-table thead th").all_inner_texts()
    ]
    # The link is already in canonical form: loading it rewrites nothing.
    assert query(page) == {
        "region": "PY-11",
        "indicador": "MNI-05",
        "periodo": "2025Q3",
        "lang": "en",
    }
    assert page_log.problems() == {}


# --- 4. Back ------------------------------------------------------------------------------------


def test_back_restores_previous_region(open_page, settle, page_log):
    page = open_page("/tendencias")
    settle(page)
    heading = page.locator("#trend-title")

    page.select_option("#filter-region", "PY-11")
    page.wait_for_url(url_has(region="PY-11"))
    expect(heading).to_contain_text("Central")
    settle(page)
    page.select_option("#filter-region", "PY-7")
    page.wait_for_url(url_has(region="PY-7"))
    expect(heading).to_contain_text("Itapúa")
    settle(page)

    page.go_back()
    page.wait_for_url(url_has(region="PY-11"))
    expect(heading).to_contain_text("Central")
    settle(page)
    assert page.input_value("#filter-region") == "PY-11"
    assert urlsplit(page.url).path == "/tendencias"

    page.go_back()
    page.wait_for_url(url_has(region=None))
    expect(heading).to_have_text("Cobertura Pentavalente 3 — Paraguay")
    settle(page)
    assert page.input_value("#filter-region") == "*"

    page.go_forward()
    page.wait_for_url(url_has(region="PY-11"))
    expect(heading).to_contain_text("Central")
    settle(page)
    assert page.input_value("#filter-region") == "PY-11"
    assert page_log.problems() == {}


# --- 5. map drill-down --------------------------------------------------------------------------


def test_map_click_on_region_drills_down(open_page, settle, page_log, snap):
    page = open_page("/mapa")
    settle(page)
    page.wait_for_function(
        "() => document.querySelectorAll('#map-graph path.choroplethlocation').length === 18"
    )
    assert sorted(page.evaluate(CHOROPLETH_CODES)) == sorted(
        [f"PY-{n}" for n in range(1, 17)] + ["PY-19", "PY-ASU"]
    )
    point = page.evaluate(POINT_IN_REGION, "PY-19")  # Boquerón: large, easy to hit
    assert point, "no point inside Boquerón's shape"
    page.mouse.move(*point)
    page.mouse.click(*point)

    page.wait_for_url(url_has(region="PY-19"))
    crumbs = page.locator("#map-breadcrumb .breadcrumb-item")
    expect(crumbs).to_have_text(["Paraguay", "Boquerón"])
    expect(crumbs.nth(0).locator("a")).to_have_attribute("href", "/mapa")
    expect(page.locator("#map-title")).to_contain_text("Boquerón")
    settle(page)
    assert page.input_value("#filter-region") == "PY-19"
    page.mouse.move(0, 0)  # no tooltip left over the picture
    snap(page, "map-drilled-PY-19-es")
    assert page_log.problems() == {}


def test_map_tile_grid_draws_every_region_and_drills_down(open_page, settle, page_log, snap):
    page = open_page("/mapa?vista=tiles")
    settle(page)
    tiles = page.evaluate(TILES)
    assert len(tiles) == 18
    assert len({t["code"] for t in tiles}) == 18
    expect(page.locator("#map-graph .textpoint")).to_have_count(18)
    snap(page, "map-tiles-es")

    itapua = next(t for t in tiles if t["code"] == "PY-7")
    page.mouse.move(itapua["x"], itapua["y"])
    page.mouse.click(itapua["x"], itapua["y"])
    page.wait_for_url(url_has(region="PY-7"))
    expect(page.locator("#map-breadcrumb .breadcrumb-item")).to_have_text(["Paraguay", "Itapúa"])
    expect(page.locator("#map-title")).to_contain_text("Itapúa")
    settle(page)
    assert page_log.problems() == {}


# --- 6. scorecard sort and facility profile ------------------------------------------------------


def test_scorecard_sorts_by_column_and_opens_facility(open_page, settle, page_log):
    page = open_page("/desempeno?region=PY-16&tipo=USF")
    settle(page)
    col = column_index(page, "INM-03")
    rows = score_rows(page)
    assert len(rows) >= 3 and all(r[2] == "USF" for r in rows)
    unsorted = [number(r[col]) for r in rows]

    head = page.locator('#score-table thead th[data-col="INM-03"]')
    expect(head).to_contain_text("Cobertura")  # the indicator's name, its code under it
    head.locator("a").click()
    page.wait_for_url(url_has(orden="INM-03", region="PY-16", tipo="USF"))
    expect(head).to_have_attribute("aria-sort", "ascending")
    expect(head).to_contain_text("INM-03 ▲")
    settle(page)
    up = [number(r[col]) for r in score_rows(page)]
    assert ascending(up), up
    assert sorted(v for v in up if v is not None) == sorted(v for v in unsorted if v is not None)

    head.locator("a").click()
    page.wait_for_url(url_has(orden="-INM-03"))
    expect(head).to_have_attribute("aria-sort", "descending")
    expect(head).to_contain_text("INM-03 ▼")
    settle(page)
    down = [number(r[col]) for r in score_rows(page)]
    known = [v for v in down if v is not None]
    assert known == sorted(known, reverse=True) and down[: len(known)] == known, down

    first = page.locator("#score-table tbody tr").first.locator("th a")
    name = first.inner_text().strip()
    first.click()
    page.wait_for_url(re.compile(r"/establecimiento/E\d+"))
    expect(page.locator("h1")).to_have_text(name)
    settle(page)
    assert query(page).get("region") == "PY-16"
    assert page_log.problems() == {}


def test_facility_scorecard_pages_through_its_rows(open_page, settle, page_log, demo, snap):
    """Central's USF: a page of 50 rows at a time, the rest one link away (issue 10, 21)."""
    cat = demo[0].catalog()
    total = len([u for u in cat.descendants(cat.unit("PY-11"), 3) if u.facility_type == "USF"])
    size = 50
    assert total > size
    page = open_page("/desempeno?region=PY-11&tipo=USF")
    settle(page)
    first = score_rows(page)
    assert len(first) == size
    expect(page.locator(".score-pager").first).to_contain_text(
        f"Filas 1–{size} de {total:,}".replace(",", ".")
    )
    snap(page, "scorecard-facilities-page-1")
    page.locator(".score-pager").first.get_by_role("link", name="Siguiente ›").click()
    page.wait_for_url(url_has(pag="2", region="PY-11", tipo="USF"))
    settle(page)
    second = score_rows(page)
    assert len(second) == min(size, total - size)
    assert {r[1] for r in first}.isdisjoint({r[1] for r in second})
    # Sorting starts again at the first page.
    page.locator('#score-table thead th[data-col="rank"] a').click()
    page.wait_for_url(url_has(orden="rank", pag=None))
    assert page_log.problems() == {}


def test_scorecard_area_chip_keeps_the_showing_line_true(open_page, settle, page_log, demo):
    page = open_page("/desempeno?region=PY-1&indicador=INM-03")
    settle(page)
    expect(page.locator("#filter-summary")).to_contain_text("Pentavalente")
    page.locator("#score-domain").get_by_role("link", name="Salud materna e infantil").click()
    page.wait_for_url(url_has(dominio="MNI"))
    settle(page)
    ind = demo[0].catalog().indicators[query(page)["indicador"]]
    assert ind.domain == "MNI"
    expect(page.locator("#filter-summary")).to_contain_text(ind.name("es"))
    expect(page.locator(".score-rank-by")).to_contain_text(ind.name("es"))
    assert page_log.problems() == {}


# --- 7. downloads equal the table ---------------------------------------------------------------


def _screen_table(page, code: str) -> tuple[list[str], list[float | None]]:
    col = column_index(page, code)
    rows = score_rows(page)
    return [r[1] for r in rows], [number(r[col]) for r in rows]


def _download(page, button: str):
    with page.expect_download() as info:
        page.click(f"a[data-export={button}]")
    download = info.value
    assert download.failure() is None
    return download


def test_scorecard_csv_download_matches_table(open_page, settle, page_log):
    page = open_page("/desempeno?region=PY-1")
    settle(page)
    names, values = _screen_table(page, "INM-03")
    assert len(names) >= 10 and any(v is not None for v in values)

    download = _download(page, "csv")
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), "rb") as fh:
        raw = fh.read()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, so Excel reads the accents"
    text = raw.decode("utf-8-sig").replace("\r\n", "\n")
    head, _, body = text.partition("\n\n")
    info = dict(line.split(";", 1) for line in head.splitlines())
    assert info["Región sanitaria"] == "Concepción"
    table = list(csv.reader(io.StringIO(body), delimiter=";"))
    header, data = table[0], [r for r in table[1:] if r]
    value_col = next(
        i for i, h in enumerate(header) if h.startswith("INM-03 ") and "Estado" not in h
    )
    unit_col = header.index("Unidad")
    assert [r[unit_col] for r in data] == names
    csv_values = [float(r[value_col].replace(",", ".")) if r[value_col] else None for r in data]
    assert csv_values == values
    assert page_log.problems() == {}


def test_scorecard_xlsx_download_matches_table(open_page, settle, page_log):
    openpyxl = pytest.importorskip("openpyxl")
    page = open_page("/desempeno?region=PY-1")
    settle(page)
    names, values = _screen_table(page, "INM-03")

    download = _download(page, "xlsx")
    assert download.suggested_filename.endswith(".xlsx")
    # Playwright stores the file under a name without extension, which openpyxl refuses.
    with open(download.path(), "rb") as fh:
        book = openpyxl.load_workbook(io.BytesIO(fh.read()), read_only=True)
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header, data = list(rows[0]), [r for r in rows[1:] if any(c is not None for c in r)]
    value_col = next(
        i
        for i, h in enumerate(header)
        if isinstance(h, str) and h.startswith("INM-03 ") and "Estado" not in h
    )
    unit_col = header.index("Unidad")
    assert [r[unit_col] for r in data] == names
    assert all(isinstance(r[value_col], (int, float)) for r in data if r[value_col] is not None)
    assert [None if r[value_col] is None else round(r[value_col], 1) for r in data] == values
    info = {r[0]: r[1] for r in book["info"].iter_rows(values_only=True)}
    assert info["Región sanitaria"] == "Concepción"
    book.close()
    assert page_log.problems() == {}


# --- 8. client-side navigation through every page, offline ---------------------------------------


def test_navigation_through_every_page_stays_offline(open_page, settle, page_log, hr_hospital):
    page = open_page("/")
    settle(page)
    page.evaluate("window.__same_document = true")  # survives only client-side navigation
    nav = page.locator("#nav-links")

    nav.get_by_role("link", name="Mapa", exact=True).click()
    page.wait_for_url(re.compile(r"/mapa$"))
    page.wait_for_function(
        "() => document.querySelectorAll('#map-graph path.choroplethlocation').length === 18"
    )
    settle(page)

    nav.get_by_role("link", name="Tendencias", exact=True).click()
    page.wait_for_url(re.compile(r"/tendencias$"))
    page.wait_for_function(
        "() => { const gd = document.querySelector('#trend-graph .js-plotly-plot');"
        " return gd && gd.data && gd.data.length > 0 && gd.data[0].name === 'Paraguay'; }"
    )
    settle(page)

    nav.get_by_role("link", name="Desempeño", exact=True).click()
    page.wait_for_url(re.compile(r"/desempeno$"))
    expect(page.locator("#score-title")).to_contain_text("Desempeño · Paraguay")
    settle(page)
    # Down the tree by the row links: region, district, then a facility's profile.
    page.locator("#score-table tbody th a", has_text="Concepción").first.click()
    page.wait_for_url(url_has(region="PY-1"))
    expect(page.locator("#score-title")).to_contain_text("Concepción")
    settle(page)
    page.locator("#score-table tbody th a").first.click()
    page.wait_for_url(lambda url: "distrito=" in url)
    settle(page)
    first = page.locator("#score-table tbody th a").first
    name = first.inner_text().strip()
    first.click()
    page.wait_for_url(re.compile(r"/establecimiento/E\d+"))
    expect(page.locator("h1")).to_have_text(name)
    settle(page)

    nav.get_by_role("link", name="Resumen", exact=True).click()
    page.wait_for_url(re.compile(r"/(\?.*)?$"))
    expect(page.locator("#overview-title")).to_contain_text("Resumen")
    settle(page)

    assert page.evaluate("window.__same_document === true"), "a link reloaded the page"
    assert page_log.outside_requests == []
    assert page_log.problems() == {}


# --- 9. language switch keeps the view ----------------------------------------------------------


def test_language_switch_keeps_filters_in_url(open_page, settle, page_log):
    page = open_page("/mapa?region=PY-1")
    settle(page)
    expect(page.locator("#map-title")).to_contain_text("Cobertura Pentavalente 3 · Concepción")

    page.locator("#lang-switch").get_by_role("link", name="EN", exact=True).click()
    page.wait_for_url(url_has(lang="en", region="PY-1"))
    expect(page.locator("#nav-links a")).to_have_text(NAV["en"])
    expect(page.locator("#map-title")).to_contain_text(
        "DTP3-containing vaccine coverage · Concepción"
    )
    settle(page)
    assert urlsplit(page.url).path == "/mapa"
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.input_value("#filter-region") == "PY-1"

    page.locator("#lang-switch").get_by_role("link", name="ES", exact=True).click()
    page.wait_for_url(url_has(lang=None, region="PY-1"))
    expect(page.locator("#nav-links a")).to_have_text(NAV["es"])
    settle(page)
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page_log.problems() == {}


def test_pages_show_names_as_stored_with_accents(open_page, settle, page_log, snap, demo):
    """District, region and facility names come from the data with their accents and Spanish
    capitals ('Concepción', 'San Carlos del Apa', 'Azote'y'), never title-cased."""
    region = "?region=PY-1"
    page = open_page("/desempeno" + region)
    settle(page)
    rows = [s.strip() for s in page.locator("#score-table tbody th").all_inner_texts()]
    assert {"Concepción", "San Carlos del Apa", "Azote'y"} <= set(rows), rows
    snap(page, "names-scorecard-PY-1-es")

    page = open_page("/mapa" + region)
    settle(page)
    expect(page.locator("#map-breadcrumb .breadcrumb-item")).to_have_text(
        ["Paraguay", "Concepción"]
    )
    table = page.locator("#map-table tbody th").all_inner_texts()
    assert "San Carlos del Apa" in [s.strip() for s in table], table
    page.mouse.move(0, 0)
    snap(page, "names-map-PY-1-es")

    page = open_page("/" + region + "&distrito=0101")
    settle(page)
    expect(page.locator("#overview-title")).to_contain_text("Concepción")
    assert page.locator("#filter-district option:checked").inner_text().strip() == "Concepción"
    snap(page, "names-overview-0101-es")

    cat = demo[0].catalog()
    hospital = next(u for u in cat.level_units(3) if u.name == "Hospital Distrital de Concepción")
    page = open_page(f"/establecimiento/{hospital.code}")
    settle(page)
    expect(page.locator("h1")).to_have_text("Hospital Distrital de Concepción")
    crumbs = [s.strip() for s in page.locator(".breadcrumb-item").all_inner_texts()]
    assert crumbs[:3] == ["Paraguay", "Concepción", "Concepción"], crumbs
    snap(page, "names-facility-es")
    assert page_log.problems() == {}
