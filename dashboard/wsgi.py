"""Production entry point: gunicorn dashboard.wsgi:server

Workers never migrate (two would race): `python -m dashboard migrate` is the release step, and
a worker whose database is behind this code refuses to start with a message saying so."""

import logging
import sys

from .app import SchemaOutOfDate, create_app

try:
    server = create_app(migrate=False).server
except SchemaOutOfDate as exc:
    logging.getLogger("dashboard").critical("%s", exc)
    print(f"dashboard: {exc}", file=sys.stderr)
    # gunicorn stops the whole server (not a restart loop) when a worker exits with 3.
    sys.exit(3)
