"""Equidad: spread, index of disparity, groups and access against hand-computed answers."""

import numpy as np
import pandas as pd
import pytest
from helpers import TODAY, add_facilities, put_population, put_values

from dashboard.catalog import OrgUnit, Scope
from dashboard.equity import (
    AccessNorm,
    access_frame,
    change,
    equity,
    group_frame,
    quintiles,
    region_groups,
    spread,
    usf_needed,
)
from dashboard.filters import from_query
from dashboard.views import Context


def units(rows):
    """rows: (code, numerator, denominator) -> the frame evaluate_frame gives (factor 100)."""
    f = pd.DataFrame(rows, columns=["org_unit", "numerator", "denominator"])
    f["value"] = np.where(f.denominator > 0, f.numerator / f.denominator * 100, np.nan)
    return f


ABC = units([("A", 80, 100), ("B", 120, 200), ("C", 10, 100)])


def test_spread_is_ratio_of_sums_with_index_of_disparity_and_variance():
    s = spread(ABC, 100, "up")
    # Σnum / Σden = 210 / 400 = 52.5 %, not the mean of the rates (80 + 60 + 10) / 3 = 50 %.
    assert s.mean == pytest.approx(52.5)
    assert (s.best, s.worst, s.best_value, s.worst_value) == ("A", "C", 80.0, 10.0)
    assert s.gap == pytest.approx(70.0)
    assert s.ratio == pytest.approx(8.0)
    # ID = 100 × mean(|80-52.5|, |60-52.5|, |10-52.5|) / 52.5 = 100 × 25.8333 / 52.5
    assert s.disparity_index == pytest.approx(49.2063, abs=1e-4)
    # BGV = .25 × 27.5² + .5 × 7.5² + .25 × 42.5² = 189.0625 + 28.125 + 451.5625
    assert s.between_variance == pytest.approx(668.75)
    assert s.n == 3 and s.excluded_small == 0


def test_spread_lower_is_better_swaps_best_and_worst():
    s = spread(ABC, 100, "down")
    assert (s.best, s.worst) == ("C", "A")
    assert s.gap == pytest.approx(70.0)


def test_spread_band_judges_distance_from_the_band():
    s = spread(ABC, 100, "band", band=(55, 65))
    assert s.best == "B"  # 60 is inside the band
    assert s.worst == "C"  # 45 below it; A is 15 above


def test_spread_keeps_small_numbers_in_the_sums_but_never_names_them():
    small = pd.Series([False, False, True], index=ABC.index)
    s = spread(ABC, 100, "up", small=small)
    assert (s.best, s.worst) == ("A", "B")
    assert s.gap == pytest.approx(20.0)
    assert s.excluded_small == 1
    assert s.mean == pytest.approx(52.5)  # C still counts in the whole


def test_spread_leaves_out_units_without_a_denominator():
    f = pd.concat([ABC, units([("D", 0, 0)])], ignore_index=True)
    assert spread(f, 100, "up") == spread(ABC, 100, "up")
    assert spread(units([("D", 0, 0)]), 100, "up").n == 0


def test_spread_ratio_is_undefined_when_the_lowest_is_zero():
    s = spread(units([("A", 50, 100), ("B", 0, 200)]), 100, "up")
    assert np.isnan(s.ratio) and s.gap == pytest.approx(50.0)


def test_group_values_are_ratios_of_sums_of_their_units():
    g = group_frame(ABC, {"A": "g1", "B": "g1", "C": "g2"}, 100).set_index("org_unit")
    # g1 = (80 + 120) / (100 + 200) = 66.67 %, not (80 % + 60 %) / 2 = 70 %.
    assert g.loc["g1", "value"] == pytest.approx(200 / 300 * 100)
    assert (g.loc["g1", "numerator"], g.loc["g1", "denominator"]) == (200, 300)
    assert g.loc["g2", "value"] == pytest.approx(10.0)
    assert list(g["units"]) == [2, 1]


def test_region_groups_split_chaco_and_metropolitan_area():
    regions = ["PY-ASU", "PY-1", "PY-11", "PY-15", "PY-16", "PY-19"]
    chaco = region_groups(regions, "chaco")
    assert [r for r in regions if chaco[r] == "chaco"] == ["PY-15", "PY-16", "PY-19"]
    metro = region_groups(regions, "metro")
    assert [r for r in regions if metro[r] == "metro"] == ["PY-ASU", "PY-11"]


def test_quintiles_split_units_by_population_size():
    q = quintiles({f"D{i:02d}": float(i) for i in range(1, 11)})
    assert [q[f"D{i:02d}"] for i in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintiles({"a": 10.0, "b": 30.0, "c": 20.0}) == {"a": 2, "c": 4, "b": 5}
    assert quintiles({"a": np.nan}) == {}


def test_change_says_whether_the_gap_narrowed_or_widened():
    now = spread(ABC, 100, "up")  # ID 49.2
    wider_before = spread(units([("A", 90, 100), ("C", 5, 100)]), 100, "up")
    narrower_before = spread(units([("A", 60, 100), ("C", 50, 100)]), 100, "up")
    narrowed = change(now, wider_before, 1)
    assert narrowed.verdict == "narrowed"
    assert narrowed.disparity_change == pytest.approx(
        now.disparity_index - wider_before.disparity_index
    )
    assert narrowed.gap_change == pytest.approx(70 - 85)
    assert change(now, narrower_before, 3).verdict == "widened"
    assert change(now, now, 5).verdict == "stable"
    assert change(now, None, 5).verdict == "no_data"


def test_access_counts_people_per_facility_against_the_usf_norm():
    def unit(code):
        return OrgUnit(id=hash(code) % 1000, code=code, name=code, level=2)

    norm = AccessNorm(per_usf=5000)
    out = access_frame(
        [unit("X"), unit("Y"), unit("Z"), unit("W")],
        {"X": ["USF", "USF", "PS", "HD"], "Y": ["PS"], "Z": ["USF", "USF"], "W": ["USF"]},
        {"X": 20000.0, "Y": 8000.0, "Z": 9000.0},
        norm,
    ).set_index("org_unit")
    assert out.loc["X", "per_USF"] == pytest.approx(10000)
    assert out.loc["X", "norm_ratio"] == pytest.approx(2.0)
    assert out.loc["X", "per_HOSP"] == pytest.approx(20000)
    assert out.loc["X", "per_all"] == pytest.approx(5000)
    assert np.isnan(out.loc["X", "per_CS"])
    assert out.loc["X", "verdict"] == "over"
    assert out.loc["Y", "verdict"] == "no_usf"
    assert out.loc["Z", "verdict"] == "within"  # 4,500 per USF
    assert out.loc["W", "verdict"] == "no_population"
    # Worst access first: no USF, then most people per USF; ranks follow.
    assert list(out.index) == ["Y", "X", "Z", "W"]
    assert list(out["rank"]) == [1, 2, 3, 4]
    assert usf_needed(20000, 2, norm) == 2 and usf_needed(9000, 2, norm) == 0


# ==== on a store =================================================================================
@pytest.fixture
def store(repo):
    # PY-1 (Concepción) 80 %, PY-2 (San Pedro) 60 %, PY-15 (Presidente Hayes, Chaco) 10 % in
    # 2025; 70 / 60 / 40 % in 2024.
    add_facilities(
        repo,
        [("F1", "USF", "0101"), ("F2", "USF", "0201"), ("F3", "USF", "1504"), ("P1", "PS", "0102")],
    )
    rows = []
    for fac, (n25, n24) in {"F1": (80, 70), "F2": (60, 60), "F3": (10, 40)}.items():
        rows += [(fac, "CPN_1_T1", 202506, n25), (fac, "CPN_1", 202506, 100)]
        rows += [(fac, "CPN_1_T1", 202406, n24), (fac, "CPN_1", 202406, 100)]
    rows += [("P1", "CPN_1_T1", 202506, 3), ("P1", "CPN_1", 202506, 4)]  # small numbers
    put_values(repo, rows)
    put_population(
        repo,
        [("0101", "POP_TOTAL", 2025, 12000), ("0102", "POP_TOTAL", 2025, 8000)]
        + [("0201", "POP_TOTAL", 2025, 3000), ("1504", "POP_TOTAL", 2025, 6000)],
    )
    return repo


def view(repo, query, scope=None):
    ctx = Context(repo=repo, scope=scope or Scope.national(), today=TODAY)
    return equity(ctx, from_query(query, repo.catalog(), TODAY, ctx.scope))


def test_equity_national_regions_and_change_over_the_year(store):
    v = view(store, "?indicador=MNI-05&periodo=2025")
    assert v.grouping == "unidad" and v.unit.code == "PY"
    # PY-1 = (80 + 3) / (100 + 4) with its small-number PS: 79.8 %
    vals = v.groups.set_index("org_unit")["value"]
    assert vals["PY-1"] == pytest.approx(83 / 104 * 100)
    assert vals["PY-15"] == pytest.approx(10.0)
    s = v.spread
    assert s.mean == pytest.approx(153 / 304 * 100)
    assert (s.best, s.worst) == ("PY-1", "PY-15")
    assert v.groups["org_unit"].iloc[0] == "PY-1"  # best first
    one_year = v.changes[0]
    # 2024: 70 / 60 / 40 %: mean 56.67, ID 19.6 %; 2025's ID is larger.
    assert one_year.years == 1 and one_year.then is not None
    assert one_year.then.disparity_index == pytest.approx(
        100 * np.mean([abs(70 - 170 / 3), abs(60 - 170 / 3), abs(40 - 170 / 3)]) / (170 / 3)
    )
    assert one_year.verdict == "widened"
    assert v.changes[1].verdict == "no_data"  # nothing in 2022
    assert [p.id for p in v.periods] == ["2020", "2022", "2024", "2025"]
    assert v.national["2025"] == pytest.approx(s.mean)


def test_equity_chaco_against_oriental_is_a_ratio_of_sums(store):
    v = view(store, "?indicador=MNI-05&periodo=2025&agrupar=chaco")
    vals = v.groups.set_index("org_unit")["value"]
    assert vals["chaco"] == pytest.approx(10.0)
    assert vals["oriental"] == pytest.approx((80 + 3 + 60) / (100 + 4 + 100) * 100)
    assert v.spread.gap == pytest.approx(vals["oriental"] - 10.0)


def test_equity_by_facility_type_and_population_quintile(store):
    by_type = view(store, "?indicador=MNI-05&periodo=2025&agrupar=tipo").groups
    vals = by_type.set_index("org_unit")["value"]
    assert vals["USF"] == pytest.approx(150 / 300 * 100)
    assert vals["PS"] == pytest.approx(75.0)
    assert bool(by_type.set_index("org_unit").loc["PS", "small"])  # 3 of 4: small numbers
    q = view(store, "?indicador=MNI-05&periodo=2025&agrupar=quintil").groups.set_index("org_unit")
    # Four districts with a population: 0201 3,000 (Q2), 1504 6,000 (Q3), 0102 8,000 (Q4),
    # 0101 12,000 (Q5).
    assert q.loc["Q5", "value"] == pytest.approx(80.0)
    assert q.loc["Q3", "value"] == pytest.approx(10.0)
    assert q.loc["Q2", "value"] == pytest.approx(60.0)


def test_equity_regional_director_sees_only_her_districts(store):
    v = view(store, "?indicador=MNI-05&periodo=2025&region=PY-2&agrupar=chaco", Scope.of("PY-1"))
    assert v.unit.code == "PY-1"
    assert v.grouping == "unidad"  # Chaco vs Oriental means nothing inside one region
    cat = store.catalog()
    assert {cat.parent(cat.unit(c)).code for c in v.groups.org_unit} == {"PY-1"}
    assert set(v.history.org_unit) <= {u.code for u in cat.descendants(cat.unit("PY-1"), 2)}
    assert set(v.access.org_unit) == {u.code for u in cat.descendants(cat.unit("PY-1"), 2)}
    access = v.access.set_index("org_unit")
    assert access.loc["0101", "per_USF"] == pytest.approx(12000)
    assert access.loc["0102", "verdict"] == "no_usf"


def test_equity_national_access_by_region(store):
    v = view(store, "?indicador=MNI-05&periodo=2025")
    assert v.access_level == 1 and len(v.access) == 18
    access = v.access.set_index("org_unit")
    assert access.loc["PY-1", "n_USF"] == 1 and access.loc["PY-1", "n_PS"] == 1
    # The region's population is the sum of its districts' (only two have one here).
    assert access.loc["PY-1", "population"] == pytest.approx(20000)
    assert access.loc["PY-1", "per_USF"] == pytest.approx(20000)


def test_equity_words_exist_for_every_code_in_both_languages():
    from dashboard.i18n import keys

    built = [f"eq_verdict_{v}" for v in ("no_usf", "over", "within", "no_population")]
    built += [
        f"eq_{k}_{v}"
        for k in ("change", "gap")
        for v in ("narrowed", "widened", "stable", "no_data")
    ]
    built += [f"eq_g_{g}" for g in ("chaco", "oriental", "metro", "resto")]
    built += [f"eq_group_{g}" for g in ("tipo", "chaco", "metro", "quintil")]
    built += [f"eq_col_{p}_{lvl}" for p in ("n", "per") for lvl in ("USF", "PS", "CS", "HOSP")]
    for lang in ("es", "en"):
        assert not [k for k in built if k not in keys(lang)], lang


def test_equity_layout_renders_every_output_in_both_languages(store):
    import json

    from dash import html

    from layouts import equity as page
    from layouts import ids

    assert isinstance(page.layout(), html.Div) and isinstance(page.layout("en", junk="1"), html.Div)
    for lang, words in (("es", "la brecha aumentó"), ("en", "the gap widened")):
        q = f"?indicador=MNI-05&periodo=2025&lang={lang}"
        v = view(store, q)
        f = from_query(q, store.catalog(), TODAY)
        out = page.render(v, store.catalog(), f, None, None, None)
        assert len(out) == 10
        text = json.dumps(
            [o.to_plotly_json() if hasattr(o, "to_plotly_json") else o for o in out],
            default=lambda o: o.to_plotly_json(),
            ensure_ascii=False,
        )
        assert words in text
        assert "Presidente Hayes" in text and "Concepción" in text
        assert ids.EQ_TITLE  # the ids the callback fills exist
        dots = out[3]
        assert sum(len(tr["x"]) for tr in dots["data"][:2]) == 3 + 3  # 2025 and 2024 dots
        assert "PY-15" in json.dumps(out[6], default=str) or out[6]["data"] == []


def test_equity_files_hold_the_groups_summary_years_and_access(store):
    import io

    import openpyxl

    from dashboard import exports

    ctx = Context(repo=store, scope=Scope.national(), today=TODAY)
    f = from_query("?indicador=MNI-05&periodo=2025&agrupar=chaco", store.catalog(), TODAY)
    raw = exports.page_csv(ctx, "equidad", f).decode("utf-8-sig")
    assert "Chaco y Oriental" in raw  # the grouping is stated in the header
    body = raw.split("\n\n", 1)[1].splitlines()
    assert body[0].startswith("#;Código;Unidad o grupo;Valor (%)")
    assert body[1].startswith("1;oriental;Región Oriental;70,1;")
    assert body[2].startswith(
        "2;chaco;Chaco (Pdte. Hayes, Boquerón, Alto Paraguay);10,0;-40,3;10,0;100,0;"
    )
    assert exports.file_name("equidad", f, ctx, "csv").startswith("equidad_PY_MNI-05_2025")
    wb = openpyxl.load_workbook(io.BytesIO(exports.page_xlsx(ctx, "equidad", f)))
    assert wb.sheetnames == ["Brechas", "Resumen de la brecha", "Por año", "Acceso", "info"]
    access = list(wb["Acceso"].iter_rows(values_only=True))
    assert len(access) == 1 + 18 and "Personas por USF" in access[0]
    summary = {r[0]: r[1] for r in wb["Resumen de la brecha"].iter_rows(values_only=True)}
    assert summary["Brecha absoluta"] == pytest.approx(round(143 / 204 * 100 - 10, 1))


def test_equity_restricted_users_see_small_counts_as_less_than_five(store):
    import json

    from layouts import equity as page

    ctx = Context(repo=store, scope=Scope.national(), today=TODAY, suppress=4)
    f = from_query("?indicador=MNI-05&periodo=2025&agrupar=tipo", store.catalog(), TODAY)
    v = equity(ctx, f)
    ps = v.groups.set_index("org_unit").loc["PS"]
    assert np.isnan(ps["value"])  # 3 of 4: withheld
    table = json.dumps(page.table(v, store.catalog(), f), default=lambda o: o.to_plotly_json())
    assert "<5" in table


def test_dot_figure_draws_units_per_year_the_mean_and_the_target():
    from dashboard.equity_figures import access_bars, dot_figure

    hist = pd.DataFrame(
        {
            "org_unit": ["A", "B", "A", "B"],
            "period": ["2024", "2024", "2025", "2025"],
            "value": [50.0, 70.0, 60.0, np.nan],
            "small": [False, True, False, False],
        }
    )
    texts = {"units": "U", "small": "S", "national": "N", "target": "T"}
    fig = dot_figure(
        hist,
        period_ids=["2024", "2025"],
        period_labels={"2024": "2024", "2025": "2025"},
        names={"A": "Alfa", "B": "Beta"},
        national={"2024": 62.0, "2025": 60.0},
        target=80.0,
        hover=["a", "b", "c", "d"],
        texts=texts,
        label_units=["A"],
    )
    units, small, mean, target = fig["data"]
    assert (units["x"], units["y"]) == ([50.0, 60.0], ["2024", "2025"])  # B 2025 has no value
    assert small["x"] == [70.0] and small["marker"]["symbol"] == "circle-open"
    assert mean["x"] == [62.0, 60.0] and mean["marker"]["symbol"] == "diamond"
    assert fig["layout"]["shapes"][0]["x0"] == 80.0 and target["name"] == "T"
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["Alfa"]
    assert fig["layout"]["yaxis"]["categoryarray"] == ["2024", "2025"]
    access = pd.DataFrame(
        {
            "org_unit": ["X", "Y", "Z"],
            "org_unit_name": ["X", "Y", "Z"],
            "per_USF": [9000.0, 4000.0, np.nan],
            "verdict": ["over", "within", "no_usf"],
        }
    )
    bars = access_bars(
        access,
        norm=5000,
        texts={"over": "o", "within": "w", "norm": "n", "x_title": "x"},
        hover=["1", "2", "3"],
    )
    over, within, _ = bars["data"]
    assert over["y"] == ["X"] and within["y"] == ["Y"]  # no bar without a USF
    assert bars["layout"]["shapes"][0]["x0"] == 5000


def test_equity_units_link_to_their_map_and_the_title_has_the_definition(store):
    import json
    from urllib.parse import parse_qs, urlsplit

    from layouts import equity as page

    q = "?indicador=MNI-05&periodo=2025&tipo=USF"
    f = from_query(q, store.catalog(), TODAY)
    v = view(store, q)
    out = page.render(v, store.catalog(), f, None, None, None)
    wire = json.loads(json.dumps(out, default=lambda o: o.to_plotly_json()))

    def of_type(node, kind):
        if isinstance(node, list):
            return [x for n in node for x in of_type(n, kind)]
        if not isinstance(node, dict):
            return []
        here = [node] if node.get("type") == kind else []
        return here + of_type(node.get("props", {}).get("children"), kind)

    # the title names the indicator and opens its definition
    title = out[0]
    assert "ind-info" in json.dumps(title, default=lambda o: o.to_plotly_json())
    # each region of the table (and of the access table) links to its map, filters kept
    links = {
        lk["props"]["children"]: lk["props"]["href"]
        for lk in of_type(wire[4], "Link") + of_type(wire[8], "Link")
    }
    assert {"Concepción", "San Pedro", "Presidente Hayes"} <= set(links)
    target = urlsplit(links["Concepción"])
    assert target.path == "/mapa"
    asked = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert (
        asked.items()
        >= {
            "region": "PY-1",
            "indicador": "MNI-05",
            "periodo": "2025",
            "tipo": "USF",
        }.items()
    )
    # a group of units (by facility type) has no one view to open: plain text
    grouped = page.table(view(store, q + "&agrupar=tipo"), store.catalog(), f)
    assert (
        of_type(json.loads(json.dumps(grouped, default=lambda o: o.to_plotly_json())), "Link") == []
    )
