"""Small pure component builders shared by the pages (data in, components out)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.catalog import Indicator
from dashboard.figures import STATUS_SYMBOLS, empty_figure
from dashboard.i18n import fmt_number, fmt_percent, fmt_value, t
from dashboard.missing import is_missing
from dashboard.quality import QualityRules, quality_text, quality_words

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


def status_badge(status: str, lang: str, small: bool = False, uncertain: bool = False) -> html.Span:
    """Status by symbol and word as well as colour (grey-scale prints and colour-blind readers).
    An uncertain status (a quality problem under the value) is outlined, not filled, and asks."""
    doubt = uncertain and status in JUDGED
    return html.Span(
        [
            html.Span(STATUS_SYMBOLS[status], **{"aria-hidden": "true"}),
            " ",
            status_word(status, lang, doubt),
        ],
        className=f"status-badge status-{status}"
        + (" small" if small else "")
        + (" uncertain" if doubt else ""),
    )


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
) -> html.Span | None:
    """One discreet mark beside a value with data-quality codes (None when none applies):
    its title explains it on hover, its label to screen readers, and it takes the keyboard
    focus (not in the scorecard's grid of cells, where the cell's title says it)."""
    if not codes:
        return None
    label = label or quality_label(codes, lang, rules)
    extra = {"tabIndex": 0} if focusable else {}
    return html.Span(
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
        ],
        className="dq-legend small text-body-secondary",
    )


def value_text(v, ind, lang: str) -> str:
    return fmt_value(v, ind.unit(lang), lang, ind.decimals)


def change_text(
    now: float | None, before: float | None, ind: Indicator, lang: str, label_key: str
) -> html.Span:
    """'▲ +2,3 vs. T2 2025' with the direction judged good or bad for this indicator."""
    if now is None or before is None or is_missing(now) or is_missing(before):
        return html.Span(t(label_key, lang) + ": —", className="change muted")
    diff = now - before
    arrow = "▲" if diff > 0 else ("▼" if diff < 0 else "■")
    good = None
    if ind.direction == "up":
        good = diff > 0
    elif ind.direction == "down":
        good = diff < 0
    cls = "change " + ("good" if good else "bad" if good is not None and diff != 0 else "muted")
    sign = "+" if diff > 0 else ""
    return html.Span(
        [
            html.Span(arrow, **{"aria-hidden": "true"}),
            f" {sign}{fmt_number(diff, lang, ind.decimals)} ",
            t(label_key, lang),
        ],
        className=cls,
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
