"""Production entry point: gunicorn dashboard.wsgi:server"""

from .app import create_app
from .config import Settings

settings = Settings.from_env()
if not settings.secret_key:
    raise SystemExit(
        "DASHBOARD_SECRET_KEY is not set. Production needs a fixed secret shared by every worker "
        "(it signs sign-in forms and PDF print tokens), e.g.\n"
        "  export DASHBOARD_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
    )
server = create_app(settings).server
