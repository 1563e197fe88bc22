"""A PDF asked of the web server is rendered by the print process's own server: the page Chromium
prints, its layout and every callback it fires never reach the interactive server, and the
requester's scope and disclosure control still hold in the printed pages."""

from __future__ import annotations

import shutil
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers import BOUNDARIES, TODAY
from pypdf import PdfReader

from dashboard.app import create_app
from dashboard.config import Settings


def text_of(pdf: bytes, tmp: Path) -> str:
    path = tmp / "out.pdf"
    path.write_bytes(pdf)
    return " ".join(" ".join(p.extract_text() for p in PdfReader(path).pages).split())


@pytest.fixture(scope="module")
def watched_server(demo, playwright_driver):
    """The app on loopback (printing from its idle print process, the default), with every
    request that reaches it recorded: (path, whether it carried the print token)."""
    from werkzeug.serving import make_server

    from dashboard.web.auth import PRINT_COOKIE

    data_dir = tempfile.mkdtemp(prefix="dashboard-render-")
    settings = Settings.from_env(
        {
            "DASHBOARD_DATABASE_URL": demo[1],
            "DASHBOARD_TODAY": TODAY.isoformat(),
            "DASHBOARD_DATA_DIR": data_dir,
            "DASHBOARD_BOUNDARIES": str(BOUNDARIES),
            "DASHBOARD_SECRET_KEY": "render-test-secret",
            "DASHBOARD_PUBLIC_ACCESS": "1",
        }
    )
    assert settings.pdf_priority == "idle"  # the production default is what is tested
    app = create_app(settings)
    seen: list[tuple[str, bool]] = []
    inner = app.server.wsgi_app

    def recording(environ, start_response):
        seen.append((environ["PATH_INFO"], PRINT_COOKIE in environ.get("HTTP_COOKIE", "")))
        return inner(environ, start_response)

    app.server.wsgi_app = recording
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen, app
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        shutil.rmtree(data_dir, ignore_errors=True)


def session_for(demo, role: str, region: str | None = None) -> str:
    import uuid

    from argon2 import PasswordHasher

    from dashboard.accounts import Accounts
    from dashboard.web.auth import SESSION_COOKIE

    repo = demo[0]
    accounts = Accounts(
        repo.engine, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    email = f"render-{uuid.uuid4().hex[:8]}@test.local"
    acc = accounts.add(repo.catalog(), email, role, uuid.uuid4().hex, region=region, actor="tests")
    return f"{SESSION_COOKIE}={accounts.start_session(acc.id)}"


def get_pdf(url: str, cookie: str | None = None) -> bytes:
    req = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(req, timeout=180) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "application/pdf"
        return r.read()


def test_the_printed_page_and_its_callbacks_never_reach_the_interactive_server(
    watched_server, demo, tmp_path
):
    base, seen, _ = watched_server
    cookie = session_for(demo, "regional", "PY-1")
    seen.clear()
    pdf = get_pdf(base + "/exportar.pdf?pagina=tendencias&lang=en", cookie)
    assert pdf.startswith(b"%PDF-")
    # The one request here is the user's; Chromium loaded the page, /_dash-layout and every
    # /_dash-update-component from the print process's render server.
    assert seen == [("/exportar.pdf", False)]
    text = text_of(pdf, tmp_path)
    # A page drawn by its callbacks (not the loading skeleton), in the requester's scope.
    assert "Concepción" in text
    assert "Central" not in text and "Alto Paraná" not in text


def test_the_render_server_keeps_the_public_disclosure_control(watched_server, tmp_path):
    """An anonymous (publico) visitor's PDF hides small counts, as the CLI's --suppress does."""
    base, seen, _ = watched_server
    seen.clear()
    q = "pagina=mapa&region=PY-11&indicador=MNI-02&periodo=202501"
    shown = text_of(get_pdf(f"{base}/exportar.pdf?{q}"), tmp_path)
    assert "<5" in shown
    assert seen == [("/exportar.pdf", False)]


def test_the_render_server_serves_the_printing_browser_only(demo, tmp_path):
    """Without a print token the loopback port answers 403 (no sign-in form, no API); with one
    it serves the pages of the token's scope."""
    from dashboard.catalog import Scope
    from dashboard.report.render import RenderServer

    settings = Settings.from_env(
        {
            "DASHBOARD_DATABASE_URL": demo[1],
            "DASHBOARD_TODAY": TODAY.isoformat(),
            "DASHBOARD_DATA_DIR": str(tmp_path),
            "DASHBOARD_SECRET_KEY": "render-test-secret",
        }
    )
    render = RenderServer(settings, migrate=False)
    with render as origin:
        for path in ("/login", "/", "/api/v1/indicators", "/_dash-layout"):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(origin + path, timeout=30)
            assert err.value.code == 403, path
        [c] = render.print_cookies(Scope.of("PY-1"))
        req = urllib.request.Request(
            origin + "/?region=PY-1", headers={"Cookie": f"{c['name']}={c['value']}"}
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 200 and b'id="react-entry-point"' in r.read()
