"""Resumen (first version): the national indicator table for the last 12 months."""

from dash import dcc, html

from . import ids


def layout(**_query) -> html.Div:
    return html.Div(
        [
            dcc.Location(id=ids.URL),
            html.H1("Tablero de desempeño en salud — MSPBS Paraguay"),
            html.P(id=ids.OVERVIEW_TITLE),
            dcc.Loading(html.Div(id=ids.OVERVIEW_TABLE)),
        ],
        style={"fontFamily": "system-ui, sans-serif", "margin": "1.5rem"},
    )
