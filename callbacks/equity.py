"""Equidad: the spread, its change over the years and access, for the view in the URL.

Two callbacks: the indicator's spread and the access section (people per facility, the same
for every indicator and grouping). The browser asks for both at once, so each answers sooner
than one callback doing both, and a slow line gets the first part first."""

from dash import Dash, Input, Output

from dashboard.equity import access_key, access_view, equity
from dashboard.services import Services
from layouts import equity as page
from layouts import ids

from .common import context, filters_of, guarded


def register(app: Dash, deps: Services) -> None:
    @app.callback(
        *(Output(i, prop) for i, prop in page.MAIN_OUTPUTS),
        Input(ids.VIEW, "data"),
    )
    @guarded(len(page.MAIN_OUTPUTS), page="equidad")
    def fill(view: dict) -> tuple:
        c = context(deps)
        f = filters_of(view, c)
        return page.render_main(equity(c, f, access=False), c.cat, f)

    @app.callback(
        *(Output(i, prop) for i, prop in page.ACCESS_OUTPUTS),
        Input(ids.VIEW, "data"),
    )
    @guarded(len(page.ACCESS_OUTPUTS), page="equidad")
    def fill_access(view: dict) -> tuple:
        c = context(deps)
        f = filters_of(view, c)
        av = access_view(c, f)
        # The access map and bars do not change with the indicator or the grouping: drawn
        # once per access table and language (per data version).
        figures = c.cat.memo(
            ("equity_access_figures", access_key(c, av.unit, av.period, av.norm), f.lang),
            lambda: page.access_figures(
                av, f.lang, deps.boundaries, deps.tiles, deps.district_boundaries
            ),
        )
        return page.render_access(av, c.cat, f, figures=figures)
