"""Calidad: the data-quality review of the view's region or district."""

from dash import Dash, Input, Output

from dashboard.i18n import fmt_period, t
from dashboard.services import Services
from layouts import calidad as page
from layouts import ids

from .common import context, filters_of, guarded


def register(app: Dash, deps: Services) -> None:
    @app.callback(
        Output(ids.CAL_BODY, "children"),
        Output(ids.CAL_TITLE, "children"),
        Output(ids.CAL_BODY, "className"),
        Input(ids.VIEW, "data"),
    )
    @guarded(3, page="calidad")
    def fill(view: dict) -> tuple:
        c = context(deps)
        f = filters_of(view, c)
        r = deps.reviews.review(c, f)
        title = f"{t('page_calidad', f.lang)} — {r.unit.name} — {fmt_period(r.period, f.lang)}"
        return page.body(r, c.cat, f), title, "dqr-body"
