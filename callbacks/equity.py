"""Equidad: the spread, its change over the years and access, for the view in the URL."""

from dash import Dash, Input, Output

from dashboard.equity import access_key, equity
from dashboard.services import Services
from layouts import equity as page
from layouts import ids

from .common import context, filters_of, guarded

OUTPUTS = (
    (ids.EQ_TITLE, "children"),
    (ids.EQ_GROUPING, "children"),
    (ids.EQ_SUMMARY, "children"),
    (ids.EQ_GRAPH, "figure"),
    (ids.EQ_TABLE, "children"),
    (ids.EQ_ACCESS_INTRO, "children"),
    (ids.EQ_ACCESS_MAP, "figure"),
    (ids.EQ_ACCESS_GRAPH, "figure"),
    (ids.EQ_ACCESS, "children"),
    (ids.EQ_NOTE, "children"),
)


def register(app: Dash, deps: Services) -> None:
    @app.callback(
        *(Output(i, prop) for i, prop in OUTPUTS),
        Input(ids.VIEW, "data"),
    )
    @guarded(len(OUTPUTS), page="equidad")
    def fill(view: dict) -> tuple:
        c = context(deps)
        f = filters_of(view, c)
        ev = equity(c, f)
        # The access map and bars do not change with the indicator or the grouping: drawn
        # once per access table and language (per data version).
        figures = c.cat.memo(
            ("equity_access_figures", access_key(c, ev.unit, ev.period, ev.norm), f.lang),
            lambda: page.access_figures(
                ev, f.lang, deps.boundaries, deps.tiles, deps.district_boundaries
            ),
        )
        return page.render(ev, c.cat, f, figures=figures)
