"""Resumen: fills the KPI cards and the attention list from the view state."""

from dash import Dash, Input, Output

from dashboard.catalog import FACILITY_TYPES
from dashboard.i18n import fmt_period, t
from dashboard.services import Services
from dashboard.views import overview
from layouts import ids
from layouts import overview as page

from .common import context, filters_of, guarded


def register(app: Dash, deps: Services) -> None:
    @app.callback(
        Output(ids.OVERVIEW_CARDS, "children"),
        Output(ids.OVERVIEW_ATTENTION, "children"),
        Output(ids.OVERVIEW_TITLE, "children"),
        Input(ids.VIEW, "data"),
    )
    @guarded(3, page=("resumen", "paquete"))
    def fill(view):
        c = context(deps)
        f = filters_of(view, c)
        ov = overview(c, f)
        unit = ov.unit.name.title() if ov.unit.level == 2 else ov.unit.name
        title = t(
            "overview_title",
            f.lang,
            unit=unit,
            period=fmt_period(ov.period.start, ov.period.end, ov.period.id, f.lang),
        )
        if f.ftype:
            title += f" · {FACILITY_TYPES[f.ftype][1 if f.lang == 'en' else 0]}"
        return (
            page.cards(ov, c.cat, f, f.lang, c.small_count),
            page.attention(ov, c.cat, f, f.lang),
            title,
        )
