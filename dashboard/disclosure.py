"""Disclosure control: small counts shown as "<N", rates on small numerators withheld, and
complementary suppression so a hidden count cannot be recovered by subtraction (pure)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .i18n import fmt_number

DEFAULT_THRESHOLD = 4  # counts 1..4 are shown as "<5"


def small_label(threshold: int) -> str:
    """What a suppressed count shows: "<5" for the default threshold of 4."""
    return f"<{threshold + 1}"


def _hidden(counts: pd.Series, threshold: int) -> pd.Series:
    c = counts.astype(float)
    return (c >= 1) & (c <= threshold)


def _within(period: object) -> str:
    """The period a period adds up to, so a quarter's months (a year's quarters) form one line
    of the table: a quarter minus its visible months must not give a hidden month away."""
    p = str(period)
    if len(p) == 6 and p.isdigit():
        return f"{p[:4]}Q{(int(p[4:]) + 2) // 3}"
    if len(p) == 6 and p[4] == "Q":
        return p[:4]
    return p


def _complete(out: pd.DataFrame, col: str, small: pd.Series) -> pd.Series:
    """Complementary suppression of one count column: in every line of the table (the units
    of one indicator and period; the months of one quarter, or the quarters of one year, of
    one indicator and unit) with exactly one
    hidden count, hide the smallest other count too, until no line has a lone hidden cell."""
    small = small.copy()
    values = out[col].astype(float)
    out = out.assign(_within=[_within(p) for p in out.get("period", [""] * len(out))])
    lines = [
        [k for k in keys if k in out.columns]
        for keys in (("indicator", "period"), ("indicator", "org_unit", "_within"))
    ]
    changed = True
    while changed:
        changed = False
        for keys in lines:
            if not keys or len(out) < 2:
                continue
            for idx in out.groupby(keys, sort=False).groups.values():
                if len(idx) < 2 or small.loc[idx].sum() != 1:
                    continue
                line = values.loc[idx]
                # The smallest other count; a zero only when the line has nothing else.
                free = line[~small.loc[idx] & line.notna()]
                others = free[free > 0] if (free > 0).any() else free
                if len(others):
                    small.loc[others.idxmin()] = True
                    changed = True
    return small


def suppress(frame: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """The evaluated frame (indicator, org_unit, period, numerator, denominator, value,
    status…) as a restricted user may see it. Counts between 1 and `threshold` become NaN with
    `numerator_small` / `denominator_small` set (shown as small_label), with complementary
    suppression (_complete) so that neither a parent's total, a column's total nor a quarter
    against its months gives a hidden count away by subtraction; a value whose numerator is
    at most `threshold` or hidden is withheld (`withheld`, status no_data)."""
    out = frame.reset_index(drop=True)
    num = out["numerator"].astype(float)
    den = out["denominator"].astype(float)
    num_small = _complete(out, "numerator", _hidden(num, threshold))
    den_small = _complete(out, "denominator", _hidden(den, threshold))
    withheld = out["value"].notna() & ((num <= threshold) | num_small)
    out["numerator_small"] = num_small.to_numpy()
    out["denominator_small"] = den_small.to_numpy()
    out["withheld"] = withheld.to_numpy()
    out.loc[num_small, "numerator"] = np.nan
    out.loc[den_small, "denominator"] = np.nan
    out.loc[withheld, "value"] = np.nan
    if "status" in out.columns:
        out.loc[withheld, "status"] = "no_data"
    out["small_label"] = small_label(threshold)
    return out


def count_text(row: Any, column: str, lang: str) -> str:
    """A numerator or denominator of an evaluated row as shown: "<5" when hidden."""
    if bool(getattr(row, f"{column}_small", False)):
        return str(row.small_label)
    return fmt_number(getattr(row, column), lang)
