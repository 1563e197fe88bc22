"""Equity: how far apart units or groups are on an indicator, whether the gap is closing, and
how many people each facility serves; every value a ratio of sums (README "Equidad")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .catalog import HOSPITAL_TYPES, Catalog, Indicator, OrgUnit
from .filters import GROUPINGS, Filters, resolve_period
from .i18n import t
from .missing import is_missing
from .periods import Period, year_period
from .quality import QualityRules
from .views import Context, _evaluate, children, small_numbers

# Groupings between regions: inside one region every unit falls in the same group.
NATIONAL_ONLY = ("chaco", "metro")
# The Chaco (Occidental region): Presidente Hayes, Boquerón, Alto Paraguay (ISO 3166-2:PY).
CHACO = ("PY-15", "PY-19", "PY-16")
# Metropolitan Asunción: the capital and the Central department.
METRO = ("PY-ASU", "PY-11")
YEARS_BACK = (1, 3, 5)
# A change of the index of disparity within this share of its earlier value is "no change".
STABLE_SHARE = 0.05
QUINTILES = 5

# The USF catchment norm (DASHBOARD_USF_NORM overrides the figure): the MSPBS design territory
# of one USF is 3,500 to 5,000 people ("territorio social de entre 3.500 a 5.000 personas"),
# ABC Color 2020-03-25 reporting the MSPBS / World Bank USF loan. The upper bound is the norm a
# USF is judged against; a district above it needs more USF.
USF_NORM = 5000
USF_NORM_LOW = 3500
USF_NORM_SOURCE = (
    "MSPBS, diseño de USF: 3.500–5.000 personas por USF (ABC Color, 25/03/2020, "
    "https://www.abc.com.py/nacionales/2020/03/25/"
    "diputados-aprueba-prestamo-de-us-115-millones-para-unidades-de-salud-familiar)"
)
# Facility levels of the access table: the first level of care, then hospitals as one level.
ACCESS_LEVELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("USF", ("USF",)),
    ("PS", ("PS",)),
    ("CS", ("CS",)),
    ("HOSP", HOSPITAL_TYPES),
)


# ==== pure arithmetic ============================================================================
@dataclass(frozen=True)
class Spread:
    """The spread of one indicator across units (or groups) in one period."""

    n: int  # units with a value
    best: str | None  # org_unit (or group) code of the best value that is not small-number
    worst: str | None
    best_value: float
    worst_value: float
    gap: float  # |best - worst|
    ratio: float  # highest / lowest value (NaN when the lowest is 0)
    mean: float  # Σ numerator / Σ denominator × factor over every unit with a denominator
    disparity_index: float  # Pearcy & Keppel's index of disparity against `mean`, in %
    between_variance: float  # Σ p_j (r_j - mean)², p_j the unit's share of the denominator
    excluded_small: int = 0  # units left out of best/worst because their numbers are small


NO_SPREAD = Spread(0, None, None, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan)


def ratio_of_sums(numerator: Sequence[float], denominator: Sequence[float], factor: float) -> float:
    """Σ numerator / Σ denominator × factor; NaN without a positive denominator."""
    num = np.nansum(np.asarray(numerator, dtype=float))
    den = np.nansum(np.asarray(denominator, dtype=float))
    return float(num / den * factor) if den > 0 else np.nan


def spread(
    frame: pd.DataFrame,
    factor: float,
    direction: str,
    band: tuple[float | None, float | None] = (None, None),
    small: pd.Series | None = None,
) -> Spread:
    """frame: one row per unit with org_unit, numerator, denominator, value (value = num/den ×
    factor, NaN without a denominator). `small` marks values resting on small numbers: they
    count in the sums but are not named best or worst (one case swings them).

    mean = Σnum/Σden × factor (equal to the denominator-weighted mean of the units' values);
    index of disparity ID = 100 × (Σ|r_i - mean| / n) / mean (Pearcy & Keppel 2002, with the
    total rate as the reference); between-group variance BGV = Σ p_i (r_i - mean)², p_i =
    den_i / Σden (Harper & Lynch 2005)."""
    if frame.empty:
        return NO_SPREAD
    # Plain arrays: the page computes four of these per request.
    codes = frame["org_unit"].to_numpy()
    num = pd.to_numeric(frame["numerator"], errors="coerce").to_numpy(float)
    den = pd.to_numeric(frame["denominator"], errors="coerce").to_numpy(float)
    val = pd.to_numeric(frame["value"], errors="coerce").to_numpy(float)
    has = ~np.isnan(val) & (np.nan_to_num(den) > 0)
    if not has.any():
        return NO_SPREAD
    mean = ratio_of_sums(num[has], den[has], factor)
    r = val[has]
    share = den[has] / den[has].sum()
    di = float(np.mean(np.abs(r - mean)) / mean * 100) if mean and not is_missing(mean) else np.nan
    bgv = float(np.sum(share * (r - mean) ** 2))
    flag = np.zeros(len(frame), bool) if small is None else small.to_numpy(bool, na_value=False)
    sound = has & ~flag
    excluded = int(has.sum() - sound.sum())
    if not sound.any():
        best = worst = None
        best_v = worst_v = np.nan
    else:
        idx = np.flatnonzero(sound)
        bad = np.asarray(_badness(pd.Series(val[idx]), direction, band), dtype=float)
        order = idx[np.argsort(bad, kind="stable")]
        best, worst = str(codes[order[0]]), str(codes[order[-1]])
        best_v, worst_v = float(val[order[0]]), float(val[order[-1]])
    lo, hi = float(np.min(r)), float(np.max(r))
    return Spread(
        n=int(has.sum()),
        best=best,
        worst=worst,
        best_value=best_v,
        worst_value=worst_v,
        gap=abs(best_v - worst_v) if best is not None else np.nan,
        ratio=hi / lo if lo > 0 else np.nan,
        mean=mean,
        disparity_index=di,
        between_variance=bgv,
        excluded_small=excluded,
    )


def _badness(values: pd.Series, direction: str, band: tuple[float | None, float | None]):
    """Larger is worse (views.badness on a bare series; ties keep the frame's order)."""
    if direction == "down":
        return values
    if direction == "band":
        lo, hi = band
        if lo is None or hi is None:
            return values * 0
        return np.maximum(lo - values, values - hi).clip(lower=0)
    return -values


def group_frame(frame: pd.DataFrame, groups: Mapping[str, str], factor: float) -> pd.DataFrame:
    """Units summed into groups (org_unit -> group code): numerator, denominator, expected and
    received reports are summed, the value and completeness recomputed as ratios of sums.
    Units not in `groups` are left out. One row per group that has a unit, in first-seen order."""
    cols = ["numerator", "denominator", "expected_reports", "received_reports"]
    codes = frame["org_unit"].tolist() if len(frame) else []
    key = [groups.get(c) for c in codes]
    keep = np.array([k is not None for k in key], dtype=bool)
    if not keep.any():
        return pd.DataFrame(columns=["org_unit", *cols, "value", "completeness", "units"])
    # Columns made first, the frame once: inserting them one by one cost more than the sums.
    labels, names = pd.factorize(np.array(key, dtype=object)[keep])
    out: dict[str, Any] = {"org_unit": list(names)}
    for c in cols:
        v = (
            pd.to_numeric(frame[c], errors="coerce").to_numpy(float)[keep]
            if c in frame
            else np.full(int(keep.sum()), np.nan)
        )
        total = np.bincount(labels, weights=np.nan_to_num(v), minlength=len(names))
        seen = np.bincount(labels, weights=~np.isnan(v), minlength=len(names))
        out[c] = np.where(seen > 0, total, np.nan)  # NaN when no unit had it, as sum(min_count=1)
    out["units"] = np.bincount(labels, minlength=len(names))
    den = out["denominator"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["value"] = np.where(den > 0, np.nan_to_num(out["numerator"]) / den * factor, np.nan)
        exp = out["expected_reports"]
        out["completeness"] = np.where(
            exp > 0, np.nan_to_num(out["received_reports"]) / exp * 100, np.nan
        )
    return pd.DataFrame(out)


def quintiles(population: Mapping[str, float]) -> dict[str, int]:
    """Units by population size: 1 = the fifth with the fewest people … 5 = the most. Ties
    are broken by code so the split is stable; units without a population are left out.
    With fewer than five units each unit is its own quintile rank (1..n scaled to 1..5)."""
    items = sorted(
        ((c, float(p)) for c, p in population.items() if not is_missing(p) and p >= 0),
        key=lambda cp: (cp[1], cp[0]),
    )
    n = len(items)
    return {c: int(np.ceil((i + 1) * QUINTILES / n)) for i, (c, _) in enumerate(items)}


def region_groups(regions: Sequence[str], grouping: str) -> dict[str, str]:
    """Region code -> group code for the two region splits."""
    if grouping == "chaco":
        return {r: "chaco" if r in CHACO else "oriental" for r in regions}
    if grouping == "metro":
        return {r: "metro" if r in METRO else "resto" for r in regions}
    raise ValueError(grouping)


@dataclass(frozen=True)
class Change:
    years: int
    then: Spread | None
    verdict: str  # 'narrowed', 'widened', 'stable', 'no_data'
    disparity_change: float  # ID now - ID then (percentage points)
    gap_change: float  # gap now - gap then, in the indicator's unit


def change(now: Spread, then: Spread | None, years: int) -> Change:
    """'La brecha se redujo / aumentó': the index of disparity against the same units years
    earlier; within STABLE_SHARE of the earlier index it did not change."""
    if then is None or is_missing(then.disparity_index) or is_missing(now.disparity_index):
        return Change(years, then, "no_data", np.nan, np.nan)
    d = now.disparity_index - then.disparity_index
    gap = now.gap - then.gap if not (is_missing(now.gap) or is_missing(then.gap)) else np.nan
    if abs(d) <= STABLE_SHARE * max(then.disparity_index, 1e-9):
        verdict = "stable"
    else:
        verdict = "narrowed" if d < 0 else "widened"
    return Change(years, then, verdict, float(d), float(gap))


@dataclass(frozen=True)
class AccessNorm:
    per_usf: float = USF_NORM
    low: float = USF_NORM_LOW
    source: str = USF_NORM_SOURCE


def access_frame(
    units: Sequence[OrgUnit],
    facility_types: Mapping[str, Sequence[str | None]],
    population: Mapping[str, float],
    norm: AccessNorm,
) -> pd.DataFrame:
    """One row per unit: population, facilities of each level and people per facility of each
    level (NaN where it has none), the ratio of people per USF to the norm and a verdict:
    'no_usf', 'over' (more people per USF than the norm), 'within', or 'no_population'.
    facility_types: unit code -> the types of its open facilities."""
    rows = []
    for u in units:
        types = list(facility_types.get(u.code, ()))
        pop = population.get(u.code, np.nan)
        row: dict[str, object] = {
            "org_unit": u.code,
            "org_unit_name": u.name,
            "latitude": u.latitude,
            "longitude": u.longitude,
            "population": pop,
        }
        for level, members in ACCESS_LEVELS:
            n = sum(1 for t in types if t in members)
            row[f"n_{level}"] = n
            row[f"per_{level}"] = pop / n if n and not is_missing(pop) else np.nan
        row["n_all"] = len(types)
        row["per_all"] = pop / len(types) if types and not is_missing(pop) else np.nan
        usf = sum(1 for t in types if t == "USF")
        per_usf = pop / usf if usf and not is_missing(pop) else np.nan
        row["norm_ratio"] = per_usf / norm.per_usf if not is_missing(per_usf) else np.nan
        if is_missing(pop):
            row["verdict"] = "no_population"
        elif usf == 0:
            row["verdict"] = "no_usf"
        else:
            row["verdict"] = "over" if per_usf > norm.per_usf else "within"
        rows.append(row)
    if not rows:
        return pd.DataFrame()
    # Worst access first: no USF at all, then the most people per USF (no figure last), in
    # the units' order otherwise; sorted before the frame is made.
    group = {"no_usf": 0, "over": 1, "within": 1, "no_population": 2}

    def worst_first(row: dict) -> tuple:
        per = row["per_USF"]
        missing = is_missing(per)
        return (group[str(row["verdict"])], missing, 0.0 if missing else -float(per))

    rows.sort(key=worst_first)
    for k, row in enumerate(rows, start=1):
        row["rank"] = k
    return pd.DataFrame(rows)


def norm_of(ctx: Context) -> AccessNorm:
    """The configured norm (DASHBOARD_USF_NORM / _SOURCE), else the MSPBS design figure."""
    if ctx.usf_norm is None or not ctx.usf_norm > 0:
        return AccessNorm()
    return AccessNorm(
        per_usf=float(ctx.usf_norm),
        low=min(USF_NORM_LOW, float(ctx.usf_norm)),
        # A figure of one's own is not the ministry's: credit it only when it is the MSPBS one.
        source=ctx.usf_norm_source
        or (USF_NORM_SOURCE if float(ctx.usf_norm) == USF_NORM else "DASHBOARD_USF_NORM"),
    )


def usf_needed(population: float, n_usf: int, norm: AccessNorm) -> int:
    """USF missing to bring the unit within the norm (0 when it already is)."""
    if is_missing(population):
        return 0
    return max(int(np.ceil(population / norm.per_usf)) - n_usf, 0)


def group_label(code: str, grouping: str, cat: Catalog, lang: str) -> str:
    """A unit's stored name, a facility type's name, or the group's words."""
    if grouping == "unidad":
        unit = cat.unit(code)
        return unit.name if unit else code
    if grouping == "tipo":
        return t(f"ftype_{code}", lang)
    if grouping == "quintil":
        return t("eq_quintile", lang, n=code.lstrip("Q"))
    return t(f"eq_g_{code}", lang)


# ==== the page's data ============================================================================
@dataclass
class EquityView:
    unit: OrgUnit  # the unit whose children (or groups) are compared
    indicator: Indicator
    period: Period
    grouping: str  # the grouping shown (a national-only one inside a region falls back)
    asked: str  # the grouping asked for
    groups: pd.DataFrame  # one row per unit or group: org_unit, label, value, … small, quality
    spread: Spread
    changes: list[Change]
    history: pd.DataFrame  # year_label, period, org_unit, label, value, small (dot chart)
    national: dict[str, float]  # period id -> value of the whole (ratio of sums), per year
    target: float | None
    access: pd.DataFrame
    access_level: int
    norm: AccessNorm
    periods: list[Period] = field(default_factory=list)  # oldest first, the current last
    rules: QualityRules = field(default_factory=QualityRules)


def equity_unit(ctx: Context, f: Filters) -> OrgUnit:
    """The country, or the selected region (a district shows its region's districts)."""
    cat = ctx.cat
    unit = cat.unit(f.region) if f.region else cat.country()
    return unit or cat.country()


def grouping_of(f: Filters, unit: OrgUnit) -> str:
    g = f.grouping if f.grouping in GROUPINGS else "unidad"
    return "unidad" if g in NATIONAL_ONLY and unit.level > 0 else g


def population_indicator(cat: Catalog) -> Indicator | None:
    """An indicator whose denominator is the total population over every facility type: its
    denominator over a calendar year is the unit's population, as every page reads it."""
    for ind in cat.indicators.values():
        if ind.denominator.codes == ("POP_TOTAL",) and not ind.facility_types:
            return ind
    return None


def populations(ctx: Context, units: Sequence[OrgUnit], year: int) -> dict[str, float]:
    ind = population_indicator(ctx.cat)
    if ind is None or not units:
        return {}
    res = _evaluate(ctx, [ind], units, [year_period(year)])
    return {
        str(c): float(d)
        for c, d in zip(res["org_unit"], res["denominator"].astype(float), strict=True)
        if not is_missing(d) and d > 0
    }


def _rows(
    ctx: Context,
    ind: Indicator,
    unit: OrgUnit,
    grouping: str,
    periods: Sequence[Period],
    f: Filters,
) -> pd.DataFrame:
    """Every period's rows of the compared units or groups: org_unit, period, numerator,
    denominator, value, completeness, quality (groups: no quality beyond small numbers)."""
    if grouping == "unidad":
        res = _evaluate(ctx, [ind], children(ctx, unit), periods, f.ftypes())
        return res
    if grouping == "tipo":
        types = [t for t in ("USF", "PS", "CS", "HD", "HR", "HG", "HE") if ind.applies_to(t)]
        parts = []
        for ftype in types:
            part = _evaluate(ctx, [ind], [unit], periods, (ftype,))
            hidden = part["denominator_small"].any() if "denominator_small" in part else False
            if hidden or pd.to_numeric(part["denominator"], errors="coerce").gt(0).any():
                parts.append(part.assign(org_unit=ftype))  # types it has no data for: no row
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if grouping in NATIONAL_ONLY:
        regions = children(ctx, unit, 1)
        res = _evaluate(ctx, [ind], regions, periods, f.ftypes())
        groups = region_groups([r.code for r in regions], grouping)
    else:  # quintil: the unit's districts by their population in the period's last year
        districts = children(ctx, unit, 2)
        res = _evaluate(ctx, [ind], districts, periods, f.ftypes())
        year = max(p.end for p in periods) // 100
        groups = {c: f"Q{q}" for c, q in quintiles(populations(ctx, districts, year)).items()}
    parts, period_ids = [], []
    res_periods = res["period"].to_numpy()
    for p in periods:
        g = group_frame(res[res_periods == p.id], groups, ind.factor)
        parts.append(g)
        period_ids += [p.id] * len(g)
    out = pd.concat(parts, ignore_index=True)
    out["period"] = period_ids
    out["quality"] = [() for _ in range(len(out))]
    # By period, then the named side first (the Chaco, the metropolitan area), then code.
    first = {"chaco": 0, "oriental": 1, "metro": 0, "resto": 1}
    codes = out["org_unit"].tolist()
    order = sorted(range(len(out)), key=lambda k: (period_ids[k], first.get(codes[k], 0), codes[k]))
    return out.iloc[order].reset_index(drop=True)


def equity(
    ctx: Context, f: Filters, norm: AccessNorm | None = None, access: bool = True
) -> EquityView:
    """The page: units (or groups) now and 1, 3 and 5 years earlier, their spread and its
    change, and people per facility of the unit's districts (or regions). `access` False
    leaves the access table empty (the screen fills it from its own callback: access_view)."""
    cat = ctx.cat
    norm = norm or norm_of(ctx)
    unit = equity_unit(ctx, f)
    ind = cat.indicators[f.indicator]
    p = resolve_period(f, ctx.today)
    grouping = grouping_of(f, unit)
    earlier = [p.shifted(-12 * k) for k in YEARS_BACK]
    periods = [*reversed(earlier), p]
    res = _rows(ctx, ind, unit, grouping, periods, f)
    t = cat.target_for(ind, unit, p.end // 100)
    band = (t.band_low, t.band_high)
    if res.empty:
        res = pd.DataFrame(
            columns=["org_unit", "period", "numerator", "denominator", "value", "quality"]
        )
    res = res.assign(small=small_numbers(res, ctx.small_count, ctx.rules.small_denominator))
    spreads = {}
    for q in periods:
        part = res[res.period == q.id]
        spreads[q.id] = spread(part, ind.factor, ind.direction, band, part["small"])
    now = spreads[p.id]
    changes = [
        change(now, spreads[q.id] if spreads[q.id].n else None, k)
        for k, q in zip(YEARS_BACK, earlier, strict=True)
    ]
    current = res[res.period == p.id].copy()
    current["bad"] = _badness(current["value"].astype(float), ind.direction, band)
    current = current.sort_values(["bad"], na_position="last", kind="stable")
    national = {q.id: spreads[q.id].mean for q in periods}
    if access:
        people, level = _access(ctx, unit, p, norm)
    else:
        people, level = pd.DataFrame(), access_level(unit)
    return EquityView(
        unit=unit,
        indicator=ind,
        period=p,
        grouping=grouping,
        asked=f.grouping or "unidad",
        groups=current.reset_index(drop=True),
        spread=now,
        changes=changes,
        history=res,
        national=national,
        target=t.target,
        access=people,
        access_level=level,
        norm=norm,
        periods=periods,
        rules=ctx.rules,
    )


@dataclass(frozen=True)
class AccessView:
    """People per facility of each level in a unit's regions or districts: the part of the
    page that is the same for every indicator and grouping."""

    unit: OrgUnit
    period: Period
    norm: AccessNorm
    access: pd.DataFrame
    access_level: int


def access_view(ctx: Context, f: Filters, norm: AccessNorm | None = None) -> AccessView:
    """The access table of the view's unit and period, on its own: the screen draws it from a
    callback of its own, beside the indicator's (each answers sooner, and in parallel)."""
    norm = norm or norm_of(ctx)
    unit = equity_unit(ctx, f)
    p = resolve_period(f, ctx.today)
    people, level = _access(ctx, unit, p, norm)
    return AccessView(unit, p, norm, people, level)


def access_level(unit: OrgUnit) -> int:
    """The level the access table lists: the regions nationally, else the districts."""
    return 1 if unit.level == 0 else 2


def _access(ctx: Context, unit: OrgUnit, p: Period, norm: AccessNorm) -> tuple[pd.DataFrame, int]:
    """People per facility of each level in the unit's regions (nationally) or districts; the
    same for every indicator, so kept per data version."""
    return ctx.cat.memo(access_key(ctx, unit, p, norm), lambda: _access_now(ctx, unit, p, norm))


def access_key(ctx: Context, unit: OrgUnit, p: Period, norm: AccessNorm) -> tuple:
    """What the access table depends on: the scope, the unit, the period's end, the norm."""
    return ("equity_access", ctx.scope, unit.code, p.end, norm)


def _access_now(
    ctx: Context, unit: OrgUnit, p: Period, norm: AccessNorm
) -> tuple[pd.DataFrame, int]:
    cat = ctx.cat
    level = access_level(unit)
    units = children(ctx, unit, level)
    # Facilities open in the period's last month, counted by type in one pass over the tree
    # (a count, never a facility's own row).
    key = "region_id" if level == 1 else "district_id"
    open_by_area = cat.memo(
        ("open_facility_types", key, p.end), lambda: _open_types(cat, key, p.end)
    )
    types: dict[str, list[str | None]] = {u.code: list(open_by_area.get(u.id, ())) for u in units}
    pops = populations(ctx, units, p.end // 100)
    return access_frame(units, types, pops, norm), level


def _open_types(cat: Catalog, key: str, month: int) -> dict[int, tuple[str | None, ...]]:
    """The types of the facilities open in that month, by region (key "region_id") or district
    ("district_id") id: one pass over the tree per data version, shared by every unit's view."""
    out: dict[int, list[str | None]] = {}
    for fac in cat.units.values():
        if fac.level == 3 and cat.active_in(fac, month):
            area = getattr(fac, key)
            if area is not None:
                out.setdefault(area, []).append(fac.facility_type)
    return {k: tuple(v) for k, v in out.items()}


# ==== files: CSV / XLSX / PDF header =============================================================
def grouping_words(ctx: Context, f: Filters, lang: str) -> str:
    unit = equity_unit(ctx, f)
    g = grouping_of(f, unit)
    if g == "unidad":
        return t(
            "eq_group_unidad_regions" if unit.level == 0 else "eq_group_unidad_districts", lang
        )
    return t(f"eq_group_{g}", lang)


def _r(v, decimals: int) -> float:
    return np.nan if is_missing(v) else round(float(v), decimals)


def equity_tables(ctx: Context, f: Filters) -> dict[str, pd.DataFrame]:
    """The page's tables as the screen shows them (the groups table first: the CSV's)."""
    from .i18n import fmt_number, fmt_period
    from .quality import quality_words

    cat, lang = ctx.cat, f.lang
    ev = equity(ctx, f)
    ind, dec = ev.indicator, ev.indicator.decimals
    g = ev.groups

    def words(row) -> str:
        codes = tuple(row.quality) if isinstance(row.quality, tuple | list) else ()
        if bool(row.small) and "small_numbers" not in codes:
            codes = (*codes, "small_numbers")
        return quality_words(codes, lang)

    ranks, n = [], 0
    for v in g["value"]:
        n += 0 if is_missing(v) else 1
        ranks.append(n if not is_missing(v) else None)
    groups = pd.DataFrame(
        {
            "#": pd.array(ranks, dtype="Int64"),
            t("col_code", lang): list(g["org_unit"]),
            t("eq_col_group", lang): [
                group_label(c, ev.grouping, cat, lang) for c in g["org_unit"]
            ],
            f"{t('col_value', lang)} ({ind.unit(lang)})": [_r(v, dec) for v in g["value"]],
            t("eq_col_vs_mean", lang): [_r(v - ev.spread.mean, dec) for v in g["value"]],
            t("numerator", lang): [_r(v, 2) for v in g["numerator"]],
            t("denominator", lang): [_r(v, 2) for v in g["denominator"]],
            t("col_completeness_pct", lang): [_r(v, 1) for v in g.get("completeness", [])]
            if "completeness" in g
            else [np.nan] * len(g),
            t("col_quality", lang): [words(r) for r in g.itertuples(index=False)],
        }
    )
    if "units" in g:
        groups[t("eq_col_units", lang)] = pd.array(g["units"], dtype="Int64")
    s = ev.spread

    def name(code):
        return group_label(code, ev.grouping, cat, lang) if code else ""

    measures: list[tuple[str, object, str]] = [
        (t("eq_best", lang), _r(s.best_value, dec), name(s.best)),
        (t("eq_worst", lang), _r(s.worst_value, dec), name(s.worst)),
        (t("eq_gap", lang), _r(s.gap, dec), ind.unit(lang)),
        (t("eq_ratio", lang), _r(s.ratio, 2), ""),
        (t("eq_mean", lang), _r(s.mean, dec), t("eq_mean_hint", lang)),
        (t("eq_index", lang), _r(s.disparity_index, 1), "%"),
        (t("eq_bgv", lang), _r(s.between_variance, 2), ""),
    ]
    for k, ch in zip(YEARS_BACK, ev.changes, strict=True):
        then = ev.periods[-1 - YEARS_BACK.index(k) - 1]
        label = f"{t('eq_index', lang)} {fmt_period(then, lang)}"
        value = _r(ch.then.disparity_index, 1) if ch.then is not None else np.nan
        verdict = t(f"eq_gap_{ch.verdict}", lang)
        if not is_missing(ch.disparity_change):
            verdict += f" ({fmt_number(ch.disparity_change, lang, 1)})"
        measures.append((label, value, verdict))
    summary = pd.DataFrame(
        measures, columns=[t("eq_col_measure", lang), t("col_value", lang), t("col_unit", lang)]
    )
    h = ev.history
    plabel = {p.id: fmt_period(p, lang) for p in ev.periods}
    years = pd.DataFrame(
        {
            t("col_period_id", lang): list(h["period"]),
            t("col_period", lang): [plabel.get(p, p) for p in h["period"]],
            t("col_code", lang): list(h["org_unit"]),
            t("eq_col_group", lang): [
                group_label(c, ev.grouping, cat, lang) for c in h["org_unit"]
            ],
            t("col_value", lang): [_r(v, dec) for v in h["value"]],
            t("numerator", lang): [_r(v, 2) for v in h["numerator"]],
            t("denominator", lang): [_r(v, 2) for v in h["denominator"]],
            t("eq_mean", lang): [_r(ev.national.get(p), dec) for p in h["period"]],
            t("col_quality", lang): [words(r) for r in h.itertuples(index=False)],
        }
    )
    a = ev.access
    access = pd.DataFrame(
        {
            "#": list(a["rank"]) if len(a) else [],
            t("col_code", lang): list(a["org_unit"]) if len(a) else [],
            t("col_unit", lang): list(a["org_unit_name"]) if len(a) else [],
        }
    )
    if len(a):
        access[t("eq_col_population", lang)] = [_r(v, 0) for v in a["population"]]
        for lvl, _ in ACCESS_LEVELS:
            access[t(f"eq_col_n_{lvl}", lang)] = list(a[f"n_{lvl}"])
            access[t(f"eq_col_per_{lvl}", lang)] = [_r(v, 0) for v in a[f"per_{lvl}"]]
        access[t("eq_col_n_all", lang)] = list(a["n_all"])
        access[t("eq_col_per_all", lang)] = [_r(v, 0) for v in a["per_all"]]
        access[t("eq_col_norm_ratio", lang)] = [_r(v, 2) for v in a["norm_ratio"]]
        access[t("eq_col_usf_needed", lang)] = [
            usf_needed(p, int(u), ev.norm) for p, u in zip(a["population"], a["n_USF"], strict=True)
        ]
        access[t("eq_col_verdict", lang)] = [t(f"eq_verdict_{v}", lang) for v in a["verdict"]]
    return {"equity": groups, "equity_summary": summary, "equity_years": years, "access": access}
