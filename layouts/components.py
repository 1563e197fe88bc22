"""Small pure component builders shared by the pages (data in, components out)."""

from __future__ import annotations

from collections.abc import Mapping

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.catalog import DataElement, Expression, Indicator, Target
from dashboard.figures import (
    CHANGE_ARROWS,
    STATUS_SYMBOLS,
    VERDICT_CLASS,
    change_verdict,
    empty_figure,
)
from dashboard.i18n import NBSP, fmt_number, fmt_percent, fmt_value, t
from dashboard.missing import is_missing
from dashboard.quality import QualityRules, quality_text, quality_words

from .wire import el

QUALITY_SYMBOL = "!"
# Statuses a quality problem makes uncertain (no data and no target claim nothing).
JUDGED = ("met", "near", "not_met")

GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def status_word(status: str, lang: str, uncertain: bool = False) -> str:
    """'Cumple', or '¿Cumple?' when the value under it has a data-quality problem."""
    word = t(f"status_{status}", lang)
    return t("status_uncertain", lang, status=word) if uncertain and status in JUDGED else word


def status_badge(
    status: str, lang: str, small: bool = False, uncertain: bool = False, wire: bool = False
):
    """Status by symbol and word as well as colour (grey-scale prints and colour-blind readers).
    An uncertain status (a quality problem under the value) is outlined, not filled, and asks.
    `wire`: in Dash's wire form (layouts.wire), for tables of many rows."""
    doubt = uncertain and status in JUDGED
    span = el if wire else _span
    return span(
        "Span",
        [
            span("Span", STATUS_SYMBOLS[status], **{"aria-hidden": "true"}),
            " ",
            status_word(status, lang, doubt),
        ],
        className=f"status-badge status-{status}"
        + (" small" if small else "")
        + (" uncertain" if doubt else ""),
    )


def _span(_tag: str, children=None, **props) -> html.Span:
    return html.Span(children, **props)


def quality_label(codes, lang: str, rules: QualityRules | None = None) -> str:
    """The mark's words for a title or a screen reader: the codes, then what each means."""
    return t(
        "dq_mark_label",
        lang,
        words=quality_words(codes, lang),
        detail=quality_text(codes, lang, rules),
    )


def quality_mark(
    codes,
    lang: str,
    rules: QualityRules | None = None,
    focusable: bool = True,
    label: str | None = None,
    wire: bool = False,
):
    """One discreet mark beside a value with data-quality codes (None when none applies):
    its title explains it on hover, its label to screen readers, and it takes the keyboard
    focus (not in the scorecard's grid of cells, where the cell's title says it). `wire`: in
    Dash's wire form (layouts.wire)."""
    if not codes:
        return None
    label = label or quality_label(codes, lang, rules)
    extra = {"tabIndex": 0} if focusable else {}
    return (el if wire else _span)(
        "Span",
        QUALITY_SYMBOL,
        role="img",
        title=label,
        className="dq-mark",
        **{"aria-label": label},
        **extra,
    )


def quality_legend(lang: str) -> html.P:
    return html.P(
        [
            html.Span(QUALITY_SYMBOL, className="dq-mark", **{"aria-hidden": "true"}),
            " ",
            t("dq_legend", lang),
            # Hovering and focusing mean nothing on paper (assets/20-print.css hides it there).
            html.Span(" " + t("dq_legend_hint", lang), className="screen-only"),
        ],
        className="dq-legend small text-body-secondary",
    )


def value_text(v, ind, lang: str) -> str:
    return fmt_value(v, ind.unit(lang), lang, ind.decimals)


def change_text(
    now: float | None, before: float | None, ind: Indicator, lang: str, label_key: str
) -> html.Span:
    """'↑ +2,3 vs. T2 2025', coloured and worded (for screen readers) as better or worse for this
    indicator: a rising coverage is better, a rising dropout rate worse. ↑/↓ say change over
    time only (▲/▼ are sort marks, ◆ is the status "near")."""
    if now is None or before is None or is_missing(now) or is_missing(before):
        return html.Span(t(label_key, lang) + ": —", className="change muted")
    diff = now - before
    move = "up" if diff > 0 else "down" if diff < 0 else "flat"
    arrow = CHANGE_ARROWS[move]
    judged = change_verdict(ind.direction, move)
    verdict, cls = t(f"change_{judged}", lang), VERDICT_CLASS[judged]
    sign = "+" if diff > 0 else ""
    return html.Span(
        [
            html.Span(arrow, **{"aria-hidden": "true"}),
            f" {sign}{fmt_number(diff, lang, ind.decimals)} ",
            html.Span(f"({verdict}) ", className="visually-hidden"),
            t(label_key, lang),
        ],
        className="change " + cls,
        title=verdict,
    )


def _expression_text(expr: Expression, elements: Mapping[str, DataElement] | None, lang: str):
    """'Dosis Penta 3 (PENTA3) − …': data element names when known, codes always."""
    parts = []
    for i, (coef, code) in enumerate(expr.terms):
        el = elements.get(code) if elements else None
        name = (el.name_en if lang == "en" else el.name_es) if el else code
        word = f"{name} ({code})" if el else code
        if abs(coef) != 1:
            word = f"{fmt_number(abs(coef), lang, 2).rstrip('0').rstrip(',.')} × {word}"
        sign = ("− " if coef < 0 else "+ ") if i else ("− " if coef < 0 else "")
        parts.append(sign + word)
    return " ".join(parts)


def target_lines(ind: Indicator, target: Target, lang: str) -> tuple[str, str]:
    """(target, near threshold) in words: ('≥ 90 %', '≥ 80 % and below the target')."""
    pct = ind.unit(lang) == "%"

    def num(v: float) -> str:
        return fmt_value(v, "%" if pct else "", lang, ind.decimals).strip()

    if ind.direction == "band":
        if target.band_low is None or target.band_high is None:
            return t("target_none", lang), "—"
        goal = t("info_between", lang, low=num(target.band_low), high=num(target.band_high))
        if target.near is None:
            return goal, "—"
        return goal, t("info_near_band", lang, margin=num(target.near))
    if target.target is None:
        return t("target_none", lang), "—"
    sign = "≥" if ind.direction == "up" else "≤"
    goal = f"{sign}{NBSP}{num(target.target)}"
    if target.near is None:
        return goal, "—"
    return goal, t(
        "info_near_up" if ind.direction == "up" else "info_near_down",
        lang,
        value=f"{sign}{NBSP}{num(target.near)}",
    )


def indicator_info(
    ind: Indicator,
    lang: str,
    *,
    target: Target | None = None,
    elements: Mapping[str, DataElement] | None = None,
    align: str = "start",
) -> dict:
    """The (i) beside an indicator's name, wherever it is shown (card, column header, map or
    chart title, facility profile): a native <details> (keyboard and screen-reader friendly, no
    script, sent in wire form) that opens the definition: what it measures, numerator, denominator, factor, unit,
    target, the "near" threshold, the target's source, and whether higher is better.

    ind: the catalogue's indicator. lang: 'es' or 'en'.
    target: the target that applies to the unit and year shown (Catalog.target_for); the
        indicator's default target when None.
    elements: Catalog.data_elements, to name the numerator's and denominator's data elements
        (codes alone without it).
    align: 'start' opens the box to the right of the mark, 'end' to its left (for a mark near
        the right edge of the screen or of a table)."""
    tg = target or ind.target
    goal, near = target_lines(ind, tg, lang)
    rows = [
        ("info_numerator", _expression_text(ind.numerator, elements, lang)),
        ("info_denominator", _expression_text(ind.denominator, elements, lang)),
        ("info_factor", f"× {fmt_number(ind.factor, lang, 0)} ({ind.unit(lang)})"),
        ("info_target", goal),
        ("info_near", near),
        ("info_direction", t(f"info_direction_{ind.direction}", lang)),
        ("info_source", tg.source or "—"),
    ]
    label = t("info_label", lang, indicator=ind.name(lang))
    # In wire form (layouts.wire): a page shows one of these beside every card and column.
    return el(
        "Details",
        [
            el(
                "Summary",
                [
                    el("Span", "i", className="info-mark", **{"aria-hidden": "true"}),
                    el("Span", label, className="visually-hidden"),
                ],
                title=label,
                className="info-summary",
            ),
            el(
                "Div",
                [
                    el(
                        "P",
                        [
                            el("Strong", f"{ind.name(lang)} ({ind.code})"),
                            el("Br"),
                            ind.definition(lang),
                        ],
                        className="mb-1",
                    ),
                    el(
                        "Dl",
                        [
                            item
                            for key, value in rows
                            for item in (el("Dt", t(key, lang)), el("Dd", value))
                        ],
                        className="info-list mb-0",
                    ),
                ],
                className="info-body",
            ),
        ],
        className="ind-info" + (" ind-info-end" if align == "end" else ""),
    )


def graph(graph_id: str, height: int = 360, **kwargs) -> dcc.Loading:
    """A figure with a loading indicator; starts with an explicit 'loading' empty state."""
    return dcc.Loading(
        dcc.Graph(
            id=graph_id,
            config=kwargs.pop("config", GRAPH_CONFIG),
            figure=empty_figure("", height),
            style={"height": f"{height}px"},
            **kwargs,
        ),
        type="default",
        delay_show=150,
    )


def loading(children_id: str, **kwargs) -> dcc.Loading:
    return dcc.Loading(html.Div(id=children_id, **kwargs), type="default", delay_show=150)


def empty_state(lang: str, detail: str | None = None) -> dbc.Alert:
    return dbc.Alert(
        [html.Strong(t("empty_title", lang)), html.Br(), detail or t("empty_detail", lang)],
        color="secondary",
        className="empty-state",
    )


def error_state(lang: str) -> dbc.Alert:
    """What a user sees when something fails: no traceback, a way forward."""
    return dbc.Alert(
        [html.Strong(t("error_title", lang)), html.Br(), t("error_detail", lang)],
        color="danger",
        className="error-state",
    )


def db_state(kind: str, lang: str) -> dbc.Alert:
    """The database is down ('unavailable') or a query ran out of time ('timeout')."""
    return dbc.Alert(
        [html.Strong(t(f"db_{kind}_title", lang)), html.Br(), t(f"db_{kind}_detail", lang)],
        color="warning",
        className="error-state db-state",
    )


def completeness_text(v, lang: str) -> str:
    return fmt_percent(v, lang, 1)
