"""The URL codec: every view is a link; bad input falls back to defaults; scope applies."""

from datetime import date

import pytest
from helpers import add_facilities

from dashboard.catalog import Scope
from dashboard.filters import (
    DEFAULT_PERIOD,
    Filters,
    clamp_period,
    from_query,
    href,
    parse_query,
    path_page,
    unit_href,
)

TODAY = date(2026, 11, 29)


@pytest.fixture
def cat(repo):
    return repo.catalog()


def test_filters_round_trip_through_the_url(cat):
    f = Filters(
        lang="en",
        region="PY-11",
        district="1101",
        ftype="USF",
        indicator="INM-04",  # an indicator of the area (from_query makes them agree)
        period="2025Q3",
        grain="quarter",
        compare=("PY-1", "PY-ASU"),
        view="tiles",
        points=False,
        sort="-INM-03",
        domain="INM",
        page=2,
    )
    q = f.to_query()
    assert q.startswith("?") and "region=PY-11" in q and "tipo=USF" in q
    assert from_query(q, cat, TODAY) == f


def test_filters_defaults_make_an_empty_query(cat):
    assert Filters().to_query() == ""
    assert from_query("", cat, TODAY) == Filters()
    assert from_query(None, cat, TODAY) == Filters()


@pytest.mark.parametrize(
    "query",
    [
        "?region=XX&distrito=9999&tipo=ZZ&indicador=NOPE&periodo=2024Q9&escala=week&vista=3d&lang=fr&dominio=ZZ",
        "?region=&periodo=&&&=",
        "?periodo=<script>alert(1)</script>",
        "?region=0101",  # a district code given as region
        "%%%",
    ],
)
def test_filters_malformed_input_falls_back_to_defaults(cat, query):
    f = from_query(query, cat, TODAY)
    assert f.region is None and f.district is None and f.ftype is None
    assert f.indicator == "INM-03" and f.period == DEFAULT_PERIOD and f.lang == "es"
    assert f.grain == "month" and f.view == "map" and f.domain is None


def test_filters_district_implies_its_region_and_must_belong_to_it(cat):
    assert from_query("?distrito=1101", cat, TODAY).region == "PY-11"
    f = from_query("?region=PY-1&distrito=1101", cat, TODAY)
    assert (f.region, f.district) == ("PY-1", None)


def test_filters_period_is_clamped_to_the_last_complete_month(cat):
    assert from_query("?periodo=2026", cat, TODAY).period == "202601:202610"
    assert from_query("?periodo=202612", cat, TODAY).period == DEFAULT_PERIOD
    assert from_query("?periodo=last_3_months", cat, TODAY).period == "LAST_3_MONTHS"
    assert clamp_period("2026Q4", TODAY) == "202610"
    assert clamp_period("2024Q3", TODAY) == "2024Q3"


def test_filters_scope_drops_regions_outside_it_and_starts_at_the_own_region(cat):
    scope = Scope.of("PY-1")
    assert from_query("?region=PY-2", cat, TODAY, scope).region == "PY-1"
    assert from_query("", cat, TODAY, scope).region == "PY-1"
    assert from_query("?comparar=PY-1,PY-2", cat, TODAY, scope).compare == ("PY-1",)


def test_filters_compare_deduplicates_and_caps(cat):
    f = from_query("?comparar=PY-1,PY-1,PY-2,XX,PY-3,PY-4,PY-5,PY-6,PY-7,PY-8", cat, TODAY)
    assert f.compare == ("PY-1", "PY-2", "PY-3", "PY-4", "PY-5", "PY-6")


def test_parse_query_keeps_first_value():
    assert parse_query("?a=1&a=2&b=%20x%20") == {"a": "1", "b": "x"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", ("resumen", None)),
        ("", ("resumen", None)),
        ("/mapa", ("mapa", None)),
        ("/mapa/", ("mapa", None)),
        ("/tendencias", ("tendencias", None)),
        ("/desempeno", ("desempeno", None)),
        ("/establecimiento/E010001", ("establecimiento", "E010001")),
        ("/establecimiento", ("not_found", None)),
        ("/admin", ("not_found", None)),
        ("/mapa/x/y", ("not_found", None)),
    ],
)
def test_path_page(path, expected):
    assert path_page(path) == expected


def test_href_keeps_every_filter():
    f = Filters(region="PY-1", lang="en")
    assert href("mapa", f) == "/mapa?lang=en&region=PY-1"
    assert href("establecimiento", f, facility="E1") == "/establecimiento/E1?lang=en&region=PY-1"


def test_filters_facility_points_default_follows_the_level(cat):
    assert from_query("", cat, TODAY).show_points() is False
    assert from_query("?region=PY-1", cat, TODAY).show_points() is True
    assert from_query("?puntos=1", cat, TODAY).show_points() is True
    assert from_query("?region=PY-1&puntos=0", cat, TODAY).show_points() is False
    assert Filters(points=True).to_query() == "?puntos=1"


def test_filters_focus_is_the_one_drill_rule(repo):
    add_facilities(repo, [("F1", "USF", "1101")])
    cat = repo.catalog()
    f = Filters(region="PY-1", district="0101", sort="-INM-03", indicator="MNI-05")
    assert f.focus(cat.unit("PY"), cat) == f.with_(region=None, district=None)
    assert f.focus(cat.unit("PY-11"), cat) == f.with_(region="PY-11", district=None)
    # A district carries its own region, whatever the region shown before.
    assert f.focus(cat.unit("1101"), cat) == f.with_(region="PY-11", district="1101")
    assert f.focus(cat.unit("F1"), cat) == f.with_(region="PY-11", district="1101")


def test_unit_href_opens_a_facility_and_narrows_to_an_area(repo):
    add_facilities(repo, [("F1", "USF", "1101")])
    cat = repo.catalog()
    f = Filters(region="PY-11", sort="-INM-03")
    assert unit_href("desempeno", f, cat.unit("F1"), cat) == href("establecimiento", f, "F1")
    assert unit_href("desempeno", f, cat.unit("1101"), cat, sort=None) == href(
        "desempeno", Filters(region="PY-11", district="1101")
    )
    assert unit_href("mapa", f, cat.unit("PY"), cat) == "/mapa?orden=-INM-03"


def test_filters_facility_sets_its_district_and_region_and_obeys_the_scope(repo):
    add_facilities(repo, [("F1", "USF", "1101"), ("F2", "USF", "0101")])
    cat = repo.catalog()
    f = from_query("?establecimiento=F1", cat, TODAY)
    assert (f.facility, f.district, f.region) == ("F1", "1101", "PY-11")
    assert f.to_query() == "?region=PY-11&distrito=1101&establecimiento=F1"
    # Another district chosen since (the shell's district select): the facility no longer applies.
    assert from_query("?region=PY-11&distrito=1102&establecimiento=F1", cat, TODAY).facility is None
    assert from_query("?region=PY-11&establecimiento=F1", cat, TODAY).facility is None
    # Outside the account's scope the facility is refused, and the user stays in her region.
    scoped = from_query("?establecimiento=F1", cat, TODAY, Scope.of("PY-1"))
    assert (scoped.facility, scoped.region) == (None, "PY-1")
    own = from_query("?establecimiento=F2", cat, TODAY, Scope.of("PY-1"))
    assert (own.facility, own.district) == ("F2", "0101")
    # Drilling to any unit leaves the facility.
    assert f.focus(cat.unit("PY-11"), cat).facility is None
