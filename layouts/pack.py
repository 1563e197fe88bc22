"""Informe regional: overview, map, facility scorecard and key trends, one printable page."""

from __future__ import annotations

from dash import html

from dashboard.catalog import Catalog
from dashboard.figures import small_multiples
from dashboard.i18n import fmt_period, t
from dashboard.views import PackTrends

from . import ids, map_page, overview, scorecard
from .components import graph


def layout(lang: str = "es", **_query) -> html.Div:
    return html.Div(
        [
            html.Section(overview.layout(lang), className="pack-section"),
            html.Section(map_page.layout(lang), className="pack-section page-break"),
            html.Section(
                [html.H2(t("pack_facilities", lang), className="h4"), scorecard.layout(lang)],
                className="pack-section page-break",
            ),
            html.Section(
                [
                    html.H2(t("pack_trends", lang), className="h4"),
                    graph(ids.PACK_TRENDS, height=480),
                ],
                className="pack-section page-break",
            ),
        ],
        className="pack",
    )


def trends_figure(pt: PackTrends, cat: Catalog, lang: str) -> dict:
    from dashboard.periods import split

    months = split(pt.period, "month")
    labels = [fmt_period(m, lang) for m in months]
    panels = []
    for ind in pt.indicators:
        mine = pt.series[pt.series.indicator == ind.code].set_index("period")["value"]
        nat = pt.national[pt.national.indicator == ind.code].set_index("period")["value"]
        target = cat.target_for(ind, pt.unit, pt.period.end // 100)
        panels.append(
            {
                "title": _short(f"{ind.code} {ind.name(lang)}", 34),
                "values": [mine.get(m.id) for m in months],
                "national": [nat.get(m.id) for m in months] if len(nat) else None,
                "target": target.target if ind.direction != "band" else None,
            }
        )
    return small_multiples(panels, x_labels=labels, lang=lang, national_label="Paraguay")


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"
