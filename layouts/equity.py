"""Equidad: the spread of an indicator between units or groups, whether it is closing, and
people per USF against the ministry's norm (pure builders: EquityView in, components out)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashboard.catalog import Catalog
from dashboard.equity import (
    ACCESS_LEVELS,
    NATIONAL_ONLY,
    YEARS_BACK,
    AccessView,
    EquityView,
    group_label,
    usf_needed,
)
from dashboard.equity_figures import ACCESS_COLORS, access_bars, dot_figure
from dashboard.figures import empty_figure, separators
from dashboard.filters import GROUPINGS, Filters, href, unit_href
from dashboard.i18n import fmt_month, fmt_number, fmt_period, t
from dashboard.maps import map_graph_config
from dashboard.missing import is_missing

from . import ids
from .components import (
    GRAPH_CONFIG,
    empty_state,
    graph,
    indicator_info,
    loading,
    quality_legend,
    quality_mark,
    value_text,
)
from .wire import el


def layout(lang: str = "es", **_query) -> html.Div:
    return html.Div(
        [
            html.H1(t("page_equidad", lang), id=ids.EQ_TITLE, className="h3 mb-3"),
            html.Div(
                [
                    html.Div(t("eq_grouping", lang), className="form-label small fw-semibold mb-1"),
                    html.Div(id=ids.EQ_GROUPING, className="chip-row"),
                ],
                className="mb-3 d-print-none",
            ),
            loading(ids.EQ_SUMMARY),
            # Printed, each chart section starts a page: Chromium moves a plot that a page end
            # would cut (break-inside: avoid) without its box, which then prints over the table.
            html.H2(t("eq_chart_title", lang), className="h5 mt-3 page-break"),
            _keep(graph(ids.EQ_GRAPH, height=340)),
            html.P(t("eq_chart_hint", lang), className="small text-body-secondary"),
            loading(ids.EQ_TABLE),
            html.H2(t("eq_access_title", lang), className="h5 mt-4 page-break"),
            html.P(id=ids.EQ_ACCESS_INTRO, className="small"),
            dbc.Row(
                [
                    dbc.Col(
                        _keep(
                            graph(
                                ids.EQ_ACCESS_MAP,
                                height=480,
                                config={**GRAPH_CONFIG, **map_graph_config()},
                            )
                        ),
                        lg=5,
                    ),
                    dbc.Col(_keep(graph(ids.EQ_ACCESS_GRAPH, height=480)), lg=7),
                ],
                className="g-2",
            ),
            loading(ids.EQ_ACCESS),
            html.Div(id=ids.EQ_NOTE, className="small text-body-secondary mt-3"),
        ]
    )


def _keep(child) -> html.Div:
    """The chart's whole box keeps together on a printed page, not the plot alone."""
    return html.Div(child, style={"breakInside": "avoid"})


def access_figures(
    ev: EquityView | AccessView,
    lang: str,
    boundaries: Any = None,
    tiles: pd.DataFrame | None = None,
    districts: Any = None,
) -> tuple[dict, dict]:
    """The access map and bars: the same for every indicator and grouping (a caller may keep
    them per access table and language)."""
    return access_map(ev, lang, boundaries, tiles, districts), access_chart(ev, lang)


def render(
    ev: EquityView, cat: Catalog, f: Filters, *maps: Any, figures: tuple[dict, dict] | None = None
) -> tuple:
    """Every output of the page, in the order of MAIN_OUTPUTS then ACCESS_OUTPUTS (the screen
    fills them from two callbacks: render_main and render_access). `maps`: render_access's
    boundaries, tiles and districts; `figures`: access_figures' result, when the caller kept it."""
    main = render_main(ev, cat, f)
    access = render_access(ev, cat, f, *maps, figures=figures)
    return (*main[:5], *access, main[5])


def render_main(ev: EquityView, cat: Catalog, f: Filters) -> tuple:
    """The indicator's outputs (MAIN_OUTPUTS): title, groupings, summary, chart, table, note."""
    lang = f.lang
    return (
        [title(ev, lang), " ", title_info(ev, cat, lang)],
        grouping_links(ev, f),
        summary(ev, cat, lang),
        chart(ev, cat, lang),
        table(ev, cat, f),
        note(ev, lang),
    )


def render_access(
    av: EquityView | AccessView,
    cat: Catalog,
    f: Filters,
    boundaries: Any = None,
    tiles: pd.DataFrame | None = None,
    districts: Any = None,
    figures: tuple[dict, dict] | None = None,
) -> tuple:
    """The access section's outputs (ACCESS_OUTPUTS): intro, map, bars, table."""
    a_map, a_chart = figures or access_figures(av, f.lang, boundaries, tiles, districts)
    return (access_intro(av, f.lang), a_map, a_chart, access_table(av, cat, f))


# The outputs of the page's two callbacks, in render_main's and render_access's order.
MAIN_OUTPUTS = (
    (ids.EQ_TITLE, "children"),
    (ids.EQ_GROUPING, "children"),
    (ids.EQ_SUMMARY, "children"),
    (ids.EQ_GRAPH, "figure"),
    (ids.EQ_TABLE, "children"),
    (ids.EQ_NOTE, "children"),
)
ACCESS_OUTPUTS = (
    (ids.EQ_ACCESS_INTRO, "children"),
    (ids.EQ_ACCESS_MAP, "figure"),
    (ids.EQ_ACCESS_GRAPH, "figure"),
    (ids.EQ_ACCESS, "children"),
)


def title(ev: EquityView, lang: str) -> str:
    return t(
        "eq_title",
        lang,
        indicator=ev.indicator.name(lang),
        unit=ev.unit.name,
        period=fmt_period(ev.period, lang),
    )


def title_info(ev: EquityView, cat: Catalog, lang: str) -> html.Details:
    """The (i) beside the title: the compared indicator's definition, with the unit's target."""
    ind = ev.indicator
    target = cat.target_for(ind, ev.unit, ev.period.end // 100)
    return indicator_info(ind, lang, target=target, elements=cat.data_elements)


def unit_link(code: str, name: str, cat: Catalog, f: Filters):
    """A compared region or district links to its map (its districts, or its facilities),
    the other filters kept, as the other pages' tables link their units."""
    unit = cat.unit(code)
    if unit is None:
        return name
    return el("Link", name, namespace="dash_core_components", href=unit_href("mapa", f, unit, cat))


def grouping_name(grouping: str, level: int, lang: str) -> str:
    if grouping == "unidad":
        key = "eq_group_unidad_regions" if level == 0 else "eq_group_unidad_districts"
        return t(key, lang)
    return t(f"eq_group_{grouping}", lang)


def grouping_links(ev: EquityView, f: Filters) -> list:
    """Each grouping is a link (a shareable URL); the region splits only nationally."""
    level = ev.unit.level
    out: list = [
        dcc.Link(
            grouping_name(g, level, f.lang),
            href=href("equidad", f.with_(grouping=None if g == "unidad" else g)),
            className="chip" + (" chip-on" if g == ev.grouping else ""),
        )
        for g in GROUPINGS
        if not (g in NATIONAL_ONLY and level > 0)
    ]
    if ev.asked != ev.grouping:
        out.append(html.Span(t("eq_grouping_fallback", f.lang), className="small ms-2"))
    return out


DISCLOSURE_COLUMNS = ("numerator_small", "denominator_small", "small_label")


def _records(frame: pd.DataFrame, cols) -> list[SimpleNamespace]:
    """Rows with attribute access, read column by column (itertuples costs a millisecond a
    column on these frames)."""
    arrays = [frame[c].to_numpy() for c in cols]
    return [
        SimpleNamespace(**dict(zip(cols, vals, strict=True))) for vals in zip(*arrays, strict=True)
    ]


def _hidden_columns(frame: pd.DataFrame) -> tuple[str, ...]:
    """The disclosure-control columns a restricted user's frame carries (dashboard.disclosure)."""
    return tuple(c for c in DISCLOSURE_COLUMNS if c in frame)


def _count(r, column: str, lang: str) -> str:
    """A numerator or denominator as shown: "<5" when disclosure control hid it."""
    if getattr(r, "small_label", None) is not None and bool(getattr(r, f"{column}_small", False)):
        return str(r.small_label)
    return _num(getattr(r, column), lang)


def _value(v, ev: EquityView, lang: str) -> str:
    return "—" if is_missing(v) else value_text(v, ev.indicator, lang)


def _num(v, lang: str, decimals: int = 0) -> str:
    return "—" if is_missing(v) else fmt_number(v, lang, decimals)


def summary(ev: EquityView, cat: Catalog, lang: str) -> list:
    s = ev.spread
    if s.n == 0:
        return [empty_state(lang, t("eq_no_spread", lang))]
    dec = ev.indicator.decimals

    def card(label: str, value: str, sub: str = "", hint: str | None = None) -> dbc.Col:
        return dbc.Col(
            html.Div(
                [
                    html.Div(label, className="small text-body-secondary"),
                    html.Div(value, className="fs-5 fw-semibold"),
                    html.Div(sub, className="small") if sub else None,
                ],
                className="card h-100 px-3 py-2",
                title=hint,
            ),
            xs=6,
            md=4,
            xl=2,
        )

    def name(code) -> str:
        return group_label(code, ev.grouping, cat, lang) if code else "—"

    cards = dbc.Row(
        [
            card(t("eq_best", lang), _value(s.best_value, ev, lang), name(s.best)),
            card(t("eq_worst", lang), _value(s.worst_value, ev, lang), name(s.worst)),
            card(
                t("eq_gap", lang),
                _num(s.gap, lang, dec),
                # a gap between two percentages is in points, not a percentage of anything
                t("eq_points", lang) if ev.indicator.unit(lang) == "%" else ev.indicator.unit(lang),
            ),
            card(
                t("eq_ratio", lang),
                t("eq_ratio_text", lang, ratio=_num(s.ratio, lang, 1))
                if not is_missing(s.ratio)
                else "—",
            ),
            card(t("eq_mean", lang), _value(s.mean, ev, lang), "", t("eq_mean_hint", lang)),
            card(
                t("eq_index", lang),
                "—"
                if is_missing(s.disparity_index)
                else fmt_number(s.disparity_index, lang, 1) + " %",
                f"{t('eq_bgv', lang)}: {_num(s.between_variance, lang, 1)}",
                t("eq_index_hint", lang),
            ),
        ],
        className="g-2 mb-2",
    )
    lines = []
    for ch in ev.changes:
        then_period = fmt_period(ev.periods[-1 - _back(ch.years)], lang)
        if ch.verdict == "no_data" or ch.then is None:
            lines.append(html.Li(t("eq_change_no_data", lang, period=then_period)))
            continue
        gap = "—" if is_missing(ch.gap_change) else _signed(ch.gap_change, lang, dec)
        lines.append(
            html.Li(
                t(
                    f"eq_change_{ch.verdict}",
                    lang,
                    period=then_period,
                    then=fmt_number(ch.then.disparity_index, lang, 1) + " %",
                    now=fmt_number(s.disparity_index, lang, 1) + " %",
                    gap=gap,
                ),
                className=f"eq-change eq-{ch.verdict}",
            )
        )
    extra = (
        [html.P(t("eq_small_excluded", lang, n=s.excluded_small), className="small mb-0")]
        if s.excluded_small
        else []
    )
    return [cards, html.Ul(lines, className="mb-1 eq-changes"), *extra]


def _back(years: int) -> int:
    """Position from the end of the view's periods of the period `years` earlier."""
    return YEARS_BACK.index(years) + 1


def _signed(v: float, lang: str, decimals: int) -> str:
    return ("+" if v > 0 else "") + fmt_number(v, lang, decimals)


def _hover(rows: pd.DataFrame, ev: EquityView, cat: Catalog, lang: str) -> list[str]:
    return [
        t(
            "eq_hover",
            lang,
            name=group_label(r.org_unit, ev.grouping, cat, lang),
            value=_value(r.value, ev, lang),
            numerator=_count(r, "numerator", lang),
            denominator=_count(r, "denominator", lang),
        )
        for r in _records(
            rows, ("org_unit", "value", "numerator", "denominator", *_hidden_columns(rows))
        )
    ]


def period_labels(ev: EquityView, lang: str) -> dict[str, str]:
    return {p.id: fmt_period(p, lang) for p in ev.periods}


def chart(ev: EquityView, cat: Catalog, lang: str) -> dict:
    hist = ev.history.reset_index(drop=True)
    if hist.empty or hist["value"].notna().sum() == 0:
        return empty_figure(t("empty_title", lang), 340)
    labels = period_labels(ev, lang)
    names = {c: group_label(c, ev.grouping, cat, lang) for c in set(hist["org_unit"])}
    target_text = t("eq_target_line", lang, value=_value(ev.target, ev, lang)) if ev.target else ""
    texts = {
        "units": t("eq_units", lang),
        "small": t("eq_units_small", lang),
        "national": t("eq_mean", lang),
        "target": target_text,
        "x_title": ev.indicator.unit(lang),
        **{f"national_{p}": _value(v, ev, lang) for p, v in ev.national.items()},
    }
    few = len(set(hist["org_unit"])) <= 8
    label_units = (
        list(dict.fromkeys(hist["org_unit"]))
        if few
        else [c for c in (ev.spread.best, ev.spread.worst) if c]
    )
    return dot_figure(
        hist,
        period_ids=[p.id for p in ev.periods],
        period_labels=labels,
        names=names,
        national=ev.national,
        target=ev.target,
        hover=_hover(hist, ev, cat, lang),
        texts=texts,
        lang_separators=separators(lang),
        label_units=label_units[:8],
        height=340,
    )


def table(ev: EquityView, cat: Catalog, f: Filters) -> list:
    lang = f.lang
    g = ev.groups
    if g.empty:
        return [empty_state(lang)]
    dec = ev.indicator.decimals
    grouped = ev.grouping != "unidad"
    head = [
        html.Th("#", scope="col", className="text-end"),
        html.Th(t("eq_col_group", lang), scope="col"),
        html.Th(t("col_value", lang), scope="col", className="text-end"),
        html.Th(t("eq_col_vs_mean", lang), scope="col", className="text-end"),
        html.Th(t("numerator", lang), scope="col", className="text-end"),
        html.Th(t("denominator", lang), scope="col", className="text-end"),
    ]
    if grouped and "units" in g:
        head.append(html.Th(t("eq_col_units", lang), scope="col", className="text-end"))
    body = []
    rank = 0
    cols = (
        "org_unit",
        "value",
        "quality",
        "small",
        "numerator",
        "denominator",
        *_hidden_columns(g),
    )
    for r in _records(g, cols + (("units",) if "units" in g else ())):
        has = not is_missing(r.value)
        rank += 1 if has else 0
        codes = tuple(r.quality) if isinstance(r.quality, tuple | list) else ()
        if bool(r.small) and "small_numbers" not in codes:
            codes = (*codes, "small_numbers")
        diff = r.value - ev.spread.mean if has and not is_missing(ev.spread.mean) else None
        label = group_label(r.org_unit, ev.grouping, cat, lang)
        # Cells in Dash's wire form (layouts.wire): a region's 260 districts cost less.
        cells = [
            el("Td", str(rank) if has else "", className="text-end"),
            el(
                "Th",
                unit_link(r.org_unit, label, cat, f)
                if ev.grouping == "unidad"
                else label,  # a group of units (type, quintile…): no one view to open
                scope="row",
            ),
            el(
                "Td",
                [_value(r.value, ev, lang), quality_mark(codes, lang, ev.rules, wire=True)],
                className="text-end",
            ),
            el("Td", "—" if diff is None else _signed(diff, lang, dec), className="text-end"),
            el("Td", _count(r, "numerator", lang), className="text-end"),
            el("Td", _count(r, "denominator", lang), className="text-end"),
        ]
        if grouped and "units" in g:
            cells.append(el("Td", _num(r.units, lang), className="text-end"))
        body.append(el("Tr", cells))
    caption = html.Caption(
        t(
            "eq_table_caption",
            lang,
            grouping=grouping_name(ev.grouping, ev.unit.level, lang),
            period=fmt_period(ev.period, lang),
        ),
        className="small",
    )
    return [
        html.Div(
            dbc.Table(
                [caption, html.Thead(html.Tr(head)), html.Tbody(body)],
                size="sm",
                hover=True,
                className="mb-1",
            ),
            className="table-responsive",
        )
    ]


# ==== access =====================================================================================
def access_intro(ev: EquityView | AccessView, lang: str) -> str:
    return t(
        "eq_access_intro",
        lang,
        year=str(ev.period.end // 100),
        month=fmt_month(ev.period.end, lang),
        level=t("eq_level_regions" if ev.access_level == 1 else "eq_level_districts", lang),
        norm=fmt_number(ev.norm.per_usf, lang),
    )


def _access_hover(a: pd.DataFrame, lang: str) -> list[str]:
    return [
        t(
            "eq_access_hover",
            lang,
            name=r.org_unit_name,
            per=_num(r.per_USF, lang),
            usf=_num(r.n_USF, lang),
            population=_num(r.population, lang),
        )
        for r in _records(a, ("org_unit_name", "per_USF", "n_USF", "population"))
    ]


def access_map(ev: EquityView | AccessView, lang: str, boundaries, tiles, districts) -> dict:
    """Regions (nationally) or districts coloured by their people per USF against the norm;
    the legend's title above its items, so a phone's narrow legend wraps instead of spilling."""
    fig = _access_map(ev, lang, boundaries, tiles, districts)
    legend = fig.get("layout", {}).get("legend")
    if isinstance(legend, dict) and isinstance(legend.get("title"), dict):
        legend["title"]["side"] = "top"
    return fig


def _access_map(ev: EquityView | AccessView, lang: str, boundaries, tiles, districts) -> dict:
    from dashboard import maps

    a = ev.access
    if a.empty:
        return empty_figure(t("empty_title", lang), 480)
    frame = a.assign(
        cls=a["verdict"].where(a["verdict"] != "no_population"),
        hover=_access_hover(a, lang),
        label=[_num(v, lang) for v in a["per_USF"]],
    )
    classes = [
        (v, v, ACCESS_COLORS[v], t(f"eq_verdict_{v}", lang)) for v in ("within", "over", "no_usf")
    ]
    no_data = t("eq_verdict_no_population", lang)
    legend = t("eq_access_map_legend", lang)
    if ev.access_level == 1:
        if boundaries is None and tiles is not None and len(tiles):
            return maps.tilegrid_figure(
                frame,
                tiles,
                value_col="cls",
                classes=classes,
                no_data_label=no_data,
                hover_col="hover",
                label_col="label",
                legend_title=legend,
                height=480,
            )
        if boundaries is None:
            return empty_figure("", 480)
        traces = maps.choropleth_traces(
            frame,
            boundaries.geojson,
            value_col="cls",
            classes=classes,
            no_data_label=no_data,
            hover_col="hover",
            url=boundaries.url,
        )
        return maps.geo_figure(traces, legend_title=legend, height=480)
    if districts is not None:
        codes = set(frame.org_unit)
        shapes = {
            "type": "FeatureCollection",
            "features": [x for x in districts.geojson["features"] if x["id"] in codes],
        }
        traces = maps.choropleth_traces(
            frame,
            shapes,
            value_col="cls",
            classes=classes,
            no_data_label=no_data,
            hover_col="hover",
            url=districts.url,
        )
    else:
        traces = []
        if boundaries is not None:
            outline = {
                "type": "FeatureCollection",
                "features": [x for x in boundaries.geojson["features"] if x["id"] == ev.unit.code],
            }
            traces += maps.choropleth_traces(
                frame.iloc[0:0],
                outline,
                classes=(),
                no_data_label=t("map_region_outline", lang),
                no_data_color="#EEF1F4",
                url=boundaries.url,
            )
        traces += maps.district_bubbles_trace(
            frame.dropna(subset=["latitude"]),
            value_col="cls",
            classes=classes,
            no_data_label=no_data,
            hover_col="hover",
            size=20,
        )
    return maps.geo_figure(traces, legend_title=legend, height=480)


def access_chart(ev: EquityView | AccessView, lang: str) -> dict:
    a = ev.access
    if a.empty or a["per_USF"].notna().sum() == 0:
        return empty_figure(t("eq_no_usf_none", lang) if a.empty else "", 480)
    return access_bars(
        a,
        norm=ev.norm.per_usf,
        texts={
            "over": t("eq_verdict_over", lang),
            "within": t("eq_verdict_within", lang),
            "norm": t("eq_norm_line", lang, value=fmt_number(ev.norm.per_usf, lang)),
            "x_title": t("eq_access_x", lang),
        },
        hover=_access_hover(a, lang),
        lang_separators=separators(lang),
    )


# On screen: the USF columns, then people per facility of each other level (counts are in the
# files); the verdict last.
ACCESS_COLUMNS = ("population", "n_USF", "per_USF", "norm_ratio", "usf_needed") + tuple(
    f"per_{lvl}" for lvl, _ in ACCESS_LEVELS[1:]
)


def access_table(ev: EquityView | AccessView, cat: Catalog, f: Filters) -> list:
    lang = f.lang
    a = ev.access
    if a.empty:
        return [empty_state(lang)]
    no_usf = a[a["verdict"] == "no_usf"]
    names = ", ".join(no_usf["org_unit_name"])
    listing = html.P(
        html.Strong(t("eq_no_usf", lang, n=len(no_usf), names=names))
        if len(no_usf)
        else t("eq_no_usf_none", lang),
        className="mb-2 eq-no-usf",
    )
    head = [
        html.Th("#", scope="col", className="text-end"),
        html.Th(t("col_unit", lang), scope="col"),
        *[
            html.Th(t(f"eq_col_{c}", lang), scope="col", className="text-end")
            for c in ACCESS_COLUMNS
        ],
        html.Th(t("eq_col_verdict", lang), scope="col"),
    ]
    body = []
    cols = (
        "rank",
        "org_unit",
        "org_unit_name",
        "verdict",
        *(c for c in ACCESS_COLUMNS if c != "usf_needed"),
    )
    for r in _records(a, cols):
        row = vars(r)
        row["usf_needed"] = usf_needed(r.population, int(r.n_USF), ev.norm)
        cells = [
            el("Td", str(r.rank), className="text-end"),
            el("Th", unit_link(r.org_unit, r.org_unit_name, cat, f), scope="row"),
        ]
        for c in ACCESS_COLUMNS:
            d = 2 if c == "norm_ratio" else 0
            cells.append(el("Td", _num(row[c], lang, d), className="text-end"))
        verdict = t(f"eq_verdict_{r.verdict}", lang)
        cells.append(el("Td", verdict, className=f"eq-verdict-{r.verdict}"))
        body.append(el("Tr", cells))
    level = grouping_name("unidad", ev.access_level - 1, lang)
    caption = html.Caption(t("eq_access_caption", lang, level=level), className="small")
    return [
        listing,
        html.Div(
            dbc.Table(
                [caption, html.Thead(html.Tr(head)), html.Tbody(body)],
                size="sm",
                hover=True,
                className="mb-1 eq-access-table",
            ),
            className="table-responsive",
        ),
    ]


def note(ev: EquityView, lang: str) -> list:
    return [
        html.P(t("eq_method", lang)),
        html.P(
            t(
                "eq_norm_source",
                lang,
                norm=fmt_number(ev.norm.per_usf, lang),
                source=ev.norm.source,
            ),
            style={"overflowWrap": "anywhere"},  # the source's long address wraps on a phone
        ),
        quality_legend(lang),
    ]
