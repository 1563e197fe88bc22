"""Print dashboard pages to PDF with headless Chromium (Debian's, driven by Playwright).

Why a browser and not a PDF library: the PDF is then exactly the view on screen — the same
layout, the same figure builders, the same numbers — with charts and maps as vector SVG, and
tables that paginate with their header row repeated. Chromium prints a page in about 1.5 s
once it is up (0.2 s to start), which keeps a page under the 4 s goal and an 18-region pack
under a minute in one browser. kaleido would need a second layout engine for the tables.
"""

from __future__ import annotations

import asyncio
import html
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# A4 landscape at 96 px/in is 1123 × 794 px; the viewport is the printable width so the
# page lays out once, as it will print.
PAGE_FORMAT = "A4"
MARGINS = {"top": "27mm", "bottom": "14mm", "left": "10mm", "right": "10mm"}
VIEWPORT = {"width": 1047, "height": 700}
READY_JS = """() => {
  const content = document.querySelector('#page-content');
  if (!content || !content.children.length) return false;
  if (document.querySelector('[data-dash-is-loading="true"]')) return false;
  const graphs = [...document.querySelectorAll('.js-plotly-plot')];
  if (!graphs.every(g => g.querySelector('.main-svg'))) return false;
  // dcc.Graph marks a plot whose new figure plotly.js is still drawing; printed then, the plot
  // comes out blank (seen on the long Equidad page on a busy machine).
  if (document.querySelector('.dash-graph--pending')) return false;
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
        import playwright.async_api  # noqa: F401
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


# Header and footer text sizes (CSS px; 1 pt = 4/3 px): a filter line must stay readable on
# paper, 8 pt at least.
HEADER_TITLE_PX = 14
BANNER_TEXT_PX = 11


def header_html(b: Banner) -> str:
    """Chromium header template: inline styles only (no page CSS reaches it)."""
    filters = " · ".join(f"<b>{html.escape(k)}:</b> {html.escape(v)}" for k, v in b.filters)
    return (
        '<div style="font-family: DejaVu Sans, Arial, sans-serif; '
        f"font-size: {BANNER_TEXT_PX}px; width: 100%; "
        'padding: 0 10mm; color: #222;">'
        f'<div style="display:flex; justify-content:space-between; border-bottom: 1px solid #0b4f8a; padding-bottom: 2px;">'
        f'<span style="font-size: {HEADER_TITLE_PX}px; font-weight: bold; color: #0b4f8a;">{html.escape(b.title)} — {html.escape(b.page)}</span>'
        f"<span>{html.escape(b.as_of)}</span></div>"
        f'<div style="margin-top: 2px;">{filters}</div></div>'
    )


def footer_html(b: Banner) -> str:
    return (
        '<div style="font-family: DejaVu Sans, Arial, sans-serif; '
        f"font-size: {BANNER_TEXT_PX}px; width: 100%; "
        'padding: 0 10mm; color: #444; display:flex; justify-content:space-between;">'
        f"<span>{html.escape(b.generated)} · {html.escape(b.source)}</span>"
        '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>'
    )


class Printer:
    """One headless Chromium shared by every print of this process; print as many URLs as
    needed, from any number of threads at once, then close.

    Playwright runs in a thread of its own, on an asyncio loop: its sync API refuses a thread
    that already has an event loop (a notebook, a test session driving its own browser) and
    would serialise every print; here each print is a coroutine with its own browser context
    (cookies, storage) in the one browser."""

    def __init__(self, chromium: Path):
        self.chromium = chromium
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._browser: Any = None
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
        self.close()

    def close(self) -> None:
        if self._loop is not None and self._stop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=30)

    @property
    def alive(self) -> bool:
        return (
            self._thread is not None
            and self._thread.is_alive()
            and self._browser is not None
            and self._browser.is_connected()
        )

    def _run(self) -> None:
        _leave_cores_to_the_server()
        asyncio.run(self._main())

    async def _main(self) -> None:
        try:
            from playwright.async_api import async_playwright

            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            pw = await async_playwright().start()
            try:
                self._browser = await pw.chromium.launch(
                    executable_path=str(self.chromium), headless=True, args=CHROMIUM_ARGS
                )
            except BaseException:
                await pw.stop()
                raise
        except BaseException as exc:  # reported to the caller of __enter__
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self._browser.close()
            await pw.stop()

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

        Chromium may load nothing but the URL's own origin (every other request is aborted);
        `cookies` (Playwright's cookie dicts) go into this print's context only."""
        if self._loop is None:
            raise RuntimeError("printer not started")
        future = asyncio.run_coroutine_threadsafe(
            _print(self._browser, url, banner, lang, timeout_ms, cookies or []), self._loop
        )
        return future.result(timeout=timeout_ms / 1000 * 3 + 10)


def _leave_cores_to_the_server() -> None:
    """Confine this thread, and so the Playwright driver and Chromium it starts (Linux children
    inherit the starting thread's CPU affinity, and Chromium keeps it), to the upper half of
    the cores: a burst of prints then cannot take every core from the web server's threads.
    (Niceness would not do: Chromium resets its threads' priorities.)"""
    if not hasattr(os, "sched_getaffinity"):
        return
    try:
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) > 1:
            os.sched_setaffinity(threading.get_native_id(), cores[len(cores) // 2 :])
    except OSError:
        pass


def origin_of(url: str) -> str:
    """scheme://host:port with the default port spelled out, as browsers compare origins."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        return "invalid:"
    host = parts.hostname or ""
    return f"{scheme}://{'[' + host + ']' if ':' in host else host}:{port}"


async def _print(
    browser, url: str, banner: Banner, lang: str, timeout_ms: int, cookies: list[dict]
) -> bytes:
    context = await browser.new_context(
        viewport=VIEWPORT,
        locale="es-PY" if lang == "es" else "en-GB",
        timezone_id="America/Asuncion",
    )
    origin = origin_of(url)

    async def only_our_origin(route) -> None:
        # The printed page comes from the configured internal origin and nowhere else: no
        # redirect, link or injected resource can make this browser fetch another host.
        target = route.request.url
        if target.startswith(("data:", "blob:")) or origin_of(target) == origin:
            await route.continue_()
        else:
            await route.abort("blockedbyclient")

    try:
        await context.route("**/*", only_our_origin)
        if cookies:
            await context.add_cookies(cookies)
        page = await context.new_page()
        in_flight: set = set()
        page.on("request", lambda r: in_flight.add(r))
        page.on("requestfinished", lambda r: in_flight.discard(r))
        page.on("requestfailed", lambda r: in_flight.discard(r))
        await page.goto(url, wait_until="networkidle", timeout=timeout_ms)
        if origin_of(page.url) != origin:
            raise RuntimeError("the page left its origin")
        await _settled(page, in_flight, timeout_ms)
        await page.emulate_media(media="print")
        return await page.pdf(
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
        await context.close()


# The page must look ready, with no request in flight, this many checks in a row (SETTLE_S
# apart): on a loaded machine Dash may draw an empty chart and send its callback a moment
# later, and a single check printed that empty chart.
SETTLE_CHECKS = 3
SETTLE_S = 0.25


async def _settled(page, in_flight: set, timeout_ms: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_ms / 1000
    calm = 0
    while calm < SETTLE_CHECKS:
        remaining_ms = max(1, (deadline - loop.time()) * 1000)
        await page.wait_for_function(READY_JS, timeout=remaining_ms, polling=100)
        await asyncio.sleep(SETTLE_S)
        calm = calm + 1 if not in_flight and await page.evaluate(READY_JS) else 0
        if loop.time() > deadline:
            raise TimeoutError("the page did not settle")


@contextmanager
def printer(env: dict[str, str] | None = None) -> Iterator[Printer]:
    problem = engine_problem(env)
    if problem:
        raise EngineMissing(problem)
    chromium = find_chromium(env)
    assert chromium is not None  # engine_problem() checked
    with Printer(chromium) as p:
        yield p
