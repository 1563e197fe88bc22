"""Desempeño: the scorecard table, domain links and downloads of exactly what is shown."""

import re

from dash import Input, Output, State, dcc
from dash.exceptions import PreventUpdate

from dashboard import exports
from dashboard.i18n import fmt_period, t
from dashboard.views import scorecard
from layouts import ids
from layouts import scorecard as page

from .common import context, filters_of, guarded


def register(app, deps) -> None:
    @app.callback(
        Output(ids.SCORE_TABLE, "children"),
        Output(ids.SCORE_NOTE, "children"),
        Output(ids.SCORE_TITLE, "children"),
        Output(ids.SCORE_DOMAIN, "children"),
        Input(ids.VIEW, "data"),
    )
    @guarded(4, page=("desempeno", "paquete"))
    def fill(view):
        f = filters_of(view)
        c = context(deps)
        sc = scorecard(c, f, rows="facilities" if view["page"] == "paquete" else None)
        unit = sc.unit.name.title() if sc.unit.level == 2 else sc.unit.name
        title = t(
            "score_title",
            f.lang,
            unit=unit,
            period=fmt_period(sc.period.start, sc.period.end, sc.period.id, f.lang),
        )
        return (
            page.table(sc, c.cat, f, f.lang),
            page.note(sc, f.lang),
            title,
            page.domain_links(f, sc.indicators[0].domain),
        )

    @app.callback(
        Output(ids.SCORE_DOWNLOAD, "data"),
        Input(ids.SCORE_DOWNLOAD_CSV, "n_clicks"),
        Input(ids.SCORE_DOWNLOAD_XLSX, "n_clicks"),
        State(ids.VIEW, "data"),
        prevent_initial_call=True,
    )
    def download(_csv, _xlsx, view):
        from dash import ctx

        if not view or view.get("page") != "desempeno":
            raise PreventUpdate
        f = filters_of(view)
        c = context(deps)
        sc = scorecard(c, f)
        frame = exports.scorecard_frame(sc, c.cat, f.lang)
        unit = sc.unit.name
        header = exports.header_lines(
            t("page_desempeno", f.lang),
            [
                (
                    t("filter_region", f.lang),
                    c.cat.unit(f.region).name if f.region else t("all_country", f.lang),
                ),
                (t("filter_district", f.lang), c.cat.unit(f.district).name if f.district else "—"),
                (t("filter_type", f.lang), f.ftype or t("all_types", f.lang)),
                (t("domain", f.lang), t(f"domain_{sc.indicators[0].domain}", f.lang)),
                (t("filter_period", f.lang), exports.period_label(sc.period, f.lang)),
                (t("compared_with", f.lang), exports.period_label(sc.compare_to, f.lang)),
            ],
            c.repo.get_meta("data_source") or "MSPBS",
            f.lang,
        )
        parts = ["desempeno", unit, f.ftype or "", sc.indicators[0].domain, sc.period.id]
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", "_".join(p for p in parts if p)).strip("_")
        if ctx.triggered_id == ids.SCORE_DOWNLOAD_XLSX:
            return dcc.send_bytes(
                exports.to_xlsx(frame, header, t("page_desempeno", f.lang)), f"{name}.xlsx"
            )
        return dcc.send_bytes(exports.to_csv(frame, header, f.lang), f"{name}.csv")
