"""Pure figure builders of Equidad: units as dots on one axis per year, people per USF ranked.

Plain plotly dicts, every label arriving translated and every number formatted by the caller
(as dashboard.figures), so the screen and the PDF draw the same figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .figures import base_layout
from .missing import is_missing

UNIT_COLOR = "#0072B2"  # Okabe-Ito blue
NATIONAL_COLOR = "#222222"
TARGET_COLOR = "#009E73"
ACCESS_COLORS = {
    "within": "#009E73",  # bluish green: at or under the norm
    "over": "#D55E00",  # vermillion: more people per USF than the norm
    "no_usf": "#CC79A7",  # reddish purple: no USF at all
}


def dot_figure(
    history: pd.DataFrame,
    *,
    period_ids: Sequence[str],
    period_labels: Mapping[str, str],
    names: Mapping[str, str],
    national: Mapping[str, float],
    target: float | None,
    hover: Sequence[str],
    texts: Mapping[str, str],
    lang_separators: str = ",.",
    label_units: Sequence[str] = (),
    height: int | None = None,
) -> dict:
    """One horizontal row per period (the current period on top), each unit a dot at its value
    (hollow when it rests on small numbers), the weighted mean of the row as a black diamond
    and the target as a vertical dashed line. `history` has org_unit, period, value, small;
    `hover` one text per history row; `texts` the translated legend labels (units, small,
    national, target); `label_units` are written beside their dot (best and worst)."""
    y_of = {pid: period_labels.get(pid, pid) for pid in period_ids}
    order = [y_of[p] for p in period_ids]  # oldest first: plotly draws the first at the bottom
    # Plain arrays: a dozen pandas selections cost more than the figure.
    n = len(history)
    values = pd.to_numeric(history["value"], errors="coerce").to_numpy(float) if n else np.zeros(0)
    codes = history["org_unit"].to_numpy(dtype=object) if n else np.zeros(0, dtype=object)
    periods = history["period"].to_numpy(dtype=object) if n else np.zeros(0, dtype=object)
    ok = ~np.isnan(values)
    small = history["small"].to_numpy(dtype=bool) if "small" in history else np.zeros(n, dtype=bool)
    data: list[dict] = []
    for is_small, label, symbol in (
        (False, texts["units"], "circle"),
        (True, texts["small"], "circle-open"),
    ):
        pick = np.flatnonzero(ok & (small == is_small))
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": label,
                "x": values[pick].tolist(),
                "y": [y_of.get(p, p) for p in periods[pick].tolist()],
                "marker": {
                    "color": UNIT_COLOR,
                    "size": 11,
                    "symbol": symbol,
                    "opacity": 0.75,
                    "line": {"color": "#FFFFFF" if not is_small else UNIT_COLOR, "width": 1},
                },
                "customdata": codes[pick].tolist(),
                "hovertext": [hover[i] for i in pick.tolist()],
                "hovertemplate": "%{hovertext}<extra></extra>",
                "showlegend": True,
            }
        )
    marks = [(p, float(v)) for p in period_ids if (v := national.get(p)) is not None]
    marks = [(p, v) for p, v in marks if not is_missing(v)]
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": texts["national"],
            "x": [float(v) for _, v in marks],
            "y": [y_of[p] for p, _ in marks],
            "marker": {
                "color": NATIONAL_COLOR,
                "symbol": "diamond",
                "size": 15,
                "line": {"color": "#FFFFFF", "width": 1.5},
            },
            "hovertext": [
                f"{texts['national']}: {texts.get('national_' + p, '')}" for p, _ in marks
            ],
            "hovertemplate": "%{hovertext}<extra></extra>",
        }
    )
    current = period_ids[-1] if period_ids else ""
    annotations = []
    for code in label_units if current else ():
        hit = np.flatnonzero((codes == code) & (periods == current) & ok)
        if not len(hit):
            continue
        annotations.append(
            {
                "x": float(values[hit[0]]),
                "y": y_of[current],
                "text": names.get(code, code),
                "showarrow": True,
                "arrowhead": 0,
                "ax": 0,
                "ay": -26,
                "font": {"size": 12},
                "bgcolor": "rgba(255,255,255,0.85)",
            }
        )
    shapes = []
    if target is not None and not is_missing(target):
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": target,
                "x1": target,
                "y0": 0,
                "y1": 1,
                "line": {"color": TARGET_COLOR, "width": 2, "dash": "dash"},
            }
        )
        # A legend entry for the target line (shapes have none).
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": texts["target"],
                "x": [None],
                "y": [None],
                "line": {"color": TARGET_COLOR, "width": 2, "dash": "dash"},
                "hoverinfo": "skip",
            }
        )
    layout = base_layout(
        height or 90 + 62 * max(len(period_ids), 1),
        separators=lang_separators,
        margin={"l": 110, "r": 24, "t": 36, "b": 40},
        yaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": order,
            "showgrid": True,
            "gridcolor": "#E5E5E5",
            "fixedrange": True,
        },
        xaxis={
            "title": {"text": texts.get("x_title", "")},
            "zeroline": False,
            "gridcolor": "#EEEEEE",
            "fixedrange": True,
        },
        legend={"orientation": "h", "y": -0.25, "x": 0},
        shapes=shapes,
        annotations=annotations,
        hovermode="closest",
    )
    return {"data": data, "layout": layout}


def access_bars(
    access: pd.DataFrame,
    *,
    norm: float,
    texts: Mapping[str, str],
    hover: Sequence[str],
    lang_separators: str = ",.",
) -> dict:
    """People per USF of each unit, ranked (most people per USF on top), coloured by the
    verdict against the norm, the norm as a dashed line. Units without a USF have no bar: the
    page names them."""
    rows = access.reset_index(drop=True)
    rows = rows[rows["per_USF"].notna()]
    rows = rows.sort_values("per_USF", ascending=True, kind="stable")  # plotly: bottom first
    data = []
    for verdict in ("over", "within"):
        pick = rows[rows["verdict"] == verdict]
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": texts[verdict],
                "x": [float(v) for v in pick["per_USF"]],
                "y": list(pick["org_unit_name"]),
                "marker": {"color": ACCESS_COLORS[verdict]},
                "customdata": list(pick["org_unit"]),
                "hovertext": [hover[i] for i in pick.index],
                "hovertemplate": "%{hovertext}<extra></extra>",
            }
        )
    data.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": texts["norm"],
            "x": [None],
            "y": [None],
            "line": {"color": NATIONAL_COLOR, "width": 2, "dash": "dash"},
            "hoverinfo": "skip",
        }
    )
    layout = base_layout(
        max(160, 70 + 22 * len(rows)),
        separators=lang_separators,
        barmode="overlay",
        margin={"l": 180, "r": 24, "t": 16, "b": 40},
        yaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": list(rows["org_unit_name"]),
            "automargin": True,
            "fixedrange": True,
        },
        # Whole people with the language's thousands separator ("12.000"), not SI "12k".
        xaxis={
            "title": {"text": texts["x_title"]},
            "fixedrange": True,
            "gridcolor": "#EEEEEE",
            "tickformat": ",.0f",
        },
        shapes=[
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": norm,
                "x1": norm,
                "y0": 0,
                "y1": 1,
                "line": {"color": NATIONAL_COLOR, "width": 2, "dash": "dash"},
            }
        ],
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    )
    return {"data": data, "layout": layout}
