"""Identifier systems and period arithmetic shared by the FHIR and ADX readers and writers."""

from __future__ import annotations

import calendar
import re
from datetime import date

from ..periods import Period, month_period, quarter_period, year_period

# Identifier systems naming an org unit by its code in this dashboard (configurable with
# DASHBOARD_FHIR_ORG_SYSTEMS): the facility registry, INE district codes, ISO 3166-2 regions.
FACILITY_SYSTEM = "https://mspbs.gov.py/fhir/sid/establecimiento"
DISTRICT_SYSTEM = "https://www.ine.gov.py/fhir/sid/distrito"
REGION_SYSTEM = "urn:iso:std:iso:3166:-2"
COUNTRY_SYSTEM = "urn:iso:std:iso:3166"
DEFAULT_ORG_SYSTEMS: tuple[str, ...] = (
    FACILITY_SYSTEM,
    DISTRICT_SYSTEM,
    REGION_SYSTEM,
    COUNTRY_SYSTEM,
)
# Which system the exporter writes for each level (country, region, district, facility).
LEVEL_SYSTEMS = (COUNTRY_SYSTEM, REGION_SYSTEM, DISTRICT_SYSTEM, FACILITY_SYSTEM)

_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T.*)?$")


def parse_fhir_date(text: str, end: bool) -> date | None:
    """A FHIR date or dateTime ('2024', '2024-03', '2024-03-31', '2024-03-31T23:59:59Z'); a
    partial date means its first day as a start and its last day as an end."""
    m = _PARTIAL_DATE.match(text.strip())
    if not m:
        return None
    try:
        year = int(m.group(1))
        month = int(m.group(2) or (12 if end else 1))
        if m.group(3):
            day = int(m.group(3))
        else:
            day = calendar.monthrange(year, month)[1] if end else 1
        return date(year, month, day)
    except ValueError:
        return None


def period_from_dates(start: date, end: date) -> Period | None:
    """The month, quarter or year that runs exactly from start to end (inclusive); None else."""
    if start.day != 1 or end.day != calendar.monthrange(end.year, end.month)[1]:
        return None
    if start.year != end.year:
        return None
    if start.month == end.month:
        return month_period(start.year * 100 + start.month)
    if start.month % 3 == 1 and end.month == start.month + 2:
        return quarter_period(start.year, (start.month + 2) // 3)
    if start.month == 1 and end.month == 12:
        return year_period(start.year)
    return None


def period_dates(period: Period) -> tuple[date, date]:
    """First and last day of a period."""
    sy, sm = divmod(period.start, 100)
    ey, em = divmod(period.end, 100)
    return date(sy, sm, 1), date(ey, em, calendar.monthrange(ey, em)[1])


_ADX_PERIOD = re.compile(r"(\d{4}-\d{2}-\d{2})/P(\d+)([MYD])$")


def period_from_adx(text: str) -> Period | None:
    """ADX '2024-01-01/P1M', '2024-01-01/P3M', '2024-01-01/P1Y' -> month, quarter, year."""
    m = _ADX_PERIOD.match(text.strip())
    if not m:
        return None
    try:
        start = date.fromisoformat(m.group(1))
    except ValueError:
        return None
    n, unit = int(m.group(2)), m.group(3)
    if start.day != 1 or unit == "D":
        return None
    months = n * 12 if unit == "Y" else n
    if months not in (1, 3, 12):
        return None
    last = start.month + months - 1
    if last > 12:
        return None
    end = date(start.year, last, calendar.monthrange(start.year, last)[1])
    return period_from_dates(start, end)


def adx_period(period: Period) -> str:
    start, _ = period_dates(period)
    n = period.n_months
    duration = "P1Y" if n == 12 and period.start % 100 == 1 else f"P{n}M"
    return f"{start.isoformat()}/{duration}"
