"""Health and readiness, the database down (a banner, never a blank page; 503 for exports) and
query timeouts (a friendly message, the thread freed) on a real database and a real lock."""

from __future__ import annotations

import json
import threading
import time

import pytest
from helpers import PG_URL
from sqlalchemy import text
from web_helpers import DOWN_URL, callback_body, make_app, signed_in, url_of, with_session_cookie

from dashboard.availability import Probe, classify
from dashboard.db import make_engine
from dashboard.i18n import t

SECRETS = ("postgres", "sqlite", "psycopg", "Werkzeug", "Python", "dash", "version", "127.0.0.1")


def _callback(client, app, first_output, values):
    r = client.post("/_dash-update-component", json=callback_body(app, first_output, values))
    return r, (r.get_json() or {}).get("response", {})


# --- healthy ---------------------------------------------------------------------------------


def test_health_healthz_and_readyz_when_up(repo, tmp_path):
    client = make_app(url_of(repo), tmp_path).server.test_client()
    for path, word in (("/healthz", "ok"), ("/readyz", "ready")):
        r = client.get(path)
        assert r.status_code == 200
        assert r.mimetype == "text/plain"
        assert r.get_data(as_text=True).strip() == word  # no versions, no settings


def test_health_healthz_never_touches_the_database(repo, tmp_path):
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    app = make_app(url_of(repo), tmp_path)
    queries: list[str] = []

    def record(_conn, _cursor, statement, *_rest):
        queries.append(statement)

    event.listen(Engine, "before_cursor_execute", record)  # every engine, the app's included
    try:
        assert app.server.test_client().get("/healthz").status_code == 200
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert queries == []


# --- the database down ------------------------------------------------------------------------


@pytest.fixture
def down(tmp_path):
    app = make_app(DOWN_URL, tmp_path)
    return app, with_session_cookie(app)


def test_down_app_starts_and_healthz_answers(down):
    _app, client = down
    started = time.monotonic()
    r = client.get("/healthz")
    assert r.status_code == 200 and time.monotonic() - started < 0.2


def test_down_readyz_says_503_within_two_seconds(down):
    _app, client = down
    started = time.monotonic()
    r = client.get("/readyz")
    assert r.status_code == 503
    assert time.monotonic() - started < 2
    body = r.get_data(as_text=True)
    assert not any(s.lower() in body.lower() for s in SECRETS), body


def test_down_readyz_answers_within_two_seconds_when_the_database_hangs():
    class Hanging:
        def connect(self):
            time.sleep(5)

    probe = Probe(Hanging())  # type: ignore[arg-type]
    started = time.monotonic()
    assert probe.ready(1.5) is False
    assert probe.ready(1.5) is False  # the stuck probe is not stacked upon
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("lang", ["es", "en"])
def test_down_page_shows_a_banner_in_the_page_language(down, lang):
    app, client = down
    # A session cannot be checked without the database: a friendly page, never a blank one.
    r = client.get(f"/tendencias?lang={lang}", headers={"Accept": "text/html"})
    assert r.status_code == 503 and r.headers["Retry-After"]
    body = r.get_data(as_text=True)
    assert t("db_unavailable_title", lang) in body and t("db_unavailable_detail", lang) in body
    assert f'lang="{lang}"' in body and "Traceback" not in body
    assert "<script" not in body
    # Callbacks (JSON) get the short 503 message, and the sign-in page needs no database.
    r, _out = _callback(client, app, "url.search", {"url.search": f"?lang={lang}"})
    assert r.status_code == 503
    assert app.server.test_client().get(f"/login?lang={lang}").status_code == 200


def test_down_exports_answer_503_with_a_message(down):
    _app, client = down
    for fmt in ("csv", "xlsx", "pdf"):
        r = client.get(f"/exportar.{fmt}?pagina=resumen&lang=en")
        assert r.status_code == 503, fmt
        assert r.headers["Retry-After"]
        assert t("db_unavailable_detail", "en") in r.get_data(as_text=True)
        assert r.headers["Cache-Control"] == "private, no-store"


@pytest.mark.skipif(not PG_URL, reason="stops connections to a real PostgreSQL database")
def test_down_then_back_recovers_without_restart(repo, tmp_path):
    """The database refuses connections, then comes back: the page says so, then works, with
    no restart."""
    app = make_app(url_of(repo), tmp_path)
    client = signed_in(app, url_of(repo))
    values = {"url.pathname": "/", "url.search": ""}
    name = repo.engine.url.database
    admin = make_engine(url_of(repo).rsplit("/", 1)[0] + "/postgres")
    repo.engine.dispose()

    def allow(on: bool) -> None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(on).lower()}'))
            if not on:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"
                    ),
                    {"d": name},
                )

    allow(False)
    try:
        # The session cannot be checked: callbacks get 503, pages the banner page.
        r, _out = _callback(client, app, "url.search", values)
        assert r.status_code == 503
        page = client.get("/?lang=en", headers={"Accept": "text/html"})
        assert page.status_code == 503
        assert t("db_unavailable_title", "en") in page.get_data(as_text=True)
        assert client.get("/readyz").status_code == 503
    finally:
        allow(True)
        admin.dispose()
    r, out = _callback(client, app, "url.search", values)
    assert r.status_code == 200 and "unavailable" not in out["view"]["data"]
    assert client.get("/readyz").status_code == 200


# --- timeouts ---------------------------------------------------------------------------------


def test_timeout_sqlite_statement_is_interrupted(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'slow.sqlite3'}", statement_timeout_s=0.3)
    endless = (
        "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r"
    )
    started = time.monotonic()
    with pytest.raises(Exception) as info:
        with engine.connect() as conn:
            conn.execute(text(endless)).scalar()
    assert classify(info.value) == "timeout"
    assert time.monotonic() - started < 2
    with engine.connect() as conn:  # the connection is fine afterwards
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_timeout_classify_leaves_bugs_alone():
    assert classify(ValueError("x")) is None
    assert classify(KeyError("x")) is None


@pytest.mark.skipif(not PG_URL, reason="a real lock on PostgreSQL (DASHBOARD_TEST_DATABASE_URL)")
def test_timeout_postgres_lock_gives_a_friendly_message_and_frees_the_thread(repo, tmp_path):
    app = make_app(url_of(repo), tmp_path, statement_timeout="1")
    client = signed_in(app, url_of(repo))
    locker = make_engine(url_of(repo))
    conn = locker.connect()
    tx = conn.begin()
    conn.execute(text("LOCK TABLE org_unit IN ACCESS EXCLUSIVE MODE"))
    try:
        started = time.monotonic()
        r, out = _callback(
            client, app, "url.search", {"url.pathname": "/", "url.search": "?lang=en"}
        )
        elapsed = time.monotonic() - started
        assert r.status_code == 200
        assert out["view"]["data"]["unavailable"] == "timeout"
        assert elapsed < 5  # cancelled at 1 s, not held for as long as the lock
        r, _ = _callback(client, app, "page-content.children", {"view.data": out["view"]["data"]})
        assert t("db_timeout_title", "en") in json.dumps(r.get_json(), ensure_ascii=False)
        r = client.get("/exportar.csv?pagina=resumen&lang=en")
        assert r.status_code == 503
        assert t("db_timeout_detail", "en") in r.get_data(as_text=True)
        # The thread is free: another request is served at once (healthz needs no database).
        done = threading.Event()
        threading.Thread(target=lambda: (client.get("/healthz"), done.set())).start()
        assert done.wait(2)
    finally:
        tx.rollback()
        conn.close()
        locker.dispose()
    r, out = _callback(client, app, "url.search", {"url.pathname": "/", "url.search": ""})
    assert "unavailable" not in out["view"]["data"]


# --- /healthz in front of everything; proxies ---------------------------------------------------


def test_healthz_is_answered_before_the_application(repo, tmp_path):
    """Answered by the WSGI middleware: a Flask hook that would fail every request never runs."""
    app = make_app(url_of(repo), tmp_path)
    app.server.before_request_funcs.setdefault(None, []).insert(
        0, lambda: (_ for _ in ()).throw(RuntimeError("the application was reached"))
    )
    client = app.server.test_client()
    r = client.get("/healthz")
    assert (r.status_code, r.get_data(as_text=True)) == (200, "ok\n")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "private, no-store"
    assert client.head("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 500  # the application, reached: the hook ran


def test_hsts_behind_a_trusted_proxy_only(repo, tmp_path):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    trusting = make_app(url_of(repo), tmp_path, trusted_proxies=1).server.test_client()
    for path in ("/login", "/healthz"):
        r = trusting.get(path, headers=forwarded)
        assert r.headers["Strict-Transport-Security"].startswith("max-age="), path
    assert "Strict-Transport-Security" not in trusting.get("/login").headers
    # Off by default: a client cannot claim HTTPS (or an address) by sending the header itself.
    plain = make_app(url_of(repo), tmp_path).server.test_client()
    assert "Strict-Transport-Security" not in plain.get("/login", headers=forwarded).headers
