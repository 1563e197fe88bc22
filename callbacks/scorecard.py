"""Desempeño: the scorecard table, domain links and downloads of exactly what is shown."""

from dash import Dash, Input, Output

from dashboard.i18n import fmt_period, t
from dashboard.services import Services
from dashboard.views import scorecard
from layouts import ids
from layouts import scorecard as page

from .common import context, filters_of, guarded, page_of


def register(app: Dash, deps: Services) -> None:
    @app.callback(
        Output(ids.SCORE_TABLE, "children"),
        Output(ids.SCORE_NOTE, "children"),
        Output(ids.SCORE_TITLE, "children"),
        Output(ids.SCORE_DOMAIN, "children"),
        Input(ids.VIEW, "data"),
    )
    @guarded(4, page=("desempeno", "paquete"))
    def fill(view: dict) -> tuple:
        c = context(deps)
        f = filters_of(view, c)
        pack = page_of(view)[0] == "paquete"
        # The printed pack lists every facility; the screen a page at a time.
        sc = scorecard(
            c, f, rows="facilities" if pack else None, page_rows=None if pack else page.PAGE_ROWS
        )
        unit = sc.unit.name
        title = t(
            "score_title",
            f.lang,
            unit=unit,
            period=fmt_period(sc.period, f.lang),
        )
        return (
            page.table(sc, c.cat, f, f.lang),
            page.note(sc, f.lang),
            title,
            page.domain_links(f, sc.indicators[0].domain, c.cat),
        )
