"""Page data on the demo store: the numbers pages and PDFs show equal the query functions'."""

import io

import pandas as pd
import pytest
from helpers import TODAY

from dashboard import exports
from dashboard.aggregate import query
from dashboard.catalog import Scope
from dashboard.filters import Filters
from dashboard.periods import parse_period
from dashboard.views import (
    Context,
    facility_profile,
    map_data,
    overview,
    scorecard,
    small_numbers,
    trend_span,
    trends,
)


@pytest.fixture(scope="module")
def ctx(demo):
    return Context(repo=demo[0], scope=Scope.national(), today=TODAY)


def _query_value(ctx, ind, unit, period, **kw):
    cat = ctx.cat
    [r] = query(
        ctx.repo, ctx.scope, cat.indicators[ind], cat.unit(unit), parse_period(period, TODAY), **kw
    )
    return r.value


def test_overview_cards_equal_the_query(ctx):
    ov = overview(ctx, Filters(region="PY-11", period="2025Q3"))
    assert ov.cards.indicator.iloc[0] == "INM-03" and len(ov.cards) == 8
    row = ov.cards.set_index("indicator").loc["INM-03"]
    assert row.value == pytest.approx(_query_value(ctx, "INM-03", "PY-11", "2025Q3"))
    assert row.prev_value == pytest.approx(_query_value(ctx, "INM-03", "PY-11", "2025Q2"))
    assert row.ly_value == pytest.approx(_query_value(ctx, "INM-03", "PY-11", "2024Q3"))
    assert len(ov.sparks[ov.sparks.indicator == "INM-03"]) == 12


def test_overview_attention_lists_worst_first_and_only_below_target(ctx):
    ov = overview(ctx, Filters(period="2025"))
    values = ov.attention["value"].tolist()
    assert values == sorted(values)  # coverage: lowest first
    assert set(ov.attention.status) <= {"not_met", "near"}
    assert ov.attention_level == 1


def test_scorecard_rows_are_the_region_districts_with_every_domain_indicator(ctx):
    sc = scorecard(ctx, Filters(region="PY-1", period="2025Q3", indicator="INM-03"))
    cat = ctx.cat
    assert sc.row_level == 2
    assert set(sc.rows.org_unit) == {u.code for u in cat.descendants(cat.unit("PY-1"), 2)}
    assert [i.code for i in sc.indicators] == ["INM-01", "INM-02", "INM-03", "INM-04"]
    row = sc.rows.set_index("org_unit").loc["0101"]
    assert row["INM-03|value"] == pytest.approx(_query_value(ctx, "INM-03", "0101", "2025Q3"))
    ranks = sc.rows["rank"].dropna()
    assert ranks.min() == 1


def test_scorecard_sorts_by_a_column_both_ways(ctx):
    asc = scorecard(ctx, Filters(period="2025", sort="INM-01"))
    desc = scorecard(ctx, Filters(period="2025", sort="-INM-01"))
    v = asc.rows["INM-01|value"].tolist()
    assert v == sorted(v)
    assert desc.rows["INM-01|value"].tolist() == sorted(v, reverse=True)


def test_scorecard_with_type_filter_lists_facilities(ctx):
    sc = scorecard(ctx, Filters(region="PY-16", ftype="USF", period="2025"))
    assert sc.row_level == 3 and set(sc.rows.facility_type) == {"USF"}


def test_trends_series_and_span(ctx):
    tr = trends(ctx, Filters(region="PY-15", compare=("PY-19",), period="2025", grain="quarter"))
    assert set(tr.series.role) == {"selected", "national", "compare"}
    # By quarter a trend shows the last 8 whole quarters up to the period's end (2024Q1-2025Q4).
    assert len(tr.series[tr.series.role == "selected"]) == 8
    q3 = tr.series[(tr.series.org_unit == "PY-15") & (tr.series.period == "2025Q3")].value.iloc[0]
    assert q3 == pytest.approx(_query_value(ctx, "INM-03", "PY-15", "2025Q3"))
    assert trend_span(parse_period("202510", TODAY), "month").n_months == 24


def test_map_data_areas_and_points(ctx):
    md = map_data(ctx, Filters(period="2025", points=True))
    assert md.area_level == 1 and len(md.areas) == 18
    assert md.points.latitude.notna().all() and len(md.points) > 1000
    region = map_data(ctx, Filters(region="PY-16", period="2025"))
    assert region.area_level == 2 and len(region.areas) == 4
    assert len(region.points) > 0  # inside a region the facility layer is on by default
    assert map_data(ctx, Filters(period="2025")).points.empty  # nationally it is off
    assert [u.code for u in region.breadcrumb] == ["PY", "PY-16"]


def test_facility_profile_identity_peers_and_reporting(ctx):
    cat = ctx.cat
    hr = next(u for u in cat.level_units(3) if u.facility_type == "HR")
    fp = facility_profile(ctx, Filters(period="2025"), hr.code)
    assert fp.unit.code == hr.code and fp.region.level == 1
    assert "HOS-01" in {i.code for i in fp.indicators} and "MNI-05" not in {
        i.code for i in fp.indicators
    }
    assert len(fp.reporting) == 24
    peer = fp.peers[(fp.peers.org_unit == "PY") & (fp.peers.indicator == "HOS-01")].value.iloc[0]
    assert peer == pytest.approx(_query_value(ctx, "HOS-01", "PY", "2025", ftypes=("HR",)))
    last = fp.reporting.sort_values("period").iloc[-1]
    on_time = query(
        ctx.repo, ctx.scope, cat.indicators["DQ-02"], hr, parse_period(str(last.period), TODAY)
    )[0]
    assert last.on_time == (on_time.numerator or 0)
    # A hospital reports no antenatal visits: listed as silent, not shown as an empty row.
    assert "MNI-04" in {i.code for i in fp.silent} and "HOS-01" in {i.code for i in fp.shown}
    assert facility_profile(ctx, Filters(), "NOPE") is None
    assert facility_profile(ctx, Filters(), hr.code.replace("E", "X")) is None


def test_facility_profile_respects_scope(demo):
    cat = demo[0].catalog()
    outside = next(u for u in cat.level_units(3) if cat.units[u.region_id].code != "PY-1")
    ctx = Context(repo=demo[0], scope=Scope.of("PY-1"), today=TODAY)
    assert facility_profile(ctx, Filters(), outside.code) is None


def test_scorecard_export_equals_the_table_and_neutralises_formulas(ctx):
    sc = scorecard(ctx, Filters(region="PY-1", period="2025Q3"))
    frame = exports.scorecard_frame(sc, ctx.cat, "es")
    assert list(frame.iloc[:, 1]) == list(sc.rows.org_unit)
    header = [("Región", '=HYPERLINK("x")'), ("Fuente", "demo")]
    csv = exports.to_csv(frame, header, "es").decode("utf-8-sig")
    assert "'=HYPERLINK" in csv and ";" in csv.splitlines()[0]
    back = pd.read_csv(
        io.StringIO(csv), sep=";", decimal=",", skiprows=len(header) + 1, dtype={1: str}
    )
    col = [c for c in back.columns if c.startswith("INM-03 ") and "%" in c][0]
    assert back[col].tolist() == pytest.approx(frame[col].tolist(), nan_ok=True)
    xlsx = exports.to_xlsx_sheets({"Desempeño": frame}, header)
    data = pd.read_excel(io.BytesIO(xlsx), sheet_name=0, dtype={"Código": str})
    assert data[col].tolist() == pytest.approx(frame[col].tolist(), nan_ok=True)
    info = pd.read_excel(io.BytesIO(xlsx), sheet_name="info", header=None)
    assert info.iloc[0, 1].startswith("'=")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+5", "'+5"),
        ("-x", "'-x"),
        ("@a", "'@a"),
        ("\tx", "'\tx"),
        ("ok", "ok"),
        (-5, -5),
        (3.5, 3.5),
    ],
)
def test_neutralise_formula_cells(value, expected):
    assert exports.neutralise(value) == expected


def test_small_numbers_marks_few_events_and_never_a_missing_value():
    frame = pd.DataFrame(
        {
            "numerator": [3.0, 0.0, 40.0, 40.0, None, 2.0],
            "denominator": [100.0, 100.0, 4.0, 100.0, None, 0.0],
            "value": [3.0, 0.0, 1000.0, 40.0, None, None],
        }
    )
    assert small_numbers(frame, 5).tolist() == [True, False, True, False, False, False]


def test_views_carry_the_small_numbers_caution(ctx):
    ov = overview(ctx, Filters(region="PY-16", period="202401"))
    assert ov.cards["small"].dtype == bool
    assert ov.cards["small"].tolist() == small_numbers(ov.cards, ctx.small_count).tolist()


def test_map_data_in_a_district_lists_its_facilities_and_hides_the_country_from_a_region(demo):
    national = Context(repo=demo[0], scope=Scope.national(), today=TODAY)
    cat = national.cat
    md = map_data(national, Filters(region="PY-1", district="0114", period="2025"))
    inside = {u.code for u in cat.descendants(cat.unit("0114"), 3)}
    assert md.rows_level == 3 and set(md.rows.org_unit) == inside and inside
    assert md.rows.latitude.notna().all()  # what frames the map on the district
    # The facility list stays when the point layer is switched off.
    off = map_data(national, Filters(region="PY-1", district="0114", points=False))
    assert off.points.empty and set(off.rows.org_unit) == inside
    assert map_data(national, Filters(region="PY-1")).rows_level == 2
    regional = Context(repo=demo[0], scope=Scope.of("PY-1"), today=TODAY)
    crumbs = map_data(regional, Filters(region="PY-1", district="0114")).breadcrumb
    assert [u.code for u in crumbs] == ["PY-1", "0114"]


def test_trends_by_quarter_use_whole_quarters_and_follow_a_facility_in_scope(demo):
    ctx = Context(repo=demo[0], scope=Scope.national(), today=TODAY)
    tr = trends(ctx, Filters(region="PY-1", grain="quarter"))
    assert [b.id for b in tr.buckets][:2] == ["2024Q4", "2025Q1"] and len(tr.buckets) == 9
    assert tr.partial is not None and tr.partial.id == "202610"
    q = tr.series[(tr.series.role == "selected") & (tr.series.period == "2025Q3")].value.iloc[0]
    assert q == pytest.approx(_query_value(ctx, "INM-03", "PY-1", "2025Q3"))
    cat = ctx.cat
    fac = next(u for u in cat.descendants(cat.unit("0114"), 3))
    ft = trends(ctx, Filters(region="PY-1", district="0114", facility=fac.code))
    assert ft.unit.code == fac.code
    assert dict(zip(ft.series.org_unit, ft.series.role, strict=True)) == {
        fac.code: "selected",
        "PY-1": "region",
        "PY": "national",
    }
    other = next(u for u in cat.level_units(3) if cat.units[u.region_id].code != "PY-1")
    scoped = Context(repo=demo[0], scope=Scope.of("PY-1"), today=TODAY)
    refused = trends(scoped, Filters(region="PY-1", facility=other.code))
    assert refused.unit.code == "PY-1"  # a facility outside the scope is never read


def test_facility_profile_charts_read_region_and_peers_and_say_when_it_is_alone(ctx):
    from layouts.facility import indicator_trend, indicators_table, only_of_type

    cat = ctx.cat
    fp = facility_profile(ctx, Filters(period="2025"), "E010035")  # USF Itacuá 1, Concepción
    usf = [u for u in cat.descendants(cat.unit("PY-1"), 3) if u.facility_type == "USF"]
    assert fp.n_peers == len(usf) - 1 > 0
    reg = fp.region_history.set_index(["indicator", "period"])["value"]
    peer = fp.peer_history.set_index(["indicator", "period"])["value"]
    assert reg[("INM-03", "202512")] == pytest.approx(_query_value(ctx, "INM-03", "PY-1", "202512"))
    assert peer[("INM-03", "202512")] == pytest.approx(
        _query_value(ctx, "INM-03", "PY-1", "202512", ftypes=("USF",))
    )
    fig = indicator_trend(fp, cat.indicators["INM-03"], "es", cat)
    lines = [d for d in fig["data"] if d.get("showlegend") is not False and d["y"] != [None]]
    assert [d["name"] for d in lines][:3] == [
        "USF Itacuá 1",
        "Concepción",
        "Unidad de Salud de la Familia de Concepción",
    ]
    assert len(lines[0]["x"]) == 24 and fig["layout"]["separators"] == ",."
    low, high = fig["layout"]["yaxis"]["range"]
    assert low <= cat.target_for(cat.indicators["INM-03"], fp.unit, 2025).target <= high
    # The only hospital of its kind in its region: no peer line, and the page says why.
    hr = next(u for u in cat.level_units(3) if u.facility_type == "HR")
    alone = facility_profile(ctx, Filters(period="2025"), hr.code)
    assert alone.n_peers == 0 and alone.peer_history.empty
    names = {d["name"] for d in indicator_trend(alone, alone.shown[0], "es", cat)["data"]}
    assert alone.region.name in names and not any(" de " + alone.region.name in n for n in names)
    assert only_of_type(alone, "es") in str(indicators_table(alone, "es"))
