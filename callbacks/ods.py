"""ODS 3: fills the summary, the indicator links, the chart and the table by unit."""

from dash import Dash, Input, Output

from dashboard.i18n import t
from dashboard.sdg import sdg_view
from dashboard.services import Services
from dashboard.views import selected_unit
from layouts import ids
from layouts import ods as page

from .common import context, filters_of, guarded


def register(app: Dash, deps: Services) -> None:
    @app.callback(
        Output(ids.ODS_SUMMARY, "children"),
        Output(ids.ODS_GRAPH, "figure"),
        Output(ids.ODS_TITLE, "children"),
        Output(ids.ODS_PICK, "children"),
        Output(ids.ODS_UNITS, "children"),
        Output(ids.ODS_NOTE, "children"),
        Input(ids.VIEW, "data"),
    )
    @guarded(6, page="ods")
    def fill(view: dict) -> tuple:
        c = context(deps)
        f = filters_of(view, c)
        v = sdg_view(c, selected_unit(c, f), f.indicator)
        return (
            page.summary(v, c.cat, f, f.lang),
            page.figure(v, f.lang),
            t("ods_title", f.lang, unit=v.unit.name),
            page.pick_links(v, c.cat, f),
            page.units_table(v, c.cat, f, f.lang),
            page.note(v, f.lang, c.rules.completeness),
        )
