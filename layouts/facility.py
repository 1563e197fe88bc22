"""Establecimiento: one facility's identity, indicators, peers and reporting month by month."""

from __future__ import annotations

from collections.abc import Mapping

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.catalog import Catalog, DataElement, facility_type_name
from dashboard.figures import ROLE_STYLES, completeness_figure, trend_figure
from dashboard.filters import Filters, href, unit_href
from dashboard.frames import frame_rows
from dashboard.i18n import fmt_number, fmt_percent, fmt_period, fmt_value, t
from dashboard.missing import is_missing
from dashboard.periods import month_period
from dashboard.views import INCOMPLETE_BELOW, FacilityProfile

from . import ids
from .components import (
    GRAPH_CONFIG,
    graph,
    indicator_info,
    loading,
    quality_legend,
    quality_mark,
    status_badge,
    value_text,
)


def layout(lang: str = "es", **_query) -> html.Div:
    return html.Div(
        [
            loading(ids.FAC_HEADER),
            html.H2(t("fac_indicators", lang), className="h5 mt-3"),
            loading(ids.FAC_INDICATORS),
            html.H2(t("fac_trends", lang), className="h5 mt-4"),
            loading(ids.FAC_TRENDS),
            html.H2(t("fac_completeness", lang), className="h5 mt-4"),
            graph(ids.FAC_COMPLETENESS, height=240),
        ]
    )


def header(fp: FacilityProfile, f: Filters, lang: str, cat: Catalog) -> list:
    u = fp.unit
    ftype = facility_type_name(u.facility_type, lang)
    facts = [
        (t("col_type", lang), ftype),
        (
            t("filter_region", lang),
            dcc.Link(fp.region.name, href=unit_href("resumen", f, fp.region, cat)),
        ),
        (
            t("filter_district", lang),
            dcc.Link(
                fp.district.name,
                href=unit_href("resumen", f, fp.district, cat),
            ),
        ),
        (t("code", lang), u.code),
        (
            t("location", lang),
            f"{fmt_number(u.latitude, lang, 4)}, {fmt_number(u.longitude, lang, 4)}"
            if u.latitude is not None
            else "—",
        ),
    ]
    if u.beds:
        facts.append((t("beds", lang), fmt_number(u.beds, lang)))
    if u.catchment_population:
        facts.append((t("catchment", lang), fmt_number(u.catchment_population, lang)))
    return [
        html.Nav(
            html.Ol(
                [
                    *(
                        [
                            html.Li(
                                dcc.Link(
                                    cat.country().name,
                                    href=unit_href("desempeno", f, cat.country(), cat),
                                ),
                                className="breadcrumb-item",
                            )
                        ]
                        if fp.country_visible
                        else []
                    ),
                    html.Li(
                        dcc.Link(
                            fp.region.name,
                            href=unit_href("desempeno", f, fp.region, cat),
                        ),
                        className="breadcrumb-item",
                    ),
                    html.Li(
                        dcc.Link(
                            fp.district.name,
                            href=unit_href("desempeno", f, fp.district, cat),
                        ),
                        className="breadcrumb-item",
                    ),
                    html.Li(u.name, className="breadcrumb-item active", **{"aria-current": "page"}),
                ],
                className="breadcrumb mb-2",
            ),
            **{"aria-label": t("breadcrumb", lang)},
        ),
        html.H1(u.name, className="h3"),
        html.Dl(
            [
                x
                for k, v in facts
                for x in (
                    html.Dt(k, className="col-sm-3 col-lg-2"),
                    html.Dd(v, className="col-sm-9 col-lg-4"),
                )
            ],
            className="row small mb-0",
        ),
    ]


def indicators_table(
    fp: FacilityProfile, lang: str, elements: Mapping[str, DataElement] | None = None
) -> list:
    cur = fp.current.set_index("indicator")
    peers = fp.peers
    region_peer = peers[peers.org_unit == fp.region.code].set_index("indicator")["value"]
    nation_peer = peers[peers.org_unit == "PY"].set_index("indicator")["value"]
    ftype = facility_type_name(fp.unit.facility_type, lang)
    head = html.Thead(
        html.Tr(
            [
                html.Th(t("col_indicator", lang), scope="col"),
                html.Th(t("col_value", lang), scope="col", className="text-end"),
                html.Th(t("col_status", lang), scope="col"),
                html.Th(t("peers_region", lang, type=ftype), scope="col", className="text-end"),
                html.Th(t("peers_country", lang, type=ftype), scope="col", className="text-end"),
                html.Th(t("col_completeness", lang), scope="col", className="text-end"),
            ]
        )
    )
    rows = []
    silent = []
    for ind in fp.indicators:
        if ind.code not in cur.index:
            continue
        r = cur.loc[ind.code]
        if ind in fp.silent:
            silent.append(ind)  # nothing reported in 24 months: listed once below, not as a row
            continue
        rows.append(
            html.Tr(
                [
                    html.Th(
                        [
                            ind.name(lang),
                            html.Span(f" {ind.code}", className="text-body-secondary small"),
                            indicator_info(ind, lang, elements=elements),
                        ],
                        scope="row",
                    ),
                    html.Td(
                        [value_text(r.value, ind, lang), quality_mark(r.quality, lang, fp.rules)],
                        className="text-end",
                    ),
                    html.Td(status_badge(r.status, lang, small=True, uncertain=bool(r.quality))),
                    html.Td(
                        value_text(region_peer.get(ind.code), ind, lang) if fp.n_peers else "—",
                        className="text-end",
                    ),
                    html.Td(value_text(nation_peer.get(ind.code), ind, lang), className="text-end"),
                    html.Td(fmt_percent(r.completeness, lang), className="text-end"),
                ]
            )
        )
    caption = html.Caption(
        t(
            "fac_caption",
            lang,
            period=fmt_period(fp.period, lang),
        ),
        className="small",
    )
    out = [
        dbc.Table(
            [caption, head, html.Tbody(rows)],
            size="sm",
            hover=True,
            responsive=True,
            className="facility-table",
        )
    ]
    if not fp.n_peers:
        out.append(html.P(only_of_type(fp, lang), className="small text-body-secondary"))
    if silent:
        out.append(
            html.P(
                t("fac_silent", lang, n=len(silent), codes=", ".join(i.code for i in silent)),
                className="small text-body-secondary",
            )
        )
    out.append(quality_legend(lang))
    return out


def completeness(fp: FacilityProfile, lang: str) -> dict:
    rep = fp.reporting.sort_values("period")
    labels, pct, hover = [], [], []
    for r in frame_rows(rep):
        label = fmt_period(month_period(int(r.period)), lang)
        labels.append(label)
        value = 100.0 * r.received_reports / r.expected_reports if r.expected_reports else None
        pct.append(value)
        state = (
            t("report_received", lang)
            if r.received_reports
            else (
                t("report_missing", lang) if r.expected_reports else t("report_not_expected", lang)
            )
        )
        hover.append(f"{label}: {state}")
    return completeness_figure(
        labels,
        pct,
        hover,
        threshold=90,
        threshold_label=t("threshold_90", lang),
        y_title=t("col_completeness", lang) + " (%)",
        lang=lang,
    )


def only_of_type(fp: FacilityProfile, lang: str) -> str:
    """Said instead of 'peers' that would be the facility itself."""
    return t(
        "fac_only_of_type",
        lang,
        type=facility_type_name(fp.unit.facility_type, lang),
        region=fp.region.name,
    )


def _line_key(role: str, label: str) -> html.Span:
    dash = ROLE_STYLES[role][1] if role in ROLE_STYLES else "dash"
    return html.Span(
        [html.Span(className=f"line-key line-{dash}"), label],
        className=f"me-3 text-nowrap key-{role}",
    )


def trends_key(fp: FacilityProfile, lang: str) -> html.P:
    """One legend for every chart below (24 repeated legends would bury the lines)."""
    ftype = facility_type_name(fp.unit.facility_type, lang)
    items = [
        _line_key("selected", fp.unit.name),
        _line_key("region", t("fac_line_region", lang, region=fp.region.name)),
    ]
    if fp.n_peers:
        items.append(
            _line_key("peers", t("fac_line_peers", lang, type=ftype, region=fp.region.name))
        )
    items.append(_line_key("target", t("target", lang)))
    return html.P(items, className="small mb-2 d-flex flex-wrap", **{"aria-hidden": "true"})


def _index(frame, column: str = "value") -> dict[tuple[str, str], float | None]:
    """(indicator, period) -> value, read once for every chart (a filter per chart and line
    cost half a second for a hospital's 19 indicators)."""
    if frame is None or frame.empty:
        return {}
    values = [None if is_missing(v) else float(v) for v in frame[column].tolist()]
    return dict(
        zip(zip(frame["indicator"], frame["period"].astype(str), strict=True), values, strict=True)
    )


def trend_lookups(fp: FacilityProfile) -> dict[str, dict]:
    return {
        "own": _index(fp.history),
        "comp": _index(fp.history, "completeness"),
        "region": _index(fp.region_history),
        "peers": _index(fp.peer_history),
    }


def indicator_trend(
    fp: FacilityProfile, ind, lang: str, cat: Catalog, lookups: dict | None = None
) -> dict:
    """One indicator over 24 months: the facility, its region, its peers, the target."""
    look = lookups or trend_lookups(fp)
    months = sorted({str(p) for p in fp.history["period"].unique()})
    labels = [fmt_period(month_period(int(m)), lang) for m in months]
    unit = ind.unit(lang)

    def line(key: str) -> list[float | None]:
        return [look[key].get((ind.code, m)) for m in months]

    def hover(name: str, values: list) -> list[str]:
        return [
            f"<b>{name}</b> · {label}<br>{fmt_value(v, unit, lang, ind.decimals)}"
            for label, v in zip(labels, values, strict=True)
        ]

    own = line("own")
    comp = line("comp")
    series = [
        {
            "name": fp.unit.name,
            "values": own,
            "hover": hover(fp.unit.name, own),
            "incomplete": [c is not None and c < INCOMPLETE_BELOW for c in comp],
            "role": "selected",
        }
    ]
    if not fp.region_history.empty:
        rv = line("region")
        series.append(
            {
                "name": fp.region.name,
                "values": rv,
                "hover": hover(fp.region.name, rv),
                "role": "region",
            }
        )
    if fp.n_peers and not fp.peer_history.empty:
        ftype = facility_type_name(fp.unit.facility_type, lang)
        name = t("fac_line_peers", lang, type=ftype, region=fp.region.name)
        pv = line("peers")
        series.append({"name": name, "values": pv, "hover": hover(name, pv), "role": "peers"})
    target = cat.target_for(ind, fp.unit, fp.period.end // 100)
    band = ind.direction == "band"
    return trend_figure(
        series,
        x_labels=labels,
        target=None if band else target.target,
        band=(target.band_low, target.band_high) if band else (None, None),
        target_label=t("target", lang),
        y_title=unit,
        lang=lang,
        height=230,
        showlegend=False,
        margin={"l": 48, "r": 8, "t": 8, "b": 8},
        max_ticks=3,
    )


def trend_cards(fp: FacilityProfile, f: Filters, lang: str, cat: Catalog) -> list:
    """A readable chart per indicator with data: axes with the language's numbers, the
    facility's line against its region, its peers and the target; a link to Tendencias."""
    cur = fp.current.set_index("indicator")
    lookups = trend_lookups(fp)
    cards = []
    for ind in fp.shown:
        value = cur.at[ind.code, "value"] if ind.code in cur.index else None
        status = cur.at[ind.code, "status"] if ind.code in cur.index else "no_data"
        summary = t(
            "fac_chart_summary",
            lang,
            name=ind.name(lang),
            value=fmt_value(value, ind.unit(lang), lang, ind.decimals),
            period=fmt_period(fp.period, lang),
        )
        link = href(
            "tendencias",
            f.with_(
                indicator=ind.code,
                region=fp.region.code,
                district=fp.district.code,
                facility=fp.unit.code,
                grain="month",
                compare=(),
            ),
        )
        cards.append(
            html.Section(
                [
                    html.H3(
                        [
                            ind.name(lang),
                            html.Span(f" {ind.code}", className="text-body-secondary small"),
                        ],
                        className="h6 mb-1",
                    ),
                    html.Div(
                        [
                            html.Span(
                                fmt_value(value, ind.unit(lang), lang, ind.decimals),
                                className="fw-semibold me-2",
                            ),
                            status_badge(str(status), lang, small=True),
                        ],
                        className="small mb-1",
                    ),
                    html.Div(
                        dcc.Graph(
                            figure=indicator_trend(fp, ind, lang, cat, lookups),
                            config={**GRAPH_CONFIG, "displayModeBar": False},
                            style={"height": "230px"},
                        ),
                        role="img",
                        **{"aria-label": summary},
                    ),
                    dcc.Link(t("fac_see_trend", lang), href=link, className="small"),
                ],
                className="fac-chart",
            )
        )
    if not cards:
        return []
    return [trends_key(fp, lang), html.Div(cards, className="fac-charts")]
