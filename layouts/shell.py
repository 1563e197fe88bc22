"""The frame of every page: navigation, language switch, the filter bar, footer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.catalog import FACILITY_TYPES, Catalog, OrgUnit, facility_type_name
from dashboard.filters import PATHS, Filters, href, resolve_period
from dashboard.i18n import collation_key, fmt_period, t
from dashboard.periods import (
    RELATIVE,
    add_months,
    last_complete_month,
    month_period,
    parse_period,
)

from . import ids

NAV_PAGES = ("resumen", "mapa", "tendencias", "desempeno", "equidad", "ods", "calidad")
DOMAINS = ("MNI", "INM", "TRA", "ENT", "SER", "HOS", "DQ")


def _filter(
    label_id: str, label: str, control, xl: int | bool = True, beside=None, after=None
) -> dbc.Col:
    """One filter's column: two per row on a tablet, three per row on a small laptop (992 to
    1199 px, where six in a row would cut every name to a few letters), all six in one row from
    1200 px (`xl`: a width in twelfths, or True for an even share of what is left)."""
    head = html.Label(
        label,
        id=label_id,
        htmlFor=control.id,
        className="form-label small fw-semibold mb-1",
    )
    if beside is not None:  # e.g. the indicator's (i), outside the <label>
        head = html.Div([head, beside], className="filter-head d-flex align-items-start")
    return dbc.Col(
        [
            head,
            control,
            after,
        ],
        xs=12,
        sm=6,
        lg=4,
        xl=xl,
        className="mb-2",
    )


def layout(**_query) -> html.Div:
    """Static and cheap: Dash calls it with no arguments; callbacks fill it from the URL."""
    lang = "es"
    return html.Div(
        [
            dcc.Location(id=ids.URL, refresh=False),
            dcc.Store(id=ids.VIEW),
            dcc.Store(id=ids.RENDERED),
            dcc.Store(id=ids.LANG_SINK),
            dcc.Store(id=ids.DOC_TITLE),
            dcc.Store(id=ids.TITLE_SINK),
            dcc.Store(id=ids.URL_SINK),
            html.Datalist(id=ids.INDICATOR_LIST),
            html.A(
                t("skip_to_content", lang),
                id=ids.SKIP_LINK,
                href="#main",
                className="visually-hidden-focusable skip-link",
            ),
            navbar(lang),
            filter_bar(lang),
            html.Main(
                [
                    html.Div(id=ids.NOTICE, className="container-fluid notice-area"),
                    dbc.Container(
                        # Shown from the first paint until the page's own skeleton arrives.
                        loading_state(lang),
                        id=ids.CONTENT,
                        fluid=True,
                        className="py-3",
                    ),
                ],
                id="main",
                tabIndex="-1",
            ),
            html.Footer(
                id=ids.FOOTER, className="app-footer border-top small text-body-secondary py-2 px-3"
            ),
        ]
    )


def navbar(lang: str = "es", nav: list | None = None, switch: list | None = None) -> html.Header:
    """The product bar. Empty in the app's layout (the frame callback fills it); filled by the
    server's first view (dashboard.web.pages), which draws this same tree as static HTML so
    the page does not move when React's copy takes over."""
    return html.Header(
        dbc.Navbar(
            dbc.Container(
                [
                    html.Div(
                        [
                            html.Span("MSPBS", className="brand-mark", **{"aria-hidden": "true"}),
                            html.Span(
                                t("app_title", lang),
                                id=ids.BRAND_TITLE,
                                className="brand-title",
                            ),
                        ],
                        className="navbar-brand d-flex align-items-center gap-2",
                    ),
                    # On a phone the pages fold behind one button (seven links do not
                    # fit 390 px on one line; the heading already names the page).
                    fold_button(
                        "nav",
                        [
                            html.Span(
                                t("menu", lang),
                                id=ids.NAV_TOGGLE_LABEL,
                                className="nav-toggle-label",
                            )
                        ],
                        ids.NAV_TOGGLE,
                        ids.NAV_LINKS,
                        "btn btn-sm",
                    ),
                    html.Nav(
                        nav,
                        id=ids.NAV_LINKS,
                        className="app-nav d-flex gap-1",
                        **{"aria-label": t("nav_label", lang)},
                    ),
                    html.Div(switch, id=ids.LANG_SWITCH, className="ms-lg-auto"),
                ],
                fluid=True,
                className="gap-2 flex-wrap",
            ),
            color="primary",
            dark=True,
            className="app-navbar py-1",
        ),
        id=ids.NAVBAR,
    )


def fold_button(kind: str, words: list, button_id: str, controls: str, style: str) -> html.Button:
    """A phone's fold-out button (the menu, the filters; hidden from md up): its words, a caret,
    and aria-expanded for the element it opens (callbacks/shell.py keeps it true)."""
    return html.Button(
        [*words, html.Span("▾", className=f"{kind}-toggle-caret", **{"aria-hidden": "true"})],
        id=button_id,
        type="button",
        n_clicks=0,
        className=f"{kind}-toggle {style} d-md-none",
        **{"aria-expanded": "false", "aria-controls": controls},
    )


def filter_bar(
    lang: str = "es", showing: str = "", short: str = "", exports: list | None = None
) -> html.Section:
    """The filter bar (its selects filled by callbacks); `showing`, `short` and `exports` as
    navbar's fill-ins: the first view draws it with them, so it takes the live bar's height."""
    select = {"size": "sm", "className": "filter-select"}
    return html.Section(
        dbc.Container(
            [
                # On a phone the filters and exports fold behind one button that says
                # what is shown, so the content starts on the first screen.
                fold_button(
                    "filter",
                    [
                        html.Span(
                            t("filters", lang),
                            id=ids.FILTER_TOGGLE_LABEL,
                            className="filter-toggle-label",
                        ),
                        html.Span(
                            short, id=ids.FILTER_TOGGLE_SUMMARY, className="filter-toggle-summary"
                        ),
                    ],
                    ids.FILTER_TOGGLE,
                    ids.FILTER_BODY,
                    "btn btn-outline-secondary btn-sm",
                ),
                html.Div(
                    [
                        dbc.Row(
                            [
                                # Native selects: labelled, keyboard- and screen-reader-friendly,
                                # and no extra JavaScript to download on a slow connection.
                                _filter(
                                    ids.LABEL_REGION,
                                    t("filter_region", lang),
                                    dbc.Select(id=ids.FILTER_REGION, **select),
                                ),
                                _filter(
                                    ids.LABEL_DISTRICT,
                                    t("filter_district", lang),
                                    dbc.Select(id=ids.FILTER_DISTRICT, **select),
                                ),
                                _filter(
                                    ids.LABEL_TYPE,
                                    t("filter_type", lang),
                                    dbc.Select(id=ids.FILTER_TYPE, **select),
                                ),
                                # 38 indicators: a native select grouped by area, names first
                                # (keyboard, screen readers and phones' own pickers), and beside
                                # it a search box whose suggestions the browser filters as the
                                # user types (a native <datalist>: no script of ours).
                                _filter(
                                    ids.LABEL_INDICATOR,
                                    t("filter_indicator", lang),
                                    dbc.Select(id=ids.FILTER_INDICATOR, **select),
                                    xl=3,
                                    beside=html.Div(id=ids.FILTER_INDICATOR_INFO),
                                ),
                                _filter(
                                    ids.LABEL_INDICATOR_SEARCH,
                                    t("indicator_search", lang),
                                    dcc.Input(
                                        id=ids.INDICATOR_SEARCH,
                                        type="search",
                                        list=ids.INDICATOR_LIST,
                                        placeholder=t("indicator_search_hint", lang),
                                        debounce=True,
                                        autoComplete="off",
                                        className="form-control form-control-sm",
                                    ),
                                    xl=2,
                                    # what the search found or why not, read out
                                    after=html.Div(
                                        id=ids.INDICATOR_SEARCH_HINT,
                                        role="status",
                                        className="search-hint small",
                                    ),
                                ),
                                _filter(
                                    ids.LABEL_PERIOD,
                                    t("filter_period", lang),
                                    dbc.Select(id=ids.FILTER_PERIOD, **select),
                                    xl=2,
                                ),
                            ],
                            className="g-2 align-items-end",
                        ),
                        html.Div(
                            [
                                html.P(
                                    showing,
                                    id=ids.FILTER_SUMMARY,
                                    className="filter-summary small text-body-secondary mb-0",
                                    **{"aria-live": "polite"},
                                ),
                                html.Div(
                                    exports,
                                    id=ids.EXPORT_LINKS,
                                    className="export-links d-flex gap-2",
                                ),
                            ],
                            className="d-flex flex-wrap justify-content-between align-items-center gap-2",
                        ),
                    ],
                    id=ids.FILTER_BODY,
                    className="filter-body",
                ),
            ],
            fluid=True,
        ),
        id=ids.FILTER_BAR,
        className="filter-bar border-bottom py-2 d-print-none",
        **{"aria-label": t("filters", lang)},
    )


def static_frame(
    lang: str, nav: list, switch: list, showing: str, short: str, exports: list
) -> html.Div:
    """The first view's frame: navbar and filter bar as the frame callback fills them (the
    selects stay empty: the server's copy is not for use, and is drawn inert)."""
    return html.Div([navbar(lang, nav, switch), filter_bar(lang, showing, short, exports)])


def filter_summary(cat: Catalog, f: Filters, today: date) -> str:
    """The filters in words (also what a screen reader announces after a change)."""
    lang = f.lang
    unit = cat.unit(f.unit_code())
    parts = [
        unit.name,
        cat.indicators[f.indicator].name(lang),
        fmt_period(resolve_period(f, today), lang),
    ]
    if f.ftype:
        parts.insert(1, facility_type_name(f.ftype, lang))
    return t("showing", lang) + ": " + " · ".join(parts)


def filter_short_summary(cat: Catalog, f: Filters, today: date) -> str:
    """One line for the folded filter bar on a phone: unit · indicator code · period."""
    parts = [
        cat.unit(f.unit_code()).name,
        f.indicator,
        fmt_period(resolve_period(f, today), f.lang),
    ]
    if f.ftype:
        parts.insert(1, f.ftype)
    return " · ".join(parts)


def loading_state(lang: str) -> html.Div:
    """A visible "loading" block (the content's place holder until the page arrives)."""
    return html.Div(
        [
            html.Span(className="spinner-border spinner-border-sm", **{"aria-hidden": "true"}),
            html.Span(t("loading", lang)),
        ],
        # print-wait: the PDF printer (dashboard.report.pdf) waits until the page replaces it.
        className="loading-state print-wait d-flex align-items-center gap-2 text-body-secondary",
        role="status",
    )


def nav_links(page: str, f: Filters, lang: str) -> list:
    return [
        dcc.Link(
            t(f"page_{p}", lang),
            href=href(p, f),
            className="nav-link px-2" + (" active fw-semibold" if p == page else ""),
        )
        for p in NAV_PAGES
    ]


def lang_switch(pathname: str, f: Filters) -> list:
    out = []
    for code, label, name in (("es", "ES", "Español"), ("en", "EN", "English")):
        target = (pathname or "/") + f.with_(lang=code).to_query()
        out.append(
            html.Span(
                dcc.Link(
                    label,
                    href=target,
                    title=name,
                    className="lang-link" + (" active" if f.lang == code else ""),
                ),
                lang=code,
            )
        )
    return [out[0], html.Span(" | ", className="text-white-50", **{"aria-hidden": "true"}), out[1]]


def account_links(
    email: str | None, is_admin: bool, lang: str, public: bool = False, can_import: bool = False
) -> list:
    """Who is signed in, the import page for analysts, the audit log for admins, and sign-out
    (server pages: full loads); an anonymous visitor gets the way to sign in."""
    q = "?lang=" + lang
    if public:
        sep = html.Span(" · ", className="text-white-50", **{"aria-hidden": "true"})
        return [sep, html.A(t("login_title", lang), href="/login" + q, className="lang-link")]
    if not email:
        return []
    out: list = [html.Span(" · ", className="text-white-50", **{"aria-hidden": "true"})]
    out.append(
        html.Span(
            email,
            className="text-white small account-email",
            title=t("signed_in_as", lang, email=email),
        )
    )
    if can_import:
        out += [
            " ",
            html.A(t("import_page_title", lang), href="/importar" + q, className="lang-link"),
        ]
    if is_admin:
        out += [" ", html.A(t("audit_title", lang), href="/auditoria" + q, className="lang-link")]
    out += [" ", html.A(t("logout", lang), href="/logout" + q, className="lang-link")]
    return out


ALL = "*"  # the "all" choice of a select: no filter (an empty value would show blank)


def region_options(cat: Catalog, regions, lang: str, national: bool = True) -> list[dict]:
    head = [{"label": t("all_country", lang), "value": ALL}] if national else []
    return head + [
        {
            "label": f"{u.region_number:02d} · {u.name}" if u.region_number else u.name,
            "value": u.code,
        }
        for u in regions
    ]


def district_options(cat: Catalog, districts: Iterable[OrgUnit], lang: str) -> list[dict]:
    head = [{"label": t("all_districts", lang), "value": ALL}]
    return head + [
        {"label": u.name, "value": u.code}
        for u in sorted(districts, key=lambda u: collation_key(u.name))
    ]


def type_options(lang: str) -> list[dict]:
    head = [{"label": t("all_types", lang), "value": ALL}]
    return head + [
        {"label": facility_type_name(code, lang), "value": code} for code in FACILITY_TYPES
    ]


def indicator_options(cat: Catalog, lang: str) -> list[dict]:
    """Grouped by area (a disabled heading before each group), the name first, the code after."""
    out: list[dict] = []
    for domain in DOMAINS:
        inds = sorted(
            (i for i in cat.indicators.values() if i.domain == domain), key=lambda i: i.sort
        )
        if not inds:
            continue
        area = t(f"domain_{domain}", lang)
        out.append({"label": f"— {area.upper()} —", "value": f"__{domain}", "disabled": True})
        out.extend({"label": f"{i.name(lang)} · {i.code}", "value": i.code} for i in inds)
    return out


def indicator_suggestions(cat: Catalog, lang: str) -> list:
    """The search box's <datalist>: 'Name · CODE' (what filters.find_indicator reads back),
    with the area as the suggestion's second line."""
    return [
        html.Option(value=f"{i.name(lang)} · {i.code}", label=t(f"domain_{i.domain}", lang))
        for domain in DOMAINS
        for i in sorted(
            (i for i in cat.indicators.values() if i.domain == domain), key=lambda i: i.sort
        )
    ]


def period_options(today: date, first_month: int, lang: str) -> list[dict]:
    last = last_complete_month(today)
    out: list[dict] = [
        {"label": t("periods_relative", lang).upper(), "value": "__rel", "disabled": True}
    ]
    for rid in RELATIVE:
        p = parse_period(rid, today)
        out.append(
            {
                "label": f"{t('period_' + rid, lang)} ({fmt_period(p, lang)})",
                "value": rid,
            }
        )
    out.append({"label": t("periods_years", lang).upper(), "value": "__y", "disabled": True})
    for y in range(last // 100, first_month // 100 - 1, -1):
        out.append({"label": str(y), "value": str(y)})
    out.append({"label": t("periods_quarters", lang).upper(), "value": "__q", "disabled": True})
    y, q = last // 100, (last % 100 - 1) // 3 + 1
    for _ in range(12):
        pid = f"{y}Q{q}"
        p = parse_period(pid, today)
        if p.end <= last:
            out.append({"label": fmt_period(p, lang), "value": pid})
        y, q = (y, q - 1) if q > 1 else (y - 1, 4)
    out.append({"label": t("periods_months", lang).upper(), "value": "__m", "disabled": True})
    m = last
    for _ in range(24):
        out.append({"label": fmt_period(month_period(m), lang), "value": str(m)})
        m = add_months(m, -1)
    return out


def ensure_option(options: list[dict], value: str, label: str) -> list[dict]:
    """A period typed in the URL that the list does not offer still shows as chosen."""
    if any(o["value"] == value for o in options):
        return options
    return [{"label": label, "value": value}, *options]


def ignored_notice(ignored, lang: str) -> list:
    """A visible notice naming the address's parameters the view could not take (they come
    back from the browser's store: shown as text only, a few, each cut short)."""
    if not isinstance(ignored, list) or not ignored:
        return []
    pairs = [
        f"{p[0][:20]}={p[1][:40]}"
        for p in ignored[:6]
        if isinstance(p, list | tuple) and len(p) == 2 and all(isinstance(x, str) for x in p)
    ]
    if not pairs:
        return []
    return [
        dbc.Alert(
            t("notice_ignored", lang, params=", ".join(pairs)),
            color="warning",
            dismissable=True,
            className="notice-ignored small py-2 mt-2 mb-0",
        )
    ]


def not_found(f: Filters, facility: str | None = None) -> html.Div:
    """The 404 page's content (the server also answers 404): what was not found and the ways
    on: every page of the product with the current filters."""
    lang = f.lang
    title = (
        t("facility_not_found_code", lang, code=facility[:40])
        if facility
        else t("not_found_title", lang)
    )
    detail = t("facility_not_found_detail" if facility else "not_found_detail", lang)
    return html.Div(
        [
            html.H1(title, className="h3"),
            html.P(detail),
            html.P(t("not_found_ways", lang), className="mb-1"),
            html.Ul(
                [html.Li(dcc.Link(t(f"page_{p}", lang), href=href(p, f))) for p in NAV_PAGES],
                className="not-found-links",
            ),
        ],
        className="not-found",
    )


def footer(lang: str, as_of: str, source: str) -> list:
    return [
        html.Span(t("footer_as_of", lang, date=as_of)),
        html.Span(" · "),
        html.Span(t("footer_source", lang, source=source)),
        html.Span(" · "),
        html.Span(t("footer_credits", lang)),
    ]


__all__ = ["PATHS", "layout"]


def export_links(
    page: str, facility: str | None, f: Filters, lang: str, formats=("pdf", "csv", "xlsx")
) -> list:
    """Plain links to the export routes: the same filters, so the file is this view."""
    from urllib.parse import urlencode

    extra = {"pagina": page}
    if facility:
        extra["establecimiento"] = facility
    query = f.to_query()
    query = (query + "&" if query else "?") + urlencode(extra)
    labels = {
        "pdf": t("export_pdf", lang),
        "csv": t("export_csv", lang),
        "xlsx": t("export_xlsx", lang),
    }
    return [
        html.A(
            labels[fmt],
            href=f"/exportar.{fmt}{query}",
            className="btn btn-sm " + ("btn-primary" if fmt == "pdf" else "btn-outline-secondary"),
            title=t("export_hint", lang),
            download="",  # a download, not a navigation away from the dashboard
            **{"data-export": fmt, "aria-label": f"{labels[fmt]} — {t('export_hint', lang)}"},
            # assets/30-pdf-button.js shows progress and refusals in the page's language.
            **(
                {
                    "data-busy-label": t("pdf_preparing", lang),
                    "data-wait-label": t("pdf_waiting", lang),
                    "data-error-label": t("pdf_failed", lang),
                }
                if fmt == "pdf"
                else {}
            ),
        )
        for fmt in formats
    ]
