"""Disclosure control: small counts hidden, rates withheld, and no hidden count recoverable by
differencing (parent minus children, column totals, quarter minus months)."""

import numpy as np
import pandas as pd
import pytest
from helpers import TODAY

from dashboard.disclosure import count_text, small_label, suppress


def rows(cells: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    """(org_unit, period, numerator, denominator) of one indicator."""
    f = pd.DataFrame(cells, columns=["org_unit", "period", "numerator", "denominator"])
    return f.assign(
        indicator="MNI-02",
        value=f.numerator / f.denominator * 100,
        status="met",
    )


def test_suppress_hides_counts_one_to_threshold_and_withholds_their_rates():
    f = suppress(rows([("A", "2025", 3, 120), ("B", "2025", 0, 90), ("C", "2025", 40, 60)]))
    a, b, c = (f.iloc[i] for i in range(3))
    assert a.numerator_small and np.isnan(a.numerator) and a.withheld and np.isnan(a.value)
    assert a.status == "no_data" and a.denominator == 120
    # Zero is not a small count, but a rate on fewer than five events is withheld.
    assert not b.numerator_small and b.numerator == 0 and b.withheld
    # C is hidden too (complementary): A alone would be the total minus B and C.
    assert c.numerator_small and c.withheld
    assert small_label(4) == "<5" and count_text(a, "numerator", "es") == "<5"
    assert count_text(a, "denominator", "es") == "120"


def test_suppress_threshold_is_configurable():
    f = suppress(rows([("A", "2025", 9, 120), ("B", "2025", 12, 90), ("C", "2025", 11, 80)]), 9)
    assert list(f.numerator_small) == [True, False, True]
    assert f.small_label.iloc[0] == "<10"


def _lone_hidden(frame: pd.DataFrame, keys: list[str], hidden_totals: set | None = None) -> list:
    """Differencing attack: in each line, the line's total (the parent's count, when the
    parent shows it: 0 or over 4, and not hidden by its own view) less the visible cells is
    the sum of the hidden ones; a small count (1 to 4) is disclosed when it is the only
    hidden cell."""
    found = []
    for key, line in frame.groupby(keys):
        total = line.true_numerator.sum()
        if 1 <= total <= 4 or key in (hidden_totals or set()):
            continue  # the parent's own count is hidden: nothing to subtract from
        hidden = line[line.numerator_small]
        rest = total - line[~line.numerator_small].numerator.fillna(0).sum()
        if len(hidden) == 1 and 1 <= hidden.true_numerator.iloc[0] <= 4:
            assert rest == hidden.true_numerator.iloc[0]
            found.append(key)
    return found


def test_suppress_resists_differencing_over_units_and_months():
    rng = np.random.default_rng(3)
    cells = [
        (u, f"2025{m:02d}", float(rng.choice([0, 1, 2, 3, 7, 12, 30])), 100.0)
        for u in "ABCDEF"
        for m in range(1, 13)
    ]
    f = rows(cells).assign(true_numerator=lambda d: d.numerator)
    out = suppress(f)
    out["quarter"] = [f"2025Q{(int(p[4:]) + 2) // 3}" for p in out.period]
    assert out.numerator_small.any()
    assert _lone_hidden(out, ["period"]) == []  # a month: region total minus the others
    assert _lone_hidden(out, ["org_unit", "quarter"]) == []  # a quarter minus its months


@pytest.mark.slow
def test_public_views_never_give_a_hidden_count_away(demo):
    """The attack on the demo: each parent's numerator minus its visible children, for the
    country's regions and every region's districts, in months and a year."""
    from dashboard.catalog import Scope
    from dashboard.periods import parse_period
    from dashboard.views import Context, _evaluate

    repo, _, _ = demo
    ctx = Context(repo=repo, scope=Scope.national(), today=TODAY, suppress=4)
    real = Context(repo=repo, scope=Scope.national(), today=TODAY)
    cat = repo.catalog()
    inds = [
        cat.indicators[c] for c in ("MNI-02", "MNI-06", "TRA-04", "HOS-03") if c in cat.indicators
    ]
    periods = [parse_period(p, TODAY) for p in ("202501", "202502", "202503", "2025")]
    hidden_total = 0
    parents = [cat.unit("PY"), *cat.level_units(1)]
    for parent in parents:
        kids = cat.descendants(parent, parent.level + 1)
        shown = _evaluate(ctx, inds, kids, periods)
        truth = _evaluate(real, inds, kids, periods)
        shown["true_numerator"] = truth.numerator.to_numpy()
        hidden_total += int(shown.numerator_small.sum())
        # The parent as its own view shows it (hidden there too when its cube says so).
        top = _evaluate(ctx, inds, [parent], periods)
        hidden_totals = set(
            zip(top.indicator[top.numerator_small], top.period[top.numerator_small], strict=True)
        )
        assert _lone_hidden(shown, ["indicator", "period"], hidden_totals) == [], parent.code
        # Authorised users see the real counts.
        assert not truth.numerator.isna().all()
    assert hidden_total > 0


def _one_unknown(total: dict, parts: list[dict]) -> bool:
    """A relation total = Σ parts with exactly one hidden member: that member is the total
    less the others (or their sum), so it is disclosed."""
    members = [total, *parts]
    return len(members) > 1 and sum(m["hidden"] for m in members) == 1


@pytest.mark.slow
def test_public_views_agree_across_months_quarters_and_facility_types(demo):
    """The attack across views, each requested on its own as the pages do: a parent against
    its children, a quarter against its months, a year against its quarters, and the
    all-types value against each facility type's (a filter). No relation may have exactly one
    hidden member, and a cell is hidden the same way in every view that shows it."""
    from dashboard.catalog import FACILITY_TYPES, Scope
    from dashboard.periods import parse_period
    from dashboard.suppression import CubeCache
    from dashboard.views import Context, _evaluate

    repo, _, _ = demo
    cat = repo.catalog()
    ctx = Context(repo=repo, scope=Scope.national(), today=TODAY, suppress=4, cubes=CubeCache())
    real = Context(repo=repo, scope=Scope.national(), today=TODAY)
    ind = cat.indicators["MNI-02"]
    months = ["202501", "202502", "202503"]
    quarters = ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    periods = [*months, *quarters, "2025"]
    ftypes = [None, *((t,) for t in FACILITY_TYPES)]
    cells: dict[tuple, dict] = {}
    for parent in (cat.unit("PY"), cat.unit("PY-1"), cat.unit("PY-16")):
        kids = cat.descendants(parent, parent.level + 1)
        for pid in periods:
            p = parse_period(pid, TODAY)
            for ft in ftypes:
                for units in ([parent], kids):  # two requests, as two pages make them
                    shown = _evaluate(ctx, [ind], units, [p], ft)
                    if shown.empty:
                        continue
                    truth = _evaluate(real, [ind], units, [p], ft)
                    for r, true in zip(shown.itertuples(), truth.numerator, strict=True):
                        key = (r.org_unit, pid, ft)
                        cell = {"hidden": bool(r.numerator_small), "true": true}
                        # The same cell, asked by another view, is hidden the same way.
                        assert cells.setdefault(key, cell)["hidden"] == cell["hidden"], key
    assert any(c["hidden"] for c in cells.values())
    leaks = []
    units = {k[0] for k in cells}
    for u in units:
        unit = cat.unit(u)
        for ft in ftypes:
            for q, ms in (("2025Q1", months),):
                total, parts = cells.get((u, q, ft)), [cells.get((u, m, ft)) for m in ms]
                if total and all(parts) and _one_unknown(total, parts):
                    leaks.append(("months", u, q, ft))
            total, parts = cells.get((u, "2025", ft)), [cells.get((u, q, ft)) for q in quarters]
            if total and all(parts) and _one_unknown(total, parts):
                leaks.append(("quarters", u, ft))
        for pid in periods:
            total = cells.get((u, pid, None))
            typed = [cells[(u, pid, ft)] for ft in ftypes[1:] if (u, pid, ft) in cells]
            # Types without a row have no data: they add nothing to the total.
            if total and typed and unit.level < 3 and _one_unknown(total, typed):
                leaks.append(("types", u, pid))
            if unit.code in ("PY", "PY-1", "PY-16"):
                kids = [k.code for k in cat.descendants(unit, unit.level + 1)]
                for ft in ftypes:
                    if (u, pid, ft) not in cells:
                        continue
                    parts = [cells[(k, pid, ft)] for k in kids if (k, pid, ft) in cells]
                    if parts and _one_unknown(cells[(u, pid, ft)], parts):
                        leaks.append(("children", u, pid, ft))
    assert leaks == []


def cube(cells):
    """(org_unit, period, kind, quarter, year, ftype, numerator[, fixed, fixed_hidden])."""
    f = pd.DataFrame(
        [c + (False, False) if len(c) == 7 else c for c in cells],
        columns=[
            "org_unit",
            "period",
            "kind",
            "quarter",
            "year",
            "ftype",
            "numerator",
            "fixed",
            "fixed_hidden",
        ],
    )
    return f.assign(indicator="MNI-02", months=[()] * len(f))


def test_cube_a_hidden_month_takes_a_second_month_of_its_quarter():
    from dashboard.disclosure import complete_cube

    # One unit alone (no siblings): January 3 (hidden) would be Q1 25 less 10 and 12.
    c = cube(
        [
            ("A", "202501", "month", "2025Q1", "", "*", 3),
            ("A", "202502", "month", "2025Q1", "", "*", 10),
            ("A", "202503", "month", "2025Q1", "", "*", 12),
            ("A", "2025Q1", "quarter", "2025Q1", "2025", "*", 25),
        ]
    )
    assert complete_cube(c, "numerator", 4).tolist() == [True, True, False, False]


def test_cube_a_hidden_type_takes_a_second_type_and_a_hidden_total_a_part():
    from dashboard.disclosure import complete_cube

    c = cube(
        [
            ("A", "2025", "year", "", "2025", "*", 40),
            ("A", "2025", "year", "", "2025", "USF", 2),  # hidden: 40 - 30 - 8 would give it
            ("A", "2025", "year", "", "2025", "HD", 30),
            ("A", "2025", "year", "", "2025", "HR", 8),
        ]
    )
    assert complete_cube(c, "numerator", 4).tolist() == [False, True, False, True]
    # The parent (fixed, hidden in its own cube) against two visible children: a child goes too.
    c = cube(
        [
            ("P", "2025", "year", "", "", "*", 30, True, True),
            ("A", "2025", "year", "", "", "*", 10),
            ("B", "2025", "year", "", "", "*", 20),
        ]
    )
    assert complete_cube(c, "numerator", 4).tolist() == [True, True, False]
