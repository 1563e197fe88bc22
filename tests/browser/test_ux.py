"""The frame as a manager meets it: a KPI card answers "where is it worst?", the indicator is
found by area or by typing, a phone shows content on its first screen, odd addresses answer 404
or say what they ignored, and every tab has its own title."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixtures skip (or fail on CI) before any test uses it
    expect = None

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def url_has(**params):
    def check(url: str) -> bool:
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        return all(q.get(k) == v for k, v in params.items())

    return check


def serious(axe, page) -> list[dict]:
    return [v for v in axe(page) if v["impact"] in ("serious", "critical")]


# --- 6. a KPI card sets the indicator of "Dónde prestar atención" -------------------------------


def test_kpi_card_sets_the_attention_list_by_keyboard_and_trend_is_a_separate_link(
    open_page, settle, page_log
):
    page = open_page("/?region=PY-1")
    attention = page.locator("#overview-attention-title")
    expect(attention).to_have_text("Dónde prestar atención · Cobertura Pentavalente 3")
    card = page.locator(".kpi-card").nth(1)
    expect(card.locator(".kpi-title")).to_contain_text("Embarazadas con 4 o más controles")

    card.locator(".kpi-title").focus()  # a link: Tab reaches it, Enter follows it
    page.keyboard.press("Enter")
    page.wait_for_url(url_has(region="PY-1", indicador="MNI-04"))
    settle(page)
    assert urlsplit(page.url).path == "/"  # still the overview, not Tendencias
    expect(attention).to_have_text(
        "Dónde prestar atención · Embarazadas con 4 o más controles prenatales"
    )
    expect(page.locator("#overview-attention")).to_contain_text("Distritos con peor resultado")
    # the card stays where it was, marked as chosen; focus and view move to the answer
    expect(page.locator(".kpi-card").nth(1)).to_have_class(re.compile("kpi-selected"))
    page.wait_for_function("() => document.activeElement.id === 'overview-attention-title'")
    assert "#" not in page.url  # the anchor does not stay in a link the user copies

    trend = page.locator(".kpi-card").nth(1).locator(".kpi-trend-link")
    assert trend.get_attribute("href") == "/tendencias?region=PY-1&indicador=MNI-04"
    expect(trend).to_contain_text("Ver tendencia")
    trend.click()
    page.wait_for_url(re.compile(r"/tendencias\?region=PY-1&indicador=MNI-04$"))
    assert page_log.problems() == {}


def test_overview_draws_sparklines_as_images_with_words_and_no_plotly_graph(open_page, axe):
    page = open_page("/")
    assert page.locator("#page-content .dash-graph, #page-content .js-plotly-plot").count() == 0
    sparks = page.locator("img.kpi-spark")
    assert sparks.count() == 8
    for i in range(8):
        assert sparks.nth(i).get_attribute("src").startswith("data:image/svg+xml;base64,")
        alt = sparks.nth(i).get_attribute("alt")
        assert alt.startswith("Últimos 12 meses: de ") and "máximo" in alt, alt
    # the (i) opens the definition, by keyboard
    info = page.locator(".kpi-card").first.locator("summary")
    info.focus()
    page.keyboard.press("Enter")
    body = page.locator(".kpi-card").first.locator(".info-body")
    expect(body).to_be_visible()
    expect(body).to_contain_text("Numerador")
    expect(body).to_contain_text("PENTA3")
    expect(body).to_contain_text("«Cerca»")
    assert serious(axe, page) == []


# --- 7. the indicator: grouped, names first, found by typing ----------------------------------


def test_indicator_select_is_grouped_names_first_and_a_search_box_finds_by_typing(
    open_page, settle, page_log, axe, demo
):
    cat = demo[0].catalog()
    page = open_page("/mapa?region=PY-1")
    options = page.locator("#filter-indicator option")
    texts = page.evaluate(
        "() => [...document.querySelectorAll('#filter-indicator option')]"
        ".map(o => o.textContent).filter(t => t)"  # the select's empty placeholder left out
    )
    assert texts[0] == "— SALUD MATERNA E INFANTIL —"
    assert options.first.get_attribute("disabled") is not None
    assert "Cobertura Pentavalente 3 · INM-03" in texts
    assert "— INMUNIZACIONES —" in texts
    assert len(texts) == len(cat.indicators) + len({i.domain for i in cat.indicators.values()})
    assert page.locator("#indicator-list option").count() == len(cat.indicators)
    # the search box has a visible label and the browser's own suggestions
    expect(page.locator("#label-indicator-search")).to_have_text("Buscar indicador")
    assert page.get_attribute("#indicator-search", "list") == "indicator-list"

    # no accent, lower case; filled at once (key by key, a busy machine re-rendered the bar
    # mid-word and the letters landed out of order)
    page.locator("#indicator-search").fill("captacion precoz")
    page.locator("#indicator-search").press("Enter")
    page.wait_for_url(url_has(region="PY-1", indicador="MNI-05"))
    settle(page)
    assert urlsplit(page.url).path == "/mapa"
    assert page.input_value("#filter-indicator") == "MNI-05"
    assert page.input_value("#indicator-search") == ""
    expect(page.locator("#indicator-search-hint")).to_have_text(
        "Elegido: Captación precoz del embarazo (< 12 semanas)"
    )
    expect(page.locator("#filter-summary")).to_contain_text("Captación precoz del embarazo")

    # a word several indicators share changes nothing and marks the box
    page.locator("#indicator-search").fill("cobertura")
    page.keyboard.press("Enter")
    expect(page.locator("#indicator-search")).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#indicator-search-hint")).to_have_text(
        "Ningún indicador, o más de uno, coincide: elija una de las sugerencias."
    )
    assert url_has(indicador="MNI-05")(page.url)
    assert serious(axe, page) == []
    assert page_log.problems() == {}


# --- 16. a phone: content on the first screen ---------------------------------------------------


def test_phone_folds_the_filters_behind_a_summary_button(page, live_server, settle, page_log):
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/?region=PY-1&indicador=MNI-04")
    settle(page)
    toggle = page.locator("#filter-toggle")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#filter-toggle-summary")).to_have_text(
        "Concepción · MNI-04 · nov 2025 – oct 2026"
    )
    expect(page.locator("#filter-region")).to_be_hidden()
    expect(page.locator("#export-links")).to_be_hidden()
    # the page's heading and the first card start within the first fifth of the screen
    top = page.locator("h1").bounding_box()["y"]
    assert top < 844 / 5, top
    # the first content (the month's briefing, then the cards) is on the first screen
    first = page.locator("section.briefing").bounding_box()
    assert first["y"] < 844 / 3, first
    card = page.locator(".kpi-card").first.bounding_box()
    assert card["y"] >= first["y"] + first["height"] - 1

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#filter-region")).to_be_visible()
    expect(page.locator("#export-links a").first).to_be_visible()
    toggle.click()
    expect(page.locator("#filter-region")).to_be_hidden()
    assert page_log.problems() == {}


def test_phone_page_never_scrolls_sideways_and_percentages_do_not_wrap(
    page, live_server, settle, page_log
):
    page.set_viewport_size(PHONE)
    for path in (
        "/?region=PY-1",
        "/tendencias?region=PY-1",
        # the scorecard's cells hold visually hidden words (trend verdicts) inside a scroll box
        "/desempeno?region=PY-1",
        "/ods?region=PY-1",
        "/equidad?region=PY-1",
        "/nonexistent",
    ):
        page.goto(live_server + path)
        settle(page)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
    # the 404 page's own status, as the browser reports it
    page_log.console_errors[:] = [e for e in page_log.console_errors if "status of 404" not in e]
    page.goto(live_server + "/?region=PY-1")
    settle(page)
    cells = page.locator("#overview-attention td.text-end")
    assert cells.count() >= 10
    for i in range(cells.count()):
        cell = cells.nth(i)
        text = cell.text_content()
        if "%" in text:
            assert "\u00a0%" in text, text  # a no-break space joins number and sign
        lines = cell.evaluate(
            # the value's own text (a quality mark beside it sits higher, as a superscript)
            "el => { const r = document.createRange(); r.selectNodeContents(el.firstChild);"
            " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"
        )
        assert lines == 1, (text, lines)
    assert page_log.problems() == {}


NAV_FITS_JS = """() => {
    const nav = document.getElementById('nav-links');
    return {doc: document.documentElement.scrollWidth, vw: window.innerWidth,
            nav: nav.scrollWidth, navBox: nav.clientWidth};
}"""


@pytest.mark.parametrize(
    ("lang", "menu", "other"),
    [("es", "Menú", "Tendencias"), ("en", "Menu", "Trends")],
)
def test_phone_navigation_fits_the_screen_behind_a_menu_button(
    page, live_server, settle, page_log, snap, axe, lang, menu, other
):
    page.set_viewport_size(PHONE)
    page.goto(live_server + f"/?region=PY-1&lang={lang}")
    page.wait_for_function("() => !document.querySelector('.first-view')")
    settle(page)
    toggle = page.locator("#nav-toggle")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_text(re.compile(f"^{menu}"))
    # closed, the frame keeps to two lines (brand; button and language) above the filters
    assert page.locator("#navbar").bounding_box()["height"] < 110
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_have_attribute("aria-controls", "nav-links")
    m = page.evaluate(NAV_FITS_JS)
    assert m["doc"] <= m["vw"] and m["nav"] <= m["navBox"], m

    # opened by keyboard: every page on screen, wrapped, nothing to scroll sideways
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    links = page.locator("#nav-links a")
    assert links.count() == 7
    for i in range(7):
        expect(links.nth(i)).to_be_in_viewport()
        box = links.nth(i).bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], (i, box)
    m = page.evaluate(NAV_FITS_JS)
    assert m["doc"] <= m["vw"] and m["nav"] <= m["navBox"], m
    snap(page, f"phone-nav-open-{lang}")
    assert serious(axe, page) == []

    # following a link closes the menu
    links.filter(has_text=other).click()
    page.wait_for_url(re.compile(r"/tendencias\?"))
    settle(page)
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#nav-links")).to_be_hidden()
    m = page.evaluate(NAV_FITS_JS)
    assert m["doc"] <= m["vw"] and m["nav"] <= m["navBox"], m
    # a desktop shows the links themselves, no button
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(toggle).to_be_hidden()
    expect(page.locator("#nav-links a").first).to_be_visible()
    assert page_log.problems() == {}


# --- 17. odd addresses ------------------------------------------------------------------------


def test_unknown_page_answers_404_with_ways_on(page, live_server, settle, page_log):
    response = page.goto(live_server + "/nonexistent")
    assert response.status == 404
    settle(page)
    expect(page.locator("h1")).to_have_text("Página no encontrada")
    links = page.locator(".not-found-links a")
    assert links.all_inner_texts()[:4] == ["Resumen", "Mapa", "Tendencias", "Desempeño"]
    assert page.locator("#export-links a").count() == 0
    assert page.title() == "Página no encontrada · Tablero de desempeño"
    page_log.console_errors[:] = [e for e in page_log.console_errors if "404" not in e]
    assert page_log.problems() == {}


def test_unknown_facility_answers_404_without_sections_or_exports(
    page, live_server, settle, page_log, demo
):
    response = page.goto(live_server + "/establecimiento/NOPE?lang=en")
    assert response.status == 404
    settle(page)
    expect(page.locator("h1")).to_have_text("Facility not found: NOPE")
    assert page.locator("#fac-indicators, #fac-completeness, #fac-header").count() == 0
    assert page.locator("#export-links a").count() == 0
    page_log.console_errors[:] = [e for e in page_log.console_errors if "404" not in e]
    # a facility of the catalogue answers 200
    cat = demo[0].catalog()
    code = sorted(u.code for u in cat.level_units(3))[0]
    assert page.goto(live_server + f"/establecimiento/{code}").status == 200
    settle(page)
    assert page.locator("#export-links a").count() == 3
    assert page_log.problems() == {}


def test_ignored_parameters_are_said_and_leave_the_address_bar(page, live_server, settle, page_log):
    page.goto(live_server + "/mapa?region=XX&periodo=garbage&indicador=MNI-04")
    settle(page)
    notice = page.locator("#notice .notice-ignored")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("region=XX")
    expect(notice).to_contain_text("periodo=garbage")
    page.wait_for_url(live_server + "/mapa?indicador=MNI-04")
    # a clean address says nothing
    page.goto(live_server + "/mapa?region=PY-1")
    settle(page)
    assert page.locator("#notice .notice-ignored").count() == 0
    assert page_log.problems() == {}


# --- 18, 19. tab titles, icon, first paint ------------------------------------------------------


def test_every_page_has_its_own_tab_title_in_its_language(page, live_server, settle, page_log):
    cases = {
        "/mapa?region=PY-1": "Mapa · Concepción · Tablero de desempeño",
        "/mapa?region=PY-1&lang=en": "Map · Concepción · Performance dashboard",
        "/tendencias?region=PY-11": "Tendencias · Central · Tablero de desempeño",
        "/desempeno?lang=en": "Scorecard · Paraguay · Performance dashboard",
        "/": "Resumen · Paraguay · Tablero de desempeño",
    }
    for path, title in cases.items():
        html = page.request.get(live_server + path).text()
        assert f"<title>{title}</title>" in html, path  # before any script runs
        page.goto(live_server + path)
        settle(page)
        assert page.title() == title
    # the title follows a filter change
    page.goto(live_server + "/mapa?region=PY-1")
    settle(page)
    page.select_option("#filter-region", "PY-11")
    page.wait_for_function("() => document.title === 'Mapa · Central · Tablero de desempeño'")
    assert page_log.problems() == {}


def test_product_icon_and_first_paint_frame_come_from_the_server(page, live_server):
    html = page.request.get(live_server + "/?lang=en").text()
    assert '<html lang="en">' in html
    assert "boot-skeleton" in html and "Loading…" in html  # the frame before any script
    assert "Health performance dashboard" in html
    icons = re.findall(r'<link rel="icon" type="([^"]+)" href="([^"]+)"', html)
    types = {t for t, _ in icons}
    assert types == {"image/x-icon", "image/svg+xml"}, icons
    for _, href in icons:
        assert "_favicon.ico" not in href  # not Dash's
        r = page.request.get(live_server + href)
        assert r.status == 200 and len(r.body()) > 200
    svg = page.request.get(live_server + dict((t, h) for t, h in icons)["image/svg+xml"])
    assert svg.text().startswith("<svg")


# --- 20. the Resumen's cards in the first HTML, handed over to React's copy -------------------


DUPLICATE_IDS_JS = """() => {
    const seen = {};
    for (const el of document.querySelectorAll('[id]')) seen[el.id] = (seen[el.id] || 0) + 1;
    return Object.keys(seen).filter(id => seen[id] > 1);
}"""
VISIBLE_VALUES_JS = """() => [...document.querySelectorAll('.kpi-card .kpi-value')]
    .filter(e => e.checkVisibility({visibilityProperty: true})).map(e => e.innerText)"""


def test_first_view_shows_the_cards_before_any_script_then_react_takes_over(
    page, live_server, settle, page_log, snap, browser, session_cookie
):
    # Scripts refused: what the first paint shows is the server's HTML alone.
    bare = browser.new_context(viewport={"width": 1366, "height": 768})
    bare.add_cookies([session_cookie])
    bare.route("**/*.js*", lambda route: route.abort())
    first = bare.new_page()
    first.goto(live_server + "/?region=PY-1", wait_until="domcontentloaded")
    static_values = first.evaluate(VISIBLE_VALUES_JS)
    assert len(static_values) == 8 and all(re.fullmatch(r"[\d.]+,\d+", v) for v in static_values)
    assert first.locator(".first-view h1").inner_text().startswith("Resumen · Concepción")
    snap(first, "first-view-before-scripts")
    bare.close()

    # With scripts: React draws the same cards, then the server's copy leaves.
    page.goto(live_server + "/?region=PY-1")
    page.wait_for_function("() => !document.querySelector('.first-view')")
    settle(page)
    assert page.evaluate(VISIBLE_VALUES_JS) == static_values
    assert page.locator("#overview-cards .kpi-card").count() == 8
    assert page.evaluate(DUPLICATE_IDS_JS) == []
    # and it works: a card sets the attention list's indicator
    page.locator("#overview-cards .kpi-title").nth(1).click()
    page.wait_for_url(url_has(indicador="MNI-04"))
    settle(page)
    expect(page.locator("#overview-attention-title")).to_contain_text("Embarazadas con 4")
    assert page.evaluate(DUPLICATE_IDS_JS) == []
    assert page_log.problems() == {}


CARD_BOXES_JS = """(sel) => [...document.querySelectorAll(sel)]
    .filter(e => e.checkVisibility({visibilityProperty: true}))
    .map(e => { const b = e.getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; })"""


@pytest.mark.parametrize("width", [768, 900, 1000, 1100])
def test_first_view_hand_over_does_not_move_the_cards(
    page, live_server, settle, page_log, snap, width
):
    # The renderer's start held back: the server's first view is what the reader sees.
    held = []
    page.route("**/_dashboard/start-renderer.js", lambda route: held.append(route))
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server + "/?region=PY-1", wait_until="commit")
    page.wait_for_selector(".first-view .kpi-card")
    # Measured once every style sheet has arrived (on a busy machine the cards can be in the
    # page before the last sheet is, and a box measured then is not what the reader sees).
    page.wait_for_function(
        "() => document.fonts.status === 'loaded' && [...document.querySelectorAll("
        "'link[rel=stylesheet]')].every(l => l.sheet)"
    )
    before = page.evaluate(CARD_BOXES_JS, ".first-view .kpi-card")
    assert len(before) == 8
    snap(page, f"first-view-{width}")
    page.wait_for_function("() => true")  # lets the held route's event arrive
    for route in held:
        route.continue_()
    page.unroute("**/_dashboard/start-renderer.js")
    page.wait_for_function("() => !document.querySelector('.first-view')")
    settle(page)
    after = page.evaluate(CARD_BOXES_JS, "#overview-cards .kpi-card")
    snap(page, f"handed-over-{width}")
    assert len(after) == 8
    for b, a in zip(before, after, strict=True):
        assert all(abs(x - y) <= 4 for x, y in zip(b, a, strict=True)), (width, b, a)
    assert page_log.problems() == {}


FILTER_WIDTHS_JS = """() => [...document.querySelectorAll('.filter-body select, .filter-body input')]
    .map(e => [e.id, Math.round(e.getBoundingClientRect().width)])"""


@pytest.mark.parametrize("width", [1000, 1366])
def test_every_filter_keeps_a_readable_width_on_a_laptop(
    page, live_server, settle, page_log, snap, width
):
    # A region's long name must not widen its column until the district's select shows one
    # letter ("T…" at 1000 px before): each filter keeps at least 160 px, the filters sit in
    # one row from 1200 px and in two rows of three below it.
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server + "/mapa?region=PY-1&distrito=0114")
    settle(page)
    snap(page, f"filters-{width}")
    widths = dict(page.evaluate(FILTER_WIDTHS_JS))
    assert set(widths) >= {"filter-region", "filter-district", "filter-type", "filter-period"}
    assert min(widths.values()) >= 160, widths
    rows = {
        round(page.locator(f"#{i}").bounding_box()["y"])
        for i in ("filter-region", "filter-district", "filter-type", "filter-indicator")
    }
    assert len(rows) == (1 if width >= 1200 else 2), (width, rows)
    assert page_log.problems() == {}
