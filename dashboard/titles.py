"""The browser tab's title of each view: the page, what it shows, then the product."""

from __future__ import annotations

from .catalog import Catalog
from .filters import Filters
from .i18n import t


def tab_title(lang: str, *parts: str | None) -> str:
    """'Mapa · Concepción · Tablero de desempeño': the most specific first and the product
    last, so tabs, bookmarks and the history list tell the pages apart."""
    return " · ".join([p for p in parts if p] + [t("tab_product", lang)])


def page_title(cat: Catalog, f: Filters, page: str, facility: str | None = None) -> str:
    """The title of a page that exists (see filters.page_exists); 'not found' otherwise."""
    lang = f.lang
    if page == "establecimiento":
        unit = cat.unit(facility) if facility else None
        if unit is None:
            return tab_title(lang, t("not_found_title", lang))
        return tab_title(lang, unit.name, t("page_establecimiento", lang))
    if page == "not_found":
        return tab_title(lang, t("not_found_title", lang))
    unit = cat.unit(f.unit_code())
    return tab_title(lang, t(f"page_{page}", lang), unit.name if unit else None)
