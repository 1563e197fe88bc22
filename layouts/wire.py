"""Components in the form Dash sends them to the browser ({"type", "namespace", "props"}).

Constructing a Dash component object validates every keyword and serialising it walks it
again; for the many small pieces a page repeats (a table's cells, an indicator's (i) box on
every card and column) that cost more than the query behind them. The browser receives the
same tree either way; Dash passes these dicts through as they are."""

from __future__ import annotations

from typing import Any


def el(tag: str, children: Any = None, namespace: str = "dash_html_components", **props) -> dict:
    """html.<tag> (or, with namespace "dash_core_components", dcc.<tag>) as sent."""
    if children is not None:
        props["children"] = children
    return {"type": tag, "namespace": namespace, "props": props}
