"""The charts draw with the partial plotly.js bundle (make plotly): only its trace types are
registered, every chart on the chart pages uses one of them, and nothing breaks the CSP."""

from __future__ import annotations

import pytest

from dashboard.app import PLOTLY_BUNDLE

BUNDLED = ["bar", "choropleth", "scatter", "scattergeo"]

needs_bundle = pytest.mark.skipif(
    not PLOTLY_BUNDLE.is_file(), reason="partial plotly.js bundle not built (make plotly)"
)


def test_a_page_without_charts_downloads_no_plotly(page, open_page, settle, page_log):
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    open_page("/desempeno?region=PY-1")
    settle(page)
    page.wait_for_load_state("networkidle")
    assert requested and not [u for u in requested if "plotly" in u]
    assert page_log.problems() == {}


@needs_bundle
@pytest.mark.parametrize(
    "path",
    [
        "/mapa?region=PY-1",
        "/mapa",
        "/tendencias?region=PY-1&comparar=PY-2",
        "/establecimiento/E010001",
    ],
)
def test_chart_pages_draw_with_the_partial_bundle(open_page, settle, page_log, path):
    page = open_page(path)
    settle(page)
    page.wait_for_function(
        "() => window.Plotly && document.querySelector('.js-plotly-plot .main-svg')",
        timeout=30000,
    )
    registered = page.evaluate("() => Object.keys(Plotly.PlotSchema.get().traces).sort()")
    assert registered == BUNDLED  # ours, not Dash's full plotly.js (49 trace types)
    drawn = page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')]
            .flatMap(gd => (gd._fullData || []).map(t => [t.type, t.visible]))"""
    )
    assert drawn, "a chart was drawn"
    assert all(kind in BUNDLED and visible is not False for kind, visible in drawn), drawn
    assert page_log.problems() == {}
