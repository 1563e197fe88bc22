"""KPI sparklines as small SVG documents built on the server: no plotly.js on the home page."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

from .i18n import fmt_value, t
from .missing import is_missing

WIDTH, HEIGHT, PAD = 240, 48, 4


def _points(values: Sequence[float | None], width: int, height: int) -> list[tuple[float, float]]:
    """(x, y) of each value in SVG coordinates (y grows downwards), NaN-free; a flat series is
    drawn at mid-height rather than divided by zero."""
    present = [float(v) for v in values if v is not None and not is_missing(v)]
    lo, hi = min(present), max(present)
    span = hi - lo
    step = (width - 2 * PAD) / max(len(values) - 1, 1)
    out = []
    for i, v in enumerate(values):
        if is_missing(v):
            out.append((float("nan"), float("nan")))
            continue
        frac = 0.5 if span == 0 else (float(v) - lo) / span  # type: ignore[arg-type]
        out.append((PAD + i * step, PAD + (1 - frac) * (height - 2 * PAD)))
    return out


def sparkline_svg(
    values: Sequence[float | None],
    *,
    color: str = "#0072B2",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """A line with no axes, a gap where a month has no value, a dot on the last value; an empty
    SVG for no value at all. Scales to its box (the stroke keeps its width)."""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" preserveAspectRatio="none">'
    )
    if not any(not is_missing(v) for v in values):
        return head + "</svg>"
    pts = _points(values, width, height)
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in pts:
        if x != x:  # NaN: the line breaks here
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((x, y))
    body = []
    for run in runs:
        if len(run) > 1:
            d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in run)
            body.append(
                f'<path d="{d}" fill="none" stroke={quoteattr(color)} stroke-width="2" '
                'stroke-linejoin="round" stroke-linecap="round" vector-effect="non-scaling-stroke"/>'
            )
        elif len(run) == 1:  # an isolated month between gaps is still shown
            x, y = run[0]
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.5" fill={quoteattr(color)}/>')
    lx, ly = next(p for p in reversed(pts) if p[0] == p[0])
    body.append(f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="3" fill={quoteattr(color)}/>')
    return head + "".join(body) + "</svg>"


def data_uri(svg: str) -> str:
    """The SVG as a data: URI for an <img> (the CSP allows img-src data:, not inline markup)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def sparkline_alt(
    values: Sequence[float | None],
    labels: Sequence[str],
    unit: str,
    decimals: int,
    lang: str,
) -> str:
    """What the line shows (labels: each value's period), in words, for screen readers and when images are off:
    'Last 12 months: from 80.1% (Nov 2025) to 84.2% (Oct 2026); lowest 78.0%, highest 86.3%.'"""
    present = [float(v) for v in values if v is not None and not is_missing(v)]
    if not present:
        return t("spark_alt_empty", lang)
    seen = [i for i, v in enumerate(values) if not is_missing(v)]
    first, last = seen[0], seen[-1]

    def val(v: float | None) -> str:
        return fmt_value(v, unit, lang, decimals)

    return t(
        "spark_alt",
        lang,
        n=len(values),
        first=val(values[first]),
        first_period=labels[first],
        last=val(values[last]),
        last_period=labels[last],
        low=val(min(present)),
        high=val(max(present)),
    )
