"""create_app(settings) -> Dash: the composition root, the only module wiring dash, layouts, callbacks."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import memo
from .accounts import Accounts
from .config import Settings
from .db import make_engine
from .repository import Repository
from .services import Services

if TYPE_CHECKING:
    from .boundaries import Boundaries

ROOT = Path(__file__).resolve().parent.parent
ASSET_MAX_AGE = 7 * 24 * 3600  # static assets are versioned by Dash's fingerprints
# The partial plotly.js bundle `make plotly` builds from package.json (scripts/plotly-bundle.js).
PLOTLY_BUNDLE = ROOT / "dashboard" / "static" / "plotly.min.js"
# Where Dash's graphs fetch plotly.js when the first chart of a visit mounts (Dash 3's renderer
# sets window._dashPlotlyJSURL to this path when serving locally); not fingerprinted.
PLOTLY_PATH = "_dash-component-suites/plotly/package_data/plotly.min.js"
PLOTLY_MAX_AGE = 24 * 3600
# Boundary files (install_boundaries): public-domain polygons, no data; the address changes
# with the content, so a browser may keep one for a year.
GEO_PATH = "/_dashboard/geo/"
GEO_MAX_AGE = 365 * 24 * 3600


class SchemaOutOfDate(RuntimeError):
    """The database is behind this code: run `python -m dashboard migrate` first."""


def create_app(
    settings: Settings | None = None, *, migrate: bool | None = None, settle_heap: bool = False
):
    """The Dash app over the configured database. `migrate`: run the migrations here (the
    embedded demo and `serve`); False: refuse to start unless the schema is current (production
    workers, where migrating is a release step); None: migrate only the embedded SQLite file.
    `settle_heap`: a serving process (serve, gunicorn) freezes its long-lived objects after
    each catalogue load (memo.settle_heap); tests, which build many apps, do not."""
    import dash
    from flask_compress import Compress

    from callbacks import briefing as briefing_cb
    from callbacks import calidad as calidad_cb
    from callbacks import equity as equity_cb
    from callbacks import facility as facility_cb
    from callbacks import map_page as map_cb
    from callbacks import ods as ods_cb
    from callbacks import overview as overview_cb
    from callbacks import pack as pack_cb
    from callbacks import scorecard as scorecard_cb
    from callbacks import shell as shell_cb
    from callbacks import trends as trends_cb
    from layouts import shell

    from .web import wirejson

    wirejson.install()
    settings = settings or Settings.from_env()
    engine = make_engine(
        settings.database_url,
        statement_timeout_s=settings.statement_timeout_s,
        pool_timeout_s=settings.pool_timeout_s,
        busy_timeout_s=settings.sqlite_busy_timeout_s,
        backend_nice=settings.db_backend_nice,
    )
    repo = Repository(
        engine,
        population_rule=settings.population_rule,
        on_load=memo.settle_heap if settle_heap else None,
    )
    _schema(repo, migrate, settings)
    app = dash.Dash(
        __name__,
        assets_folder=str(ROOT / "assets"),
        title="Tablero de desempeño",  # each page sets its own (dashboard.titles)
        serve_locally=True,
        suppress_callback_exceptions=False,
        update_title=None,  # type: ignore[arg-type]  # Dash documents None: no "Updating…"
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
    from .web import admin, auth

    auth.install(server, settings, Accounts(repo.engine))
    admin.install(server, repo.engine)
    install_plotly_bundle(server, PLOTLY_BUNDLE, app.config.requests_pathname_prefix + PLOTLY_PATH)
    app.layout = shell.layout
    # Every page skeleton beside the frame: Dash checks callback ids against this, and
    # tests/test_app.py checks that every callback's ids exist in it. (The print pack repeats
    # other pages' ids; the validation layout is only a list of ids, so that is harmless.)
    app.validation_layout = dash.html.Div(  # type: ignore[assignment]  # Dash types it None
        [shell.layout(), *(page() for page in shell_cb.PAGE_LAYOUTS.values())]
    )
    boundaries, districts, tiles = _maps(settings)
    prefix = app.config.requests_pathname_prefix
    boundaries = install_boundaries(server, boundaries, prefix)
    districts = install_boundaries(server, districts, prefix)
    deps = Services(
        repo=repo,
        settings=settings,
        # The signed-in account's scope, read per request on the server (dashboard.web.auth).
        scope=auth.current_scope,
        tiles=tiles,
        boundaries=boundaries,
        district_boundaries=districts,
        principal=auth.current_principal,
    )
    for module in (
        shell_cb,
        overview_cb,
        map_cb,
        trends_cb,
        scorecard_cb,
        facility_cb,
        pack_cb,
        calidad_cb,
        equity_cb,
        ods_cb,
        briefing_cb,
    ):
        module.register(app, deps)
    from .web import pages

    pages.install(app, deps)  # after auth: a visitor without a session goes to /login first
    from .web import health, security

    health.install(server, engine)
    _export_routes(server, deps)
    from .web import imports as import_page

    # Analysts import within their scope; the page asks the session who is uploading.
    import_page.register(server, repo, settings, current_user=auth.current_uploader)
    from .web import api

    # The read API: Bearer tokens only, the token's account scope (issue 12).
    api.install(server, repo, settings)
    security.install(app, settings)
    server.wsgi_app = health.HealthFirst(server.wsgi_app)  # type: ignore[method-assign]
    if settings.trusted_proxies:
        # Behind N reverse proxies: their X-Forwarded-For/-Proto say the client's address and
        # whether it came over HTTPS (HSTS, Secure cookie); without this setting they are ignored.
        from werkzeug.middleware.proxy_fix import ProxyFix

        server.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            server.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    logging.getLogger("dashboard").setLevel(logging.INFO)
    return app


def install_plotly_bundle(server, path: Path, url: str) -> bool:
    """Serve the partial plotly.js bundle at the address Dash's graphs load plotly.js from.

    Dash loads plotly.js only when a page first draws a dcc.Graph, so pages without charts never
    download it; this makes the download the ~440 KB (compressed) bundle of the trace types the
    product draws instead of the 1.4 MB full plotly.js. Compressed once here, not per request.
    Without the file (npm was not run: `make install` needs no npm) Dash's full bundle is served
    as before. Returns whether the bundle is served."""
    if not path.is_file():
        logging.getLogger("dashboard").warning(
            "plotly.js partial bundle %s missing (run `make plotly`): serving the full plotly.js",
            path,
        )
        return False
    # A static rule: Werkzeug prefers it to Dash's /_dash-component-suites/<package>/<path> rule.
    _serve_bytes(
        server, url, "plotly_bundle", path.read_bytes(), "application/javascript", PLOTLY_MAX_AGE
    )
    return True


def install_boundaries(server, b: Boundaries | None, prefix: str) -> Boundaries | None:
    """Serve the boundary polygons as one file whose address names its content, and return
    the boundaries with that address: a map's answer then names the file instead of carrying
    the polygons (some 47 KB for the 18 departments) every time, and the browser keeps the
    file (immutable: new polygons get a new address). Compressed once here."""
    import hashlib
    import json

    if b is None:
        return None
    raw = json.dumps(b.geojson, separators=(",", ":"), ensure_ascii=False).encode()
    url = prefix + f"{GEO_PATH}{b.level}-{hashlib.sha256(raw).hexdigest()[:16]}.json".lstrip("/")
    _serve_bytes(
        server, url, f"geometry_{b.level}", raw, "application/json", GEO_MAX_AGE, immutable=True
    )
    return replace(b, url=url)


def _serve_bytes(
    server, url: str, endpoint: str, raw: bytes, mimetype: str, max_age: int, immutable=False
) -> None:
    """One fixed file at `url`: compressed once here, gzip when the browser takes it, an ETag
    of its content (304 when unchanged), public caching for `max_age` seconds."""
    import gzip
    import hashlib

    from flask import Response, request

    packed = gzip.compress(raw, compresslevel=9, mtime=0)
    etag = hashlib.sha256(raw).hexdigest()[:32]

    def view():
        gz = "gzip" in request.headers.get("Accept-Encoding", "")
        response = Response(packed if gz else raw, mimetype=mimetype)
        if gz:
            response.headers["Content-Encoding"] = "gzip"
        response.headers["Vary"] = "Accept-Encoding"
        response.set_etag(etag)
        response.cache_control.public = True
        response.cache_control.max_age = max_age
        if immutable:
            response.cache_control.immutable = True
        return response.make_conditional(request)

    server.add_url_rule(url, endpoint=endpoint, view_func=view)


def _schema(repo: Repository, migrate: bool | None, settings: Settings) -> None:
    """Migrate, or check that someone did; a database that cannot be reached now is not a
    reason to refuse to start (pages say so until it is back)."""
    from .availability import classify
    from .db import head_revision, schema_revision

    log = logging.getLogger("dashboard")
    if migrate is None:
        migrate = repo.engine.dialect.name == "sqlite"
    try:
        if migrate:
            # Without the web's statement timeout: a migration or a rollup rebuild may take
            # longer than any page query should.
            if ":memory:" in settings.database_url:  # one connection's database: that one
                repo.ensure_schema()
                return
            unbounded = Repository(
                make_engine(settings.database_url), population_rule=settings.population_rule
            )
            try:
                unbounded.ensure_schema()
            finally:
                unbounded.engine.dispose()
            return
        current, head = schema_revision(repo.engine), head_revision()
    except Exception as exc:
        if classify(exc) == "unavailable":
            log.warning("database unavailable at start-up; schema not checked")
            return
        raise
    if current != head:
        raise SchemaOutOfDate(
            f"database schema is at revision {current or 'none'}, this code needs {head}: "
            "run `python -m dashboard migrate` (a release step) before starting the server"
        )


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

    from . import audit, exports
    from .availability import classify
    from .filters import from_query
    from .i18n import t
    from .report.pdf import EngineMissing
    from .report.pool import Busy, HostSlots, NoOrigin, PrintPool
    from .report.snapshot import PDF_PAGES, banner, page_path, pdf_name
    from .web.auth import current_principal, print_cookies
    from .web.security import message_page

    log = logging.getLogger("dashboard")
    settings = deps.settings
    pool = PrintPool(
        settings.pdf_concurrency,
        settings.pdf_queue,
        settings.pdf_queue_timeout_s,
        host_slots=HostSlots(settings.pdf_host_concurrency, settings.data_dir / "locks"),
        priority=settings.pdf_priority,
        render=render_settings(settings, server),
    )

    def view_from_request():
        ctx = deps.context()
        args = request.args.to_dict()
        page = args.pop("pagina", "resumen")
        # The facility profile's own code; on Tendencias `establecimiento` is a filter (Filters).
        facility = (
            (args.pop("establecimiento", None) or None) if page == "establecimiento" else None
        )
        from urllib.parse import urlencode

        f = from_query("?" + urlencode(args), ctx.cat, ctx.today, ctx.scope)
        if page not in PDF_PAGES:
            page = "resumen"
        if facility is not None:
            # A facility outside the caller's scope (or unknown) is not found, not half-shown.
            unit = ctx.cat.unit(facility)
            if unit is None or unit.level != 3 or not ctx.cat.in_scope(unit, ctx.scope):
                return ctx, page, None, f, False
        return ctx, page, facility, f, True

    def audited(page: str, facility: str | None, f, fmt: str) -> None:
        p = current_principal()
        detail = {"page": page, "format": fmt, "query": f.to_query(), "facility": facility}
        audit.record(
            deps.repo.engine, "export", p.email if p else None, detail, ip=request.remote_addr
        )

    def message(text: str, status: int, lang: str = "es") -> Response:
        return message_page(text, status, lang)

    @server.route("/exportar.pdf")
    def export_pdf():
        ctx, page, facility, f, found = view_from_request()
        if not found:
            return message(t("export_not_found", f.lang), 404, f.lang)
        audited(page, facility, f, "pdf")
        restricted = ctx.suppress is not None
        try:
            pdf = pool.print_page(
                page_path(page, f, facility),
                banner(ctx, page, f, facility, datetime.now()),
                # The print token for whichever origin Chromium loads: the print process's own
                # render server, or (printing in this process) this server's internal address.
                lambda origin: print_cookies(server, origin, ctx.scope, restricted),
                fallback_origin=internal_origin(settings, request.environ),
                lang=f.lang,
            )
        except NoOrigin:
            log.error("PDF: set DASHBOARD_INTERNAL_URL (no TCP address to print from)")
            return message(t("pdf_failed", f.lang), 503, f.lang)
        except Busy as exc:
            response = message(t("pdf_busy", f.lang), 503, f.lang)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except EngineMissing as exc:
            return message(t(str(exc), f.lang), 503, f.lang)
        except Exception as exc:
            if classify(exc) is not None:
                raise  # the database: the error handler answers 503
            log.exception("PDF export failed for %s", request.full_path)
            return message(t("pdf_failed", f.lang), 500, f.lang)
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
        ctx, page, facility, f, found = view_from_request()
        if not found:
            return message(t("export_not_found", f.lang), 404, f.lang)
        page = "resumen" if page == "paquete" else page
        audited(page, facility, f, fmt)
        build, mimetype = tables[fmt]
        return send_file(
            io.BytesIO(build(ctx, page, f, facility)),
            mimetype=mimetype,
            as_attachment=True,
            download_name=exports.file_name(page, f, ctx, fmt, facility),
        )


def render_settings(settings: Settings, server) -> Settings | None:
    """The settings the print process serves the app with (dashboard.report.render): these,
    signing with this app's secret (a generated one too) so its print tokens open the pages
    there. None when it cannot serve the same data (printing off the print process, or a
    private in-memory database): pages are then printed from this server's internal origin."""
    from dataclasses import replace

    from .web.auth import EXTENSION

    url = settings.database_url
    if settings.pdf_priority == "off" or ":memory:" in url or url.rstrip("/") == "sqlite:":
        return None
    secret = server.extensions[EXTENSION].secret.decode()
    return replace(settings, secret_key=secret, debug=False)


def internal_origin(settings: Settings, environ: dict) -> str | None:
    """Where this process's own Chromium loads pages to print: the configured internal URL,
    else the TCP address the server listens on (WSGI SERVER_NAME/PORT, which werkzeug and
    gunicorn take from the listening socket). Never the request's Host header, which a client
    chooses."""
    import ipaddress

    if settings.internal_url:
        return settings.internal_url
    host, port = environ.get("SERVER_NAME", ""), environ.get("SERVER_PORT", "")
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"  # listening everywhere: this machine answers on loopback
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        if host != "localhost":
            return None  # a unix socket: gunicorn then copies the Host header here
        ip = ipaddress.ip_address("127.0.0.1")
    if not port.isdigit():
        return None
    netloc = f"[{ip}]" if ip.version == 6 else str(ip)
    return f"http://{netloc}:{port}"
