"""/healthz (the process answers) and /readyz (and its database does, within 2 s): plain
words for a load balancer, no versions, no settings, no error text."""

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
