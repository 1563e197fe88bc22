"""Dash component trees as static HTML: the server-rendered first view (dashboard.web.pages)
draws the same builders' output before any script has arrived, as React later draws it."""

from __future__ import annotations

from html import escape
from typing import Any

from dash.development.base_component import Component

# Elements with no closing tag.
VOID = frozenset({"area", "br", "col", "hr", "img", "input", "meta", "source", "wbr"})
# React's prop names that HTML spells otherwise.
ATTRIBUTES = {
    "className": "class",
    "htmlFor": "for",
    "tabIndex": "tabindex",
    "autoComplete": "autocomplete",
}
# Dash props that are no HTML attribute (they steer the renderer, not the element).
DASH_ONLY = frozenset(
    {"children", "id", "n_clicks", "n_clicks_timestamp", "disable_n_clicks", "loading_state"}
)


class NotStatic(TypeError):
    """A component this module cannot draw as HTML (it needs its script to mean anything)."""


def to_html(node: Any) -> str:
    """The HTML of a component tree (text escaped, attributes quoted). `id`s are left out on
    purpose: the static copy sits beside the live one React draws, and ids must stay unique.
    Raises NotStatic for a component outside the small set the first view uses."""
    if node is None or node is False:
        return ""
    if isinstance(node, str):
        return escape(node, quote=False)
    if isinstance(node, int | float):
        return escape(str(node), quote=False)
    if isinstance(node, list | tuple):
        return "".join(to_html(n) for n in node)
    if isinstance(node, Component):
        wire = node.to_plotly_json()
    elif isinstance(node, dict) and {"type", "namespace", "props"} <= node.keys():
        wire = node  # a component already in wire form (layouts.wire)
    else:
        raise NotStatic(f"not a component: {type(node).__name__}")
    kind, props = wire["type"], wire["props"]
    tag, attrs = _element(wire["namespace"], kind, props)
    for key, value in props.items():
        if key in DASH_ONLY or key in _CONSUMED.get(kind, ()) or value is None:
            continue
        if key == "style":
            raise NotStatic("inline styles are not drawn statically")  # none in the first view
        attrs.append((ATTRIBUTES.get(key, key), value))
    opening = "".join(_attribute(k, v) for k, v in _merge_classes(attrs))
    if tag in VOID:
        return f"<{tag}{opening}>"
    return f"<{tag}{opening}>{to_html(props.get('children'))}</{tag}>"


# dash-bootstrap-components props turned into classes (so not copied as attributes).
_CONSUMED = {
    "Col": ("xs", "sm", "md", "lg", "xl", "xxl", "width"),
    "Alert": ("color", "dismissable", "is_open", "fade", "duration"),
    "Table": ("size", "hover", "responsive", "striped", "bordered"),
    "Link": ("refresh", "target"),
    "Navbar": ("color", "dark", "expand"),
    "Container": ("fluid",),
    "Select": ("size", "options", "value"),
    "Input": ("debounce",),
}


def _element(namespace: str, kind: str, props: dict) -> tuple[str, list[tuple[str, Any]]]:
    """(tag, the attributes a component's type implies) for the types the first view uses."""
    if namespace == "dash_html_components":
        return kind.lower(), []
    if namespace == "dash_core_components" and kind == "Link":
        return "a", []
    if namespace == "dash_core_components" and kind == "Input":
        return "input", [("class", "dash-input")]
    if namespace == "dash_bootstrap_components":
        if kind == "Row":
            return "div", [("class", "row")]
        if kind == "Col":
            classes = []
            for size in ("xs", "sm", "md", "lg", "xl", "xxl"):
                width = props.get(size)
                if width is None:
                    continue
                infix = "" if size == "xs" else f"-{size}"
                # True: an equal share of the row ("col-lg"), as dbc draws it
                classes.append(f"col{infix}" if width is True else f"col{infix}-{width}")
            return "div", [("class", " ".join(classes) or "col")]
        if kind == "Navbar":  # as dbc draws it (navbar-expand-md is its default)
            scheme = "navbar-dark" if props.get("dark") else "navbar-light"
            color = props.get("color")
            bg = f" bg-{color}" if color else ""
            return "nav", [
                ("class", f"navbar navbar-expand-{props.get('expand', 'md')} {scheme}{bg}")
            ]
        if kind == "Container":
            return "div", [("class", "container-fluid" if props.get("fluid") else "container")]
        if kind == "Select":  # drawn empty: its options arrive with the app
            small = props.get("size")
            return "select", [("class", "form-select" + (f" form-select-{small}" if small else ""))]
        if kind == "Card":
            return "div", [("class", "card")]
        if kind == "CardBody":
            return "div", [("class", "card-body")]
        if kind == "Alert":
            return "div", [("role", "alert"), ("class", f"alert alert-{props.get('color')}")]
    raise NotStatic(f"{namespace}.{kind} has no static form here")


def _merge_classes(attrs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """One class attribute: the type's classes, then the component's own."""
    classes = [str(v) for k, v in attrs if k == "class" and v]
    rest = [(k, v) for k, v in attrs if k != "class"]
    return ([("class", " ".join(classes))] if classes else []) + rest


def _attribute(name: str, value: Any) -> str:
    if value is True:
        return f" {name}"
    if value is False:
        return ""
    return f' {name}="{escape(str(value), quote=True)}"'
