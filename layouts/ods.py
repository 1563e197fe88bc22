"""ODS 3: the road to the 2030 targets — trend, projection with its band, rate needed, status."""

from __future__ import annotations

from dash import dcc, html

from dashboard.figures import SERIES_COLORS, base_layout, separators
from dashboard.filters import Filters, href, unit_href
from dashboard.i18n import fmt_number, fmt_value, t
from dashboard.sdg import HORIZON, MIN_YEARS, SdgRow, SdgView

from . import ids
from .components import empty_state, graph, indicator_info, loading
from .wire import el

# SDG status -> (CSS status class of the house badges, symbol): colour is never alone.
SDG_BADGE = {
    "achieved": ("met", "✔"),
    "on_track": ("met", "↗"),
    "off_track": ("not_met", "✖"),
    "no_target": ("no_target", "●"),
    "insufficient": ("no_data", "–"),
}


def layout(lang: str = "es", **_query) -> html.Div:
    return html.Div(
        [
            html.H1(t("page_ods", lang), id=ids.ODS_TITLE, className="h3 mb-3"),
            loading(ids.ODS_SUMMARY),
            html.Div(
                [
                    html.Div(t("ods_pick", lang), className="form-label small fw-semibold mb-1"),
                    html.Div(id=ids.ODS_PICK, className="mb-2 chip-row"),
                ],
                className="d-print-none mt-3",
            ),
            html.Div(graph(ids.ODS_GRAPH, height=400), className="ods-chart"),
            loading(ids.ODS_UNITS),
            html.Div(id=ids.ODS_NOTE, className="small text-body-secondary mt-2"),
        ]
    )


def sdg_badge(status: str, lang: str) -> dict:
    """The status word with its symbol, in Dash's wire form (a table holds a hundred)."""
    css, symbol = SDG_BADGE[status]
    return el(
        "Span",
        [el("Span", symbol, **{"aria-hidden": "true"}), " ", t(f"sdg_status_{status}", lang)],
        className=f"status-badge status-{css} small",
    )


def _rate(v: float | None, lang: str) -> str:
    if v is None:
        return "—"
    return t("ods_per_year", lang, value=("+" if v > 0 else "") + fmt_number(v, lang, 1))


def _val(v: float | None, ind, lang: str) -> str:
    return fmt_value(v, ind.unit(lang), lang, ind.decimals)


def _band(r: SdgRow, ind, lang: str) -> str:
    if r.low_2030 is None or r.high_2030 is None:
        return "—"
    low = fmt_number(r.low_2030, lang, ind.decimals)
    high = fmt_number(r.high_2030, lang, ind.decimals)
    return f"{low} – {high}"


HEAD = (
    "ods_col_value",
    "ods_col_year",
    "ods_col_change",
    "ods_col_projected",
    "ods_col_band",
    "ods_col_target",
    "ods_col_required",
    "ods_col_status",
)


def _cells(r: SdgRow, ind, lang: str, bare: bool = False) -> list:
    """A row's figures; `bare` leaves the unit out (a table of one indicator states it once)."""

    def val(v: float | None) -> str:
        return fmt_number(v, lang, ind.decimals) if bare else _val(v, ind, lang)

    return [
        el("Td", val(r.value), className="num"),
        el("Td", str(r.year or "—"), className="num"),
        el("Td", _rate(r.annual_change, lang), className="num"),
        el("Td", val(r.projected_2030), className="num"),
        el("Td", _band(r, ind, lang), className="num"),
        el("Td", val(r.target_2030), className="num"),
        el("Td", _rate(r.required_change, lang), className="num"),
        el("Td", sdg_badge(r.status, lang)),
    ]


def info(ind, view: SdgView, cat, lang: str, year: int | None = None) -> html.Details:
    """The indicator's (i): its definition, with the target of the unit shown (that year's)."""
    target = cat.target_for(ind, view.unit, year)
    return indicator_info(ind, lang, target=target, elements=cat.data_elements)


def summary(view: SdgView, cat, f: Filters, lang: str) -> html.Div:
    """Every SDG-mapped indicator for the unit: one row each."""
    if not view.overview:
        return (
            empty_state(lang, t("ods_no_sdg", lang))
            if view.indicator is None
            else empty_state(lang)
        )
    rows = []
    for r in view.overview:
        ind = cat.indicators[r.indicator]
        rows.append(
            html.Tr(
                [
                    html.Td(r.sdg),
                    html.Th(
                        [
                            dcc.Link(ind.name(lang), href=href("ods", f.with_(indicator=ind.code))),
                            info(ind, view, cat, lang, r.year),
                        ],
                        scope="row",
                    ),
                    *_cells(r, ind, lang),
                ]
            )
        )
    head = ["ods_col_sdg", "ods_col_indicator", *HEAD]
    return html.Div(
        [
            html.H2(t("ods_all_indicators", lang, unit=view.unit.name), className="h5"),
            html.Div(
                html.Table(
                    [
                        html.Thead(html.Tr([html.Th(t(k, lang), scope="col") for k in head])),
                        html.Tbody(rows),
                    ],
                    className="table table-sm align-middle sdg-table",
                ),
                className="table-responsive sdg-table-wrap",
            ),
        ]
    )


def pick_links(view: SdgView, cat, f: Filters) -> list:
    from dashboard.sdg import sdg_indicators

    out = []
    for ind, sdg in sdg_indicators(cat):
        on = view.indicator is not None and ind.code == view.indicator.code
        out.append(
            dcc.Link(
                ("✓ " if on else "") + f"{sdg.sdg} {ind.name(f.lang)}",
                href=href("ods", f.with_(indicator=ind.code)),
                className="chip" + (" chip-on" if on else ""),
            )
        )
    return out


def units_table(view: SdgView, cat, f: Filters, lang: str) -> html.Div:
    """The chosen indicator for the unit and each region (or district)."""
    ind = view.indicator
    if ind is None or not view.by_unit:
        return html.Div()
    rows = []
    for r in view.by_unit:
        u = cat.by_code[r.org_unit]
        name = (
            el("Strong", u.name)
            if u.code == view.unit.code
            else el(
                "Link",
                u.name,
                namespace="dash_core_components",
                href=unit_href("ods", f, u, cat),
            )
        )
        rows.append(
            el(
                "Tr",
                [
                    el("Th", name, scope="row"),
                    *_cells(r, ind, lang, bare=True),
                    el("Td", str(r.usable_years), className="num"),
                ],
            )
        )
    head = ["ods_col_unit", *HEAD, "ods_col_years"]
    return html.Div(
        [
            html.H2(
                [
                    t(
                        "ods_by_unit",
                        lang,
                        ind=f"{view.target.sdg if view.target else ''} {ind.name(lang)}",
                    )
                    + f" ({ind.unit(lang)})",
                    info(ind, view, cat, lang, view.by_unit[0].year),
                ],
                className="h5 mt-3",
            ),
            html.Div(
                html.Table(
                    [
                        html.Thead(html.Tr([html.Th(t(k, lang), scope="col") for k in head])),
                        html.Tbody(rows),
                    ],
                    className="table table-sm align-middle sdg-table",
                ),
                className="table-responsive sdg-table-wrap",
            ),
        ]
    )


def figure(view: SdgView, lang: str, height: int = 400) -> dict:
    """Observed yearly values (hollow where a year is not usable), the fitted trend carried to
    2030 with its 80 % prediction band, and the 2030 target."""
    ind = view.indicator
    row = next((r for r in view.by_unit if r.org_unit == view.unit.code), None)
    if ind is None or row is None:
        return {"data": [], "layout": base_layout(height)}
    unit_text = ind.unit(lang)
    years = [y for y, _, _ in row.series]
    values = [v for _, v, _ in row.series]
    usable = [ok for _, _, ok in row.series]
    color = SERIES_COLORS[0]
    hover = [
        f"<b>{view.unit.name}</b> · {y}<br>{_val(v, ind, lang)}"
        + ("" if ok else f"<br>{t('ods_incomplete', lang)}")
        for y, v, ok in row.series
    ]
    data: list[dict] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": t("ods_observed", lang),
            "x": years,
            "y": values,
            "line": {"color": color, "width": 3},
            "marker": {
                "size": [7 if ok else 10 for ok in usable],
                "symbol": ["circle" if ok else "circle-open" for ok in usable],
                "color": [color if ok else "#ffffff" for ok in usable],
                "line": {"color": color, "width": 2},
            },
            "text": hover,
            "hovertemplate": "%{text}<extra></extra>",
        }
    ]
    if not all(usable):
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [None],
                "y": [None],
                "name": t("ods_incomplete", lang),
                "marker": {"symbol": "circle-open", "size": 10, "color": "#666"},
            }
        )
    fit = _fit_points(row)
    if fit is not None:
        xs, centre, low, high = fit
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": xs + xs[::-1],
                "y": high + low[::-1],
                "fill": "toself",
                "fillcolor": "rgba(0,114,178,0.15)",
                "line": {"width": 0},
                "name": t("ods_band", lang),
                "hoverinfo": "skip",
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": xs,
                "y": centre,
                "name": t("ods_projection", lang),
                "line": {"color": color, "dash": "dot", "width": 2},
                "text": [f"{x}: {_val(c, ind, lang)}" for x, c in zip(xs, centre, strict=True)],
                "hovertemplate": "%{text}<extra></extra>",
            }
        )
    if row.target_2030 is not None:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [years[0], HORIZON],
                "y": [row.target_2030, row.target_2030],
                "name": f"{t('ods_target', lang)}: {_val(row.target_2030, ind, lang)}",
                "line": {"color": "#009E73", "dash": "dash", "width": 2},
                "hoverinfo": "skip",
            }
        )
    return {
        "data": data,
        "layout": base_layout(
            height,
            separators=separators(lang),
            xaxis={"dtick": 1, "range": [years[0] - 0.5, HORIZON + 0.5], "gridcolor": "#eee"},
            yaxis={"title": {"text": unit_text}, "gridcolor": "#eee", "rangemode": "tozero"},
            legend={"orientation": "h", "y": -0.15},
            title={
                "text": f"{row.sdg} {ind.name(lang)} — {view.unit.name}",
                "x": 0,
                "font": {"size": 15},
            },
            margin={"l": 56, "r": 16, "t": 40, "b": 40},
        ),
    }


def _fit_points(row: SdgRow):
    """The fitted line and band from the last usable year to 2030 (recomputed from the row's
    usable points with the same function as the table)."""
    from dashboard.sdg import fit_log_linear

    pts = [(y, v) for y, v, ok in row.series if ok and v is not None]
    if len(pts) < MIN_YEARS:
        return None
    fit = fit_log_linear([y for y, _ in pts], [v for _, v in pts])
    if fit is None:
        return None
    xs = list(range(pts[0][0], HORIZON + 1))
    bands = [fit.band(x) for x in xs]
    return xs, [fit.at(x) for x in xs], [b[0] for b in bands], [b[1] for b in bands]


def note(view: SdgView, lang: str, completeness: float) -> list:
    out: list = [html.P(t("ods_intro", lang, pct=fmt_number(completeness, lang, 0), min=MIN_YEARS))]
    if view.target is not None and view.target.source:
        out.append(html.P(t("ods_target_source", lang, source=view.target.source)))
    return out
