"""Desempeño: the scorecard — child units × indicators, coloured and marked by status."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.catalog import Catalog, facility_type_name
from dashboard.figures import CHANGE_ARROWS, STATUS_SYMBOLS, VERDICT_CLASS, change_verdict
from dashboard.filters import Filters, href, unit_href
from dashboard.frames import frame_records
from dashboard.i18n import fmt_number, fmt_period, t
from dashboard.missing import is_missing
from dashboard.quality import quality_words
from dashboard.views import Scorecard

from . import ids
from .components import (
    JUDGED,
    QUALITY_SYMBOL,
    empty_state,
    indicator_info,
    loading,
    quality_label,
    quality_legend,
    status_word,
)
from .shell import DOMAINS
from .wire import el


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


# Rows sent per page: a region's facilities (Central's 2,065 USF) become pages the browser draws
# at once, rather than one Dash component per cell for every row (37,000 cost 1.4 s a callback).
# Fifty, as DHIS2's lists: the worst come first, a page is about two laptop screens, and each
# change of area, sort or page costs half of what a hundred rows did (on the server, on the wire).
PAGE_ROWS = 50


def domain_links(f: Filters, current: str, cat: Catalog) -> list:
    """Area chips. Choosing an area also chooses its first indicator (unless the current one is
    in it), so the "#" column and the header's "Mostrando" line name the same indicator."""
    links = []
    for d in DOMAINS:
        ind = f.indicator
        if cat.indicators[ind].domain != d:
            ind = next((i.code for i in cat.indicators.values() if i.domain == d), ind)
        links.append(
            dcc.Link(
                t(f"domain_{d}", f.lang),
                href=href("desempeno", f.with_(domain=d, indicator=ind, sort=None, page=1)),
                className="chip" + (" chip-on" if d == current else ""),
            )
        )
    return links


def _sort_link(
    label, key: str, f: Filters, page_sort: str | None, title: str, **changes: object
) -> dcc.Link:
    """Header link: first click sorts worst/lowest first, a second click reverses."""
    current = page_sort or ""
    new = f"-{key}" if current == key else key
    arrow = " ▲" if current == key else (" ▼" if current == f"-{key}" else "")
    return dcc.Link(
        [
            *(label if isinstance(label, list) else [label]),
            html.Span(arrow, **{"aria-hidden": "true"}),
        ],
        href=href("desempeno", f.with_(sort=new, page=1, **changes)),
        className="sort-link",
        title=title,
    )


def _aria_sort(key: str, page_sort: str | None) -> dict:
    if page_sort == key:
        return {"aria-sort": "ascending"}
    if page_sort == f"-{key}":
        return {"aria-sort": "descending"}
    return {}


def pager(
    f: Filters, n_rows: int, page: int, size: int, lang: str, landmark: bool = True
) -> html.Nav | html.Div | None:
    """Rows shown ("Filas 101–200 de 2.065") and links to the first, previous, next, last page."""
    last = max(1, -(-n_rows // size))
    if last == 1:
        return None
    first_row, last_row = (page - 1) * size + 1, min(page * size, n_rows)

    def link(label: str, target: int, key: str):
        if target == page or not 1 <= target <= last:
            return html.Span(label, className="pager-off", **{"aria-disabled": "true"})
        return dcc.Link(
            label,
            href=href("desempeno", f.with_(page=target)),
            title=t(key, lang, page=fmt_number(target, lang), pages=fmt_number(last, lang)),
        )

    # One navigation landmark per table; the copy under it is a plain block.
    return (html.Nav if landmark else html.Div)(
        [
            html.Span(
                t(
                    "score_rows_shown",
                    lang,
                    first=fmt_number(first_row, lang),
                    last=fmt_number(last_row, lang),
                    total=fmt_number(n_rows, lang),
                    page=fmt_number(page, lang),
                    pages=fmt_number(last, lang),
                ),
                className="pager-status",
            ),
            html.Span(
                [
                    link("« " + t("pager_first", lang), 1, "pager_page_title"),
                    link("‹ " + t("pager_previous", lang), page - 1, "pager_page_title"),
                    link(t("pager_next", lang) + " ›", page + 1, "pager_page_title"),
                    link(t("pager_last", lang) + " »", last, "pager_page_title"),
                ],
                className="pager-links d-print-none",
            ),
        ],
        className="score-pager small",
        **({"aria-label": t("pager_label", lang)} if landmark else {}),
    )


def table(sc: Scorecard, cat: Catalog, f: Filters, lang: str) -> list:
    if sc.rows.empty:
        return [empty_state(lang)]
    inds = sc.indicators
    facilities = sc.row_level == 3
    ranked = sc.ranked_by or inds[0]
    # A region's grid repeats a handful of quality code sets: word each once per table.
    labels: dict[tuple, str] = {}
    shorts: dict[tuple, str] = {}
    n_rows = len(sc.rows)
    size, page = sc.page_rows, sc.page
    rows = sc.rows.iloc[(page - 1) * size : page * size] if size else sc.rows
    rank_title = t("score_rank_by", lang, indicator=f"{ranked.name(lang)} ({ranked.code})")
    head_cells = [
        html.Th(
            _sort_link(
                ["#", html.Span(ranked.code, className="col-code")],
                "rank",
                f,
                f.sort,
                rank_title,
            ),
            scope="col",
            className="text-end",
            **{"data-col": "rank"},
            **_aria_sort("rank", f.sort),
        ),
        html.Th(
            _sort_link(t("col_unit", lang), "org_unit_name", f, f.sort, t("col_unit", lang)),
            scope="col",
            **{"data-col": "org_unit_name"},
            **_aria_sort("org_unit_name", f.sort),
        ),
    ]
    if facilities:
        head_cells.append(html.Th(t("col_type", lang), scope="col", **{"data-col": "type"}))
    for ind in inds:
        head_cells.append(
            html.Th(
                [
                    _sort_link(
                        [
                            html.Span(ind.name(lang), className="col-name"),
                            html.Span(ind.code, className="col-code"),
                        ],
                        ind.code,
                        f,
                        f.sort,
                        f"{ind.name(lang)} ({ind.unit(lang)}) · {ind.code}",
                        # Sorting by a column also ranks by it: "#" and the header line follow.
                        indicator=ind.code,
                    ),
                    indicator_info(ind, lang, elements=cat.data_elements, align="end"),
                ],
                scope="col",
                className="text-end ind-col",
                **{"data-col": ind.code},
                **_aria_sort(ind.code, f.sort),
            )
        )
    first_page = f.with_(page=1)  # a district's row opens its own scorecard at its first page
    # Each indicator's column names, spelt once per table rather than once per cell.
    columns = [
        (i, f"{i.code}|value", f"{i.code}|status", f"{i.code}|trend", f"{i.code}|quality")
        for i in inds
    ]
    body = [
        _row(row, columns, cat, first_page, lang, facilities, sc, (labels, shorts, {}))
        for row in frame_records(rows)
    ]
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
    nav = pager(f, n_rows, page, size, lang) if size else None
    nav_below = pager(f, n_rows, page, size, lang, landmark=False) if size else None
    return [
        html.P(rank_title, className="small text-body-secondary mb-1 score-rank-by"),
        nav,
        html.Div(
            dbc.Table(
                [caption, html.Thead(html.Tr(head_cells)), html.Tbody(body)],
                size="sm",
                bordered=True,
                hover=True,
                className="scorecard mb-1",
            ),
            className="table-responsive scorecard-wrap",
        ),
        nav_below,
    ]


def _row(
    row: dict, columns, cat: Catalog, f: Filters, lang: str, facilities: bool, sc, words: tuple
) -> dict:
    labels, shorts, titles = words  # kept per table: a page repeats the same few words
    unit = cat.by_code[row["org_unit"]]
    link = unit_href("desempeno", f, unit, cat, sort=None)
    cells = [
        el("Td", fmt_number(row["rank"], lang), className="text-end"),
        el(
            "Th",
            el("Link", unit.name, namespace="dash_core_components", href=link),
            scope="row",
        ),
    ]
    if facilities:
        code = row["facility_type"]
        cells.append(
            el("Td", el("Abbr", code, title=facility_type_name(code, lang)) if code else "")
        )
    for ind, value_col, status_col, trend_col, quality_col in columns:
        v = row.get(value_col)
        status = row.get(status_col) or "no_data"
        if is_missing(v):
            no_data = titles.get("no_data") or titles.setdefault("no_data", t("no_data", lang))
            cells.append(
                el("Td", "—", className="score-cell status-no_data text-end", title=no_data)
            )
            continue
        trend = row.get(trend_col) or ""
        quality = row.get(quality_col)
        quality = quality if isinstance(quality, tuple) else ()
        doubt = bool(quality) and status in JUDGED
        label = labels.get(quality) or labels.setdefault(
            quality, quality_label(quality, lang, sc.rules) if quality else ""
        )
        children: list = [
            el(
                "Span",
                STATUS_SYMBOLS[status] + ("?" if doubt else ""),
                className="cell-symbol",
                **{"aria-hidden": "true"},
            ),
            " " + fmt_number(v, lang, ind.decimals),
        ]
        if quality:
            # Screen readers hear the warning and its kinds; the cell's title (hover) and the
            # legend under the table say what each means (in full once per cell, not twice).
            short = shorts.get(quality) or shorts.setdefault(
                quality,
                t("dq_mark_label", lang, words=quality_words(quality, lang), detail="").strip(),
            )
            children.append(
                el("Span", QUALITY_SYMBOL, role="img", className="dq-mark", **{"aria-label": short})
            )
        verdict = ""
        if trend:
            # Coloured and worded as better or worse for this indicator (a rising dropout
            # rate is worse), as on the cards: the arrow for the eye, the word for the ear.
            judged = change_verdict(ind.direction, trend)
            verdict = titles.get(judged) or titles.setdefault(
                judged, f" ({t('change_' + judged, lang)})"
            )
            children += [
                el(
                    "Span",
                    f" {CHANGE_ARROWS[trend]}",
                    className=f"cell-trend {VERDICT_CLASS[judged]}",
                    **{"aria-hidden": "true"},
                ),
                el("Span", verdict, className="visually-hidden"),
            ]
        cells.append(
            el(
                "Td",
                children,
                className=f"score-cell status-{status} text-end" + (" uncertain" if doubt else ""),
                title=_title(
                    titles, ind, status, doubt, trend, verdict, label if quality else None, lang
                ),
            )
        )
    return el("Tr", cells)


def _title(titles: dict, ind, status: str, doubt: bool, trend: str, verdict: str, label, lang):
    """A cell's hover text, made once per table for each combination (a page has ~1,700
    cells and a few dozen different titles)."""
    key = (ind.code, status, doubt, trend, verdict, label)
    hit = titles.get(key)
    if hit is None:
        hit = titles[key] = (
            f"{ind.name(lang)}: {status_word(status, lang, doubt)}"
            + (f"; {t('trend_' + trend, lang)}{verdict}" if trend else "")
            + (f". {label}" if label is not None else "")
        )
    return hit


def note(sc: Scorecard, lang: str) -> list:
    items = [html.Li(f"{i.code}: {i.name(lang)} ({i.unit(lang)})") for i in sc.indicators]
    return [
        html.P(t("score_legend", lang)),
        html.Ul(items, className="mb-1 columns-2"),
        quality_legend(lang),
    ]
