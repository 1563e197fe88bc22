"""The WHO Data Quality Review (/calidad): the arithmetic by hand, then a tiny store."""

import numpy as np
import pandas as pd
import pytest
from helpers import TODAY, add_facilities, put_values

from dashboard import dqr
from dashboard.catalog import Scope
from dashboard.config import Settings
from dashboard.filters import Filters
from dashboard.quality import ReviewRules
from dashboard.views import Context

NATIONAL = Scope.national()


def test_modified_z_by_hand():
    # Median 4; |x - 4| = 3 2 1 0 1 2 96, their median (MAD) 2.
    z = dqr.modified_z(np.array([[1, 2, 3, 4, 5, 6, 100.0]]))[0]
    assert z[0, 6] == pytest.approx(0.6745 * 96 / 2)  # 32.376
    assert z[0, 0] == pytest.approx(0.6745 * 3 / 2)
    # Fewer than six values, or a flat series (MAD 0): no score.
    assert np.isnan(dqr.modified_z(np.array([[1, 2, 3, 4, 100.0]]))[0]).all()
    assert np.isnan(dqr.modified_z(np.array([[5, 5, 5, 5, 5, 5, 9.0]]))[0]).all()
    # A missing month is left out of the series and scores nothing.
    z = dqr.modified_z(np.array([[1, 2, np.nan, 3, 4, 5, 6, 100.0]]))[0]
    assert np.isnan(z[0, 2]) and z[0, 7] == pytest.approx(0.6745 * 96 / 2)  # same series
    # The outlier list's medians come with the scores: 4 and 4.5 here, NaN for an empty row.
    z2, med = dqr.modified_z(np.array([[1, 2, 3, 4, 5, 6, 100.0], [1, 2, 3, 6, 9, 10, np.nan]]))
    assert med.tolist() == [[4.0], [4.5]] and z2[0, 6] == pytest.approx(0.6745 * 96 / 2)
    assert np.isnan(dqr.modified_z(np.full((1, 3), np.nan))[1]).all()


def test_severity_at_the_who_thresholds():
    sev = dqr.severity(np.array([3.49, 3.5, 4.99, 5.0, np.nan]), ReviewRules())
    assert sev.tolist() == ["", "moderate", "moderate", "extreme", ""]
    assert dqr.severity(np.array([3.5]), ReviewRules(moderate_z=4)).tolist() == [""]


def test_reporting_flag_is_at_or_below_the_threshold():
    assert dqr.at_or_below(np.array([90.0, 90.1, np.nan, 0.0]), 90).tolist() == [
        True,
        False,
        False,
        True,
    ]


def test_consistency_over_time_by_hand():
    mean, ratio = dqr.over_time(
        np.array([130.0, 140, 50]), np.array([[100, 90, 110], [100, 90, 110], [100, np.nan, 0]])
    )
    assert mean.tolist() == [100, 100, 100]  # a missing or empty year is left out
    assert ratio.tolist() == pytest.approx([1.3, 1.4, 0.5])
    assert dqr.off_by(ratio, 33).tolist() == [False, True, True]
    _, none = dqr.over_time(np.array([5.0]), np.array([[np.nan, 0, np.nan]]))
    assert np.isnan(none[0]) and not dqr.off_by(none, 33)[0]


def test_dropout_and_denominator_difference_by_hand():
    assert dqr.dropout(np.array([100.0, 100, 0]), np.array([90.0, 110, 5])).tolist()[:2] == [
        10.0,
        -10.0,
    ]
    assert np.isnan(dqr.dropout(np.array([0.0]), np.array([5.0]))[0])
    d = dqr.difference(np.array([1000.0, 500, np.nan]), np.array([880.0, 490, 10]))
    assert d[:2].tolist() == pytest.approx([-12.0, -2.0]) and np.isnan(d[2])
    assert dqr.off_by(1 + d / 100, 10).tolist() == [True, False, False]


@pytest.fixture
def store(repo):
    add_facilities(repo, [("F1", "USF", "0101"), ("F2", "USF", "0101"), ("H1", "HD", "0102")])
    cat = repo.catalog()
    consultas = [("F1", "CONSULTAS", 202400 + m, 10 + (m % 2)) for m in range(1, 13) if m != 6]
    rows = [
        *consultas,
        ("F1", "CONSULTAS", 202406, 100),  # the one extreme outlier
        *[("H1", "CONSULTAS", 202400 + m, 20) for m in range(1, 13)],
        ("F1", "PENTA1", 202403, 100),
        ("F1", "PENTA3", 202403, 90),
        ("H1", "PENTA1", 202403, 50),
        ("H1", "PENTA3", 202403, 60),  # more third doses than first: negative dropout
        ("F1", "NAC_VIVOS", 202402, 880),
        ("H1", "NAC_VIVOS", 202402, 490),
    ]
    put_values(repo, rows, expect=(202401, 202412))
    put_values(
        repo,
        [
            ("F1", "CONSULTAS", 202101, 150),
            ("F1", "CONSULTAS", 202201, 150),
            ("F1", "CONSULTAS", 202301, 150),
            ("H1", "CONSULTAS", 202301, 240),
        ],
    )
    repo.upsert_populations(
        [
            {
                "org_unit_id": cat.by_code[u].id,
                "data_element_id": cat.data_elements["POP_LT1"].id,
                "year": 2024,
                "value": v,
                "estimated": e,
            }
            for u, v, e in (("0101", 1000, 0), ("0102", 500, 1))
        ]
    )
    repo.refresh_rollups()
    return repo


def review(repo, region="PY-1", period="2024", **rules):
    ctx = Context(repo=repo, scope=NATIONAL, today=TODAY, dqr=ReviewRules(**rules))
    return dqr.review(ctx, Filters(region=region, period=period))


def row(frame, unit, **match):
    sel = frame[frame.org_unit == unit]
    for k, v in match.items():
        sel = sel[sel[k] == v]
    [out] = sel.to_dict("records")
    return out


def test_review_reporting_completeness_by_district(store):
    r = review(store)
    assert r.reporting.org_unit.iloc[0] == "PY-1"  # the region first, then its districts
    # 0101: F1 12 of 12 months, F2 none: 12 of 24 = 50 %; 0102: H1 12 of 12.
    d1, d2, region = row(r.reporting, "0101"), row(r.reporting, "0102"), row(r.reporting, "PY-1")
    assert (d1["expected"], d1["received"], d1["completeness"]) == (24, 12, 50.0)
    assert d2["completeness"] == 100.0 and not d2["low_completeness"]
    assert d1["low_completeness"] and region["completeness"] == pytest.approx(24 / 36 * 100)
    # At or below the threshold (WHO's comparison); configurable: at 49 % 50 % passes.
    assert not row(review(store, completeness=49).reporting, "0101")["low_completeness"]


def test_review_lists_the_outlier_month_with_facility_and_value(store):
    r = review(store)
    [o] = r.outliers.to_dict("records")
    # F1's 2024 series: median 11, MAD 0.5; 100 scores 0.6745 × 89 / 0.5 = 120.06.
    assert (o["facility"], o["element"], o["month"], o["value"]) == ("F1", "CONSULTAS", 202406, 100)
    assert o["median"] == 11 and o["z"] == pytest.approx(120.061) and o["severity"] == "extreme"
    assert o["area"] == "0101"
    c = row(r.outlier_counts, "0101")
    # 12 consultation months and one Penta3 month reported under 0101.
    assert (c["values"], c["moderate"], c["extreme"]) == (13, 0, 1)
    # A quarter without the outlier month lists nothing.
    assert review(store, period="2024Q1").outliers.empty


def test_review_consistency_over_time(store):
    r = review(store)
    # F1's 2024: 5 × 10 + 6 × 11 + 100 = 216 against 150 in each of 2021-2023: 1.44, flagged.
    d1 = row(r.over_time, "0101", element="CONSULTAS")
    assert (d1["current"], d1["prior_mean"]) == (216, 150)
    assert d1["ratio"] == pytest.approx(1.44) and d1["flag"]
    # H1: 240 against 2023's 240 (2021 and 2022 had nothing): 1.0.
    d2 = row(r.over_time, "0102", element="CONSULTAS")
    assert d2["ratio"] == pytest.approx(1.0) and not d2["flag"]
    # At 50 % the 44 % of 0101 passes.
    assert not row(review(store, consistency=50).over_time, "0101", element="CONSULTAS")["flag"]


def test_review_consistency_between_related_indicators(store):
    r = review(store)
    d1 = row(r.relations, "0101", a="PENTA1")
    assert d1["dropout"] == pytest.approx(10.0) and not d1["flag"]
    d2 = row(r.relations, "0102", a="PENTA1")
    assert d2["dropout"] == pytest.approx(-20.0) and d2["flag"]  # 60 third doses, 50 first


def test_review_denominator_consistency(store):
    r = review(store)
    d1, d2 = row(r.denominators, "0101"), row(r.denominators, "0102")
    # 880 births against 1000 under one: 12 % apart (> 10 %); 490 against 500: 2 %.
    assert d1["difference"] == pytest.approx(-12.0) and d1["flag"] and not d1["estimated"]
    assert d2["difference"] == pytest.approx(-2.0) and not d2["flag"] and d2["estimated"]


def test_review_summary_counts_flagged_districts(store):
    s = dqr.summary(review(store)).set_index(["metric", "measure"])
    assert s.loc[("1a", "completeness"), "flagged"] == 1
    assert s.loc[("2b", "extreme"), "flagged"] == 1
    assert s.loc[("2e", "PENTA1-PENTA3"), "flagged"] == 1
    assert s.loc[("4a", "POP_LT1-NAC_VIVOS"), "flagged"] == 1
    assert s["rows"].iloc[0] == 14  # Concepción's districts


def test_review_is_scoped(store):
    from dashboard.filters import from_query

    cat = store.catalog()
    regional = Scope.of("PY-1")
    ctx = Context(repo=store, scope=regional, today=TODAY)
    # A regional director asking for the country, or another region, reviews her own region.
    for query in ("?periodo=2024", "?region=PY-2&periodo=2024"):
        r = dqr.review(ctx, from_query(query, cat, TODAY, regional))
        assert r.unit.code == "PY-1"
        assert set(r.reporting.org_unit) == {
            "PY-1",
            *(u.code for u in cat.descendants(cat.unit("PY-1"), 2)),
        }
    # An anonymous visitor (districts at most) sees the counts, never a facility's month.
    public = Scope(frozenset({"PY"}), max_level=2)
    r = dqr.review(
        Context(repo=store, scope=public, today=TODAY), Filters(region="PY-1", period="2024")
    )
    assert r.outliers.empty and row(r.reporting, "0101")["completeness"] == 50.0


def test_review_thresholds_come_from_settings():
    s = Settings.from_env({"DASHBOARD_DQR_TIMELINESS": "80", "DASHBOARD_DQR_CONSISTENCY": "25"})
    assert (s.dqr.timeliness, s.dqr.consistency, s.dqr.completeness) == (80, 25, 90)
    assert Settings.from_env({}).dqr == ReviewRules()


def test_review_exports_as_csv_and_xlsx(store):
    import io

    from openpyxl import load_workbook

    from dashboard import exports

    ctx = Context(repo=store, scope=NATIONAL, today=TODAY)
    f = Filters(region="PY-1", period="2024", lang="en")
    text = exports.page_csv(ctx, "calidad", f).decode("utf-8-sig")
    assert "Data quality" in text and "Reporting completeness (%)" in text
    book = load_workbook(io.BytesIO(exports.page_xlsx(ctx, "calidad", f)))
    assert "Outliers" in book.sheetnames
    rows = list(book["Outliers"].values)
    assert rows[1][1:5] == ("F1", "Establecimiento F1", "Outpatient consultations", 202406)
    assert exports.file_name("calidad", f, ctx, "pdf") == "calidad_PY-1_INM-03_2024_en.pdf"


def test_review_for_a_restricted_user_hides_small_counts(store):
    from helpers import put_values as put

    put(store, [("H1", "CPN_1", 202405, 3), ("H1", "CPN_4", 202405, 2)])
    ctx = Context(repo=store, scope=NATIONAL, today=TODAY, suppress=4)
    r = dqr.review(ctx, Filters(region="PY-1", period="2024"))
    anc = row(r.relations, "0102", a="CPN_1")
    # 3 first visits and 2 fourth: both hidden, and the dropout made of them withheld.
    assert np.isnan(anc["value_a"]) and np.isnan(anc["value_b"]) and np.isnan(anc["dropout"])
    assert not anc["flag"]
    # Larger counts stay: 50 and 60 Penta doses, the negative dropout still flagged.
    assert row(r.relations, "0102", a="PENTA1")["flag"]
    # The outlier of 100 consultations is shown; none of 1..4 could be.
    assert (r.outliers.value > 4).all() and len(r.outliers) == 1


def test_review_cache_reuses_until_the_data_changes(store):
    cache = dqr.ReviewCache(size=2)
    ctx = Context(repo=store, scope=NATIONAL, today=TODAY)
    f = Filters(region="PY-1", period="2024")
    first = cache.review(ctx, f)
    assert cache.review(ctx, f) is first
    assert cache.review(ctx, f.with_(period="2024Q1")) is not first
    put_values(store, [("F2", "CONSULTAS", 202403, 7)])  # an import: the data version moves
    store.invalidate()
    again = cache.review(ctx, f)
    assert again is not first and len(again.outlier_counts) == len(first.outlier_counts)


def test_row_median_is_nanmedian():
    rng = np.random.default_rng(3)
    v = rng.integers(0, 50, size=(200, 12)).astype(float)
    v[rng.random(v.shape) < 0.3] = np.nan
    v[0] = np.nan  # an empty series
    v[1, :5] = np.nan  # odd and even counts alike
    with dqr._quiet_nan():
        expected = np.nanmedian(v, axis=-1, keepdims=True)
    got = dqr.row_median(v)
    assert got.shape == (200, 1)
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    assert np.allclose(got[~np.isnan(got)], expected[~np.isnan(expected)])
    assert dqr.row_median(np.array([3.0, np.nan, 1.0, 2.0, 10.0])).tolist() == [2.5]


def test_monthly_series_match_the_rollup_and_follow_the_data(store):
    """The review's tracer series (dq_series) give each facility-month the rollup's value, keep
    to the scope, and a refresh of one year changes that year only."""
    from dashboard.aggregate import Axes, load_array
    from dashboard.periods import month_period

    cat = store.catalog()
    facs = [cat.by_code[c] for c in ("F1", "F2", "H1")]
    months = [202311, 202312, *range(202401, 202413)]
    got = store.monthly_series(NATIONAL, facs, months, ["CONSULTAS"])["CONSULTAS"]
    axes = Axes(facs, [month_period(m) for m in months], [cat.data_elements["CONSULTAS"]])
    expected = np.full(axes.shape, np.nan)
    load_array(store, NATIONAL, axes, facs, None, expected)
    assert np.array_equal(got, expected[:, :, 0], equal_nan=True)
    assert got[0, 2 + 5] == 100 and np.isnan(got[1]).all() and got[2, 2] == 20
    # Outside the scope: nothing, whatever the stored series hold.
    other = Scope.of("PY-2")
    assert np.isnan(store.monthly_series(other, facs, months, ["CONSULTAS"])["CONSULTAS"]).all()
    put_values(store, [("F2", "CONSULTAS", 202405, 7)])  # written and refreshed
    assert store.monthly_series(NATIONAL, facs, [202405], ["CONSULTAS"])["CONSULTAS"][1, 0] == 7
    # Written, then only 2024 refreshed: 2023's series stays as it was until its own refresh.
    f2, consultas = cat.by_code["F2"].id, cat.data_elements["CONSULTAS"].id
    frame = pd.DataFrame(
        [(f2, consultas, 202305, 9.0), (f2, consultas, 202406, 8.0)],
        columns=["org_unit_id", "data_element_id", "month", "value"],
    )
    with store.engine.begin() as conn:
        store.write_values(frame, store.start_batch("test", "test", conn), conn)
    store.refresh_rollups(years=[2024])
    again = store.monthly_series(NATIONAL, facs, [202305, 202406], ["CONSULTAS"])["CONSULTAS"]
    assert np.isnan(again[1, 0]) and again[1, 1] == 8


def test_summary_threshold_column_formats_percentages_as_each_language_does():
    from dashboard.i18n import fmt_percent
    from layouts.calidad import threshold_text

    assert threshold_text("1a", 90, "en") == "≤\u00a090%"
    assert threshold_text("4a", 33, "en") == "±33%"
    assert threshold_text("2e", 10, "en") == "<\u00a010%"
    assert threshold_text("2a", 3.5, "en") == "z ≥\u00a03.5"
    assert threshold_text("1a", 90, "es") == "≤\u00a090\u00a0%"
    assert threshold_text("2d", 33, "es") == "±33\u00a0%"
    assert threshold_text("2b", 5, "es") == "z ≥\u00a05,0"
    # the same percent style as every other percentage of the language
    for lang in ("es", "en"):
        assert threshold_text("1b", 75, lang).endswith(fmt_percent(75, lang, 0))
        assert " %" not in threshold_text("4a", 33, lang)  # never a breakable space before %
