"""Pure map figure builders: choropleth, tile-grid cartogram and point layers, classed colours.

Every label arrives translated and every number formatted, so the builders are language-neutral.
Offline rendering: plotly.js's geo subplot downloads `<topojsonURL>world_110m.json` (scope "world",
resolution 110) before drawing anything, even with every base layer hidden; the app serves a tiny
empty topology at assets/topojson/ and passes `map_graph_config(app.get_asset_url("topojson/"))`
as the dcc.Graph config.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .missing import is_missing

# Okabe & Ito (2008) colour-universal-design palette: distinguishable with every common form of
# colour blindness; points also differ by symbol, tiles carry text, so colour is never alone.
STATUS_COLORS: Mapping[str, str] = {
    "met": "#009E73",  # bluish green
    "near": "#E69F00",  # orange
    "not_met": "#D55E00",  # vermillion
    "no_target": "#56B4E9",  # sky blue: a value, but nothing to compare it with
}
STATUS_SYMBOLS: Mapping[str, str] = {
    "met": "circle",
    "near": "diamond",
    "not_met": "triangle-down",
    "no_target": "square",
    "no_data": "x-thin-open",
}
NO_DATA_COLOR = "#BBBBBB"  # as dashboard.figures' no_data, so "no data" looks the same everywhere
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
BORDER_COLOR = "#FFFFFF"
# ColorBrewer sequential schemes (Cynthia Brewer, colorbrewer2.org; Apache 2.0), colour-blind safe.
YLGNBU: Mapping[int, tuple[str, ...]] = {
    3: ("#edf8b1", "#7fcdbb", "#2c7fb8"),
    4: ("#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"),
    5: ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"),
    6: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"),
    7: ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"),
}
BLUES: Mapping[int, tuple[str, ...]] = {
    3: ("#deebf7", "#9ecae1", "#3182bd"),
    4: ("#eff3ff", "#bdd7e7", "#6baed6", "#2171b5"),
    5: ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"),
    6: ("#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"),
    7: ("#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"),
}
PALETTES: Mapping[str, Mapping[int, tuple[str, ...]]] = {"YlGnBu": YLGNBU, "Blues": BLUES}
# plotly.js asks for <topojsonURL>/<scope>_<resolution>m.json; these are the values we set.
GEO_SCOPE = "world"
GEO_RESOLUTION = 110
TOPOJSON_FILE = f"{GEO_SCOPE}_{GEO_RESOLUTION}m.json"
_TRANSPARENT = "rgba(0,0,0,0)"
_DARK_TEXT = "#1A1A1A"
_LIGHT_TEXT = "#FFFFFF"


class ColorClass(NamedTuple):
    """One legend class. Numeric: lower <= v < upper (None = open; the last numeric class also
    takes v == upper). Categorical: lower is a string and the class takes values equal to it."""

    lower: float | str | None
    upper: float | str | None
    color: str
    label: str


# --- classes -----------------------------------------------------------------------------------


def _trace(kind: str, **props: Any) -> dict[str, Any]:
    """A trace as a plain dict: building go objects costs tens of milliseconds per map."""
    return {"type": kind, **props}


def classify(values: Iterable[Any], classes: Sequence[Sequence[Any]]) -> np.ndarray:
    """Index of each value's class in `classes`, -1 where no class applies (missing, NaN, out)."""
    typed = [ColorClass(*c) for c in classes]
    numeric = [i for i, c in enumerate(typed) if not isinstance(c.lower, str)]
    last_numeric = numeric[-1] if numeric else -1
    out = []
    for v in values:
        out.append(_class_of(v, typed, last_numeric))
    return np.array(out, dtype=int)


def _class_of(value: Any, classes: list[ColorClass], last_numeric: int) -> int:
    if value is None:
        return -1
    if isinstance(value, str):
        return next((i for i, c in enumerate(classes) if c.lower == value), -1)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return -1
    if is_missing(v):
        return -1
    for i, c in enumerate(classes):
        if isinstance(c.lower, str) or isinstance(c.upper, str):
            continue
        if c.lower is not None and v < c.lower:
            continue
        if c.upper is not None and (v > c.upper or (v == c.upper and i != last_numeric)):
            continue
        return i
    return -1


def status_classes(
    labels: Mapping[str, str],
    colors: Mapping[str, str] = STATUS_COLORS,
    statuses: Sequence[str] = ("met", "near", "not_met", "no_target"),
) -> list[ColorClass]:
    """Categorical classes for the status column (met / near / not_met / no_target).

    `labels` maps each status to its translated legend text; "no_data" is the builders' own
    no-data class, never a colour class."""
    return [ColorClass(s, s, colors[s], labels.get(s, s)) for s in statuses]


def sequential_palette(n: int, name: str = "YlGnBu") -> tuple[str, ...]:
    """n colours (1-7) of a ColorBrewer sequential scheme, light to dark."""
    scheme = PALETTES[name]
    if n in scheme:
        return scheme[n]
    if n < 3:
        return (scheme[3][1],) if n == 1 else (scheme[3][0], scheme[3][2])
    raise ValueError(f"{name} has 1 to 7 classes, not {n}")


def quantile_classes(
    values: Iterable[Any],
    n: int,
    palette: Sequence[str] | None = None,
    *,
    fmt: Callable[[float], str] = "{:g}".format,
    separator: str = " – ",
) -> list[ColorClass]:
    """Up to n classes with about equal counts; labels 'lower – upper' formatted by `fmt`.

    Repeated quantiles (few distinct values) give fewer classes; no finite value gives [].
    `palette` defaults to YlGnBu with as many colours as classes (reverse it for indicators where
    lower is better)."""
    arr = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0 or n < 1:
        return []
    breaks = np.unique(np.quantile(arr, np.linspace(0, 1, n + 1)))
    if breaks.size == 1:
        breaks = np.array([breaks[0], breaks[0]])
    count = breaks.size - 1
    colors = list(palette) if palette is not None else list(sequential_palette(count))
    if len(colors) < count:
        raise ValueError(f"palette has {len(colors)} colours for {count} classes")
    if palette is not None and len(colors) > count:
        picks = np.linspace(0, len(colors) - 1, count).round().astype(int)
        colors = [colors[i] for i in picks]
    return [
        ColorClass(
            float(lo),
            float(hi),
            colors[i],
            fmt(float(lo)) if lo == hi else f"{fmt(float(lo))}{separator}{fmt(float(hi))}",
        )
        for i, (lo, hi) in enumerate(zip(breaks[:-1], breaks[1:], strict=True))
    ]


def text_color_for(background: str) -> str:
    """Dark or white text, whichever has the higher WCAG contrast on the background colour."""
    rgb = _rgb(background)
    if rgb is None:
        return _DARK_TEXT
    lum = _luminance(rgb)
    on_white = (1.05) / (lum + 0.05)
    dark = _rgb(_DARK_TEXT)
    on_dark = (lum + 0.05) / ((_luminance(dark) if dark else 0.0) + 0.05)
    return _LIGHT_TEXT if on_white > on_dark else _DARK_TEXT


def _rgb(color: str) -> tuple[float, float, float] | None:
    text = color.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if len(text) != 6:
        return None
    try:
        r, g, b = (int(text[i : i + 2], 16) / 255 for i in (0, 2, 4))
    except ValueError:
        return None
    return r, g, b


# A value with a data-quality caution is drawn paler (its class colour halfway to white) with a
# darker dotted outline: never as certain-looking as a sound value of the same class.
UNCERTAIN_MIX = 0.55
UNCERTAIN_LINE = "#4A4A4A"


def paler(color: str, mix: float = UNCERTAIN_MIX) -> str:
    """The colour `mix` of the way to white (hex); an unparseable colour is returned as is."""
    rgb = _rgb(color)
    if rgb is None:
        return color
    return "#" + "".join(f"{round(255 * (c + (1 - c) * mix)):02X}" for c in rgb)


def _split(positions: list[int], uncertain: Sequence[Any]) -> tuple[list[int], list[int]]:
    """(sound, uncertain) positions of one legend entry."""
    shaky = [p for p in positions if bool(uncertain[p])]
    return [p for p in positions if not bool(uncertain[p])], shaky


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


# --- shared plumbing ---------------------------------------------------------------------------


def map_graph_config(topojson_url: str = "/assets/topojson/") -> dict[str, Any]:
    """dcc.Graph config for map figures: the local topojson folder, no plotly logo."""
    return {"topojsonURL": topojson_url, "displaylogo": False, "scrollZoom": False}


def _by_code(frame: pd.DataFrame | None, code_col: str) -> pd.DataFrame:
    if frame is None or frame.empty or code_col not in frame.columns:
        return pd.DataFrame(columns=[code_col]).set_index(code_col)
    out = frame.copy()
    out[code_col] = out[code_col].astype(str)
    return out.drop_duplicates(code_col, keep="first").set_index(code_col)


def _column(rows: pd.DataFrame, col: str | None, codes: Sequence[str], default=None) -> list:
    if col is None or col not in rows.columns:
        return [default] * len(codes)
    series = rows[col].reindex(list(codes))
    return [default if is_missing(v) else v for v in series.tolist()]


def _groups(
    codes: Sequence[str],
    values: Sequence[Any],
    classes: Sequence[Sequence[Any]],
    no_data_color: str,
    no_data_label: str,
) -> list[tuple[str, str, list[int]]]:
    """(label, colour, positions) per legend entry: classes in order (same label = one entry,
    e.g. both sides of a band), then no data; classes without members are kept so the legend
    shows the whole scale."""
    typed = [ColorClass(*c) for c in classes]
    index = classify(values, typed)
    entries: dict[tuple[str, str], list[int]] = {}
    for c in typed:
        entries.setdefault((c.label, c.color), [])
    for pos, k in enumerate(index):
        if k >= 0:
            entries[(typed[k].label, typed[k].color)].append(pos)
    out = [(label, color, positions) for (label, color), positions in entries.items()]
    missing = [pos for pos, k in enumerate(index) if k < 0]
    if missing:
        out.append((no_data_label, no_data_color, missing))
    return out


def _legend(title: str | None) -> dict[str, Any]:
    legend: dict[str, Any] = {
        "orientation": "h",
        "yanchor": "top",
        "y": -0.02,
        "xanchor": "left",
        "x": 0,
        "bgcolor": _TRANSPARENT,
        "traceorder": "normal",
        "itemclick": "toggle",
        "itemdoubleclick": "toggleothers",
    }
    if title:
        legend["title"] = {"text": title}
    return legend


def _base_layout(title: str | None, height: int, legend_title: str | None) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0, "xanchor": "left"} if title else None,
        "height": height,
        "margin": {"l": 4, "r": 4, "t": 36 if title else 4, "b": 4},
        # An explicit empty template: the figure never depends on pio.templates.default.
        "template": {},
        "font": {"family": FONT, "size": 13, "color": "#222222"},
        "paper_bgcolor": _TRANSPARENT,
        "plot_bgcolor": _TRANSPARENT,
        "showlegend": True,
        "legend": _legend(legend_title),
        "hoverlabel": {"namelength": 0, "font": {"family": FONT}},
        "clickmode": "event",
        "dragmode": False,
    }


def geo_layout() -> dict[str, Any]:
    """The geo subplot: fitted to the data, every base layer off, nothing from the network."""
    return {
        "visible": False,
        "fitbounds": "locations",
        "projection": {"type": "mercator"},
        "scope": GEO_SCOPE,
        "resolution": GEO_RESOLUTION,
        "bgcolor": _TRANSPARENT,
        "showland": False,
        "showocean": False,
        "showlakes": False,
        "showrivers": False,
        "showcountries": False,
        "showcoastlines": False,
        "showsubunits": False,
        "showframe": False,
        "lonaxis": {"showgrid": False},
        "lataxis": {"showgrid": False},
    }


def geo_figure(
    traces: Iterable[dict[str, Any]],
    *,
    title: str | None = None,
    legend_title: str | None = None,
    height: int = 520,
    frame: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Traces (choropleth, Scattergeo) on the offline geo subplot: the map page's figure for
    every level (region choropleth, district polygons or bubbles, facility points).
    `frame` (from frame_bounds) shows that box instead of fitting every trace."""
    # Pan and the modebar's zoom buttons reach Asunción; the wheel stays with the page.
    geo = {**geo_layout(), **(frame or {})}
    layout = {**_base_layout(title, height, legend_title), "geo": geo, "dragmode": "pan"}
    return {"data": list(traces), "layout": layout}


def frame_bounds(
    lats: Iterable[Any],
    lons: Iterable[Any],
    pad: float = 0.15,
    min_span: float = 0.25,
    aspect: float = 2.0,
) -> dict[str, Any] | None:
    """Geo settings that frame the given coordinates (a chosen district and its facilities):
    the bounding box at least `min_span` degrees high, widened to about the chart's `aspect`
    (width / height) so the box fills the chart, then grown by `pad` of its size on each side.
    None without coordinates."""
    pairs = [
        (float(a), float(o))
        for a, o in zip(lats, lons, strict=True)
        if not is_missing(a) and not is_missing(o)
    ]
    if not pairs:
        return None
    la = [p[0] for p in pairs]
    lo = [p[1] for p in pairs]
    lat_span = max(max(la) - min(la), min_span)
    lon_span = max(max(lo) - min(lo), min_span)
    lon_span, lat_span = max(lon_span, lat_span * aspect), max(lat_span, lon_span / aspect)
    out = []
    for values, span in ((la, lat_span), (lo, lon_span)):
        mid = (min(values) + max(values)) / 2
        half = span * (0.5 + pad)
        out.append([round(mid - half, 4), round(mid + half, 4)])
    return {"fitbounds": False, "lataxis": {"range": out[0]}, "lonaxis": {"range": out[1]}}


def highlight_traces(
    label: str,
    *,
    geojson: Mapping[str, Any] | None = None,
    code: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    color: str = "#000000",
    hover: str | None = None,
    url: str | None = None,
) -> list[dict[str, Any]]:
    """The chosen area outlined: its polygon drawn with a thick border and no fill, or, without
    polygons, a thick ring around its seat. A legend entry names it. `url`: as in
    choropleth_traces, the file holding `geojson`'s features."""
    features = [
        f for f in (geojson or {}).get("features", []) if code is not None and f.get("id") == code
    ]
    if features:
        return [
            _trace(
                "choropleth",
                geojson=url or {"type": "FeatureCollection", "features": features},
                featureidkey="id",
                locations=[code],
                z=[1],
                zmin=0,
                zmax=1,
                colorscale=[[0, _TRANSPARENT], [1, _TRANSPARENT]],
                showscale=False,
                name=label,
                showlegend=True,
                customdata=[code],
                hovertext=[hover or label],
                hovertemplate="%{hovertext}<extra></extra>",
                marker={"line": {"color": color, "width": 3}},
            )
        ]
    if lat is None or lon is None or is_missing(lat) or is_missing(lon):
        return []
    return [
        _trace(
            "scattergeo",
            lat=[lat],
            lon=[lon],
            mode="markers",
            name=label,
            showlegend=True,
            marker={
                "symbol": "circle-open",
                "size": 40,
                "color": color,
                "line": {"color": color, "width": 3},
            },
            customdata=[code] if code else None,
            hovertext=[hover or label],
            hovertemplate="%{hovertext}<extra></extra>",
        )
    ]


# --- choropleth --------------------------------------------------------------------------------


def choropleth_traces(
    frame: pd.DataFrame | None,
    geojson: Mapping[str, Any],
    *,
    value_col: str = "value",
    code_col: str = "org_unit",
    classes: Sequence[Sequence[Any]] = (),
    no_data_color: str = NO_DATA_COLOR,
    no_data_label: str = "—",
    hover_col: str | None = None,
    line_color: str = BORDER_COLOR,
    line_width: float = 0.8,
    uncertain_col: str | None = None,
    uncertain_label: str | None = None,
    url: str | None = None,
) -> list[dict[str, Any]]:
    """One choropleth trace per legend entry, each carrying only its own features (the figure holds
    every feature once), so the legend names each class and toggles it. With `url` (the address
    of a file holding every feature of `geojson`, and maybe more) each trace names that file
    instead, and draws its own locations from it: the browser fetches the polygons once. A class without
    members is a legend-only placeholder, so the legend always shows the whole scale.
    `uncertain_col`: truthy where the value has a data-quality caution; those features are
    drawn paler with a dark outline (in the class's legend group), and `uncertain_label`
    explains the paler fill in one more legend entry."""
    features = [f for f in geojson.get("features", []) if f.get("id") is not None]
    codes = [str(f["id"]) for f in features]
    rows = _by_code(frame, code_col)
    values = _column(rows, value_col, codes)
    hover = _column(rows, hover_col, codes)
    hover = [h if h is not None else code for h, code in zip(hover, codes, strict=True)]
    uncertain = _column(rows, uncertain_col, codes, default=False)
    traces: list[dict[str, Any]] = []
    any_shaky = False

    def shapes(positions: list[int], label: str, fill: str, line: dict, legend: bool) -> dict:
        locations = [codes[p] for p in positions]
        return _trace(
            "choropleth",
            geojson=url
            or {"type": "FeatureCollection", "features": [features[p] for p in positions]},
            featureidkey="id",
            locations=locations,
            z=[1] * len(locations),
            zmin=0,
            zmax=1,
            colorscale=[[0, fill], [1, fill]],
            showscale=False,
            name=label,
            legendgroup=label,
            showlegend=legend,
            customdata=locations,
            hovertext=[hover[p] for p in positions],
            hovertemplate="%{hovertext}<extra></extra>",
            marker={"line": line},
        )

    for label, color, positions in _groups(codes, values, classes, no_data_color, no_data_label):
        sound, shaky = _split(positions, uncertain)
        if not sound:
            # plotly.js gives an empty choropleth no legend item; keep the scale whole.
            traces.append(_legend_only_geo(label, color, line_color))
        else:
            line = {"color": line_color, "width": line_width}
            traces.append(shapes(sound, label, color, line, True))
        if shaky:
            any_shaky = True
            line = {"color": UNCERTAIN_LINE, "width": max(line_width, 1.4)}
            traces.append(shapes(shaky, label, paler(color), line, False))
    if any_shaky and uncertain_label:
        traces.append(_legend_only_geo(uncertain_label, paler(NO_DATA_COLOR), UNCERTAIN_LINE))
    return traces


def marks_trace(
    frame: pd.DataFrame | None,
    places: Mapping[str, tuple[float, float]],
    *,
    status_col: str = "status",
    code_col: str = "org_unit",
    marks: Mapping[str, str],
    colors: Mapping[str, str] = STATUS_COLORS,
    size: int = 16,
) -> list[dict[str, Any]]:
    """The status symbol (the tables' ✔ ✖ …) written on each area at `places` (code -> (lat,
    lon), a point inside it), in ink that contrasts with the area's fill: status is never told
    by colour alone. Not in the legend (the class labels carry the same symbols); no hover, so
    the area's own hover and click stay in charge."""
    rows = _by_code(frame, code_col)
    lat, lon, text, ink = [], [], [], []
    for code, (la, lo) in places.items():
        if code not in rows.index:
            continue
        status = rows.at[code, status_col] if status_col in rows.columns else None
        if not isinstance(status, str) or status not in marks:
            continue
        lat.append(la)
        lon.append(lo)
        text.append(marks[status])
        ink.append(text_color_for(colors.get(status, NO_DATA_COLOR)))
    if not text:
        return []
    return [
        _trace(
            "scattergeo",
            lat=lat,
            lon=lon,
            mode="text",
            text=text,
            textfont={"color": ink, "size": size},
            showlegend=False,
            hoverinfo="skip",
            name="",
        )
    ]


def _legend_only_geo(label: str, color: str, line_color: str) -> dict[str, Any]:
    return _trace(
        "scattergeo",
        lat=[None],
        lon=[None],
        mode="markers",
        name=label,
        legendgroup=label,
        showlegend=True,
        marker={"color": color, "symbol": "square", "size": 12, "line": {"color": line_color}},
        hoverinfo="skip",
    )


# --- points ------------------------------------------------------------------------------------


def marker_sizes(
    values: Iterable[Any], size_range: tuple[float, float] = (6, 24), max_value: float | None = None
) -> list[float]:
    """Marker diameters with area proportional to the value; missing or zero -> the minimum."""
    lo, hi = size_range
    arr = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(float)
    arr = np.where(np.isfinite(arr) & (arr > 0), arr, 0.0)
    top = max_value if max_value else (arr.max() if arr.size else 0.0)
    if top <= 0:
        return [float(lo)] * arr.size
    scaled = lo + (hi - lo) * np.sqrt(np.clip(arr / top, 0, 1))
    return [round(float(s), 1) for s in scaled]


def points_trace(
    frame: pd.DataFrame,
    *,
    lat_col: str = "latitude",
    lon_col: str = "longitude",
    status_col: str = "status",
    size_col: str | None = None,
    hover_col: str | None = None,
    code_col: str = "org_unit",
    status_styles: Mapping[str, tuple[str, str, str]],
    size_range: tuple[float, float] = (6, 24),
    line_color: str = BORDER_COLOR,
    hover_fields: Sequence[str] = (),
    hover_template: str | None = None,
    field_values: Mapping[str, Sequence[Any]] | None = None,
) -> list[dict[str, Any]]:
    """Facilities as points, one Scattergeo per status (legend order = status_styles order).
    `field_values`: the hover fields' values, one per row of `frame` (instead of its columns;
    then every row must have coordinates).

    With `hover_fields` and `hover_template`, each point's customdata is [code, *fields] and the
    template (with %{customdata[1]} ...) is sent once per trace instead of a whole hover text
    per point: a region of 3,000 facilities then costs a third fewer bytes.

    status_styles: status -> (colour, marker symbol, translated label); statuses missing from
    it are dropped. Size is area-proportional to `size_col` within `size_range` px. Rows without
    coordinates are skipped. Add the result to a choropleth with fig.add_traces(...)."""
    if frame is None or frame.empty:
        rows = pd.DataFrame(columns=[lat_col, lon_col, status_col, code_col])
    elif field_values is not None:
        rows = frame  # placed already: the values are given row for row
    else:
        rows = frame.dropna(subset=[lat_col, lon_col])
    n = len(rows)
    sizes = np.asarray(
        marker_sizes(rows[size_col], size_range)
        if size_col and size_col in rows.columns
        else [size_range[0] + (size_range[1] - size_range[0]) / 3] * n,
        dtype=object,
    )
    # Columns taken out once as arrays: a region has thousands of points, five statuses.
    status = rows[status_col].astype(str).to_numpy() if n else np.empty(0, dtype=object)
    lat = rows[lat_col].to_numpy(dtype=object)
    lon = rows[lon_col].to_numpy(dtype=object)
    codes_all = (
        rows[code_col].astype(str).to_numpy(dtype=object)
        if code_col in rows.columns
        else np.empty(0, dtype=object)
    )
    use_template = bool(hover_fields and hover_template)
    if use_template:
        fields = [
            np.asarray(field_values[c], dtype=object)
            if field_values is not None
            else rows[c].to_numpy(dtype=object)
            for c in hover_fields
        ]
    elif hover_col and hover_col in rows.columns:
        hover_all = rows[hover_col].to_numpy(dtype=object)
    else:
        hover_all = codes_all
    traces = []
    for status_code, (color, symbol, label) in status_styles.items():
        at = np.flatnonzero(status == status_code)
        codes = codes_all[at].tolist() if len(codes_all) else []
        if use_template:
            columns = [c[at].tolist() for c in fields]
            custom: list = [list(r) for r in zip(codes, *columns, strict=True)]
            hover_props = {"customdata": custom, "hovertemplate": hover_template}
        else:
            hover_props = {
                "customdata": codes,
                "hovertext": hover_all[at].tolist() if len(hover_all) else [],
                "hovertemplate": "%{hovertext}<extra></extra>",
            }
        traces.append(
            _trace(
                "scattergeo",
                # [None] keeps an empty status in the legend (plotly.js drops empty traces).
                lat=lat[at].tolist() or [None],
                lon=lon[at].tolist() or [None],
                mode="markers",
                name=label,
                legendgroup=f"status:{status_code}",
                showlegend=True,
                marker={
                    "color": color,
                    "symbol": symbol,
                    "size": sizes[at].tolist(),
                    "line": {"color": line_color, "width": 0.8},
                    "opacity": 0.9,
                },
                **hover_props,
            )
        )
    return traces


def status_styles(labels: Mapping[str, str]) -> dict[str, tuple[str, str, str]]:
    """The default status -> (colour, symbol, label) for points_trace, labels translated."""
    colors = {**STATUS_COLORS, "no_data": "#737373"}
    return {s: (colors[s], STATUS_SYMBOLS[s], labels.get(s, s)) for s in STATUS_SYMBOLS}


def district_bubbles_trace(
    frame: pd.DataFrame,
    *,
    lat_col: str = "latitude",
    lon_col: str = "longitude",
    value_col: str = "value",
    code_col: str = "org_unit",
    classes: Sequence[Sequence[Any]] = (),
    no_data_color: str = NO_DATA_COLOR,
    no_data_label: str = "—",
    hover_col: str | None = None,
    size: float = 10,
    line_color: str = "#4D4D4D",
    symbols: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """District seats as circles coloured by class (one Scattergeo per legend entry), for when
    no district boundary file is configured. Rows without coordinates are skipped.
    `symbols` (legend label -> marker symbol) gives each status its own shape, as points have."""
    rows = (
        frame.dropna(subset=[lat_col, lon_col])
        if frame is not None and not frame.empty
        else pd.DataFrame(columns=[lat_col, lon_col, value_col, code_col])
    )
    codes = rows[code_col].astype(str).tolist() if code_col in rows.columns else []
    values = rows[value_col].tolist() if value_col in rows.columns else [None] * len(rows)
    hover = rows[hover_col].tolist() if hover_col and hover_col in rows.columns else codes
    lat, lon = rows[lat_col].tolist(), rows[lon_col].tolist()
    traces = []
    for label, color, positions in _groups(codes, values, classes, no_data_color, no_data_label):
        traces.append(
            _trace(
                "scattergeo",
                lat=[lat[p] for p in positions] or [None],
                lon=[lon[p] for p in positions] or [None],
                mode="markers",
                name=label,
                legendgroup=label,
                showlegend=True,
                marker={
                    "color": color,
                    "symbol": (symbols or {}).get(label, "circle"),
                    "size": size,
                    "line": {"color": line_color, "width": 0.6},
                },
                customdata=[codes[p] for p in positions],
                hovertext=[hover[p] for p in positions],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    return traces


# --- tile grid ---------------------------------------------------------------------------------


def tilegrid_figure(
    frame: pd.DataFrame | None,
    tiles: pd.DataFrame,
    *,
    value_col: str = "value",
    code_col: str = "org_unit",
    classes: Sequence[Sequence[Any]] = (),
    no_data_color: str = NO_DATA_COLOR,
    no_data_label: str = "—",
    hover_col: str | None = None,
    label_col: str | None = None,
    title: str | None = None,
    legend_title: str | None = None,
    height: int = 460,
    gap: float = 0.08,
    uncertain_col: str | None = None,
    uncertain_label: str | None = None,
) -> dict[str, Any]:
    """Equal-tile cartogram: every region one square (Asunción as big as Boquerón).

    `tiles` has iso_code (or `code_col`), row, col, abbrev (dashboard/data/tilegrid.csv).
    Each tile is filled with its class colour and shows, in a contrasting colour, the bold
    abbreviation and below it `label_col` (just the formatted value: the builder adds the
    abbreviation itself); one legend entry per class plus no data; customdata = code.
    `uncertain_col` / `uncertain_label`: as choropleth_traces; an uncertain tile is paler,
    with a dark dotted border."""
    key = "iso_code" if "iso_code" in tiles.columns else code_col
    tiles = tiles.reset_index(drop=True)
    codes = tiles[key].astype(str).tolist()
    rows = _by_code(frame, code_col)
    values = _column(rows, value_col, codes)
    labels = _column(rows, label_col, codes, default="")
    hover = _column(rows, hover_col, codes)
    names = tiles["abbrev"].astype(str).tolist()
    hover = [h if h is not None else n for h, n in zip(hover, names, strict=True)]
    uncertain = _column(rows, uncertain_col, codes, default=False)
    half = (1 - gap) / 2
    traces: list[dict[str, Any]] = []
    any_shaky = False
    for label, base, all_positions in _groups(codes, values, classes, no_data_color, no_data_label):
        sound, shaky = _split(all_positions, uncertain)
        any_shaky = any_shaky or bool(shaky)
        # Sound tiles carry the legend entry (a filled box, the class's toggle) even when
        # empty; uncertain ones follow, paler with a dotted border, in the same group.
        parts = [(sound, base, {"color": BORDER_COLOR, "width": 1}, True)]
        if shaky:
            parts.append(
                (shaky, paler(base), {"color": UNCERTAIN_LINE, "width": 1.5, "dash": "dot"}, False)
            )
        for positions, color, line, legend in parts:
            _tile_traces(
                traces,
                tiles,
                positions,
                names,
                labels,
                codes,
                hover,
                half,
                label,
                color,
                line,
                legend,
            )
    if any_shaky and uncertain_label:
        traces.append(
            _trace(
                "scatter",
                x=[None],
                y=[None],
                mode="lines",
                fill="toself",
                fillcolor=paler(NO_DATA_COLOR),
                line={"color": UNCERTAIN_LINE, "width": 1.5, "dash": "dot"},
                name=uncertain_label,
                showlegend=True,
                hoverinfo="skip",
            )
        )
    n_cols = int(tiles["col"].max()) + 1 if len(tiles) else 1
    n_rows = int(tiles["row"].max()) + 1 if len(tiles) else 1
    return dict(
        data=traces,
        layout=dict(
            **_base_layout(title, height, legend_title),
            hovermode="closest",
            xaxis={
                "visible": False,
                "range": [-0.55, n_cols - 0.45],
                "fixedrange": True,
                "constrain": "domain",
            },
            yaxis={
                "visible": False,
                "range": [n_rows - 0.45, -0.55],  # reversed: row 0 at the top
                "fixedrange": True,
                "scaleanchor": "x",
                "scaleratio": 1,
                "constrain": "domain",
            },
        ),
    )


def _tile_traces(
    traces: list, tiles, positions, names, labels, codes, hover, half, label, color, line, legend
) -> None:
    """The squares of some tiles of one legend entry, and their centre points."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for p in positions:
        x, y = float(tiles.at[p, "col"]), float(tiles.at[p, "row"])
        xs += [x - half, x + half, x + half, x - half, x - half, None]
        ys += [y - half, y - half, y + half, y + half, y - half, None]
    traces.append(
        _trace(
            "scatter",
            x=xs or [None],
            y=ys or [None],
            mode="lines",
            fill="toself",
            fillcolor=color,
            line=line,
            name=label,
            legendgroup=label,
            showlegend=legend,
            hoverinfo="skip",
        )
    )
    # Centre points: text on the tile, hover and click (customdata = code).
    ink = text_color_for(color)
    traces.append(
        _trace(
            "scatter",
            x=[float(tiles.at[p, "col"]) for p in positions],
            y=[float(tiles.at[p, "row"]) for p in positions],
            mode="markers+text",
            marker={"symbol": "square", "size": 60, "color": _TRANSPARENT},
            text=[
                f"<b>{names[p]}</b><br>{labels[p]}" if labels[p] != "" else f"<b>{names[p]}</b>"
                for p in positions
            ],
            textposition="middle center",
            textfont={"color": ink, "size": 12},
            name=label,
            legendgroup=label,
            showlegend=False,
            customdata=[codes[p] for p in positions],
            hovertext=[hover[p] for p in positions],
            hovertemplate="%{hovertext}<extra></extra>",
        )
    )
