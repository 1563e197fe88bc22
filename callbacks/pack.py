"""Informe regional: the small multiples of the key indicators (the other sections reuse the
overview, map and scorecard callbacks)."""

from dash import Dash, Input, Output

from dashboard.services import Services
from dashboard.views import pack_trends
from layouts import ids
from layouts import pack as page

from .common import context, filters_of, guarded


def register(app: Dash, deps: Services) -> None:
    @app.callback(Output(ids.PACK_TRENDS, "figure"), Input(ids.VIEW, "data"))
    @guarded(1, page="paquete")
    def fill(view):
        c = context(deps)
        f = filters_of(view, c)
        return page.trends_figure(pack_trends(c, f), c.cat, f.lang)
