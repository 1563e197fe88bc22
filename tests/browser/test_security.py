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
    from werkzeug.serving import make_server

    from tests.web_helpers import DOWN_URL, make_app

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
