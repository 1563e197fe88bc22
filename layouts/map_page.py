"""Mapa: choropleth of regions (or a tile grid), districts and facilities, with drill-down."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from dash import html

from dashboard.catalog import Catalog, Indicator
from dashboard.disclosure import count_text, counts_text
from dashboard.figures import STATUS_SYMBOLS
from dashboard.filters import Filters, unit_href
from dashboard.frames import frame_rows
from dashboard.i18n import fmt_values, t
from dashboard.maps import map_graph_config
from dashboard.missing import is_missing
from dashboard.quality import quality_words
from dashboard.views import MapData

from . import ids
from .components import GRAPH_CONFIG, QUALITY_SYMBOL, graph, loading
from .wire import el

if TYPE_CHECKING:
    from dashboard.boundaries import Boundaries


def layout(lang: str = "es", **_query) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.H1(t("page_mapa", lang), id=ids.MAP_TITLE, className="h3 mb-0"),
                    html.Span(id=ids.MAP_TITLE_INFO),
                ],
                className="d-flex align-items-start gap-1 mb-2 title-with-info",
            ),
            html.Div(id=ids.MAP_BREADCRUMB),
            html.Div(
                [html.Div(id=ids.MAP_VIEW, className="me-3"), html.Div(id=ids.MAP_POINTS)],
                className="d-flex flex-wrap align-items-center gap-2 mb-2 d-print-none",
            ),
            graph(ids.MAP_GRAPH, height=560, config={**GRAPH_CONFIG, **map_graph_config()}),
            html.Div(id=ids.MAP_NOTE, className="small text-body-secondary mt-2"),
            html.H2(t("map_table_title", lang), id=ids.MAP_TABLE_TITLE, className="h5 mt-3"),
            loading(ids.MAP_TABLE),
        ]
    )


# ---- rendering (pure: map data, boundaries and labels in, components and figures out) -----------
def view_links(f: Filters, national: bool) -> list:
    from dash import dcc

    from dashboard.filters import href

    lang = f.lang
    out = []
    if national:
        for v in ("map", "tiles"):
            on = f.view == v
            out.append(
                dcc.Link(
                    t(f"map_view_{v}", lang),
                    href=href("mapa", f.with_(view=v)),
                    className="btn btn-sm " + ("btn-primary" if on else "btn-outline-primary"),
                )
            )
    if national and f.view == "tiles":
        return [
            html.Div(
                out, className="btn-group me-3", role="group", **{"aria-label": t("map_view", lang)}
            )
        ]
    on = f.show_points()
    toggle = dcc.Link(
        ("✓ " if on else "") + t("map_points", lang),
        href=href("mapa", f.with_(points=not on)),
        className="chip" + (" chip-on" if on else ""),
    )
    return [
        html.Div(
            out, className="btn-group me-3", role="group", **{"aria-label": t("map_view", lang)}
        ),
        toggle,
    ]


def breadcrumb(md: MapData, f: Filters, cat: Catalog) -> html.Nav:
    from dash import dcc

    items = []
    for i, u in enumerate(md.breadcrumb):
        last = i == len(md.breadcrumb) - 1
        items.append(
            html.Li(
                u.name if last else dcc.Link(u.name, href=unit_href("mapa", f, u, cat)),
                className="breadcrumb-item" + (" active" if last else ""),
            )
        )
    return html.Nav(
        html.Ol(items, className="breadcrumb mb-2"), **{"aria-label": t("breadcrumb", f.lang)}
    )


def hover_texts(frame: pd.DataFrame, ind: Indicator, lang: str, total: int) -> list[str]:
    from dashboard.i18n import fmt_percent, fmt_value

    out = []
    for r in frame_rows(frame):
        rank = "—" if is_missing(r.rank) else f"{int(r.rank)} / {total}"
        out.append(
            f"<b>{r.org_unit_name}</b><br>{fmt_value(r.value, ind.unit(lang), lang, ind.decimals)}"
            f"<br>{t('numerator', lang)}: {count_text(r, 'numerator', lang)} · {t('denominator', lang)}: {count_text(r, 'denominator', lang)}"
            f"<br>{t('completeness', lang)}: {fmt_percent(r.completeness, lang)}"
            f"<br>{t('rank', lang)}: {rank}"
            + (f"<br>{QUALITY_SYMBOL} {quality_words(r.quality, lang)}" if r.quality else "")
        )
    return out


HOVER_FIELDS = ("h_name", "h_value", "h_num", "h_den", "h_comp", "h_rank", "h_quality")


def hover_fields(frame: pd.DataFrame, ind: Indicator, lang: str, total: int) -> dict[str, list]:
    """The hover's variable parts, one column each (see hover_template): the same words as
    hover_texts, with the labels sent once per trace rather than once per facility."""
    # Column by column (a map of Central at 10× has ~3,300 points): the same words as
    # hover_texts, formatted with the language and unit worked out once.
    words: dict[tuple, str] = {}
    return {
        "h_name": frame["org_unit_name"].tolist(),
        "h_value": fmt_values(frame["value"], ind.unit(lang), lang, ind.decimals),
        "h_num": counts_text(frame, "numerator", lang),
        "h_den": counts_text(frame, "denominator", lang),
        "h_comp": fmt_values(frame["completeness"], "%", lang, 1),
        "h_rank": ["—" if is_missing(r) else f"{int(r)} / {total}" for r in frame["rank"]],
        "h_quality": [
            f"<br>{QUALITY_SYMBOL} {words.get(q) or words.setdefault(q, quality_words(q, lang))}"
            if q
            else ""
            for q in frame["quality"]
        ],
    }


def hover_template(lang: str) -> str:
    """hover_texts' layout over customdata [code, *HOVER_FIELDS]."""
    return (
        "<b>%{customdata[1]}</b><br>%{customdata[2]}"
        f"<br>{t('numerator', lang)}: %{{customdata[3]}} · {t('denominator', lang)}: %{{customdata[4]}}"
        f"<br>{t('completeness', lang)}: %{{customdata[5]}}"
        f"<br>{t('rank', lang)}: %{{customdata[6]}}%{{customdata[7]}}<extra></extra>"
    )


def classes_for(md, lang: str):
    """Status classes when the indicator has a target; else five quantile classes."""
    from dashboard import maps
    from dashboard.i18n import fmt_number

    ind = md.indicator
    if (md.areas.status.isin(["met", "near", "not_met"])).any():
        # The tables' symbols in the legend too: the map's marks are read with it.
        labels = {
            s: f"{STATUS_SYMBOLS[s]} {t(f'status_{s}', lang)}"
            for s in ("met", "near", "not_met", "no_target")
        }
        return maps.status_classes(labels), "status"
    values = md.areas["value"].dropna().tolist()
    return maps.quantile_classes(
        values, 5, fmt=lambda v: fmt_number(v, lang, ind.decimals)
    ), "value"


def figure(
    md: MapData,
    f: Filters,
    boundaries: Boundaries | None,
    tiles: pd.DataFrame,
    districts: Boundaries | None = None,
) -> tuple[dict, str | None]:
    """The map figure and, when it had to fall back, a note saying why."""
    from dashboard import maps

    lang = f.lang
    ind = md.indicator
    areas = md.areas.copy()
    areas["hover"] = hover_texts(
        areas, ind, lang, int(areas["rank"].max()) if areas["rank"].notna().any() else len(areas)
    )
    # A value with a data-quality caution is drawn paler (dashboard.maps: never as certain).
    areas["uncertain"] = [
        bool(q) and not is_missing(v) for q, v in zip(areas.quality, areas.value, strict=True)
    ]
    shaky = {"uncertain_col": "uncertain", "uncertain_label": t("map_uncertain", lang)}
    classes, column = classes_for(md, lang)
    no_data = f"{STATUS_SYMBOLS['no_data']} {t('status_no_data', lang)}"
    marks = STATUS_SYMBOLS if column == "status" else {}
    legend_title = ind.unit(lang) if column == "value" else t("col_status", lang)
    note = None
    national = md.unit.level == 0
    if national and (f.view == "tiles" or boundaries is None):
        if boundaries is None and f.view != "tiles":
            note = t("map_no_boundaries", lang)
        frame = areas.assign(label=[_tile_label(r, ind, lang, marks) for r in frame_rows(areas)])
        fig = maps.tilegrid_figure(
            frame,
            tiles,
            value_col=column,
            classes=classes,
            no_data_label=no_data,
            hover_col="hover",
            label_col="label",
            legend_title=legend_title,
            height=560,
            **shaky,
        )
        return fig, note
    traces = []
    frame = None
    if national:
        traces += maps.choropleth_traces(
            areas,
            boundaries.geojson,
            value_col=column,
            classes=classes,
            no_data_label=no_data,
            hover_col="hover",
            url=boundaries.url,
            **shaky,
        )
        traces += maps.marks_trace(areas, boundaries.centroids, marks=marks)
    elif districts is not None:
        codes = set(areas.org_unit)
        shapes = {
            "type": "FeatureCollection",
            "features": [x for x in districts.geojson["features"] if x["id"] in codes],
        }
        traces += maps.choropleth_traces(
            areas,
            shapes,
            value_col=column,
            classes=classes,
            no_data_label=no_data,
            hover_col="hover",
            url=districts.url,
            **shaky,
        )
        traces += maps.marks_trace(
            areas, {k: v for k, v in districts.centroids.items() if k in codes}, marks=marks
        )
    else:
        if boundaries is not None:
            region = next((u.code for u in md.breadcrumb if u.level == 1), None)
            outline = {
                "type": "FeatureCollection",
                "features": [x for x in boundaries.geojson["features"] if x["id"] == region],
            }
            traces += maps.choropleth_traces(
                areas.iloc[0:0],
                outline,
                classes=(),
                no_data_label=t("map_region_outline", lang),
                no_data_color="#EEF1F4",
                url=boundaries.url,
            )
        prefix = t("level_districts", lang)
        district_classes = [(c[0], c[1], c[2], f"{prefix}: {c[3]}") for c in classes]
        traces += maps.district_bubbles_trace(
            areas.dropna(subset=["latitude"]),
            value_col=column,
            classes=district_classes,
            no_data_label=f"{prefix}: {no_data}",
            hover_col="hover",
            size=24,
            symbols={
                c[3]: maps.STATUS_SYMBOLS[c[0]]
                for c in district_classes
                if isinstance(c[0], str) and c[0] in maps.STATUS_SYMBOLS
            },
        )
    if md.unit.level == 2:
        # The chosen district: outlined, named in the legend, and the map framed on it.
        u = md.unit
        traces += maps.highlight_traces(
            t("map_selected_district", lang, name=u.name),
            geojson=districts.geojson if districts is not None else None,
            url=districts.url if districts is not None else None,
            code=u.code,
            lat=u.latitude,
            lon=u.longitude,
        )
        lats = [u.latitude] + (md.rows["latitude"].tolist() if md.rows_level == 3 else [])
        lons = [u.longitude] + (md.rows["longitude"].tolist() if md.rows_level == 3 else [])
        if districts is not None and u.code in districts.centroids:
            la, lo = districts.centroids[u.code]
            lats, lons = [*lats, la], [*lons, lo]
        frame = maps.frame_bounds(lats, lons)
    if f.show_points() and not md.points.empty:
        placed = (
            md.points["latitude"].notna().to_numpy() & md.points["longitude"].notna().to_numpy()
        )
        pts = md.points[placed]
        labels = {
            s: f"{t('map_points', lang)}: {t(f'status_{s}', lang)}"
            for s in ("met", "near", "not_met", "no_target", "no_data")
        }
        traces += maps.points_trace(
            pts,
            status_col="status",
            size_col="volume",
            hover_col="hover",
            status_styles=maps.status_styles(labels),
            size_range=(3, 10) if national else (4, 12),
            hover_fields=HOVER_FIELDS,
            hover_template=hover_template(lang),
            field_values=hover_fields(pts, ind, lang, len(pts)),
        )
    fig = maps.geo_figure(traces, legend_title=legend_title, height=560, frame=frame)
    return fig, note


def _tile_label(r, ind, lang: str, marks) -> str:
    """The value on a tile, after its status symbol when the map is coloured by status."""
    from dashboard.i18n import fmt_number

    value = fmt_number(r.value, lang, ind.decimals)
    mark = marks.get(r.status) if isinstance(r.status, str) else None
    return f"{mark} {value}" if mark and not is_missing(r.value) else value


def table_title(md: MapData, lang: str) -> str:
    """What the table lists: the areas, or the chosen district's facilities."""
    if md.rows_level == 3:
        return t("map_table_facilities", lang, name=md.unit.name)
    return t("map_table_title", lang)


def areas_table(md: MapData, f: Filters, cat: Catalog) -> list:
    """The map's numbers as a table, best first; each name a link (drill down, or a facility's
    profile), so every unit on the map is reachable without pointing at it."""
    import dash_bootstrap_components as dbc

    from dashboard.catalog import facility_type_name
    from dashboard.i18n import fmt_number, fmt_percent, fmt_value

    from .components import empty_state, quality_legend, quality_mark, status_badge

    lang, ind = f.lang, md.indicator
    frame = md.rows if md.rows_level == 3 or not md.rows.empty else md.areas
    if frame.empty:
        return [empty_state(lang)]
    facilities = md.rows_level == 3
    # The facility type is in the name already (USF …): a phone leaves the long words out.
    narrow = {"col_type": "d-none d-md-table-cell"}
    rows = []
    # Cells in Dash's wire form (layouts.wire): a region's districts or facilities cost less.
    for r in frame_rows(frame.sort_values("rank", na_position="last")):
        link = unit_href("mapa", f, cat.by_code[r.org_unit], cat)
        type_cell = el(
            "Td", facility_type_name(r.facility_type, lang), className=narrow["col_type"]
        )
        rows.append(
            el(
                "Tr",
                [
                    el(
                        "Td",
                        "—" if is_missing(r.rank) else fmt_number(r.rank, lang),
                        className="text-end",
                    ),
                    el(
                        "Th",
                        el("Link", r.org_unit_name, namespace="dash_core_components", href=link),
                        scope="row",
                    ),
                    *([type_cell] if facilities else []),
                    el(
                        "Td",
                        [
                            fmt_value(r.value, ind.unit(lang), lang, ind.decimals),
                            quality_mark(r.quality, lang, md.rules, wire=True),
                        ],
                        className="text-end text-nowrap",
                    ),
                    el("Td", count_text(r, "numerator", lang), className="text-end"),
                    el("Td", count_text(r, "denominator", lang), className="text-end"),
                    el(
                        "Td",
                        status_badge(
                            r.status, lang, small=True, uncertain=bool(r.quality), wire=True
                        ),
                    ),
                    el("Td", fmt_percent(r.completeness, lang), className="text-end text-nowrap"),
                ],
            )
        )
    keys = ["rank", "col_facility" if facilities else "col_unit"]
    keys += ["col_type"] if facilities else []
    keys += ["col_value", "numerator", "denominator", "col_status", "col_completeness"]
    head = html.Thead(
        html.Tr([html.Th(t(k, lang), scope="col", className=narrow.get(k)) for k in keys])
    )
    table = dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True)
    marked = any(bool(q) for q in frame["quality"])
    return [table, quality_legend(lang) if marked else None]


def notes(note: str | None, lang: str) -> list:
    """The line under the map: what the figure shows (printed) and how to use it (screen only)."""
    return [
        f"{note} " if note else None,
        t("map_point_size", lang) + " ",
        html.Span(t("map_click_hint", lang), className="screen-only"),
    ]
