"""Trend charts: the y axis fits the data and the target, lines differ by colour and marker,
a partial period is drawn apart."""

from dashboard.figures import COMPARE_COLORS, ROLE_STYLES, fit_range, series_styles, trend_figure


def test_fit_range_fits_the_data_and_the_target_not_zero():
    # 75..88 with a target of 90: span 15, padded 8 % (1.2) each side.
    assert fit_range([75.0, 80.0, 88.0], [90.0]) == [73.8, 91.2]
    # The target below the data is inside the range too.
    assert fit_range([40.0, 50.0], [30.0]) == [28.4, 51.6]
    # Non-negative numbers never get a negative axis.
    assert fit_range([0.5, 10.0]) == [0.0, 10.76]
    # Missing values are ignored; nothing at all gives no range (plotly's autorange).
    assert fit_range([None, float("nan"), 5.0], [None]) == [4.96, 5.04]
    assert fit_range([None], [None]) is None


def test_series_styles_give_each_compared_region_its_own_colour_and_marker():
    roles = ["selected", "national", "compare", "compare", "compare"]
    styles = series_styles(roles)
    colors = [s[0] for s in styles]
    assert colors[0] == ROLE_STYLES["selected"][0] and colors[1] == ROLE_STYLES["national"][0]
    assert len(set(colors)) == 5  # Concepción and San Pedro are no longer both blue
    assert colors[2:] == list(COMPARE_COLORS[:3])
    assert len({s[2] for s in styles[2:]}) == 3  # and a marker each, for grey-scale prints
    # A facility chart: the region's colour is not handed to a compared unit as well.
    fac = series_styles(["selected", "region", "national", "compare", "compare", "compare"])
    assert len({s[0] for s in fac}) == 6
    assert "#009E73" not in {s[0] for s in fac}  # the target's green stays the target's


def test_trend_figure_draws_the_partial_period_apart_and_fits_the_axis():
    fig = trend_figure(
        [{"name": "A", "values": [80.0, 82.0, 60.0], "role": "selected", "hover": ["a", "b", "c"]}],
        x_labels=["T2 2026", "T3 2026", "T4 2026 (parcial)"],
        target=90.0,
        target_label="Meta",
        partial_label="parcial",
        partial_last=True,
        lang="es",
    )
    main, tail = fig["data"][0], fig["data"][1]
    assert main["y"] == [80.0, 82.0, None]  # the 1-month point is not on the solid line
    assert tail["y"] == [82.0, 60.0] and tail["line"]["dash"] == "dot"
    assert tail["marker"]["symbol"] == "diamond-open" and tail["showlegend"] is False
    assert any(t.get("name") == "parcial" for t in fig["data"])
    assert fig["layout"]["yaxis"]["range"] == [57.6, 92.4]
    assert "rangemode" not in fig["layout"]["yaxis"]
    assert fig["layout"]["separators"] == ",."
