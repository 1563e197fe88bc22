"""Map figure builders: classes, choropleth, tile grid, points, the offline topojson asset."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import maps
from dashboard.boundaries import load_tilegrid
from dashboard.maps import (
    NO_DATA_COLOR,
    STATUS_COLORS,
    ColorClass,
    classify,
    map_graph_config,
    quantile_classes,
    status_classes,
    status_styles,
    text_color_for,
)
from dashboard.missing import is_missing


# The builders return plain figure dicts; going through go.Figure here also proves each one
# is a valid plotly spec (go.Figure validates every property).
def choropleth(frame, geojson, *, title=None, height=520, **kwargs) -> go.Figure:
    """The map page's path: choropleth_traces drawn by geo_figure."""
    traces = maps.choropleth_traces(frame, geojson, **kwargs)
    return go.Figure(maps.geo_figure(traces, title=title, height=height))


def tilegrid_figure(*args, **kwargs) -> go.Figure:
    return go.Figure(maps.tilegrid_figure(*args, **kwargs))


def geo_figure(traces, **kwargs) -> go.Figure:
    return go.Figure(
        maps.geo_figure(
            [t.to_plotly_json() if hasattr(t, "to_plotly_json") else t for t in traces], **kwargs
        )
    )


def points_trace(*args, **kwargs) -> list:
    return list(go.Figure(data=maps.points_trace(*args, **kwargs)).data)


def district_bubbles_trace(*args, **kwargs) -> list:
    return list(go.Figure(data=maps.district_bubbles_trace(*args, **kwargs)).data)


ROOT = Path(__file__).resolve().parents[1]
CLASSES = [
    (None, 50, "#fee090", "< 50"),
    (50, 80, "#91bfdb", "50–80"),
    (80, 100, "#4575b4", "80–100"),
]
LABELS = {"met": "Cumple", "near": "Cerca", "not_met": "No cumple", "no_target": "Sin meta"}


def _square(code: str, i: int) -> dict:
    x = -58 + i * 0.5
    ring = [[x, -25], [x + 0.5, -25], [x + 0.5, -24.5], [x, -24.5], [x, -25]]
    return {
        "type": "Feature",
        "id": code,
        "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


GEOJSON = {
    "type": "FeatureCollection",
    "features": [_square(c, i) for i, c in enumerate(["PY-1", "PY-2", "PY-3", "PY-4", "PY-ASU"])],
}
FRAME = pd.DataFrame(
    {
        "org_unit": ["PY-1", "PY-2", "PY-3", "PY-4", "PY-99"],
        "value": [30.0, 75.5, 91.0, np.nan, 60.0],
        "hover": ["Concepción: 30,0", "San Pedro: 75,5", "Cordillera: 91,0", "Guairá: —", "x"],
    }
)


def _legend(fig) -> list[str]:
    return [t.name for t in fig.data if t.showlegend]


# --- classes -----------------------------------------------------------------------------------


def test_classify_numeric_bounds_and_missing():
    got = classify([10, 50, 79.99, 80, 100, 101, None, float("nan"), "x"], CLASSES)
    assert got.tolist() == [0, 1, 1, 2, 2, -1, -1, -1, -1]


def test_classify_categorical_statuses():
    classes = status_classes(LABELS)
    got = classify(["met", "not_met", "no_data", None, "near", "no_target"], classes)
    assert got.tolist() == [0, 2, -1, -1, 1, 3]
    assert [c.label for c in classes] == ["Cumple", "Cerca", "No cumple", "Sin meta"]
    assert classes[0].color == STATUS_COLORS["met"]


def test_quantile_classes_cover_the_values_in_order():
    values = list(range(1, 101)) + [None, float("nan")]
    classes = quantile_classes(values, 4, fmt=lambda v: f"{v:.0f}")
    assert len(classes) == 4
    assert classes[0].lower == 1 and classes[-1].upper == 100
    assert [c.label for c in classes][0] == "1 – 26"
    assert classes[-1].color == "#225ea8"  # YlGnBu, 4 classes, darkest last
    assert (classify(range(1, 101), classes) >= 0).all()
    counts = np.bincount(classify(range(1, 101), classes))
    assert counts.min() >= 24


def test_quantile_classes_few_distinct_values_and_empty():
    assert len(quantile_classes([5, 5, 5, 7], 5)) == 2
    one = quantile_classes([3, 3], 4)
    assert len(one) == 1 and classify([3], one).tolist() == [0]
    assert quantile_classes([None, float("nan")], 4) == []
    custom = quantile_classes(range(10), 2, ["#000000", "#777777", "#ffffff"])
    assert [c.color for c in custom] == ["#000000", "#ffffff"]


def test_text_color_for_contrast():
    assert text_color_for("#08519c") == "#FFFFFF"
    assert text_color_for("#ffffcc") == "#1A1A1A"
    assert text_color_for(NO_DATA_COLOR) == "#1A1A1A"


# --- choropleth --------------------------------------------------------------------------------


def test_choropleth_one_legend_entry_per_class_plus_no_data():
    fig = choropleth(FRAME, GEOJSON, classes=CLASSES, no_data_label="Sin datos", hover_col="hover")
    assert _legend(fig) == ["< 50", "50–80", "80–100", "Sin datos"]
    no_data = fig.data[-1]
    assert no_data.marker.line.width > 0
    assert set(no_data.locations) == {"PY-4", "PY-ASU"}  # NaN value, and no row at all
    assert no_data.colorscale[0][1] == NO_DATA_COLOR


def test_choropleth_each_feature_drawn_once_with_code_in_customdata():
    fig = choropleth(FRAME, GEOJSON, classes=CLASSES, hover_col="hover")
    codes = [c for t in fig.data for c in t.customdata]
    assert sorted(codes) == sorted(f["id"] for f in GEOJSON["features"])
    for trace in fig.data:
        assert list(trace.customdata) == list(trace.locations)
        assert [f["id"] for f in trace.geojson["features"]] == list(trace.locations)
        assert trace.featureidkey == "id"
    first = fig.data[0]
    assert list(first.hovertext) == ["Concepción: 30,0"]
    assert first.hovertemplate == "%{hovertext}<extra></extra>"
    assert "PY-99" not in codes  # a row without a feature is not drawn


def test_choropleth_no_data_hover_falls_back_to_the_code():
    fig = choropleth(FRAME, GEOJSON, classes=CLASSES, hover_col="hover")
    hover = dict(zip(fig.data[-1].locations, fig.data[-1].hovertext, strict=True))
    assert hover == {"PY-4": "Guairá: —", "PY-ASU": "PY-ASU"}


def test_choropleth_empty_class_keeps_its_legend_entry():
    frame = pd.DataFrame({"org_unit": ["PY-1"], "value": [10.0]})
    fig = choropleth(frame, GEOJSON, classes=CLASSES, no_data_label="Sin datos")
    assert _legend(fig) == ["< 50", "50–80", "80–100", "Sin datos"]
    placeholder = fig.data[1]
    assert placeholder.type == "scattergeo" and placeholder.marker.color == "#91bfdb"


def test_choropleth_without_missing_values_has_no_no_data_entry():
    frame = pd.DataFrame({"org_unit": ["PY-1", "PY-2"], "value": [10.0, 90.0]})
    geo = {"type": "FeatureCollection", "features": GEOJSON["features"][:2]}
    assert _legend(choropleth(frame, geo, classes=CLASSES)) == ["< 50", "50–80", "80–100"]


def test_choropleth_status_classes_from_status_column():
    frame = pd.DataFrame(
        {"org_unit": ["PY-1", "PY-2", "PY-3"], "status": ["met", "not_met", "no_data"]}
    )
    fig = choropleth(
        frame, GEOJSON, value_col="status", classes=status_classes(LABELS), no_data_label="—"
    )
    by_name = {t.name: list(t.locations) for t in fig.data if t.type == "choropleth"}
    assert by_name == {"Cumple": ["PY-1"], "No cumple": ["PY-2"], "—": ["PY-3", "PY-4", "PY-ASU"]}


def test_choropleth_layout_is_offline_and_fitted():
    fig = choropleth(FRAME, GEOJSON, classes=CLASSES, title="Penta3", height=400)
    geo = fig.layout.geo
    assert geo.visible is False and geo.fitbounds == "locations"
    assert geo.projection.type == "mercator"
    assert not any(
        getattr(geo, f"show{layer}")
        for layer in ("land", "ocean", "lakes", "rivers", "countries", "coastlines", "frame")
    )
    assert (geo.scope, geo.resolution) == ("world", 110)
    assert fig.layout.paper_bgcolor == "rgba(0,0,0,0)"
    assert fig.layout.title.text == "Penta3" and fig.layout.height == 400
    assert fig.layout.template.data.choropleth == ()  # the builder sets no global template


def test_map_builders_do_not_mutate_inputs():
    frame, geo = FRAME.copy(), json.loads(json.dumps(GEOJSON))
    choropleth(frame, geo, classes=CLASSES, hover_col="hover")
    pd.testing.assert_frame_equal(frame, FRAME)
    assert geo == GEOJSON


# --- offline topojson --------------------------------------------------------------------------


def test_topojson_asset_is_the_file_plotly_requests():
    asset = ROOT / "assets" / "topojson" / maps.TOPOJSON_FILE
    assert maps.TOPOJSON_FILE == "world_110m.json"
    topo = json.loads(asset.read_text())
    assert topo["type"] == "Topology" and topo["arcs"] == []
    # every base layer plotly.js may read, present and empty
    for layer in ("land", "ocean", "lakes", "rivers", "countries", "coastlines", "subunits"):
        assert topo["objects"][layer] == {"type": "GeometryCollection", "geometries": []}
    assert asset.stat().st_size < 50_000
    assert map_graph_config("/app/assets/topojson/")["topojsonURL"] == "/app/assets/topojson/"


def test_plotly_js_builds_the_topojson_name_from_scope_and_resolution():
    import plotly

    js = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text("utf-8")
    assert 'e.scope.replace(/ /g,"-"),"_",e.resolution.toString(),"m"' in js
    assert "`${e}${t}.json`" in js


# --- tile grid ---------------------------------------------------------------------------------


def _tile_frame() -> pd.DataFrame:
    tiles = load_tilegrid()
    frame = pd.DataFrame({"org_unit": tiles.iso_code, "value": np.linspace(20, 99, 18)})
    frame.loc[frame.org_unit == "PY-16", "value"] = np.nan
    frame["label"] = [
        f"{v:.1f}".replace(".", ",") if not is_missing(v) else "" for v in frame.value
    ]
    frame["hover"] = "h:" + frame.org_unit
    return frame


def test_tilegrid_legend_and_codes():
    tiles = load_tilegrid()
    fig = tilegrid_figure(
        _tile_frame(),
        tiles,
        classes=CLASSES,
        no_data_label="Sin datos",
        hover_col="hover",
        label_col="label",
    )
    assert _legend(fig) == ["< 50", "50–80", "80–100", "Sin datos"]
    codes = [c for t in fig.data if t.customdata is not None for c in t.customdata]
    assert sorted(codes) == sorted(tiles.iso_code)
    no_data_text = [t for t in fig.data if t.customdata is not None][-1]
    assert list(no_data_text.customdata) == ["PY-16"]
    assert list(no_data_text.text) == ["<b>APY</b>"]


def test_tilegrid_tiles_are_equal_squares_with_text():
    tiles = load_tilegrid()
    fig = tilegrid_figure(_tile_frame(), tiles, classes=CLASSES, label_col="label")
    fills = [t for t in fig.data if t.fill == "toself"]
    xs = [x for t in fills for x in t.x if x is not None]
    widths = {
        round(max(t.x[i : i + 5]) - min(t.x[i : i + 5]), 6)
        for t in fills
        for i in range(0, len(t.x) - 1, 6)
        if t.x[i] is not None
    }
    assert len(widths) == 1 and len(xs) == 18 * 5
    text = {
        c: s
        for t in fig.data
        if t.customdata is not None
        for c, s in zip(t.customdata, t.text, strict=True)
    }
    assert text["PY-ASU"].startswith("<b>ASU</b><br>")
    assert list(fig.layout.yaxis.range)[0] > list(fig.layout.yaxis.range)[1]  # row 0 on top
    assert fig.layout.yaxis.scaleanchor == "x"


def test_tilegrid_text_contrasts_with_fill():
    tiles = load_tilegrid()
    dark = [(None, None, "#08306b", "all")]
    fig = tilegrid_figure(_tile_frame().assign(value=1.0), tiles, classes=dark)
    text_trace = next(t for t in fig.data if t.customdata is not None)
    assert text_trace.textfont.color == "#FFFFFF"


# --- points ------------------------------------------------------------------------------------


def _facilities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "org_unit": ["E1", "E2", "E3", "E4", "E5"],
            "latitude": [-25.3, -25.4, -23.4, np.nan, -27.3],
            "longitude": [-57.6, -57.5, -57.4, -57.0, -55.9],
            "status": ["met", "near", "not_met", "met", "no_data"],
            "volume": [100, 400, 0, 50, np.nan],
            "hover": ["a", "b", "c", "d", "e"],
        }
    )


def test_points_trace_one_trace_per_status_with_distinct_symbols():
    traces = points_trace(
        _facilities(), size_col="volume", hover_col="hover", status_styles=status_styles(LABELS)
    )
    assert [t.name for t in traces] == ["Cumple", "Cerca", "No cumple", "Sin meta", "no_data"]
    symbols = [t.marker.symbol for t in traces]
    assert len(set(symbols)) == len(symbols)
    met = traces[0]
    assert list(met.customdata) == ["E1"]  # E4 has no coordinates
    assert list(met.hovertext) == ["a"]
    assert all(t.type == "scattergeo" for t in traces)


def test_points_trace_sizes_scale_with_volume():
    traces = points_trace(
        _facilities(),
        size_col="volume",
        status_styles=status_styles(LABELS),
        size_range=(6, 24),
    )
    size = {c: s for t in traces for c, s in zip(t.customdata, t.marker.size, strict=True)}
    assert size["E2"] == 24 and size["E3"] == 6 and size["E5"] == 6
    assert 6 < size["E1"] < 24
    assert math.isclose(size["E1"], 6 + 18 * math.sqrt(100 / 400), abs_tol=0.1)


def test_points_trace_added_to_choropleth():
    fig = choropleth(FRAME, GEOJSON, classes=CLASSES)
    fig.add_traces(points_trace(_facilities(), status_styles=status_styles(LABELS)))
    assert [t.type for t in fig.data][-5:] == ["scattergeo"] * 5


def test_district_bubbles_coloured_by_class():
    frame = pd.DataFrame(
        {
            "org_unit": ["0101", "0102", "1504"],
            "latitude": [-23.4, -23.5, -25.1],
            "longitude": [-57.4, -57.3, -57.5],
            "value": [10, 85, np.nan],
        }
    )
    traces = district_bubbles_trace(frame, classes=CLASSES, no_data_label="Sin datos")
    assert [t.name for t in traces] == ["< 50", "50–80", "80–100", "Sin datos"]
    assert list(traces[2].customdata) == ["0102"] and traces[2].marker.color == "#4575b4"
    assert list(traces[1].lat) == [None]  # empty class, still in the legend
    fig = geo_figure(traces, title="Distritos")
    assert fig.layout.geo.fitbounds == "locations"


def test_color_class_is_a_plain_tuple():
    c = ColorClass(0, 1, "#000", "x")
    lower, upper, color, label = c
    assert (lower, upper, color, label) == (0, 1, "#000", "x")


# --- house rules -------------------------------------------------------------------------------


def test_core_map_modules_do_not_import_dash():
    code = (
        "import sys, dashboard.maps, dashboard.boundaries; "
        "bad = [m for m in sys.modules if m == 'dash' or m.startswith('dash.')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize("builder", [choropleth])
def test_builders_accept_empty_frame(builder):
    fig = builder(pd.DataFrame(), GEOJSON, classes=CLASSES, no_data_label="Sin datos")
    assert _legend(fig)[-1] == "Sin datos"
    assert sorted(fig.data[-1].locations) == sorted(f["id"] for f in GEOJSON["features"])


def test_builders_ignore_the_global_plotly_template(monkeypatch):
    import plotly.io as pio

    monkeypatch.setattr(pio.templates, "default", "plotly_dark")
    for fig in (
        choropleth(FRAME, GEOJSON, classes=CLASSES),
        tilegrid_figure(_tile_frame(), load_tilegrid(), classes=CLASSES),
    ):
        assert fig.layout.template.layout.paper_bgcolor is None
        assert fig.layout.paper_bgcolor == "rgba(0,0,0,0)"


def test_tilegrid_accepts_tiles_keyed_by_code_col():
    tiles = load_tilegrid().rename(columns={"iso_code": "org_unit"})
    fig = tilegrid_figure(_tile_frame(), tiles, classes=CLASSES)
    codes = [c for t in fig.data if t.customdata is not None for c in t.customdata]
    assert sorted(codes) == sorted(tiles.org_unit)


def test_frame_bounds_frames_a_district_wider_than_high_and_never_a_point():
    # Facilities at -23.0/-23.2 lat, -57.5/-57.3 lon: 0.2° each way -> min span 0.25° high,
    # widened to 0.5° (aspect 2), then 15 % padding on each side: 0.25*0.65 and 0.5*0.65.
    geo = maps.frame_bounds([-23.0, -23.2, None], [-57.5, -57.3, -57.4])
    assert geo["fitbounds"] is False
    assert geo["lataxis"]["range"] == [-23.2625, -22.9375]
    assert geo["lonaxis"]["range"] == [-57.725, -57.075]
    assert maps.frame_bounds([None], [None]) is None
    fig = maps.geo_figure([], frame=geo)
    assert fig["layout"]["geo"]["lataxis"]["range"] == [-23.2625, -22.9375]
    assert fig["layout"]["geo"]["visible"] is False  # still the offline geo subplot


def test_marks_trace_writes_each_status_symbol_on_its_area_in_contrasting_ink():
    frame = pd.DataFrame({"org_unit": ["A", "B", "C"], "status": ["met", "not_met", None]})
    places = {"A": (-23.0, -57.0), "B": (-24.0, -56.0), "C": (-25.0, -55.0), "D": (0.0, 0.0)}
    (trace,) = maps.marks_trace(frame, places, marks={"met": "✔", "not_met": "✖"})
    assert trace["type"] == "scattergeo" and trace["mode"] == "text"
    assert trace["text"] == ["✔", "✖"] and trace["lat"] == [-23.0, -24.0]
    assert trace["textfont"]["color"] == [
        text_color_for(STATUS_COLORS["met"]),
        text_color_for(STATUS_COLORS["not_met"]),
    ]
    assert trace["hoverinfo"] == "skip" and trace["showlegend"] is False
    assert maps.marks_trace(frame, places, marks={}) == []  # coloured by value: no marks


def test_highlight_traces_outline_a_polygon_or_ring_a_seat():
    geo = {"type": "FeatureCollection", "features": [{"id": "0114", "geometry": None}]}
    (poly,) = maps.highlight_traces("Itacuá", geojson=geo, code="0114")
    assert poly["type"] == "choropleth" and poly["locations"] == ["0114"]
    assert poly["marker"]["line"]["width"] == 3
    (ring,) = maps.highlight_traces("Itacuá", code="0114", lat=-22.9, lon=-57.4)
    assert ring["marker"]["symbol"] == "circle-open" and ring["customdata"] == ["0114"]
    assert maps.highlight_traces("x", code="0114") == []


def test_district_bubbles_take_a_symbol_per_status():
    frame = pd.DataFrame(
        {"org_unit": ["a", "b"], "status": ["met", "near"], "latitude": [1, 2], "longitude": [3, 4]}
    )
    classes = status_classes({"met": "M", "near": "N"})
    traces = maps.district_bubbles_trace(
        frame, value_col="status", classes=classes, symbols={"M": "circle", "N": "diamond"}
    )
    by_name = {t["name"]: t["marker"]["symbol"] for t in traces}
    assert by_name["M"] == "circle" and by_name["N"] == "diamond"


def test_points_trace_sends_hover_labels_once_per_trace_with_fields_per_point():
    frame = pd.DataFrame(
        {
            "org_unit": ["E1", "E2"],
            "status": ["met", "met"],
            "latitude": [-23.0, -24.0],
            "longitude": [-57.0, -56.0],
            "h_name": ["USF Uno", "USF Dos"],
            "h_value": ["91,0 %", "95,5 %"],
        }
    )
    styles = status_styles({"met": "Cumple"})
    traces = maps.points_trace(
        frame,
        status_styles=styles,
        hover_fields=("h_name", "h_value"),
        hover_template="<b>%{customdata[1]}</b> %{customdata[2]}<extra></extra>",
    )
    met = next(t for t in traces if t["name"] == "Cumple")
    # The code stays first: a click on a point opens that facility's profile.
    assert met["customdata"] == [["E1", "USF Uno", "91,0 %"], ["E2", "USF Dos", "95,5 %"]]
    assert met["hovertemplate"].startswith("<b>%{customdata[1]}</b>")
    assert "hovertext" not in met


# --- uncertainty: a value with a data-quality caution never looks as certain -------------------


def test_paler_mixes_toward_white():
    assert maps.paler("#000000", 0.5) == "#808080"
    assert maps.paler("#4575b4", 0.0) == "#4575B4" and maps.paler("#FFFFFF") == "#FFFFFF"
    assert maps.paler("not a colour") == "not a colour"


def test_choropleth_draws_uncertain_values_paler_with_a_dark_outline():
    frame = FRAME.assign(uncertain=[False, True, False, False, False])
    fig = choropleth(
        frame,
        GEOJSON,
        classes=CLASSES,
        hover_col="hover",
        uncertain_col="uncertain",
        uncertain_label="Pálido: advertencia",
    )
    # The legend keeps the classes and gains one entry saying what the pale fill means.
    assert _legend(fig) == ["< 50", "50–80", "80–100", "—", "Pálido: advertencia"]
    drawn = [t for t in fig.data if t.type == "choropleth"]
    by_code = {c: t for t in drawn for c in t.locations}
    assert sorted(by_code) == ["PY-1", "PY-2", "PY-3", "PY-4", "PY-ASU"]  # each feature once
    shaky, sound = by_code["PY-2"], by_code["PY-3"]
    # PY-2 (75,5, class 50–80, uncertain): its class colour halfway-plus to white, dark edge.
    assert shaky.colorscale[0][1] == maps.paler("#91bfdb") != "#91bfdb"
    assert shaky.marker.line.color == maps.UNCERTAIN_LINE and not shaky.showlegend
    assert shaky.legendgroup == "50–80"  # toggled with its class
    assert sound.colorscale[0][1] == "#4575b4" and sound.marker.line.color == maps.BORDER_COLOR
    # Only uncertain class members: the class keeps a legend entry of its own colour.
    assert [t.name for t in fig.data if t.type == "scattergeo" and t.name == "50–80"] == ["50–80"]


def test_choropleth_without_uncertain_values_has_no_extra_legend_entry():
    fig = choropleth(
        FRAME.assign(uncertain=False),
        GEOJSON,
        classes=CLASSES,
        uncertain_col="uncertain",
        uncertain_label="Pálido: advertencia",
    )
    assert "Pálido: advertencia" not in _legend(fig)


def test_tilegrid_marks_uncertain_tiles_paler_with_a_dotted_border():
    tiles = load_tilegrid()
    frame = _tile_frame()
    frame["uncertain"] = frame.org_unit == "PY-1"
    fig = tilegrid_figure(
        frame,
        tiles,
        classes=CLASSES,
        hover_col="hover",
        label_col="label",
        uncertain_col="uncertain",
        uncertain_label="Pálido: advertencia",
    )
    assert _legend(fig)[-1] == "Pálido: advertencia"
    texts = [t for t in fig.data if t.customdata is not None and "PY-1" in list(t.customdata)]
    assert len(texts) == 1 and list(texts[0].customdata) == ["PY-1"]
    k = list(fig.data).index(texts[0])
    square = fig.data[k - 1]  # the square drawn just before its centre point
    assert square.line.dash == "dot" and square.line.color == maps.UNCERTAIN_LINE
    assert square.fillcolor == maps.paler(CLASSES[0][2])  # PY-1 is in the first class
    codes = [c for t in fig.data if t.customdata is not None for c in t.customdata]
    assert sorted(codes) == sorted(tiles.iso_code)  # every tile still drawn once
