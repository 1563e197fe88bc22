"""Indicator-store benchmark: demo build, import rate, rollup refresh, size, memory, page queries.

Usage: python benchmarks/bench_store.py [--scale 1 10] [--backend sqlite postgresql] [--repeat 30]
Prints one block of figures per (backend, scale). Figures, not pass/fail: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
PG = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/bench")


def _pg_fresh(url: str) -> None:
    from sqlalchemy import text

    from dashboard.db import make_engine

    base, _, name = url.rpartition("/")
    admin = make_engine(f"{base}/postgres")
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _size(repo, url: str) -> int:
    from sqlalchemy import text

    if url.startswith("sqlite"):
        path = Path(url[len("sqlite:///") :])
        with repo.engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with repo.engine.connect() as c:
        return c.execute(text("SELECT pg_database_size(current_database())")).scalar_one()


def page_queries(repo):
    """The four page queries of the issue, as closures."""
    from dashboard.aggregate import evaluate, evaluate_frame
    from dashboard.catalog import Scope
    from dashboard.periods import parse_period, split

    cat = repo.catalog()
    scope = Scope.national()
    ind = cat.indicators["INM-03"]
    py = cat.country()
    sixty = parse_period("202111:202610", TODAY)
    last12 = parse_period("LAST_12_MONTHS", TODAY)
    quarter = parse_period("2026Q3", TODAY)
    region = cat.unit("PY-11")  # Central: the region with the most facilities
    region_facilities = cat.descendants(region, 3)
    facility = next(u for u in cat.level_units(3) if u.facility_type == "HR")
    all_inds = list(cat.indicators.values())
    districts = cat.level_units(2)
    return {
        "a_national_60_months": lambda: evaluate(repo, scope, [ind], [py], split(sixty, "month")),
        "b_every_district_12_months": lambda: evaluate(repo, scope, [ind], districts, [last12]),
        "c_region_scorecard_quarter_vs_year_earlier": lambda: evaluate_frame(
            repo, scope, all_inds, region_facilities, [quarter, quarter.year_earlier()]
        ),
        "d_facility_profile_24_months": lambda: evaluate(
            repo, scope, all_inds, [facility], split(parse_period("202411:202610", TODAY), "month")
        ),
    }, len(region_facilities)


def time_queries(repo, repeat: int) -> dict:
    queries, n_fac = page_queries(repo)
    out = {"scorecard_facilities": n_fac}
    for name, fn in queries.items():
        fn()  # warm the catalog and the database cache
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            rows = fn()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        out[name] = {
            "rows": len(rows),
            "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
        }
    return out


def import_rate(repo, tmp: Path) -> dict:
    """Two imports of four months of every facility and element, as a long CSV:
    first as new data (the monthly load: the months are removed from the store beforehand),
    then the same file with every value changed (a correction: the update path)."""
    import pandas as pd
    from sqlalchemy import text

    from dashboard.catalog import Scope
    from dashboard.importers import import_file

    months = (202606, 202607, 202608, 202609)
    with repo.engine.begin() as c:
        data = pd.read_sql(
            "SELECT d.code AS data_element, v.month AS period, o.code AS org_unit, v.value FROM data_value v "
            "JOIN org_unit o ON o.id = v.org_unit_id JOIN data_element d ON d.id = v.data_element_id "
            f"WHERE v.month BETWEEN {months[0]} AND {months[-1]}",
            c,
        )
        c.execute(text(f"DELETE FROM data_value WHERE month BETWEEN {months[0]} AND {months[-1]}"))
    out = {"values": len(data)}
    for label, frame in (("new", data), ("changed", data.assign(value=data["value"] + 1))):
        path = tmp / f"bench_import_{label}.csv"
        frame.to_csv(path, index=False)
        t0 = time.perf_counter()
        report = import_file(repo, path, dry_run=False, today=TODAY, scope=Scope.national())
        dt = time.perf_counter() - t0
        assert report.ok, report.render("en")[:2000]
        refresh = report.timings.get("refresh_s", 0.0)
        out[label] = {
            "inserted": report.inserted,
            "updated": report.updated,
            "total_s": round(dt, 2),
            "rollup_refresh_s": round(refresh, 2),
            "values_per_s_read_validate_write": round(len(frame) / (dt - refresh)),
            "values_per_s_including_refresh": round(len(frame) / dt),
        }
    return out


def serving_memory(url: str) -> dict:
    """Peak RSS of a fresh process that builds the app and answers the page queries."""
    out = subprocess.run(
        [sys.executable, __file__, "--memory-probe", url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return {"serving_peak_rss_mb": round(int(out.stdout.strip().splitlines()[-1]) / 1024, 1)}


def memory_probe(url: str) -> None:
    from dashboard.app import create_app
    from dashboard.config import Settings
    from dashboard.db import make_engine
    from dashboard.repository import Repository

    create_app(Settings.from_env({"DASHBOARD_DATABASE_URL": url, "DASHBOARD_TODAY": "2026-11-29"}))
    queries, _ = page_queries(Repository(make_engine(url)))
    for fn in queries.values():
        for _ in range(3):
            fn()
    # VmHWM: this process's own peak (ru_maxrss would include the parent's, inherited).
    status = Path("/proc/self/status").read_text()
    print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))


def run(backend: str, scale: int, repeat: int, tmp: Path) -> dict:
    from dashboard.db import make_engine
    from dashboard.demo import build_demo
    from dashboard.repository import Repository

    if backend == "sqlite":
        url = f"sqlite:///{tmp / f'bench_{scale}.sqlite3'}"
    else:
        url = PG.rsplit("/", 1)[0] + f"/bench_{scale}"
        _pg_fresh(url)
    repo = Repository(make_engine(url))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    summary = build_demo(repo, seed=1, scale=scale, today=TODAY)
    build_s = time.perf_counter() - t0
    res = {
        "backend": backend,
        "scale": scale,
        "facilities": summary.facilities,
        "values": summary.values,
        "demo_build_s": round(build_s, 1),
        "demo_timings_s": {k: round(v, 2) for k, v in summary.timings.items()},
        "build_peak_rss_mb": round(
            max(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024, 1
        ),
    }
    t0 = time.perf_counter()
    repo.refresh_rollups()
    res["rollup_refresh_s"] = round(time.perf_counter() - t0, 2)
    res["database_mb"] = round(_size(repo, url) / 1e6, 1)
    res["queries"] = time_queries(repo, repeat)
    res["import"] = import_rate(repo, tmp)
    res.update(serving_memory(url))
    repo.engine.dispose()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=int, nargs="+", default=[1])
    ap.add_argument("--backend", nargs="+", default=["sqlite", "postgresql"])
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_probe:
        memory_probe(args.memory_probe)
        return
    with tempfile.TemporaryDirectory() as d:
        for scale in args.scale:
            for backend in args.backend:
                print(json.dumps(run(backend, scale, args.repeat, Path(d)), indent=2), flush=True)


if __name__ == "__main__":
    main()
