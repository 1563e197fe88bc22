"""Security headers, request limits, callback body checks and error pages that never leak a
traceback or a version: everything between the network and Dash's own routes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, request
from werkzeug.exceptions import HTTPException

from ..availability import classify
from ..config import Settings
from ..i18n import t
from .api import is_api, json_error

log = logging.getLogger("dashboard")

DISPATCH = "/_dash-update-component"
# Data leaves the server only through these; nothing of it may sit in a shared cache.
PRIVATE_PREFIXES = ("/exportar.", DISPATCH, "/readyz", "/healthz")
RETRY_AFTER_S = 30


def csp(script_hashes: list[str]) -> str:
    """The Content-Security-Policy: scripts only from this origin or with a known hash (Dash's
    inline renderer start-up and clientside callbacks), no eval. plotly sets inline styles, so
    styles may be inline; they cannot run code."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{k} {' '.join(v)}" for k, v in directives.items())


def request_lang() -> str:
    """The language of a page the server answers itself (errors, 503s): the URL's, else Spanish."""
    if request.args.get("lang") == "en":
        return "en"
    referrer = request.referrer or ""
    return "en" if "lang=en" in referrer else "es"


def message_page(text: str, status: int, lang: str = "es") -> Response:
    """A minimal page of its own (no scripts, so no CSP hash to compute) for errors and 503s."""
    from html import escape

    body = (
        f"<!doctype html><html lang='{lang}'><meta charset='utf-8'>"
        f"<title>{escape(t('app_title', lang))}</title>"
        f"<p style='font-family:sans-serif'>{escape(text)}</p></html>"
    )
    response = Response(body, status=status, mimetype="text/html")
    if status in (503, 429):
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def db_page(kind: str, lang: str) -> Response:
    """The database is down or too slow: a page in the app's frame and the page's language with
    the banner (a session cannot even be checked without the database), never a blank page."""
    from html import escape

    from .auth import page_html

    body = (
        f'<div class="alert alert-warning error-state db-state" role="alert">'
        f"<strong>{escape(t(f'db_{kind}_title', lang))}</strong><br>"
        f"{escape(t(f'db_{kind}_detail', lang))}</div>"
        f'<p><a href="{escape(request.full_path.rstrip("?"))}">{escape(t("retry", lang))}</a></p>'
    )
    response = Response(
        page_html(lang, t(f"db_{kind}_title", lang), body), status=503, mimetype="text/html"
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def callback_body_problem(body: Any, callback_map: dict[str, dict]) -> str | None:
    """Why a /_dash-update-component body is not one Dash's renderer would send for a callback
    of this app (None when it is): shapes are checked before Dash indexes into them."""
    if not isinstance(body, dict):
        return "body is not a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        return "unknown output"
    spec = callback_map[output]
    for key in ("inputs", "state"):
        items = body.get(key, [])
        expected = spec.get(key) or []
        if not isinstance(items, list) or len(items) != len(expected):
            return f"{key}: wrong length"
        for item, want in zip(items, expected, strict=True):
            if not isinstance(item, dict):
                return f"{key}: not an object"
            if item.get("id") != want.get("id") or item.get("property") != want.get("property"):
                return f"{key}: unexpected id or property"
    outputs = body.get("outputs")
    if outputs is not None:
        many = outputs if isinstance(outputs, list) else [outputs]
        if not all(
            isinstance(o, dict)
            and isinstance(o.get("id"), str)
            and isinstance(o.get("property"), str)
            for o in many
        ):
            return "outputs: wrong shape"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds: wrong shape"
    return None


def install(app: Any, settings: Settings) -> None:
    """Wire headers, limits, the callback body check and error handlers into a built Dash app.
    Call after every callback is registered: the CSP carries the hashes of their inline scripts."""
    server: Flask = app.server
    server.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    server.config["MAX_FORM_MEMORY_SIZE"] = settings.max_body_bytes
    policy = csp(list(app.csp_hashes()))

    @server.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        h["Content-Security-Policy"] = policy
        h["X-Content-Type-Options"] = "nosniff"
        h["X-Frame-Options"] = "DENY"
        h["Referrer-Policy"] = "same-origin"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.is_secure:
            h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.path.startswith(PRIVATE_PREFIXES):
            h["Cache-Control"] = "private, no-store"
            h.pop("Expires", None)
        return response

    # Dash registers /_reload-hash always; it lists installed packages and only serves hot reload.
    if not settings.debug:
        server.view_functions["/_reload-hash"] = _not_found

    _check_callback_bodies(server, app)

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        if status < 400:
            return exc
        if is_api(request.path):
            # The read API answers scripts: JSON with a code, never an HTML page.
            response = json_error(status)
            allow = exc.get_response().headers.get("Allow")
            if allow:
                response.headers["Allow"] = allow
            return response
        # A plain page of our own: no input echoed, nothing of the stack; Allow kept for 405.
        response = message_page(f"{status} {exc.name}", status, request_lang())
        allow = exc.get_response().headers.get("Allow")
        if allow:
            response.headers["Allow"] = allow
        return response

    @server.errorhandler(Exception)
    def _error(exc: Exception):
        lang = request_lang()
        kind = classify(exc)
        if is_api(request.path):
            if kind is not None:
                log.warning("database %s on %s: %s", kind, request.path, exc.__class__.__name__)
                response = json_error(503)
                response.headers["Retry-After"] = str(RETRY_AFTER_S)
                return response
            log.exception("unhandled error on %s", request.path)
            return json_error(500)
        if kind is not None:
            log.warning("database %s on %s: %s", kind, request.path, exc.__class__.__name__)
            if request.method == "GET" and request.accept_mimetypes.accept_html:
                return db_page(kind, lang)
            return message_page(t(f"db_{kind}_detail", lang), 503, lang)
        log.exception("unhandled error on %s", request.path)
        return message_page(t("error_title", lang) + " " + t("error_detail", lang), 500, lang)


def _not_found():
    abort(404)


def _check_callback_bodies(server: Flask, app: Any) -> None:
    """A malformed callback body is the client's error (400), never the server's (500)."""
    dispatch: Callable[[], Any] = server.view_functions[DISPATCH]

    def checked_dispatch():
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # "[[[[…" thousands deep
            abort(400, "body nested too deep")
        problem = callback_body_problem(body, app.callback_map)
        if problem:
            abort(400, problem)
        assert isinstance(body, dict)  # callback_body_problem checked
        try:
            return dispatch()
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            # Values of the wrong type in a well-formed body (a list where a code belongs, …):
            # a forged request, logged with its traceback so a real bug is still seen.
            if classify(exc) is not None:
                raise
            log.error("bad callback input for %s", body.get("output"), exc_info=True)
            abort(400, "bad callback input")

    server.view_functions[DISPATCH] = checked_dispatch
