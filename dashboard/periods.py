"""DHIS2-style period ids (202409, 2024Q3, 2024, ranges, relative periods) as month spans."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

RELATIVE = (
    "LAST_MONTH",
    "LAST_3_MONTHS",
    "LAST_6_MONTHS",
    "LAST_12_MONTHS",
    "LAST_QUARTER",
    "LAST_4_QUARTERS",
    "THIS_YEAR",
    "LAST_YEAR",
    "LAST_5_YEARS",
)

_MONTH = re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_MIN_YEAR, _MAX_YEAR = 1990, 2100


class PeriodError(ValueError):
    """A period id that cannot be understood; the message says which and why."""


def to_index(yyyymm: int) -> int:
    return (yyyymm // 100) * 12 + (yyyymm % 100) - 1


def from_index(index: int) -> int:
    return (index // 12) * 100 + index % 12 + 1


def add_months(yyyymm: int, n: int) -> int:
    return from_index(to_index(yyyymm) + n)


def last_complete_month(today: date) -> int:
    return add_months(today.year * 100 + today.month, -1)


@dataclass(frozen=True, order=True)
class Period:
    start: int  # first month, yyyymm
    end: int  # last month, yyyymm, inclusive
    id: str

    @property
    def n_months(self) -> int:
        return to_index(self.end) - to_index(self.start) + 1

    @property
    def kind(self) -> str:
        if self.start == self.end:
            return "month"
        if _QUARTER.match(self.id):
            return "quarter"
        if _YEAR.match(self.id):
            return "year"
        return "range"

    def months(self) -> list[int]:
        return [from_index(i) for i in range(to_index(self.start), to_index(self.end) + 1)]

    def months_by_year(self) -> dict[int, int]:
        """How many months of this period fall in each calendar year."""
        out: dict[int, int] = {}
        for m in self.months():
            out[m // 100] = out.get(m // 100, 0) + 1
        return out

    def shifted(self, months: int) -> Period:
        start, end = add_months(self.start, months), add_months(self.end, months)
        return period_for_span(start, end, like=self.kind)

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return self.shifted(-self.n_months)

    def year_earlier(self) -> Period:
        return self.shifted(-12)


def month_period(yyyymm: int) -> Period:
    return Period(yyyymm, yyyymm, str(yyyymm))


def quarter_period(year: int, q: int) -> Period:
    return Period(year * 100 + 3 * q - 2, year * 100 + 3 * q, f"{year}Q{q}")


def year_period(year: int) -> Period:
    return Period(year * 100 + 1, year * 100 + 12, str(year))


def period_for_span(start: int, end: int, like: str = "range") -> Period:
    """Name a span with the simplest DHIS2 id that describes it."""
    if start == end:
        return month_period(start)
    y, m = divmod(start, 100)
    if like in ("quarter", "range") and m % 3 == 1 and end == start + 2:
        return quarter_period(y, (m + 2) // 3)
    if m == 1 and end == y * 100 + 12:
        return year_period(y)
    return Period(start, end, f"{start}:{end}")


def _parse_fixed(text: str) -> Period:
    if m := _MONTH.match(text):
        year = int(m.group(1))
        _check_year(year, text)
        return month_period(int(text))
    if m := _QUARTER.match(text):
        year = int(m.group(1))
        _check_year(year, text)
        return quarter_period(year, int(m.group(2)))
    if m := _YEAR.match(text):
        year = int(m.group(1))
        _check_year(year, text)
        return year_period(year)
    raise PeriodError(
        f"'{text}' is not a period: use a month 202409, a quarter 2024Q3, a year 2024, "
        f"a range 202401:202406 or a relative period such as LAST_12_MONTHS"
    )


def _check_year(year: int, text: str) -> None:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise PeriodError(f"'{text}': year {year} is outside {_MIN_YEAR}-{_MAX_YEAR}")


def relative_period(name: str, today: date) -> Period:
    last = last_complete_month(today)
    y, m = divmod(last, 100)
    q = (m - 1) // 3 + 1
    if name == "LAST_MONTH":
        return month_period(last)
    if name.endswith("_MONTHS") and name.startswith("LAST_"):
        n = int(name.split("_")[1])
        return Period(add_months(last, 1 - n), last, name)
    if name == "LAST_QUARTER":
        # The last quarter whose three months are all complete.
        qy, qq = (y, q) if m % 3 == 0 else ((y, q - 1) if q > 1 else (y - 1, 4))
        return quarter_period(qy, qq)
    if name == "LAST_4_QUARTERS":
        lq = relative_period("LAST_QUARTER", today)
        return Period(add_months(lq.end, -11), lq.end, name)
    if name == "THIS_YEAR":
        return Period(y * 100 + 1, last, name)
    if name == "LAST_YEAR":
        return year_period(today.year - 1)
    if name == "LAST_5_YEARS":
        return Period((today.year - 5) * 100 + 1, (today.year - 1) * 100 + 12, name)
    raise PeriodError(f"unknown relative period '{name}'; known: {', '.join(RELATIVE)}")


def parse_period(text: str, today: date) -> Period:
    """Parse a DHIS2 period id, a range 'A:B' of fixed ids, or a relative period name."""
    text = (text or "").strip().upper()
    if not text:
        raise PeriodError("empty period")
    if text in RELATIVE:
        return relative_period(text, today)
    if ":" in text or ".." in text:
        a, b = re.split(r":|\.\.", text, maxsplit=1)
        first, last = _parse_fixed(a.strip()), _parse_fixed(b.strip())
        if first.start > last.end:
            raise PeriodError(f"'{text}': the range ends before it starts")
        return period_for_span(first.start, last.end)
    return _parse_fixed(text)


def split(period: Period, by: str) -> list[Period]:
    """Cut a period into months, quarters or years (partial edges kept as partial spans)."""
    if by == "month":
        return [month_period(m) for m in period.months()]
    if by not in ("quarter", "year"):
        raise PeriodError(f"cannot split by '{by}'")
    size = 3 if by == "quarter" else 12
    out: list[Period] = []
    chunk: list[int] = []
    for m in period.months():
        key = (m // 100, (m % 100 - 1) // size)
        if chunk and (chunk[0] // 100, (chunk[0] % 100 - 1) // size) != key:
            out.append(period_for_span(chunk[0], chunk[-1], like=by))
            chunk = []
        chunk.append(m)
    if chunk:
        out.append(period_for_span(chunk[0], chunk[-1], like=by))
    return out


def pieces(start: int, end: int) -> list[tuple[str, int]]:
    """Cover a month span with the fewest rollup periods: whole years ('Y', 2024), whole
    quarters ('Q', 20243) and single months ('M', 202409)."""
    out: list[tuple[str, int]] = []
    i, last = to_index(start), to_index(end)
    while i <= last:
        m = from_index(i)
        y, mo = divmod(m, 100)
        if mo == 1 and i + 11 <= last:
            out.append(("Y", y))
            i += 12
        elif mo % 3 == 1 and i + 2 <= last:
            out.append(("Q", y * 10 + (mo + 2) // 3))
            i += 3
        else:
            out.append(("M", m))
            i += 1
    return out


# ---- trend windows: whole periods at the chosen grain -------------------------------------------
TREND_MONTHS = 24  # by month: two years, long enough to see a trend past one season
TREND_QUARTERS = 8  # by quarter: the last 8 complete quarters
TREND_YEARS = 5  # by year: the last 5 complete years
_GRAIN_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class TrendWindow:
    """The buckets a trend chart draws, oldest first. Every bucket is a whole month, quarter or
    year except, possibly, the last: the quarter or year in progress, `partial`, which the chart
    labels and draws apart (a 1-month 'quarter' is not comparable with a 3-month one)."""

    buckets: tuple[Period, ...]
    partial: Period | None = None

    @property
    def span(self) -> Period:
        return period_for_span(self.buckets[0].start, self.buckets[-1].end)

    @property
    def whole(self) -> tuple[Period, ...]:
        return self.buckets[:-1] if self.partial is not None else self.buckets


def enclosing(p: Period, grain: str) -> Period:
    """The whole month, quarter or year that contains p's first month."""
    y, m = divmod(p.start, 100)
    if grain == "quarter":
        return quarter_period(y, (m - 1) // 3 + 1)
    if grain == "year":
        return year_period(y)
    return month_period(p.start)


def trend_window(p: Period, grain: str) -> TrendWindow:
    """What a trend of the period p shows at a grain: by month at least the 24 months ending with
    p; by quarter or year the whole quarters (at least 8) or years (at least 5) up to p's end,
    then the quarter or year in progress as a partial bucket when p ends inside one."""
    size = _GRAIN_MONTHS.get(grain)
    if size is None:
        raise PeriodError(f"cannot split by '{grain}'")
    if size == 1:
        start = min(p.start, add_months(p.end, 1 - TREND_MONTHS))
        return TrendWindow(tuple(split(Period(start, p.end, ""), "month")))
    count = TREND_QUARTERS if size == 3 else TREND_YEARS
    month = p.end % 100
    last_whole = p.end if month % size == 0 else add_months(p.end, -(month % size))
    # Whole buckets inside p itself: a long period shows all of them, not just the minimum.
    first = to_index(p.start)
    while (from_index(first) % 100 - 1) % size:
        first += 1
    inside = max(0, (to_index(last_whole) - first + 1) // size)
    n = max(count, inside)
    whole = split(Period(add_months(last_whole, 1 - n * size), last_whole, ""), grain)
    if last_whole == p.end:
        return TrendWindow(tuple(whole))
    partial = period_for_span(add_months(last_whole, 1), p.end, like="range")
    return TrendWindow((*whole, partial), partial)
