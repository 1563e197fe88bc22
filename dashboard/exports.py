"""Tables as files: CSV (in the language's convention) and XLSX, formula cells neutralised."""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd

from .catalog import FACILITY_TYPES, Catalog
from .i18n import fmt_period, t
from .views import Scorecard

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe; numbers stay."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def scorecard_frame(sc: Scorecard, cat: Catalog, lang: str) -> pd.DataFrame:
    """Exactly the scorecard on screen: same rows in the same order, same columns."""
    out = pd.DataFrame(
        {
            "#": sc.rows["rank"].astype("Int64"),
            t("col_code", lang): sc.rows["org_unit"],
            t("col_unit", lang): [
                cat.unit(c).name.title() if cat.unit(c).level == 2 else cat.unit(c).name
                for c in sc.rows["org_unit"]
            ],
        }
    )
    if sc.row_level == 3:
        out[t("col_type", lang)] = [
            FACILITY_TYPES.get(x, ("", ""))[1 if lang == "en" else 0]
            for x in sc.rows["facility_type"]
        ]
    for ind in sc.indicators:
        label = f"{ind.code} {ind.name(lang)} ({ind.unit(lang)})"
        out[label] = sc.rows[f"{ind.code}|value"].astype(float).round(ind.decimals)
        out[f"{ind.code} {t('col_status', lang)}"] = [
            t(f"status_{s}", lang) if isinstance(s, str) else ""
            for s in sc.rows[f"{ind.code}|status"]
        ]
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


def to_csv(frame: pd.DataFrame, header: list[tuple[str, str]], lang: str) -> bytes:
    """es: ';' and decimal comma, as Spanish Excel opens it; en: ',' and decimal point.
    UTF-8 with BOM so Excel reads Ñ and accents."""
    sep, dec = (";", ",") if lang == "es" else (",", ".")
    buf = io.StringIO()
    for k, v in header:
        buf.write(f"{neutralise(k)}{sep}{neutralise(v)}\n")
    buf.write("\n")
    frame.map(neutralise).to_csv(buf, sep=sep, decimal=dec, index=False)
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(frame: pd.DataFrame, header: list[tuple[str, str]], sheet: str) -> bytes:
    """Two sheets: the data (numbers as numbers) and what it shows (filters, period, source)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        frame.map(neutralise).to_excel(xw, sheet_name=sheet[:31], index=False)
        pd.DataFrame([(neutralise(k), neutralise(v)) for k, v in header]).to_excel(
            xw, sheet_name="info", index=False, header=False
        )
    return buf.getvalue()


def period_label(p, lang: str) -> str:
    return fmt_period(p.start, p.end, p.id, lang)
