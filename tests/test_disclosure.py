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


def _lone_hidden(frame: pd.DataFrame, keys: list[str]) -> list:
    """Differencing attack: in each line, the line's total (the parent's count, when the
    parent shows it: 0 or over 4) less the visible cells is the sum of the hidden ones; a
    small count (1 to 4) is disclosed when it is the only hidden cell."""
    found = []
    for key, line in frame.groupby(keys):
        total = line.true_numerator.sum()
        if 1 <= total <= 4:
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
        assert _lone_hidden(shown, ["indicator", "period"]) == [], parent.code
        # Authorised users see the real counts.
        assert not truth.numerator.isna().all()
    assert hidden_total > 0
