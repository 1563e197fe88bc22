"""Disclosure control that holds across views: whether a count is hidden is decided once, on a
canonical table of the unit and its siblings × every month, quarter and year × every facility
type, so the month view, the quarter view and a facility-type filter can never be set side by
side to subtract a hidden count out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from .aggregate import breakdown_units, evaluate_frame
from .catalog import FACILITY_TYPES, Indicator, OrgUnit, Scope
from .disclosure import complete_cube, small_label
from .memo import CatalogLRU
from .periods import Period, month_period, quarter_period, split, year_period
from .repository import Repository

ALL = "*"  # the cube's facility-type key of "all types"
Key = tuple[str, str, int, int, str]  # indicator, org unit, start, end, facility type


def kind_of(p: Period) -> tuple[str, str]:
    """('month' | 'quarter' | 'year' | 'span', the period it adds up to)."""
    y, m = p.start // 100, p.start % 100
    if p.start == p.end:
        return "month", quarter_period(y, (m + 2) // 3).id
    if p.end == p.start + 2 and m in (1, 4, 7, 10):
        return "quarter", str(y)
    if m == 1 and p.end == y * 100 + 12:
        return "year", ""
    return "span", ""


def _canonical(years: Sequence[int]) -> list[Period]:
    out: list[Period] = []
    for y in years:
        out += [month_period(y * 100 + m) for m in range(1, 13)]
        out += [quarter_period(y, q) for q in range(1, 5)]
        out.append(year_period(y))
    return out


# Hidden-cell decisions of recent cubes (one cache per app).
CubeCache = CatalogLRU[dict]


def hidden_cells(
    repo: Repository,
    scope: Scope,
    today: date,
    indicators: Sequence[Indicator],
    units: Sequence[OrgUnit],
    periods: Sequence[Period],
    threshold: int,
    cache: CubeCache | None = None,
) -> dict[Key, tuple[bool, bool]]:
    """(numerator hidden, denominator hidden) of every cell of the unit's cube, for the
    units and periods asked: each unit's cube is its parent's children (its siblings) in the
    scope, every facility type and all-types, every month, quarter and year of the years the
    periods touch, plus the other spans asked (see disclosure.complete_cube)."""
    cat = repo.catalog()
    years = tuple(sorted({y for p in periods for y in p.months_by_year()}))
    spans = tuple(sorted({(p.start, p.end) for p in periods if kind_of(p)[0] == "span"}))
    families: dict[str, tuple[OrgUnit | None, list[OrgUnit]]] = {}
    for u in units:
        parent = cat.parent(u) if u.parent_id is not None else None
        key = parent.code if parent is not None else f"root:{u.code}"
        if key not in families:
            kids = cat.descendants(parent, u.level) if parent is not None else [u]
            families[key] = (parent, cat.filter_scope(kids, scope))
    out: dict[Key, tuple[bool, bool]] = {}
    for family, (parent, siblings) in families.items():
        for ind in indicators:
            ck = (scope, family, years, spans, ind.code, threshold)
            got = cache.get(ck, cat) if cache is not None else None
            if got is None:
                # The parent's cells are the lines' totals, as its own cube decided them.
                above = (
                    hidden_cells(repo, scope, today, [ind], [parent], periods, threshold, cache)
                    if parent is not None and cat.in_scope(parent, scope)
                    else {}
                )
                got = _cube(
                    repo,
                    scope,
                    today,
                    ind,
                    siblings,
                    parent,
                    above,
                    family,
                    years,
                    spans,
                    threshold,
                )
                if cache is not None:
                    cache.put(ck, cat, got)
            out.update(got)
    return out


def _cube(
    repo: Repository,
    scope: Scope,
    today: date,
    ind: Indicator,
    siblings: Sequence[OrgUnit],
    parent: OrgUnit | None,
    above: dict[Key, tuple[bool, bool]],
    family: str,
    years: tuple[int, ...],
    spans: tuple[tuple[int, int], ...],
    threshold: int,
) -> dict[Key, tuple[bool, bool]]:
    periods = _canonical(years) + [Period(s, e, f"{s}:{e}") for s, e in spans]
    bounds = {p.id: (p.start, p.end) for p in periods}
    kinds = {p.id: kind_of(p) for p in periods}
    months = {p.id: tuple(str(m) for m in p.months()) for p in periods}
    frames = []
    units = [*siblings, *([parent] if parent is not None and above else [])]
    for ftype in (None, *((t,) for t in FACILITY_TYPES)):
        f = evaluate_frame(repo, scope, [ind], units, periods, ftype, today=today)
        if f.empty:
            continue
        frames.append(
            f[["indicator", "org_unit", "period", "numerator", "denominator"]].assign(
                ftype=ALL if ftype is None else ftype[0]
            )
        )
    if not frames:
        return {}
    cells = pd.concat(frames, ignore_index=True)
    cells["kind"] = [kinds[p][0] for p in cells.period]
    cells["quarter"] = [
        kinds[p][1] if kinds[p][0] == "month" else (p if kinds[p][0] == "quarter" else "")
        for p in cells.period
    ]
    cells["year"] = [
        kinds[p][1] if kinds[p][0] == "quarter" else (p if kinds[p][0] == "year" else "")
        for p in cells.period
    ]
    cells["months"] = [months[p] if kinds[p][0] == "span" else () for p in cells.period]
    own = parent.code if parent is not None else None
    cells["fixed"] = (cells.org_unit == own).to_numpy() if own else False
    fixed_num, fixed_den = [], []
    for i, u, p, t in zip(cells.indicator, cells.org_unit, cells.period, cells.ftype, strict=True):
        h = above.get((i, u, *bounds[p], t), (False, False)) if u == own else (False, False)
        fixed_num.append(h[0])
        fixed_den.append(h[1])
    num = complete_cube(cells.assign(fixed_hidden=fixed_num), "numerator", threshold)
    den = complete_cube(cells.assign(fixed_hidden=fixed_den), "denominator", threshold)
    out: dict[Key, tuple[bool, bool]] = {}
    for i, u, p, t, hn, hd in zip(
        cells.indicator, cells.org_unit, cells.period, cells.ftype, num, den, strict=True
    ):
        if u == own:
            continue  # the parent's cells are decided in its own cube
        start, end = bounds[p]
        out[(i, u, start, end, t)] = (bool(hn), bool(hd))
    return out


def apply(
    frame: pd.DataFrame,
    hidden: dict[Key, tuple[bool, bool]],
    periods: Sequence[Period],
    ftypes: tuple[str, ...] | None,
    threshold: int,
) -> pd.DataFrame:
    """The frame as a restricted user sees it, with the cube's decisions (a cell outside every
    cube falls back to the primary rule: 1..threshold hidden)."""
    from .disclosure import mark

    t = ALL if ftypes is None else "+".join(ftypes)
    bounds = {p.id: (p.start, p.end) for p in periods}
    num_h, den_h = [], []
    for i, u, p, n, d in zip(
        frame.indicator,
        frame.org_unit,
        frame.period,
        frame.numerator,
        frame.denominator,
        strict=True,
    ):
        start, end = bounds.get(p, (0, 0))
        got = hidden.get((i, u, start, end, t))
        if got is None:
            got = (_small(n, threshold), _small(d, threshold))
        num_h.append(got[0])
        den_h.append(got[1])
    return mark(frame, np.array(num_h, dtype=bool), np.array(den_h, dtype=bool), threshold)


def _small(v, threshold: int) -> bool:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return False
    return 1 <= x <= threshold


def restricted_rows(
    repo: Repository,
    scope: Scope,
    today: date,
    query: tuple[Indicator, OrgUnit, Period, str | None, tuple[str, ...] | None],
    rows: list[dict],
    threshold: int,
    cache: CubeCache | None = None,
) -> list[dict]:
    """`query` rows (dicts, as `query --format json` prints them) as a restricted user sees
    them, with the same cube decisions as the dashboard: hidden counts as "<N", withheld values
    null. `query`: (indicator, unit, period, by, facility types) the rows answer. The command
    line and the read API both call this, so no channel hides less than the pages."""
    if not rows:
        return rows
    ind, unit, period, by, ftypes = query
    units = breakdown_units(repo.catalog(), scope, unit, by)
    periods = split(period, by) if by in ("month", "quarter", "year") else [period]
    hidden = hidden_cells(repo, scope, today, [ind], units, periods, threshold, cache)
    frame = apply(pd.DataFrame(rows), hidden, periods, ftypes, threshold)
    label = small_label(threshold)
    out = []
    flags = frame[["numerator_small", "denominator_small", "withheld"]].itertuples()
    for row, hide in zip(rows, flags, strict=True):
        row = dict(row)
        if hide.numerator_small:
            row["numerator"] = label
        if hide.denominator_small:
            row["denominator"] = label
        if hide.withheld:
            row["value"], row["status"] = None, "no_data"
        out.append(row)
    return out
