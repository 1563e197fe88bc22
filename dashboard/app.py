"""create_app(settings) -> Dash: the composition root, the only module wiring dash, layouts, callbacks."""

from __future__ import annotations

import logging
from pathlib import Path

from .catalog import Scope
from .config import Settings
from .db import make_engine
from .repository import Repository
from .services import Services

ROOT = Path(__file__).resolve().parent.parent
ASSET_MAX_AGE = 7 * 24 * 3600  # static assets are versioned by Dash's fingerprints


def create_app(settings: Settings | None = None):
    import dash
    from flask_compress import Compress

    from callbacks import facility as facility_cb
    from callbacks import map_page as map_cb
    from callbacks import overview as overview_cb
    from callbacks import pack as pack_cb
    from callbacks import scorecard as scorecard_cb
    from callbacks import shell as shell_cb
    from callbacks import trends as trends_cb
    from layouts import shell

    settings = settings or Settings.from_env()
    repo = Repository(make_engine(settings.database_url))
    repo.ensure_schema()
    app = dash.Dash(
        __name__,
        assets_folder=str(ROOT / "assets"),
        title="Tablero MSPBS",
        serve_locally=True,
        suppress_callback_exceptions=False,
        update_title=None,
        compress=False,
    )
    app.index_string = app.index_string.replace("<html>", '<html lang="es">')
    server = app.server
    server.config["COMPRESS_MIMETYPES"] = [
        "text/html",
        "text/css",
        "application/json",
        "application/javascript",
        "text/javascript",
        "image/svg+xml",
    ]
    server.config["COMPRESS_LEVEL"] = 6
    server.config["SEND_FILE_MAX_AGE_DEFAULT"] = ASSET_MAX_AGE
    Compress(server)
    app.layout = shell.layout
    # Every page skeleton beside the frame: Dash checks callback ids against this, and
    # tests/test_app.py checks that every callback's ids exist in it. (The print pack repeats
    # other pages' ids; the validation layout is only a list of ids, so that is harmless.)
    app.validation_layout = dash.html.Div(
        [shell.layout(), *(page() for page in shell_cb.PAGE_LAYOUTS.values())]
    )
    boundaries, districts, tiles = _maps(settings)
    deps = Services(
        repo=repo,
        settings=settings,
        # Login comes later; until then every visitor has the national scope.
        scope=Scope.national,
        tiles=tiles,
        boundaries=boundaries,
        district_boundaries=districts,
    )
    for module in (shell_cb, overview_cb, map_cb, trends_cb, scorecard_cb, facility_cb, pack_cb):
        module.register(app, deps)
    _export_routes(server, deps)
    from .web import imports as import_page

    # current_user and csrf: the stubs until accounts are merged (see dashboard/web/imports.py).
    import_page.register(server, repo, settings)
    logging.getLogger("dashboard").setLevel(logging.INFO)
    return app


def _maps(settings: Settings):
    """Department boundaries (simplified once, here) and the tile grid; without a boundary
    file the map page still works through the tile grid and the facility points."""
    from .boundaries import BoundaryError, find_boundaries, load_boundaries, load_tilegrid

    log = logging.getLogger("dashboard")

    def load(path, level):
        if path is None:
            return None
        try:
            b = load_boundaries(path, level)
            log.info("%s boundaries: %s (%d units)", level, path, len(b.codes))
            return b
        except BoundaryError as exc:
            log.warning("%s boundaries not loaded: %s", level, exc)
            return None

    regions = load(settings.boundaries_path or find_boundaries({}, settings.data_dir), "region")
    districts = load(settings.district_boundaries_path, "district")
    return regions, districts, load_tilegrid()


def _export_routes(server, deps: Services) -> None:
    """GET /exportar.pdf|csv|xlsx?pagina=…&<the page's filters>: the file of exactly that view."""
    import io
    from datetime import datetime

    from flask import Response, request, send_file

    from . import exports
    from .filters import from_query
    from .i18n import t
    from .report.pdf import EngineMissing, printer
    from .report.snapshot import PDF_PAGES, banner, page_path, pdf_name

    log = logging.getLogger("dashboard")

    def view_from_request():
        ctx = deps.context()
        args = request.args.to_dict()
        page = args.pop("pagina", "resumen")
        facility = args.pop("establecimiento", None) or None
        from urllib.parse import urlencode

        f = from_query("?" + urlencode(args), ctx.cat, ctx.today, ctx.scope)
        if page not in PDF_PAGES:
            page = "resumen"
        return ctx, page, facility, f

    def message(text: str, status: int) -> Response:
        body = f"<!doctype html><meta charset='utf-8'><title>PDF</title><p style='font-family:sans-serif'>{text}</p>"
        return Response(body, status=status, mimetype="text/html")

    @server.route("/exportar.pdf")
    def export_pdf():
        ctx, page, facility, f = view_from_request()
        base = request.host_url.rstrip("/")
        try:
            with printer() as pr:
                pdf = pr.print_url(
                    base + page_path(page, f, facility),
                    banner(ctx, page, f, facility, datetime.now()),
                    lang=f.lang,
                )
        except EngineMissing as exc:
            return message(t(str(exc), f.lang), 503)
        except Exception:
            log.exception("PDF export failed for %s", request.full_path)
            return message(t("pdf_failed", f.lang), 500)
        return send_file(
            io.BytesIO(pdf),
            mimetype="application/pdf",
            as_attachment=True,
            download_name=pdf_name(ctx, page, f, facility),
        )

    tables = {
        "csv": (exports.page_csv, "text/csv"),
        "xlsx": (
            exports.page_xlsx,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    }

    @server.route("/exportar.<fmt>")
    def export_table(fmt: str):
        if fmt not in tables:
            return message("404", 404)
        ctx, page, facility, f = view_from_request()
        page = "resumen" if page == "paquete" else page
        build, mimetype = tables[fmt]
        return send_file(
            io.BytesIO(build(ctx, page, f, facility)),
            mimetype=mimetype,
            as_attachment=True,
            download_name=exports.file_name(page, f, ctx, fmt, facility),
        )
