"""The page routes' HTTP side: 404 for addresses that name no page, and an index that shows the
frame, the page's own title and a loading state from the first paint (before any script runs)."""

from __future__ import annotations

import html
import logging
from typing import Any

from flask import make_response, request

from ..availability import classify
from ..filters import from_query, page_exists, path_page
from ..i18n import t
from ..services import Services
from ..titles import page_title

log = logging.getLogger("dashboard")
# Dash serves its index for every path it does not otherwise route (its catch-all rules).
INDEX_RULES = ("/", "/<path:path>")


def skeleton(lang: str) -> str:
    """The frame before React draws it: the product bar, the filter bar's outline and a
    "loading" line (static markup, no script; Dash replaces it on its first render)."""
    esc = html.escape
    boxes = "".join('<span class="boot-box"></span>' for _ in range(6))
    return (
        '<div id="react-entry-point">'
        '<div class="_dash-loading boot-skeleton">'
        '<div class="boot-nav"><span class="brand-mark" aria-hidden="true">MSPBS</span> '
        f'<span class="brand-title">{esc(t("app_title", lang))}</span></div>'
        f'<div class="boot-filters" aria-hidden="true">{boxes}</div>'
        '<div class="boot-main" role="status">'
        '<span class="spinner-border spinner-border-sm" aria-hidden="true"></span> '
        f"<span>{esc(t('loading', lang))}</span></div>"
        "</div></div>"
    )


def install(app: Any, deps: Services) -> None:
    server = app.server
    base_interpolate = app.interpolate_index
    svg_icon = app.get_asset_url("favicon.svg")

    def request_view() -> tuple[str, str, bool]:
        """(language, tab title, whether the address names a page) of this request."""
        lang = "en" if request.args.get("lang") == "en" else "es"
        try:
            ctx = deps.context()
            cat = ctx.cat
            exists = page_exists(request.path, cat, ctx.scope)
            f = from_query(
                request.query_string.decode("utf-8", "replace"), cat, ctx.today, ctx.scope
            )
            page, facility = path_page(request.path)
            return f.lang, page_title(cat, f, page if exists else "not_found", facility), exists
        except Exception as exc:
            if classify(exc) is None:
                raise
            # The database is away: the page itself says so; no 404 we cannot be sure of.
            return lang, t("tab_product", lang), True

    def interpolate_index(**kwargs: Any) -> str:
        lang, title, _exists = request_view()
        kwargs["title"] = html.escape(title)
        kwargs["app_entry"] = skeleton(lang)
        kwargs["favicon"] = (
            kwargs.get("favicon", "")
            + f'<link rel="icon" type="image/svg+xml" href="{html.escape(svg_icon)}">'
        )
        out = base_interpolate(**kwargs)
        return out.replace('<html lang="es">', f'<html lang="{lang}">', 1)

    app.interpolate_index = interpolate_index

    @server.before_request
    def not_found():
        """Dash would answer 200 for any path: an address that names no page, or a facility
        that is not in the catalogue (or not within the caller's scope), answers 404 with the
        product's own page saying so and offering the ways on."""
        rule = request.url_rule
        if request.method != "GET" or rule is None or rule.rule not in INDEX_RULES:
            return None
        try:
            ctx = deps.context()
            exists = page_exists(request.path, ctx.cat, ctx.scope)
        except Exception as exc:
            if classify(exc) is None:
                raise
            return None
        if exists:
            return None
        return make_response(app.index(), 404)
