"""Dashboard benchmark: real /_dash-update-component requests against a running server, and a
first visit in headless Chromium with an empty cache.

Usage: python benchmarks/bench_dashboard.py [--scale 1 10] [--repeat 20]
Builds (or reuses) a demo database per scale, starts `python -m dashboard serve` on a free
port, then prints JSON figures: p50/p95 latency and compressed bytes of every page's main
callback for changes of region, indicator and period, and of the largest table (Central's USF
facility scorecard: indicator, sort and page); first-visit bytes (all, and those that
block the first render); time from navigation until the map is drawn; and how fast the machine
was before and after (machine_loop_s: a fixed loop's seconds). Figures, not pass/fail.

Each change is requested --repeat times, cycling through its variants: p50 and p95 (nearest
rank: the 19th of 20) over all of them, and the p50 and maximum of each variant's first
request apart (the repeats may be answered from the app's frame cache, as a revisit is).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = date(2026, 11, 29)
BOUNDARIES = ROOT / "tests" / "fixtures" / "paraguay_departments.geojson"
PAGES = {
    "resumen": "..overview-cards.children...overview-attention.children...overview-title.children...overview-attention-title.children..",
    "mapa": "..map-note.children...map-graph.figure...map-title.children...map-breadcrumb.children...map-view.children...map-table.children...map-table-title.children...map-title-info.children..",
    "tendencias": "..trend-note.children...trend-graph.figure...trend-title.children...trend-grain.children...trend-compare.children...trend-facility.children...trend-title-info.children..",
    "desempeno": "..score-table.children...score-note.children...score-title.children...score-domain.children..",
    "calidad": "..cal-body.children...cal-title.children...cal-body.className..",
    "equidad": "..eq-title.children...eq-grouping.children...eq-summary.children...eq-graph.figure...eq-table.children...eq-note.children..",
    "ods": "..ods-summary.children...ods-graph.figure...ods-title.children...ods-pick.children...ods-units.children...ods-note.children..",
    # The briefing on Resumen: its own callback (a single output), measured on its own.
    "resumen-briefing": "briefing.children",
    # Equidad's access section: its own callback beside the indicator's, measured on its own.
    "equidad-access": "..eq-access-intro.children...eq-access-map.figure...eq-access-graph.figure...eq-access.children..",
}
# Changes only some pages have: Equidad's groupings.
EQUITY_GROUPINGS = ["tipo", "chaco", "metro", "quintil", None]
PAGE_CHANGES = {
    "equidad": {"grouping": EQUITY_GROUPINGS},
    "equidad-access": {"grouping": EQUITY_GROUPINGS},
}


def nearest_rank(sorted_values: list[float], q: float) -> float:
    """The q-quantile by nearest rank: of 20 values, p95 is the 19th smallest."""
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def loop_seconds() -> float:
    """Seconds for a fixed pure-Python loop (10^7 additions): how fast this shared machine was
    while the figures beside it were taken (about 0.7 s quiet here, over 2 s when busy)."""
    t0 = time.perf_counter()
    total = 0
    for i in range(10**7):
        total += i
    return round(time.perf_counter() - t0, 2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_demo(scale: int, workdir: Path) -> str:
    path = workdir / f"dash_bench_{scale}.sqlite3"
    url = f"sqlite:///{path}"
    if not path.exists():
        from dashboard.db import make_engine
        from dashboard.demo import build_demo
        from dashboard.repository import Repository

        build_demo(Repository(make_engine(url)), seed=1, scale=scale, today=TODAY)
    return url


def session_token(url: str) -> str:
    """A national account's session on the benchmark database: every route needs one."""
    import uuid

    from argon2 import PasswordHasher

    from dashboard.accounts import Accounts
    from dashboard.db import make_engine
    from dashboard.repository import Repository

    repo = Repository(make_engine(url))
    repo.ensure_schema()
    accounts = Accounts(
        repo.engine, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    email = f"bench-{uuid.uuid4().hex[:8]}@bench.local"
    acc = accounts.add(repo.catalog(), email, "nacional", uuid.uuid4().hex, actor="bench")
    return accounts.start_session(acc.id)


def start_server(url: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "DASHBOARD_DATABASE_URL": url, "DASHBOARD_TODAY": TODAY.isoformat()}
    env["DASHBOARD_BOUNDARIES"] = str(BOUNDARIES)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/")
            break
        except OSError:
            time.sleep(0.1)
    return proc, port


def post(port: int, body: dict, token: str) -> tuple[float, int, int]:
    """(seconds, compressed bytes, status) of one callback request, gzip accepted."""
    data = json.dumps(body).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.perf_counter()
    conn.request(
        "POST",
        "/_dash-update-component",
        data,
        {
            "Content-Type": "application/json",
            "Accept-Encoding": "gzip",
            "Cookie": f"dashboard_session={token}",
        },
    )
    resp = conn.getresponse()
    raw = resp.read()
    dt = time.perf_counter() - t0
    conn.close()
    if resp.getheader("Content-Encoding") != "gzip":
        raw = gzip.compress(raw)  # count what a compressing server would send
    return dt, len(raw), resp.status


def view_body(page: str, output: str, f) -> dict:
    from callbacks.common import view_data
    from dashboard.filters import PATHS

    page = page.split("-")[0]  # "resumen-briefing": another callback of the same page
    outputs: list[dict] | dict = [
        {"id": part.split(".")[0], "property": part.split(".")[1]}
        for part in output.strip(".").split("...")
    ]
    if not output.startswith(".."):
        outputs = outputs[0]
    return {
        "output": output,
        "outputs": outputs,
        "inputs": [
            {"id": "view", "property": "data", "value": view_data(page, None, PATHS[page], f)}
        ],
        "changedPropIds": ["view.data"],
        "state": [],
    }


def callback_figures(port: int, repeat: int, token: str, only: list[str] | None = None) -> dict:
    from dashboard.filters import Filters

    regions = ["PY-1", "PY-11", "PY-ASU", "PY-19", "PY-10", "PY-7", "PY-15", "PY-2"]
    indicators = ["INM-03", "MNI-04", "TRA-01", "HOS-01", "ENT-03", "DQ-01", "MNI-01", "SER-01"]
    periods = ["LAST_12_MONTHS", "2025Q3", "2025", "202609", "2024", "LAST_3_MONTHS"]
    changes = {
        "region": [Filters(region=r) for r in regions],
        "indicator": [Filters(indicator=i) for i in indicators],
        "period": [Filters(period=p) for p in periods],
    }
    # The largest table: Central's family health units (USF), by indicator, sort and page.
    central_usf = Filters(region="PY-11", ftype="USF")
    facilities = [central_usf.with_(indicator=i) for i in indicators] + [
        central_usf.with_(sort=s, page=n)
        for s, n in (("-INM-03", 1), ("org_unit_name", 2), ("rank", 3), ("INM-01", 1))
    ]
    cases = [
        (page, output, kind, variants)
        for page, output in PAGES.items()
        for kind, variants in {
            **changes,
            **{
                kind: [Filters(**{kind: v}) for v in values]
                for kind, values in PAGE_CHANGES.get(page, {}).items()
            },
        }.items()
    ] + [("desempeno", PAGES["desempeno"], "facilities", facilities)]
    out = {}
    for page, output, kind, variants in cases:
        if only and page not in only:
            continue
        times, sizes, first = [], [], []
        post(port, view_body(page, output, variants[0]), token)  # warm
        for k in range(repeat):
            body = view_body(page, output, variants[k % len(variants)])
            dt, size, status = post(port, body, token)
            assert status == 200, (page, kind, status)
            times.append(dt * 1000)
            sizes.append(size)
            if 0 < k < len(variants):
                first.append(dt * 1000)  # this variant's first request in this case
        times.sort()
        out[f"{page}/{kind}"] = {
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(nearest_rank(times, 0.95), 1),
            # Each variant's first request: computed afresh, unless an earlier case (another
            # page) needed the same numbers, as a user's earlier pages may have. The repeats
            # that follow may come from the app's frame cache, as a second visit does.
            "first_view_p50_ms": round(statistics.median(first), 1) if first else None,
            "first_view_max_ms": round(max(first), 1) if first else None,
            "max_kb_gzip": round(max(sizes) / 1024, 1),
        }
    return out


def launch_chromium(pw):
    """Debian's headless Chromium, quiet (no background traffic to skew the byte counts)."""
    return pw.chromium.launch(
        executable_path="/usr/bin/chromium",
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )


def first_visit(port: int, token: str) -> dict:
    """Empty-cache visit of /mapa in headless Chromium: bytes on the wire and time to the map."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        cookie = {"name": "dashboard_session", "value": token, "url": f"http://127.0.0.1:{port}"}
        ctx.add_cookies([cookie])
        page = ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        sizes: dict[str, int] = {}
        types: dict[str, str] = {}
        urls: dict[str, str] = {}

        def received(e):
            types[e["requestId"]] = e["type"]
            urls[e["requestId"]] = e["response"]["url"]

        cdp.on("Network.responseReceived", received)
        cdp.on(
            "Network.loadingFinished",
            lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
        )
        t0 = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}/mapa", wait_until="commit")
        page.wait_for_selector(
            ".js-plotly-plot .choroplethlayer path, .js-plotly-plot .scatterlayer .point",
            timeout=60000,
        )
        drawn = time.perf_counter() - t0
        page.wait_for_load_state("networkidle")
        browser.close()
    total = sum(sizes.values())
    # What blocks the first render: the document and the scripts and stylesheets it names
    # itself; Dash loads plotly.js and other heavy chunks asynchronously after that.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/mapa", headers={"Cookie": f"dashboard_session={token}"})
    page_html = conn.getresponse().read().decode()
    named = set(re.findall(r'(?:src|href)="([^"]+)"', page_html))
    blocking = sum(
        v
        for k, v in sizes.items()
        if types.get(k) == "Document" or any(urls.get(k, "").endswith(n) for n in named)
    )
    return {
        "first_visit_kb": round(total / 1024, 1),
        "render_blocking_kb": round(blocking / 1024, 1),
        "requests": len(sizes),
        "map_drawn_s": round(drawn, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=int, nargs="+", default=[1])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--workdir", default=tempfile.gettempdir())
    ap.add_argument("--pages", nargs="+", choices=list(PAGES), help="only these pages' callbacks")
    ap.add_argument("--no-first-visit", action="store_true", help="callbacks only")
    args = ap.parse_args()
    for scale in args.scale:
        url = ensure_demo(scale, Path(args.workdir))
        token = session_token(url)
        proc, port = start_server(url)
        try:
            before = loop_seconds()
            result = {
                "scale": scale,
                "callbacks": callback_figures(port, args.repeat, token, args.pages),
                **({} if args.no_first_visit else first_visit(port, token)),
            }
            result["machine_loop_s"] = [before, loop_seconds()]  # before and after the run
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()
