"""Sign-in and sign-out, the guard every request passes, and the scope of the current request.

Sessions are server-side (dashboard.accounts): the cookie holds a random token, so signing out,
disabling an account or changing its role applies on the next request. Pages of the app need a
session; only the sign-in page, static assets and the health checks are open. The PDF printer
(headless Chromium loading the app's own pages) carries a short-lived HMAC-signed print token
bound to the scope of the user who asked for the PDF, valid for pages only (no exports, no admin).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from flask import Flask, Response, g, redirect, request

from .. import audit
from ..accounts import PUBLIC, Accounts, Principal
from ..catalog import Scope
from ..config import Settings
from ..i18n import DEFAULT_LANG, LANGS, t
from ..ratelimit import Limiter, make_limiter

SESSION_COOKIE = "dashboard_session"
CSRF_COOKIE = "dashboard_csrf"
PRINT_COOKIE = "dashboard_print"
PRINT_TTL_S = 10 * 60  # one PDF or one regional pack page; a fresh token per print
# Open without a session: the sign-in page, its CSS, the favicon and the health checks.
OPEN_PATHS = frozenset({"/login", "/healthz", "/readyz", "/_favicon.ico"})
OPEN_PREFIXES = ("/assets/",)
# A print token opens pages and what Dash needs to draw them, never downloads or admin pages.
PRINT_DENIED_PREFIXES = ("/exportar", "/auditoria", "/login", "/logout")
API_PREFIX = "/api/"
API_BLUEPRINT = "api_v1"
EXTENSION = "dashboard_auth"
log = logging.getLogger("dashboard")


@dataclass(frozen=True)
class AuthState:
    """What the guard needs, kept on the Flask app (no module-level state)."""

    settings: Settings
    accounts: Accounts
    limiter: Limiter
    secret: bytes
    idle: timedelta
    absolute: timedelta


# --- the current request ----------------------------------------------------------------------


def current_principal() -> Principal | None:
    return g.get("principal")


def current_uploader():
    """The signed-in account as the import page needs it (None without an account)."""
    from .imports import Uploader

    p = current_principal()
    if p is None or p.account_id is None:
        return None
    return Uploader(id=str(p.account_id), role=p.role, scope=p.scope, email=p.email)


def current_scope() -> Scope:
    """The scope of the request being served; nothing at all outside a signed-in request."""
    p = current_principal()
    return p.scope if p is not None else Scope(frozenset())


# --- signed tokens ----------------------------------------------------------------------------


def _sign(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def make_print_token(
    secret: bytes, scope: Scope, now: float | None = None, restricted: bool = False
) -> str:
    """`restricted`: the print is for a user under disclosure control (publico or a role the
    settings restrict), so the printed pages hide small counts as the screen does."""
    claims: dict = {"s": sorted(scope.roots), "l": scope.max_level}
    claims["e"] = int((now or time.time()) + PRINT_TTL_S)
    if restricted:
        claims["x"] = 1
    body = json.dumps(claims)
    b64 = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    return f"{b64}.{_sign(secret, 'print:' + b64)}"


def read_print_claims(
    secret: bytes, token: str, now: float | None = None
) -> tuple[Scope, bool] | None:
    """(scope, restricted) of a valid, unexpired print token; None otherwise."""
    b64, _, sig = (token or "").partition(".")
    if not b64 or not hmac.compare_digest(sig, _sign(secret, "print:" + b64)):
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)))
        roots, expires = frozenset(str(c) for c in body["s"]), float(body["e"])
        max_level = int(body["l"])
        restricted = bool(body.get("x", 0))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if expires < (now or time.time()):
        return None
    return Scope(roots, max_level=max_level), restricted


def print_cookies(server: Flask, url: str, scope: Scope, restricted: bool = False) -> list[dict]:
    """Cookies for a Chromium context that prints `url` with this scope (Playwright format);
    `restricted` carries the requester's disclosure control into the printed pages."""
    state: AuthState = server.extensions[EXTENSION]
    return [
        {
            "name": PRINT_COOKIE,
            "value": make_print_token(state.secret, scope, restricted=restricted),
            "url": url,
            "httpOnly": True,
            "sameSite": "Lax",
        }
    ]


# --- pages ------------------------------------------------------------------------------------


def _lang() -> str:
    lang = request.args.get("lang") or request.form.get("lang")
    return lang if lang in LANGS else DEFAULT_LANG


def safe_next(target: str | None) -> str:
    """Only a path of this site: never '//host', a scheme, a backslash trick or a control char."""
    target = (target or "").strip()
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
        or target.split("?")[0] in ("/login", "/logout")
        or len(target) > 2000
    ):
        return "/"
    return target


def page_html(lang: str, title: str, body: str, lang_links: str = "") -> str:
    """A plain server-rendered page in the app's look (vendored Bootstrap, no script)."""
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · {html.escape(t("print_title", lang))}</title>
<link rel="stylesheet" href="/assets/00-bootstrap.min.css">
<link rel="stylesheet" href="/assets/10-app.css">
</head><body>
<a class="visually-hidden-focusable skip-link" href="#main">{html.escape(t("skip_to_content", lang))}</a>
<header><nav class="navbar navbar-dark app-navbar" aria-label="{html.escape(t("app_title", lang))}">
<div class="container"><span class="navbar-brand d-flex align-items-center gap-2">
<span class="brand-mark">MSPBS</span><span class="brand-title">{html.escape(t("app_title", lang))}</span></span>
<div class="ms-auto">{lang_links}</div></div></nav></header>
<main id="main" class="container py-4" tabindex="-1">{body}</main>
</body></html>"""


def _lang_links(lang: str, path: str, params: dict[str, str]) -> str:
    out = []
    for code, label, name in (("es", "ES", "Español"), ("en", "EN", "English")):
        href = path + "?" + urlencode({**params, "lang": code})
        cls = "lang-link" + (" active" if code == lang else "")
        current = ' aria-current="true"' if code == lang else ""
        out.append(
            f'<a class="{cls}" href="{html.escape(href)}" lang="{code}" title="{name}"{current}>{label}</a>'
        )
    return ' <span class="text-white-50" aria-hidden="true">|</span> '.join(out)


def _html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    r = Response(body, status=status, mimetype="text/html")
    r.headers["Cache-Control"] = "no-store"
    for k, v in (headers or {}).items():
        r.headers[k] = v
    return r


def _wants_page() -> bool:
    """A browser navigating (redirect to sign in) rather than a script (401)."""
    if request.method != "GET" or request.path.startswith(("/_dash-", "/_reload")):
        return False
    if request.headers.get("X-Requested-With"):
        return False
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best != "application/json"


def _cookie_args(max_age: int | None = None) -> dict:
    return {
        "httponly": True,
        "samesite": "Lax",
        "secure": request.is_secure,
        "path": "/",
        "max_age": max_age,
    }


# --- install ----------------------------------------------------------------------------------


def install(server: Flask, settings: Settings, accounts: Accounts) -> AuthState:
    """Sign-in routes and the guard on every request of `server`."""
    secret = settings.secret_key
    if not secret:
        # `serve` and the tests: one key per process is enough (sessions live in the database;
        # only a pending sign-in form or print token is lost on restart). wsgi.py refuses this.
        log.warning("DASHBOARD_SECRET_KEY is not set: using a random key for this process")
        secret = secrets.token_hex(32)
    if settings.public_access:
        log.warning("DASHBOARD_PUBLIC_ACCESS=1: anonymous visitors see district aggregates")
    state = AuthState(
        settings=settings,
        accounts=accounts,
        limiter=make_limiter(settings.redis_url),
        secret=secret.encode(),
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_max_hours),
    )
    server.extensions[EXTENSION] = state
    server.secret_key = secret

    def csrf_pair() -> tuple[str, str]:
        nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        return nonce, _sign(state.secret, "csrf:" + nonce)

    def csrf_ok(field: str) -> bool:
        nonce = request.cookies.get(CSRF_COOKIE)
        sent = request.form.get(field) or ""
        if not nonce:
            return False
        return hmac.compare_digest(sent, _sign(state.secret, "csrf:" + nonce))

    def login_page(lang: str, nxt: str, email: str = "", error: str | None = None, status=200):
        nonce, token = csrf_pair()
        alert = (
            f'<div class="alert alert-danger" role="alert" id="login-error">{html.escape(error)}</div>'
            if error
            else ""
        )
        if not error and request.args.get("salida"):
            alert = f'<div class="alert alert-success" role="status">{html.escape(t("logged_out", lang))}</div>'

        action = "/login?" + urlencode({"lang": lang})
        body = f"""<div class="row justify-content-center"><div class="col-sm-9 col-md-6 col-lg-4">
<h1 class="h3 mb-2">{html.escape(t("login_title", lang))}</h1>
<p class="text-body-secondary">{html.escape(t("login_intro", lang))}</p>
{alert}
<form method="post" action="{html.escape(action)}" class="card card-body shadow-sm">
<input type="hidden" name="csrf_token" value="{token}">
<input type="hidden" name="next" value="{html.escape(nxt)}">
<input type="hidden" name="lang" value="{lang}">
<div class="mb-3"><label class="form-label" for="email">{html.escape(t("login_email", lang))}</label>
<input class="form-control" id="email" name="email" type="email" autocomplete="username"
 required autofocus value="{html.escape(email)}"{' aria-describedby="login-error"' if error else ""}></div>
<div class="mb-3"><label class="form-label" for="password">{html.escape(t("login_password", lang))}</label>
<input class="form-control" id="password" name="password" type="password"
 autocomplete="current-password" required></div>
<button class="btn btn-primary w-100" type="submit">{html.escape(t("login_submit", lang))}</button>
</form></div></div>"""
        links = _lang_links(lang, "/login", {"next": nxt} if nxt != "/" else {})
        r = _html(page_html(lang, t("login_title", lang), body, links), status)
        r.set_cookie(CSRF_COOKIE, nonce, **_cookie_args())
        return r

    @server.route("/login", methods=["GET", "POST"])
    def login():
        lang = _lang()
        nxt = safe_next(request.values.get("next"))
        if request.method == "GET":
            return login_page(lang, nxt)
        email = (request.form.get("email") or "").strip()[:254]
        if not csrf_ok("csrf_token"):
            return login_page(lang, nxt, email, t("login_expired", lang), 400)
        ip = request.remote_addr
        if state.limiter.locked(email):
            audit.record(accounts.engine, "login_failed", email, {"reason": "locked"}, ip=ip)
            return login_page(lang, nxt, email, t("login_locked", lang), 429)
        acc = accounts.authenticate(email, request.form.get("password") or "")
        if acc is None:
            count = state.limiter.fail(email)
            audit.record(accounts.engine, "login_failed", email, {}, ip=ip)
            message = t("login_locked" if count >= 5 else "login_failed", lang)
            return login_page(lang, nxt, email, message, 401)
        state.limiter.reset(email)
        # Rotation: whatever session the browser had ends; the new token is fresh.
        accounts.end_session(request.cookies.get(SESSION_COOKIE))
        accounts.purge_sessions(state.idle, state.absolute)
        token = accounts.start_session(acc.id)
        audit.record(accounts.engine, "login", acc.email, {"role": acc.role}, ip=ip)
        r = redirect(nxt, code=303)
        r.headers["Cache-Control"] = "no-store"
        r.set_cookie(SESSION_COOKIE, token, **_cookie_args(int(state.absolute.total_seconds())))
        r.delete_cookie(CSRF_COOKIE, path="/")
        return r

    @server.route("/logout", methods=["GET", "POST"])
    def logout():
        lang = _lang()
        p = current_principal()
        token = request.cookies.get(SESSION_COOKIE) or ""
        if request.method == "GET":
            # Signing out changes state, so it is a POST with a token; GET asks to confirm.
            who = p.email if p and p.email else ""
            nonce, csrf = csrf_pair()
            body = f"""<div class="row justify-content-center"><div class="col-sm-9 col-md-6 col-lg-4">
<h1 class="h3 mb-3">{html.escape(t("logout", lang))}</h1>
<p>{html.escape(t("logout_confirm", lang, email=who))}</p>
<form method="post" action="/logout?{urlencode({"lang": lang})}">
<input type="hidden" name="csrf_token" value="{csrf}">
<button class="btn btn-primary" type="submit">{html.escape(t("logout", lang))}</button>
<a class="btn btn-outline-secondary ms-2" href="/?{urlencode({"lang": lang})}">{html.escape(t("cancel", lang))}</a>
</form></div></div>"""
            r = _html(page_html(lang, t("logout", lang), body))
            r.set_cookie(CSRF_COOKIE, nonce, **_cookie_args())
            return r
        if not csrf_ok("csrf_token"):
            return _html(page_html(lang, "400", f"<p>{t('login_expired', lang)}</p>"), 400)
        accounts.end_session(token)
        if p is not None and p.email:
            audit.record(accounts.engine, "logout", p.email, {}, ip=request.remote_addr)
        out = redirect("/login?" + urlencode({"lang": lang, "salida": "1"}), code=303)
        out.delete_cookie(SESSION_COOKIE, path="/")
        out.delete_cookie(CSRF_COOKIE, path="/")
        return out

    @server.before_request
    def guard():
        path = request.path
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return None
        if path.startswith(API_PREFIX):
            # The read API authenticates Bearer tokens itself (dashboard.web.api) and never
            # reads the session or print cookies: a browser's cookie opens nothing there. Any
            # other /api/ path (Dash's catch-all page route would serve it) is a JSON 404.
            if request.routing_exception is not None:
                return None  # 404/405 raised by Flask, answered as JSON by the error handler
            if not (request.endpoint or "").startswith(API_BLUEPRINT + "."):
                from .api import json_error

                return json_error(404)
            return None
        principal = None
        acc = accounts.session_account(
            request.cookies.get(SESSION_COOKIE), state.idle, state.absolute
        )
        if acc is not None:
            principal = Principal(acc.email, acc.role, acc.scope, acc.id)
        elif request.cookies.get(PRINT_COOKIE) and not path.startswith(PRINT_DENIED_PREFIXES):
            claims = read_print_claims(state.secret, request.cookies[PRINT_COOKIE])
            if claims is not None:
                principal = Principal(None, "print", claims[0], restricted=claims[1])
        if principal is None and state.settings.public_access and path != "/logout":
            principal = Principal(None, "publico", PUBLIC)
        if principal is None:
            if path == "/logout":
                return redirect("/login", code=303)
            if _wants_page():
                nxt = request.full_path.rstrip("?")
                return redirect("/login?" + urlencode({"next": safe_next(nxt)}), code=302)
            return Response(
                json.dumps({"error": "authentication required"}),
                status=401,
                mimetype="application/json",
            )
        g.principal = principal
        if principal.sees_nothing and path != "/logout":
            lang = _lang()
            if not _wants_page():
                return Response(
                    json.dumps({"error": "no scope"}), status=403, mimetype="application/json"
                )
            body = (
                f'<h1 class="h3">{html.escape(t("no_scope_title", lang))}</h1>'
                f"<p>{html.escape(t('no_scope_detail', lang))}</p>"
                f'<p><a href="/logout?{urlencode({"lang": lang})}">{html.escape(t("logout", lang))}</a></p>'
            )
            return _html(page_html(lang, t("no_scope_title", lang), body), 403)
        return None

    return state


def require_admin(fn: Callable) -> Callable:
    """403 unless the signed-in account is an admin."""

    def inner(*args, **kwargs):
        p = current_principal()
        if p is None or not p.is_admin:
            lang = _lang()
            return _html(page_html(lang, "403", f"<p>{html.escape(t('forbidden', lang))}</p>"), 403)
        return fn(*args, **kwargs)

    inner.__name__ = fn.__name__
    return inner
