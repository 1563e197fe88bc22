"""The road to the SDG 3 targets: yearly trend, projection to 2030, rate needed, status."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date

import pandas as pd

from .catalog import Catalog, Indicator, OrgUnit, SdgTarget
from .missing import is_missing
from .periods import last_complete_month, year_period
from .views import Context, _evaluate, small_numbers

# A year's (value, reporting completeness %, rests on small numbers).
Year = tuple[float | None, float | None, bool]
HORIZON = 2030
WINDOW = 5  # complete years the trend is fitted on
MIN_YEARS = 3  # usable years below this: not enough data
# Two-sided 80 % quantiles of Student's t (the 0.90 quantile) by degrees of freedom: the band is
# an 80 % prediction interval of the log-linear fit, so three points give a wide band, as they
# should. Standard table values (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
T80 = {1: 3.078, 2: 1.886, 3: 1.638, 4: 1.533, 5: 1.476, 6: 1.440, 7: 1.415, 8: 1.397}


@dataclass(frozen=True)
class Fit:
    """ln(value) = intercept + slope × (year − x_mean), least squares over the usable years."""

    slope: float
    intercept: float
    n: int
    x_mean: float
    sxx: float
    resid_sd: float  # residual standard deviation (0 with a perfect fit or two points)

    @property
    def annual_change(self) -> float:
        """Average annual rate of change, in % a year."""
        return (math.exp(self.slope) - 1) * 100

    def at(self, year: float) -> float:
        return math.exp(self.intercept + self.slope * (year - self.x_mean))

    def band(self, year: float) -> tuple[float, float]:
        """80 % prediction interval of the value in `year` (a new year's observation)."""
        if self.n < 3:
            return self.at(year), self.at(year)
        q = T80.get(self.n - 2, 1.28)
        se = self.resid_sd * math.sqrt(1 + 1 / self.n + (year - self.x_mean) ** 2 / self.sxx)
        centre = self.intercept + self.slope * (year - self.x_mean)
        return math.exp(centre - q * se), math.exp(centre + q * se)


def fit_log_linear(years: Sequence[int], values: Sequence[float]) -> Fit | None:
    """The least-squares line through ln(value) by year; None under two positive values."""
    pts = [(float(y), math.log(v)) for y, v in zip(years, values, strict=True) if v > 0]
    if len(pts) < 2:
        return None
    # Plain floats: five or six points, a hundred fits a page (numpy's per-call cost was most
    # of the ODS 3 page's arithmetic).
    n = len(pts)
    xm = sum(p[0] for p in pts) / n
    ym = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - xm) ** 2 for p in pts)
    slope = sum((p[0] - xm) * (p[1] - ym) for p in pts) / sxx
    intercept = ym
    ss = sum((p[1] - (intercept + slope * (p[0] - xm))) ** 2 for p in pts)
    sd = math.sqrt(ss / (n - 2)) if n > 2 else 0.0
    return Fit(slope, intercept, n, xm, sxx, sd)


def required_change(current: float, year: int, target: float, horizon: int = HORIZON) -> float:
    """Annual rate of change, in % a year, that takes `current` (in `year`) to `target` in
    `horizon`: (target / current)^(1 / years) − 1."""
    years = max(horizon - year, 1)
    return ((target / current) ** (1 / years) - 1) * 100


def meets(value: float, target: float, direction: str) -> bool:
    return value <= target if direction == "down" else value >= target


def classify(
    current: float | None,
    projected: float | None,
    target: float | None,
    direction: str,
    usable_years: int,
) -> str:
    """achieved (the latest value meets the target), on_track (the 2030 projection does),
    off_track, no_target (none set, or its baseline is not in the store), insufficient (fewer
    than MIN_YEARS usable years)."""
    if usable_years < MIN_YEARS or current is None or projected is None:
        return "insufficient"
    if target is None:
        return "no_target"
    if meets(current, target, direction):
        return "achieved"
    return "on_track" if meets(projected, target, direction) else "off_track"


def last_complete_year(today: date) -> int:
    m = last_complete_month(today)
    return m // 100 if m % 100 == 12 else m // 100 - 1


@dataclass
class SdgRow:
    indicator: str
    sdg: str
    org_unit: str
    org_unit_name: str
    value: float | None  # latest usable year's value
    year: int | None
    annual_change: float | None  # % a year, from the fit
    projected_2030: float | None
    low_2030: float | None
    high_2030: float | None
    target_2030: float | None
    required_change: float | None  # % a year from the latest value; None once achieved
    status: str
    usable_years: int
    # (year, value, usable) over the window: the chart's observed points.
    series: list[tuple[int, float | None, bool]] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("series")
        return d


CSV_COLUMNS = (
    "indicator",
    "sdg",
    "org_unit",
    "value",
    "year",
    "annual_change",
    "projected_2030",
    "target_2030",
    "required_change",
    "status",
)


def sdg_row(
    ind: Indicator,
    sdg: SdgTarget,
    unit: OrgUnit,
    yearly: dict[int, Year],
    window: Sequence[int],
    completeness: float,
) -> SdgRow:
    """One indicator × unit from its yearly (value, completeness, small) by year: a year is
    usable with a positive value, completeness at least `completeness` % and numbers that are
    not small (one maternal death more or less would swing its trend)."""
    series: list[tuple[int, float | None, bool]] = []
    for y in window:
        v, comp, small = yearly.get(y, (None, None, False))
        ok = v is not None and v > 0 and comp is not None and comp >= completeness and not small
        series.append((y, v, ok))
    used = [(y, v) for y, v, ok in series if ok and v is not None]
    fit = fit_log_linear([y for y, _ in used], [v for _, v in used]) if used else None
    year, current = used[-1] if used else (None, None)
    target = sdg.target_2030
    if sdg.reduction is not None and sdg.baseline_year is not None:
        base_v = yearly.get(sdg.baseline_year, (None, None, False))[0]
        target = base_v * (1 - sdg.reduction / 100) if base_v else None
    enough = fit is not None and len(used) >= MIN_YEARS
    projected = fit.at(HORIZON) if enough and fit else None
    low, high = fit.band(HORIZON) if enough and fit else (None, None)
    status = classify(current, projected, target, sdg.direction, len(used))
    required = None
    if status in ("on_track", "off_track") and current and target:
        required = required_change(current, year or HORIZON, target)
    return SdgRow(
        indicator=ind.code,
        sdg=sdg.sdg,
        org_unit=unit.code,
        org_unit_name=unit.name,
        value=current,
        year=year,
        annual_change=fit.annual_change if enough and fit else None,
        projected_2030=projected,
        low_2030=low,
        high_2030=high,
        target_2030=target,
        required_change=required,
        status=status,
        usable_years=len(used),
        series=series,
    )


def sdg_indicators(cat: Catalog) -> list[tuple[Indicator, SdgTarget]]:
    """Catalogue indicators with an SDG mapping, in SDG order (3.1.1, 3.1.2 … 3.b.1)."""
    pairs = [(cat.indicators[c], s) for c, s in cat.sdg.items() if c in cat.indicators]
    return sorted(pairs, key=lambda p: (p[1].sdg, p[0].sort))


def sdg_units(ctx: Context, unit: OrgUnit, by: str | None) -> list[OrgUnit]:
    """The unit, then (by='region' | 'district') its children of that level in the scope."""
    units = [unit]
    if by in ("region", "district"):
        level = 1 if by == "region" else 2
        units += ctx.cat.filter_scope(ctx.cat.descendants(unit, level), ctx.scope)
        units = list(dict.fromkeys(units))
    return ctx.cat.filter_scope(units, ctx.scope)


# The children /ods lists with a unit: the country's regions, a region's districts.
PAGE_BY = {0: "region", 1: "district"}


def window(today: date) -> list[int]:
    last = last_complete_year(today)
    return list(range(last - WINDOW + 1, last + 1))


def sdg_progress(
    ctx: Context,
    unit: OrgUnit,
    by: str | None = None,
    codes: Sequence[str] | None = None,
) -> list[SdgRow]:
    """Every SDG-mapped indicator (or those in `codes`) × the unit and its regions or districts:
    one ratio of sums per year through the same query as every page (views._evaluate).
    Memoised per data version (Catalog.memo): the years are complete, the answer is fixed."""

    def key(by: str | None) -> tuple:
        return (
            "sdg",
            ctx.scope,
            unit.code,
            by,
            tuple(codes) if codes is not None else None,
            ctx.today,
            ctx.rules,
            ctx.suppress,
        )

    if by is None and unit.level in PAGE_BY:
        # The unit alone: /ods may have worked it out already with its children (each unit's
        # rows come from its own sums and cube, whoever else is in the evaluation).
        wider = ctx.cat.memo_get(key(PAGE_BY[unit.level]))
        if wider is not None:
            return [r for r in wider if r.org_unit == unit.code]
    return ctx.cat.memo(key(by), lambda: _progress(ctx, unit, by, codes))


def _progress(
    ctx: Context, unit: OrgUnit, by: str | None, codes: Sequence[str] | None
) -> list[SdgRow]:
    cat = ctx.cat
    pairs = [p for p in sdg_indicators(cat) if codes is None or p[0].code in codes]
    units = sdg_units(ctx, unit, by)
    if not pairs or not units:
        return []
    years = window(ctx.today)
    extra = {p[1].baseline_year for p in pairs if p[1].baseline_year} - set(years)
    periods = [year_period(y) for y in sorted(extra | set(years))]
    frame = _evaluate(ctx, [p[0] for p in pairs], units, periods)
    # Plain dicts, not frame lookups: 130 rows × 6 years of pandas indexing cost 0.4 s.
    cells: dict[tuple[str, str], dict[int, Year]] = {}
    small = small_numbers(frame, ctx.small_count, ctx.rules.small_denominator)
    for code, org, period, value, comp, tiny in zip(
        frame["indicator"],
        frame["org_unit"],
        frame["period"],
        frame["value"],
        frame["completeness"],
        small,
        strict=True,
    ):
        cells.setdefault((code, org), {})[int(period)] = (
            None if is_missing(value) else float(value),
            None if is_missing(comp) else float(comp),
            bool(tiny),
        )
    out = []
    for ind, sdg in pairs:
        for u in units:
            yearly = cells.get((ind.code, u.code))
            if yearly is None:
                continue  # the indicator does not apply to this unit
            out.append(sdg_row(ind, sdg, u, yearly, years, ctx.rules.completeness))
    return out


@dataclass
class SdgView:
    """What /ods shows: every SDG indicator for the unit, and the chosen one by child unit."""

    unit: OrgUnit
    indicator: Indicator | None
    target: SdgTarget | None
    overview: list[SdgRow]  # every mapped indicator, for the unit
    by_unit: list[SdgRow]  # the chosen indicator: the unit first, then its children
    child_level: int | None


def sdg_view(ctx: Context, unit: OrgUnit, indicator: str | None) -> SdgView:
    """The chosen indicator when it is SDG-mapped, else the first mapped one (3.1.1)."""
    pairs = sdg_indicators(ctx.cat)
    chosen = next((p for p in pairs if p[0].code == indicator), pairs[0] if pairs else None)
    by = PAGE_BY.get(unit.level)
    rows = sdg_progress(ctx, unit, by=by)
    return SdgView(
        unit=unit,
        indicator=chosen[0] if chosen else None,
        target=chosen[1] if chosen else None,
        overview=[r for r in rows if r.org_unit == unit.code],
        by_unit=[r for r in rows if chosen and r.indicator == chosen[0].code],
        child_level=unit.level + 1 if by else None,
    )


def sdg_tables(ctx: Context, unit: OrgUnit, lang: str) -> dict[str, pd.DataFrame]:
    """The /ods page as a table (CSV/XLSX): every SDG indicator × the unit and its regions or
    districts, headers in `lang`, values rounded to each indicator's decimals."""
    from .i18n import t

    by = PAGE_BY.get(unit.level)
    rows = sdg_progress(ctx, unit, by=by)

    def rnd(v: float | None, d: int) -> float | None:
        return None if v is None else round(v, d)

    records = []
    for r in rows:
        ind = ctx.cat.indicators[r.indicator]
        d = ind.decimals
        records.append(
            {
                t("ods_col_sdg", lang): r.sdg,
                t("col_code", lang): ind.code,
                t("ods_col_indicator", lang): ind.name(lang),
                t("ods_col_unit_code", lang): r.org_unit,
                t("ods_col_unit", lang): r.org_unit_name,
                t("ods_col_value", lang): rnd(r.value, d),
                t("ods_col_year", lang): r.year,
                t("ods_col_change", lang): rnd(r.annual_change, 2),
                t("ods_col_projected", lang): rnd(r.projected_2030, d),
                t("ods_col_band_low", lang): rnd(r.low_2030, d),
                t("ods_col_band_high", lang): rnd(r.high_2030, d),
                t("ods_col_target", lang): rnd(r.target_2030, d),
                t("ods_col_required", lang): rnd(r.required_change, 2),
                t("ods_col_status", lang): t(f"sdg_status_{r.status}", lang),
                t("ods_col_years", lang): r.usable_years,
            }
        )
    return {"sdg": pd.DataFrame(records)}
