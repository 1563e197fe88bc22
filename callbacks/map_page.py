"""Mapa: the figure, view links, breadcrumb and table; a click drills down or opens a facility."""

from dash import Dash, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from dashboard.filters import href
from dashboard.i18n import fmt_period
from dashboard.services import Services
from dashboard.views import map_data
from layouts import ids
from layouts import map_page as page
from layouts.components import indicator_info

from .common import context, filters_of, guarded, page_of


def register(app: Dash, deps: Services) -> None:
    @app.callback(
        Output(ids.MAP_NOTE, "children"),
        Output(ids.MAP_GRAPH, "figure"),
        Output(ids.MAP_TITLE, "children"),
        Output(ids.MAP_BREADCRUMB, "children"),
        Output(ids.MAP_VIEW, "children"),
        Output(ids.MAP_TABLE, "children"),
        Output(ids.MAP_TABLE_TITLE, "children"),
        Output(ids.MAP_TITLE_INFO, "children"),
        Input(ids.VIEW, "data"),
    )
    @guarded(8, page=("mapa", "paquete"))
    def fill(view: dict) -> tuple:
        c = context(deps)
        f = filters_of(view, c)
        md = map_data(c, f)
        fig, note = page.figure(md, f, deps.boundaries, deps.tiles, deps.district_boundaries)
        unit = md.unit.name
        title = f"{md.indicator.name(f.lang)} · {unit} · {fmt_period(md.period, f.lang)}"
        return (
            page.notes(note, f.lang),
            fig,
            title,
            page.breadcrumb(md, f, c.cat),
            page.view_links(f, md.unit.level == 0),
            page.areas_table(md, f, c.cat),
            page.table_title(md, f.lang),
            indicator_info(md.indicator, f.lang, elements=c.cat.data_elements),
        )

    @app.callback(
        Output(ids.URL, "pathname", allow_duplicate=True),
        Output(ids.URL, "search", allow_duplicate=True),
        Input(ids.MAP_GRAPH, "clickData"),
        State(ids.VIEW, "data"),
        prevent_initial_call=True,
    )
    def drill(click: dict | None, view: dict | None) -> tuple:
        """A region drills into its districts, a district into its facilities, a facility
        opens its profile; the URL changes, so Back goes up again."""
        if not isinstance(click, dict) or page_of(view)[0] != "mapa":
            raise PreventUpdate
        points = click.get("points")
        point = points[0] if isinstance(points, list) and points else {}
        if not isinstance(point, dict):
            raise PreventUpdate
        code = point.get("customdata")
        if isinstance(code, list):
            code = code[0] if code else None
        if not code:
            code = point.get("location")
        c = context(deps)
        cat = c.cat
        unit = cat.unit(str(code)[:40]) if isinstance(code, str | int) and code else None
        if unit is None or not cat.in_scope(unit, c.scope):
            raise PreventUpdate  # a forged click on a unit outside the scope does nothing
        f = filters_of(view, c)
        if unit.level == 3:
            path = href("establecimiento", f, facility=unit.code)
            return path.split("?")[0], f.to_query()
        return no_update, f.focus(unit, cat).to_query()
