"""Helpers every page's callbacks share: the view store codec and the error boundary.

The view store comes back from the browser, so it is input like any other: a callback keeps only
its path and query string and rebuilds the filters from them on the server, within the scope of
the signed-in account (a forged store gives the scoped default view, never more data)."""

from __future__ import annotations

import functools
import logging
from dataclasses import asdict

from dash import no_update
from dash.exceptions import PreventUpdate

from dashboard.availability import classify
from dashboard.filters import Filters, from_query, parse_query, path_page
from dashboard.i18n import DEFAULT_LANG, LANGS
from dashboard.services import Services
from dashboard.views import Context
from layouts.components import db_state, error_state

log = logging.getLogger("dashboard")


def view_data(page: str, facility: str | None, pathname: str, f: Filters) -> dict:
    return {
        "page": page,
        "facility": facility,
        "path": pathname,
        "query": f.to_query(),
        "filters": asdict(f),
    }


def _text(view: dict | None, key: str, limit: int = 4000) -> str:
    value = view.get(key) if isinstance(view, dict) else None
    return value[:limit] if isinstance(value, str) else ""


def filters_of(view: dict | None, c: Context) -> Filters:
    """The view's filters, validated again here against the catalogue and the session scope."""
    return from_query(_text(view, "query"), c.cat, c.today, c.scope)


def page_of(view: dict | None) -> tuple[str, str | None]:
    """(page, facility code) from the view's path, never from the store's own claims."""
    return path_page(_text(view, "path", 400) or "/")


def lang_of(view: dict | None) -> str:
    lang = parse_query(_text(view, "query")).get("lang")
    return lang if lang in LANGS else DEFAULT_LANG


def context(deps: Services) -> Context:
    return deps.context()


def guarded(n_outputs: int, page: str | tuple[str, ...] | None = None):
    """Run a page callback only for its own page; on failure log the traceback on the server
    and show a friendly error in the first output (never a traceback in the browser)."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(view, *args):
            pages = (page,) if isinstance(page, str) else page
            if not isinstance(view, dict) or (pages is not None and page_of(view)[0] not in pages):
                raise PreventUpdate
            try:
                return fn(view, *args)
            except PreventUpdate:
                raise
            except Exception as exc:
                lang = lang_of(view)
                kind = classify(exc)
                if kind is not None:
                    # A timed-out or unreachable database: the thread is free again, say so.
                    log.warning("callback %s: database %s", fn.__name__, kind)
                    first = db_state(kind, lang)
                else:
                    log.exception(
                        "callback %s failed for %s", fn.__name__, _text(view, "query", 200)
                    )
                    first = error_state(lang)
                return (first, *([no_update] * (n_outputs - 1))) if n_outputs > 1 else first

        return inner

    return wrap
