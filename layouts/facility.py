"""Establecimiento: one facility's identity, indicators, peers and reporting month by month."""

from __future__ import annotations

from collections.abc import Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.catalog import Catalog, facility_type_name
from dashboard.figures import completeness_figure
from dashboard.filters import Filters, unit_href
from dashboard.i18n import fmt_number, fmt_percent, fmt_period, t
from dashboard.missing import is_missing
from dashboard.periods import month_period
from dashboard.views import FacilityProfile

from . import ids
from .components import graph, loading, quality_legend, quality_mark, status_badge, value_text

BLOCKS = "▁▂▃▄▅▆▇█"


def text_sparkline(values: Sequence[float | None]) -> str:
    """A trend in eight block characters: light, prints anywhere, and a screen reader skips it."""
    vals = [v for v in values if v is not None and not is_missing(v)]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    span = hi - lo or 1.0
    return "".join(
        " " if v is None or is_missing(v) else BLOCKS[int((v - lo) / span * 7)] for v in values
    )


def layout(lang: str = "es", **_query) -> html.Div:
    return html.Div(
        [
            loading(ids.FAC_HEADER),
            html.H2(t("fac_indicators", lang), className="h5 mt-3"),
            loading(ids.FAC_INDICATORS),
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
                    html.Li(
                        dcc.Link(
                            cat.country().name, href=unit_href("desempeno", f, cat.country(), cat)
                        ),
                        className="breadcrumb-item",
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


def indicators_table(fp: FacilityProfile, lang: str) -> list:
    hist = {
        code: grp.sort_values("period")["value"].tolist()
        for code, grp in fp.history.groupby("indicator")
    }
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
                html.Th(t("col_trend24", lang), scope="col"),
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
                        ],
                        scope="row",
                    ),
                    html.Td(
                        [value_text(r.value, ind, lang), quality_mark(r.quality, lang, fp.rules)],
                        className="text-end",
                    ),
                    html.Td(status_badge(r.status, lang, small=True, uncertain=bool(r.quality))),
                    html.Td(value_text(region_peer.get(ind.code), ind, lang), className="text-end"),
                    html.Td(value_text(nation_peer.get(ind.code), ind, lang), className="text-end"),
                    html.Td(
                        text_sparkline(hist.get(ind.code, [])),
                        className="text-spark",
                        **{"aria-hidden": "true"},
                    ),
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
    for r in rep.itertuples(index=False):
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
