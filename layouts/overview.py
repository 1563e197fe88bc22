"""Resumen: KPI cards for the selected unit and period, and where attention is needed."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.briefing import Briefing
from dashboard.catalog import Catalog, facility_type_name
from dashboard.filters import Filters, href, unit_href
from dashboard.frames import frame_rows
from dashboard.i18n import NBSP, fmt_month, fmt_number, fmt_period, percent_sign, t
from dashboard.sparkline import data_uri, sparkline_alt, sparkline_svg
from dashboard.views import Overview

from . import briefing, ids
from .components import (
    change_text,
    completeness_text,
    empty_state,
    indicator_info,
    loading,
    quality_legend,
    quality_mark,
    status_badge,
    value_text,
)
from .wire import el

ATTENTION_ANCHOR = "atencion"  # a card's link ends here: the answer to "where is it worst?"


def layout(lang: str = "es", **_query) -> html.Div:
    return html.Div(
        [
            html.H1(t("page_resumen", lang), id=ids.OVERVIEW_TITLE, className="h3 mb-3"),
            briefing.layout(lang),
            loading(ids.OVERVIEW_CARDS),
            html.H2(
                t("attention_title", lang),
                id=ids.OVERVIEW_ATTENTION_TITLE,
                className="h5 mt-4 attention-title",
                tabIndex="-1",  # the card's link moves the focus here (callbacks.overview)
            ),
            loading(ids.OVERVIEW_ATTENTION),
            dcc.Store(id=ids.OVERVIEW_SCROLL_SINK),
        ]
    )


def title_text(ov: Overview, f: Filters) -> str:
    """The page's heading: 'Resumen · Concepción · 2025' (and the facility type, if chosen)."""
    title = t("overview_title", f.lang, unit=ov.unit.name, period=fmt_period(ov.period, f.lang))
    if f.ftype:
        title += f" · {facility_type_name(f.ftype, f.lang)}"
    return title


def first_view(ov: Overview, cat: Catalog, f: Filters, brief: Briefing) -> html.Div:
    """What the server draws into the page's HTML before any script arrives: the heading, the
    month's briefing and the KPI cards, from the builders the callbacks use (so React later
    draws the same in the same places), without ids (the live copy has them)."""
    return html.Div(
        [
            html.H1(title_text(ov, f), className="h3 mb-3"),
            html.Section(briefing.findings(brief, f, f.lang), className="briefing mb-3"),
            html.Div(cards(ov, cat, f, f.lang), className="first-view-cards"),
        ]
    )


def target_text(ind, target, lang: str) -> str:
    unit = ind.unit(lang)
    unit = percent_sign(lang) if unit == "%" else ""
    if ind.direction == "band" and target.band_low is not None and target.band_high is not None:
        return (
            t(
                "target_band",
                lang,
                low=fmt_number(target.band_low, lang, ind.decimals),
                high=fmt_number(target.band_high, lang, ind.decimals),
            )
            + unit
        )
    if target.target is None:
        return t("target_none", lang)
    sign = "≥" if ind.direction == "up" else "≤"
    return f"{t('target', lang)}: {sign}{NBSP}{fmt_number(target.target, lang, ind.decimals)}{unit}"


def cards(ov: Overview, cat: Catalog, f: Filters, lang: str) -> list:
    if ov.cards.empty or ov.cards["value"].isna().all():
        return [empty_state(lang)]
    same_span = ov.previous == ov.year_earlier
    # Each indicator's months, oldest first (no groupby: a pandas group costs more than these
    # twelve numbers).
    codes = ov.sparks["indicator"].tolist()
    months = ov.sparks["period"].tolist()
    values_of = ov.sparks["value"].tolist()
    at: dict[str, list[int]] = {}
    for k, code in enumerate(codes):
        at.setdefault(code, []).append(k)
    spark = {}
    for code, ks in at.items():
        ks = sorted(ks, key=lambda k: months[k])
        spark[code] = ([values_of[k] for k in ks], [fmt_month(int(months[k]), lang) for k in ks])
    out = []
    for row in frame_rows(ov.cards):
        ind = cat.indicators[row.indicator]
        target = cat.target_for(ind, ov.unit, ov.period.end // 100)
        selected = ind.code == f.indicator
        values, labels = spark.get(ind.code, ([], []))
        body = [
            el(
                "Div",
                [
                    # The card answers "where is this indicator worst?": it sets the indicator
                    # of the attention list below (the whole card is the link's target).
                    el(
                        "Link",
                        [
                            el("Span", ind.name(lang)),
                            el("Span", f" {ind.code}", className="text-body-secondary small"),
                            el(
                                "Span",
                                f" ({t('kpi_selected', lang)})" if selected else "",
                                className="visually-hidden",
                            ),
                        ],
                        href=href("resumen", f.with_(indicator=ind.code)) + "#" + ATTENTION_ANCHOR,
                        className="kpi-title stretched-link",
                        title=t("kpi_card_hint", lang),
                        namespace="dash_core_components",
                    ),
                    indicator_info(
                        ind,
                        lang,
                        target=target,
                        elements=cat.data_elements,
                        align="end",
                    ),
                ],
                className="kpi-head mb-1",
            ),
            el(
                "Div",
                [
                    el(
                        "Span",
                        fmt_number(row.value, lang, ind.decimals),
                        className="kpi-value",
                    ),
                    el(
                        "Span",
                        percent_sign(lang) if ind.unit(lang) == "%" else f" {ind.unit(lang)}",
                        className="kpi-unit",
                    ),
                    quality_mark(row.quality, lang, ov.rules),
                ],
            ),
            el(
                "Div",
                [
                    status_badge(row.status, lang, uncertain=bool(row.quality)),
                    el("Span", target_text(ind, target, lang), className="kpi-target ms-2"),
                ],
            ),
            # A 12-month period's previous period is the year before: one line, not the same twice.
            None
            if same_span
            else el(
                "Div",
                change_text(row.value, row.prev_value, ind, lang, "vs_previous"),
                className="small",
            ),
            el(
                "Div",
                change_text(row.value, row.ly_value, ind, lang, "vs_last_year"),
                className="small",
            ),
            # Plain SVG from the server: the home page needs no plotly.js.
            el(
                "Img",
                src=data_uri(sparkline_svg(values)),
                alt=sparkline_alt(values, labels, ind.unit(lang), ind.decimals, lang),
                className="kpi-spark",
                width=240,
                height=48,
            ),
            el(
                "Div",
                [
                    el(
                        "Span",
                        [t("completeness", lang), ": ", completeness_text(row.completeness, lang)],
                        className="small text-body-secondary",
                    ),
                    el(
                        "Link",
                        [
                            t("see_trend", lang),
                            el("Span", f" · {ind.name(lang)}", className="visually-hidden"),
                        ],
                        href=href("tendencias", f.with_(indicator=ind.code)),
                        className="kpi-trend-link small",
                        namespace="dash_core_components",
                    ),
                ],
                className="d-flex flex-wrap justify-content-between gap-2",
            ),
        ]
        out.append(
            dbc.Col(
                dbc.Card(
                    dbc.CardBody(body),
                    className=f"kpi-card h-100 kpi-{row.status}"
                    + (" kpi-selected" if selected else ""),
                ),
                xs=12,
                sm=6,
                lg=3,
                className="mb-3",
            )
        )
    marked = any(bool(q) for q in ov.cards["quality"])
    return [dbc.Row(out, className="g-3"), quality_legend(lang) if marked else None]


def attention(ov: Overview, cat: Catalog, f: Filters, lang: str) -> list:
    ind = cat.indicators[f.indicator]
    level_key = {1: "level_regions", 2: "level_districts", 3: "level_facilities"}[
        ov.attention_level
    ]
    intro = html.Div(
        [
            t(
                "attention_intro",
                lang,
                indicator=ind.name(lang),
                level=t(level_key, lang),
                period=fmt_period(ov.period, lang),
            ),
            " ",
            indicator_info(
                ind,
                lang,
                target=cat.target_for(ind, ov.unit, ov.period.end // 100),
                elements=cat.data_elements,
            ),
        ],
        className="small mb-2",
    )
    if ov.attention.empty:
        return [intro, dbc.Alert(t("attention_none", lang), color="success")]
    rows = []
    for r in frame_rows(ov.attention):
        unit = cat.by_code[r.org_unit]
        link = unit_href("resumen", f, unit, cat)
        rows.append(
            html.Tr(
                [
                    html.Td(dcc.Link(unit.name, href=link)),
                    html.Td(
                        [value_text(r.value, ind, lang), quality_mark(r.quality, lang, ov.rules)],
                        className="text-end",
                    ),
                    html.Td(status_badge(r.status, lang, small=True, uncertain=bool(r.quality))),
                    html.Td(completeness_text(r.completeness, lang), className="text-end"),
                ]
            )
        )
    head = html.Thead(
        html.Tr(
            [
                html.Th(t(k, lang), scope="col", className=cls)
                for k, cls in (
                    ("col_unit", None),
                    ("col_value", "text-end"),
                    ("col_status", None),
                    ("col_completeness", "text-end"),
                )
            ]
        )
    )
    return [
        intro,
        dbc.Table(
            [head, html.Tbody(rows)],
            size="sm",
            hover=True,
            responsive=True,
            className="attention-table",
        ),
    ]
