"""Period ids: parsing, relative periods, splitting, shifting."""

from datetime import date

import pytest

from dashboard.periods import PeriodError, parse_period, split

TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("text", "start", "end", "pid"),
    [
        ("202409", 202409, 202409, "202409"),
        ("2024Q3", 202407, 202409, "2024Q3"),
        ("2024q1", 202401, 202403, "2024Q1"),
        ("2024", 202401, 202412, "2024"),
        ("202401:202406", 202401, 202406, "202401:202406"),
        ("2023Q4:2024Q1", 202310, 202403, "202310:202403"),
        ("202407:202409", 202407, 202409, "2024Q3"),
        ("2021:2022", 202101, 202212, "202101:202212"),
    ],
)
def test_parse_period_fixed_ids(text, start, end, pid):
    p = parse_period(text, TODAY)
    assert (p.start, p.end, p.id) == (start, end, pid)


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        ("LAST_MONTH", 202610, 202610),
        ("LAST_12_MONTHS", 202511, 202610),
        ("LAST_3_MONTHS", 202608, 202610),
        ("LAST_QUARTER", 202607, 202609),
        ("LAST_4_QUARTERS", 202510, 202609),
        ("THIS_YEAR", 202601, 202610),
        ("LAST_YEAR", 202501, 202512),
        ("LAST_5_YEARS", 202101, 202512),
    ],
)
def test_parse_period_relative_to_last_complete_month(name, start, end):
    p = parse_period(name, TODAY)
    assert (p.start, p.end) == (start, end)


def test_parse_period_last_quarter_when_the_last_month_closes_a_quarter():
    p = parse_period("LAST_QUARTER", date(2026, 10, 3))  # last complete month 2026-09
    assert (p.start, p.end, p.id) == (202607, 202609, "2026Q3")


@pytest.mark.parametrize(
    "bad", ["", "2024Q5", "202413", "24", "abc", "202406:202401", "1899", "2024-09"]
)
def test_parse_period_rejects_with_reason(bad):
    with pytest.raises(PeriodError):
        parse_period(bad, TODAY)


def test_split_range_into_quarters_keeps_partial_edges():
    parts = split(parse_period("202402:202408", TODAY), "quarter")
    assert [(p.start, p.end) for p in parts] == [
        (202402, 202403),
        (202404, 202406),
        (202407, 202408),
    ]
    assert parts[1].id == "2024Q2"


def test_split_year_into_months_and_years():
    assert len(split(parse_period("2024", TODAY), "month")) == 12
    assert [p.id for p in split(parse_period("2021:2023", TODAY), "year")] == [
        "2021",
        "2022",
        "2023",
    ]


def test_previous_and_year_earlier():
    q = parse_period("2024Q1", TODAY)
    assert q.previous().id == "2023Q4"
    assert q.year_earlier().id == "2023Q1"
    assert parse_period("202401", TODAY).previous().id == "202312"


def test_months_by_year_for_a_range_across_years():
    assert parse_period("202411:202502", TODAY).months_by_year() == {2024: 2, 2025: 2}
