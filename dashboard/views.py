"""What each page shows, as data: shared by the screen, the PDF export and the tests."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from . import suppression
from .aggregate import evaluate_frame
from .catalog import Catalog, Indicator, OrgUnit, Scope
from .filters import Filters, resolve_period
from .i18n import collation_key
from .memo import CatalogLRU
from .periods import Period, add_months, period_for_span, trend_window
from .quality import QualityRules, ReviewRules
from .repository import Repository

# The overview's cards: the selected indicator first, then one per domain and data quality.
KEY_INDICATORS = ("INM-03", "MNI-04", "MNI-01", "TRA-01", "ENT-03", "HOS-01", "SER-01", "DQ-01")
MAX_COMPARE = 6
INCOMPLETE_BELOW = 90.0  # % of expected reports: a bucket below this is marked incomplete


@dataclass
class Context:
    repo: Repository
    scope: Scope
    today: date
    small_count: int = 5
    rules: QualityRules = field(default_factory=QualityRules)
    # Disclosure control for restricted users (publico, --suppress): counts 1..suppress are
    # hidden and their rates withheld; None shows the real values.
    suppress: int | None = None
    # Thresholds of the data-quality review page (/calidad).
    dqr: ReviewRules = field(default_factory=ReviewRules)
    # Disclosure decisions of recent canonical cubes (dashboard.suppression.CubeCache).
    cubes: suppression.CubeCache | None = None
    # Equidad's USF catchment norm (Settings.usf_norm); None: dashboard.equity's default.
    usf_norm: float | None = None
    usf_norm_source: str | None = None
    # Recent evaluated frames (FrameCache), shared by the app's requests; None: no reuse.
    frames: FrameCache | None = None

    @property
    def cat(self) -> Catalog:
        return self.repo.catalog()


def _evaluate(
    ctx: Context,
    indicators: Sequence[Indicator],
    units: Sequence[OrgUnit],
    periods: Sequence[Period],
    ftypes: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """evaluate_frame in the context's scope and quality rules, with disclosure control when it
    asks for it: the one place every page, export and PDF reads its numbers from.

    With ctx.frames the frame is kept for the next request that asks the same (a copy is
    returned, so callers may change theirs): changing the indicator on Resumen then rebuilds
    the attention list alone, and a national view most users open is computed once per data
    version, not once per visit."""
    cat = ctx.cat
    key = (
        ctx.scope,
        tuple(i.code for i in indicators),
        tuple(u.id for u in units),
        tuple((p.id, p.start, p.end) for p in periods),
        ftypes,
        ctx.rules,
        ctx.today,
        ctx.suppress,
    )
    if ctx.frames is not None:
        hit = ctx.frames.get(key, cat)
        if hit is not None:
            return hit.copy()
    frame = _evaluate_now(ctx, indicators, units, periods, ftypes)
    if ctx.frames is not None:
        ctx.frames.put(key, cat, frame.copy())
    return frame


# Recent evaluated frames by request (scope, indicators, units, periods, types, rules, date,
# disclosure threshold); one per app.
FrameCache = CatalogLRU[pd.DataFrame]
# At most this many rows in all (~60 MB a worker: a row is some 300 bytes); the oldest go
# first, and a frame larger than the whole budget is never kept.
FRAME_CACHE_ROWS = 200_000


def frame_cache() -> FrameCache:
    return CatalogLRU(512, budget=FRAME_CACHE_ROWS, weight=len)


def _evaluate_now(
    ctx: Context,
    indicators: Sequence[Indicator],
    units: Sequence[OrgUnit],
    periods: Sequence[Period],
    ftypes: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    frame = evaluate_frame(
        ctx.repo, ctx.scope, indicators, units, periods, ftypes, rules=ctx.rules, today=ctx.today
    )
    if ctx.suppress is None or frame.empty:
        return frame
    # Decided on each unit's canonical cube, so no two views can be differenced.
    hidden = suppression.hidden_cells(
        ctx.repo,
        ctx.scope,
        ctx.today,
        indicators,
        units,
        periods,
        ctx.suppress,
        ctx.cubes,
    )
    return suppression.apply(frame, hidden, periods, ftypes, ctx.suppress)


def selected_unit(ctx: Context, f: Filters) -> OrgUnit:
    return ctx.cat.unit(f.unit_code()) or ctx.cat.country()


def child_level(unit: OrgUnit) -> int:
    return min(unit.level + 1, 3)


def children(ctx: Context, unit: OrgUnit, level: int | None = None) -> list[OrgUnit]:
    level = child_level(unit) if level is None else level
    return ctx.cat.filter_scope(ctx.cat.descendants(unit, level), ctx.scope)


def badness(frame: pd.DataFrame, ind: Indicator) -> pd.Series:
    """How far each value is on the wrong side: larger is worse (for ranking)."""
    v = frame["value"].astype(float)
    if ind.direction == "down":
        return v
    if ind.direction == "band":
        lo, hi = ind.target.band_low, ind.target.band_high
        if lo is None or hi is None:
            return pd.Series(np.nan, index=frame.index)
        return np.maximum(lo - v, v - hi).clip(lower=0) + 0 * v
    return -v


def rank(frame: pd.DataFrame, ind: Indicator) -> pd.Series:
    """1 = best performer; units without a value get no rank."""
    return badness(frame, ind).rank(method="min", ascending=True)


def _small(frame: pd.DataFrame, ctx: Context) -> pd.Series:
    """The small_numbers code, vectorised (a frame's quality column holds tuples)."""
    return small_numbers(frame, ctx.small_count, ctx.rules.small_denominator)


def small_numbers(
    frame: pd.DataFrame, threshold: int, small_denominator: int | None = None
) -> pd.Series:
    """Values resting on fewer than `threshold` events or people, or on no event among fewer
    than `small_denominator` people: shown with a caution, and kept out of 'worst' lists where
    one case swings the rate. No value, no caution. The small_numbers code of dashboard.quality
    (each view's frame carries that verdict as its `small` column)."""
    small_den = QualityRules().small_denominator if small_denominator is None else small_denominator
    # numpy, not pandas: every view asks this of every frame.
    num = np.nan_to_num(np.asarray(frame["numerator"], dtype=float), nan=0.0)
    den = np.nan_to_num(np.asarray(frame["denominator"], dtype=float), nan=0.0)
    has = ~np.isnan(np.asarray(frame["value"], dtype=float))
    small = (den < threshold) | ((num > 0) & (num < threshold)) | ((num == 0) & (den < small_den))
    return pd.Series(has & small, index=frame.index)


# ==== Resumen ====================================================================================
@dataclass
class Overview:
    unit: OrgUnit
    period: Period
    previous: Period
    year_earlier: Period
    cards: pd.DataFrame  # one row per KPI: value, prev_value, ly_value, status, small ...
    sparks: pd.DataFrame  # indicator, period, value (12 months ending with the period)
    attention: pd.DataFrame  # worst child units for the selected indicator
    attention_level: int
    # The thresholds the marks were computed with (their words state them).
    rules: QualityRules = field(default_factory=QualityRules)


def kpi_codes(f: Filters, cat: Catalog) -> list[str]:
    """The key indicators in a fixed order (a card clicked stays where it was); an indicator
    chosen outside them comes first, in place of the last."""
    key = [c for c in KEY_INDICATORS if c in cat.indicators]
    if f.indicator in key:
        return key
    return [f.indicator, *key][: len(KEY_INDICATORS)]


def overview(ctx: Context, f: Filters) -> Overview:
    cat = ctx.cat
    unit = selected_unit(ctx, f)
    p = resolve_period(f, ctx.today)
    prev, ly = p.previous(), p.year_earlier()
    inds = [cat.indicators[c] for c in kpi_codes(f, cat)]
    spans = list(dict.fromkeys([p, prev, ly]))  # a 12-month period: previous == a year earlier
    months = [period_for_span(m, m) for m in _months_back(p.end, 12)]
    # One evaluation for the cards and their sparklines: each costs a round of reads.
    # Months first, so each indicator's sparkline rows stay in month order.
    both = _evaluate(ctx, inds, [unit], list(dict.fromkeys([*months, *spans])), f.ftypes())
    res = both[both.period.isin([q.id for q in spans])]
    now = res[res.period == p.id].set_index("indicator")
    before = res[res.period == prev.id].set_index("indicator")["value"]
    last_year = res[res.period == ly.id].set_index("indicator")["value"]
    cards = now.assign(
        prev_value=before.reindex(now.index), ly_value=last_year.reindex(now.index)
    ).reset_index()
    cards["small"] = _small(cards, ctx)
    sparks = both[both.period.isin([q.id for q in months])].reset_index(drop=True)
    level = child_level(unit) if unit.level < 2 else 3
    attention = ranking(ctx, cat.indicators[f.indicator], unit, p, f, level=level)
    attention = attention[attention.status.isin(["not_met", "near"]) & ~attention.small].head(10)
    return Overview(unit, p, prev, ly, cards, sparks, attention, level, rules=ctx.rules)


def _months_back(end: int, n: int) -> list[int]:
    return [add_months(end, -k) for k in range(n - 1, -1, -1)]


def ranking(
    ctx: Context, ind: Indicator, unit: OrgUnit, p: Period, f: Filters, level: int | None = None
) -> pd.DataFrame:
    """Child units (or facilities) of a unit for one indicator, worst first."""
    units = children(ctx, unit, level)
    res = _evaluate(ctx, [ind], units, [p], f.ftypes())
    if res.empty:
        return res.assign(rank=[], small=[], bad=[])
    bad = badness(res, ind)
    res = res.assign(rank=bad.rank(method="min", ascending=True), small=_small(res, ctx), bad=bad)
    # Worst first, no value last, ties by name in Spanish order: sorted in Python on plain
    # values (a pandas sort with a key function cost more than the evaluation).
    worse = bad.to_numpy(dtype=float)
    key_of = _name_key(ctx.cat)
    names = [key_of(n) for n in res["org_unit_name"].tolist()]
    order = sorted(
        range(len(res)),
        key=lambda i: (
            (True, 0.0, names[i]) if math.isnan(worse[i]) else (False, -worse[i], names[i])
        ),
    )
    return res.iloc[order]


# ==== Mapa =======================================================================================
@dataclass
class MapData:
    unit: OrgUnit
    period: Period
    indicator: Indicator
    areas: pd.DataFrame  # child units with value, status, rank, hover fields
    area_level: int
    points: pd.DataFrame  # facilities with lat/lon, value, status, volume
    breadcrumb: list[OrgUnit]
    # The thresholds the marks were computed with (their words state them).
    rules: QualityRules = field(default_factory=QualityRules)
    # What the table lists: the areas, or inside a district its facilities (each a link, so a
    # facility is reached by keyboard, screen reader or phone, not only by a 6-pixel marker).
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows_level: int = 1


def map_data(ctx: Context, f: Filters) -> MapData:
    cat = ctx.cat
    unit = selected_unit(ctx, f)
    p = resolve_period(f, ctx.today)
    ind = cat.indicators[f.indicator]
    area_level = 1 if unit.level == 0 else 2
    area_parent = unit if unit.level < 2 else cat.parent(unit)
    areas = ranking(ctx, ind, area_parent, p, f, level=area_level)
    areas = _with_places(cat, areas)
    facilities_too = unit.level == 2 and ctx.scope.max_level >= 3
    points = pd.DataFrame()
    if f.show_points() or facilities_too:
        points = ranking(ctx, ind, unit, p, f, level=3)
        points = _with_places(cat, points)
        points["volume"] = points["denominator"].fillna(0)
    rows, rows_level = (points, 3) if facilities_too else (areas, area_level)
    if not f.show_points():
        points = pd.DataFrame()
    # Out-of-scope ancestors (the country, for a regional director) are not offered as links.
    crumbs = [u for u in cat.path(unit) if cat.in_scope(u, ctx.scope)]
    return MapData(unit, p, ind, areas, area_level, points, crumbs, ctx.rules, rows, rows_level)


def _with_places(cat: Catalog, frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame.assign(latitude=[], longitude=[], facility_type=[])
    units = [cat.by_code[c] for c in frame.org_unit]
    return frame.assign(
        latitude=[u.latitude for u in units],
        longitude=[u.longitude for u in units],
        facility_type=[u.facility_type for u in units],
    )


# ==== Tendencias =================================================================================
@dataclass
class Trends:
    unit: OrgUnit
    indicator: Indicator
    period: Period  # the whole window drawn
    series: pd.DataFrame  # org_unit, org_unit_name, period, start, value, completeness, role
    target: float | None
    band: tuple[float | None, float | None]
    buckets: tuple[Period, ...] = ()  # oldest first; the last may be `partial`
    partial: Period | None = None  # the quarter or year in progress, drawn apart
    selected: Period | None = None  # the period asked for, when the window is wider


def trend_span(p: Period, grain: str) -> Period:
    """The months a trend of p shows at a grain (see periods.trend_window)."""
    return trend_window(p, grain).span


def trends(ctx: Context, f: Filters) -> Trends:
    """The unit (a facility when `establecimiento` is set), the country, the compared regions
    and, for a facility, its district and region, over whole periods at the chosen grain."""
    cat = ctx.cat
    facility = cat.unit(f.facility) if f.facility else None
    if facility is not None and not cat.in_scope(facility, ctx.scope):
        facility = None  # Filters already dropped it; a hand-made Filters is refused here too
    unit = facility or selected_unit(ctx, f)
    ind = cat.indicators[f.indicator]
    asked = resolve_period(f, ctx.today)
    window = trend_window(asked, f.grain)
    buckets = list(window.buckets)
    units = [unit]
    roles = {unit.code: "selected"}
    if facility is not None:
        # A facility is read against its own region (all facility types), not the country.
        region = cat.parent(cat.parent(facility))
        if cat.in_scope(region, ctx.scope):
            units.append(region)
            roles[region.code] = "region"
    country = cat.country()
    if unit.code != country.code and ctx.cat.in_scope(country, ctx.scope):
        units.append(country)
        roles[country.code] = "national"
    for code in f.compare[:MAX_COMPARE]:
        u = cat.unit(code)
        if u is not None and u.code not in roles:
            units.append(u)
            roles[u.code] = "compare"
    ftypes = None if facility is not None else f.ftypes()
    res = _evaluate(ctx, [ind], units, buckets, ftypes)
    starts = {b.id: b.start for b in buckets}
    res = res.assign(start=res.period.map(starts), role=res.org_unit.map(roles))
    span = window.span
    t = cat.target_for(ind, unit, span.end // 100)
    return Trends(
        unit,
        ind,
        span,
        res,
        t.target,
        (t.band_low, t.band_high),
        tuple(buckets),
        window.partial,
        asked if asked.n_months < span.n_months and f.grain == "month" else None,
    )


# ==== Desempeño (scorecard) ======================================================================
@dataclass
class Scorecard:
    unit: OrgUnit
    period: Period
    compare_to: Period
    indicators: list[Indicator]
    rows: pd.DataFrame  # one row per unit: code, name, level, then per indicator value/status/trend
    row_level: int
    cells: pd.DataFrame = field(default_factory=pd.DataFrame)  # long form, for exports
    # The thresholds the marks were computed with (their words state them).
    rules: QualityRules = field(default_factory=QualityRules)
    # The indicator the "#" column ranks by: the chosen indicator when it is a column, else the
    # area's first.
    ranked_by: Indicator | None = None
    # The page of `rows` the screen shows (1 from the top) and its size; None: every row.
    page: int = 1
    page_rows: int | None = None


def scorecard_indicators(cat: Catalog, f: Filters) -> list[Indicator]:
    domain = f.domain or cat.indicators[f.indicator].domain
    return [i for i in cat.indicators.values() if i.domain == domain]


def scorecard(
    ctx: Context, f: Filters, rows: str | None = None, page_rows: int | None = None
) -> Scorecard:
    """rows='facilities' lists the unit's facilities whatever its level (the regional pack).
    page_rows: the screen shows page f.page (clamped to the last) of that many rows; the
    year-earlier values behind the trend arrows are then read for that page's rows only, which
    halves what is read for a region's 2,000 facilities (other rows get no trend)."""
    cat = ctx.cat
    unit = selected_unit(ctx, f)
    p = resolve_period(f, ctx.today)
    ly = p.year_earlier()
    inds = scorecard_indicators(cat, f)
    level = 3 if unit.level >= 2 or f.ftype or rows == "facilities" else child_level(unit)
    units = children(ctx, unit, level)
    if level == 3 and f.ftype:
        units = [u for u in units if u.facility_type == f.ftype]
    res = _evaluate(ctx, inds, units, [p] if page_rows else [p, ly], f.ftypes())
    now = res[res.period == p.id].copy()
    now["small"] = _small(now, ctx)
    codes = [u.code for u in units]
    columns: dict[str, object] = {
        "org_unit": codes,
        "org_unit_name": [u.name for u in units],
        "facility_type": [u.facility_type or "" for u in units],
    }
    # Built as one dict of columns: inserting fifty columns one at a time cost more than the
    # database reads of a region's 2,000 facilities.
    columns.update(
        _by_indicator(now, inds, codes, ("value", "status", "small", "completeness", "quality"))
    )
    wide = pd.DataFrame(columns)
    key = (
        f"{f.indicator}|value" if f.indicator in [i.code for i in inds] else f"{inds[0].code}|value"
    )
    ind0 = cat.indicators[key.split("|")[0]]
    wide["rank"] = rank(wide.rename(columns={key: "value"}), ind0)
    wide = _sort(wide, f.sort, ind0, cat)
    page = 1
    if page_rows is None:
        earlier = res[res.period == ly.id]
    else:
        page = min(f.page, max(1, -(-len(wide) // page_rows)))
        on_page = set(wide.org_unit.iloc[(page - 1) * page_rows : page * page_rows])
        page_units = [u for u in units if u.code in on_page]
        earlier = _evaluate(ctx, inds, page_units, [ly], f.ftypes()) if page_units else res[:0]
    before = dict(
        zip(
            zip(earlier.indicator.to_numpy(), earlier.org_unit.to_numpy(), strict=True),
            earlier.value.to_numpy(float),
            strict=True,
        )
    )
    now["prev_value"] = np.array(
        [
            before.get(k, np.nan)
            for k in zip(now.indicator.to_numpy(), now.org_unit.to_numpy(), strict=True)
        ],
        dtype=float,
    )
    now["trend"] = _trend(now)
    trends = _by_indicator(now, inds, list(wide.org_unit), ("trend",))
    wide = pd.concat([wide, pd.DataFrame(trends, index=wide.index)], axis=1)
    return Scorecard(
        unit,
        p,
        ly,
        inds,
        wide,
        level,
        now,
        rules=ctx.rules,
        ranked_by=ind0,
        page=page,
        page_rows=page_rows,
    )


def _by_indicator(
    now: pd.DataFrame, inds: Sequence[Indicator], codes: list[str], cols: Sequence[str]
) -> dict[str, object]:
    """Columns "CODE|col" of `now` (one row per indicator and unit) for the units `codes`, in
    that order (NaN where a unit has no row; None for an indicator with no rows at all).
    Plain arrays: per-column pandas lookups cost more than the scorecard's reads."""
    out: dict[str, object] = {}
    where = pd.Index(codes).get_indexer(now["org_unit"].to_numpy())  # -1: not listed
    ind_of = now["indicator"].to_numpy()
    values = {col: now[col].to_numpy() for col in cols}
    for ind in inds:
        src = np.flatnonzero((ind_of == ind.code) & (where >= 0))
        dst = where[src]
        for col in cols:
            if not len(src):
                out[f"{ind.code}|{col}"] = None
                continue
            v = values[col]
            if len(src) == len(codes) and len(np.unique(dst)) == len(codes):
                column = np.empty(len(codes), dtype=v.dtype)
            else:  # a unit without a row: NaN, as a lookup by code gives
                column = np.full(len(codes), np.nan, dtype=float if v.dtype.kind == "f" else object)
            column[dst] = v[src]
            out[f"{ind.code}|{col}"] = column
    return out


def _trend(frame: pd.DataFrame) -> list[str]:
    """'up', 'down' or 'flat' against the same period a year earlier (±1 % counts as flat)."""
    v = pd.to_numeric(frame["value"], errors="coerce").to_numpy(float)
    prev = pd.to_numeric(frame["prev_value"], errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore"):
        flat = np.abs(v - prev) <= 0.01 * np.maximum(np.abs(prev), 1e-9)
        out = np.where(flat, "flat", np.where(v > prev, "up", "down")).astype(object)
    out[np.isnan(v) | np.isnan(prev)] = ""
    return out.tolist()


def _sort(wide: pd.DataFrame, sort: str | None, ind0: Indicator, cat: Catalog) -> pd.DataFrame:
    by_name = _by_name(cat)
    if sort:
        col = sort.lstrip("-")
        column = f"{col}|value" if f"{col}|value" in wide else col
        if column in wide:
            return wide.sort_values(
                column,
                ascending=not sort.startswith("-"),
                na_position="last",
                kind="stable",
                key=by_name,
            )
    return wide.sort_values(
        ["rank", "org_unit_name"], na_position="last", kind="stable", key=by_name
    )


def _name_key(cat: Catalog) -> Callable[[str], str]:
    """A name's key in Spanish alphabetical order (names carry accents), worked out once per
    catalogue (a region's 3,000 facility names cost ~30 ms a request at 10×)."""
    keys: dict[str, str] = cat.memo(("collation_keys",), dict)

    def key_of(name: str) -> str:
        k = keys.get(name)
        if k is None:
            k = keys[name] = collation_key(name)
        return k

    return key_of


def _by_name(cat: Catalog) -> Callable[[pd.Series], pd.Series]:
    """A sort key: names in Spanish alphabetical order, other columns as they are."""
    key_of = _name_key(cat)

    def key(column: pd.Series) -> pd.Series:
        return column.map(key_of) if column.name == "org_unit_name" else column

    return key


# ==== Establecimiento ============================================================================
@dataclass
class FacilityProfile:
    unit: OrgUnit
    district: OrgUnit
    region: OrgUnit
    period: Period
    indicators: list[Indicator]
    current: pd.DataFrame  # one row per indicator: value, status, small, completeness ...
    history: pd.DataFrame  # indicator × 24 months
    peers: pd.DataFrame  # indicator, facility, region peers, national peers values
    reporting: pd.DataFrame  # period (month), expected_reports, received_reports, on_time
    shown: list[Indicator] = field(default_factory=list)  # with a value now or in 24 months
    silent: list[Indicator] = field(default_factory=list)  # nothing reported in 24 months
    # The thresholds the marks were computed with (their words state them).
    rules: QualityRules = field(default_factory=QualityRules)
    # The same 24 months for the region (every facility type) and for the facility's peers (its
    # type in its region), beside its own line; empty when out of scope.
    region_history: pd.DataFrame = field(default_factory=pd.DataFrame)
    peer_history: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_peers: int = 0  # other facilities of its type in its region (0: it is the only one)
    country_visible: bool = True  # may the breadcrumb offer the country?


def facility_profile(ctx: Context, f: Filters, code: str) -> FacilityProfile | None:
    cat = ctx.cat
    unit = cat.unit(code)
    if unit is None or unit.level != 3 or not cat.in_scope(unit, ctx.scope):
        return None
    district = cat.parent(unit)
    region = cat.parent(district)
    p = resolve_period(f, ctx.today)
    inds = [i for i in cat.indicators.values() if i.applies_to(unit.facility_type)]
    current = _evaluate(ctx, inds, [unit], [p])
    current["small"] = _small(current, ctx)
    months = [period_for_span(m, m) for m in _months_back(p.end, 24)]
    history = _evaluate(ctx, inds, [unit], months)
    same_type = (unit.facility_type or "",)
    peer_units = [u for u in (region, cat.country()) if cat.in_scope(u, ctx.scope)]
    peers = _evaluate(ctx, inds, peer_units, [p], same_type)
    reporting = history[history.indicator == "DQ-01"][
        ["period", "expected_reports", "received_reports"]
    ]
    on_time = history[history.indicator == "DQ-02"].set_index("period")["numerator"]
    reporting = reporting.assign(
        on_time=reporting.period.map(on_time).fillna(0).astype(int).to_numpy()
    )
    with_data = set(history.loc[history["value"].notna(), "indicator"]) | set(
        current.loc[current["value"].notna(), "indicator"]
    )
    shown = [i for i in inds if i.code in with_data]
    silent = [i for i in inds if i.code not in with_data]
    peers_of_type = [
        u
        for u in children(ctx, region, 3)
        if u.facility_type == unit.facility_type and u.code != unit.code
    ]
    region_history = pd.DataFrame()
    peer_history = pd.DataFrame()
    if cat.in_scope(region, ctx.scope) and shown:
        region_history = _evaluate(ctx, shown, [region], months)
        if peers_of_type:
            # Its type in its region, as the table's peer column (the rollups answer it).
            peer_history = _evaluate(ctx, shown, [region], months, same_type)
    return FacilityProfile(
        unit,
        district,
        region,
        p,
        inds,
        current,
        history,
        peers,
        reporting,
        shown,
        silent,
        rules=ctx.rules,
        region_history=region_history,
        peer_history=peer_history,
        n_peers=len(peers_of_type),
        country_visible=cat.in_scope(cat.country(), ctx.scope),
    )


# ==== Informe regional (pack) ====================================================================
@dataclass
class PackTrends:
    unit: OrgUnit
    period: Period
    series: pd.DataFrame  # indicator, period (month), value, completeness for the unit
    national: pd.DataFrame  # the same for the country, when in scope
    indicators: list[Indicator]


def pack_trends(ctx: Context, f: Filters, months: int = 24) -> PackTrends:
    """The key indicators month by month for the pack's small multiples."""
    cat = ctx.cat
    unit = selected_unit(ctx, f)
    p = resolve_period(f, ctx.today)
    inds = [cat.indicators[c] for c in kpi_codes(f, cat)]
    buckets = [period_for_span(m, m) for m in _months_back(p.end, months)]
    units = [unit] + (
        [cat.country()] if unit.level > 0 and cat.in_scope(cat.country(), ctx.scope) else []
    )
    res = _evaluate(ctx, inds, units, buckets, f.ftypes())
    return PackTrends(
        unit,
        period_for_span(buckets[0].start, buckets[-1].end),
        res[res.org_unit == unit.code],
        res[res.org_unit != unit.code],
        inds,
    )
