"""The page routes' HTTP side: 404 for addresses that name no page, and an index that shows the
frame, the page's own title and a loading state from the first paint (before any script runs);
for a signed-in account the Resumen's KPI cards themselves are in that first HTML."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from flask import Response, g, make_response, request

from ..availability import classify
from ..filters import Filters, from_query, page_exists, path_page
from ..i18n import t
from ..services import Services
from ..titles import page_title

log = logging.getLogger("dashboard")
# Dash serves its index for every path it does not otherwise route (its catch-all rules).
INDEX_RULES = ("/", "/<path:path>")
START_PATH = "_dashboard/start-renderer.js"
START_MAX_AGE = 3600  # the same few bytes for the life of the app; not fingerprinted


def skeleton(lang: str, first_view: tuple[str, str] | None = None) -> str:
    """The frame before React draws it: the product bar, the filter bar's outline and a
    "loading" line (static markup, no script; Dash replaces it on its first render).

    With `first_view` ((frame, content) as HTML: the frame is the live navbar and filter bar's
    own markup, inert until React's copy replaces it) the two stand beside the app's entry
    point instead of inside it: React then mounts and fills its own copy out of
    sight (assets/10-app.css) while the reader already reads the server's, and
    assets/05-first-view.js removes the server's copy once React's shows the same (so the
    cards never blink away between the two)."""
    esc = html.escape
    boxes = "".join('<span class="boot-box"></span>' for _ in range(6))
    frame = (
        '<div class="boot-nav"><span class="brand-mark" aria-hidden="true">MSPBS</span> '
        f'<span class="brand-title">{esc(t("app_title", lang))}</span></div>'
        f'<div class="boot-filters" aria-hidden="true">{boxes}</div>'
    )
    waiting = (
        '<div class="boot-main" role="status">'
        '<span class="spinner-border spinner-border-sm" aria-hidden="true"></span> '
        f"<span>{esc(t('loading', lang))}</span></div>"
    )
    if first_view is None:
        return (
            '<div id="react-entry-point">'
            f'<div class="_dash-loading boot-skeleton">{frame}{waiting}</div></div>'
        )
    live_frame, content = first_view
    return (
        f'<div class="first-view boot-skeleton"><div inert>{live_frame}</div>'
        f'<div class="container-fluid py-3">{content}</div>{waiting}</div>'
        '<div id="react-entry-point"><div class="_dash-loading"></div></div>'
    )


def deferred(scripts: str) -> str:
    """Dash's script tags, deferred: the browser still fetches them in order and runs them in
    order after the page is parsed, but Chromium then ranks them below the stylesheets, which
    arrive first on a slow line, so the first paint (frame, first view) no longer waits behind
    ~450 KB of JavaScript. The inline clientside-callback definitions stay inline (they only
    define functions on window.dash_clientside, which the renderer merges)."""
    return re.sub(r"<script src=", "<script defer src=", scripts)


def install(app: Any, deps: Services) -> None:
    server = app.server
    base_interpolate = app.interpolate_index
    svg_icon = app.get_asset_url("favicon.svg")
    # Dash starts its renderer from an inline script after the bundles; with the bundles deferred
    # that start must be deferred too (inline scripts cannot be), so it is a file of its own.
    start_url = app.config.requests_pathname_prefix + START_PATH
    start_js = app.renderer

    def start_renderer() -> Response:
        response = Response(start_js, mimetype="application/javascript")
        response.cache_control.public = True
        response.cache_control.max_age = START_MAX_AGE
        return response

    server.add_url_rule(start_url, endpoint="start_renderer", view_func=start_renderer)

    def request_view() -> tuple[str, str, tuple[str, str] | None]:
        """(language, tab title, the page's first view (frame, content) as HTML or None)."""
        lang = "en" if request.args.get("lang") == "en" else "es"
        try:
            ctx = deps.context()
            cat = ctx.cat
            exists = page_exists(request.path, cat, ctx.scope)
            f = from_query(
                request.query_string.decode("utf-8", "replace"), cat, ctx.today, ctx.scope
            )
            page, facility = path_page(request.path)
            title = page_title(cat, f, page if exists else "not_found", facility)
            return f.lang, title, first_view(page, f) if exists else None
        except Exception as exc:
            if classify(exc) is None:
                raise
            # The database is away: the page itself says so; no 404 we cannot be sure of.
            return lang, t("tab_product", lang), None

    def first_view(page: str, f: Filters) -> tuple[str, str] | None:
        """(frame, content) as HTML: the Resumen's heading, briefing and KPI cards for a signed-in account, within its scope
        (computed as the cards' callback computes them: same view, same builders, small-number
        suppression and quality marks included). None for every other page, and for a request
        without an account's session (the public view, a PDF print), which keeps to the frame."""
        if page != "resumen":
            return None
        principal = deps.principal()
        if principal is None or principal.account_id is None:
            return None
        from layouts import overview as overview_page
        from layouts import shell
        from layouts.static import to_html

        from ..accounts import IMPORT_ROLES
        from ..briefing import build
        from ..views import overview

        ctx = deps.context()
        g.first_view = True  # account data in the page: not for any shared cache
        try:
            content = to_html(overview_page.first_view(overview(ctx, f), ctx.cat, f, build(ctx, f)))
            # The frame as the frame callback fills it, so the cards sit where React's copy
            # puts them at every width (an outline of guessed height moved them 30-65 px).
            lang, cat = f.lang, ctx.cat
            frame = shell.static_frame(
                lang,
                shell.nav_links(page, f, lang),
                shell.lang_switch(request.path, f)
                + shell.account_links(
                    principal.email,
                    principal.is_admin,
                    lang,
                    principal.role == "publico",
                    can_import=principal.role in IMPORT_ROLES,
                ),
                shell.filter_summary(cat, f, ctx.today),
                shell.filter_short_summary(cat, f, ctx.today),
                shell.export_links(page, None, f, lang),
            )
            return to_html(frame), content
        except Exception as exc:
            if classify(exc) is not None:
                raise  # the database: the page says so (request_view)
            # A bug here must not cost the page: the frame loads and the callbacks fill it.
            log.exception("first view of %s failed", request.full_path)
            return None

    @server.after_request
    def private_first_view(response: Response) -> Response:
        if g.get("first_view"):
            response.headers["Cache-Control"] = "private, no-store"
        return response

    def interpolate_index(**kwargs: Any) -> str:
        lang, title, view = request_view()
        kwargs["title"] = html.escape(title)
        kwargs["app_entry"] = skeleton(lang, view)
        kwargs["scripts"] = deferred(kwargs.get("scripts", ""))
        # Dash checks the index for id="_dash-renderer".
        kwargs["renderer"] = (
            f'<script defer id="_dash-renderer" src="{html.escape(start_url)}"></script>'
        )
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
