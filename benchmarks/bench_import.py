"""Import memory and throughput: a ~200 MB long-format CSV of valid demo values into SQLite.

    python benchmarks/bench_import.py [--mb 200] [--keep DIR]

Builds, in a temporary directory, a store with the reference tree and the 1x demo's
facilities (no values), writes a long CSV (data_element,period,org_unit,value) of plausible
whole counts for every facility x count element x month until the file reaches --mb
megabytes, then imports it twice, each in a fresh child process: a dry run, then the real
import. Each child reports its peak resident memory (getrusage ru_maxrss: the child alone) and
its throughput. Prints figures, never asserts: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 29)
MB = 1024 * 1024


# Which count elements a facility reports, as in the demo: hospital activity in hospitals,
# births in health centres and hospitals, programme counts at the first level of care.
HOSPITAL = {"HD", "HR", "HG", "HE"}
HOSPITAL_ONLY = {
    "CAMAS_MES", "DIAS_CAMA", "DIAS_PACIENTE", "EGRESOS", "DIAS_ESTADA", "CIRUGIAS",
    "QUIROFANOS_MES", "MUERTES_HOSP", "DENGUE_MUERTES",
}  # fmt: skip
BIRTHS = {
    "PARTOS", "CESAREAS", "PARTOS_CALIF", "NAC_VIVOS", "NAC_PESADOS", "NAC_BPN", "MUERTE_MAT",
    "MUERTE_NEO", "MUERTE_U5",
}  # fmt: skip


def applies(element: str, ftype: str) -> bool:
    if element in HOSPITAL_ONLY:
        return ftype in HOSPITAL
    if element in BIRTHS:
        return ftype in HOSPITAL or ftype == "CS"
    if element in ("CONSULTAS", "DENGUE_CASOS"):
        return True
    return ftype in ("USF", "PS", "CS")


def build_store(url: str) -> list[tuple[str, str, int]]:
    """Reference tree and demo facilities; returns (code, type, last month open) each."""
    import numpy as np

    from dashboard.db import make_engine
    from dashboard.demo import make_facilities
    from dashboard.reference import load_reference
    from dashboard.repository import Repository

    repo = Repository(make_engine(url))
    repo.ensure_schema()
    load_reference(repo)
    fac = make_facilities(np.random.default_rng(1), 1)
    repo.upsert_org_units(
        [
            {
                "code": r.code,
                "name": r.name,
                "level": 3,
                "parent": r.parent,
                "facility_type": r.facility_type,
                "closed": r.closed,
            }
            for r in fac.itertuples(index=False)
        ]
    )
    repo.engine.dispose()
    return [
        (r.code, r.facility_type, r.closed.year * 100 + r.closed.month if r.closed else 999999)
        for r in fac.itertuples(index=False)
    ]


def write_csv(
    path: Path, facilities: list[tuple[str, str, int]], elements: list[str], mb: int
) -> dict:
    """Whole counts (Poisson around a per-facility level) of the elements each facility
    reports, newest month first, backwards in time until the file holds `mb` megabytes."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    pairs = [(c, e, m) for c, t, m in facilities for e in elements if applies(e, t)]
    codes = np.array([c for c, _, _ in pairs])
    des = np.array([e for _, e, _ in pairs])
    closed = np.array([m for _, _, m in pairs])
    level = rng.gamma(2.0, 40.0, size=len(pairs))
    month, rows = 202610, 0
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("data_element,period,org_unit,value\n")
        while f.tell() < mb * MB:
            open_now = closed >= month
            frame = pd.DataFrame(
                {
                    "data_element": des[open_now],
                    "period": month,
                    "org_unit": codes[open_now],
                    "value": rng.poisson(level[open_now]),
                }
            )
            frame.to_csv(f, header=False, index=False)
            rows += len(frame)
            month = month - 1 if month % 100 > 1 else month - 89  # 202601 -> 202512
    return {"rows": rows, "bytes": path.stat().st_size, "first_month": month}


def child(url: str, path: str, dry_run: bool, max_mb: int) -> None:
    """Runs in its own process: one import, then its figures as JSON on stdout."""
    from dashboard.catalog import Scope
    from dashboard.db import make_engine
    from dashboard.importers import ImportLimits, import_file
    from dashboard.repository import Repository

    repo = Repository(make_engine(url))
    t0 = time.perf_counter()
    report = import_file(
        repo,
        Path(path),
        dry_run=dry_run,
        today=TODAY,
        scope=Scope.national(),
        limits=ImportLimits.for_size(max_mb * MB),
    )
    seconds = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(
        json.dumps(
            {
                "ok": report.ok,
                "summary": report.summary("en"),
                "rows": report.rows,
                "values": report.values,
                "inserted": report.inserted,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "seconds": round(seconds, 1),
                "rows_per_s": round(report.rows / seconds) if seconds else None,
                "timings": {k: round(v, 1) for k, v in report.timings.items()},
                "peak_rss_mb": round(peak_kb / 1024),
            }
        )
    )


def run_child(url: str, path: Path, dry_run: bool, max_mb: int) -> dict:
    cmd = [sys.executable, __file__, "--child", url, str(path), str(int(dry_run)), str(max_mb)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2], argv[3] == "1", int(argv[4]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=200, help="size of the generated CSV")
    ap.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = ap.parse_args(argv)

    from dashboard.reference import data_element_rows

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        url = f"sqlite:///{work / 'bench.sqlite3'}"
        t0 = time.perf_counter()
        facilities = build_store(url)
        elements = [d["code"] for d in data_element_rows() if d["kind"] == "count"]
        csv_path = work / "values.csv"
        made = write_csv(csv_path, facilities, elements, args.mb)
        print(
            f"store: {len(facilities):,} facilities, {len(elements)} count elements; CSV "
            f"{made['bytes'] / MB:.0f} MB, {made['rows']:,} rows back to {made['first_month']} "
            f"({time.perf_counter() - t0:.0f} s to build)"
        )
        cap = max(args.mb + 20, 100)
        for label, dry in (("dry run", True), ("import", False)):
            r = run_child(url, csv_path, dry, cap)
            print(
                f"{label:8}: {r['summary']}\n          {r['seconds']} s, {r['rows_per_s']:,} rows/s, "
                f"peak RSS {r['peak_rss_mb']} MB (goal < 500 MB); timings {r['timings']}"
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
