"""The frame: URL <-> filter controls (one callback, so Back/Forward and links stay in sync),
navigation and language, and which page skeleton is on screen."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from dash import Dash, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from dashboard.accounts import IMPORT_ROLES
from dashboard.availability import classify
from dashboard.filters import (
    Filters,
    find_indicator,
    from_query,
    ignored_params,
    page_exists,
    path_page,
    resolve_period,
)
from dashboard.i18n import fmt_period, t
from dashboard.periods import month_period
from dashboard.services import Services
from dashboard.titles import page_title, tab_title
from dashboard.views import Context
from layouts import (
    calidad,
    equity,
    facility,
    ids,
    map_page,
    ods,
    overview,
    pack,
    scorecard,
    shell,
    trends,
)
from layouts.components import db_state, indicator_info

from .common import context, filters_of, lang_of, page_of, view_data

log = logging.getLogger("dashboard")

PAGE_LAYOUTS = {
    "resumen": overview.layout,
    "mapa": map_page.layout,
    "tendencias": trends.layout,
    "desempeno": scorecard.layout,
    "establecimiento": facility.layout,
    "paquete": pack.layout,
    "calidad": calidad.layout,
    "equidad": equity.layout,
    "ods": ods.layout,
}
CONTROLS = {
    ids.FILTER_REGION: "region",
    ids.FILTER_DISTRICT: "district",
    ids.FILTER_TYPE: "ftype",
    ids.FILTER_INDICATOR: "indicator",
    ids.FILTER_PERIOD: "period",
}


def url_lang(search: str | None) -> str:
    """The page language from the query string alone (no catalog needed)."""
    values = parse_qs((search or "").lstrip("?")).get("lang", [])
    return "en" if values and values[-1] == "en" else "es"


def register(app: Dash, deps: Services) -> None:
    @app.callback(
        Output(ids.URL, "search"),
        Output(ids.FILTER_REGION, "options"),
        Output(ids.FILTER_REGION, "value"),
        Output(ids.FILTER_DISTRICT, "options"),
        Output(ids.FILTER_DISTRICT, "value"),
        Output(ids.FILTER_DISTRICT, "disabled"),
        Output(ids.FILTER_TYPE, "options"),
        Output(ids.FILTER_TYPE, "value"),
        Output(ids.FILTER_INDICATOR, "options"),
        Output(ids.FILTER_INDICATOR, "value"),
        Output(ids.FILTER_PERIOD, "options"),
        Output(ids.FILTER_PERIOD, "value"),
        Output(ids.VIEW, "data"),
        Input(ids.URL, "pathname"),
        Input(ids.URL, "search"),
        Input(ids.FILTER_REGION, "value"),
        Input(ids.FILTER_DISTRICT, "value"),
        Input(ids.FILTER_TYPE, "value"),
        Input(ids.FILTER_INDICATOR, "value"),
        Input(ids.FILTER_PERIOD, "value"),
        State(ids.VIEW, "data"),
    )
    def sync(pathname, search, region, district, ftype, indicator, period, previous):
        try:
            return _sync(pathname, search, region, district, ftype, indicator, period, previous)
        except Exception as exc:
            kind = classify(exc)
            if kind is None:
                raise
            # The database is down or too slow: the frame still renders, in the URL's language,
            # with a banner instead of the page; a reload once it is back shows the page.
            log.warning("shell: database %s", kind)
            f = Filters(lang=url_lang(search))
            page, code = path_page(pathname)
            return (
                no_update,
                [],
                shell.ALL,
                [],
                shell.ALL,
                True,
                [],
                shell.ALL,
                [],
                None,
                [],
                None,
                {**view_data(page, code, pathname or "/", f), "unavailable": kind},
            )

    def _sync(
        pathname: str | None,
        search: str | None,
        region: str | None,
        district: str | None,
        ftype: str | None,
        indicator: str | None,
        period: str | None,
        previous: dict | None,
    ) -> tuple:
        c = context(deps)
        cat = c.cat
        f = from_query(search, cat, c.today, c.scope)
        trigger = ctx.triggered_id
        if trigger in CONTROLS:
            value = {
                ids.FILTER_REGION: region,
                ids.FILTER_DISTRICT: district,
                ids.FILTER_TYPE: ftype,
                ids.FILTER_INDICATOR: indicator,
                ids.FILTER_PERIOD: period,
            }[trigger]
            if isinstance(value, str) and value.startswith("__"):
                raise PreventUpdate  # a group heading
            changes = {CONTROLS[trigger]: None if value in (None, "", shell.ALL) else value}
            if trigger == ids.FILTER_REGION:
                changes["district"] = None
            if trigger != ids.FILTER_INDICATOR:
                changes["sort"] = None
            f = from_query(f.with_(**changes).to_query(), cat, c.today, c.scope)
            if trigger == ids.FILTER_REGION and not region and f.region:
                raise PreventUpdate  # a scoped user cannot clear to the national level
        page, code = path_page(pathname)
        new_search = f.to_query()
        search_out = (
            new_search if trigger in CONTROLS and new_search != (search or "") else no_update
        )
        prev = filters_of(previous, c) if isinstance(previous, dict) else None
        lang = f.lang
        same_lang = prev is not None and prev.lang == lang
        regions = cat.filter_scope(cat.regions(), c.scope)
        national = cat.in_scope(cat.country(), c.scope)
        region_opts = no_update if same_lang else shell.region_options(cat, regions, lang, national)
        if f.region and (not same_lang or prev.region != f.region or previous is None):
            districts = cat.filter_scope(cat.descendants(cat.unit(f.region), 2), c.scope)
            district_opts = shell.district_options(cat, districts, lang)
        elif not f.region:
            district_opts = [{"label": t("all_districts", lang), "value": shell.ALL}]
        else:
            district_opts = no_update
        first = c.repo.get_meta("data_first_month")
        if same_lang and prev.period == f.period:
            period_opts = no_update
        else:
            period_opts = shell.period_options(c.today, int(first) if first else 202101, lang)
            p = resolve_period(f, c.today)
            period_opts = shell.ensure_option(period_opts, f.period, fmt_period(p, lang))
        return (
            search_out,
            region_opts,
            f.region or shell.ALL,
            district_opts,
            f.district or shell.ALL,
            not f.region,
            no_update if same_lang else shell.type_options(lang),
            f.ftype or shell.ALL,
            no_update if same_lang else shell.indicator_options(cat, lang),
            f.indicator,
            period_opts,
            f.period,
            {
                **view_data(page, code, pathname or "/", f),
                # What the address asked that the view could not take (said in a notice, and
                # the address bar is rewritten without it); none after a control change.
                "ignored": [] if trigger in CONTROLS else ignored_params(search, f)[:6],
                "exists": page_exists(pathname, cat, c.scope),
            },
        )

    search_class = "form-control form-control-sm"

    @app.callback(
        Output(ids.URL, "search", allow_duplicate=True),
        Output(ids.INDICATOR_SEARCH, "value"),
        Output(ids.INDICATOR_SEARCH, "className"),
        Output(ids.INDICATOR_SEARCH_HINT, "children"),
        Input(ids.INDICATOR_SEARCH, "value"),
        State(ids.URL, "search"),
        prevent_initial_call=True,
    )
    def search_indicator(text, search):
        """The search box names an indicator (a suggestion, a code, or a name only one
        indicator has): the view takes it and the box empties; otherwise the box is marked
        and a line (read out by screen readers) says why."""
        if not isinstance(text, str) or not text.strip():
            return no_update, no_update, search_class, ""
        c = context(deps)
        f = from_query(search, c.cat, c.today, c.scope)
        code = find_indicator(text, c.cat)
        if code is None:
            return no_update, no_update, search_class + " is-invalid", t("search_none", f.lang)
        ind = c.cat.indicators[code]
        found = t("search_found", f.lang, indicator=ind.name(f.lang))
        return f.with_(indicator=code).to_query(), "", search_class, found

    @app.callback(
        Output(ids.INDICATOR_LIST, "children"),
        Output(ids.INDICATOR_LIST, "className"),
        Input(ids.VIEW, "data"),
        State(ids.INDICATOR_LIST, "className"),
    )
    def suggestions(view, shown):
        """The search box's suggestions, once per language (the class says which is shown)."""
        lang = lang_of(view)
        if shown == f"lang-{lang}" or not isinstance(view, dict) or view.get("unavailable"):
            raise PreventUpdate
        return shell.indicator_suggestions(context(deps).cat, lang), f"lang-{lang}"

    @app.callback(
        Output(ids.SKIP_LINK, "children"),
        Output(ids.NAV_LINKS, "aria-label"),
        Output(ids.FILTER_BAR, "aria-label"),
        Output(ids.BRAND_TITLE, "children"),
        Output(ids.NAV_LINKS, "children"),
        Output(ids.LANG_SWITCH, "children"),
        Output(ids.LABEL_REGION, "children"),
        Output(ids.LABEL_DISTRICT, "children"),
        Output(ids.LABEL_TYPE, "children"),
        Output(ids.LABEL_INDICATOR, "children"),
        Output(ids.LABEL_INDICATOR_SEARCH, "children"),
        Output(ids.INDICATOR_SEARCH, "placeholder"),
        Output(ids.LABEL_PERIOD, "children"),
        Output(ids.FILTER_SUMMARY, "children"),
        Output(ids.EXPORT_LINKS, "children"),
        Output(ids.FOOTER, "children"),
        Output(ids.NOTICE, "children"),
        Output(ids.DOC_TITLE, "data"),
        Output(ids.FILTER_TOGGLE_LABEL, "children"),
        Output(ids.FILTER_TOGGLE_SUMMARY, "children"),
        Output(ids.FILTER_INDICATOR_INFO, "children"),
        Output(ids.NAV_TOGGLE_LABEL, "children"),
        Input(ids.VIEW, "data"),
    )
    def frame(view: dict | None) -> tuple:
        if not isinstance(view, dict):
            raise PreventUpdate
        c = context(deps)
        lang = lang_of(view)
        page, facility = page_of(view)
        path = view.get("path") if isinstance(view.get("path"), str) else "/"
        # Without the database the frame still renders, from the URL's language alone.
        as_of, source, showing, f = "—", "MSPBS", "", Filters(lang=lang)
        short, info = "", None
        title = tab_title(lang, t(f"page_{page}", lang) if page in PAGE_LAYOUTS else None)
        exists = view.get("exists") is not False and page in PAGE_LAYOUTS
        available = not view.get("unavailable")
        if available:
            try:
                f = filters_of(view, c)
                last = c.repo.get_meta("data_last_month")
                as_of = fmt_period(month_period(int(last)), lang) if last else "—"
                source = c.repo.get_meta("data_source") or "MSPBS"
                source = t("source_demo", lang) if source == "demo" else source
                showing = shell.filter_summary(c.cat, f, c.today)
                short = shell.filter_short_summary(c.cat, f, c.today)
                info = indicator_info_of(c, f)
                title = page_title(c.cat, f, page if exists else "not_found", facility)
            except Exception as exc:
                if classify(exc) is None:
                    raise
                log.warning("frame: database %s", classify(exc))
                available = False
        return (
            # The shell is static Spanish; these follow the language like the rest of the frame.
            t("skip_to_content", lang),
            t("nav_label", lang),
            t("filters", lang),
            t("app_title", lang),
            shell.nav_links(page, f, lang),
            shell.lang_switch(path, f) + account_links(lang),
            t("filter_region", lang),
            t("filter_district", lang),
            t("filter_type", lang),
            t("filter_indicator", lang),
            t("indicator_search", lang),
            t("indicator_search_hint", lang),
            t("filter_period", lang),
            showing,
            shell.export_links(page, facility, f, lang) if exists and available else [],
            shell.footer(lang, as_of, source),
            shell.ignored_notice(view.get("ignored"), lang),
            title,
            t("filters", lang),
            short,
            info,
            t("menu", lang),
        )

    def account_links(lang: str) -> list:
        p = deps.principal()
        public = bool(p and p.role == "publico")
        return shell.account_links(
            p.email if p else None,
            bool(p and p.is_admin),
            lang,
            public,
            can_import=bool(p and p.role in IMPORT_ROLES),
        )

    def indicator_info_of(c: Context, f: Filters):
        """The chosen indicator's (i): its definition with the target of the unit and year."""
        cat = c.cat
        ind = cat.indicators[f.indicator]
        year = resolve_period(f, c.today).end // 100
        target = cat.target_for(ind, cat.unit(f.unit_code()), year)
        return indicator_info(ind, f.lang, target=target, elements=cat.data_elements)

    @app.callback(
        Output(ids.CONTENT, "children"),
        Output(ids.RENDERED, "data"),
        Input(ids.VIEW, "data"),
        State(ids.RENDERED, "data"),
    )
    def content(view, rendered):
        if not isinstance(view, dict):
            raise PreventUpdate
        page, facility = page_of(view)
        if view.get("unavailable"):
            # The store comes back from the browser: only the two kinds we know.
            kind = "timeout" if view["unavailable"] == "timeout" else "unavailable"
            return db_state(kind, lang_of(view)), None
        c = context(deps)
        f = filters_of(view, c)
        # Decided here again (the store's own "exists" is the browser's word).
        exists = page in PAGE_LAYOUTS and page_exists(_path(view), c.cat, c.scope)
        key = {"page": page, "facility": facility, "lang": f.lang, "exists": exists}
        if key == rendered:
            raise PreventUpdate
        if not exists:
            return shell.not_found(f, facility if page == "establecimiento" else None), key
        return PAGE_LAYOUTS[page](lang=f.lang), key

    def _path(view: dict) -> str:
        path = view.get("path")
        return path[:400] if isinstance(path, str) else "/"

    app.clientside_callback(
        "function(view){ if(view && view.filters){ document.documentElement.lang = view.filters.lang; } return window.dash_clientside.no_update; }",
        Output(ids.LANG_SINK, "data"),
        Input(ids.VIEW, "data"),
    )
    # Parameters the view ignored leave the address bar (replaced, not a new history entry, so
    # Back does not return to the bad address); the notice says which they were.
    app.clientside_callback(
        "function(view){ if(view && view.ignored && view.ignored.length && typeof view.path === 'string' && typeof view.query === 'string'){ window.history.replaceState(window.history.state, '', view.path + view.query + window.location.hash); } return window.dash_clientside.no_update; }",
        Output(ids.URL_SINK, "data"),
        Input(ids.VIEW, "data"),
    )
    app.clientside_callback(
        "function(title){ if(typeof title === 'string' && title){ document.title = title; } return window.dash_clientside.no_update; }",
        Output(ids.TITLE_SINK, "data"),
        Input(ids.DOC_TITLE, "data"),
    )
    # The phone's folded navigation: the button opens and closes it; a new view (a link
    # followed, Back) closes it again.
    app.clientside_callback(
        "function(n, view, expanded){ const ctx = window.dash_clientside.callback_context; const byButton = (ctx.triggered || []).some(x => x.prop_id === '"
        + ids.NAV_TOGGLE
        + ".n_clicks'); const open = byButton ? expanded !== 'true' : false; return [open ? 'nav-open' : '', open ? 'true' : 'false']; }",
        Output(ids.NAVBAR, "className"),
        Output(ids.NAV_TOGGLE, "aria-expanded"),
        Input(ids.NAV_TOGGLE, "n_clicks"),
        Input(ids.VIEW, "data"),
        State(ids.NAV_TOGGLE, "aria-expanded"),
    )
    # The phone's folded filter bar: a class on the bar and the button's aria-expanded.
    app.clientside_callback(
        "function(n){ const open = (n || 0) % 2 === 1; return [open ? 'filter-bar border-bottom py-2 d-print-none open' : 'filter-bar border-bottom py-2 d-print-none', open ? 'true' : 'false']; }",
        Output(ids.FILTER_BAR, "className"),
        Output(ids.FILTER_TOGGLE, "aria-expanded"),
        Input(ids.FILTER_TOGGLE, "n_clicks"),
    )
