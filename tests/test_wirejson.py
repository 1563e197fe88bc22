"""Dash's responses encoded by orjson (dashboard.web.wirejson): the same JSON as Dash's own
encoder after parsing, the same characters escaped for HTML, and installed by create_app."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html
from plotly.io.json import to_json_plotly

from dashboard.web import wirejson


def _response() -> dict:
    values = np.array([1.5, np.nan, np.inf, -2.0])
    figure = go.Figure(
        go.Scatter(x=pd.to_datetime(["2025-01-01", "2025-02-01"]), y=np.array([3, 4]))
    )
    return {
        "multi": True,
        "response": {
            "cards": {
                "children": [
                    html.Div(["Cobertura ", html.Span("88,1 %", className="v")], id="c1"),
                    dcc.Graph(figure=figure, config={"displayModeBar": False}),
                    dcc.Link("Concepción", href="/mapa?region=PY-1"),
                ]
            },
            "numbers": {
                "floats": values,
                "strided": np.arange(10.0)[::3],
                "ints": np.array([1, 2, 3], dtype=np.int64),
                "bools": np.array([True, False]),
                "float32": np.array([0.25], dtype=np.float32),
                "objects": np.array(["a", None, 1.0], dtype=object),
                "dates64": np.array(["2025-03-01", "2025-04-01"], dtype="datetime64[D]"),
                "series": pd.Series([1.0, np.nan]),
                "scalars": [np.float64(2.5), np.int64(7), np.bool_(True), float("nan"), None],
                "when": [dt.date(2025, 1, 31), dt.datetime(2025, 1, 31, 8, 30)],
                "stamp": pd.Timestamp("2025-06-01 10:00"),
                "decimal": Decimal("12.5"),
                "int_keys": {2024: 1, 2025: 2},
                "tuple": (1, "dos"),
            },
            "text": "</script><script>alert(1)</script> a\u2028b\u2029c ñandutí",
        },
    }


def dash_to_json(value) -> str:
    """Dash's own encoder: plotly's, on Python's json module (with orjson installed, plotly's
    "auto" engine would pick orjson and fail where this does not)."""
    return to_json_plotly(value, engine="json")


def test_orjson_writes_what_dash_writes():
    ours, theirs = wirejson.to_json(_response()), dash_to_json(_response())
    assert json.loads(ours) == json.loads(theirs)
    # NaN and infinities are null, never the invalid JSON words NaN / Infinity.
    assert "NaN" not in ours and "Infinity" not in ours
    assert json.loads(ours)["response"]["numbers"]["floats"] == [1.5, None, None, -2.0]


def test_strings_cannot_close_the_script_tag_they_are_written_into():
    out = wirejson.to_json(_response())
    for raw in ("<", ">", "/", "\u2028", "\u2029"):
        assert raw not in out
    assert "\\u003c\\u002fscript\\u003e" in out


def test_what_orjson_cannot_write_falls_back_to_dash():
    deep: list = []
    node = deep
    for _ in range(300):  # deeper than orjson's recursion limit
        node.append([])
        node = node[0]
    assert json.loads(wirejson.to_json(deep)) == json.loads(dash_to_json(deep))
    assert json.loads(wirejson.to_json({"big": 2**70})) == {"big": 2**70}


def test_create_app_installs_it(tmp_path):
    import dash._callback
    import dash.dash

    from dashboard.app import create_app
    from dashboard.config import Settings

    create_app(Settings.from_env({"DASHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}))
    assert dash._callback.to_json is wirejson.to_json
    assert dash.dash.to_json is wirejson.to_json


def test_components_wire_form_is_dashs_own():
    """The fast path (props read from the instance) gives what Component.to_plotly_json gives,
    for every html component and the dcc and dbc components the pages build."""
    import dash_bootstrap_components as dbc

    made = [
        cls(["a", html.Span("b")], id="x", className="c", title="t", **{"data-k": "1"})
        for cls in (getattr(html, n) for n in dir(html))
        if isinstance(cls, type)
        and hasattr(cls, "_type")
        and cls.__module__.startswith("dash.html.")
    ]
    assert len(made) > 100
    made += [
        dcc.Graph(id="g", figure={"data": []}, config={"displayModeBar": False}),
        dcc.Link("x", href="/mapa"),
        dcc.Dropdown(id="d", options=[{"label": "a", "value": "a"}], value="a", clearable=False),
        dcc.Store(id="s", data={"k": 1}),
        dcc.Location(id="u"),
        dcc.Loading(html.Div("x"), type="dot"),
        dbc.Table([html.Tbody([])], size="sm", bordered=True),
        dbc.Row(dbc.Col(html.Div(), lg=4)),
        dbc.Badge("Cumple", color="success", className="b"),
        html.Td("x", **{"aria-label": "etiqueta", "data-col": "rank"}),
    ]
    for obj in made:
        assert wirejson._component(obj) == obj.to_plotly_json(), type(obj)
