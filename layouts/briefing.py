"""Lo más importante del mes: the briefing's findings as a short list of linked sentences."""

from __future__ import annotations

from dash import dcc, html

from dashboard.briefing import Briefing
from dashboard.filters import Filters
from dashboard.i18n import fmt_period, t

from . import ids
from .components import loading

KIND_SYMBOL = {
    "status_worse": "✖",
    "deterioration": "↘",
    "children_below": "✖",
    "not_reporting": "!",
    "quality": "!",
    "sdg_off_track": "◎",
    "status_better": "✔",
}


def layout(lang: str = "es", **_query) -> html.Section:
    return html.Section(loading(ids.BRIEFING), className="briefing mb-3", **{"aria-live": "polite"})


def findings(b: Briefing, f: Filters, lang: str) -> list:
    title = html.H2(t("brief_title", lang, period=fmt_period(b.period, lang)), className="h5 mb-2")
    if not b.findings:
        return [title, html.P(t("brief_none", lang), className="mb-1")]
    items = [
        html.Li(
            [
                html.Span(
                    KIND_SYMBOL.get(x.kind, "•"), className="brief-mark", **{"aria-hidden": "true"}
                ),
                " ",
                dcc.Link(x.text(lang), href=x.href(f)),
            ],
            className=f"brief-{x.kind}",
        )
        for x in b.findings
    ]
    return [
        title,
        html.Ol(items, className="brief-list mb-1"),
        html.P(t("brief_note", lang), className="small text-body-secondary mb-0"),
    ]
