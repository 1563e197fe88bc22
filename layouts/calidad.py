"""Calidad: the WHO Data Quality Review of the selected region or district, one table a metric.
(Its cells in wire form, layouts.wire: a national review is some 800 of them.)"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from dashboard.catalog import Catalog
from dashboard.dqr import DENOMINATOR, RELATIONS, SHOWN_OUTLIERS, TRACERS, Review, summary
from dashboard.filters import Filters
from dashboard.frames import frame_rows
from dashboard.i18n import NBSP, fmt_month, fmt_number, fmt_percent, fmt_period, percent_sign, t
from dashboard.missing import is_missing

from . import ids
from .wire import el

FLAG = "⚑"


def layout(lang: str = "es", **_query) -> html.Div:
    return html.Div(
        [
            html.H1(t("page_calidad", lang), id=ids.CAL_TITLE, className="h3 mb-2"),
            html.P(t("dqr_intro", lang), className="small text-body-secondary mb-3"),
            # "print-wait" until the callback fills it: the PDF prints the filled page.
            html.Div(id=ids.CAL_BODY, className="print-wait"),
        ]
    )


def element_name(cat: Catalog, code: str, lang: str) -> str:
    d = cat.data_elements.get(code)
    if d is None:
        return code
    return d.name_en if lang == "en" else d.name_es


def _num(v, lang: str, decimals: int = 0) -> str:
    return "—" if is_missing(v) else fmt_number(float(v), lang, decimals)


def _pct(v, lang: str) -> str:
    return "—" if is_missing(v) else fmt_percent(float(v), lang)


# A summary row's threshold: (sign, decimals, a percentage?) by metric. A relation sign stands
# apart from its number (as the KPI cards' targets), "±" sticks to it; the percent sign is the
# language's own (i18n.percent_sign: "90%" in English, "90 %" with a no-break space in Spanish).
THRESHOLDS = {
    "1a": ("≤" + NBSP, 0, True),
    "1b": ("≤" + NBSP, 0, True),
    "2a": ("z ≥" + NBSP, 1, False),
    "2b": ("z ≥" + NBSP, 1, False),
    "2d": ("±", 0, True),
    "2e": ("<" + NBSP, 0, True),
    "4a": ("±", 0, True),
}


def threshold_text(metric: str, threshold: float, lang: str) -> str:
    """'≤ 90%' / '±33%' in English, '≤ 90 %' / '±33 %' in Spanish."""
    sign, decimals, percent = THRESHOLDS[metric]
    number = fmt_number(threshold, lang, decimals)
    return sign + number + (percent_sign(lang) if percent else "")


def _flagged(text: str, flag: bool, lang: str) -> dict:
    """A cell whose value breaks the threshold: the flag says so in words for screen readers."""
    if not flag:
        return el("Td", text, className="text-end")
    return el(
        "Td",
        [
            el("Span", FLAG + " ", className="dqr-flag", **{"aria-hidden": "true"}),
            text,
            el("Span", " " + t("dqr_flagged", lang), className="visually-hidden"),
        ],
        className="text-end dqr-off",
        title=t("dqr_flagged", lang),
    )


def _table(caption: str, head: list[str], rows: list, numeric_from: int = 1) -> html.Div:
    th = [
        el("Th", h, scope="col", className="text-end" if k >= numeric_from else None)
        for k, h in enumerate(head)
    ]
    return html.Div(
        dbc.Table(
            [
                html.Caption(caption, className="small"),
                html.Thead(el("Tr", th)),
                html.Tbody(rows),
            ],
            size="sm",
            hover=True,
            className="dqr-table mb-1",
        ),
        className="table-responsive",
    )


def _section(code: str, title_key: str, lang: str, threshold: str, body) -> html.Section:
    return html.Section(
        [
            html.H2(f"{code}. {t(title_key, lang)}", className="h5 mt-4 mb-1"),
            html.P(threshold, className="small text-body-secondary mb-1"),
            body,
        ],
        className="dqr-section",
    )


def _name_cell(code: str, name: str, own: str) -> dict:
    return el("Th", name, scope="row", className="fw-semibold" if code == own else "fw-normal")


def body(r: Review, cat: Catalog, f: Filters) -> list:
    lang = f.lang
    rules = r.rules
    own = r.unit.code
    rows_word = t(f"dqr_rows_{min(r.unit.level + 1, 3)}", lang)
    out: list = [_summary(r, cat, lang, rows_word)]

    # 1a, 1b
    rep_rows = [
        el(
            "Tr",
            [
                _name_cell(x.org_unit, x.name, own),
                el("Td", _num(x.expected, lang), className="text-end"),
                el("Td", _num(x.received, lang), className="text-end"),
                _flagged(_pct(x.completeness, lang), bool(x.low_completeness), lang),
                _flagged(_pct(x.timeliness, lang), bool(x.low_timeliness), lang),
            ],
        )
        for x in frame_rows(r.reporting)
    ]
    head = [t(k, lang) for k in ("col_unit", "dqr_expected", "dqr_received")]
    head += [t("dqr_completeness", lang), t("dqr_timeliness", lang)]
    out.append(
        _section(
            "1a · 1b",
            "dqr_reporting",
            lang,
            t(
                "dqr_reporting_rule",
                lang,
                completeness=fmt_number(rules.completeness, lang, 0),
                timeliness=fmt_number(rules.timeliness, lang, 0),
            ),
            _table(t("dqr_reporting_caption", lang, rows=rows_word.lower()), head, rep_rows),
        )
    )

    # 2a, 2b
    counts = [
        el(
            "Tr",
            [
                _name_cell(x.org_unit, x.name, own),
                el("Td", _num(x.values, lang), className="text-end"),
                _flagged(_num(x.moderate, lang), x.moderate > 0, lang),
                _flagged(_num(x.extreme, lang), x.extreme > 0, lang),
            ],
        )
        for x in frame_rows(r.outlier_counts)
    ]
    count_head = [t("col_unit", lang), t("dqr_values", lang)]
    count_head += [t("dqr_moderate_col", lang), t("dqr_extreme_col", lang)]
    if r.outliers.empty:
        listing: html.Div | html.P = html.P(t("dqr_no_outliers", lang), className="small")
    else:
        listing = _table(
            t(
                "dqr_outliers_caption",
                lang,
                n=min(len(r.outliers), SHOWN_OUTLIERS),
                total=len(r.outliers),
            ),
            [
                t("col_unit", lang),
                t("dqr_facility", lang),
                t("dqr_element", lang),
                t("dqr_month", lang),
                t("col_value", lang),
                t("dqr_median", lang),
                t("dqr_z", lang),
                t("dqr_severity", lang),
            ],
            [
                el(
                    "Tr",
                    [
                        el("Td", cat.by_code[x.area].name if x.area in cat.by_code else ""),
                        el(
                            "Th",
                            f"{x.facility_name} ({x.facility})",
                            scope="row",
                            className="fw-normal",
                        ),
                        el("Td", element_name(cat, x.element, lang)),
                        el("Td", fmt_month(int(x.month), lang)),
                        el("Td", _num(x.value, lang), className="text-end"),
                        el("Td", _num(x.median, lang, 1), className="text-end"),
                        el("Td", _num(x.z, lang, 1), className="text-end"),
                        el("Td", t(f"dqr_{x.severity}", lang), className="text-end"),
                    ],
                )
                for x in frame_rows(r.outliers.head(SHOWN_OUTLIERS))
            ],
            numeric_from=4,
        )
    out.append(
        _section(
            "2a · 2b",
            "dqr_outliers",
            lang,
            t(
                "dqr_outliers_rule",
                lang,
                moderate=fmt_number(rules.moderate_z, lang, 1),
                extreme=fmt_number(rules.extreme_z, lang, 1),
                tracers=", ".join(element_name(cat, c, lang) for c in TRACERS),
            ),
            html.Div(
                [
                    _table(
                        t("dqr_counts_caption", lang, rows=rows_word.lower()), count_head, counts
                    ),
                    listing,
                ]
            ),
        )
    )

    # 2d
    ot = r.over_time
    ot_rows = []
    if not ot.empty:
        names = dict(zip(ot.org_unit, ot.name, strict=True))
        cell = {
            (u, e): (ratio, flag)
            for u, e, ratio, flag in zip(ot.org_unit, ot.element, ot.ratio, ot.flag, strict=True)
        }
        for code, name in names.items():
            cells = [_name_cell(code, name, own)]
            for tracer in TRACERS:
                ratio, flag = cell.get((code, tracer), (None, False))
                cells.append(_flagged(_num(ratio, lang, 2), bool(flag), lang))
            ot_rows.append(el("Tr", cells))
    out.append(
        _section(
            "2d",
            "dqr_over_time",
            lang,
            t(
                "dqr_over_time_rule",
                lang,
                threshold=fmt_number(rules.consistency, lang, 0),
                years=", ".join(fmt_period(p, lang) for p in r.prior),
            ),
            _table(
                t("dqr_over_time_caption", lang, period=fmt_period(r.period, lang)),
                [t("col_unit", lang), *(element_name(cat, c, lang) for c in TRACERS)],
                ot_rows,
            ),
        )
    )

    # 2e
    rel = r.relations
    rel_rows = []
    if not rel.empty:
        names = dict(zip(rel.org_unit, rel.name, strict=True))
        by = {(x.org_unit, x.a): x for x in frame_rows(rel)}
        for code, name in names.items():
            cells = [_name_cell(code, name, own)]
            for a, _b in RELATIONS:
                x = by[(code, a)]
                cells += [
                    el("Td", _num(x.value_a, lang), className="text-end"),
                    el("Td", _num(x.value_b, lang), className="text-end"),
                    _flagged(_pct(x.dropout, lang), bool(x.flag), lang),
                ]
            rel_rows.append(el("Tr", cells))
    rel_head = [t("col_unit", lang)]
    for a, b in RELATIONS:
        rel_head += [
            element_name(cat, a, lang),
            element_name(cat, b, lang),
            t("dqr_dropout", lang),
        ]
    out.append(
        _section(
            "2e",
            "dqr_relations",
            lang,
            t("dqr_relations_rule", lang, threshold=fmt_number(rules.dropout, lang, 0)),
            _table(t("dqr_relations_caption", lang), rel_head, rel_rows),
        )
    )

    # 4a
    den = r.denominators
    den_rows = [
        el(
            "Tr",
            [
                _name_cell(x.org_unit, x.name, own),
                el(
                    "Td",
                    [_num(x.official, lang)]
                    + (
                        [el("Span", " " + t("dqr_estimated", lang), className="small")]
                        if x.estimated
                        else []
                    ),
                    className="text-end",
                ),
                el("Td", _num(x.alternative, lang), className="text-end"),
                _flagged(_pct(x.difference, lang), bool(x.flag), lang),
            ],
        )
        for x in frame_rows(den)
    ]
    official, alternative = DENOMINATOR
    out.append(
        _section(
            "4a",
            "dqr_denominators",
            lang,
            t("dqr_denominators_rule", lang, threshold=fmt_number(rules.denominator, lang, 0)),
            _table(
                t("dqr_denominators_caption", lang),
                [
                    t("col_unit", lang),
                    element_name(cat, official, lang),
                    element_name(cat, alternative, lang),
                    t("dqr_difference", lang),
                ],
                den_rows,
            ),
        )
    )
    out.append(html.P(t("dqr_source", lang), className="small text-body-secondary mt-3"))
    return out


def _summary(r: Review, cat: Catalog, lang: str, rows_word: str) -> html.Section:
    s = summary(r)
    rows = []
    for x in frame_rows(s):
        label = t(f"dqr_metric_{x.metric}", lang)
        if x.metric in ("2d",):
            label += f": {element_name(cat, x.measure, lang)}"
        elif x.metric == "2e":
            a, b = x.measure.split("-")
            label += f": {element_name(cat, a, lang)} → {element_name(cat, b, lang)}"
        if x.metric in ("1a", "1b", "2e", "4a"):
            value = _pct(x.value, lang)
        elif x.metric in ("2a", "2b"):
            value = _pct(x.value, lang)
        else:
            value = _num(x.value, lang, 2)
        threshold = threshold_text(x.metric, x.threshold, lang)
        rows.append(
            el(
                "Tr",
                [
                    el("Td", x.metric),
                    el("Th", label, scope="row", className="fw-normal"),
                    el("Td", value, className="text-end"),
                    el("Td", threshold, className="text-end"),
                    _flagged(
                        t("dqr_of", lang, k=int(x.flagged), n=int(x.rows)),
                        int(x.flagged) > 0,
                        lang,
                    ),
                ],
            )
        )
    return html.Section(
        [
            html.H2(t("dqr_summary", lang), className="h5 mb-1"),
            _table(
                t("dqr_summary_caption", lang, unit=r.unit.name, period=fmt_period(r.period, lang)),
                [
                    t("dqr_metric", lang),
                    t("dqr_measure", lang),
                    r.unit.name,
                    t("dqr_threshold", lang),
                    t("dqr_rows_flagged", lang, rows=rows_word),
                ],
                rows,
                numeric_from=2,
            ),
        ]
    )
