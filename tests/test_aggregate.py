"""Indicator maths against hand-computed answers: ratios of sums, periods, populations, scope."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from helpers import TODAY, add_facilities, put_population, put_values

from dashboard.aggregate import evaluate, query, status_of
from dashboard.catalog import Scope, Target
from dashboard.periods import parse_period

NATIONAL = Scope.national()


def one(repo, ind, unit, period, scope=NATIONAL, **kw):
    cat = repo.catalog()
    res = query(repo, scope, cat.indicators[ind], cat.unit(unit), parse_period(period, TODAY), **kw)
    assert len(res) == 1, res
    return res[0]


@pytest.fixture
def two_usf(repo):
    add_facilities(
        repo,
        [("F1", "USF", "0101"), ("F2", "USF", "0101"), ("H1", "HD", "0102"), ("F9", "USF", "0201")],
    )
    return repo


def test_aggregate_is_ratio_of_sums_not_mean_of_rates(two_usf):
    # F1: 50/100, F2: 1/10 -> district 51/110 = 46.36 %, not (50 % + 10 %) / 2 = 30 %.
    put_values(
        two_usf,
        [
            ("F1", "CPN_1_T1", 202403, 50),
            ("F1", "CPN_1", 202403, 100),
            ("F2", "CPN_1_T1", 202403, 1),
            ("F2", "CPN_1", 202403, 10),
        ],
    )
    for unit in ("0101", "PY-1", "PY"):
        r = one(two_usf, "MNI-05", unit, "202403")
        assert (r.numerator, r.denominator) == (51, 110)
        assert r.value == pytest.approx(46.3636, abs=1e-3)
    assert one(two_usf, "MNI-05", "F2", "202403").value == pytest.approx(10.0)


def test_aggregate_quarter_and_year_sum_the_months(two_usf):
    rows = []
    for m, (n, d) in zip(
        (202401, 202402, 202403, 202404), ((10, 20), (5, 20), (0, 10), (30, 30)), strict=True
    ):
        rows += [("F1", "CPN_1_T1", m, n), ("F1", "CPN_1", m, d)]
    put_values(two_usf, rows)
    q1 = one(two_usf, "MNI-05", "PY-1", "2024Q1")
    assert (q1.numerator, q1.denominator) == (15, 50)
    assert q1.value == pytest.approx(30.0)
    y = one(two_usf, "MNI-05", "PY", "2024")
    assert (y.numerator, y.denominator) == (45, 80)
    by_q = query(
        two_usf,
        NATIONAL,
        two_usf.catalog().indicators["MNI-05"],
        two_usf.catalog().unit("0101"),
        parse_period("2024", TODAY),
        by="quarter",
    )
    assert [(r.period, r.numerator, r.denominator) for r in by_q] == [
        ("2024Q1", 15, 50),
        ("2024Q2", 30, 30),
        ("2024Q3", None, None),
        ("2024Q4", None, None),
    ]


def test_aggregate_missing_month_lowers_completeness_not_the_rate(two_usf):
    # F1 reports January and March, not February; three reports expected from each USF.
    put_values(
        two_usf,
        [
            ("F1", "CPN_1_T1", 202401, 6),
            ("F1", "CPN_1", 202401, 10),
            ("F1", "CPN_1_T1", 202403, 4),
            ("F1", "CPN_1", 202403, 10),
        ],
        expect=(202401, 202403),
    )
    r = one(two_usf, "MNI-05", "F1", "2024Q1")
    assert r.value == pytest.approx(50.0)
    assert (r.expected_reports, r.received_reports) == (3, 2)
    assert r.completeness == pytest.approx(200 / 3)
    d = one(two_usf, "MNI-05", "0101", "2024Q1")  # F1 and F2 expected, only F1 reported
    assert (d.expected_reports, d.received_reports, d.facilities_reporting) == (6, 2, 1)
    feb = one(two_usf, "MNI-05", "F1", "202402")
    assert feb.value is None and feb.status == "no_data"
    months = query(
        two_usf,
        NATIONAL,
        two_usf.catalog().indicators["MNI-05"],
        two_usf.catalog().unit("F1"),
        parse_period("2024Q1", TODAY),
        by="month",
    )
    assert [r.value for r in months] == [pytest.approx(60.0), None, pytest.approx(40.0)]


def test_aggregate_population_is_a_stock_scaled_by_months(two_usf):
    put_population(
        two_usf,
        [
            ("0101", "POP_LT1", 2024, 1200),
            ("0101", "POP_LT1", 2025, 2400),
            ("PY-1", "POP_LT1", 2024, 6000),
        ],
    )
    put_values(two_usf, [("F1", "PENTA3", m, 50) for m in (202411, 202412, 202501, 202502)])
    q = one(two_usf, "INM-03", "0101", "2024Q4")  # 100 doses / (1,200 × 3/12) = 33.3 %
    assert q.denominator == pytest.approx(300)
    assert q.value == pytest.approx(100 / 3)
    # A range across years takes each year's population for its months: 1,200×2/12 + 2,400×2/12 = 600.
    span = one(two_usf, "INM-03", "0101", "202411:202502")
    assert span.denominator == pytest.approx(600)
    assert span.value == pytest.approx(200 / 6)
    # The region's own census figure wins over the sum of its districts.
    assert one(two_usf, "INM-03", "PY-1", "2024").denominator == pytest.approx(6000)
    # A year with no figure takes the nearest year's.
    assert one(two_usf, "INM-03", "0101", "2026").denominator == pytest.approx(2400)


def test_aggregate_population_sums_over_units_not_months(two_usf):
    put_population(two_usf, [("0101", "POP_TOTAL", 2024, 1000), ("0102", "POP_TOTAL", 2024, 3000)])
    put_values(two_usf, [("F1", "CONSULTAS", m, 100) for m in range(202401, 202413)])
    r = one(two_usf, "SER-01", "PY-1", "2024")  # districts 0101 + 0102 only: PY-1 has no own figure
    assert r.denominator == pytest.approx(4000)
    assert r.value == pytest.approx(1200 / 4000)


def test_aggregate_zero_or_missing_denominator_gives_no_value(two_usf):
    put_values(
        two_usf,
        [("F1", "CPN_1_T1", 202403, 0), ("F1", "CPN_1", 202403, 0), ("F2", "CPN_1_T1", 202403, 3)],
    )
    r = one(two_usf, "MNI-05", "F1", "202403")
    assert r.value is None and r.denominator == 0 and r.status == "no_data"
    r2 = one(two_usf, "MNI-05", "F2", "202403")  # numerator without denominator
    assert r2.value is None and r2.denominator is None


def test_aggregate_missing_numerator_element_counts_as_zero(two_usf):
    put_values(two_usf, [("F1", "CPN_1", 202403, 20)])
    r = one(two_usf, "MNI-05", "F1", "202403")
    assert (r.numerator, r.value) == (0.0, 0.0)


def test_aggregate_expression_with_difference(two_usf):
    put_values(
        two_usf,
        [
            ("F1", "PENTA1", 202403, 40),
            ("F1", "PENTA3", 202403, 34),
            ("F2", "PENTA1", 202403, 60),
            ("F2", "PENTA3", 202403, 60),
        ],
    )
    r = one(two_usf, "INM-04", "0101", "202403")  # (100 - 94) / 100
    assert (r.numerator, r.denominator) == (6, 100)
    assert r.value == pytest.approx(6.0)


def test_aggregate_facility_type_filter_and_indicator_types(two_usf):
    put_values(
        two_usf,
        [
            ("F1", "CPN_1_T1", 202403, 5),
            ("F1", "CPN_1", 202403, 10),
            ("H1", "DIAS_PACIENTE", 202403, 80),
            ("H1", "DIAS_CAMA", 202403, 100),
        ],
    )
    assert one(two_usf, "HOS-01", "PY-1", "202403").value == pytest.approx(80.0)
    # The filter keeps only USF: bed occupancy (hospitals only) has nothing to compute.
    cat = two_usf.catalog()
    assert (
        query(
            two_usf,
            NATIONAL,
            cat.indicators["HOS-01"],
            cat.unit("PY-1"),
            parse_period("202403", TODAY),
            ftypes=("USF",),
        )
        == []
    )
    usf = one(two_usf, "MNI-05", "PY-1", "202403", ftypes=("USF",))
    assert usf.value == pytest.approx(50.0)
    # A USF listed under a hospital-only indicator does not appear at all.
    by_fac = query(
        two_usf,
        NATIONAL,
        cat.indicators["HOS-01"],
        cat.unit("PY-1"),
        parse_period("202403", TODAY),
        by="facility",
    )
    assert [r.org_unit for r in by_fac] == ["H1"]


def test_aggregate_scope_hides_everything_outside_it(two_usf):
    put_values(
        two_usf,
        [("F1", "CPN_1", 202403, 10), ("F9", "CPN_1", 202403, 10), ("F9", "CPN_1_T1", 202403, 9)],
    )
    cat = two_usf.catalog()
    ind = cat.indicators["MNI-05"]
    region1 = Scope.of("PY-1")
    period = parse_period("202403", TODAY)
    assert query(two_usf, region1, ind, cat.unit("PY-2"), period) == []
    assert query(two_usf, region1, ind, cat.unit("F9"), period) == []
    assert query(two_usf, region1, ind, cat.unit("PY"), period) == []  # no national totals either
    regions = query(two_usf, region1, ind, cat.unit("PY"), period, by="region")
    assert [r.org_unit for r in regions] == ["PY-1"]
    facilities = query(two_usf, region1, ind, cat.unit("PY"), period, by="facility")
    assert {r.org_unit for r in facilities} == {"F1", "F2"}
    # The repository enforces the scope itself, whatever the caller asks for.
    hidden = two_usf.sums(
        region1,
        [cat.unit("F9"), cat.unit("PY-2"), cat.unit("F1")],
        None,
        [cat.data_elements["CPN_1"].id],
        [(202403, 202403)],
    )
    assert hidden.shape == (3, 1, 1)
    assert np.isnan(hidden[0]).all() and np.isnan(hidden[1]).all()
    assert hidden[2, 0, 0] == 10


def test_aggregate_completeness_and_timeliness(two_usf):
    put_values(
        two_usf,
        [("F1", "CPN_1", 202403, 10)],
        received_on=date(2024, 4, 10),
        expect=(202403, 202403),
    )
    put_values(two_usf, [("F2", "CPN_1", 202403, 10)], received_on=date(2024, 4, 20))
    r = one(two_usf, "DQ-01", "0101", "202403")
    assert (r.numerator, r.denominator, r.value) == (2, 2, 100.0)
    t = one(two_usf, "DQ-02", "0101", "202403")  # F2 arrived after the 15th of April
    assert t.value == pytest.approx(50.0)


def test_aggregate_target_override_for_a_region(two_usf):
    put_values(two_usf, [("F1", "CPN_1_T1", 202403, 55), ("F1", "CPN_1", 202403, 100)])
    assert one(two_usf, "MNI-05", "PY-1", "202403").status == "near"  # national target 60, near 50
    cat = two_usf.catalog()
    two_usf.upsert_targets(
        [
            {
                "indicator_id": cat.indicators["MNI-05"].id,
                "org_unit_id": cat.unit("PY-1").id,
                "year": None,
                "target": 50.0,
                "near": 40.0,
                "band_low": None,
                "band_high": None,
                "source": "test",
            }
        ]
    )
    r = one(two_usf, "MNI-05", "0101", "202403")
    assert (r.target, r.status) == (50.0, "met")


def test_evaluate_orders_results_indicator_unit_period(two_usf):
    put_values(two_usf, [("F1", "CPN_1", 202403, 10), ("F1", "CPN_1_T1", 202403, 5)])
    cat = two_usf.catalog()
    res = evaluate(
        two_usf,
        NATIONAL,
        [cat.indicators["MNI-05"], cat.indicators["DQ-01"]],
        [cat.unit("F1"), cat.unit("0101")],
        [parse_period("202402", TODAY), parse_period("202403", TODAY)],
    )
    assert [(r.indicator, r.org_unit, r.period) for r in res][:3] == [
        ("MNI-05", "F1", "202402"),
        ("MNI-05", "F1", "202403"),
        ("MNI-05", "0101", "202402"),
    ]
    assert len(res) == 8


@pytest.mark.parametrize(
    ("value", "direction", "target", "expected"),
    [
        (96, "up", Target(95, 90), "met"),
        (92, "up", Target(95, 90), "near"),
        (80, "up", Target(95, 90), "not_met"),
        (60, "down", Target(70, 100), "met"),
        (90, "down", Target(70, 100), "near"),
        (120, "down", Target(70, 100), "not_met"),
        (80, "band", Target(None, 10, 75, 85), "met"),
        (70, "band", Target(None, 10, 75, 85), "near"),
        (96, "band", Target(None, 10, 75, 85), "not_met"),
        (50, "up", Target(None), "no_target"),
        (None, "up", Target(95, 90), "no_data"),
    ],
)
def test_status_of_honours_direction(value, direction, target, expected):
    assert status_of(value, direction, target) == expected


def test_rollups_in_an_old_layout_are_rebuilt_on_open(two_usf):
    put_values(two_usf, [("F1", "CPN_1", 202403, 10), ("F1", "CPN_1_T1", 202403, 4)])
    two_usf.set_meta("rollup_format", "0")
    with two_usf.engine.begin() as c:
        c.exec_driver_sql("DELETE FROM rollup")
    assert one(two_usf, "MNI-05", "0101", "202403").value is None
    two_usf.ensure_schema()
    assert one(two_usf, "MNI-05", "0101", "202403").value == pytest.approx(40.0)


def test_refresh_of_some_years_equals_a_full_refresh(two_usf):
    rows = [
        (f, "CPN_1", m, 10 + i)
        for i, (f, m) in enumerate(
            (f, m) for f in ("F1", "F2") for m in (202311, 202402, 202405, 202501)
        )
    ]
    put_values(two_usf, rows)
    cat = two_usf.catalog()
    changed = pd.DataFrame(
        [(cat.unit("F1").id, cat.data_elements["CPN_1"].id, 202405, 99.0)],
        columns=["org_unit_id", "data_element_id", "month", "value"],
    )
    with two_usf.engine.begin() as conn:
        two_usf.write_values(changed, two_usf.start_batch("t", "t", conn), conn)
    two_usf.refresh_rollups(years=[2024])
    units = [cat.unit(c) for c in ("F1", "0101", "PY-1", "PY")]
    buckets = [
        (202301, 202312),
        (202401, 202412),
        (202402, 202402),
        (202404, 202406),
        (202311, 202501),
    ]
    des = [cat.data_elements[c].id for c in ("CPN_1", "REP_RECEIVED", "DQ_VALUES")]
    partial = two_usf.sums(NATIONAL, units, None, des, buckets)
    two_usf.refresh_rollups()
    full = two_usf.sums(NATIONAL, units, None, des, buckets)
    np.testing.assert_array_equal(partial, full)
    assert full[0, 3, 0] == 99.0
