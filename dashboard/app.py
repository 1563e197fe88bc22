"""create_app(settings) -> Dash: the composition root, the only module wiring dash, layouts, callbacks."""

from __future__ import annotations

from pathlib import Path

from .config import Settings
from .db import make_engine
from .repository import Repository

ROOT = Path(__file__).resolve().parent.parent


def create_app(settings: Settings | None = None):
    import dash
    from flask_compress import Compress

    from callbacks import overview as overview_callbacks
    from layouts import overview

    settings = settings or Settings.from_env()
    repo = Repository(make_engine(settings.database_url))
    repo.ensure_schema()
    app = dash.Dash(
        __name__,
        assets_folder=str(ROOT / "assets"),
        title="Tablero MSPBS",
        serve_locally=True,
        suppress_callback_exceptions=False,
    )
    Compress(app.server)
    app.layout = overview.layout
    overview_callbacks.register(app, {"repo": repo, "settings": settings})
    return app
