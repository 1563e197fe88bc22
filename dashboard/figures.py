"""Pure figure builders: frames in, plotly figure dicts out; shared by the screen and the PDF.

Plain dicts (a valid plotly figure spec) rather than go.Figure: building and validating a
go.Figure costs tens of milliseconds per callback, the dict a fraction of one, and Dash,
plotly.io and kaleido all take the dict as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from .missing import is_missing

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
STATUS_COLORS = {
    "met": "#009E73",
    "near": "#E69F00",
    "not_met": "#D55E00",
    "no_target": "#56B4E9",
    "no_data": "#BBBBBB",
}
# The one definition of the status marks (screen, PDF, tables). "Near" is a diamond, as on the map:
# ▲/▼ are kept for sort direction and ↑/↓ for change over time, so no mark means two things.
STATUS_SYMBOLS = {"met": "✔", "near": "◆", "not_met": "✖", "no_target": "●", "no_data": "–"}
CHANGE_ARROWS = {"up": "↑", "down": "↓", "flat": "→"}
# How a change reads, by verdict (change_verdict): the class that colours it (assets/10-app.css).
VERDICT_CLASS = {"better": "good", "worse": "bad", "same": "muted", "up": "muted", "down": "muted"}


def change_verdict(direction: str, move: str) -> str:
    """What a move ('up', 'down', 'flat') of an indicator means by its direction ('up': higher
    is better, 'down': lower is better, so a rising dropout rate is 'worse'): 'better',
    'worse' or 'same'. Inside a target band a move is neither: 'up' or 'down'. Every trend
    arrow (cards, scorecard) says it in the same words and colours."""
    if move == "flat":
        return "same"
    if direction in ("up", "down"):
        return "better" if move == direction else "worse"
    return move


SERIES_COLORS = [
    "#0072B2",
    "#444444",
    "#CC79A7",
    "#009E73",
    "#E69F00",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
]
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"


def base_layout(height: int = 320, **extra) -> dict:
    layout = {
        "height": height,
        "margin": {"l": 48, "r": 16, "t": 24, "b": 40},
        "font": {"family": FONT, "size": 13, "color": "#222"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "#ffffff",
        "hoverlabel": {"font": {"family": FONT}},
        "separators": ",.",
    }
    layout.update(extra)
    return layout


def separators(lang: str) -> str:
    """plotly's number separators: decimal first, then thousands."""
    return ",." if lang == "es" else ".,"


# Trend lines: the unit in blue, the country in dark grey (dotted), a facility's region in reddish
# purple (dashed); compared units take the remaining Okabe-Ito colours, never the target's green,
# each with its own marker so colour is never the only cue.
ROLE_STYLES = {
    "selected": ("#0072B2", "solid", "circle"),
    "national": ("#444444", "dot", "circle"),
    "region": ("#CC79A7", "dash", "square"),
    "peers": ("#E69F00", "dashdot", "diamond"),
}
COMPARE_COLORS = ("#E69F00", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
COMPARE_SYMBOLS = ("square", "diamond", "triangle-up", "cross", "x", "star")
TARGET_COLOR = "#009E73"


def series_styles(roles: Sequence[str]) -> list[tuple[str, str, str]]:
    """(colour, dash, marker symbol) per series: fixed roles keep their style; each compared unit
    gets a colour no other line of the chart uses, in palette order."""
    taken = {ROLE_STYLES[r][0] for r in roles if r in ROLE_STYLES}
    free = [c for c in COMPARE_COLORS if c not in taken] or list(COMPARE_COLORS)
    out = []
    k = 0
    for role in roles:
        if role in ROLE_STYLES:
            out.append(ROLE_STYLES[role])
        else:
            out.append((free[k % len(free)], "solid", COMPARE_SYMBOLS[k % len(COMPARE_SYMBOLS)]))
            k += 1
    return out


def fit_range(
    values: Sequence[float | None], marks: Sequence[float | None] = (), pad: float = 0.08
) -> list[float] | None:
    """A y range fitted to the values and marks (target, band), padded by `pad` of the span on each
    side, so a 75-88 % series fills the chart and its target can be read off the axis. It never
    crosses 0 when every number is non-negative (a rate below 0 is meaningless)."""
    nums = [float(v) for v in (*values, *marks) if v is not None and not is_missing(v)]
    if not nums:
        return None
    lo, hi = min(nums), max(nums)
    span = hi - lo
    if span == 0:
        span = abs(hi) * 0.1 or 1.0
    lo2, hi2 = lo - span * pad, hi + span * pad
    if lo >= 0 and lo2 < 0:
        lo2 = 0.0
    return [round(lo2, 6), round(hi2, 6)]


def trend_figure(
    series: Sequence[dict],
    *,
    x_labels: Sequence[str],
    target: float | None = None,
    band: tuple[float | None, float | None] = (None, None),
    target_label: str = "",
    band_label: str = "",
    incomplete_label: str = "",
    partial_label: str = "",
    partial_last: bool = False,
    highlight: tuple[int, int] | None = None,
    highlight_label: str = "",
    y_title: str = "",
    lang: str = "es",
    height: int = 380,
    showlegend: bool = True,
    margin: dict | None = None,
    max_ticks: int = 12,
) -> dict:
    """Lines over time. series: dicts with name, values, hover (texts), incomplete (bools),
    role ('selected' | 'national' | 'region' | 'peers' | 'compare'). Missing buckets are gaps,
    never zeros; buckets with incomplete reporting get a hollow marker and say so in the hover.
    `partial_last`: the last bucket is a quarter or year in progress, joined by a thin dotted
    segment and drawn as a hollow diamond. `highlight`: first and last index of the period asked
    for, shaded, when the chart shows a wider window."""
    data: list[dict] = []
    x = list(x_labels)
    styles = series_styles([s.get("role", "compare") for s in series])
    for s, (color, dash, symbol) in zip(series, styles, strict=True):
        role = s.get("role", "compare")
        values = [None if is_missing(v) else v for v in s["values"]]
        incomplete = list(s.get("incomplete") or [False] * len(values))
        whole = values[:-1] + [None] if partial_last and values else values
        group = f"s:{s['name']}"
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": s["name"],
                "legendgroup": group,
                "x": x,
                "y": whole,
                "connectgaps": False,
                "line": {"color": color, "width": 3 if role == "selected" else 2, "dash": dash},
                # An open symbol is drawn in marker.color (hollow): the series colour, not white.
                "marker": {
                    "color": color,
                    "line": {"color": color, "width": 2},
                    "size": [9 if inc else 7 for inc in incomplete],
                    "symbol": [f"{symbol}-open" if inc else symbol for inc in incomplete],
                },
                "text": s.get("hover"),
                "hovertemplate": "%{text}<extra></extra>",
            }
        )
        if partial_last and len(values) >= 1 and values[-1] is not None:
            prev = values[-2] if len(values) >= 2 else None
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": s["name"],
                    "legendgroup": group,
                    "showlegend": False,
                    "x": x[-2:] if prev is not None else x[-1:],
                    "y": [prev, values[-1]] if prev is not None else [values[-1]],
                    "line": {"color": color, "width": 1.5, "dash": "dot"},
                    "marker": {
                        "color": color,
                        "line": {"color": color, "width": 2},
                        "size": [0, 11] if prev is not None else [11],
                        "symbol": "diamond-open",
                    },
                    "text": (s.get("hover") or [None])[-2:] if prev is not None else None,
                    "hovertemplate": "%{text}<extra></extra>",
                }
            )
    if any(any(s.get("incomplete") or []) for s in series) and incomplete_label:
        # A legend entry explaining the hollow markers.
        data.append(_legend_marker(incomplete_label, "circle-open"))
    if partial_last and partial_label:
        data.append(_legend_marker(partial_label, "diamond-open"))
    shapes = []
    lo, hi = band
    if lo is not None and hi is not None:
        shapes.append(
            {
                "type": "rect",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": lo,
                "y1": hi,
                "fillcolor": "rgba(0,158,115,0.12)",
                "line": {"width": 0},
                "layer": "below",
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [None],
                "y": [None],
                "name": band_label,
                "line": {"color": "rgba(0,158,115,0.5)", "width": 10},
            }
        )
    if highlight is not None and x:
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "x0": highlight[0] - 0.5,
                "x1": highlight[1] + 0.5,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(0,114,178,0.07)",
                "line": {"width": 0},
                "layer": "below",
            }
        )
        if highlight_label:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": [None],
                    "y": [None],
                    "name": highlight_label,
                    "line": {"color": "rgba(0,114,178,0.18)", "width": 10},
                }
            )
    if target is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [x[0], x[-1]] if x else [],
                "y": [target, target],
                "name": target_label,
                "line": {"color": TARGET_COLOR, "dash": "dash", "width": 2},
                "hoverinfo": "skip",
            }
        )
    y_range = fit_range([v for s in series for v in s["values"]], [target, *band])
    n = len(x)
    step = max(1, -(-n // max_ticks))  # a few labels, from the last: they never overlap
    return {
        "data": data,
        "layout": base_layout(
            height,
            separators=separators(lang),
            shapes=shapes,
            hovermode="closest",
            showlegend=showlegend,
            margin=margin or {"l": 56, "r": 16, "t": 24, "b": 40},
            # The legend above the plot: turned tick labels below it never run into it.
            legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
            # Level while the labels fit, turned 45° when they would overlap (a phone's
            # 390 px), with the margin grown to hold them.
            xaxis={
                "type": "category",
                "showgrid": False,
                "tickvals": x[::-1][::step][::-1],
                "automargin": True,
                "autotickangles": [0, 45],
            },
            yaxis={
                "title": {"text": y_title},
                "gridcolor": "#e5e5e5",
                "automargin": True,
                "zeroline": False,
                **({"range": y_range} if y_range else {}),
            },
        ),
    }


def _legend_marker(label: str, symbol: str) -> dict:
    return {
        "type": "scatter",
        "mode": "markers",
        "x": [None],
        "y": [None],
        "name": label,
        "marker": {
            "symbol": symbol,
            "size": 9,
            "color": "#666",
            "line": {"color": "#666", "width": 2},
        },
    }


def completeness_figure(
    labels: Sequence[str],
    percent: Sequence[float | None],
    hover: Sequence[str],
    *,
    threshold: float = 90.0,
    threshold_label: str = "",
    y_title: str = "",
    lang: str = "es",
    height: int = 220,
) -> dict:
    """Reporting completeness month by month: a bar per month, the threshold as a line;
    months below it are drawn in the warning colour and hatched, so grey-scale still reads."""
    y = [None if is_missing(v) else v for v in percent]
    low = [v is not None and v < threshold for v in y]
    return {
        "data": [
            {
                "type": "bar",
                "x": list(labels),
                "y": y,
                "hovertext": list(hover),
                "hovertemplate": "%{hovertext}<extra></extra>",
                "marker": {
                    "color": [STATUS_COLORS["not_met"] if b else "#0072B2" for b in low],
                    "pattern": {"shape": ["/" if b else "" for b in low]},
                },
                "showlegend": False,
            },
            {
                "type": "scatter",
                "mode": "lines",
                "x": [labels[0], labels[-1]] if labels else [],
                "y": [threshold, threshold],
                "name": threshold_label,
                "line": {"color": "#444", "dash": "dash"},
                "hoverinfo": "skip",
            },
        ],
        "layout": base_layout(
            height,
            separators=separators(lang),
            margin={"l": 56, "r": 16, "t": 24, "b": 72},
            xaxis={"type": "category", "tickangle": -45, "automargin": True},
            yaxis={
                "range": [0, 105],
                "title": {"text": y_title},
                "gridcolor": "#e5e5e5",
                "automargin": True,
            },
            legend={"orientation": "h", "y": 1.15, "x": 0},
        ),
    }


def empty_figure(message: str, height: int = 300) -> dict:
    """An explicit empty state inside the chart area (never a blank plot)."""
    return {
        "data": [],
        "layout": {
            "height": height,
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "annotations": [
                {
                    "text": message,
                    "showarrow": False,
                    "font": {"size": 15, "color": "#555"},
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                }
            ],
        },
    }


def small_multiples(
    panels: Sequence[dict],
    *,
    x_labels: Sequence[str],
    cols: int = 4,
    lang: str = "es",
    height_per_row: int = 190,
    national_label: str = "",
) -> dict:
    """A grid of small line charts, one per indicator, each with its own y axis.
    panels: dicts with title, values, national (optional), target (optional)."""
    rows = max(1, -(-len(panels) // cols))
    gap_x, gap_y = 0.06, 0.16 / rows
    width = (1 - gap_x * (cols - 1)) / cols
    height = (1 - gap_y * (rows - 1)) / rows
    data, layout, annotations = (
        [],
        base_layout(height_per_row * rows + 60, separators=separators(lang)),
        [],
    )
    x = list(x_labels)
    ticks = [x[i] for i in range(0, len(x), max(1, len(x) // 4))]
    for i, panel in enumerate(panels):
        r, c = divmod(i, cols)
        n = "" if i == 0 else str(i + 1)
        x0 = c * (width + gap_x)
        y1 = 1 - r * (height + gap_y)
        layout[f"xaxis{n}"] = {
            "domain": [x0, x0 + width],
            "anchor": f"y{n}",
            "type": "category",
            "tickvals": ticks,
            "tickfont": {"size": 9},
            "showgrid": False,
        }
        # Fitted to the panel's lines and target, as the trend chart (not squeezed from 0).
        fitted = fit_range(
            [*panel["values"], *(panel.get("national") or [])], [panel.get("target")]
        )
        layout[f"yaxis{n}"] = {
            "domain": [y1 - height, y1 - 0.05],
            "anchor": f"x{n}",
            "gridcolor": "#e5e5e5",
            "tickfont": {"size": 9},
            **({"range": fitted} if fitted else {}),
        }
        annotations.append(
            {
                "text": f"<b>{panel['title']}</b>",
                "x": x0,
                "y": y1,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "left",
                "yanchor": "top",
                "showarrow": False,
                "font": {"size": 11},
            }
        )
        clean = lambda vs: [None if is_missing(v) else v for v in vs]  # noqa: E731
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": clean(panel["values"]),
                "xaxis": f"x{n}",
                "yaxis": f"y{n}",
                "line": {"color": SERIES_COLORS[0], "width": 2},
                "showlegend": False,
                "connectgaps": False,
                "hoverinfo": "skip",
            }
        )
        if panel.get("national") is not None:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": x,
                    "y": clean(panel["national"]),
                    "xaxis": f"x{n}",
                    "yaxis": f"y{n}",
                    "line": {"color": SERIES_COLORS[1], "width": 1.5, "dash": "dot"},
                    "name": national_label,
                    "showlegend": i == 0,
                    "hoverinfo": "skip",
                }
            )
        if panel.get("target") is not None:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": [x[0], x[-1]],
                    "y": [panel["target"]] * 2,
                    "xaxis": f"x{n}",
                    "yaxis": f"y{n}",
                    "line": {"color": "#009E73", "dash": "dash", "width": 1.5},
                    "showlegend": False,
                    "hoverinfo": "skip",
                }
            )
    layout["annotations"] = annotations
    layout["margin"] = {"l": 36, "r": 8, "t": 30, "b": 30}
    layout["legend"] = {"orientation": "h", "y": 1.06, "x": 1, "xanchor": "right"}
    return {"data": data, "layout": layout}
