"""Production entry point: gunicorn dashboard.wsgi:server

Workers never migrate (two would race): `python -m dashboard migrate` is the release step, and
a worker whose database is behind this code refuses to start with a message saying so. Without
DASHBOARD_SECRET_KEY it refuses to start too."""

import logging
import sys

from .app import SchemaOutOfDate, create_app
from .config import Settings

settings = Settings.from_env()
if not settings.secret_key:
    raise SystemExit(
        "DASHBOARD_SECRET_KEY is not set. Production needs a fixed secret shared by every worker "
        "(it signs sign-in forms and PDF print tokens), e.g.\n"
        "  export DASHBOARD_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
    )
try:
    server = create_app(settings, migrate=False, settle_heap=True).server
except SchemaOutOfDate as exc:
    logging.getLogger("dashboard").critical("%s", exc)
    print(f"dashboard: {exc}", file=sys.stderr)
    # gunicorn stops the whole server (not a restart loop) when a worker exits with 3.
    sys.exit(3)
