"""Print dashboard pages to PDF with headless Chromium (Debian's, driven by Playwright).

Why a browser and not a PDF library: the PDF is then exactly the view on screen — the same
layout, the same figure builders, the same numbers — with charts and maps as vector SVG, and
tables that paginate with their header row repeated. Chromium prints a page in about 1.5 s
once it is up (0.2 s to start), which keeps a page under the 4 s goal and an 18-region pack
under a minute in one browser. kaleido would need a second layout engine for the tables.
"""

from __future__ import annotations

import html
import os
import queue
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# A4 landscape at 96 px/in is 1123 × 794 px; the viewport is the printable width so the
# page lays out once, as it will print.
PAGE_FORMAT = "A4"
MARGINS = {"top": "24mm", "bottom": "14mm", "left": "10mm", "right": "10mm"}
VIEWPORT = {"width": 1047, "height": 700}
READY_JS = """() => {
  const content = document.querySelector('#page-content');
  if (!content || !content.children.length) return false;
  if (document.querySelector('[data-dash-is-loading="true"]')) return false;
  const graphs = [...document.querySelectorAll('.js-plotly-plot')];
  if (!graphs.every(g => g.querySelector('.main-svg'))) return false;
  const pending = document.querySelectorAll('.print-wait');
  return pending.length === 0;
}"""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class EngineMissing(RuntimeError):
    """No browser engine to print with; the message says how to install one."""


def find_chromium(env: dict[str, str] | None = None) -> Path | None:
    env = dict(os.environ if env is None else env)
    if env.get("DASHBOARD_CHROMIUM"):
        p = Path(env["DASHBOARD_CHROMIUM"])
        return p if p.exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def engine_problem(env: dict[str, str] | None = None) -> str | None:
    """Why PDFs cannot be made here, in words a user can act on; None when they can."""
    if find_chromium(env) is None:
        return "chromium_missing"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright_missing"
    return None


@dataclass(frozen=True)
class Banner:
    """What the printed header and footer say (already translated and formatted)."""

    title: str  # product / ministry
    page: str  # page name
    filters: list[tuple[str, str]]
    as_of: str  # "Datos hasta oct 2026"
    generated: str  # "Generado 2026-11-29 10:22"
    source: str  # "Fuente: …"


def header_html(b: Banner) -> str:
    """Chromium header template: inline styles only (no page CSS reaches it)."""
    filters = " · ".join(f"<b>{html.escape(k)}:</b> {html.escape(v)}" for k, v in b.filters)
    return (
        '<div style="font-family: DejaVu Sans, Arial, sans-serif; font-size: 8px; width: 100%; '
        'padding: 0 10mm; color: #222;">'
        f'<div style="display:flex; justify-content:space-between; border-bottom: 1px solid #0b4f8a; padding-bottom: 2px;">'
        f'<span style="font-size: 10px; font-weight: bold; color: #0b4f8a;">{html.escape(b.title)} — {html.escape(b.page)}</span>'
        f"<span>{html.escape(b.as_of)}</span></div>"
        f'<div style="margin-top: 2px;">{filters}</div></div>'
    )


def footer_html(b: Banner) -> str:
    return (
        '<div style="font-family: DejaVu Sans, Arial, sans-serif; font-size: 7px; width: 100%; '
        'padding: 0 10mm; color: #444; display:flex; justify-content:space-between;">'
        f"<span>{html.escape(b.generated)} · {html.escape(b.source)}</span>"
        '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>'
    )


class Printer:
    """One headless Chromium; print as many URLs as needed, then close.

    Playwright's sync API runs in a thread of its own here: it refuses to start on a thread
    that already has an event loop (a notebook, a test session driving its own browser)."""

    def __init__(self, chromium: Path):
        self.chromium = chromium
        self._jobs: queue.Queue = queue.Queue()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Printer:
        self._thread = threading.Thread(target=self._run, name="pdf-printer", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc) -> None:
        self._jobs.put(None)
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            from playwright.sync_api import sync_playwright

            pw = sync_playwright().start()
            browser = pw.chromium.launch(
                executable_path=str(self.chromium), headless=True, args=CHROMIUM_ARGS
            )
        except BaseException as exc:  # reported to the caller of __enter__
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while (job := self._jobs.get()) is not None:
                fn, future = job
                try:
                    future.set_result(fn(browser))
                except BaseException as exc:
                    future.set_exception(exc)
        finally:
            browser.close()
            pw.stop()

    def print_url(
        self,
        url: str,
        banner: Banner,
        *,
        lang: str = "es",
        timeout_ms: int = 60_000,
        cookies: list[dict] | None = None,
    ) -> bytes:
        """The PDF of a dashboard URL, once every callback has finished and every chart is drawn.

        `cookies` (Playwright's format) go into the fresh browser context before the page
        loads: the app's print token, which signs Chromium in with the requester's scope."""
        future: Future = Future()
        self._jobs.put(
            (lambda browser: _print(browser, url, banner, lang, timeout_ms, cookies), future)
        )
        return future.result()


def _print(
    browser, url: str, banner: Banner, lang: str, timeout_ms: int, cookies: list[dict] | None
) -> bytes:
    context = browser.new_context(
        viewport=VIEWPORT,
        locale="es-PY" if lang == "es" else "en-GB",
        timezone_id="America/Asuncion",
    )
    try:
        if cookies:
            context.add_cookies(cookies)
        page = context.new_page()
        page.goto(url, wait_until="networkidle", timeout=timeout_ms)
        page.wait_for_function(READY_JS, timeout=timeout_ms, polling=100)
        page.wait_for_load_state("networkidle", timeout=timeout_ms)
        page.emulate_media(media="print")
        return page.pdf(
            format=PAGE_FORMAT,
            landscape=True,
            print_background=True,
            display_header_footer=True,
            header_template=header_html(banner),
            footer_template=footer_html(banner),
            margin=MARGINS,
            prefer_css_page_size=False,
        )
    finally:
        context.close()


@contextmanager
def printer(env: dict[str, str] | None = None) -> Iterator[Printer]:
    problem = engine_problem(env)
    if problem:
        raise EngineMissing(problem)
    with Printer(find_chromium(env)) as p:
        yield p
