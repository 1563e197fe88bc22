"""t(key, lang) and locale-aware formatting; Spanish (es-PY) is the default, English complete."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from .missing import is_missing
from .periods import Period

LANGS = ("es", "en")
DEFAULT_LANG = "es"
_DIR = Path(__file__).parent / "locales"

MONTHS = {
    "es": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}
MONTHS_LONG = {
    "es": [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


@cache
def _messages(lang: str) -> dict[str, str]:
    # Read once per process: locale files are part of the package and never change at run time.
    return json.loads((_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def lang_or_default(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str = DEFAULT_LANG, **params) -> str:
    """The text for key in lang; a missing key shows itself (a test keeps that from shipping)."""
    text = _messages(lang_or_default(lang)).get(key) or _messages(DEFAULT_LANG).get(key) or key
    return text.format(**params) if params else text


def keys(lang: str) -> set[str]:
    return set(_messages(lang))


def collation_key(text: str) -> str:
    """Spanish alphabetical order: accents and case ignored, ñ right after n ('Itá' before
    'Itauguá', 'Ñemby' after 'Nueva Italia'). Names are stored with accents, and code-point order
    would put every 'Á' and 'Ñ' after 'Z'."""
    low = text.casefold()
    if low.isascii():  # most names: nothing to fold
        return low
    folded = unicodedata.normalize("NFD", low.replace("ñ", "n\uffff"))
    return "".join(c for c in folded if not unicodedata.combining(c))


def fmt_number(value: float | None, lang: str = DEFAULT_LANG, decimals: int = 0) -> str:
    """1.234,5 in Spanish, 1,234.5 in English; an em dash for no value."""
    if is_missing(value):
        return "—"
    text = f"{value:,.{decimals}f}"
    return text.translate(_ES_SEPARATORS) if lang_or_default(lang) == "es" else text


# Swap the thousands and decimal separators in one pass (a map's hover formats ~16,000
# numbers a request at 10×).
_ES_SEPARATORS = str.maketrans({",": ".", ".": ","})


NBSP = "\u00a0"  # number and unit stay on one line ('52,1 %' never wraps on a phone)


def percent_sign(lang: str = DEFAULT_LANG) -> str:
    """'84,1 %' in Spanish (RAE and INE style, a no-break space), '84.1%' in English."""
    return NBSP + "%" if lang_or_default(lang) == "es" else "%"


def fmt_percent(value: float | None, lang: str = DEFAULT_LANG, decimals: int = 1) -> str:
    return "—" if is_missing(value) else fmt_number(value, lang, decimals) + percent_sign(lang)


def fmt_value(value: float | None, unit: str, lang: str = DEFAULT_LANG, decimals: int = 1) -> str:
    """A value with its unit: '84,2 %' or '12,3 por 1.000 NV'."""
    if is_missing(value):
        return "—"
    number = fmt_number(value, lang, decimals)
    return number + percent_sign(lang) if unit == "%" else f"{number}{NBSP}{unit}".strip()


def fmt_values(
    values: Iterable[object], unit: str | None, lang: str = DEFAULT_LANG, decimals: int = 1
) -> list[str]:
    """fmt_value (or, with unit None, fmt_number) of each value, for a column of thousands:
    the language and the unit's suffix are worked out once, not once a value."""
    es = lang_or_default(lang) == "es"
    if unit is None:
        suffix = ""
    elif unit == "%":
        suffix = percent_sign(lang)
    else:
        suffix = f"{NBSP}{unit}".rstrip()  # as fmt_value's strip: no unit, no space
    out = []
    for v in values:
        if is_missing(v):
            out.append("—")
            continue
        text = f"{v:,.{decimals}f}"
        out.append((text.translate(_ES_SEPARATORS) if es else text) + suffix)
    return out


def fmt_month(yyyymm: int, lang: str = DEFAULT_LANG, long: bool = False) -> str:
    names = (MONTHS_LONG if long else MONTHS)[lang_or_default(lang)]
    return f"{names[yyyymm % 100 - 1]} {yyyymm // 100}"


def fmt_period(period: Period, lang: str = DEFAULT_LANG) -> str:
    """Human label of a period: 'oct 2026', 'T3 2024' / 'Q3 2024', '2024', 'nov 2025 – oct 2026'."""
    lang = lang_or_default(lang)
    kind = period.kind
    if kind == "month":
        return fmt_month(period.start, lang)
    if kind == "quarter":
        return f"{'T' if lang == 'es' else 'Q'}{period.id[-1]} {period.id[:4]}"
    if kind == "year":
        return period.id
    return f"{fmt_month(period.start, lang)} – {fmt_month(period.end, lang)}"
