"""Helpers every page's callbacks share: the view store codec and the error boundary."""

from __future__ import annotations

import functools
import logging
from dataclasses import asdict

from dash import no_update
from dash.exceptions import PreventUpdate

from dashboard.availability import classify
from dashboard.filters import Filters
from dashboard.services import Services
from dashboard.views import Context
from layouts.components import db_state, error_state

log = logging.getLogger("dashboard")
MAX_COMPARE = 6  # as from_query: regions compared on the trends page


def view_data(page: str, facility: str | None, pathname: str, f: Filters) -> dict:
    return {
        "page": page,
        "facility": facility,
        "path": pathname,
        "query": f.to_query(),
        "filters": asdict(f),
    }


def filters_of(view: dict | None) -> Filters:
    if not view:
        return Filters()
    d = dict(view["filters"])
    # The store comes back from the browser: never more regions than a URL may carry.
    d["compare"] = tuple(d.get("compare") or ())[:MAX_COMPARE]
    return Filters(**d)


def context(deps: Services) -> Context:
    return deps.context()


def guarded(n_outputs: int, page: str | tuple[str, ...] | None = None):
    """Run a page callback only for its own page; on failure log the traceback on the server
    and show a friendly error in the first output (never a traceback in the browser)."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(view, *args):
            pages = (page,) if isinstance(page, str) else page
            if not view or (pages is not None and view.get("page") not in pages):
                raise PreventUpdate
            try:
                return fn(view, *args)
            except PreventUpdate:
                raise
            except Exception as exc:
                lang = filters_of(view).lang
                kind = classify(exc)
                if kind is not None:
                    # A timed-out or unreachable database: the thread is free again, say so.
                    log.warning("callback %s: database %s", fn.__name__, kind)
                    first = db_state(kind, lang)
                else:
                    log.exception("callback %s failed for %s", fn.__name__, view.get("query"))
                    first = error_state(lang)
                return (first, *([no_update] * (n_outputs - 1))) if n_outputs > 1 else first

        return inner

    return wrap
