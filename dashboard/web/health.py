"""/healthz (the process answers) and /readyz (and its database does, within 2 s): plain
words for a load balancer, no versions, no settings, no error text. /healthz is answered by a
WSGI middleware in front of everything (no Flask, no session, no database), so it stays fast
while the application is busy."""

from __future__ import annotations

from flask import Flask, Response
from sqlalchemy.engine import Engine

from ..availability import Probe

READY_DEADLINE_S = 1.5


def install(server: Flask, engine: Engine) -> None:
    probe = Probe(engine)

    def plain(text: str, status: int) -> Response:
        return Response(text + "\n", status=status, mimetype="text/plain")

    # Registered before Dash's catch-all page route matters not: Flask prefers static rules.
    @server.route("/healthz")
    def healthz():
        return plain("ok", 200)

    @server.route("/readyz")
    def readyz():
        if probe.ready(READY_DEADLINE_S):
            return plain("ready", 200)
        return plain("database unavailable", 503)


# The headers every response carries (dashboard.web.security), for a plain-text answer.
PLAIN_HEADERS = [
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Security-Policy", "default-src 'none'; script-src 'none'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "private, no-store"),
]
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


class HealthFirst:
    """WSGI middleware: GET/HEAD /healthz answered at once, before Flask, Dash, the session
    or the database are involved; everything else goes to the application."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in (
            "GET",
            "HEAD",
        ):
            body = b"ok\n"
            headers = [*PLAIN_HEADERS, ("Content-Length", str(len(body)))]
            if environ.get("wsgi.url_scheme") == "https":
                headers.append(HSTS)
            start_response("200 OK", headers)
            return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]
        return self.app(environ, start_response)
