"""Indicator maths: sum numerators and denominators over units and months, then divide."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from .catalog import Catalog, Indicator, OrgUnit, Scope, Target
from .periods import Period, pieces, split
from .repository import Repository

REPORTING = ("REP_EXPECTED", "REP_RECEIVED", "REP_ONTIME", "REP_FACILITIES")
STATUSES = ("met", "near", "not_met", "no_target", "no_data")


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

    def as_dict(self) -> dict:
        return asdict(self)


def status_of(value: float | None, direction: str, target: Target) -> str:
    """met / near / not_met against the target, honouring the indicator's direction."""
    if value is None:
        return "no_data"
    if direction == "band":
        lo, hi = target.band_low, target.band_high
        if lo is None or hi is None:
            return "no_target"
        if lo <= value <= hi:
            return "met"
        margin = target.near or 0.0
        return "near" if lo - margin <= value <= hi + margin else "not_met"
    if target.target is None:
        return "no_target"
    if direction == "down":
        if value <= target.target:
            return "met"
        return "near" if target.near is not None and value <= target.near else "not_met"
    if value >= target.target:
        return "met"
    return "near" if target.near is not None and value >= target.near else "not_met"


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


def _expression(expr, arr: np.ndarray, index: dict[str, int]) -> np.ndarray:
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
    """Vectorised status_of (same rules)."""
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


def evaluate_frame(
    repo: Repository,
    scope: Scope,
    indicators: Sequence[Indicator],
    units: Sequence[OrgUnit],
    periods: Sequence[Period],
    ftypes: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Every indicator × unit × period inside the scope, one row each, in that order.

    Columnar on purpose: a region's scorecard is ten thousand cells, and building them one
    Python object at a time costs more than the database work.
    """
    cat = repo.catalog()
    units = cat.filter_scope(units, scope)
    if not units or not periods or not indicators:
        return pd.DataFrame(columns=COLUMNS)
    buckets = [(p.start, p.end) for p in periods]
    spans = [p.months_by_year() for p in periods]
    nu, nb = len(units), len(periods)
    uidx = {u.id: i for i, u in enumerate(units)}
    is_fac = np.array([u.level == 3 for u in units])
    utype = np.array([u.facility_type or "" for u in units], dtype=object)
    codes = {c for ind in indicators for c in (*ind.numerator.codes, *ind.denominator.codes)}
    des = [cat.data_elements[c] for c in sorted(codes | set(REPORTING)) if c in cat.data_elements]
    if not des:
        return pd.DataFrame(columns=COLUMNS)
    index = {d.code: k for k, d in enumerate(des)}
    didx = {d.id: k for k, d in enumerate(des)}
    counted = [d.id for d in des if d.kind != "population"]
    counted_cols = np.array([didx[i] for i in counted], dtype=int)
    pops = [d for d in des if d.kind == "population"]
    fac_units = [u for u in units if u.level == 3]
    agg_units = [u for u in units if u.level < 3]

    def fill(arr: np.ndarray, group_units: list[OrgUnit], types) -> None:
        if not group_units:
            return
        rows = np.array([uidx[u.id] for u in group_units])
        arr[np.ix_(rows, np.arange(nb), counted_cols)] = repo.sums(
            scope, group_units, types, counted, buckets
        )
        if pops:
            fill_populations(arr, group_units, types)

    need = sorted({y for mby in spans for y in mby})
    weights = np.array([[mby.get(y, 0) / 12.0 for y in need] for mby in spans])  # buckets × years

    def fill_populations(arr: np.ndarray, group_units: list[OrgUnit], types) -> None:
        """Stocks scaled by the months each bucket covers, as one scatter-add; a (unit, element)
        pair missing one of the years takes the nearest year's figure instead."""
        pop_ids = [d.id for d in pops]
        rows = repo.populations(scope, group_units, types, pop_ids, years=need)
        year_col = {y: k for k, y in enumerate(need)}
        u_row = np.array([uidx[int(u)] for u in rows[:, 0]], dtype=int)
        d_col = np.array([didx[int(d)] for d in rows[:, 1]], dtype=int)
        y_pos = np.array([year_col[int(y)] for y in rows[:, 2]], dtype=int)
        # Pairs with every needed year: weights (buckets × years) applied in one go.
        pair = u_row * len(des) + d_col
        counts = (
            np.bincount(pair, minlength=nu * len(des))
            if len(pair)
            else np.zeros(nu * len(des), int)
        )
        full = counts[pair] == len(need)
        if full.any():
            contrib = rows[full, 3][:, None] * weights[:, y_pos[full]].T  # rows × buckets
            target = np.zeros((nu, nb, len(des)))
            hit = np.zeros((nu, nb, len(des)), dtype=bool)
            for b in range(nb):
                np.add.at(target[:, b, :], (u_row[full], d_col[full]), contrib[:, b])
                hit[u_row[full], b, d_col[full]] = True
            arr[hit] = target[hit]
        # The rest (a missing year, or no figure at all): their whole history, nearest year.
        pos_of = {u.id: u for u in group_units}
        short = {
            (u.id, i)
            for u in group_units
            for i in pop_ids
            if counts[uidx[u.id] * len(des) + didx[i]] < len(need)
        }
        if short:
            partial = [pos_of[uid] for uid in {uid for uid, _ in short}]
            history: dict[tuple[int, int], dict[int, float]] = {}
            for uid, de, year, value in repo.populations(scope, partial, types, pop_ids):
                history.setdefault((int(uid), int(de)), {})[int(year)] = value
            for (uid, de), years in history.items():
                if (uid, de) in short:
                    for b, mby in enumerate(spans):
                        arr[uidx[uid], b, didx[de]] = _population(years, mby)

    base = np.full((nu, nb, len(des)), np.nan)
    fill(base, fac_units, None)  # a facility's own values do not depend on the type filter
    groups: dict[tuple[str, ...] | None, list[Indicator]] = {}
    for ind in indicators:
        groups.setdefault(effective_types(ind, ftypes), []).append(ind)
    years = np.array([p.end // 100 for p in periods])
    multi = [bi for bi, p in enumerate(periods) if len(pieces(p.start, p.end)) > 1]

    parts: dict[str, dict[str, np.ndarray]] = {}
    for types, inds in groups.items():
        if types == ():
            continue  # the filter excludes every type these indicators apply to
        arr = base.copy()
        fill(arr, agg_units, types)
        applicable = ~is_fac | (True if types is None else np.isin(utype, list(types)))
        expected = (
            np.nan_to_num(arr[:, :, index["REP_EXPECTED"]])
            if "REP_EXPECTED" in index
            else np.zeros((nu, nb))
        )
        received = (
            np.nan_to_num(arr[:, :, index["REP_RECEIVED"]])
            if "REP_RECEIVED" in index
            else np.zeros((nu, nb))
        )
        ontime = (
            np.nan_to_num(arr[:, :, index["REP_ONTIME"]])
            if "REP_ONTIME" in index
            else np.zeros((nu, nb))
        )
        # Distinct facilities reporting: exact from the rollup when a bucket is one whole
        # month, quarter or year; a span of several pieces asks the report table.
        if "REP_FACILITIES" in index:
            reporting = np.nan_to_num(arr[:, :, index["REP_FACILITIES"]])
        else:
            reporting = received.copy()
        reporting = np.where(is_fac[:, None], np.minimum(reporting, 1.0), reporting)
        if multi and agg_units:
            counts = repo.facilities_reporting(scope, agg_units, types, [buckets[b] for b in multi])
            for u in agg_units:
                for j, b in enumerate(multi):
                    reporting[uidx[u.id], b] = counts.get((u.id, j), 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            completeness = np.where(expected > 0, 100.0 * received / expected, np.nan)
            timeliness = np.where(expected > 0, 100.0 * ontime / expected, np.nan)
        for ind in inds:
            den = _expression(ind.denominator, arr, index)
            num = _expression(ind.numerator, arr, index)
            with np.errstate(invalid="ignore", divide="ignore"):
                ok = den > 0
                num = np.where(ok, np.where(np.isnan(num), 0.0, num), np.nan)
                value = np.where(ok, num / den * ind.factor, np.nan)
            tg = np.empty((4, nu, nb))
            if cat.has_overrides(ind):
                for i, u in enumerate(units):
                    for b in range(nb):
                        t = cat.target_for(ind, u, int(years[b]))
                        tg[:, i, b] = [_f(t.target), _f(t.near), _f(t.band_low), _f(t.band_high)]
            else:
                t = ind.target
                for k, v in enumerate((t.target, t.near, t.band_low, t.band_high)):
                    tg[k] = _f(v)
            parts[ind.code] = {
                "applicable": applicable,
                "numerator": num,
                "denominator": den,
                "value": value,
                "expected_reports": expected,
                "received_reports": received,
                "completeness": completeness,
                "timeliness": timeliness,
                "facilities_reporting": reporting,
                "target": tg[0],
                "status": _status(value, ind.direction, tg[0], tg[1], tg[2], tg[3]),
            }
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
        for k in (
            "numerator",
            "denominator",
            "value",
            "completeness",
            "timeliness",
            "target",
            "status",
        ):
            cols[k].append(part[k].reshape(-1)[keep])
        for k in ("expected_reports", "received_reports", "facilities_reporting"):
            cols[k].append(part[k].reshape(-1)[keep].astype(int))
    if not cols["indicator"]:
        return pd.DataFrame(columns=COLUMNS)
    return pd.DataFrame({c: np.concatenate(v) for c, v in cols.items()})


def _f(v: float | None) -> float:
    return np.nan if v is None else float(v)


def evaluate(
    repo: Repository,
    scope: Scope,
    indicators: Sequence[Indicator],
    units: Sequence[OrgUnit],
    periods: Sequence[Period],
    ftypes: tuple[str, ...] | None = None,
) -> list[Result]:
    """evaluate_frame as Result objects (None where there is no value)."""
    frame = evaluate_frame(repo, scope, indicators, units, periods, ftypes)
    out = []
    for row in frame.itertuples(index=False):
        d = row._asdict()
        for k in ("numerator", "denominator", "value", "completeness", "timeliness", "target"):
            v = d[k]
            d[k] = None if v != v else float(v)
        out.append(Result(**d))
    return out


BREAKDOWNS = ("region", "district", "facility", "month", "quarter", "year")


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
) -> list[Result]:
    """One indicator for one unit and period, optionally broken down by child units or time."""
    cat = repo.catalog()
    units = breakdown_units(cat, scope, unit, by)
    periods = split(period, by) if by in ("month", "quarter", "year") else [period]
    return evaluate(repo, scope, [indicator], units, periods, ftypes)
