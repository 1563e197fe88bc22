"""/auditoria: the audit log for admins, newest first, as a plain server-rendered table."""

from __future__ import annotations

import html
import json
from datetime import datetime
from urllib.parse import urlencode

from flask import Flask, request
from sqlalchemy.engine import Engine

from .. import audit
from ..i18n import t
from .auth import _html, _lang, _lang_links, page_html, require_admin

LIMIT = 500


def install(server: Flask, engine: Engine) -> None:
    @server.route("/auditoria")
    @require_admin
    def audit_page():
        lang = _lang()
        since_text = (request.args.get("desde") or "").strip()[:30]
        try:
            since = datetime.fromisoformat(since_text) if since_text else None
        except ValueError:
            since, since_text = None, ""
        rows = audit.entries(engine, since, limit=LIMIT)
        cells = "".join(
            "<tr>"
            f"<td class='text-nowrap'>{e.at:%Y-%m-%d %H:%M:%S}</td>"
            f"<td>{html.escape(e.actor or '')}</td>"
            f"<td><code>{html.escape(e.action)}</code></td>"
            f"<td class='small'>{html.escape(json.dumps(e.detail, ensure_ascii=False, sort_keys=True))}</td>"
            f"<td>{html.escape(e.ip or '')}</td>"
            "</tr>"
            for e in rows
        )
        head = "".join(
            f"<th scope='col'>{html.escape(t(k, lang))}</th>"
            for k in ("audit_at", "audit_actor", "audit_action", "audit_detail", "audit_ip")
        )
        table = (
            f"<div class='table-responsive'><table class='table table-sm table-striped bg-white'>"
            f"<caption>{html.escape(t('audit_limit', lang, n=LIMIT))}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table></div>"
            if rows
            else f"<p>{html.escape(t('audit_none', lang))}</p>"
        )
        body = f"""<h1 class="h3">{html.escape(t("audit_title", lang))}</h1>
<form method="get" action="/auditoria" class="row g-2 align-items-end mb-3">
<input type="hidden" name="lang" value="{lang}">
<div class="col-auto"><label class="form-label" for="desde">{html.escape(t("audit_since", lang))}</label>
<input class="form-control" type="date" id="desde" name="desde" value="{html.escape(since_text[:10])}"></div>
<div class="col-auto"><button class="btn btn-primary" type="submit">{html.escape(t("audit_show", lang))}</button></div>
<div class="col-auto"><a href="/?{urlencode({"lang": lang})}">{html.escape(t("back_home", lang))}</a></div>
<div class="col-auto"><a href="/logout?{urlencode({"lang": lang})}">{html.escape(t("logout", lang))}</a></div>
</form>{table}"""
        links = _lang_links(lang, "/auditoria", {"desde": since_text} if since_text else {})
        return _html(page_html(lang, t("audit_title", lang), body, links))
