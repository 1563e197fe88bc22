"""Tables as files: CSV (in the language's convention) and XLSX, formula cells neutralised."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from .catalog import Catalog, OrgUnit, facility_type_name
from .disclosure import small_label
from .filters import Filters, resolve_period
from .i18n import fmt_month, fmt_period, t
from .missing import is_missing
from .periods import RELATIVE, Period, enclosing, split
from .quality import quality_words
from .views import (
    INCOMPLETE_BELOW,
    Context,
    Scorecard,
    facility_profile,
    map_data,
    overview,
    scorecard,
    trend_span,
    trends,
)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Column headers of page_tables: one registry, so a test can check every key in every language.
HEADER_KEYS = {
    "code": "col_code",
    "indicator": "col_indicator",
    "measure": "col_measure",
    "unit": "col_unit",
    "type": "col_type",
    "role": "col_role",
    "value": "col_value",
    "target": "target",
    "band_low": "col_band_low",
    "band_high": "col_band_high",
    "status": "col_status",
    "prev_value": "col_prev_value",
    "ly_value": "col_ly_value",
    "completeness": "col_completeness_pct",
    "numerator": "numerator",
    "denominator": "denominator",
    "rank": "rank",
    "latitude": "col_latitude",
    "longitude": "col_longitude",
    "period_id": "col_period_id",
    "period": "col_period",
    "month_id": "col_month_id",
    "month": "col_month",
    "incomplete": "col_incomplete",
    "region_peers": "peers_region",  # takes {type}
    "national_peers": "peers_country",  # takes {type}
    "expected": "col_expected",
    "received": "col_received",
    "on_time": "col_on_time",
    "quality": "col_quality",
}
SHEET_KEYS = {
    "kpi": "sheet_kpi",
    "sparklines": "sheet_sparklines",
    "attention": "sheet_attention",
    "areas": "sheet_areas",
    "facilities": "sheet_facilities",
    "series": "sheet_series",
    "scorecard": "sheet_scorecard",
    "sdg": "sheet_sdg",
    "indicators": "sheet_indicators",
    "history": "sheet_history",
    "reports": "sheet_reports",
    "equity": "sheet_equity",
    "equity_summary": "sheet_equity_summary",
    "equity_years": "sheet_equity_years",
    "access": "sheet_access",
}
INFO_SHEET = "info"
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_NAME_BAD = re.compile(r"[^A-Za-z0-9-]+")


def neutralise(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe; numbers stay."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell and every column header neutralised. Numeric columns are left alone, so
    a negative number stays a number (and keeps its decimal separator in CSV)."""
    out = frame.copy()
    out.columns = [neutralise(c) for c in frame.columns]
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            out.isetitem(i, col.map(neutralise))
    return out


def scorecard_frame(sc: Scorecard, cat: Catalog, lang: str) -> pd.DataFrame:
    """Exactly the scorecard on screen: same rows in the same order, same columns."""
    out = pd.DataFrame(
        {
            "#": sc.rows["rank"].astype("Int64"),
            t("col_code", lang): sc.rows["org_unit"],
            t("col_unit", lang): [cat.by_code[c].name for c in sc.rows["org_unit"]],
        }
    )
    if sc.row_level == 3:
        out[t("col_type", lang)] = [facility_type_name(x, lang) for x in sc.rows["facility_type"]]
    for ind in sc.indicators:
        label = f"{ind.code} {ind.name(lang)} ({ind.unit(lang)})"
        out[label] = sc.rows[f"{ind.code}|value"].astype(float).round(ind.decimals)
        out[f"{ind.code} {t('col_status', lang)}"] = [
            t(f"status_{s}", lang) if isinstance(s, str) else ""
            for s in sc.rows[f"{ind.code}|status"]
        ]
        out[f"{ind.code} {t('col_quality', lang)}"] = _qualities(
            sc.rows[f"{ind.code}|quality"], lang
        )
    return out


def header_lines(
    title: str, filters_text: list[tuple[str, str]], source: str, lang: str
) -> list[tuple[str, str]]:
    return [
        (t("app_title", lang), title),
        *filters_text,
        (t("source", lang), source),
        (t("generated", lang), datetime.now().strftime("%Y-%m-%d %H:%M")),
    ]


def _header_cell(value) -> str:
    # One header line per pair: a line break inside a value would shift the table below it.
    return " ".join(str(neutralise(value)).splitlines())


def to_csv(frame: pd.DataFrame, header: list[tuple[str, str]], lang: str) -> bytes:
    """es: ';' and decimal comma, as Spanish Excel opens it; en: ',' and decimal point.
    UTF-8 with BOM so Excel reads Ñ and accents."""
    sep, dec = (";", ",") if lang == "es" else (",", ".")
    buf = io.StringIO()
    # Quoted where needed: an unquoted separator inside a value would start a new cell, and
    # that cell could begin with '='.
    lines = csv.writer(buf, delimiter=sep, lineterminator="\n")
    for k, v in header:
        lines.writerow([_header_cell(k), _header_cell(v)])
    buf.write("\n")
    safe_frame(frame).to_csv(buf, sep=sep, decimal=dec, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8-sig")


def sheet_name(text: str, taken: set[str] | None = None) -> str:
    """A name Excel accepts: at most 31 characters, none of []:*?/\\, not starting or ending
    with an apostrophe, unique (ignoring case) among `taken`, which it joins."""
    taken = set() if taken is None else taken
    base = _SHEET_BAD.sub(" ", str(text)).strip().strip("'").strip()[:31].strip() or "data"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)].rstrip() + suffix
        n += 1
    taken.add(name.lower())
    return name


def to_xlsx_sheets(
    frames: dict[str, pd.DataFrame] | Sequence[tuple[str, pd.DataFrame]],
    header: list[tuple[str, str]],
) -> bytes:
    """One sheet per frame (numbers as numbers, text neutralised), then the 'info' sheet."""
    buf = io.BytesIO()
    taken = {INFO_SHEET}
    pairs = frames.items() if isinstance(frames, dict) else frames
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for title, frame in pairs:
            name = sheet_name(title, taken)
            safe_frame(frame).to_excel(xw, sheet_name=name, index=False)
            _fit_columns(xw.sheets[name], frame)
        info = pd.DataFrame([(neutralise(k), neutralise(v)) for k, v in header])
        info.to_excel(xw, sheet_name=INFO_SHEET, index=False, header=False)
    return buf.getvalue()


def _fit_columns(ws, frame: pd.DataFrame) -> None:
    """Headers readable without dragging columns; the header row stays when scrolling."""
    from openpyxl.utils import get_column_letter

    for i, col in enumerate(frame.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(max(len(str(col)) + 2, 10), 48)
    ws.freeze_panes = "A2"


def period_label(p, lang: str) -> str:
    return fmt_period(p, lang)


# ==== Every page's data as tables ================================================================
def page_tables(
    ctx: Context, page: str, f: Filters, facility: str | None = None
) -> dict[str, pd.DataFrame]:
    """The data behind every table and chart of a page: tidy frames with headers in f.lang,
    numbers as numbers (indicator values rounded to the indicator's decimals), statuses in
    words. Built from the same views as the screen, so the numbers equal it. The first frame is
    the page's main table."""
    if page == "resumen":
        return _overview_tables(ctx, f)
    if page == "mapa":
        return _map_tables(ctx, f)
    if page == "tendencias":
        return _trend_tables(ctx, f)
    if page == "desempeno":
        return {"scorecard": scorecard_frame(scorecard(ctx, f), ctx.cat, f.lang)}
    if page == "establecimiento":
        return _facility_tables(ctx, f, facility) if facility else {}
    if page == "calidad":
        return _review_tables(ctx, f)
    if page == "equidad":
        from .equity import equity_tables

        return equity_tables(ctx, f)
    if page == "ods":
        from .sdg import sdg_tables
        from .views import selected_unit

        return sdg_tables(ctx, selected_unit(ctx, f), f.lang)
    return {}


def _frame(columns: dict[str, Iterable], lang: str, **params) -> pd.DataFrame:
    """Columns keyed by HEADER_KEYS names, renamed to the language's headers."""
    return pd.DataFrame({t(HEADER_KEYS[k], lang, **params): _column(v) for k, v in columns.items()})


def _column(values: Iterable):
    if isinstance(values, pd.Series):
        return values.to_numpy()
    return (
        values
        if isinstance(values, np.ndarray | pd.api.extensions.ExtensionArray)
        else list(values)
    )


def _rounded(values: Iterable, decimals: int | Sequence[int]) -> np.ndarray:
    """Floats rounded (to one number of decimals, or one per row); no value stays NaN."""
    vals = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").astype(float)
    decs = [decimals] * len(vals) if isinstance(decimals, int) else list(decimals)
    return np.array(
        [np.nan if is_missing(v) else round(v, int(d)) for v, d in zip(vals, decs, strict=True)],
        dtype=float,
    )


def _counts(values: Iterable, small: Iterable | None = None, ctx: Context | None = None):
    """Sums of numerators and denominators: whole counts, or populations scaled by the share
    of the year (fractional), so two decimals keep them exact enough without float noise.
    Counts hidden by disclosure control (`small`) read "<5"."""
    out = _rounded(values, 2)
    if small is None or ctx is None or ctx.suppress is None:
        return out
    hidden = [bool(h) for h in small]
    if not any(hidden):
        return out
    label = small_label(ctx.suppress)
    return np.array([label if h else v for v, h in zip(out, hidden, strict=True)], dtype=object)


def _statuses(values: Iterable, lang: str) -> list[str]:
    return [t(f"status_{s}", lang) if isinstance(s, str) and s else "" for s in values]


def _qualities(values: Iterable, lang: str) -> list[str]:
    """Each value's data-quality codes in words ('' where none applies or no cell)."""
    return [quality_words(q, lang) if isinstance(q, tuple | list) else "" for q in values]


def _unit_name(unit: OrgUnit | None, fallback: str = "") -> str:
    """As on screen: the name as stored."""
    return fallback if unit is None else unit.name


def _type_name(code: str | None, lang: str) -> str:
    return facility_type_name(code, lang)


def _month_label(pid: str, lang: str) -> str:
    return fmt_month(int(pid), lang) if str(pid).isdigit() and len(str(pid)) == 6 else str(pid)


def _overview_tables(ctx: Context, f: Filters) -> dict[str, pd.DataFrame]:
    cat, lang = ctx.cat, f.lang
    ov = overview(ctx, f)
    cards = ov.cards
    inds = [cat.indicators[c] for c in cards["indicator"]]
    dec = [i.decimals for i in inds]
    # The target the card states (the most specific one for the unit and the period's year).
    targets = [cat.target_for(i, ov.unit, ov.period.end // 100) for i in inds]
    kpi = _frame(
        {
            "code": [i.code for i in inds],
            "indicator": [i.name(lang) for i in inds],
            "measure": [i.unit(lang) for i in inds],
            "value": _rounded(cards["value"], dec),
            "target": _rounded([x.target for x in targets], dec),
            "band_low": _rounded([x.band_low for x in targets], dec),
            "band_high": _rounded([x.band_high for x in targets], dec),
            "status": _statuses(cards["status"], lang),
            "prev_value": _rounded(cards["prev_value"], dec),
            "ly_value": _rounded(cards["ly_value"], dec),
            "completeness": _rounded(cards["completeness"], 1),
            "numerator": _counts(cards["numerator"], cards.get("numerator_small"), ctx),
            "denominator": _counts(cards["denominator"], cards.get("denominator_small"), ctx),
            "quality": _qualities(cards["quality"], lang),
        },
        lang,
    )
    sp = ov.sparks
    sp_dec = [cat.indicators[c].decimals for c in sp["indicator"]]
    sparklines = _frame(
        {
            "code": sp["indicator"],
            "month_id": [str(p) for p in sp["period"]],
            "month": [_month_label(p, lang) for p in sp["period"]],
            "value": _rounded(sp["value"], sp_dec),
            "quality": _qualities(sp["quality"], lang),
        },
        lang,
    )
    ind = cat.indicators[f.indicator]
    at = ov.attention
    attention = _frame(
        {
            "code": at["org_unit"],
            "unit": [_unit_name(cat.unit(c), c) for c in at["org_unit"]],
            "value": _rounded(at["value"], ind.decimals),
            "numerator": _counts(at["numerator"], at.get("numerator_small"), ctx),
            "denominator": _counts(at["denominator"], at.get("denominator_small"), ctx),
            "status": _statuses(at["status"], lang),
            "completeness": _rounded(at["completeness"], 1),
            "quality": _qualities(at["quality"], lang),
        },
        lang,
    )
    return {"kpi": kpi, "sparklines": sparklines, "attention": attention}


def _map_tables(ctx: Context, f: Filters) -> dict[str, pd.DataFrame]:
    cat, lang = ctx.cat, f.lang
    md = map_data(ctx, f)
    dec = md.indicator.decimals
    # The order of the accessible table under the map: best first, units without a value last.
    areas = md.areas.sort_values("rank", na_position="last") if len(md.areas) else md.areas
    out = {
        "areas": _frame(
            {
                "code": areas["org_unit"],
                "unit": [_unit_name(cat.unit(c), c) for c in areas["org_unit"]],
                "value": _rounded(areas["value"], dec),
                "numerator": _counts(areas["numerator"], areas.get("numerator_small"), ctx),
                "denominator": _counts(areas["denominator"], areas.get("denominator_small"), ctx),
                "completeness": _rounded(areas["completeness"], 1),
                "rank": pd.array(_rounded(areas["rank"], 0), dtype="Int64"),
                "status": _statuses(areas["status"], lang),
                "quality": _qualities(areas["quality"], lang),
            },
            lang,
        )
    }
    if f.show_points():
        pts = md.points
        if "org_unit" not in pts:
            pts = pd.DataFrame(
                columns=["org_unit", "org_unit_name", "facility_type", "latitude", "longitude"]
                + ["value", "numerator", "denominator", "status", "quality"]
            )
        out["facilities"] = _frame(
            {
                "code": pts["org_unit"],
                "unit": pts["org_unit_name"],
                "type": [_type_name(x, lang) for x in pts["facility_type"]],
                "latitude": _rounded(pts["latitude"], 6),
                "longitude": _rounded(pts["longitude"], 6),
                "value": _rounded(pts["value"], dec),
                "numerator": _counts(pts["numerator"], pts.get("numerator_small"), ctx),
                "denominator": _counts(pts["denominator"], pts.get("denominator_small"), ctx),
                "status": _statuses(pts["status"], lang),
                "quality": _qualities(pts["quality"], lang),
            },
            lang,
        )
    return out


def _trend_tables(ctx: Context, f: Filters) -> dict[str, pd.DataFrame]:
    cat, lang = ctx.cat, f.lang
    tr = trends(ctx, f)
    # The chart's buckets: whole periods, and the one in progress said to be partial.
    labels = {b.id: period_label(b, lang) for b in tr.buckets or split(tr.period, f.grain)}
    if tr.partial is not None:
        whole = period_label(enclosing(tr.partial, f.grain), lang)
        labels[tr.partial.id] = t("partial_period", lang, period=whole)
    roles = {
        "selected": t("role_selected", lang),
        "national": t("role_national", lang),
        "region": t("role_region", lang),
        "compare": t("role_compare", lang),
    }
    s = tr.series
    comp = pd.to_numeric(s["completeness"], errors="coerce").astype(float)
    incomplete = [not is_missing(c) and c < INCOMPLETE_BELOW for c in comp]
    series = _frame(
        {
            "code": s["org_unit"],
            "unit": [_unit_name(cat.unit(c), c) for c in s["org_unit"]],
            "role": [roles.get(r, "") for r in s["role"]],
            "period_id": s["period"],
            "period": [labels.get(p, p) for p in s["period"]],
            "value": _rounded(s["value"], tr.indicator.decimals),
            "numerator": _counts(s["numerator"], s.get("numerator_small"), ctx),
            "denominator": _counts(s["denominator"], s.get("denominator_small"), ctx),
            "completeness": _rounded(comp, 1),
            "incomplete": [t("yes", lang) if x else t("no", lang) for x in incomplete],
            "quality": _qualities(s["quality"], lang),
        },
        lang,
    )
    return {"series": series}


def _facility_tables(ctx: Context, f: Filters, code: str) -> dict[str, pd.DataFrame]:
    cat, lang = ctx.cat, f.lang
    fp = facility_profile(ctx, f, code)
    if fp is None:
        return {}
    cur = fp.current.set_index("indicator")
    hist = fp.history
    region_peer = fp.peers[fp.peers.org_unit == fp.region.code].set_index("indicator")["value"]
    nation_peer = fp.peers[fp.peers.org_unit == cat.country().code].set_index("indicator")["value"]
    # As the screen's table: an indicator with nothing in 24 months is not a row.
    inds = [i for i in fp.shown if i.code in cur.index]
    dec = [i.decimals for i in inds]
    ftype = _type_name(fp.unit.facility_type, lang)
    indicators = _frame(
        {
            "code": [i.code for i in inds],
            "indicator": [i.name(lang) for i in inds],
            "measure": [i.unit(lang) for i in inds],
            "value": _rounded([cur.loc[i.code, "value"] for i in inds], dec),
            "status": _statuses([cur.loc[i.code, "status"] for i in inds], lang),
            "region_peers": _rounded([region_peer.get(i.code) for i in inds], dec),
            "national_peers": _rounded([nation_peer.get(i.code) for i in inds], dec),
            "completeness": _rounded([cur.loc[i.code, "completeness"] for i in inds], 1),
            "quality": _qualities([cur.loc[i.code, "quality"] for i in inds], lang),
        },
        lang,
        type=ftype,
    )
    shown = {i.code for i in inds}
    h = hist[hist["indicator"].isin(shown)]
    history = _frame(
        {
            "code": h["indicator"],
            "month_id": [str(p) for p in h["period"]],
            "month": [_month_label(p, lang) for p in h["period"]],
            "value": _rounded(h["value"], [cat.indicators[c].decimals for c in h["indicator"]]),
            "quality": _qualities(h["quality"], lang),
        },
        lang,
    )
    rep = fp.reporting.sort_values("period")
    expected = rep["expected_reports"].astype(int).to_numpy()
    reports = _frame(
        {
            "month_id": [str(p) for p in rep["period"]],
            "month": [_month_label(p, lang) for p in rep["period"]],
            "expected": expected,
            "received": rep["received_reports"].astype(int).to_numpy(),
            "on_time": rep["on_time"].astype(int).to_numpy(),
        },
        lang,
    )
    return {"indicators": indicators, "history": history, "reports": reports}


# ==== What the file shows, and its name ==========================================================
def _review_tables(ctx: Context, f: Filters) -> dict[str, pd.DataFrame]:
    """The data-quality review: the summary first, then one sheet per WHO metric."""
    from . import dqr

    r = dqr.review(ctx, f)
    lang = f.lang
    cat = ctx.cat

    def name(code: str) -> str:
        d = cat.data_elements.get(code)
        return code if d is None else (d.name_en if lang == "en" else d.name_es)

    def flags(values) -> list[str]:
        return [t("dqr_flagged", lang) if bool(v) else "" for v in values]

    s = dqr.summary(r)
    summary = pd.DataFrame(
        {
            t("dqr_metric", lang): s.metric,
            t("dqr_measure", lang): [
                t(f"dqr_metric_{m}", lang)
                + (
                    ""
                    if m in ("1a", "1b", "2a", "2b", "4a")
                    else ": " + " → ".join(map(name, x.split("-")))
                )
                for m, x in zip(s.metric, s.measure, strict=True)
            ],
            r.unit.name: _rounded(s.value, 2),
            t("dqr_threshold", lang): s.threshold,
            t(
                "dqr_rows_flagged", lang, rows=t(f"dqr_rows_{min(r.unit.level + 1, 3)}", lang)
            ): s.flagged,
            "n": s.rows,
        }
    )
    unit, nm = t("col_code", lang), t("col_unit", lang)
    rep = r.reporting
    reporting = pd.DataFrame(
        {
            unit: rep.org_unit,
            nm: rep.name,
            t("dqr_expected", lang): rep.expected,
            t("dqr_received", lang): rep.received,
            t("dqr_completeness", lang): _rounded(rep.completeness, 1),
            t("dqr_timeliness", lang): _rounded(rep.timeliness, 1),
            t("dqr_metric_1a", lang): flags(rep.low_completeness),
            t("dqr_metric_1b", lang): flags(rep.low_timeliness),
        }
    )
    o = r.outliers
    outliers = pd.DataFrame(
        {
            unit: o.area,
            t("dqr_facility", lang): o.facility,
            nm: o.facility_name,
            t("dqr_element", lang): [name(c) for c in o.element],
            t("col_month_id", lang): o.month,
            t("col_value", lang): o.value,
            t("dqr_median", lang): _rounded(o["median"], 1),
            t("dqr_z", lang): _rounded(o.z, 2),
            t("dqr_severity", lang): [t(f"dqr_{x}", lang) for x in o.severity],
        }
    )
    ot = r.over_time
    over_time = pd.DataFrame(
        {
            unit: ot.org_unit,
            nm: ot.name,
            t("dqr_element", lang): [name(c) for c in ot.element],
            fmt_period(r.period, lang): ot.current,
            t("dqr_prior_mean", lang): _rounded(ot.prior_mean, 1),
            t("dqr_ratio", lang): _rounded(ot.ratio, 3),
            t("dqr_metric_2d", lang): flags(ot.flag),
        }
    )
    rel = r.relations
    relations = pd.DataFrame(
        {
            unit: rel.org_unit,
            nm: rel.name,
            "A": [name(c) for c in rel.a],
            "B": [name(c) for c in rel.b],
            t("col_value", lang) + " A": rel.value_a,
            t("col_value", lang) + " B": rel.value_b,
            t("dqr_dropout", lang): _rounded(rel.dropout, 1),
            t("dqr_metric_2e", lang): flags(rel.flag),
        }
    )
    den = r.denominators
    official, alternative = dqr.DENOMINATOR
    denominators = pd.DataFrame(
        {
            unit: den.org_unit,
            nm: den.name,
            name(official): _rounded(den.official, 0),
            t("dq_estimated_denominator", lang): [
                t("dq_estimated_denominator", lang) if e else "" for e in den.estimated
            ],
            name(alternative): den.alternative,
            t("dqr_difference", lang): _rounded(den.difference, 1),
            t("dqr_metric_4a", lang): flags(den.flag),
        }
    )
    return {
        "dqr_summary": summary,
        "dqr_reporting": reporting,
        "dqr_outliers": outliers,
        "dqr_over_time": over_time,
        "dqr_relations": relations,
        "dqr_denominators": denominators,
    }


def _visible_facility(ctx: Context, code: str | None) -> OrgUnit | None:
    unit = ctx.cat.unit(code) if code else None
    if unit is None or unit.level != 3 or not ctx.cat.in_scope(unit, ctx.scope):
        return None
    return unit


def shown_period(ctx: Context, f: Filters, page: str) -> Period:
    """The period the page shows: the trends chart widens a short period to 24 months."""
    p = resolve_period(f, ctx.today)
    return trend_span(p, f.grain) if page == "tendencias" else p


def _period_text(ctx: Context, f: Filters, page: str) -> str:
    base = resolve_period(f, ctx.today)
    p = shown_period(ctx, f, page)
    label = period_label(p, f.lang)
    if f.period in RELATIVE and p == base:
        return f"{t('period_' + f.period, f.lang)} ({label})"
    return label


def describe_filters(
    ctx: Context, f: Filters, page: str, facility: str | None = None
) -> list[tuple[str, str]]:
    """The filters in words, translated: what a file shows, stated in its header."""
    cat, lang = ctx.cat, f.lang
    period = (t("filter_period", lang), _period_text(ctx, f, page))
    if page == "establecimiento":
        # The facility fixes its region, district and type; the other filters do not apply.
        unit = _visible_facility(ctx, facility)
        if unit is None:
            return [(t("filter_facility", lang), facility or "—"), period]
        home = cat.parent(unit)
        return [
            (t("filter_facility", lang), f"{unit.code} {unit.name}"),
            (t("filter_region", lang), cat.parent(home).name),
            (t("filter_district", lang), _unit_name(home)),
            (t("filter_type", lang), _type_name(unit.facility_type, lang)),
            period,
        ]
    region = cat.unit(f.region) if f.region else None
    district = cat.unit(f.district) if f.district else None
    ind = cat.indicators.get(f.indicator)
    rows = [
        (t("filter_region", lang), region.name if region else t("all_country", lang)),
        (
            t("filter_district", lang),
            _unit_name(district) if district else t("all_districts", lang),
        ),
        (t("filter_type", lang), _type_name(f.ftype, lang) if f.ftype else t("all_types", lang)),
        (t("filter_indicator", lang), f"{ind.code} {ind.name(lang)}" if ind else f.indicator),
    ]
    if page == "calidad":
        rows.pop()  # the review covers its own tracer data, not the selected indicator
    if page == "desempeno" and ind is not None:
        domain = f.domain or ind.domain  # as views.scorecard_indicators
        rows.append((t("domain", lang), t(f"domain_{domain}", lang)))
    rows.append(period)
    if page == "desempeno":
        ly = resolve_period(f, ctx.today).year_earlier()
        rows.append((t("compared_with", lang), period_label(ly, lang)))
    if page == "equidad":
        from .equity import grouping_words

        rows.append((t("eq_grouping", lang), grouping_words(ctx, f, lang)))
    if page == "tendencias":
        followed = _visible_facility(ctx, f.facility)
        if followed is not None:
            rows.append((t("filter_facility", lang), f"{followed.code} {followed.name}"))
        rows.append((t("grain", lang), t(f"grain_{f.grain}", lang)))
        names = [cat.by_code[c].name for c in f.compare if c in cat.by_code]
        rows.append((t("compare_regions", lang), ", ".join(names) or "—"))
    return rows


def file_name(page: str, f: Filters, ctx: Context, ext: str, facility: str | None = None) -> str:
    """The filters in the name, ASCII letters, digits, '-' and '_' only:
    desempeno_PY-11_USF_INM-03_2025Q3_es.csv."""
    p = shown_period(ctx, f, page)
    # A relative period is named by its months: the file keeps them when 'last month' moves on.
    period = f"{p.start}-{p.end}" if p.id in RELATIVE else p.id.replace(":", "-")
    if page == "establecimiento":
        unit = _visible_facility(ctx, facility)
        region = _region_code(ctx, unit) if unit else (f.region or "PY")
        parts = [page, region, facility or "", period, f.lang]
    else:
        parts = [
            page,
            f.region or "PY",
            f.district or "",
            (f.facility or "") if page == "tendencias" else "",
            f.ftype or "",
            f.indicator,
            period,
            f.lang,
        ]
    safe = [_NAME_BAD.sub("-", x).strip("-") for x in parts]
    ext = _NAME_BAD.sub("", ext.lstrip(".")) or "dat"
    return "_".join(x for x in safe if x) + f".{ext}"


def _region_code(ctx: Context, unit: OrgUnit) -> str:
    return ctx.cat.parent(ctx.cat.parent(unit)).code


def source_text(ctx: Context, lang: str) -> str:
    source = ctx.repo.get_meta("data_source") or "MSPBS"
    return t("source_demo", lang) if source == "demo" else source


def as_of_text(ctx: Context, lang: str) -> str:
    last = ctx.repo.get_meta("data_last_month") or ""
    return fmt_month(int(last), lang) if last.isdigit() and len(last) == 6 else "—"


def page_title(page: str, lang: str) -> str:
    titles = {
        "resumen": t("page_resumen", lang),
        "mapa": t("page_mapa", lang),
        "tendencias": t("page_tendencias", lang),
        "desempeno": t("page_desempeno", lang),
        "establecimiento": t("page_establecimiento", lang),
        "calidad": t("page_calidad", lang),
        "equidad": t("page_equidad", lang),
        "ods": t("page_ods", lang),
    }
    return titles.get(page, page)


def page_header(
    ctx: Context, page: str, f: Filters, facility: str | None = None
) -> list[tuple[str, str]]:
    """Title, filters, data as-of month, source and generation time."""
    filters_text = [
        *describe_filters(ctx, f, page, facility),
        (t("as_of", f.lang), as_of_text(ctx, f.lang)),
    ]
    return header_lines(page_title(page, f.lang), filters_text, source_text(ctx, f.lang), f.lang)


def page_csv(ctx: Context, page: str, f: Filters, facility: str | None = None) -> bytes:
    """The page's main table (the first frame of page_tables) under header lines."""
    frames = page_tables(ctx, page, f, facility)
    main = next(iter(frames.values()), pd.DataFrame())
    return to_csv(main, page_header(ctx, page, f, facility), f.lang)


def page_xlsx(ctx: Context, page: str, f: Filters, facility: str | None = None) -> bytes:
    """Every frame of page_tables as its own sheet, then the 'info' sheet."""
    frames = page_tables(ctx, page, f, facility)
    sheets = [(t(SHEET_KEYS.get(key, key), f.lang), frame) for key, frame in frames.items()]
    return to_xlsx_sheets(sheets, page_header(ctx, page, f, facility))
