"""Pure parts of the frame: SVG sparklines, ignored URL parameters, 404 decisions, tab titles."""

import base64
import math
import re
from datetime import date

import pytest
from helpers import add_facilities

from dashboard.catalog import Scope
from dashboard.filters import from_query, ignored_params, page_exists
from dashboard.sparkline import data_uri, sparkline_alt, sparkline_svg
from dashboard.titles import page_title, tab_title

TODAY = date(2026, 11, 29)


@pytest.fixture
def cat(repo):
    add_facilities(repo, [("F1", "USF", "0101"), ("F2", "USF", "1101")])
    return repo.catalog()


# --- sparklines ---------------------------------------------------------------------------------


def _coords(svg: str) -> list[tuple[float, float]]:
    d = re.search(r'<path d="M([^"]+)"', svg).group(1)
    return [tuple(map(float, p.split(","))) for p in d.split(" L")]


def test_sparkline_svg_scales_values_into_the_box_highest_at_the_top():
    # width 240, height 48, padding 4: x from 4 to 236 in steps of 116; y from 44 (low) to 4.
    svg = sparkline_svg([10.0, 20.0, 15.0])
    assert svg.startswith("<svg") and 'viewBox="0 0 240 48"' in svg
    assert _coords(svg) == [(4.0, 44.0), (120.0, 4.0), (236.0, 24.0)]
    # the last value has its dot
    assert '<circle cx="236.0" cy="24.0" r="3"' in svg


def test_sparkline_svg_breaks_the_line_at_a_missing_month():
    svg = sparkline_svg([1.0, 2.0, None, 3.0, float("nan"), 5.0, 4.0])
    assert len(re.findall(r"<path ", svg)) == 2  # [1,2] and [5,4]; 3 alone is a dot
    assert len(re.findall(r'r="1.5"', svg)) == 1
    # a flat series sits at mid-height instead of dividing by zero
    assert all(y == 24.0 for _, y in _coords(sparkline_svg([7.0, 7.0, 7.0])))


def test_sparkline_svg_of_no_data_is_an_empty_picture():
    assert sparkline_svg([]).endswith("></svg>")
    assert "<path" not in sparkline_svg([None, math.nan])


def test_sparkline_data_uri_round_trips_and_escapes_the_colour():
    svg = sparkline_svg([1.0, 2.0], color='#000"/><script>')
    assert "<script>" not in svg
    uri = data_uri(svg)
    assert uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).decode() == svg


def test_sparkline_alt_says_first_last_low_and_high_in_the_language():
    values = [80.1, None, 78.0, 86.3, 84.2, None]
    labels = ["nov 2025", "dic 2025", "ene 2026", "feb 2026", "mar 2026", "abr 2026"]
    es = sparkline_alt(values, labels, "%", 1, "es")
    assert es == (
        "Últimos 6 meses: de 80,1\u00a0% (nov 2025) a 84,2\u00a0% (mar 2026); "
        "mínimo 78,0\u00a0%, máximo 86,3\u00a0%."
    )
    en = sparkline_alt(values, labels, "%", 1, "en")
    assert en.startswith("Last 6 months: from 80.1% (nov 2025) to 84.2% (mar 2026)")
    assert sparkline_alt([None], ["x"], "%", 1, "es") == (
        "Sin datos mensuales para la línea de tendencia."
    )


# --- parameters the view could not take ---------------------------------------------------------


def test_ignored_params_names_unknown_codes_and_unreadable_periods(cat):
    q = "?region=XX&periodo=garbage&indicador=INM-03&lang=es"
    f = from_query(q, cat, TODAY)
    assert ignored_params(q, f) == [("region", "XX"), ("periodo", "garbage")]


def test_ignored_params_accepts_defaults_spelt_out_letter_case_and_unknown_keys(cat):
    q = "?periodo=last_12_months&tipo=usf&region=PY-11&utm_source=mail&escala=month"
    assert ignored_params(q, from_query(q, cat, TODAY)) == []


def test_ignored_params_reports_what_the_scope_or_the_tree_refused(cat):
    scoped = Scope.of("PY-1")
    q = "?region=PY-11"
    assert ignored_params(q, from_query(q, cat, TODAY, scoped)) == [("region", "PY-11")]
    # a district of another region is dropped; the region stays
    q = "?region=PY-1&distrito=1101"
    assert ignored_params(q, from_query(q, cat, TODAY)) == [("distrito", "1101")]
    q = "?comparar=" + ",".join(["PY-XX"] * 1000)
    [(key, value)] = ignored_params(q, from_query(q, cat, TODAY))
    assert key == "comparar" and len(value) == 60 and value.endswith("…")
    q = "?lang=fr&periodo=2031"
    assert ignored_params(q, from_query(q, cat, TODAY)) == [("lang", "fr"), ("periodo", "2031")]


def test_page_exists_knows_pages_and_the_catalogues_facilities_within_scope(cat):
    for path in ("/", "/mapa", "/tendencias/", "/desempeno", "/paquete", "/establecimiento/F1"):
        assert page_exists(path, cat), path
    for path in ("/nonexistent", "/establecimiento/NOPE", "/establecimiento", "/mapa/x"):
        assert not page_exists(path, cat), path
    # a district is not a facility; a facility of another region is not found for a director
    assert not page_exists("/establecimiento/0101", cat)
    assert page_exists("/establecimiento/F1", cat, Scope.of("PY-1"))
    assert not page_exists("/establecimiento/F2", cat, Scope.of("PY-1"))


def test_filter_scope_keeps_exactly_the_units_in_scope(cat):
    """filter_scope's id sets give what in_scope says of each unit, for every kind of scope."""
    units = list(cat.units.values())
    scopes = [
        Scope.national(),
        Scope(frozenset({"PY"}), max_level=2),
        Scope.of("PY-1"),
        Scope.of("PY-1", "PY-11"),
        Scope(frozenset({"PY-11"}), max_level=2),
        Scope.of("0101"),
        Scope.of("F2"),
        Scope.of("NOPE"),
    ]
    for scope in scopes:
        kept = cat.filter_scope(units, scope)
        assert kept == [u for u in units if cat.in_scope(u, scope)], scope
        assert cat.filter_scope(units, scope) == kept  # the second call, from the kept ids
    assert {u.code for u in cat.filter_scope(units, Scope.of("PY-1")) if u.level == 3} == {"F1"}
    assert cat.filter_scope(units, Scope.of("NOPE")) == []
    assert len(cat.filter_scope(units, Scope.national())) == len(units) == 18 + 263 + 1 + 2


def test_tab_titles_name_page_unit_and_product_in_the_language(cat):
    f = from_query("?region=PY-1", cat, TODAY)
    assert page_title(cat, f, "mapa") == "Mapa · Concepción · Tablero de desempeño"
    en = from_query("?region=PY-1&lang=en", cat, TODAY)
    assert page_title(cat, en, "mapa") == "Map · Concepción · Performance dashboard"
    assert page_title(cat, from_query("", cat, TODAY), "resumen") == (
        "Resumen · Paraguay · Tablero de desempeño"
    )
    assert page_title(cat, f, "establecimiento", "F1") == (
        "Establecimiento F1 · Establecimiento · Tablero de desempeño"
    )
    assert page_title(cat, f, "not_found") == "Página no encontrada · Tablero de desempeño"
    assert tab_title("en") == "Performance dashboard"


def test_kpi_cards_keep_their_places_when_one_is_chosen(cat):
    from dashboard.filters import Filters
    from dashboard.views import KEY_INDICATORS, kpi_codes

    assert kpi_codes(Filters(indicator="MNI-04"), cat) == list(KEY_INDICATORS)
    other = next(c for c in cat.indicators if c not in KEY_INDICATORS)
    assert kpi_codes(Filters(indicator=other), cat) == [other, *KEY_INDICATORS[:-1]]


def test_find_indicator_reads_codes_and_names_only_when_one_matches(cat):
    from dashboard.filters import find_indicator

    assert find_indicator("mni-05", cat) == "MNI-05"
    assert find_indicator("  INM-03 ", cat) == "INM-03"
    assert find_indicator("Cobertura Pentavalente 3 · INM-03", cat) == "INM-03"
    assert find_indicator("captacion precoz", cat) == "MNI-05"  # accents and case ignored
    assert find_indicator("early antenatal", cat) == "MNI-05"  # English names too
    assert find_indicator("cobertura", cat) is None  # several indicators: ask for more
    assert find_indicator("zzz", cat) is None
    assert find_indicator("", cat) is None and find_indicator(None, cat) is None
