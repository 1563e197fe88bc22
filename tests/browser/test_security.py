"""The Content-Security-Policy in a real browser (the page fixture fails any test on a violation;
here: that it does notice one), and the page a user sees with the database down."""

from __future__ import annotations

import tempfile
import threading

import pytest

from dashboard.i18n import t

pytestmark = pytest.mark.browser


def test_csp_violation_is_noticed_by_the_page_log(page, live_server, page_log):
    probe = live_server + "/csp-probe"
    page.route(
        probe,
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            headers={"Content-Security-Policy": "script-src 'self'"},
            body="<!doctype html><title>x</title><script>document.title='ran'</script>",
        ),
    )
    page.goto(probe)
    page.wait_for_timeout(300)
    assert page.title() == "x"  # the inline script was blocked
    assert page_log.csp_violations, "a blocked inline script must be recorded"
    page_log.csp_violations.clear()  # this test wanted one; the fixture must not fail on it


def test_csp_header_on_the_page_and_no_violation(page, live_server, page_log, settle):
    response = page.goto(live_server + "/tendencias?comparar=PY-1,PY-2")
    settle(page)
    policy = response.headers["content-security-policy"]
    assert "'unsafe-eval'" not in policy and "frame-ancestors 'none'" in policy
    assert page.locator(".js-plotly-plot").count() >= 1
    assert page_log.csp_violations == []


@pytest.fixture
def down_server():
    from web_helpers import DOWN_URL, make_app
    from werkzeug.serving import make_server

    app = make_app(DOWN_URL, tempfile.mkdtemp(prefix="dashboard-down-"))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_down_page_shows_the_banner_not_a_blank_page(page, down_server, page_log, snap, lang):
    page.goto(f"{down_server}/mapa?lang={lang}")
    banner = page.locator(".db-state")
    banner.wait_for(state="visible", timeout=15_000)
    assert t("db_unavailable_title", lang) in banner.inner_text()
    # The frame is there and speaks the page's language.
    assert page.locator("nav").count() >= 1
    assert page.evaluate("document.documentElement.lang") == lang
    snap(page, f"database-down-{lang}")
    assert page_log.page_errors == []
    assert page_log.csp_violations == []


# --- PDF printing: where Chromium may go -------------------------------------------------------


def test_pdf_ignores_the_host_header(live_server, session_cookie):
    """The printed page comes from the server's own address, whatever Host the client sends."""
    import urllib.request

    req = urllib.request.Request(
        live_server + "/exportar.pdf?pagina=tendencias&lang=en",
        headers={
            "Host": "attacker.example:8050",
            "Cookie": f"{session_cookie['name']}={session_cookie['value']}",
        },
    )
    with urllib.request.urlopen(req, timeout=120) as r:
        assert r.status == 200
        assert r.headers["Cache-Control"] == "private, no-store"
        assert r.read(5) == b"%PDF-"


@pytest.fixture
def two_origins():
    """A page on one local origin that asks for an image and a script from another."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits: list[str] = []

    class Other(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    other = ThreadingHTTPServer(("127.0.0.1", 0), Other)
    other_url = f"http://localhost:{other.server_port}"

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = (
                "<!doctype html><title>p</title><div id='page-content'><p>printed</p>"
                f"<img src='{other_url}/pixel.png'><script src='{other_url}/x.js'></script>"
                f"<iframe src='{other_url}/frame'></iframe></div>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    page = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    servers = [other, page]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{page.server_port}/", hits
    for s in servers:
        s.shutdown()
        s.server_close()


def test_printer_refuses_every_other_origin(two_origins):
    from dashboard.report.pdf import Banner, printer

    url, hits = two_origins
    with printer() as pr:
        pdf = pr.print_url(url, Banner("t", "p", [], "", "", ""), timeout_ms=20_000)
    assert pdf.startswith(b"%PDF-")
    assert hits == []  # nothing reached the other origin
