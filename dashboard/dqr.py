"""The WHO Data Quality Review of a unit and period: completeness and timeliness (1a, 1b),
outliers (2a, 2b), consistency over time (2d) and between related indicators (2e), and
denominator consistency (4a), as frames shared by /calidad, its exports and its PDF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .aggregate import Axes, evaluate_frame, load_array
from .catalog import Catalog, OrgUnit
from .filters import Filters, resolve_period
from .memo import CatalogLRU
from .periods import Period, add_months
from .quality import ReviewRules
from .rollups import TRACERS
from .views import Context, children, selected_unit

# 2e: related pairs (A, B) where B should not exceed A (a dropout).
RELATIONS = (("PENTA1", "PENTA3"), ("CPN_1", "CPN_4"))
# 4a: the official population against the alternative counted by the services: children under
# one against live births reported in the facilities over the same span.
DENOMINATOR = ("POP_LT1", "NAC_VIVOS")
PRIOR_YEARS = 3  # 2d: the mean of the three years before (WHO DQR review default)
MIN_SERIES = 6  # fewer monthly values than this give no outlier (as the rollup's counts)
SHOWN_OUTLIERS = 50  # the page lists the strongest; the export lists them all


# ==== Arithmetic (pure, hand-tested) ==============================================================
def modified_z(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Modified z-score of each value against its row (the last axis is one series):
    0.6745 × (x − median) / MAD. NaN where the row has fewer than MIN_SERIES values, the MAD is
    0 (a flat series flags nothing) or the value is missing.

    Also returns the row medians the scores were measured from (a length-1 last axis): the
    outlier list shows both, and each median is one sort of the row."""
    v = np.asarray(values, dtype=float)
    n = np.sum(~np.isnan(v), axis=-1, keepdims=True)
    med = row_median(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        mad = row_median(np.abs(v - med))
        z = 0.6745 * (v - med) / np.where(mad > 0, mad, np.nan)
    return np.where(n >= MIN_SERIES, np.abs(z), np.nan), med


def row_median(v: np.ndarray) -> np.ndarray:
    """The median of each row's values (last axis, NaN ignored; NaN for an empty row), kept as
    a length-1 last axis: np.nanmedian's result, by one sort (NaN sorts last), several times
    faster on many short series."""
    v = np.asarray(v, dtype=float)
    n = np.sum(~np.isnan(v), axis=-1, keepdims=True)
    s = np.sort(v, axis=-1)
    lo = np.take_along_axis(s, np.maximum((n - 1) // 2, 0), axis=-1)
    hi = np.take_along_axis(s, np.maximum(n // 2, 0), axis=-1) if s.shape[-1] else lo
    return np.where(n > 0, (lo + hi) / 2, np.nan)


class _quiet_nan:
    """nanmedian of an all-NaN row warns; an empty series is expected here."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def severity(z: np.ndarray, rules: ReviewRules) -> np.ndarray:
    """'extreme', 'moderate' or '' for each modified z-score."""
    z = np.nan_to_num(np.asarray(z, dtype=float), nan=0.0)
    return np.where(
        z >= rules.extreme_z, "extreme", np.where(z >= rules.moderate_z, "moderate", "")
    )


def at_or_below(rate: np.ndarray, threshold: float) -> np.ndarray:
    """WHO's reporting-rate flag: a rate at or below the threshold (no rate: no flag)."""
    r = np.asarray(rate, dtype=float)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(r) & (r <= threshold)


def over_time(current: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean of the prior years present, ratio current / that mean); prior is units × years,
    NaN or 0 for a year without data. No ratio without a prior mean above 0."""
    p = np.where(np.asarray(prior, dtype=float) > 0, prior, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"), _quiet_nan():
        mean = np.nanmean(p, axis=-1)
        ratio = np.where(mean > 0, np.asarray(current, dtype=float) / mean, np.nan)
    return mean, ratio


def off_by(ratio: np.ndarray, percent: float) -> np.ndarray:
    """A ratio more than `percent` % away from 1 (either way)."""
    r = np.asarray(ratio, dtype=float)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(r) & (np.abs(r - 1.0) * 100.0 > percent)


def dropout(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A − B) / A × 100: the share of those who had A and not B; NaN without A."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(a > 0, (a - np.nan_to_num(b)) / a * 100.0, np.nan)


def difference(official: np.ndarray, alternative: np.ndarray) -> np.ndarray:
    """(alternative − official) / official × 100; NaN without an official figure."""
    o, a = np.asarray(official, dtype=float), np.asarray(alternative, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(o > 0, (a - o) / o * 100.0, np.nan)


# ==== The review of a view ========================================================================
@dataclass(frozen=True)
class Review:
    unit: OrgUnit
    period: Period
    rules: ReviewRules
    # 1a, 1b: the unit first, then its children: org_unit, name, expected, received,
    # completeness, ontime, timeliness, low_completeness, low_timeliness.
    reporting: pd.DataFrame
    # 2a, 2b: one row per outlier month: area, facility, facility_name, element, month, value,
    # median, z, severity (strongest first).
    outliers: pd.DataFrame
    # Per child: org_unit, name, values, moderate, extreme (all outliers, not only the listed).
    outlier_counts: pd.DataFrame
    # 2d: org_unit, name, element, current, prior_mean, ratio, flag.
    over_time: pd.DataFrame
    # 2e: org_unit, name, a, b, value_a, value_b, dropout, flag.
    relations: pd.DataFrame
    # 4a: org_unit, name, official, alternative, difference, estimated, flag.
    denominators: pd.DataFrame
    prior: tuple[Period, ...]  # the comparison spans of 2d, nearest first


def review_units(ctx: Context, f: Filters) -> tuple[OrgUnit, list[OrgUnit]]:
    """The unit reviewed and its rows (regions of the country, districts of a region, a
    district's facilities), within the scope."""
    unit = selected_unit(ctx, f)
    return unit, children(ctx, unit)


def review(ctx: Context, f: Filters) -> Review:
    unit, rows = review_units(ctx, f)
    p = resolve_period(f, ctx.today)
    rules = ctx.dqr
    units = [unit, *rows]
    prior = tuple(p.shifted(-12 * k) for k in range(1, PRIOR_YEARS + 1))
    # One read for every element the review uses: the tracers and relations over p and the
    # years before, the denominators over p.
    codes = [*TRACERS, *(c for r in RELATIONS for c in r), *DENOMINATOR]
    values = _read(ctx, units, [p, *prior], codes)
    outliers, counts = _outliers(ctx, unit, rows, p, rules)
    denominators = _denominators(ctx, units, p, rules, values)
    if ctx.suppress is not None:
        # Restricted users: a count of 1..threshold events is not shown, nor what it gives.
        values = {k: _hide(v, ctx.suppress) for k, v in values.items()}
        denominators["alternative"] = _hide(denominators["alternative"].to_numpy(), ctx.suppress)
        hidden = denominators.alternative.isna() & denominators.difference.notna()
        denominators.loc[hidden, ["difference", "flag"]] = [np.nan, False]
        outliers = outliers[outliers.value > ctx.suppress].reset_index(drop=True)
    return Review(
        unit=unit,
        period=p,
        rules=rules,
        reporting=_reporting(ctx, units, p, rules),
        outliers=outliers,
        outlier_counts=counts,
        over_time=_over_time(units, values, rules),
        relations=_relations(units, values, rules),
        denominators=denominators,
        prior=prior,
    )


class ReviewCache:
    """Reviews recently built, reused while the catalog is the same object (the repository
    reloads it whenever the data version moves, so any import makes every entry stale). A
    review reads a year of every facility's months, and only an import changes it; one per
    app, built by the composition root, shared by its request threads."""

    def __init__(self, size: int = 32):
        self._entries: CatalogLRU[Review] = CatalogLRU(size)

    def review(self, ctx: Context, f: Filters) -> Review:
        cat = ctx.cat
        unit, _ = review_units(ctx, f)
        p = resolve_period(f, ctx.today)
        key = (ctx.scope, unit.code, p.start, p.end, ctx.dqr, ctx.suppress)
        hit = self._entries.get(key, cat)
        if hit is None:
            hit = review(ctx, f)
            self._entries.put(key, cat, hit)
        return hit


def _read(
    ctx: Context, units: Sequence[OrgUnit], periods: Sequence[Period], codes: Sequence[str]
) -> dict[str, np.ndarray]:
    """Sums of each element per unit × period (all facility types), NaN where nothing came."""
    cat = ctx.cat
    des = [cat.data_elements[c] for c in dict.fromkeys(codes) if c in cat.data_elements]
    axes = Axes(units, periods, des)
    arr = np.full(axes.shape, np.nan)
    load_array(ctx.repo, ctx.scope, axes, units, None, arr)
    return {d.code: arr[:, :, k] for k, d in enumerate(des)}


def _hide(v: np.ndarray, threshold: int) -> np.ndarray:
    """Counts of 1..threshold as missing (disclosure control of the review's counts)."""
    v = np.asarray(v, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where((v >= 1) & (v <= threshold), np.nan, v)


def _base(units: Sequence[OrgUnit]) -> dict[str, Any]:
    return {"org_unit": [u.code for u in units], "name": [u.name for u in units]}


def _reporting(
    ctx: Context, units: Sequence[OrgUnit], p: Period, rules: ReviewRules
) -> pd.DataFrame:
    cat = ctx.cat
    inds = [cat.indicators[c] for c in ("DQ-01",) if c in cat.indicators]
    frame = evaluate_frame(ctx.repo, ctx.scope, inds, units, [p], today=ctx.today)
    if frame.empty:
        return pd.DataFrame(columns=[*_base(()), "expected", "received"])
    # Columns gathered first and made into one frame: inserting them one by one into a
    # DataFrame cost more than the review's reads.
    cols = _base(units)
    f = frame.set_index("org_unit").reindex(cols["org_unit"])
    completeness = f.completeness.to_numpy(dtype=float)
    timeliness = f.timeliness.to_numpy(dtype=float)
    cols.update(
        expected=f.expected_reports.to_numpy(),
        received=f.received_reports.to_numpy(),
        completeness=completeness,
        timeliness=timeliness,
        low_completeness=at_or_below(completeness, rules.completeness),
        low_timeliness=at_or_below(timeliness, rules.timeliness),
    )
    return pd.DataFrame(cols)


def _over_time(
    units: Sequence[OrgUnit], values: dict[str, np.ndarray], rules: ReviewRules
) -> pd.DataFrame:
    codes = [c for c in TRACERS if c in values]
    if not codes:
        return pd.DataFrame()
    # One frame from whole columns (a frame per element and a concat cost more than the sums).
    base = _base(units)
    cols: dict[str, list] = {k: [] for k in (*base, "element", "current", "prior_mean")}
    cols.update(ratio=[], flag=[])
    for code in codes:
        v = values[code]
        mean, ratio = over_time(v[:, 0], v[:, 1:])
        for k, vals in base.items():
            cols[k] += vals
        cols["element"] += [code] * len(units)
        cols["current"] += v[:, 0].tolist()
        cols["prior_mean"] += np.asarray(mean, dtype=float).tolist()
        cols["ratio"] += np.asarray(ratio, dtype=float).tolist()
        cols["flag"] += np.asarray(off_by(ratio, rules.consistency), dtype=bool).tolist()
    return pd.DataFrame(cols)


def _relations(
    units: Sequence[OrgUnit], values: dict[str, np.ndarray], rules: ReviewRules
) -> pd.DataFrame:
    frames = []
    for a, b in RELATIONS:
        if a not in values or b not in values:
            continue
        va, vb = values[a][:, 0], values[b][:, 0]
        d = dropout(va, vb)
        cols = _base(units)
        with np.errstate(invalid="ignore"):
            flag = ~np.isnan(d) & (d < rules.dropout)
        cols.update(
            a=[a] * len(units), b=[b] * len(units), value_a=va, value_b=vb, dropout=d, flag=flag
        )
        frames.append(pd.DataFrame(cols))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _denominators(
    ctx: Context,
    units: Sequence[OrgUnit],
    p: Period,
    rules: ReviewRules,
    v: dict[str, np.ndarray],
) -> pd.DataFrame:
    """`v`: the review's read (its first period is p)."""
    cat = ctx.cat
    official, alternative = DENOMINATOR
    if official not in cat.data_elements or alternative not in cat.data_elements:
        return pd.DataFrame()
    o, a = v[official][:, 0], v[alternative][:, 0]
    diff = difference(o, a)
    years = sorted(p.months_by_year())
    est = ctx.repo.estimated_populations(
        ctx.scope, units, None, [cat.data_elements[official].id], years
    )
    cols = _base(units)
    cols.update(
        official=o,
        alternative=a,
        difference=diff,
        estimated=[u.id in est for u in units],
        flag=off_by(1.0 + diff / 100.0, rules.denominator),
    )
    return pd.DataFrame(cols)


def _outliers(
    ctx: Context, unit: OrgUnit, rows: Sequence[OrgUnit], p: Period, rules: ReviewRules
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Outlier months of the tracers in the facilities under the unit, listed within p. Each
    facility's series is p's months, or the 12 months up to p's end when p is shorter (a
    month alone is no series); the WHO app's outlier analysis also scores the months asked."""
    cat = ctx.cat
    # The unit's facilities within the scope: the same for every period, so kept per data version.
    facs = cat.memo(
        ("dqr_facilities", unit.id, ctx.scope),
        lambda: cat.filter_scope(cat.descendants(unit, 3) if unit.level < 3 else [unit], ctx.scope),
    )
    months = p.months()
    if p.n_months < 12:
        months = Period(add_months(p.end, -11), p.end, "").months()
    list_cols = ["area", "facility", "facility_name", "element", "month", "value", "median", "z"]
    if not facs:
        count_frame = pd.DataFrame({**_base(rows), "values": 0, "moderate": 0, "extreme": 0})
        return pd.DataFrame(columns=[*list_cols, "severity"]), count_frame
    v = ctx.repo.monthly_series(ctx.scope, facs, months, TRACERS)
    in_p = np.array([p.start <= m <= p.end for m in months])
    # Which row each facility falls under: also the same for every period.
    area, where = cat.memo(
        ("dqr_areas", unit.id, ctx.scope, tuple(r.id for r in rows)),
        lambda: _areas(cat, facs, rows),
    )
    under = where >= 0
    totals = np.zeros((len(rows), 3), dtype=int)  # values, moderate, extreme
    found = []
    for code, arr in v.items():  # facilities × months
        z, row_med = modified_z(arr)
        med = np.broadcast_to(row_med, arr.shape)
        zp = np.nan_to_num(z[:, in_p], nan=0.0)
        extreme = zp >= rules.extreme_z
        moderate = (zp >= rules.moderate_z) & ~extreme
        per_fac = np.stack(
            [(~np.isnan(arr[:, in_p])).sum(1), moderate.sum(1), extreme.sum(1)], axis=1
        )
        np.add.at(totals, where[under], per_fac[under])
        cols = np.flatnonzero(in_p)
        fi, mi = np.nonzero(moderate | extreme)
        for fi_, j in zip(fi.tolist(), cols[mi].tolist(), strict=True):
            fac = facs[fi_]
            found.append(
                (
                    area[fi_] or "",
                    fac.code,
                    fac.name,
                    code,
                    months[j],
                    arr[fi_, j],
                    med[fi_, j],
                    z[fi_, j],
                    "extreme" if z[fi_, j] >= rules.extreme_z else "moderate",
                )
            )
    # Highest z first, then facility and month (sorted here: a handful of rows).
    found.sort(key=lambda x: (-x[7], x[1], x[4]))
    listed = pd.DataFrame(found, columns=[*list_cols, "severity"])
    count_frame = pd.DataFrame(
        {**_base(rows), "values": totals[:, 0], "moderate": totals[:, 1], "extreme": totals[:, 2]}
    )
    return listed, count_frame


def _areas(
    cat: Catalog, facs: Sequence[OrgUnit], rows: Sequence[OrgUnit]
) -> tuple[list[str | None], np.ndarray]:
    """Each facility's row code (_area_of) and that row's position in rows (-1: none)."""
    area = _area_of(cat, facs, rows)
    row_of = {r.code: k for k, r in enumerate(rows)}
    return area, np.array([row_of.get(a or "", -1) for a in area], dtype=int)


def _area_of(cat: Catalog, facs: Sequence[OrgUnit], rows: Sequence[OrgUnit]) -> list[str | None]:
    """The code of the row (child of the reviewed unit) each facility falls under."""
    codes = {r.id: r.code for r in rows}
    out: list[str | None] = []
    for fac in facs:
        # A row is a region, a district or the facility itself: one of its three ids.
        hit = (
            codes.get(fac.id) or codes.get(fac.district_id or -1) or codes.get(fac.region_id or -1)
        )
        out.append(hit)
    return out


def summary(r: Review) -> pd.DataFrame:
    """One row per metric: the reviewed unit's own figure, the threshold, and how many of its
    rows are flagged (the WHO DQR summary table)."""
    rep, oc, rules, own = r.reporting, r.outlier_counts, r.rules, r.unit.code
    n = max(len(rep) - 1, 0)

    def split(frame: pd.DataFrame, column: str, **match) -> tuple[float, int]:
        """(the unit's own value, rows flagged) of the frame's rows matching `match`."""
        if frame.empty:
            return np.nan, 0
        sel = np.ones(len(frame), dtype=bool)
        for k, v in match.items():
            sel &= frame[k].to_numpy() == v
        is_own = frame.org_unit.to_numpy() == own
        mine = frame[column].to_numpy()[sel & is_own]
        flagged = int(frame.flag.to_numpy()[sel & ~is_own].sum())
        return (float(mine[0]) if len(mine) else np.nan), flagged

    values = int(oc["values"].sum()) if len(oc) else 0
    moderate = int(oc.moderate.sum()) if len(oc) else 0
    extreme = int(oc.extreme.sum()) if len(oc) else 0

    def share(k: int) -> float:
        return 100.0 * k / values if values else np.nan

    first = rep.iloc[0] if len(rep) else None
    metrics: list[tuple] = [
        (
            "1a",
            "completeness",
            first.completeness if first is not None else np.nan,
            rules.completeness,
            int(rep.low_completeness.iloc[1:].sum()) if n else 0,
        ),
        (
            "1b",
            "timeliness",
            first.timeliness if first is not None else np.nan,
            rules.timeliness,
            int(rep.low_timeliness.iloc[1:].sum()) if n else 0,
        ),
        (
            "2a",
            "moderate",
            share(moderate + extreme),
            rules.moderate_z,
            int(((oc.moderate + oc.extreme) > 0).sum()) if len(oc) else 0,
        ),
        (
            "2b",
            "extreme",
            share(extreme),
            rules.extreme_z,
            int((oc.extreme > 0).sum()) if len(oc) else 0,
        ),
    ]
    for code in TRACERS:
        metrics.append(("2d", code, *split(r.over_time, "ratio", element=code)))
    for a, b in RELATIONS:
        metrics.append(("2e", f"{a}-{b}", *split(r.relations, "dropout", a=a)))
    metrics.append(("4a", "-".join(DENOMINATOR), *split(r.denominators, "difference")))
    thresholds = {"2d": rules.consistency, "2e": rules.dropout, "4a": rules.denominator}
    metrics = [m if len(m) == 5 else (m[0], m[1], m[2], thresholds[m[0]], m[3]) for m in metrics]
    return pd.DataFrame(
        metrics, columns=["metric", "measure", "value", "threshold", "flagged"]
    ).assign(rows=n)
