"""Tendencias: the time series figure, grain and comparison links."""

from dash import Dash, Input, Output

from dashboard.i18n import t
from dashboard.services import Services
from dashboard.views import trends
from layouts import ids
from layouts import trends as page
from layouts.components import indicator_info

from .common import context, filters_of, guarded


def register(app: Dash, deps: Services) -> None:
    @app.callback(
        Output(ids.TREND_NOTE, "children"),
        Output(ids.TREND_GRAPH, "figure"),
        Output(ids.TREND_TITLE, "children"),
        Output(ids.TREND_GRAIN, "children"),
        Output(ids.TREND_COMPARE, "children"),
        Output(ids.TREND_FACILITY, "children"),
        Output(ids.TREND_TITLE_INFO, "children"),
        Input(ids.VIEW, "data"),
    )
    @guarded(7, page="tendencias")
    def fill(view: dict) -> tuple:
        c = context(deps)
        f = filters_of(view, c)
        tr = trends(c, f)
        title = f"{tr.indicator.name(f.lang)} — {tr.unit.name}"
        if tr.series["value"].isna().all():
            from dashboard.figures import empty_figure

            fig = empty_figure(t("empty_title", f.lang), 420)
        else:
            fig = page.figure(tr, c.cat, f.lang, f.grain)
        regions = c.cat.filter_scope(c.cat.regions(), c.scope)
        return (
            page.note(tr, f.lang),
            fig,
            title,
            page.grain_links(f),
            page.compare_links(f, regions),
            page.facility_chip(f, tr),
            indicator_info(tr.indicator, f.lang, elements=c.cat.data_elements),
        )
