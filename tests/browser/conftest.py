"""Browser fixtures: the demo served on 127.0.0.1, Debian's headless Chromium through Playwright,
pages that log console errors, failed requests and every attempt to leave the machine, plus the
axe-core and screenshot helpers.

Playwright never downloads a browser here: it drives /usr/bin/chromium (Debian's chromium
package, installed by .ci/run). Off CI a machine without it skips these tests; on CI (CI=true)
a missing browser fails them, so a green CI always means the browser tests ran.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from helpers import BOUNDARIES, TODAY

from dashboard.report.pdf import CHROMIUM_ARGS as PRINTER_CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("DASHBOARD_TEST_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
# Chromium on this machine: root (no sandbox), no GPU, and nothing of its own sent outside.
CHROMIUM_ARGS = PRINTER_CHROMIUM_ARGS  # the same flags the PDF printer uses
IN_CI = os.environ.get("CI") == "true"


def pytest_collection_modifyitems(config, items):
    # Everything under tests/browser/ is a browser test, marked or not, so `-m "not browser"`
    # (the PostgreSQL pass) can never start Chromium by accident.
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _missing_or_fail(what: str) -> None:
    """Skip off CI with a clear message; in CI the same gap is a failure, never a skip."""
    msg = f"browser tests need {what} (CI installs it: bash .ci/run)"
    if IN_CI:
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


@dataclass
class PageLog:
    """What a page did that a test may want to deny: console errors, page errors, failed
    requests, and requests to any host other than this machine (blocked and recorded)."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def problems(self) -> dict[str, list[str]]:
        return {k: v for k, v in vars(self).items() if v}


# --- the server ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(demo):
    """The dashboard over the session's demo store, on 127.0.0.1 and a free port, in a thread.

    Yields the base URL ("http://127.0.0.1:PORT"). The app is built by create_app(settings)
    exactly as `python -m dashboard serve` builds it, from the same environment variables.
    Every route needs a session: `session_cookie` signs a page in as a national account.
    """
    from werkzeug.serving import make_server

    from dashboard.app import create_app
    from dashboard.config import Settings

    _repo, url, _summary = demo
    env = {
        "DASHBOARD_DATABASE_URL": url,
        "DASHBOARD_TODAY": TODAY.isoformat(),
        "DASHBOARD_DATA_DIR": tempfile.mkdtemp(prefix="dashboard-browser-"),
    }
    env["DASHBOARD_BOUNDARIES"] = str(BOUNDARIES)
    app = create_app(Settings.from_env(env))
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        shutil.rmtree(env["DASHBOARD_DATA_DIR"], ignore_errors=True)


# --- the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def session_cookie(live_server, demo):
    """A session of a national account on the live server, as a Playwright cookie (made
    directly in the database: no argon2 work and no sign-in form per test)."""
    import uuid

    from argon2 import PasswordHasher

    from dashboard.accounts import Accounts
    from dashboard.web.auth import SESSION_COOKIE

    repo = demo[0]
    accounts = Accounts(
        repo.engine, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    email = f"browser-{uuid.uuid4().hex[:8]}@test.local"
    acc = accounts.add(repo.catalog(), email, "nacional", uuid.uuid4().hex, actor="tests")
    return {"name": SESSION_COOKIE, "value": accounts.start_session(acc.id), "url": live_server}


@pytest.fixture(scope="session")
def playwright_driver():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing_or_fail("the Python package playwright (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        _missing_or_fail(f"{CHROMIUM} (Debian packages chromium and chromium-driver)")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_driver):
    """Debian's Chromium, headless; Playwright gives it a fresh throwaway profile."""
    b = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield b
    b.close()


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser, page_log, request, session_cookie):
    """A new page in a new context (no storage shared between tests), signed in as a national
    account, Spanish (Paraguay), 1280×900, recording into `page_log`; any request that would
    leave the machine is aborted and recorded."""
    context = browser.new_context(
        locale="es-PY", timezone_id="America/Asuncion", viewport={"width": 1280, "height": 900}
    )
    context.add_cookies([session_cookie])
    context.set_default_timeout(30_000)

    def guard(route):
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            page_log.outside_requests.append(url)
            route.abort("blockedbyclient")
        else:
            route.continue_()

    context.route("**/*", guard)
    # Init scripts run outside the page's CSP, so the listener itself is never blocked.
    context.add_init_script(CSP_LISTENER_JS)
    p = context.new_page()
    p.on("console", lambda m: _on_console(m, page_log))
    p.on("pageerror", lambda e: page_log.page_errors.append(str(e)))
    p.on(
        "requestfailed",
        lambda r: (
            r.url not in page_log.outside_requests
            and page_log.failed_requests.append(f"{r.method} {r.url}: {r.failure}")
        ),
    )
    yield p
    # A failed test leaves a picture of what the browser showed.
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        try:
            _save(p, f"FAILED-{request.node.name}")
        except Exception:  # the page may be gone; the failure itself is what matters
            pass
    context.close()
    # Every browser test fails on a Content-Security-Policy violation, whatever it asserts.
    assert page_log.csp_violations == [], page_log.csp_violations


CSP_MARK = "CSP violation:"
CSP_LISTENER_JS = (
    "document.addEventListener('securitypolicyviolation', e => console.error("
    f"'{CSP_MARK} ' + e.effectiveDirective + ' ' + (e.blockedURI || 'inline') + ' at ' + "
    "e.sourceFile + ':' + e.lineNumber));"
)


def _on_console(msg, log: PageLog) -> None:
    if msg.type != "error":
        return
    text = _console(msg)
    log.console_errors.append(text)
    # The event, or Chromium's own report of it ("Refused to … Content Security Policy").
    if msg.text.startswith(CSP_MARK) or "Content Security Policy" in msg.text:
        log.csp_violations.append(text)


def _console(msg) -> str:
    loc = msg.location or {}
    return f"{msg.text} ({loc.get('url', '')}:{loc.get('lineNumber', '')})"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --- helpers (as fixtures, so tests import nothing from conftest) -------------------------------


def wait_for_dash(page) -> None:
    """Wait until Dash has rendered the layout and no callback is pending."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        """() => {
            const root = document.getElementById('react-entry-point');
            return root && root.children.length > 0
                && !document.querySelector('._dash-loading, [data-dash-is-loading="true"]');
        }"""
    )
    page.wait_for_load_state("networkidle")


# Dash's renderer keeps its callback queue in window.store; "idle" = nothing requested, queued,
# running or waiting for a chained callback, and no component marked as loading.
DASH_IDLE_JS = """() => {
    const state = window.store && window.store.getState();
    if (!state) return false;
    const queues = Object.assign({}, state.callbacks);
    delete queues.stored;
    delete queues.completed;
    const pending = Object.values(queues)
        .reduce((n, q) => n + (Array.isArray(q) ? q.length : 0), 0);
    return pending === 0
        && !document.querySelector('._dash-loading, [data-dash-is-loading="true"]');
}"""


def wait_for_callbacks(page) -> None:
    """Wait until no Dash callback is pending. After a click or a select the network may not
    have started yet (so "networkidle", already reached, returns at once); the store knows."""
    page.wait_for_function(DASH_IDLE_JS)
    page.wait_for_load_state("networkidle")
    page.wait_for_function(DASH_IDLE_JS)


@pytest.fixture(scope="session")
def settle():
    """settle(page): wait for Dash's callbacks to finish after an interaction in the page."""
    return wait_for_callbacks


@pytest.fixture
def open_page(page, live_server):
    """open_page(path="/") -> page: load a path of the live server and wait for Dash to settle."""

    def _open(path: str = "/"):
        page.goto(live_server + path)
        wait_for_dash(page)
        return page

    return _open


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "page"


def _save(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{_safe_name(name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def snap():
    """snap(page, name) -> Path: a full-page PNG under artifacts/screenshots/ for humans to see."""
    return _save


@pytest.fixture(scope="session")
def axe():
    """axe(page, **options) -> violations: runs axe-core (node_modules, pinned by
    package-lock.json) in the page; each violation is {id, impact, help, targets}."""
    if not AXE_JS.is_file():
        _missing_or_fail(f"{AXE_JS.relative_to(ROOT)} (npm ci)")

    def run(page, options: dict | None = None) -> list[dict]:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol, not a <script> tag the CSP would block.
            page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
        return page.evaluate(
            """async (options) => {
                const result = await axe.run(document, options);
                return result.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    targets: v.nodes.map(n => n.target.join(' ')),
                }));
            }""",
            options or {"resultTypes": ["violations"]},
        )

    return run
