"""Mapa: the figure, view links, breadcrumb and table; a click drills down or opens a facility."""

from dash import Dash, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from dashboard.filters import href
from dashboard.i18n import fmt_period, t
from dashboard.services import Services
from dashboard.views import map_data
from layouts import ids
from layouts import map_page as page

from .common import context, filters_of, guarded


def register(app: Dash, deps: Services) -> None:
    @app.callback(
        Output(ids.MAP_NOTE, "children"),
        Output(ids.MAP_GRAPH, "figure"),
        Output(ids.MAP_TITLE, "children"),
        Output(ids.MAP_BREADCRUMB, "children"),
        Output(ids.MAP_VIEW, "children"),
        Output(ids.MAP_TABLE, "children"),
        Input(ids.VIEW, "data"),
    )
    @guarded(6, page=("mapa", "paquete"))
    def fill(view):
        f = filters_of(view)
        c = context(deps)
        md = map_data(c, f)
        fig, note = page.figure(md, f, deps.boundaries, deps.tiles, deps.district_boundaries)
        unit = md.unit.name.title() if md.unit.level == 2 else md.unit.name
        title = f"{md.indicator.name(f.lang)} · {unit} · {fmt_period(md.period.start, md.period.end, md.period.id, f.lang)}"
        notes = [t("map_click_hint", f.lang)]
        if note:
            notes.insert(0, note)
        return (
            " ".join(notes),
            fig,
            title,
            page.breadcrumb(md, f),
            page.view_links(f, deps.boundaries is not None, md.unit.level == 0),
            page.areas_table(md, f),
        )

    @app.callback(
        Output(ids.URL, "pathname", allow_duplicate=True),
        Output(ids.URL, "search", allow_duplicate=True),
        Input(ids.MAP_GRAPH, "clickData"),
        State(ids.VIEW, "data"),
        prevent_initial_call=True,
    )
    def drill(click, view):
        """A region drills into its districts, a district into its facilities, a facility
        opens its profile; the URL changes, so Back goes up again."""
        if not click or not view or view.get("page") != "mapa":
            raise PreventUpdate
        point = (click.get("points") or [{}])[0]
        code = point.get("customdata")
        if isinstance(code, list):
            code = code[0] if code else None
        if not code:
            code = point.get("location")
        cat = deps.repo.catalog()
        unit = cat.unit(str(code)) if code else None
        if unit is None:
            raise PreventUpdate
        f = filters_of(view)
        if unit.level == 3:
            path = href("establecimiento", f, facility=unit.code)
            return path.split("?")[0], f.to_query()
        if unit.level == 1:
            f = f.with_(region=unit.code, district=None)
        elif unit.level == 2:
            f = f.with_(region=cat.units[unit.parent_id].code, district=unit.code)
        return no_update, f.to_query()
