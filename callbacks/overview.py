"""Fills the first overview table from the indicator store."""

from dash import Input, Output, html

from dashboard.aggregate import evaluate
from dashboard.catalog import Scope
from dashboard.periods import parse_period
from layouts import ids


def _num(v, decimals: int) -> str:
    if v is None:
        return "—"
    s = f"{v:,.{decimals}f}"
    return s.replace(",", "\0").replace(".", ",").replace("\0", ".")


def register(app, deps) -> None:
    repo, settings = deps["repo"], deps["settings"]

    @app.callback(
        Output(ids.OVERVIEW_TABLE, "children"),
        Output(ids.OVERVIEW_TITLE, "children"),
        Input(ids.URL, "pathname"),
    )
    def fill(_path):
        cat = repo.catalog()
        period = parse_period("LAST_12_MONTHS", settings.current_date())
        rows = evaluate(
            repo, Scope.national(), list(cat.indicators.values()), [cat.country()], [period]
        )
        status = {
            "met": "✔ cumple",
            "near": "▲ cerca",
            "not_met": "✖ no cumple",
            "no_target": "sin meta",
            "no_data": "sin datos",
        }
        body = [
            html.Tr(
                [
                    html.Td(r.indicator),
                    html.Td(cat.indicators[r.indicator].name_es),
                    html.Td(
                        _num(r.value, cat.indicators[r.indicator].decimals),
                        style={"textAlign": "right"},
                    ),
                    html.Td(cat.indicators[r.indicator].unit_es),
                    html.Td(status[r.status]),
                    html.Td(_num(r.completeness, 1) + " %", style={"textAlign": "right"}),
                ]
            )
            for r in rows
        ]
        head = html.Tr(
            [
                html.Th(h)
                for h in ("Código", "Indicador", "Valor", "Unidad", "Estado", "Completitud")
            ]
        )
        title = f"Paraguay, últimos 12 meses ({period.start // 100}-{period.start % 100:02d} a {period.end // 100}-{period.end % 100:02d})"
        return html.Table([html.Thead(head), html.Tbody(body)]), title
