"""SDG 3 progress against hand-computed answers: log-linear trend, 2030 projection, rate needed."""

import math

import pytest
from helpers import TODAY, add_facilities, put_values

from dashboard.catalog import Scope, SdgTarget
from dashboard.importers.metadata import parse_sdg_target
from dashboard.reference import DATA, _rows
from dashboard.sdg import (
    classify,
    fit_log_linear,
    last_complete_year,
    required_change,
    sdg_progress,
    sdg_row,
    window,
)
from dashboard.views import Context


def test_sdg_fit_exact_geometric_series():
    # 100, 90, 81: -10 % a year exactly; 2030 is 9 years after 2021: 100 × 0.9^9 = 38.742.
    fit = fit_log_linear([2021, 2022, 2023], [100.0, 90.0, 81.0])
    assert fit is not None
    assert fit.annual_change == pytest.approx(-10.0)
    assert fit.at(2030) == pytest.approx(100 * 0.9**9)
    assert fit.resid_sd == pytest.approx(0.0, abs=1e-12)
    low, high = fit.band(2030)
    assert low == pytest.approx(high)


def test_sdg_fit_band_is_80pct_prediction_interval():
    # ln values 0, 1, 1 at x = 0, 1, 2 (years 2020-2022): slope 0.5, mean 2/3 at x̄ = 1,
    # residuals -1/6, 1/3, -1/6 -> SSE 1/6, s = sqrt(1/6); at x = 10 (2030):
    # se = s × sqrt(1 + 1/3 + 81/2); centre 2/3 + 0.5 × 9 = 5.1667; t(0.90, 1 df) = 3.078.
    fit = fit_log_linear([2020, 2021, 2022], [1.0, math.e, math.e])
    assert fit is not None
    centre = 2 / 3 + 0.5 * 9
    se = math.sqrt(1 / 6) * math.sqrt(1 + 1 / 3 + 81 / 2)
    low, high = fit.band(2030)
    assert math.log(low) == pytest.approx(centre - 3.078 * se)
    assert math.log(high) == pytest.approx(centre + 3.078 * se)
    assert fit.at(2030) == pytest.approx(math.exp(centre))


def test_sdg_fit_ignores_zero_and_needs_two_points():
    assert fit_log_linear([2021, 2022], [0.0, 5.0]) is None
    fit = fit_log_linear([2021, 2022, 2023], [0.0, 5.0, 10.0])
    assert fit is not None and fit.n == 2 and fit.annual_change == pytest.approx(100.0)


def test_sdg_required_change():
    # 80 % in 2025 to 90 % in 2030: (90/80)^(1/5) - 1 = exp(ln(1.125)/5) - 1 = 2.3836 % a year.
    assert required_change(80.0, 2025, 90.0) == pytest.approx(((90 / 80) ** 0.2 - 1) * 100)
    assert required_change(80.0, 2025, 90.0) == pytest.approx(2.3836, abs=1e-4)
    # 100 per 100,000 to 70: (0.7)^(1/5) - 1 = exp(-0.35667/5) - 1 = -6.8850 % a year.
    assert required_change(100.0, 2025, 70.0) == pytest.approx(-6.8850, abs=1e-3)


@pytest.mark.parametrize(
    ("current", "projected", "target", "direction", "years", "status"),
    [
        (60.0, 50.0, 70.0, "down", 5, "achieved"),
        (80.0, 65.0, 70.0, "down", 5, "on_track"),
        (80.0, 75.0, 70.0, "down", 5, "off_track"),
        (91.0, 80.0, 90.0, "up", 3, "achieved"),
        (85.0, 91.0, 90.0, "up", 3, "on_track"),
        (85.0, 89.0, 90.0, "up", 4, "off_track"),
        (85.0, 95.0, 90.0, "up", 2, "insufficient"),
        (85.0, 95.0, None, "up", 5, "no_target"),
    ],
)
def test_sdg_classify(current, projected, target, direction, years, status):
    assert classify(current, projected, target, direction, years) == status


def test_sdg_window_is_last_five_complete_years():
    from datetime import date

    assert window(TODAY) == [2021, 2022, 2023, 2024, 2025]
    assert last_complete_year(date(2026, 1, 5)) == 2025  # December 2025 is complete
    assert last_complete_year(date(2025, 12, 31)) == 2024


def _yearly(values, completeness=None):
    years = [2021, 2022, 2023, 2024, 2025]
    completeness = completeness or [100.0] * 5
    return {
        y: (float(v), float(c), False) for y, v, c in zip(years, values, completeness, strict=True)
    }


class _U:
    code, name = "PY", "Paraguay"


class _I:
    code = "INM-03"


def test_sdg_row_low_completeness_years_do_not_count():
    sdg = SdgTarget("3.b.1", "up", 90.0)
    row = sdg_row(
        _I(), sdg, _U(), _yearly([70, 72, 74, 76, 78], [50, 60, 95, 70, 95]), window(TODAY), 90
    )
    assert row.usable_years == 2
    assert row.status == "insufficient"
    assert row.projected_2030 is None and row.annual_change is None
    assert row.value == 78 and row.year == 2025


def test_sdg_row_hand_computed_off_track():
    # A clean 2 % a year from 70 in 2021: 70 × 1.02^k.
    vals = [70 * 1.02**k for k in range(5)]
    row = sdg_row(_I(), SdgTarget("3.b.1", "up", 90.0), _U(), _yearly(vals), window(TODAY), 90)
    assert row.annual_change == pytest.approx(2.0)
    assert row.projected_2030 == pytest.approx(70 * 1.02**9)  # 83.66 < 90
    assert row.status == "off_track"
    # needed from 75.77 in 2025: (90 / 75.77)^(1/5) - 1 = 3.502 % a year.
    assert row.required_change == pytest.approx(((90 / vals[-1]) ** 0.2 - 1) * 100)
    assert row.required_change == pytest.approx(3.502, abs=1e-3)


def test_sdg_row_relative_target_from_baseline_year():
    # End TB: -80 % vs the unit's own 2021 value of 50 -> target 10.
    frame = _yearly([50, 40, 32, 25.6, 20.48])
    row = sdg_row(
        _I(), SdgTarget("3.3.2", "down", None, 80.0, 2021), _U(), frame, window(TODAY), 90
    )
    assert row.target_2030 == pytest.approx(10.0)
    assert row.annual_change == pytest.approx(-20.0)
    assert row.projected_2030 == pytest.approx(50 * 0.8**9)  # 6.71 <= 10
    assert row.status == "on_track"
    # a baseline year the store does not hold: no target to measure against
    row = sdg_row(
        _I(), SdgTarget("3.3.2", "down", None, 80.0, 2015), _U(), frame, window(TODAY), 90
    )
    assert row.target_2030 is None and row.status == "no_target"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("<70", {"target_2030": 70.0, "reduction": None, "baseline_year": None}),
        ("<=25", {"target_2030": 25.0, "reduction": None, "baseline_year": None}),
        ("≤ 12", {"target_2030": 12.0, "reduction": None, "baseline_year": None}),
        ("90", {"target_2030": 90.0, "reduction": None, "baseline_year": None}),
        ("-80% vs 2015", {"target_2030": None, "reduction": 80.0, "baseline_year": 2015}),
        ("", {"target_2030": None, "reduction": None, "baseline_year": None}),
        ("noventa", None),
        ("-120% vs 2015", None),
    ],
)
def test_sdg_target_text(text, parsed):
    assert parse_sdg_target(text) == parsed


def test_sdg_default_file_reads_and_names_catalogue_indicators():
    from dashboard.reference import indicator_rows

    codes = {r["code"] for r in indicator_rows()}
    rows = _rows("sdg3_targets.csv")
    assert (DATA / "sdg3_targets.csv").exists() and len(rows) == 7
    for r in rows:
        assert r["indicator"] in codes
        assert parse_sdg_target(r["target_2030"]) is not None
        assert r["source"]


@pytest.fixture
def births(repo):
    """MNI-06 (skilled birth attendance) in two regions: C1 in Concepción grows 10 % a year
    from 50 %, C2 in San Pedro holds 99 %; every month of 2021-2025 reported (complete years)."""
    add_facilities(repo, [("C1", "CS", "0101"), ("C2", "CS", "0201")])
    rows = []
    for k, y in enumerate(range(2021, 2026)):
        for m in range(1, 13):
            month = y * 100 + m
            rows += [("C1", "PARTOS", month, 100), ("C1", "PARTOS_CALIF", month, 50 * 1.1**k)]
            rows += [("C2", "PARTOS", month, 100), ("C2", "PARTOS_CALIF", month, 99)]
    put_values(repo, rows, expect=(202101, 202512))
    ind = repo.catalog().indicators["MNI-06"]
    repo.upsert_sdg(
        [
            {
                "indicator_id": ind.id,
                "sdg": "3.1.2",
                "direction": "up",
                "target_2030": 98.0,
                "reduction": None,
                "baseline_year": None,
                "source": "test",
            }
        ]
    )
    return repo


def test_sdg_progress_ratio_of_sums_by_region(births):
    cat = births.catalog()
    ctx = Context(births, Scope.national(), TODAY)
    rows = {
        r.org_unit: r
        for r in sdg_progress(ctx, cat.country(), by="region", codes=["MNI-06"])
        if r.usable_years
    }
    assert set(rows) == {"PY", "PY-1", "PY-2"}
    c1 = rows["PY-1"]
    assert c1.value == pytest.approx(50 * 1.1**4)
    assert c1.annual_change == pytest.approx(10.0)
    assert c1.status == "on_track"  # 73.2 % now, 117.9 % projected: the trend reaches 98 %
    assert rows["PY-2"].status == "achieved"
    # national 2021: (600 + 1188) / 2400 = 74.5 %; 2025: (878.46 + 1188) / 2400 = 86.1025 %
    nat = rows["PY"]
    assert nat.series[0][1] == pytest.approx(74.5)
    assert nat.value == pytest.approx(86.1025)
    assert nat.sdg == "3.1.2" and nat.target_2030 == 98.0


def test_sdg_progress_of_a_unit_alone_is_its_rows_with_its_children(births):
    # The briefing asks for a unit alone; /ods asks for it with its children. Whichever came
    # first, the unit's rows are the same (each unit's rows come from its own sums).
    for unit_code in ("PY", "PY-1"):
        fresh = Context(births, Scope.national(), TODAY)
        alone = sdg_progress(fresh, fresh.cat.unit(unit_code))
        assert alone and {r.org_unit for r in alone} == {unit_code}
        ctx = Context(births, Scope.national(), TODAY)
        unit = ctx.cat.unit(unit_code)
        wide = sdg_progress(ctx, unit, by="region" if unit.level == 0 else "district")
        assert len(wide) > len(alone)
        assert sdg_progress(ctx, unit) == [r for r in wide if r.org_unit == unit_code] == alone


def test_sdg_progress_regional_scope_sees_only_her_region(births):
    cat = births.catalog()
    ctx = Context(births, Scope.of("PY-2"), TODAY)
    rows = sdg_progress(ctx, cat.unit("PY-2"), by="district", codes=["MNI-06"])
    assert rows and {r.org_unit for r in rows} <= {
        "PY-2",
        *(u.code for u in cat.descendants(cat.unit("PY-2"), 2)),
    }
    # asking for the country from a regional scope gives nothing outside it
    assert all(r.org_unit != "PY-1" for r in sdg_progress(ctx, cat.country(), by="region"))


def test_sdg_command_rows_equal_the_page_functions(births, capsys, monkeypatch):
    import csv
    import io
    import json

    from web_helpers import url_of

    from dashboard.__main__ import main

    monkeypatch.setenv("DASHBOARD_DATABASE_URL", url_of(births))
    monkeypatch.setenv("DASHBOARD_TODAY", TODAY.isoformat())
    assert main(["sdg", "--org-unit", "PY", "--by", "region", "--format", "json"]) == 0
    rows = {(r["indicator"], r["org_unit"]): r for r in json.loads(capsys.readouterr().out)}
    c1 = rows[("MNI-06", "PY-1")]
    assert c1["annual_change"] == pytest.approx(10.0)
    assert c1["value"] == pytest.approx(50 * 1.1**4) and c1["year"] == 2025
    assert c1["status"] == "on_track" and c1["target_2030"] == 98.0
    assert main(["sdg", "--org-unit", "PY-2", "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(table[0]) == [
        "indicator",
        "sdg",
        "org_unit",
        "value",
        "year",
        "annual_change",
        "projected_2030",
        "target_2030",
        "required_change",
        "status",
    ]
    assert {r["org_unit"] for r in table} == {"PY-2"}
    assert next(r for r in table if r["indicator"] == "MNI-06")["status"] == "achieved"
    # scoped: a region outside the caller's scope is not found
    assert main(["sdg", "--org-unit", "PY-1", "--scope", "PY-2"]) == 2


def test_sdg_page_export_and_figure(births):
    from dashboard import exports
    from dashboard.filters import Filters
    from dashboard.sdg import sdg_view
    from layouts import ods

    ctx = Context(births, Scope.national(), TODAY)
    view = sdg_view(ctx, ctx.cat.country(), "MNI-06")
    assert view.indicator.code == "MNI-06" and view.child_level == 1
    assert [r.org_unit for r in view.by_unit][:1] == ["PY"]
    fig = ods.figure(view, "es")
    names = [tr["name"] for tr in fig["data"]]
    assert names[0] == "Observado" and "Banda de predicción del 80 %" in names
    assert any(n.startswith("Meta 2030: 98,0\u00a0%") for n in names)
    # the projection line ends in 2030 at the table's projected value
    line = next(tr for tr in fig["data"] if tr["name"] == "Tendencia y proyección a 2030")
    nat = view.by_unit[0]
    assert line["x"][-1] == 2030 and line["y"][-1] == pytest.approx(nat.projected_2030)
    frame = exports.page_tables(ctx, "ods", Filters(indicator="MNI-06"))["sdg"]
    row = frame[(frame["Código"] == "MNI-06") & (frame["Código de unidad"] == "PY-1")].iloc[0]
    assert row["Valor actual"] == round(50 * 1.1**4, 1)
    assert row["Estado"] == "En camino"
    assert exports.page_title("ods", "en") == "SDG 3"


def test_sdg_csv_route_is_scoped(births, tmp_path):
    from web_helpers import make_app, signed_in, url_of

    url = url_of(births)
    app = make_app(url, tmp_path)
    r = signed_in(app, url).get("/exportar.csv?pagina=ods&indicador=MNI-06")
    assert r.status_code == 200
    text = r.data.decode("utf-8-sig")
    assert "ODS 3" in text and "Código de unidad" in text
    assert "PY-1;" in text and "PY-2;" in text
    director = signed_in(app, url, role="regional", region="PY-2")
    text = director.get("/exportar.csv?pagina=ods&region=PY-1").data.decode("utf-8-sig")
    assert "PY-2;" in text and "PY-1;" not in text and "Concepción" not in text
    r = director.get("/exportar.xlsx?pagina=ods&lang=en")
    assert r.status_code == 200 and r.data[:2] == b"PK"


def test_sdg_row_small_number_years_do_not_count():
    # A region with 2, 1, 3 maternal deaths a year: each year rests on small numbers.
    values = [50.0, 80.0, 120.0, 60.0, 55.0]
    yearly = {y: (v, 100.0, y < 2024) for y, v in zip(window(TODAY), values, strict=True)}
    row = sdg_row(_I(), SdgTarget("3.1.1", "down", 70.0), _U(), yearly, window(TODAY), 90)
    assert row.usable_years == 2 and row.status == "insufficient"


def test_sdg_page_gives_every_indicator_shown_its_definition(births):
    """Point 9: the (i) on each SDG indicator row and beside the chosen indicator's heading."""
    from dashboard.filters import Filters
    from dashboard.sdg import sdg_view
    from layouts import ods

    ctx = Context(births, Scope.national(), TODAY)
    view = sdg_view(ctx, ctx.cat.country(), "MNI-06")
    f = Filters(indicator="MNI-06", lang="en")

    def infos(node) -> list[str]:
        """The (i)s in a tree: each one's visible label ('Definition of …')."""
        found = []
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, list | tuple):
                stack.extend(n)
            elif isinstance(n, dict) and "props" in n:  # wire form (layouts.wire)
                props = n["props"]
                if n["type"] == "Details" and "ind-info" in (props.get("className") or ""):
                    found.append(props["children"][0]["props"]["title"])
                stack.append(props.get("children"))
            elif hasattr(n, "to_plotly_json"):
                stack.append(getattr(n, "children", None))
        return found

    summary = infos(ods.summary(view, ctx.cat, f, "en"))
    names = [ctx.cat.indicators[r.indicator].name("en") for r in view.overview]
    assert sorted(summary) == sorted(f"Definition of “{n}”" for n in names)
    assert infos(ods.units_table(view, ctx.cat, f, "en")) == [
        f"Definition of “{view.indicator.name('en')}”"
    ]
