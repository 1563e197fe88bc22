"""Helpers for tests that talk to the Flask server through its test client: an app over a given
database URL, and callback bodies as Dash's renderer sends them."""

from __future__ import annotations

from dashboard.app import create_app
from dashboard.config import Settings

TODAY = "2026-11-29"
# Nothing listens on port 9 (discard) here: connection refused at once, as a stopped server.
DOWN_URL = "postgresql://postgres@127.0.0.1:9/dashboard_down"


def url_of(repo) -> str:
    return repo.engine.url.render_as_string(hide_password=False)


def make_app(url: str, tmp_path, **env):
    settings = Settings.from_env(
        {
            "DASHBOARD_DATABASE_URL": url,
            "DASHBOARD_DATA_DIR": str(tmp_path),
            "DASHBOARD_TODAY": TODAY,
            "DASHBOARD_SECRET_KEY": "test-secret-not-for-production",
            **{f"DASHBOARD_{k.upper()}": str(v) for k, v in env.items()},
        }
    )
    return create_app(settings)


def _split(output: str) -> list[dict]:
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    return [
        {"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1].split("@")[0]} for p in parts
    ]


def callback_key(app, first_output: str) -> str:
    """The callback_map key of the callback whose first output is `first_output` ("url.search")."""
    return next(k for k in app.callback_map if k.strip(".").startswith(first_output))


def callback_body(app, first_output: str, values: dict | None = None) -> dict:
    """A well-formed body for one of the app's callbacks; `values` maps "id.property" to the
    value sent (None otherwise); the first input is the one that changed."""
    values = values or {}
    key = callback_key(app, first_output)
    spec = app.callback_map[key]

    def items(specs):
        return [
            {
                "id": s["id"],
                "property": s["property"],
                "value": values.get(f"{s['id']}.{s['property']}"),
            }
            for s in specs
        ]

    inputs = items(spec["inputs"])
    outputs = _split(key)
    return {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": inputs,
        "state": items(spec["state"]),
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
    }


def signed_in(app, url: str, role: str = "nacional", region: str | None = None):
    """A test client of `app` with the session of a new account (fast hashes) in `url`."""
    import uuid

    from argon2 import PasswordHasher

    from dashboard.accounts import Accounts
    from dashboard.db import make_engine
    from dashboard.repository import Repository
    from dashboard.web.auth import SESSION_COOKIE

    repo = Repository(make_engine(url))
    try:
        accounts = Accounts(
            repo.engine, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        )
        who = accounts.add(
            repo.catalog(),
            f"web-{uuid.uuid4().hex[:8]}@test.local",
            role,
            "a long test password",
            region=region,
            actor="tests",
        )
        token = accounts.start_session(who.id)
    finally:
        repo.engine.dispose()
    client = app.server.test_client()
    client.set_cookie(SESSION_COOKIE, token)
    return client


def with_session_cookie(app):
    """A client that presents a session cookie (which only a reachable database could check)."""
    from dashboard.web.auth import SESSION_COOKIE

    client = app.server.test_client()
    client.set_cookie(SESSION_COOKIE, "a-session-token-the-database-would-check")
    return client
