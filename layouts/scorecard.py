"""Desempeño: the scorecard — child units × indicators, coloured and marked by status."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.catalog import Catalog, facility_type_name
from dashboard.figures import STATUS_SYMBOLS
from dashboard.filters import Filters, href, unit_href
from dashboard.i18n import fmt_number, fmt_period, t
from dashboard.missing import is_missing
from dashboard.views import Scorecard

from . import ids
from .components import (
    JUDGED,
    empty_state,
    loading,
    quality_label,
    quality_legend,
    quality_mark,
    status_word,
)
from .shell import DOMAINS

TREND_ARROWS = {"up": "↑", "down": "↓", "flat": "→", "": ""}


def layout(lang: str = "es", **_query) -> html.Div:
    return html.Div(
        [
            html.H1(t("page_desempeno", lang), id=ids.SCORE_TITLE, className="h3 mb-3"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.Div(
                                t("domain", lang), className="form-label small fw-semibold mb-1"
                            ),
                            html.Div(id=ids.SCORE_DOMAIN, className="chip-row"),
                        ],
                        md=True,
                        className="d-print-none",
                    ),
                ],
                className="mb-2 g-2 align-items-end",
            ),
            loading(ids.SCORE_TABLE),
            html.Div(id=ids.SCORE_NOTE, className="small text-body-secondary mt-2"),
        ]
    )


def domain_links(f: Filters, current: str) -> list:
    return [
        dcc.Link(
            t(f"domain_{d}", f.lang),
            href=href("desempeno", f.with_(domain=d, sort=None)),
            className="chip" + (" chip-on" if d == current else ""),
        )
        for d in DOMAINS
    ]


def _sort_link(label: str, key: str, f: Filters, page_sort: str | None) -> dcc.Link:
    """Header link: first click sorts worst/lowest first, a second click reverses."""
    current = page_sort or ""
    new = f"-{key}" if current == key else key
    arrow = " ▲" if current == key else (" ▼" if current == f"-{key}" else "")
    return dcc.Link(
        [label, html.Span(arrow, **{"aria-hidden": "true"})],
        href=href("desempeno", f.with_(sort=new)),
        className="sort-link",
        title=label,
    )


def table(sc: Scorecard, cat: Catalog, f: Filters, lang: str) -> list:
    if sc.rows.empty:
        return [empty_state(lang)]
    inds = sc.indicators
    facilities = sc.row_level == 3
    labels: dict[tuple, str] = {}
    head_cells = [
        html.Th(_sort_link("#", "rank", f, f.sort), scope="col", className="text-end"),
        html.Th(_sort_link(t("col_unit", lang), "org_unit_name", f, f.sort), scope="col"),
    ]
    if facilities:
        head_cells.append(html.Th(t("col_type", lang), scope="col"))
    for ind in inds:
        head_cells.append(
            html.Th(
                _sort_link(ind.code, ind.code, f, f.sort),
                scope="col",
                className="text-end ind-col",
                title=f"{ind.name(lang)} ({ind.unit(lang)})",
            )
        )
    body = []
    for row in sc.rows.to_dict("records"):
        unit = cat.by_code[row["org_unit"]]
        link = unit_href("desempeno", f, unit, cat, sort=None)
        name = unit.name
        cells = [
            html.Td(
                fmt_number(row["rank"], lang),
                className="text-end",
            ),
            html.Th(dcc.Link(name, href=link), scope="row"),
        ]
        if facilities:
            code = row["facility_type"]
            cells.append(
                html.Td(html.Abbr(code, title=facility_type_name(code, lang)) if code else "")
            )
        for ind in inds:
            v = row.get(f"{ind.code}|value")
            status = row.get(f"{ind.code}|status") or "no_data"
            if is_missing(v):
                cells.append(
                    html.Td(
                        "—",
                        className="score-cell status-no_data text-end",
                        title=t("no_data", lang),
                    )
                )
                continue
            trend = row.get(f"{ind.code}|trend") or ""
            quality = row.get(f"{ind.code}|quality")
            quality = quality if isinstance(quality, tuple) else ()
            doubt = bool(quality) and status in JUDGED
            # A region's grid repeats a handful of code sets: word each once per table.
            label = labels.get(quality) or labels.setdefault(
                quality, quality_label(quality, lang, sc.rules) if quality else ""
            )
            cells.append(
                html.Td(
                    [
                        html.Span(
                            STATUS_SYMBOLS[status] + ("?" if doubt else ""),
                            className="cell-symbol",
                            **{"aria-hidden": "true"},
                        ),
                        " ",
                        fmt_number(v, lang, ind.decimals),
                        quality_mark(quality, lang, focusable=False, label=label),
                        html.Span(
                            f" {TREND_ARROWS[trend]}",
                            className="cell-trend",
                            **{"aria-hidden": "true"},
                        )
                        if trend
                        else None,
                    ],
                    className=f"score-cell status-{status} text-end"
                    + (" uncertain" if doubt else ""),
                    title=f"{ind.name(lang)}: {status_word(status, lang, doubt)}"
                    + (f"; {t('trend_' + trend, lang)}" if trend else "")
                    + (f". {label}" if quality else ""),
                )
            )
        body.append(html.Tr(cells))
    caption = html.Caption(
        [
            t(
                "score_caption",
                lang,
                period=fmt_period(sc.period, lang),
                previous=fmt_period(sc.compare_to, lang),
            ),
            " ",
            html.Span(t("score_sort_hint", lang), className="screen-only"),
        ],
        className="small",
    )
    return [
        html.Div(
            dbc.Table(
                [caption, html.Thead(html.Tr(head_cells)), html.Tbody(body)],
                size="sm",
                bordered=True,
                hover=True,
                className="scorecard mb-1",
            ),
            className="table-responsive scorecard-wrap",
        )
    ]


def note(sc: Scorecard, lang: str) -> list:
    items = [html.Li(f"{i.code}: {i.name(lang)} ({i.unit(lang)})") for i in sc.indicators]
    return [
        html.P(t("score_legend", lang)),
        html.Ul(items, className="mb-1 columns-2"),
        quality_legend(lang),
    ]
