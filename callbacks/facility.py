"""Establecimiento: identity, indicators with peers and trend, reporting month by month."""

from dash import Dash, Input, Output, html

from dashboard.figures import empty_figure
from dashboard.i18n import t
from dashboard.services import Services
from dashboard.views import facility_profile
from layouts import facility as page
from layouts import ids
from layouts.components import empty_state

from .common import context, filters_of, guarded, page_of


def register(app: Dash, deps: Services) -> None:
    @app.callback(
        Output(ids.FAC_HEADER, "children"),
        Output(ids.FAC_INDICATORS, "children"),
        Output(ids.FAC_COMPLETENESS, "figure"),
        Output(ids.FAC_TRENDS, "children"),
        Input(ids.VIEW, "data"),
    )
    @guarded(4, page="establecimiento")
    def fill(view: dict) -> tuple:
        c = context(deps)
        f = filters_of(view, c)
        fp = facility_profile(c, f, page_of(view)[1] or "")
        if fp is None:
            return (
                [
                    html.H1(t("facility_not_found", f.lang), className="h3"),
                    empty_state(f.lang, t("facility_not_found_detail", f.lang)),
                ],
                [],
                empty_figure("", 200),
                [],
            )
        return (
            page.header(fp, f, f.lang, c.cat),
            page.indicators_table(fp, f.lang, c.cat.data_elements),
            page.completeness(fp, f.lang),
            page.trend_cards(fp, f, f.lang, c.cat),
        )
