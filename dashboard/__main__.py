"""`python -m dashboard <command>`: demo, import, query, indicators, org-units, serve."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .config import Settings


def _repo(settings: Settings):
    from .db import make_engine
    from .repository import Repository

    repo = Repository(make_engine(settings.database_url))
    repo.ensure_schema()
    return repo


def _scope(text: str | None):
    from .catalog import Scope

    return (
        Scope.national()
        if not text
        else Scope.of(*[c.strip() for c in text.split(",") if c.strip()])
    )


def _fail(msg: str, code: int = 2) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return code


def cmd_demo(args, settings: Settings) -> int:
    from sqlalchemy import text

    from .db import make_engine, metadata
    from .demo import build_demo
    from .repository import Repository

    # A rebuild starts from an empty store so the same seed gives the same data.
    if settings.database_url.startswith("sqlite:///"):
        path = Path(settings.database_url[len("sqlite:///") :])
        for p in path.parent.glob(path.name + "*"):
            p.unlink()
    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    repo = Repository(engine)
    summary = build_demo(
        repo,
        seed=args.seed,
        scale=args.scale,
        today=settings.current_date(),
        progress=lambda m: print(f"  {m}", file=sys.stderr),
    )
    print(
        f"demo built: {summary.facilities:,} facilities, {summary.values:,} values, "
        f"{summary.first_month}-{summary.last_month}, {summary.timings['total_s']:.1f} s "
        f"-> {settings.database_url}"
    )
    return 0


def cmd_import(args, settings: Settings) -> int:
    from .importers import import_file

    repo = _repo(settings)
    status = 0
    for name in args.files:
        report = import_file(repo, Path(name), dry_run=args.dry_run, today=settings.current_date())
        if args.format == "json":
            print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
        else:
            print(report.render(args.lang))
        if not report.ok:
            status = 1
    return status


def _fmt(v, decimals: int = 1) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.{decimals}f}"
    return str(v)


QUERY_COLUMNS = (
    "indicator",
    "org_unit",
    "org_unit_name",
    "period",
    "numerator",
    "denominator",
    "value",
    "target",
    "status",
    "completeness",
    "timeliness",
    "facilities_reporting",
)


def cmd_query(args, settings: Settings) -> int:
    from .aggregate import query
    from .catalog import FACILITY_TYPES
    from .periods import PeriodError, parse_period

    repo = _repo(settings)
    cat = repo.catalog()
    ind = cat.indicator(args.indicator)
    if ind is None:
        return _fail(f"unknown indicator '{args.indicator}'; see `python -m dashboard indicators`")
    unit = cat.unit(args.org_unit)
    if unit is None:
        return _fail(f"unknown org unit '{args.org_unit}'; see `python -m dashboard org-units`")
    try:
        period = parse_period(args.period, settings.current_date())
    except PeriodError as e:
        return _fail(str(e))
    ftypes = None
    if args.type:
        ftypes = tuple(t.strip().upper() for t in args.type.split(","))
        bad = [t for t in ftypes if t not in FACILITY_TYPES]
        if bad:
            return _fail(
                f"unknown facility type {', '.join(bad)}; known: {', '.join(FACILITY_TYPES)}"
            )
    results = query(repo, _scope(args.scope), ind, unit, period, by=args.by, ftypes=ftypes)
    rows = [r.as_dict() for r in results]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif args.format == "csv":
        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else list(QUERY_COLUMNS))
        w.writeheader()
        w.writerows(rows)
    else:
        table = [
            [_fmt(r[c], ind.decimals if c == "value" else 1) for c in QUERY_COLUMNS] for r in rows
        ]
        _print_table(list(QUERY_COLUMNS), table)
    return 0


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def cmd_indicators(args, settings: Settings) -> int:
    repo = _repo(settings)
    rows = []
    for ind in repo.catalog().indicators.values():
        t = ind.target
        rows.append(
            {
                "code": ind.code,
                "domain": ind.domain,
                "name": ind.name(args.lang),
                "numerator": ind.numerator.text,
                "denominator": ind.denominator.text,
                "factor": ind.factor,
                "unit": ind.unit(args.lang),
                "direction": ind.direction,
                "facility_types": " ".join(ind.facility_types),
                "target": t.target,
                "near": t.near,
                "band_low": t.band_low,
                "band_high": t.band_high,
                "target_source": t.source,
            }
        )
    return _emit(
        rows,
        args.format,
        ["code", "domain", "name", "numerator", "denominator", "unit", "direction", "target"],
    )


def cmd_org_units(args, settings: Settings) -> int:
    from .catalog import LEVELS

    repo = _repo(settings)
    cat = repo.catalog()
    level = LEVELS.index(args.level) if args.level else None
    root = cat.unit(args.parent) if args.parent else cat.by_code.get("PY")
    if args.parent and root is None:
        return _fail(f"unknown org unit '{args.parent}'")
    units = [u for u in cat.units.values() if root is None or u is root or root in cat.ancestors(u)]
    if level is not None:
        units = [u for u in units if u.level == level]
    units.sort(key=lambda u: (u.level, u.code))
    rows = [
        {
            "code": u.code,
            "name": u.name,
            "level": u.level_name,
            "parent": cat.units[u.parent_id].code if u.parent_id else "",
            "facility_type": u.facility_type or "",
            "latitude": u.latitude,
            "longitude": u.longitude,
        }
        for u in units
    ]
    return _emit(rows, args.format, ["code", "name", "level", "parent", "facility_type"])


def _emit(rows: list[dict], fmt: str, table_cols: list[str]) -> int:
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        if rows:
            w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    else:
        _print_table(table_cols, [[_fmt(r[c]) for c in table_cols] for r in rows])
    return 0


def cmd_serve(args, settings: Settings) -> int:
    from .app import create_app

    if args.ensure_demo and not _repo(settings).catalog().units:
        print("No data yet: building the demo database first (about 20 s)...", file=sys.stderr)
        cmd_demo(argparse.Namespace(seed=1, scale=1), settings)
    app = create_app(settings)
    print(f"Dashboard on http://{args.host}:{args.port}/  (database: {settings.database_url})")
    app.run(host=args.host, port=args.port, debug=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="build the Paraguay demo database (replaces its contents)")
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--scale", type=int, default=1, help="10 builds a 10x stress set")
    d.set_defaults(func=cmd_demo)

    i = sub.add_parser("import", help="import data values or metadata (CSV, XLSX, DHIS2 JSON/CSV)")
    i.add_argument("files", nargs="+")
    i.add_argument("--dry-run", action="store_true", help="report what would change, write nothing")
    i.add_argument("--format", choices=("text", "json"), default="text")
    i.add_argument("--lang", choices=("es", "en"), default="es")
    i.set_defaults(func=cmd_import)

    q = sub.add_parser("query", help="an indicator for an org unit and period")
    q.add_argument("--indicator", required=True)
    q.add_argument("--org-unit", required=True)
    q.add_argument(
        "--period", required=True, help="202409, 2024Q3, 2024, 202401:202406, LAST_12_MONTHS"
    )
    q.add_argument("--by", choices=("region", "district", "facility", "month", "quarter", "year"))
    q.add_argument("--type", help="facility types, e.g. USF or HD,HR")
    q.add_argument("--scope", help="org-unit codes the caller may see (default: the whole country)")
    q.add_argument("--format", choices=("table", "json", "csv"), default="table")
    q.set_defaults(func=cmd_query)

    ind = sub.add_parser("indicators", help="list the indicator catalogue")
    ind.add_argument("--format", choices=("table", "json", "csv"), default="table")
    ind.add_argument("--lang", choices=("es", "en"), default="es")
    ind.set_defaults(func=cmd_indicators)

    o = sub.add_parser("org-units", help="list the org-unit tree")
    o.add_argument("--level", choices=("country", "region", "district", "facility"))
    o.add_argument("--parent", help="only units under this code")
    o.add_argument("--format", choices=("table", "json", "csv"), default="table")
    o.set_defaults(func=cmd_org_units)

    s = sub.add_parser("serve", help="run the web dashboard (development server)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8050)
    s.add_argument(
        "--ensure-demo", action="store_true", help="build the demo database if it is empty"
    )
    s.set_defaults(func=cmd_serve)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args, Settings.from_env())
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
