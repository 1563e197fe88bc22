"""What a snapshot says about itself: header and footer texts, file names, page URLs."""

from __future__ import annotations

from datetime import datetime

from ..exports import describe_filters, file_name
from ..filters import PAGES, Filters, href
from ..i18n import fmt_period, t
from ..periods import month_period
from ..views import Context
from .pdf import Banner

# Every page prints (the pack included).
PDF_PAGES = PAGES


def banner(
    ctx: Context, page: str, f: Filters, facility: str | None = None, now: datetime | None = None
) -> Banner:
    lang = f.lang
    last = ctx.repo.get_meta("data_last_month")
    as_of = t("footer_as_of", lang, date=fmt_period(month_period(int(last)), lang)) if last else ""
    source = ctx.repo.get_meta("data_source") or "MSPBS"
    source = t("source_demo", lang) if source == "demo" else source
    now = now or datetime.now()
    return Banner(
        title=t("print_title", lang),
        page=t(f"page_{page}", lang),
        filters=describe_filters(ctx, f, page, facility),
        as_of=as_of,
        generated=f"{t('generated', lang)}: {now.strftime('%Y-%m-%d %H:%M')}",
        source=t("footer_source", lang, source=source),
    )


def page_path(page: str, f: Filters, facility: str | None = None) -> str:
    if page == "paquete":
        return "/paquete" + f.to_query()
    return href(page, f, facility)


def pdf_name(ctx: Context, page: str, f: Filters, facility: str | None = None) -> str:
    """The filters in the file name, as every other download of the view."""
    return file_name(page, f, ctx, "pdf", facility)
