"""Disclosure control: small counts shown as "<N", rates on small numerators withheld, and
complementary suppression so a hidden count cannot be recovered by subtraction (pure)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .i18n import fmt_number, fmt_values

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
    return mark(out, num_small.to_numpy(), den_small.to_numpy(), threshold)


def mark(
    frame: pd.DataFrame, num_small: np.ndarray, den_small: np.ndarray, threshold: int
) -> pd.DataFrame:
    """Hide the counts flagged (NaN, `numerator_small` / `denominator_small`, shown as
    small_label) and withhold every value whose numerator is at most `threshold` or hidden."""
    out = frame.reset_index(drop=True)
    num = out["numerator"].astype(float)
    num_hide = pd.Series(np.asarray(num_small, dtype=bool), index=out.index)
    den_hide = pd.Series(np.asarray(den_small, dtype=bool), index=out.index)
    withheld = out["value"].notna() & ((num <= threshold) | num_hide)
    out["numerator_small"] = num_hide.to_numpy()
    out["denominator_small"] = den_hide.to_numpy()
    out["withheld"] = withheld.to_numpy()
    num_small, den_small = num_hide, den_hide
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


def counts_text(frame: pd.DataFrame, column: str, lang: str) -> list[str]:
    """count_text of every row of a frame, as a list (a map's thousands of hover labels)."""
    shown = fmt_values(frame[column], None, lang, 0)
    hidden = f"{column}_small"
    if hidden not in frame.columns:
        return shown
    flags = frame[hidden].to_numpy()
    if not any(bool(f) for f in flags):
        return shown
    labels = frame["small_label"].to_numpy()
    return [
        str(label) if bool(flag) else text
        for flag, label, text in zip(flags, labels, shown, strict=True)
    ]


def complete_cube(cells: pd.DataFrame, column: str, threshold: int) -> np.ndarray:
    """Hidden cells of one count column of a canonical cube (dashboard.suppression): counts
    1..threshold, then complementary suppression until no line holds exactly one hidden cell.
    A line is a total with its parts, so a hidden total cannot be summed back either: a parent
    with its children (indicator, period, ftype; the parent's rows are `fixed`, decided in its
    own parent's cube), a quarter with its months (`quarter`), a year with its quarters
    (`year`), the all-types cell "*" with the unit's typed cells (indicator, org_unit,
    period). A cell of another span (`kind` "span", `months`) is hidden when it is small or
    exactly one of its months is; its siblings and types then form lines as above.
    Deterministic: the same cube gives the same cells whichever view asks."""
    values = cells[column].astype(float).to_numpy()
    fixed = cells["fixed"].to_numpy(dtype=bool) if "fixed" in cells else np.zeros(len(cells), bool)
    hidden = (values >= 1) & (values <= threshold)
    if "fixed_hidden" in cells:
        hidden = np.where(fixed, cells["fixed_hidden"].to_numpy(dtype=bool), hidden)
    span = (cells["kind"] == "span").to_numpy()

    def ids(keys: list[str], where: np.ndarray) -> np.ndarray:
        gid = cells.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
        return np.where(where, gid, -1)

    canon = ~span
    lines = [
        ids(["indicator", "period", "ftype"], canon),
        ids(
            ["indicator", "org_unit", "ftype", "quarter"],
            canon & (cells["quarter"] != "").to_numpy(),
        ),
        ids(["indicator", "org_unit", "ftype", "year"], canon & (cells["year"] != "").to_numpy()),
        ids(["indicator", "org_unit", "period"], canon & ~fixed),
    ]
    _converge(values, hidden, lines, fixed)
    if span.any():
        month = {
            (i, u, t, p): h
            for i, u, t, p, h, k in zip(
                cells.indicator,
                cells.org_unit,
                cells.ftype,
                cells.period,
                hidden,
                cells["kind"],
                strict=True,
            )
            if k == "month"
        }
        rows = np.flatnonzero(span & ~fixed)
        lone = [
            sum(
                month.get(
                    (cells.indicator.iat[r], cells.org_unit.iat[r], cells.ftype.iat[r], m), False
                )
                for m in cells["months"].iat[r]
            )
            == 1
            for r in rows
        ]
        hidden[rows[np.array(lone, dtype=bool)]] = True
        span_lines = [
            ids(["indicator", "period", "ftype"], span),
            ids(["indicator", "org_unit", "period"], span & ~fixed),
        ]
        _converge(values, hidden, span_lines, fixed)
    return hidden


def _converge(
    values: np.ndarray, hidden: np.ndarray, lines: list[np.ndarray], fixed: np.ndarray
) -> None:
    """In place: while a line has exactly one hidden cell, hide its smallest other count that
    is not fixed (a zero only when the line has nothing else)."""
    changed = True
    while changed:
        changed = False
        for gid in lines:
            ok = gid >= 0
            if not ok.any():
                continue
            n = np.bincount(gid[ok], weights=hidden[ok].astype(float))
            for g in np.flatnonzero(n == 1):
                members = np.flatnonzero(gid == g)
                free = members[~hidden[members] & ~fixed[members] & ~np.isnan(values[members])]
                if not len(free):
                    continue
                positive = free[values[free] > 0]
                pick = positive if len(positive) else free
                hidden[pick[np.argmin(values[pick])]] = True
                changed = True
