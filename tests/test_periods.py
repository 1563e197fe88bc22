"""Period ids: parsing, relative periods, splitting, shifting."""

from datetime import date

import pytest

from dashboard.periods import PeriodError, enclosing, parse_period, split, trend_window

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


def _ids(w):
    return [b.id for b in w.buckets]


def test_trend_window_by_month_is_at_least_24_months_ending_with_the_period():
    w = trend_window(parse_period("LAST_12_MONTHS", date(2026, 11, 29)), "month")
    assert (w.span.start, w.span.end, len(w.buckets), w.partial) == (202411, 202610, 24, None)
    long = trend_window(parse_period("2023:2025", date(2026, 11, 29)), "month")
    assert len(long.buckets) == 36 and long.buckets[0].id == "202301"


def test_trend_window_by_quarter_is_8_whole_quarters_then_the_partial_one():
    w = trend_window(parse_period("202511:202610", date(2026, 11, 29)), "quarter")
    assert _ids(w)[:8] == [
        "2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3",
    ]  # fmt: skip
    # October alone is the quarter in progress: a 1-month bucket, marked partial, never a "Q4".
    assert w.partial == w.buckets[-1] and (w.partial.start, w.partial.end) == (202610, 202610)
    assert [b.n_months for b in w.whole] == [3] * 8
    closed = trend_window(parse_period("2025", date(2026, 11, 29)), "quarter")
    assert closed.partial is None and _ids(closed)[0] == "2024Q1" and _ids(closed)[-1] == "2025Q4"


def test_trend_window_by_year_is_5_whole_years_then_the_year_so_far():
    w = trend_window(parse_period("LAST_12_MONTHS", date(2026, 11, 29)), "year")
    assert _ids(w) == ["2021", "2022", "2023", "2024", "2025", "202601:202610"]
    assert w.partial is not None and w.partial.n_months == 10
    assert enclosing(w.partial, "year").id == "2026"
    decade = trend_window(parse_period("2015:2025", date(2026, 11, 29)), "year")
    assert len(decade.buckets) == 11 and decade.partial is None
    with pytest.raises(PeriodError):
        trend_window(parse_period("2025", date(2026, 11, 29)), "week")
