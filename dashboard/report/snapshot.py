"""What a snapshot says about itself: header and footer texts, file names, page URLs."""

from __future__ import annotations

import re
from datetime import datetime

from ..catalog import FACILITY_TYPES
from ..filters import Filters, href, resolve_period
from ..i18n import fmt_period, t
from ..views import Context
from .pdf import Banner

PDF_PAGES = ("resumen", "mapa", "tendencias", "desempeno", "establecimiento", "paquete")


def describe(ctx: Context, f: Filters, facility: str | None = None) -> list[tuple[str, str]]:
    """The filters in words, in the view's language."""
    cat, lang = ctx.cat, f.lang
    region = cat.unit(f.region) if f.region else None
    district = cat.unit(f.district) if f.district else None
    ind = cat.indicators[f.indicator]
    p = resolve_period(f, ctx.today)
    out = [
        (t("filter_region", lang), region.name if region else t("all_country", lang)),
        (t("filter_district", lang), district.name.title() if district else t("all_districts", lang)),
        (t("filter_type", lang), FACILITY_TYPES[f.ftype][1 if lang == "en" else 0] if f.ftype else t("all_types", lang)),
        (t("filter_indicator", lang), f"{ind.code} {ind.name(lang)}"),
        (t("filter_period", lang), fmt_period(p.start, p.end, p.id, lang)),
    ]
    if facility:
        unit = cat.unit(facility)
        out.insert(0, (t("page_establecimiento", lang), f"{unit.name} ({unit.code})" if unit else facility))
    return out


def banner(ctx: Context, page: str, f: Filters, facility: str | None = None, now: datetime | None = None) -> Banner:
    lang = f.lang
    last = ctx.repo.get_meta("data_last_month")
    as_of = t("footer_as_of", lang, date=fmt_period(int(last), int(last), last, lang)) if last else ""
    source = ctx.repo.get_meta("data_source") or "MSPBS"
    source = t("source_demo", lang) if source == "demo" else source
    now = now or datetime.now()
    return Banner(
        title=t("print_title", lang),
        page=t(f"page_{page}", lang),
        filters=describe(ctx, f, facility),
        as_of=as_of,
        generated=f"{t('generated', lang)}: {now.strftime('%Y-%m-%d %H:%M')}",
        source=t("footer_source", lang, source=source),
    )


def page_path(page: str, f: Filters, facility: str | None = None) -> str:
    if page == "paquete":
        return "/paquete" + f.to_query()
    return href(page, f, facility)


def pdf_name(page: str, f: Filters, facility: str | None = None) -> str:
    parts = [page, facility or f.district or f.region or "PY", f.ftype or "", f.indicator, f.period, f.lang]
    name = "_".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name) + ".pdf"
