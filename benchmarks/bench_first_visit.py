"""First visit on a slow line: headless Chromium with an empty cache, throttled through the Chrome
DevTools Protocol to a 2 Mbit/s link with 150 ms latency (issue 10, point 20).

Usage: python benchmarks/bench_first_visit.py [--scale 1] [--down-kbit 2000] [--latency-ms 150]
Builds (or reuses) the demo database, starts `python -m dashboard serve`, then prints JSON per
page: compressed bytes on the wire (all, and plotly.js alone), requests, and the seconds from
navigation until the page's content is complete: for `/` every KPI card shows its value (and any
chart inside the cards is drawn), for `/mapa` the map is drawn. `/` is timed twice: `shown_s`, the
cards on screen (the server draws them into the first HTML for a signed-in account), and
`complete_s`, the same cards drawn by Dash once its scripts, layout and callbacks have arrived (the
page is then interactive). Goals: `/` <= 600 KB and KPI cards <= 2 s; `/mapa` <= 1.2 MB. Figures,
not pass/fail (exit status 0 either way).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_dashboard import (  # noqa: E402
    ensure_demo,
    launch_chromium,
    session_token,
    start_server,
)

# What "complete" means per page: a JavaScript predicate polled in the page.
COMPLETE = {
    "/": """() => {
        const cards = [...document.querySelectorAll('#overview-cards .kpi-card')];
        if (!cards.length || !cards.every(c => (c.querySelector('.kpi-value')?.innerText || '').trim()))
            return false;
        // charts inside the cards (if any) drawn too
        return [...document.querySelectorAll('#overview-cards .js-plotly-plot, #overview-cards .dash-graph')]
            .every(g => g.querySelector('.main-svg'));
    }""",
    "/mapa": """() => !!document.querySelector(
        '.js-plotly-plot .choroplethlayer path, .js-plotly-plot .scatterlayer .point')""",
}
# The cards on screen, whoever drew them (the server's first view or Dash): the stylesheets
# loaded (the browser paints nothing before), every card visible with its value and its
# sparkline image decoded.
SHOWN = {
    "/": """() => {
        if (![...document.querySelectorAll('link[rel=stylesheet]')].every(l => l.sheet))
            return false;
        const cards = [...document.querySelectorAll('.kpi-card')]
            .filter(c => c.checkVisibility({visibilityProperty: true}));
        return cards.length > 0 && cards.every(c =>
            (c.querySelector('.kpi-value')?.innerText || '').trim()
            && [...c.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0));
    }""",
}


def visit(port: int, token: str, path: str, down_kbit: int, latency_ms: int) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        ctx = browser.new_context(viewport={"width": 1366, "height": 768})
        ctx.add_cookies(
            [{"name": "dashboard_session", "value": token, "url": f"http://127.0.0.1:{port}"}]
        )
        page = ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": latency_ms,
                "downloadThroughput": down_kbit * 1000 / 8,
                "uploadThroughput": down_kbit * 1000 / 8,
            },
        )
        sizes: dict[str, int] = {}
        urls: dict[str, str] = {}
        cdp.on(
            "Network.responseReceived",
            lambda e: urls.__setitem__(e["requestId"], e["response"]["url"]),
        )
        cdp.on(
            "Network.loadingFinished",
            lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
        )
        t0 = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}{path}", wait_until="commit")
        shown = None
        if path in SHOWN:
            page.wait_for_function(SHOWN[path], timeout=120000, polling=50)
            shown = time.perf_counter() - t0
        page.wait_for_function(COMPLETE[path], timeout=120000, polling=50)
        complete = time.perf_counter() - t0
        # The browser's own first paint with content, from navigation start (scripts that
        # blocked it would show here).
        fcp = page.evaluate(
            "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime"
        )
        page.wait_for_load_state("networkidle")
        browser.close()
    plotly = sum(v for k, v in sizes.items() if "plotly" in urls.get(k, "").rsplit("/", 1)[-1])
    return {
        "kb": round(sum(sizes.values()) / 1024, 1),
        "plotly_kb": round(plotly / 1024, 1),
        "requests": len(sizes),
        "complete_s": round(complete, 2),
        "first_contentful_paint_s": round(fcp / 1000, 2) if fcp else None,
        **({"shown_s": round(shown, 2)} if shown is not None else {}),
        "largest_kb": {
            urls.get(k, k).split("?")[0].rsplit("/", 1)[-1]: round(v / 1024, 1)
            for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])[:8]
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--down-kbit", type=int, default=2000)
    ap.add_argument("--latency-ms", type=int, default=150)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", default=tempfile.gettempdir())
    args = ap.parse_args()
    url = ensure_demo(args.scale, Path(args.workdir))
    token = session_token(url)
    proc, port = start_server(url)
    try:
        visit(port, token, "/", args.down_kbit, args.latency_ms)  # warm the server, not the browser
        result: dict = {
            "scale": args.scale,
            "link": f"{args.down_kbit} kbit/s, {args.latency_ms} ms",
        }
        for path in COMPLETE:
            runs = [
                visit(port, token, path, args.down_kbit, args.latency_ms)
                for _ in range(args.repeat)
            ]
            best = min(runs, key=lambda r: r["complete_s"])
            result[path] = {**best, "complete_s_runs": [r["complete_s"] for r in runs]}
            if path in SHOWN:
                result[path]["shown_s_runs"] = [r["shown_s"] for r in runs]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()
