"""layouts.static: component trees as the HTML React would draw, for the server's first view."""

import dash_bootstrap_components as dbc
import pytest
from dash import dcc, html

from layouts.static import NotStatic, to_html


def test_html_components_become_their_elements_with_escaped_text_and_attributes():
    tree = html.Div(
        [
            html.Span("a < b & c", className="x", title='say "hi"', **{"aria-hidden": "true"}),
            html.Img(src="data:image/svg+xml;base64,AA==", alt="Línea", width=240),
            html.Br(),
            dcc.Link("Ver", href="/?a=1&b=2", className="lnk"),
            None,
            html.Label("L", htmlFor="x1", tabIndex="-1"),
        ],
        id="must-not-appear",
        className="outer",
    )
    assert to_html(tree) == (
        '<div class="outer">'
        '<span class="x" title="say &quot;hi&quot;" aria-hidden="true">a &lt; b &amp; c</span>'
        '<img alt="Línea" src="data:image/svg+xml;base64,AA==" width="240"><br>'
        '<a class="lnk" href="/?a=1&amp;b=2">Ver</a>'
        '<label for="x1" tabindex="-1">L</label></div>'
    )


def test_bootstrap_layout_components_get_bootstraps_classes():
    tree = dbc.Row(
        [dbc.Col(dbc.Card(dbc.CardBody("v"), className="kpi-card"), xs=12, sm=6, lg=3)],
        className="g-3",
    )
    assert to_html(tree) == (
        '<div class="row g-3"><div class="col-12 col-sm-6 col-lg-3">'
        '<div class="card kpi-card"><div class="card-body">v</div></div></div></div>'
    )
    alert = to_html(dbc.Alert("x", color="secondary", className="empty-state"))
    assert alert == '<div class="alert alert-secondary empty-state" role="alert">x</div>'


def test_components_that_need_their_script_are_refused():
    with pytest.raises(NotStatic):
        to_html(dcc.Graph(figure={}))
    with pytest.raises(NotStatic):
        to_html(html.Div(style={"color": "red"}))
