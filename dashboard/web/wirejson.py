"""Callback responses and layouts as JSON in one pass of orjson, in place of Dash's encoder.

Dash encodes every response with plotly's encoder: Python's json module encodes the tree, parses
it back to turn NaN into null, and encodes it again. On a table of 96 facilities by 20 indicators
that was 11–34 ms of a 70 ms callback; orjson, asked to turn components into their wire form
(`to_plotly_json`) and anything else through plotly's own encoder's rules, writes the same JSON
in 1–3 ms. The output is the same after parsing (tests/test_wirejson.py): NaN and infinities as
null, numpy arrays and dates as plotly writes them, and the same characters escaped for HTML
(<, >, / and the two line separators), so a string can never close the page's <script> tag.
Anything orjson cannot write is handed to Dash's own encoder, so nothing fails that did not fail
before."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import orjson

log = logging.getLogger("dashboard")

# Numpy arrays go through _default, not orjson's own numpy support, which writes dates
# differently from plotly.
_OPTIONS = orjson.OPT_NON_STR_KEYS
# Escaped as plotly's encoder escapes them (plotly.io._json._swap_orjson).
_SWAP = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("/", "\\u002f"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def _component(obj: Any) -> dict | None:
    """A Dash component's wire form, as Component.to_plotly_json gives it, from the props the
    component holds (its __dict__) rather than by asking for each of the class's prop names
    (html.Td has 30-odd, a page sends hundreds of cells): the same dict, in a third of the time.
    None for anything else."""
    cls = type(obj)
    names = _PROP_NAMES.get(cls)
    held = getattr(obj, "__dict__", None)
    if held is None:
        return None
    if names is None:
        # Dash sets each component's prop names on the instance (the same for the class).
        props = held.get("_prop_names")
        if props is None or not hasattr(cls, "_type") or _overrides_props(cls, props):
            return None
        names = _PROP_NAMES[cls] = frozenset(props)
    wild = held.get("_valid_wildcard_attributes", ())
    return {
        "props": {
            k: v
            for k, v in held.items()
            if k in names or (k[:5] in ("data-", "aria-") and any(k.startswith(w) for w in wild))
        },
        "type": cls._type,
        "namespace": cls._namespace,
    }


def _overrides_props(cls: type, props: Any) -> bool:
    """A class that holds a prop as a class attribute, or writes its own to_plotly_json, is
    left to Dash (the fast path reads instance values only)."""
    from dash.development.base_component import Component

    own = getattr(cls, "to_plotly_json", None)
    return own is not Component.to_plotly_json or any(hasattr(cls, p) for p in props)


_PROP_NAMES: dict[type, frozenset[str]] = {}


def _default(obj: Any) -> Any:
    wire = _component(obj)
    if wire is not None:
        return wire
    to_wire = getattr(obj, "to_plotly_json", None)
    if to_wire is not None:
        return to_wire()
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "M":
            return np.datetime_as_string(obj).tolist()  # as plotly writes dates
        if obj.dtype.kind in "biuf":
            return obj.tolist()
    from _plotly_utils.utils import PlotlyJSONEncoder

    return PlotlyJSONEncoder().default(obj)  # numpy, pandas, dates, Decimal … as plotly does


def to_json(value: Any) -> str:
    try:
        out = orjson.dumps(value, default=_default, option=_OPTIONS).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError too: too deep, an integer too large …
        from plotly.io.json import to_json_plotly

        return to_json_plotly(value, engine="json")  # Dash's encoder, on Python's json module
    for unsafe, safe in _SWAP:
        if unsafe in out:
            out = out.replace(unsafe, safe)
    return out


def install() -> bool:
    """Encode Dash's callback responses and layouts with to_json. Dash looks its encoder up as a
    module global at each call; if a Dash release moves it, say so and keep Dash's own."""
    import dash._callback
    import dash.dash

    modules = (dash._callback, dash.dash)
    if not all(callable(getattr(m, "to_json", None)) for m in modules):
        log.warning("wirejson: this Dash has no to_json to replace; using Dash's JSON encoder")
        return False
    for m in modules:
        m.to_json = to_json  # type: ignore[attr-defined]
    return True
