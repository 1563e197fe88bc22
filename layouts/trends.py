"""Tendencias: an indicator over time for the selected unit, the nation, the target, other regions."""

from __future__ import annotations

from dash import dcc, html

from dashboard.catalog import Catalog
from dashboard.disclosure import count_text
from dashboard.figures import trend_figure
from dashboard.filters import Filters, href
from dashboard.i18n import fmt_percent, fmt_period, fmt_value, t
from dashboard.missing import is_missing
from dashboard.periods import enclosing, split
from dashboard.quality import quality_words
from dashboard.views import INCOMPLETE_BELOW, Trends

from . import ids
from .components import QUALITY_SYMBOL, graph


def layout(lang: str = "es", **_query) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.H1(t("page_tendencias", lang), id=ids.TREND_TITLE, className="h3 mb-0"),
                    html.Span(id=ids.TREND_TITLE_INFO),
                ],
                className="d-flex align-items-start gap-1 mb-3 title-with-info",
            ),
            html.Div(id=ids.TREND_FACILITY, className="mb-2 d-flex flex-wrap align-items-center"),
            html.Div(
                [
                    html.Div(t("grain", lang), className="form-label small fw-semibold mb-1"),
                    html.Div(id=ids.TREND_GRAIN, className="mb-2"),
                    html.Div(
                        t("compare_regions", lang), className="form-label small fw-semibold mb-1"
                    ),
                    html.Div(id=ids.TREND_COMPARE, className="mb-2 chip-row"),
                ],
                className="d-print-none",
            ),
            graph(ids.TREND_GRAPH, height=420),
            html.Div(id=ids.TREND_NOTE, className="small text-body-secondary mt-2"),
        ]
    )


def grain_links(f: Filters) -> html.Div:
    """Month / quarter / year as links: each is a shareable URL and works from the keyboard."""
    return html.Div(
        [
            dcc.Link(
                t(f"grain_{g}", f.lang),
                href=href("tendencias", f.with_(grain=g)),
                className="btn btn-sm "
                + ("btn-primary" if f.grain == g else "btn-outline-primary"),
            )
            for g in ("month", "quarter", "year")
        ],
        className="btn-group",
        role="group",
        **{"aria-label": t("grain", f.lang)},
    )


def compare_links(f: Filters, regions) -> list:
    """Toggle chips: a region in the comparison links to the view without it, and back. The
    selected unit itself is never offered (it is already the chart's main line)."""
    out = []
    # A region's own chart, or a facility's (its region is drawn already): not offered again.
    own = {f.region} if not f.district or f.facility else set()
    for u in regions:
        if u.code in own:
            continue
        on = u.code in f.compare
        new = tuple(c for c in f.compare if c != u.code) if on else (*f.compare, u.code)[:6]
        out.append(
            dcc.Link(
                ("✓ " if on else "") + u.name,
                href=href("tendencias", f.with_(compare=new)),
                className="chip" + (" chip-on" if on else ""),
            )
        )
    return out


def facility_chip(f: Filters, tr: Trends) -> list:
    """When the chart follows one facility: say so, with a link back to its district's trend."""
    if not f.facility or tr.unit.level != 3:
        return []
    return [
        html.Span(t("trend_facility", f.lang, name=tr.unit.name), className="me-2"),
        dcc.Link(
            "× " + t("trend_facility_clear", f.lang),
            href=href("tendencias", f.with_(facility=None)),
            className="chip",
        ),
    ]


def figure(tr: Trends, cat: Catalog, lang: str, grain: str) -> dict:
    ind = tr.indicator
    buckets = list(tr.buckets) or split(tr.period, grain)
    labels = [fmt_period(b, lang) for b in buckets]
    partial_hover = None
    if tr.partial is not None:
        whole = enclosing(tr.partial, grain)
        # "2026 (parcial)" on two lines: it never runs into the label before it on a phone.
        labels[-1] = t("partial_period", lang, period=fmt_period(whole, lang)).replace(
            " (", "<br>(", 1
        )
        partial_hover = t(
            "partial_detail",
            lang,
            months=fmt_period(tr.partial, lang),
            n=tr.partial.n_months,
            total=whole.n_months,
        )
    series = []
    for role in ("selected", "region", "national", "compare"):
        for _, grp in tr.series[tr.series.role == role].groupby("org_unit", sort=False):
            by_period = grp.set_index("period")
            values, hover, incomplete = [], [], []
            name = grp.org_unit_name.iloc[0]
            for b, label in zip(buckets, labels, strict=True):
                row = by_period.loc[b.id] if b.id in by_period.index else None
                v = None if row is None or is_missing(row.value) else float(row.value)
                comp = (
                    None if row is None or is_missing(row.completeness) else float(row.completeness)
                )
                values.append(v)
                incomplete.append(comp is not None and comp < INCOMPLETE_BELOW)
                hover.append(
                    f"<b>{name}</b> · {label}<br>{fmt_value(v, ind.unit(lang), lang, ind.decimals)}"
                    + (f"<br>{partial_hover}" if partial_hover and b == tr.partial else "")
                    + (
                        f"<br>{t('numerator', lang)}: {count_text(row, 'numerator', lang)} · {t('denominator', lang)}: {count_text(row, 'denominator', lang)}"
                        if v is not None
                        else f"<br>{t('no_data', lang)}"
                    )
                    + f"<br>{t('completeness', lang)}: {fmt_percent(comp, lang)}"
                    + (
                        f" — {t('incomplete', lang)}"
                        if comp is not None and comp < INCOMPLETE_BELOW
                        else ""
                    )
                    + (
                        f"<br>{QUALITY_SYMBOL} {quality_words(row.quality, lang)}"
                        if row is not None and row.quality
                        else ""
                    )
                )
            series.append(
                {
                    "name": name,
                    "values": values,
                    "hover": hover,
                    "incomplete": incomplete,
                    "role": role,
                }
            )
    highlight = None
    if tr.selected is not None:
        ids_ = [b.start for b in buckets]
        if tr.selected.start in ids_:
            highlight = (ids_.index(tr.selected.start), len(buckets) - 1)
    return trend_figure(
        series,
        x_labels=labels,
        target=tr.target if ind.direction != "band" else None,
        band=tr.band if ind.direction == "band" else (None, None),
        target_label=t("target", lang),
        band_label=t("target_band_label", lang),
        incomplete_label=t("incomplete_marker", lang, pct=int(INCOMPLETE_BELOW)),
        partial_label=t("partial_legend", lang),
        partial_last=tr.partial is not None,
        highlight=highlight,
        highlight_label=t("trend_selected_period", lang) if highlight else "",
        y_title=ind.unit(lang),
        lang=lang,
        height=420,
        max_ticks=8 if grain == "month" else 12,  # every quarter and year is labelled
    )


def note(tr: Trends, lang: str) -> str:
    text = t(
        "trend_note", lang, definition=tr.indicator.definition(lang), pct=int(INCOMPLETE_BELOW)
    )
    marked = any(bool(q) for q in tr.series["quality"]) if len(tr.series) else False
    return f"{text} {t('dq_legend', lang)} {t('dq_legend_hint', lang)}" if marked else text
