"""PDF benchmark: one page warm, the 18-region pack, peak memory of the export process.

Usage: python benchmarks/bench_pdf.py [--database-url URL]
Uses the 1x demo (built in a temporary folder unless a URL is given). Prints JSON figures.
"""

from __future__ import annotations

import argparse
import json
import os
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


def tree_rss(pid: int) -> int:
    """Memory of a process and all its children (Chromium's included), bytes: PSS, so pages
    the Chromium processes share are counted once, not once per process as RSS would."""
    import psutil

    try:
        p = psutil.Process(pid)
        procs = [p, *p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for q in procs:
        try:
            total += q.memory_full_info().pss
        except psutil.NoSuchProcess:
            pass
    return total


def run_cli(args: list[str], env: dict) -> tuple[float, int, int]:
    """(seconds, peak tree RSS bytes, exit code) of `python -m dashboard …`."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    peak = 0
    t0 = time.perf_counter()
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.1)
    return time.perf_counter() - t0, peak, proc.returncode


def warm_pages(url: str, env: dict, out: Path) -> dict:
    """Browser and server up once; then each page printed 3 times (warm)."""
    os.environ.update(env)
    from dashboard.catalog import Scope
    from dashboard.config import Settings
    from dashboard.db import make_engine
    from dashboard.filters import Filters
    from dashboard.report.pdf import printer
    from dashboard.report.render import RenderServer
    from dashboard.report.snapshot import banner, page_path
    from dashboard.repository import Repository
    from dashboard.views import Context

    settings = Settings.from_env(env)
    repo = Repository(make_engine(url))
    ctx = Context(repo=repo, scope=Scope.national(), today=TODAY)
    facility = next(u.code for u in ctx.cat.level_units(3) if u.facility_type == "HR")
    views = {
        "resumen": (Filters(region="PY-11"), None),
        "mapa": (Filters(), None),
        "tendencias": (Filters(region="PY-15", compare=("PY-19",)), None),
        "desempeno": (Filters(region="PY-11"), None),
        "establecimiento": (Filters(), facility),
    }
    result = {}
    local = RenderServer(settings)
    with local as base, printer() as pr:
        # Every page needs a session: the printer carries a national print token.
        cookies = local.print_cookies(Scope.national())
        pr.print_url(base + "/", banner(ctx, "resumen", Filters()), cookies=cookies)  # warm
        for page, (f, fac) in views.items():
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                pdf = pr.print_url(
                    base + page_path(page, f, fac), banner(ctx, page, f, fac), cookies=cookies
                )
                times.append(time.perf_counter() - t0)
            (out / f"{page}.pdf").write_bytes(pdf)
            result[page] = {
                "warm_s": round(min(times), 2),
                "max_s": round(max(times), 2),
                "kb": round(len(pdf) / 1024),
            }
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--database-url")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        url = args.database_url
        if not url:
            from dashboard.db import make_engine
            from dashboard.demo import build_demo
            from dashboard.repository import Repository

            url = f"sqlite:///{Path(d) / 'pdf_bench.sqlite3'}"
            build_demo(Repository(make_engine(url)), seed=1, scale=1, today=TODAY)
        env = {**os.environ, "DASHBOARD_DATABASE_URL": url, "DASHBOARD_TODAY": TODAY.isoformat()}
        env["DASHBOARD_BOUNDARIES"] = str(BOUNDARIES)
        out = Path(d)
        pages = warm_pages(url, env, out)
        one_s, one_peak, one_rc = run_cli(
            ["export-pdf", "--page", "desempeno", "--region", "PY-11", "-o", str(out / "one.pdf")],
            env,
        )
        pack_s, pack_peak, pack_rc = run_cli(
            [
                "export-pdf",
                "--pack",
                "region",
                "--each-region",
                "--period",
                "202610",
                "-o",
                str(out / "packs"),
            ],
            env,
        )
        print(
            json.dumps(
                {
                    "pages_warm": pages,
                    "cli_one_page_cold_s": round(one_s, 2),
                    "cli_one_page_peak_pss_mb": round(one_peak / 2**20),
                    "pack_18_regions_s": round(pack_s, 1),
                    "pack_exit": pack_rc,
                    "pack_files": len(list((out / "packs").glob("*.pdf"))),
                    "pack_peak_pss_mb_process_tree": round(pack_peak / 2**20),
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
