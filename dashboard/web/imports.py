"""/importar: an analyst uploads a data or metadata file, reads its dry-run report, confirms.

Plain Flask routes and a server-rendered page (no Dash callback): the file travels as an
ordinary multipart POST with its own size cap, never base64 through a callback. The upload is
kept on the server between the preview and the confirmation, under a random token, with its
SHA-256; the browser only ever sends the token back. Confirming re-checks the hash and runs
the whole import again (same rules as `python -m dashboard import`: all or nothing, inside
the user's scope).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from flask import Blueprint, Flask, Response, g, render_template_string, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename

from .. import audit
from ..accounts import IMPORT_ROLES
from ..catalog import Scope
from ..config import Settings
from ..i18n import fmt_number, lang_or_default, t
from ..importers import ImportLimits, ImportReport, import_file
from ..repository import Repository

log = logging.getLogger("dashboard")

FIELD_FILE = "archivo"
FIELD_TOKEN = "token"
CSRF_FIELD = "csrf_token"
# Multipart headers and the small form fields around the file.
FORM_OVERHEAD = 64 * 1024
STAGING_TTL_S = 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_BLOCK = 1024 * 1024


# ==== who is asking ===============================================================================
class ImportUser(Protocol):
    """What the page needs to know about the signed-in user."""

    @property
    def id(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def scope(self) -> Scope: ...

    @property
    def email(self) -> str | None: ...


@dataclass(frozen=True)
class Uploader:
    id: str  # a stable account id: a preview can only be confirmed by who uploaded it
    role: str
    scope: Scope
    email: str | None = None


# ==== CSRF (swappable for the accounts' helper at merge) =====================================
class Csrf(Protocol):
    def token(self) -> str:
        """The value to put in the form's csrf_token field for this request."""
        ...

    def valid(self, submitted: str | None) -> bool:
        """Whether a POSTed csrf_token is the one this browser was given."""
        ...


class CookieCsrf:
    """Double-submit cookie: a random value in an HttpOnly, SameSite=Strict cookie and in the
    form; a cross-site form cannot read the cookie, so it cannot send the matching field.
    Needs no session or secret key (sign-in does not exist yet in this branch)."""

    cookie = "importar_csrf"

    def token(self) -> str:
        current = request.cookies.get(self.cookie, "")
        if _TOKEN.fullmatch(current):
            return current
        if "import_csrf_new" not in g:
            g.import_csrf_new = secrets.token_urlsafe(32)
        return g.import_csrf_new

    def valid(self, submitted: str | None) -> bool:
        current = request.cookies.get(self.cookie, "")
        return bool(
            submitted and _TOKEN.fullmatch(current) and hmac.compare_digest(submitted, current)
        )

    def set_cookie(self, response: Response) -> Response:
        new = g.get("import_csrf_new")
        if new:
            response.set_cookie(
                self.cookie,
                new,
                httponly=True,
                samesite="Strict",
                secure=request.is_secure,
                path="/importar",
            )
        return response


# ==== the upload kept between preview and confirmation =======================================
@dataclass(frozen=True)
class Staged:
    token: str
    path: Path
    sha256: str


class Staging:
    """Uploads waiting for confirmation: one directory per random token, holding the file and
    what the server decided about it (owner, hash, time). Nothing here comes from the client
    but the token, and the token only names a directory."""

    def __init__(self, root: Path, ttl_s: int = STAGING_TTL_S):
        self.root, self.ttl_s = root, ttl_s

    def save(self, stream: IO[bytes], filename: str, user_id: str, max_bytes: int) -> Staged:
        """Copy the upload, hashing it; RequestEntityTooLarge past max_bytes."""
        self.sweep()
        token = secrets.token_urlsafe(32)
        folder = self.root / token
        folder.mkdir(parents=True, mode=0o700)
        path = folder / filename
        digest, size = hashlib.sha256(), 0
        try:
            with path.open("wb") as out:
                while block := stream.read(_BLOCK):
                    size += len(block)
                    if size > max_bytes:
                        raise RequestEntityTooLarge()
                    digest.update(block)
                    out.write(block)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        sha = digest.hexdigest()
        meta = {"file": filename, "sha256": sha, "user": user_id, "at": time.time()}
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        return Staged(token, path, sha)

    def claim(self, token: str, user_id: str) -> Staged | None:
        """The staged upload for this user, moved aside so a second click cannot import it
        twice; None if unknown, expired, someone else's or changed on disk since the preview."""
        if not _TOKEN.fullmatch(token or ""):
            return None
        folder = self.root / token
        claimed = self.root / f"{token}.confirming"
        try:
            folder.rename(claimed)
        except OSError:
            return None
        try:
            meta = json.loads((claimed / "meta.json").read_text(encoding="utf-8"))
            path = claimed / meta["file"]
            fresh = time.time() - float(meta["at"]) <= self.ttl_s
            if not fresh or meta["user"] != user_id or _sha256(path) != meta["sha256"]:
                self.discard(claimed)
                return None
            return Staged(token, path, meta["sha256"])
        except (OSError, ValueError, KeyError):
            self.discard(claimed)
            return None

    def discard(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    def sweep(self) -> None:
        """Drop previews nobody confirmed."""
        if not self.root.is_dir():
            return
        limit = time.time() - self.ttl_s
        for folder in self.root.iterdir():
            try:
                if folder.stat().st_mtime < limit:
                    self.discard(folder)
            except OSError:
                continue


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _safe_name(name: str | None) -> str:
    """The uploaded file's name, made safe to store (the suffix picks the format)."""
    raw = Path(name or "").name
    safe = secure_filename(raw)
    if not safe or safe == "meta.json":
        safe = "archivo" + "".join(Path(raw).suffixes[-1:]).lower()
    return safe[:120]


# ==== the page ===============================================================================
def register(
    server: Flask,
    repo: Repository,
    settings: Settings,
    *,
    current_user: Callable[[], ImportUser | None],
    csrf: Csrf | None = None,
    staging: Staging | None = None,
) -> Blueprint:
    """Adds GET/POST /importar and POST /importar/confirmar to the Flask server."""
    guard = csrf or CookieCsrf()
    store = staging or Staging(settings.data_dir / "import-staging")
    max_bytes = settings.import_max_bytes
    limits = ImportLimits.for_size(max_bytes)
    bp = Blueprint("importar", __name__)
    if isinstance(guard, CookieCsrf):
        bp.after_request(guard.set_cookie)

    def lang() -> str:
        return lang_or_default(request.values.get("lang"))

    def page(status: int = 200, **content) -> Response:
        lng = lang()
        html = render_template_string(
            PAGE,
            lang=lng,
            t=lambda key, **kw: t(key, lng, **kw),
            n=lambda v: fmt_number(v, lng),
            other="en" if lng == "es" else "es",
            csrf_field=CSRF_FIELD,
            csrf_token=guard.token(),
            max_mb=fmt_number(max_bytes / 1024 / 1024, lng),
            field_file=FIELD_FILE,
            field_token=FIELD_TOKEN,
            **content,
        )
        response = Response(html, status=status, mimetype="text/html")
        # The report names files and values: nothing to cache or share.
        response.headers["Cache-Control"] = "no-store"
        return response

    def refused() -> Response | None:
        """401/403 unless an analyst is signed in."""
        user = current_user()
        if user is None:
            return page(401, error=t("import_page_sign_in", lang()))
        if user.role not in IMPORT_ROLES:
            return page(403, error=t("import_page_forbidden", lang()))
        return None

    def bad_csrf() -> Response | None:
        if guard.valid(request.form.get(CSRF_FIELD)):
            return None
        return page(400, error=t("import_page_csrf", lang()))

    @bp.get("/importar")
    def form() -> Response:
        return refused() or page()

    @bp.post("/importar")
    def preview() -> Response:
        denied = refused()
        if denied:
            return denied
        # Its own cap, not the app's body limit for callbacks (Flask >= 3.1: per request).
        request.max_content_length = max_bytes + FORM_OVERHEAD

        def too_big() -> Response:
            return page(413, error=t("import_page_too_large", lang(), limit=_mb(max_bytes, lang())))

        if (request.content_length or 0) > max_bytes + FORM_OVERHEAD:
            return too_big()
        try:
            bad = bad_csrf()
            if bad:
                return bad
            upload = request.files.get(FIELD_FILE)
            if upload is None or not upload.filename:
                return page(400, error=t("import_page_no_file", lang()))
            user = current_user()
            assert user is not None  # refused() said so
            staged = store.save(upload.stream, _safe_name(upload.filename), user.id, max_bytes)
        except RequestEntityTooLarge:
            return too_big()
        report = run(staged.path, user.scope, dry_run=True)
        if not report.ok:
            store.discard(staged.path.parent)
        log.info(
            "import preview by %s: %s (%s) %s",
            user.id,
            report.file,
            staged.sha256[:12],
            "ok" if report.ok else f"{report.problem_count} problems",
        )
        return page(
            report=report,
            rows=_problem_rows(report, lang()),
            token=staged.token if report.ok else None,
        )

    def run(path: Path, scope: Scope, *, dry_run: bool) -> ImportReport:
        """The command line's import, with the uploader's scope: the same rules, all or nothing."""
        return import_file(
            repo,
            path,
            dry_run=dry_run,
            today=settings.current_date(),
            scope=scope,
            limits=limits,
            org_systems=settings.fhir_org_systems,
        )

    @bp.post("/importar/confirmar")
    def confirm() -> Response:
        denied = refused() or bad_csrf()
        if denied:
            return denied
        user = current_user()
        assert user is not None
        staged = store.claim(request.form.get(FIELD_TOKEN, ""), user.id)
        if staged is None:
            return page(409, error=t("import_page_expired", lang()))
        try:
            report = run(staged.path, user.scope, dry_run=False)
        finally:
            store.discard(staged.path.parent)
        log.info(
            "import by %s: %s (%s) %s",
            user.id,
            report.file,
            staged.sha256[:12],
            report.summary("en"),
        )
        audit.record(
            repo.engine,
            "import",
            user.email,
            report.audit_detail(staged.sha256, "web"),
            ip=request.remote_addr,
        )
        return page(report=report, rows=_problem_rows(report, lang()), done=True)

    server.register_blueprint(bp)
    return bp


def _mb(n: int, lang: str) -> str:
    return fmt_number(n / 1024 / 1024, lang) + " MB"


def _problem_rows(report: ImportReport, lang: str) -> list[dict[str, str]]:
    """Each problem as the table shows it: row, column, value and the reason in words."""
    return [
        {
            # FHIR and ADX problems carry a JSON path or a line and element instead.
            "row": str(p.row) if p.row and not p.where else "—",
            "column": p.location(lang) if p.where else (p.column or "—"),
            "value": "—"
            if p.value is None
            else (p.value if len(p.value) <= 80 else p.value[:77] + "…"),
            "reason": p.message(lang),
        }
        for p in report.problems
    ]


PAGE = """<!doctype html>
<html lang="{{ lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ t("import_page_title") }} · {{ t("app_title") }}</title>
<link rel="stylesheet" href="/assets/00-bootstrap.min.css">
<link rel="stylesheet" href="/assets/10-app.css">
</head>
<body>
<a class="skip-link visually-hidden-focusable" href="#contenido">{{ t("import_page_skip") }}</a>
<header class="navbar app-navbar navbar-dark px-3 py-2">
  <a class="navbar-brand d-flex align-items-center gap-2" href="/?lang={{ lang }}">
    <span class="brand-mark">MSPBS</span><span class="brand-title">{{ t("app_title") }}</span>
  </a>
  <a class="lang-link" href="/importar?lang={{ other }}" lang="{{ other }}">{{ t("import_page_other_lang") }}</a>
</header>
<main id="contenido" class="container py-4" tabindex="-1">
  <h1 class="h3">{{ t("import_page_title") }}</h1>
  <p>{{ t("import_page_intro") }}</p>

  {% if error %}
  <div class="alert alert-danger" role="alert">{{ error }}</div>
  {% endif %}

  {% if report %}
  <section aria-labelledby="report-title" class="card mb-4">
    <div class="card-body">
      <h2 id="report-title" class="h5">
        {% if done %}{{ t("import_page_result_title") }}{% else %}{{ t("import_page_report_title") }}{% endif %}
      </h2>
      <p class="mb-2"><strong>{{ report.file }}</strong> · {{ report.format }}</p>
      {% if report.ok %}
      <table class="table table-sm w-auto" id="import-counts">
        <caption class="visually-hidden">{{ t("import_page_counts_caption") }}</caption>
        <tbody>
          <tr><th scope="row">{{ t("import_page_rows") }}</th><td class="text-end">{{ n(report.rows) }}</td></tr>
          <tr><th scope="row">{% if done %}{{ t("import_page_inserted") }}{% else %}{{ t("import_page_to_insert") }}{% endif %}</th><td class="text-end" data-count="inserted">{{ n(report.inserted) }}</td></tr>
          <tr><th scope="row">{% if done %}{{ t("import_page_updated") }}{% else %}{{ t("import_page_to_update") }}{% endif %}</th><td class="text-end" data-count="updated">{{ n(report.updated) }}</td></tr>
          <tr><th scope="row">{{ t("import_page_unchanged") }}</th><td class="text-end" data-count="unchanged">{{ n(report.unchanged) }}</td></tr>
        </tbody>
      </table>
      {% if done %}
      <div class="alert alert-success" role="status">{{ t("import_page_done") }}</div>
      {% else %}
      <p>{{ t("import_page_nothing_yet") }}</p>
      <form method="post" action="/importar/confirmar?lang={{ lang }}" class="d-flex gap-2">
        <input type="hidden" name="{{ csrf_field }}" value="{{ csrf_token }}">
        <input type="hidden" name="{{ field_token }}" value="{{ token }}">
        <input type="hidden" name="lang" value="{{ lang }}">
        <button type="submit" class="btn btn-primary">{{ t("import_page_confirm") }}</button>
        <a class="btn btn-outline-secondary" href="/importar?lang={{ lang }}">{{ t("import_page_cancel") }}</a>
      </form>
      {% endif %}
      {% else %}
      <div class="alert alert-danger" role="alert">
        {{ t("import_page_refused", count=n(report.problem_count)) }}
      </div>
      <div class="table-responsive">
      <table class="table table-sm table-striped" id="import-problems">
        {% if report.format in ("fhir-measurereport", "adx") %}
        {# FHIR and ADX: a JSON path or an XML line and element instead of row and column #}
        <caption>{{ t("import_page_problems_caption_structured") }}</caption>
        <thead><tr>
          <th scope="col">{{ t("import_page_col_where") }}</th>
          <th scope="col">{{ t("import_page_col_value") }}</th>
          <th scope="col">{{ t("import_page_col_reason") }}</th>
        </tr></thead>
        <tbody>
        {% for p in rows %}
          <tr><td><code>{{ p.column }}</code></td><td><code>{{ p.value }}</code></td><td>{{ p.reason }}</td></tr>
        {% endfor %}
        {% else %}
        <caption>{{ t("import_page_problems_caption") }}</caption>
        <thead><tr>
          <th scope="col">{{ t("import_page_col_row") }}</th>
          <th scope="col">{{ t("import_page_col_column") }}</th>
          <th scope="col">{{ t("import_page_col_value") }}</th>
          <th scope="col">{{ t("import_page_col_reason") }}</th>
        </tr></thead>
        <tbody>
        {% for p in rows %}
          <tr><td>{{ p.row }}</td><td>{{ p.column }}</td><td><code>{{ p.value }}</code></td><td>{{ p.reason }}</td></tr>
        {% endfor %}
        {% endif %}
        </tbody>
      </table>
      </div>
      {% if report.more_problems %}
      <p>{{ t("import_page_more", count=n(report.more_problems)) }}</p>
      {% endif %}
      {% endif %}
    </div>
  </section>
  {% endif %}

  {% if not report or done or not report.ok %}
  <form method="post" action="/importar?lang={{ lang }}" enctype="multipart/form-data" class="card card-body">
    <input type="hidden" name="{{ csrf_field }}" value="{{ csrf_token }}">
    <input type="hidden" name="lang" value="{{ lang }}">
    <div class="mb-3">
      <label for="archivo" class="form-label">{{ t("import_page_file_label") }}</label>
      <input type="file" class="form-control" id="archivo" name="{{ field_file }}" required
             accept=".csv,.txt,.tsv,.xlsx,.xlsm,.json,.ndjson,.xml" aria-describedby="archivo-help">
      <div id="archivo-help" class="form-text">{{ t("import_page_file_help", max=max_mb) }}</div>
    </div>
    <div><button type="submit" class="btn btn-primary">{{ t("import_page_check") }}</button></div>
  </form>
  {% endif %}
</main>
</body>
</html>
"""
