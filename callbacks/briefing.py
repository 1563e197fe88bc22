"""Lo más importante del mes: fills the briefing on Resumen and the regional pack."""

from dash import Dash, Input, Output

from dashboard.briefing import build
from dashboard.services import Services
from layouts import briefing as component
from layouts import ids

from .common import context, filters_of, guarded


def register(app: Dash, deps: Services) -> None:
    @app.callback(Output(ids.BRIEFING, "children"), Input(ids.VIEW, "data"))
    @guarded(1, page=("resumen", "paquete"))
    def fill(view: dict):
        c = context(deps)
        f = filters_of(view, c)
        return component.findings(build(c, f), f, f.lang)
