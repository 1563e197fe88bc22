"""Resumen: fills the KPI cards and the attention list from the view state."""

from dash import Dash, Input, Output

from dashboard.i18n import t
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
        Output(ids.OVERVIEW_ATTENTION_TITLE, "children"),
        Input(ids.VIEW, "data"),
    )
    @guarded(4, page=("resumen", "paquete"))
    def fill(view: dict) -> tuple:
        c = context(deps)
        f = filters_of(view, c)
        ov = overview(c, f)
        return (
            page.cards(ov, c.cat, f, f.lang),
            page.attention(ov, c.cat, f, f.lang),
            page.title_text(ov, f),
            f"{t('attention_title', f.lang)} · {c.cat.indicators[f.indicator].name(f.lang)}",
        )

    # A card's link (…#atencion) brings the attention list, now of that indicator, into view
    # and moves the focus there (a screen reader hears the new heading); the anchor then
    # leaves the address so a copied link opens at the top.
    app.clientside_callback(
        "function(view){ if(window.location.hash === '#"
        + page.ATTENTION_ANCHOR
        + "'){ const h = document.getElementById('"
        + ids.OVERVIEW_ATTENTION_TITLE
        + "'); if(h){ h.scrollIntoView({block: 'start'}); h.focus({preventScroll: true}); }"
        " window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search); }"
        " return window.dash_clientside.no_update; }",
        Output(ids.OVERVIEW_SCROLL_SINK, "data"),
        Input(ids.OVERVIEW_ATTENTION_TITLE, "children"),
    )
