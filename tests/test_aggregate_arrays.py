"""The indicator arithmetic on hand-made unit × period × element arrays: no database."""

import numpy as np
import pytest

from dashboard.aggregate import Axes, assemble, ratio, reporting
from dashboard.catalog import DataElement, Expression, Indicator, OrgUnit, Target
from dashboard.periods import Period

NAN = np.nan
ELEMENTS = [
    DataElement(1, "NUM", "count", "n", "n"),
    DataElement(2, "DEN", "count", "d", "d"),
    DataElement(3, "OTHER", "count", "o", "o"),
    DataElement(4, "REP_EXPECTED", "derived", "e", "e"),
    DataElement(5, "REP_RECEIVED", "derived", "r", "r"),
    DataElement(6, "REP_ONTIME", "derived", "t", "t"),
    DataElement(7, "REP_FACILITIES", "derived", "f", "f"),
]
DISTRICT = OrgUnit(10, "0101", "Distrito", 2)
FACILITY = OrgUnit(11, "F1", "Establecimiento F1", 3, parent_id=10, facility_type="USF")
PERIODS = [Period(202401, 202401, "202401"), Period(202401, 202403, "2024Q1")]
AXES = Axes([DISTRICT, FACILITY], PERIODS, ELEMENTS)


def indicator(numerator: str, denominator: str = "DEN", factor: float = 100.0) -> Indicator:
    return Indicator(
        id=1,
        code="X-01",
        domain="X",
        sort=0,
        name_es="x",
        name_en="x",
        definition_es="",
        definition_en="",
        numerator=Expression.parse(numerator),
        denominator=Expression.parse(denominator),
        factor=factor,
        unit_es="%",
        unit_en="%",
        decimals=1,
        direction="up",
        facility_types=(),
        target=Target(80.0),
    )


def array(**columns: list[list[float]]) -> np.ndarray:
    """units × periods × elements, NaN (nothing reported) except the columns given."""
    arr = np.full(AXES.shape, NAN)
    for code, values in columns.items():
        arr[:, :, AXES.index[code]] = values
    return arr


def test_ratio_divides_the_sums_and_scales_by_the_factor():
    arr = array(NUM=[[51, 150], [1, 3]], DEN=[[110, 300], [10, 40]])
    num, den, value = ratio(indicator("NUM"), arr, AXES.index)
    assert num.tolist() == [[51, 150], [1, 3]]
    assert den.tolist() == [[110, 300], [10, 40]]
    assert value == pytest.approx(np.array([[100 * 51 / 110, 50.0], [10.0, 7.5]]))


def test_ratio_without_a_denominator_or_with_zero_gives_no_value():
    arr = array(NUM=[[5, 5], [5, 5]], DEN=[[0, NAN], [10, NAN]])
    num, den, value = ratio(indicator("NUM"), arr, AXES.index)
    assert np.isnan(value[0]).all() and np.isnan(value[1, 1])
    # Issue 9: cases over a zero denominator are shown (numerator 5, no value); none without one.
    assert num[0, 0] == 5 and np.isnan(num[:, 1]).all()
    assert value[1, 0] == pytest.approx(50.0)


def test_ratio_counts_a_missing_numerator_as_zero_when_the_denominator_exists():
    arr = array(DEN=[[10, 10], [10, 10]])
    num, _, value = ratio(indicator("NUM"), arr, AXES.index)
    assert num.tolist() == [[0, 0], [0, 0]]
    assert value.tolist() == [[0, 0], [0, 0]]


def test_ratio_of_a_linear_expression_treats_one_missing_term_as_zero():
    arr = array(NUM=[[30, 30], [30, NAN]], OTHER=[[10, NAN], [NAN, NAN]], DEN=[[40] * 2] * 2)
    num, _, value = ratio(indicator("NUM - OTHER", "DEN", 1.0), arr, AXES.index)
    assert num.tolist() == [[20, 30], [30, 0]]
    assert value.tolist() == [[0.5, 0.75], [0.75, 0.0]]


def test_ratio_ignores_codes_the_array_does_not_hold():
    arr = array(NUM=[[1, 1], [1, 1]], DEN=[[2, 2], [2, 2]])
    _, _, value = ratio(indicator("NUM + UNKNOWN"), arr, AXES.index)
    assert value.tolist() == [[50, 50], [50, 50]]


def test_reporting_rates_and_distinct_facilities():
    arr = array(
        REP_EXPECTED=[[10, 30], [1, 3]],
        REP_RECEIVED=[[9, 27], [1, 2]],
        REP_ONTIME=[[6, 20], [0, 2]],
        REP_FACILITIES=[[9, 10], [1, 2]],
    )
    rep = reporting(arr, AXES, distinct={(10, 1): 9})
    assert rep.completeness.tolist() == [[90, 90], [100, pytest.approx(200 / 3)]]
    assert rep.timeliness == pytest.approx(np.array([[60, 200 / 3], [0, 200 / 3]]))
    # A facility counts once however many months it reported; the district's span of several
    # pieces takes the distinct count it was given.
    assert rep.facilities.tolist() == [[9, 9], [1, 1]]


def test_reporting_with_nothing_expected_has_no_rates():
    rep = reporting(array(), AXES)
    assert np.isnan(rep.completeness).all() and np.isnan(rep.timeliness).all()
    assert rep.expected.tolist() == [[0, 0], [0, 0]]


def test_assemble_orders_rows_and_drops_units_the_indicator_does_not_apply_to():
    ind = indicator("NUM")
    zeros = np.zeros((2, 2))
    part = {
        k: zeros
        for k in (
            "numerator",
            "denominator",
            "value",
            "completeness",
            "timeliness",
            "target",
            "expected_reports",
            "received_reports",
            "facilities_reporting",
        )
    }
    part["value"] = np.array([[1.0, 2.0], [3.0, 4.0]])
    part["status"] = np.full((2, 2), "met")
    part["applicable"] = np.array([True, False])
    frame = assemble([ind], [DISTRICT, FACILITY], PERIODS, {ind.code: part})
    assert frame[["org_unit", "period", "value"]].values.tolist() == [
        ["0101", "202401", 1.0],
        ["0101", "2024Q1", 2.0],
    ]
    assert frame.expected_reports.dtype.kind == "i"
