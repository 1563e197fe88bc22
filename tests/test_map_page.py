"""The map page's pure parts: status symbols on tiles and in the legend, the points' hover."""

from types import SimpleNamespace

import pandas as pd

from dashboard.figures import STATUS_SYMBOLS, small_multiples
from layouts.map_page import _tile_label, hover_fields, hover_template

IND = SimpleNamespace(decimals=1, unit=lambda lang: "%")


def test_tile_label_carries_the_status_symbol_before_the_value():
    row = SimpleNamespace(value=57.94, status="not_met")
    assert _tile_label(row, IND, "es", STATUS_SYMBOLS) == f"{STATUS_SYMBOLS['not_met']} 57,9"
    assert _tile_label(row, IND, "en", STATUS_SYMBOLS) == f"{STATUS_SYMBOLS['not_met']} 57.9"
    # Coloured by value (no target): no symbol; no value: no symbol either.
    assert _tile_label(row, IND, "es", {}) == "57,9"
    empty = SimpleNamespace(value=float("nan"), status="no_data")
    assert STATUS_SYMBOLS["no_data"] not in _tile_label(empty, IND, "es", STATUS_SYMBOLS)


def test_point_hover_fields_fill_the_translated_template():
    frame = pd.DataFrame(
        {
            "org_unit_name": ["USF Itacuá 1"],
            "value": [64.8],
            "numerator": [55.0],
            "denominator": [85.0],
            "completeness": [100.0],
            "rank": [1.0],
            "quality": [()],
            "small": [False],
        }
    )
    fields = hover_fields(frame, IND, "es", 2)
    assert fields["h_name"] == ["USF Itacuá 1"] and fields["h_value"] == ["64,8\u00a0%"]
    assert fields["h_rank"] == ["1 / 2"] and fields["h_quality"] == [""]
    template = hover_template("es")
    assert "Numerador: %{customdata[3]}" in template and "Posición: %{customdata[6]}" in template
    assert "Numerator: %{customdata[3]}" in hover_template("en")


def test_small_multiples_fit_each_axis_to_its_panel_and_target():
    fig = small_multiples(
        [{"title": "A", "values": [80.0, 85.0], "target": 90.0}], x_labels=["a", "b"]
    )
    assert fig["layout"]["yaxis"]["range"] == [79.2, 90.8]
