"""Indicator maths: sum numerators and denominators over units and months, then divide."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd

from .catalog import Catalog, DataElement, Expression, Indicator, OrgUnit, Scope, Target
from .missing import is_missing
from .periods import Period, add_months, pieces, split
from .quality import QualityRules, as_codes, quality_masks
from .repository import Repository

REPORTING = ("REP_EXPECTED", "REP_RECEIVED", "REP_ONTIME", "REP_FACILITIES")
# Outlier counts of every facility-month (rollups.outlier_counts): the quality marks use them.
OUTLIERS = ("DQ_OUTLIERS", "DQ_VALUES")


@dataclass(frozen=True)
class Result:
    indicator: str
    org_unit: str
    org_unit_name: str
    level: str
    period: str
    numerator: float | None
    denominator: float | None
    value: float | None
    expected_reports: int
    received_reports: int
    completeness: float | None  # % of expected reports received
    timeliness: float | None  # % of expected reports received on time
    facilities_reporting: int
    target: float | None
    status: str
    # Data-quality codes (dashboard.quality.CODES) that apply; empty when none does.
    quality: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def status_of(value: float | None, direction: str, target: Target) -> str:
    """met / near / not_met against the target, honouring the indicator's direction: one value
    through the vectorised rules every page uses, so there is one set of rules."""
    one = np.array([_f(value)])
    t = [np.array([_f(v)]) for v in (target.target, target.near, target.band_low, target.band_high)]
    return str(_status(one, direction, *t)[0])


def effective_types(ind: Indicator, ftypes: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """Facility types an indicator is computed over: its own list intersected with the filter."""
    if not ind.facility_types:
        return ftypes
    if ftypes is None:
        return tuple(sorted(ind.facility_types))
    return tuple(t for t in sorted(ftypes) if t in ind.facility_types)


def _population(years: dict[int, float] | None, months_by_year: dict[int, int]) -> float:
    """A stock: the year's figure scaled by the share of the year the period covers.
    A year without a figure takes the nearest year that has one."""
    if not years:
        return np.nan
    total = 0.0
    for year, months in months_by_year.items():
        v = years.get(year)
        if v is None:
            v = years[min(years, key=lambda y: (abs(y - year), -y))]
        total += v * months / 12.0
    return total


def _expression(expr: Expression, arr: np.ndarray, index: dict[str, int]) -> np.ndarray:
    """Vectorised linear expression: a missing element counts as zero unless all are missing."""
    total = np.zeros(arr.shape[:2])
    present = np.zeros(arr.shape[:2], dtype=bool)
    for coef, code in expr.terms:
        k = index.get(code)
        if k is None:
            continue
        col = arr[:, :, k]
        ok = ~np.isnan(col)
        present |= ok
        total += coef * np.where(ok, col, 0.0)
    return np.where(present, total, np.nan)


def _status(
    value: np.ndarray,
    direction: str,
    tgt: np.ndarray,
    near: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> np.ndarray:
    """Status of each value against its target: met / near / not_met honouring the direction,
    no_target where the target (or band) is unset, no_data where there is no value."""
    out = np.full(value.shape, "no_target", dtype="<U9")  # fixed width: object arrays are slow
    with np.errstate(invalid="ignore"):
        if direction == "band":
            has = ~np.isnan(lo) & ~np.isnan(hi)
            margin = np.where(np.isnan(near), 0.0, near)
            met = (value >= lo) & (value <= hi)
            close = (value >= lo - margin) & (value <= hi + margin)
        else:
            has = ~np.isnan(tgt)
            sign = -1.0 if direction == "down" else 1.0
            met = sign * value >= sign * tgt
            close = ~np.isnan(near) & (sign * value >= sign * near)
        out = np.where(has, np.where(met, "met", np.where(close, "near", "not_met")), out)
    return np.where(np.isnan(value), "no_data", out)


COLUMNS = [f.name for f in fields(Result)]


@dataclass(frozen=True)
class Axes:
    """The axes of an evaluation array: units × periods × data elements."""

    units: Sequence[OrgUnit]
    periods: Sequence[Period]
    elements: Sequence[DataElement]

    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.units), len(self.periods), len(self.elements)

    @cached_property
    def index(self) -> dict[str, int]:
        """Column of each data element code."""
        return {d.code: k for k, d in enumerate(self.elements)}

    @cached_property
    def row(self) -> dict[int, int]:
        """Row of each unit id."""
        return {u.id: i for i, u in enumerate(self.units)}


@dataclass(frozen=True)
class Reporting:
    """Report counts per unit × period, and the rates made of them (NaN: nothing expected)."""

    expected: np.ndarray
    received: np.ndarray
    ontime: np.ndarray
    facilities: np.ndarray
    completeness: np.ndarray
    timeliness: np.ndarray


def elements_needed(cat: Catalog, indicators: Sequence[Indicator]) -> list[DataElement]:
    """The data elements of the indicators' expressions plus the reporting counts, by code."""
    codes = {c for ind in indicators for c in (*ind.numerator.codes, *ind.denominator.codes)}
    codes |= set(REPORTING) | set(OUTLIERS)
    return [cat.data_elements[c] for c in sorted(codes) if c in cat.data_elements]


def load_array(
    repo: Repository,
    scope: Scope,
    axes: Axes,
    group: Sequence[OrgUnit],
    ftypes: tuple[str, ...] | None,
    arr: np.ndarray,
) -> None:
    """Fill arr's rows of the `group` units: sums of counted elements and populations (stocks
    scaled by the months each period covers) for the facility types asked for."""
    if not group:
        return
    didx = {d.id: k for k, d in enumerate(axes.elements)}
    counted = [d.id for d in axes.elements if d.kind != "population"]
    buckets = [(p.start, p.end) for p in axes.periods]
    rows = np.array([axes.row[u.id] for u in group])
    cols = np.array([didx[i] for i in counted], dtype=int)
    arr[np.ix_(rows, np.arange(len(buckets)), cols)] = repo.sums(
        scope, group, ftypes, counted, buckets
    )
    pops = [d.id for d in axes.elements if d.kind == "population"]
    if pops:
        _load_populations(repo, scope, axes, group, ftypes, pops, arr)


def _load_populations(
    repo: Repository,
    scope: Scope,
    axes: Axes,
    group: Sequence[OrgUnit],
    ftypes: tuple[str, ...] | None,
    pop_ids: list[int],
    arr: np.ndarray,
) -> None:
    """Stocks scaled by the months each bucket covers, as one scatter-add; a (unit, element)
    pair missing one of the years takes the nearest year's figure instead."""
    nu, nb, nd = axes.shape
    didx = {d.id: k for k, d in enumerate(axes.elements)}
    spans = [p.months_by_year() for p in axes.periods]
    need = sorted({y for mby in spans for y in mby})
    weights = np.array([[mby.get(y, 0) / 12.0 for y in need] for mby in spans])  # buckets × years
    rows = repo.populations(scope, group, ftypes, pop_ids, years=need)
    year_col = {y: k for k, y in enumerate(need)}
    u_row = np.array([axes.row[int(u)] for u in rows[:, 0]], dtype=int)
    d_col = np.array([didx[int(d)] for d in rows[:, 1]], dtype=int)
    y_pos = np.array([year_col[int(y)] for y in rows[:, 2]], dtype=int)
    # Pairs with every needed year: weights (buckets × years) applied in one go.
    pair = u_row * nd + d_col
    counts = np.bincount(pair, minlength=nu * nd) if len(pair) else np.zeros(nu * nd, int)
    full = counts[pair] == len(need)
    if full.any():
        contrib = rows[full, 3][:, None] * weights[:, y_pos[full]].T  # rows × buckets
        target = np.zeros((nu, nb, nd))
        hit = np.zeros((nu, nb, nd), dtype=bool)
        for b in range(nb):
            np.add.at(target[:, b, :], (u_row[full], d_col[full]), contrib[:, b])
            hit[u_row[full], b, d_col[full]] = True
        arr[hit] = target[hit]
    # The rest (a missing year, or no figure at all): their whole history, nearest year.
    short = {
        (u.id, i)
        for u in group
        for i in pop_ids
        if counts[axes.row[u.id] * nd + didx[i]] < len(need)
    }
    if short:
        by_id = {u.id: u for u in group}
        partial = [by_id[uid] for uid in {uid for uid, _ in short}]
        history: dict[tuple[int, int], dict[int, float]] = {}
        for uid, de, year, value in repo.populations(scope, partial, ftypes, pop_ids):
            history.setdefault((int(uid), int(de)), {})[int(year)] = value
        for (uid, de), years in history.items():
            if (uid, de) in short:
                for b, mby in enumerate(spans):
                    arr[axes.row[uid], b, didx[de]] = _population(years, mby)


def reporting(
    arr: np.ndarray,
    axes: Axes,
    distinct: dict[tuple[int, int], int] | None = None,
) -> Reporting:
    """Report counts and rates from the array's REP_* columns.

    `distinct`: facilities reporting per (unit id, period index) where the rollup cannot say
    (a period of several pieces); it overrides the REP_FACILITIES column there."""
    nu, nb, _ = axes.shape

    def column(code: str) -> np.ndarray:
        k = axes.index.get(code)
        return np.nan_to_num(arr[:, :, k]) if k is not None else np.zeros((nu, nb))

    expected, received, ontime = (
        column("REP_EXPECTED"),
        column("REP_RECEIVED"),
        column("REP_ONTIME"),
    )
    facilities = column("REP_FACILITIES") if "REP_FACILITIES" in axes.index else received.copy()
    is_fac = np.array([u.level == 3 for u in axes.units], dtype=bool)
    facilities = np.where(is_fac[:, None], np.minimum(facilities, 1.0), facilities)
    for (uid, b), n in (distinct or {}).items():
        facilities[axes.row[uid], b] = n
    with np.errstate(invalid="ignore", divide="ignore"):
        completeness = np.where(expected > 0, 100.0 * received / expected, np.nan)
        timeliness = np.where(expected > 0, 100.0 * ontime / expected, np.nan)
    return Reporting(expected, received, ontime, facilities, completeness, timeliness)


def _distinct_reporting(
    repo: Repository,
    scope: Scope,
    axes: Axes,
    ftypes: tuple[str, ...] | None,
) -> dict[tuple[int, int], int]:
    """Distinct facilities reporting of aggregate units over periods of several pieces (the
    rollup is exact for one whole month, quarter or year): counted from the report masks."""
    multi = [b for b, p in enumerate(axes.periods) if len(pieces(p.start, p.end)) > 1]
    aggregates = [u for u in axes.units if u.level < 3]
    if not multi or not aggregates:
        return {}
    buckets = [(axes.periods[b].start, axes.periods[b].end) for b in multi]
    counts = repo.facilities_reporting(scope, aggregates, ftypes, buckets)
    return {(u.id, b): counts.get((u.id, j), 0) for u in aggregates for j, b in enumerate(multi)}


def ratio(
    ind: Indicator, arr: np.ndarray, index: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numerator, denominator and value (Σ numerator / Σ denominator × factor) per unit ×
    period. No value where the denominator is missing or zero; where it exists (zero
    included: 3 cases over no population is a fact to show) a missing numerator counts as
    zero. No numerator without a denominator."""
    den = _expression(ind.denominator, arr, index)
    num = _expression(ind.numerator, arr, index)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = den > 0
        num = np.where(np.isnan(den), np.nan, np.where(np.isnan(num), 0.0, num))
        value = np.where(ok, num / den * ind.factor, np.nan)
    return num, den, value


def targets(
    cat: Catalog, ind: Indicator, units: Sequence[OrgUnit], periods: Sequence[Period]
) -> np.ndarray:
    """(target, near, band_low, band_high) × unit × period, NaN where unset; the most specific
    override wins, by the year each period ends in."""
    tg = np.empty((4, len(units), len(periods)))
    if not cat.has_overrides(ind):
        t = ind.target
        for k, v in enumerate((t.target, t.near, t.band_low, t.band_high)):
            tg[k] = _f(v)
        return tg
    for i, u in enumerate(units):
        for b, p in enumerate(periods):
            t = cat.target_for(ind, u, p.end // 100)
            tg[:, i, b] = [_f(t.target), _f(t.near), _f(t.band_low), _f(t.band_high)]
    return tg


def assemble(
    indicators: Sequence[Indicator],
    units: Sequence[OrgUnit],
    periods: Sequence[Period],
    parts: dict[str, dict[str, np.ndarray]],
) -> pd.DataFrame:
    """One row per indicator × applicable unit × period, in that order, from each indicator's
    unit × period arrays (indicators without a part are left out)."""
    nu, nb = len(units), len(periods)
    codes_u = np.array([u.code for u in units], dtype=object)
    names_u = np.array([u.name for u in units], dtype=object)
    levels_u = np.array([u.level_name for u in units], dtype=object)
    pids = np.array([p.id for p in periods], dtype=object)
    cols: dict[str, list[np.ndarray]] = {c: [] for c in COLUMNS}
    for ind in indicators:
        part = parts.get(ind.code)
        if part is None:
            continue
        keep = np.repeat(part["applicable"], nb)
        n = int(keep.sum())
        cols["indicator"].append(np.full(n, ind.code, dtype=object))
        cols["org_unit"].append(np.repeat(codes_u, nb)[keep])
        cols["org_unit_name"].append(np.repeat(names_u, nb)[keep])
        cols["level"].append(np.repeat(levels_u, nb)[keep])
        cols["period"].append(np.tile(pids, nu)[keep])
        for name in FLOAT_COLUMNS:
            cols[name].append(part[name].reshape(-1)[keep])
        cols["status"].append(part["status"].reshape(-1)[keep])
        masks = part.get("quality", np.zeros(nu * nb, dtype=np.int64))  # none: no codes
        cols["quality"].append(as_codes(np.reshape(masks, -1)[keep]))
        for name in COUNT_COLUMNS:
            cols[name].append(part[name].reshape(-1)[keep].astype(int))
    if not cols["indicator"]:
        return pd.DataFrame(columns=COLUMNS)
    return pd.DataFrame({c: np.concatenate(v) for c, v in cols.items()})


FLOAT_COLUMNS = ("numerator", "denominator", "value", "completeness", "timeliness", "target")
COUNT_COLUMNS = ("expected_reports", "received_reports", "facilities_reporting")


def last_complete_month(today: date) -> int:
    return add_months(today.year * 100 + today.month, -1)


def unreported_months(
    cat: Catalog,
    axes: Axes,
    ftypes: tuple[str, ...] | None,
    today: date | None,
    arr: np.ndarray,
) -> None:
    """Add to REP_EXPECTED the months after the store's last expected report up to the last
    complete month of the calendar: every facility open then was expected to report, so a
    region that stopped reporting shows 0 % complete, not "no data"."""
    k = axes.index.get("REP_EXPECTED")
    if k is None:
        return
    until = last_complete_month(today or date.today())
    after = cat.reports_until
    tails = []
    for p in axes.periods:
        start = p.start if after is None else max(p.start, add_months(after, 1))
        months = []
        m = start
        while m <= min(p.end, until):
            months.append(m)
            m = add_months(m, 1)
        tails.append(months)
    if not any(tails):
        return
    for i, u in enumerate(axes.units):
        facs = [u] if u.level == 3 else cat.descendants(u, 3)
        if u.level < 3 and ftypes is not None:
            facs = [f for f in facs if f.facility_type in ftypes]
        for b, months in enumerate(tails):
            if months:
                n = sum(cat.active_in(f, m) for f in facs for m in months)
                arr[i, b, k] = np.nan_to_num(arr[i, b, k]) + n


def evaluate_frame(
    repo: Repository,
    scope: Scope,
    indicators: Sequence[Indicator],
    units: Sequence[OrgUnit],
    periods: Sequence[Period],
    ftypes: tuple[str, ...] | None = None,
    rules: QualityRules | None = None,
    today: date | None = None,
) -> pd.DataFrame:
    """Every indicator × unit × period inside the scope, one row each, in that order, each
    with its data-quality codes (`quality`, under `rules`). `today` (default: the real date)
    bounds the months a facility is expected to report.

    Columnar on purpose: a region's scorecard is ten thousand cells, and building them one
    Python object at a time costs more than the database work.
    """
    rules = rules or QualityRules()
    cat = repo.catalog()
    units = cat.filter_scope(units, scope)
    if not units or not periods or not indicators:
        return pd.DataFrame(columns=COLUMNS)
    des = elements_needed(cat, indicators)
    if not des:
        return pd.DataFrame(columns=COLUMNS)
    axes = Axes(units, periods, des)
    is_fac = np.array([u.level == 3 for u in units])
    utype = np.array([u.facility_type or "" for u in units], dtype=object)
    base = np.full(axes.shape, np.nan)
    # A facility's own values do not depend on the type filter: read them once.
    load_array(repo, scope, axes, [u for u in units if u.level == 3], None, base)
    groups: dict[tuple[str, ...] | None, list[Indicator]] = {}
    for ind in indicators:
        groups.setdefault(effective_types(ind, ftypes), []).append(ind)
    parts: dict[str, dict[str, np.ndarray]] = {}
    for types, inds in groups.items():
        if types == ():
            continue  # the filter excludes every type these indicators apply to
        arr = base.copy()
        load_array(repo, scope, axes, [u for u in units if u.level < 3], types, arr)
        unreported_months(cat, axes, types, today, arr)
        rep = reporting(arr, axes, _distinct_reporting(repo, scope, axes, types))
        applicable = ~is_fac | (True if types is None else np.isin(utype, list(types)))
        outliers = _column(arr, axes, "DQ_OUTLIERS")
        reported = _column(arr, axes, "DQ_VALUES")
        estimated = EstimatedDenominators(repo, scope, axes, types)
        for ind in inds:
            num, den, value = ratio(ind, arr, axes.index)
            tg = targets(cat, ind, units, periods)
            mask = quality_masks(
                numerator=num,
                denominator=den,
                value=value,
                completeness=rep.completeness,
                outliers=outliers,
                values_reported=reported,
                coverage=is_coverage(cat, ind),
                rules=rules,
                estimated=estimated.of(cat, ind),
            )
            parts[ind.code] = {
                "applicable": applicable,
                "numerator": num,
                "denominator": den,
                "value": value,
                "expected_reports": rep.expected,
                "received_reports": rep.received,
                "completeness": rep.completeness,
                "timeliness": rep.timeliness,
                "facilities_reporting": rep.facilities,
                "target": tg[0],
                "status": _status(value, ind.direction, tg[0], tg[1], tg[2], tg[3]),
                "quality": mask,
            }
    return assemble(indicators, units, periods, parts)


class EstimatedDenominators:
    """Which unit × period values of an indicator rest on an estimated population: read once
    per (population element, year) for the units of one facility-type group and shared by the
    group's indicators (a scorecard asks for a handful of elements and one or two years)."""

    def __init__(self, repo: Repository, scope: Scope, axes: Axes, ftypes: tuple[str, ...] | None):
        self.repo, self.scope, self.axes, self.ftypes = repo, scope, axes, ftypes
        self._ids: dict[tuple[int, int], set[int]] = {}
        self._years = [sorted(p.months_by_year()) for p in axes.periods]

    def _estimated(self, de_id: int, year: int) -> set[int]:
        key = (de_id, year)
        if key not in self._ids:
            units = list(self.axes.units)
            self._ids[key] = self.repo.estimated_populations(
                self.scope, units, self.ftypes, [de_id], [year]
            )
        return self._ids[key]

    def of(self, cat: Catalog, ind: Indicator) -> np.ndarray | None:
        """True where a population in the indicator's denominator, in a year the period
        covers, is estimated; None when the denominator has no population."""
        pops = [
            cat.data_elements[c].id
            for c in ind.denominator.codes
            if c in cat.data_elements and cat.data_elements[c].kind == "population"
        ]
        if not pops:
            return None
        out = np.zeros(self.axes.shape[:2], dtype=bool)
        for b, years in enumerate(self._years):
            ids = set().union(*(self._estimated(d, y) for d in pops for y in years))
            if ids:
                rows = [self.axes.row[i] for i in ids if i in self.axes.row]
                out[rows, b] = True
        return out


def _column(arr: np.ndarray, axes: Axes, code: str) -> np.ndarray:
    k = axes.index.get(code)
    return np.nan_to_num(arr[:, :, k]) if k is not None else np.zeros(axes.shape[:2])


def is_coverage(cat: Catalog, ind: Indicator) -> bool:
    """A percentage of a population (vaccinated, pregnant women seen): above 100 % it says the
    population figure is too small."""
    return ind.factor == 100 and any(
        cat.data_elements[c].kind == "population"
        for c in ind.denominator.codes
        if c in cat.data_elements
    )


def _f(v: float | None) -> float:
    return np.nan if v is None else float(v)


def evaluate(
    repo: Repository,
    scope: Scope,
    indicators: Sequence[Indicator],
    units: Sequence[OrgUnit],
    periods: Sequence[Period],
    ftypes: tuple[str, ...] | None = None,
    rules: QualityRules | None = None,
    today: date | None = None,
) -> list[Result]:
    """evaluate_frame as Result objects (None where there is no value)."""
    frame = evaluate_frame(repo, scope, indicators, units, periods, ftypes, rules, today)
    out = []
    for row in frame.itertuples(index=False):
        d = row._asdict()
        for k in ("numerator", "denominator", "value", "completeness", "timeliness", "target"):
            v = d[k]
            d[k] = None if is_missing(v) else float(v)
        d["quality"] = list(d["quality"])
        out.append(Result(**d))
    return out


def breakdown_units(cat: Catalog, scope: Scope, unit: OrgUnit, by: str | None) -> list[OrgUnit]:
    if by in ("region", "district", "facility"):
        level = {"region": 1, "district": 2, "facility": 3}[by]
        return cat.filter_scope(cat.descendants(unit, level), scope)
    return cat.filter_scope([unit], scope)


def query(
    repo: Repository,
    scope: Scope,
    indicator: Indicator,
    unit: OrgUnit,
    period: Period,
    by: str | None = None,
    ftypes: tuple[str, ...] | None = None,
    rules: QualityRules | None = None,
    today: date | None = None,
) -> list[Result]:
    """One indicator for one unit and period, optionally broken down by child units or time."""
    cat = repo.catalog()
    units = breakdown_units(cat, scope, unit, by)
    periods = split(period, by) if by in ("month", "quarter", "year") else [period]
    return evaluate(repo, scope, [indicator], units, periods, ftypes, rules, today)
