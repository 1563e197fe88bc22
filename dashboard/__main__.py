"""`python -m dashboard <command>`: migrate, demo, import, query, export, sdg, briefing,
indicators, org-units, serve, export-pdf, users, tokens, audit."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

from .config import Settings


def _repo(settings: Settings):
    from .db import make_engine
    from .repository import Repository

    repo = Repository(make_engine(settings.database_url), population_rule=settings.population_rule)
    repo.ensure_schema()
    return repo


def _scope(text: str | None):
    from .catalog import Scope

    return (
        Scope.national()
        if not text
        else Scope.of(*[c.strip() for c in text.split(",") if c.strip()])
    )


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit status 2."""


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
    repo = Repository(engine, population_rule=settings.population_rule)
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


def _cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in a bare container
        return "cli"


def _file_hash(path: Path) -> str | None:
    import hashlib

    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def cmd_import(args, settings: Settings) -> int:
    from . import audit
    from .catalog import Scope
    from .importers import ImportLimits, import_file

    repo = _repo(settings)
    limits = ImportLimits.for_size(settings.import_max_bytes)
    status = 0
    for name in args.files:
        # Whoever runs the command line holds the database itself: national scope.
        report = import_file(
            repo,
            Path(name),
            dry_run=args.dry_run,
            today=settings.current_date(),
            scope=Scope.national(),
            limits=limits,
            org_systems=settings.fhir_org_systems,
        )
        if not args.dry_run:
            audit.record(
                repo.engine,
                "import",
                _cli_actor(),
                report.audit_detail(_file_hash(Path(name)), "cli"),
            )
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
    "quality",
)


def _run_query(args, settings: Settings):
    """(repo, indicator, results, unit, period, facility types) of the query the arguments
    describe; UsageError if they are wrong."""
    from .aggregate import query
    from .catalog import FACILITY_TYPES
    from .periods import PeriodError, parse_period

    repo = _repo(settings)
    cat = repo.catalog()
    ind = cat.indicator(args.indicator)
    if ind is None:
        raise UsageError(
            f"unknown indicator '{args.indicator}'; see `python -m dashboard indicators`"
        )
    unit = cat.unit(args.org_unit)
    if unit is None:
        raise UsageError(f"unknown org unit '{args.org_unit}'; see `python -m dashboard org-units`")
    try:
        period = parse_period(args.period, settings.current_date())
    except PeriodError as e:
        raise UsageError(str(e)) from None
    ftypes = None
    if args.type:
        ftypes = tuple(t.strip().upper() for t in args.type.split(","))
        bad = [t for t in ftypes if t not in FACILITY_TYPES]
        if bad:
            raise UsageError(
                f"unknown facility type {', '.join(bad)}; known: {', '.join(FACILITY_TYPES)}"
            )
    results = query(
        repo,
        _scope(args.scope),
        ind,
        unit,
        period,
        by=args.by,
        ftypes=ftypes,
        rules=settings.quality_rules(),
        today=settings.current_date(),
    )
    return repo, ind, results, unit, period, ftypes


def cmd_query(args, settings: Settings) -> int:
    repo, ind, results, unit, period, ftypes = _run_query(args, settings)
    rows = [r.as_dict() for r in results]
    if args.suppress is not None:
        from .suppression import restricted_rows

        threshold = args.suppress or settings.suppress_threshold
        asked = (ind, unit, period, args.by, ftypes)
        # The same decisions as the dashboard's: one canonical cube per unit's family.
        rows = restricted_rows(
            repo, _scope(args.scope), settings.current_date(), asked, rows, threshold
        )
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    elif args.format == "csv":
        rows = [{**r, "quality": " ".join(r["quality"])} for r in rows]
        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else list(QUERY_COLUMNS))
        w.writeheader()
        w.writerows(rows)
    else:
        rows = [{**r, "quality": ",".join(r["quality"])} for r in rows]
        table = [
            [_fmt(r[c], ind.decimals if c == "value" else 1) for c in QUERY_COLUMNS] for r in rows
        ]
        _print_table(list(QUERY_COLUMNS), table)
    return 0


def cmd_export(args, settings: Settings) -> int:
    from datetime import datetime

    from . import audit
    from .interop.export import ExportError, render

    repo, ind, results, *_ = _run_query(args, settings)
    created = datetime.now(UTC).replace(microsecond=0).isoformat()
    try:
        text = render(
            args.format, results, ind, repo.catalog(), settings.current_date(), created=created
        )
    except ExportError as exc:
        return _fail(str(exc))
    out = Path(args.output)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"{len(results)} rows -> {out} ({args.format})", file=sys.stderr)
    audit.record(
        repo.engine,
        "export",
        _cli_actor(),
        {
            "format": args.format,
            "indicator": ind.code,
            "org_unit": args.org_unit,
            "period": args.period,
            "by": args.by,
            "file": args.output,
        },
    )
    return 0


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def _cli_context(settings: Settings, scope_text: str | None):
    from .views import Context

    repo = _repo(settings)
    return Context(
        repo=repo,
        scope=_scope(scope_text),
        today=settings.current_date(),
        small_count=settings.small_count,
        rules=settings.quality_rules(),
    )


def cmd_sdg(args, settings: Settings) -> int:
    from .sdg import CSV_COLUMNS, sdg_progress

    ctx = _cli_context(settings, args.scope)
    unit = ctx.cat.unit(args.org_unit)
    if unit is None or not ctx.cat.in_scope(unit, ctx.scope):
        return _fail(f"unknown org unit '{args.org_unit}'; see `python -m dashboard org-units`")
    rows = [r.as_dict() for r in sdg_progress(ctx, unit, by=args.by)]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        w = csv.DictWriter(sys.stdout, fieldnames=list(CSV_COLUMNS), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return 0


def cmd_briefing(args, settings: Settings) -> int:
    from urllib.parse import urlencode

    from .briefing import build
    from .filters import from_query
    from .periods import PeriodError, parse_period

    ctx = _cli_context(settings, args.scope)
    unit = ctx.cat.unit(args.org_unit)
    if unit is None or not ctx.cat.in_scope(unit, ctx.scope) or unit.level > 2:
        return _fail(f"unknown org unit '{args.org_unit}' (the country, a region or a district)")
    try:
        parse_period(args.period, ctx.today)
    except PeriodError as e:
        return _fail(str(e))
    q: dict[str, str] = {"lang": args.lang, "periodo": args.period}
    if unit.level == 1:
        q["region"] = unit.code
    elif unit.level == 2:
        q |= {"region": ctx.cat.parent(unit).code, "distrito": unit.code}
    f = from_query("?" + urlencode(q), ctx.cat, ctx.today, ctx.scope)
    b = build(ctx, f)
    rows = b.as_dicts(args.lang, f)
    if args.format == "json":
        doc = {"org_unit": unit.code, "period": b.period.id, "findings": rows}
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        from .i18n import fmt_period, t

        print(t("brief_title", args.lang, period=fmt_period(b.period, args.lang)))
        if not rows:
            print(t("brief_none", args.lang))
        for i, r in enumerate(rows, 1):
            print(f"{i}. {r['text']}\n   {r['href']}")
    return 0


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


def cmd_migrate(args, settings: Settings) -> int:
    """The release step: bring the schema to this code's revision before workers start."""
    from .db import head_revision, schema_revision

    repo = _repo(settings)
    current = schema_revision(repo.engine)
    repo.engine.dispose()
    print(f"schema at revision {current} (this code: {head_revision()})")
    return 0


def cmd_serve(args, settings: Settings) -> int:
    from .app import create_app

    if args.ensure_demo and not _repo(settings).catalog().units:
        print("No data yet: building the demo database first (about 20 s)...", file=sys.stderr)
        cmd_demo(argparse.Namespace(seed=1, scale=1), settings)
    if args.ensure_demo:
        _ensure_demo_accounts(settings)
    # The development server migrates on start, as the embedded demo always has.
    app = create_app(settings, migrate=True, settle_heap=True)
    print(f"Dashboard on http://{args.host}:{args.port}/  (database: {settings.database_url})")
    app.run(host=args.host, port=args.port, debug=settings.debug)
    return 0


def _accounts(settings: Settings):
    from .accounts import Accounts

    repo = _repo(settings)
    return repo, Accounts(repo.engine)


def _new_password(args) -> tuple[str, bool]:
    """(password, generated): one line from stdin with --password-stdin, else a random one
    that is printed once (it is stored only as an argon2 hash)."""
    import secrets

    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\r\n"), False
    return secrets.token_urlsafe(12), True


def cmd_users(args, settings: Settings) -> int:
    from .accounts import AccountError

    repo, accounts = _accounts(settings)
    actor = _cli_actor()
    try:
        if args.action == "list":
            rows = [
                {
                    "email": a.email,
                    "role": a.role,
                    "region": a.region or "",
                    "district": a.district or "",
                    "status": "disabled" if a.disabled else "active",
                    "scope": ",".join(sorted(a.scope.roots)) or "(none)",
                    "created": a.created_at.strftime("%Y-%m-%d %H:%M"),
                    "last_login": a.last_login.strftime("%Y-%m-%d %H:%M") if a.last_login else "",
                }
                for a in accounts.all()
            ]
            return _emit(
                rows, args.format, ["email", "role", "region", "district", "status", "last_login"]
            )
        if args.action == "add":
            password, generated = _new_password(args)
            a = accounts.add(
                repo.catalog(),
                args.email,
                args.role,
                password,
                region=args.region,
                district=args.district,
                actor=actor,
            )
            print(f"account added: {a.email} ({a.role}, scope {_scope_text(a)})")
        elif args.action == "disable":
            a = accounts.set_disabled(args.email, True, actor=actor)
            print(f"account disabled: {a.email}; its sessions are closed")
            return 0
        elif args.action == "enable":
            a = accounts.set_disabled(args.email, False, actor=actor)
            print(f"account enabled: {a.email}")
            return 0
        elif args.action == "set-role":
            a = accounts.set_role(
                repo.catalog(),
                args.email,
                args.role,
                region=args.region,
                district=args.district,
                actor=actor,
            )
            print(f"role changed: {a.email} is {a.role} (scope {_scope_text(a)})")
            return 0
        else:  # reset-password
            password, generated = _new_password(args)
            a = accounts.set_password(args.email, password, actor=actor)
            print(f"password reset: {a.email}; its sessions are closed")
    except AccountError as exc:
        return _fail(str(exc))
    if generated:
        print(f"password (shown once): {password}")
    if not a.scope.roots:
        print(
            f"warning: a {a.role} account without a unit sees nothing; "
            "set one with `users set-role`",
            file=sys.stderr,
        )
    return 0


def cmd_tokens(args, settings: Settings) -> int:
    from .accounts import AccountError, utcnow
    from .tokens import ApiTokens

    repo = _repo(settings)
    tokens = ApiTokens(repo.engine)
    actor = _cli_actor()
    if args.action == "create":
        try:
            token_id, token = tokens.create(args.email, days=args.days, actor=actor)
        except AccountError as exc:
            return _fail(str(exc))
        print(f"token {token_id} for {args.email}, valid {args.days} days")
        print(f"token (shown once; keep it secret): {token}")
        return 0
    if args.action == "revoke":
        if not tokens.revoke(args.id, actor=actor):
            return _fail(f"no active token {args.id}; see `python -m dashboard tokens list`")
        print(f"token {args.id} revoked")
        return 0
    now = utcnow()
    rows = [
        {
            "id": tk.id,
            "email": tk.email,
            "status": tk.status(now),
            "created": tk.created_at.strftime("%Y-%m-%d %H:%M"),
            "expires": tk.expires_at.strftime("%Y-%m-%d %H:%M"),
            "last_used": tk.last_used.strftime("%Y-%m-%d %H:%M") if tk.last_used else "",
        }
        for tk in tokens.all()
    ]
    return _emit(rows, args.format, ["id", "email", "status", "created", "expires", "last_used"])


def _scope_text(a) -> str:
    return ",".join(sorted(a.scope.roots)) or "none"


def cmd_audit(args, settings: Settings) -> int:
    from datetime import datetime

    from . import audit

    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError:
            return _fail(f"--since wants an ISO date such as 2026-11-01, not '{args.since}'")
    repo = _repo(settings)
    rows = [
        {
            "at": e.at.strftime("%Y-%m-%d %H:%M:%S"),
            "actor": e.actor or "",
            "action": e.action,
            "ip": e.ip or "",
            "detail": json.dumps(e.detail, ensure_ascii=False, sort_keys=True),
        }
        for e in audit.entries(repo.engine, since)
    ]
    return _emit(rows, args.format, ["at", "actor", "action", "ip", "detail"])


DEMO_ACCOUNTS = (
    ("nacional@demo.local", "nacional", None),
    ("director.concepcion@demo.local", "regional", "PY-1"),
)


def _ensure_demo_accounts(settings: Settings) -> None:
    """The local demo's two accounts, created once with random passwords; the passwords are
    kept (mode 600) beside the demo data so every `make run` can print them again."""
    import os
    import secrets

    repo, accounts = _accounts(settings)
    path = settings.data_dir / "demo-accounts.json"
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    cat = repo.catalog()
    for email, role, region in DEMO_ACCOUNTS:
        if accounts.get(email) is None:
            known[email] = secrets.token_urlsafe(12)
            accounts.add(cat, email, role, known[email], region=region, actor="demo")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(known, fh, indent=1)
    print("Demo accounts (sign in at /login):")
    for email, role, region in DEMO_ACCOUNTS:
        password = known.get(email) or "(unknown: python -m dashboard users reset-password)"
        print(f"  {email:34} {password:22} {role}{' ' + region if region else ''}")


def _pdf_filters(args, ctx) -> tuple[Any, str | None]:
    """Filters from the command line, validated: a code that does not exist is an error here
    (on the web it falls back silently; on the command line a typo must not print the nation)."""
    from urllib.parse import urlencode

    from .filters import from_query

    cat = ctx.cat
    checks = [
        (args.region, 1, "region"),
        (args.district, 2, "district"),
        (args.facility, 3, "facility"),
    ]
    for code, level, what in checks:
        if code and (cat.unit(code) is None or cat.unit(code).level != level):
            raise UsageError(f"unknown {what} '{code}'; see `python -m dashboard org-units`")
    if args.indicator and args.indicator not in cat.indicators:
        raise UsageError(
            f"unknown indicator '{args.indicator}'; see `python -m dashboard indicators`"
        )
    if args.period:
        from .periods import PeriodError, parse_period

        try:
            parse_period(args.period, ctx.today)
        except PeriodError as e:
            raise UsageError(str(e)) from None
    q = {
        "lang": args.lang,
        "region": args.region,
        "distrito": args.district,
        "tipo": args.type,
        "indicador": args.indicator,
        "periodo": args.period,
    }
    f = from_query("?" + urlencode({k: v for k, v in q.items() if v}), cat, ctx.today, ctx.scope)
    return f, args.facility


def cmd_export_pdf(args, settings: Settings) -> int:
    import time

    from . import audit
    from .catalog import Scope
    from .i18n import t
    from .report.pdf import engine_problem, printer
    from .report.render import RenderServer
    from .report.snapshot import banner, page_path, pdf_name
    from .views import Context

    problem = engine_problem()
    if problem:
        print(t(problem, args.lang), file=sys.stderr)
        return 3
    repo = _repo(settings)
    ctx = Context(
        repo=repo,
        scope=Scope.national(),
        today=settings.current_date(),
        small_count=settings.small_count,
        rules=settings.quality_rules(),
    )
    f, facility = _pdf_filters(args, ctx)
    out = Path(args.output)
    jobs: list[tuple[Any, Any]]
    if args.pack:
        if not args.each_region and not args.region:
            return _fail("--pack region needs --each-region or --region CODE")
        regions = ctx.cat.regions() if args.each_region else [ctx.cat.by_code[args.region]]
        out.mkdir(parents=True, exist_ok=True)
        jobs = [(f.with_(region=r.code, district=None), r) for r in regions]
    else:
        if args.page == "establecimiento" and not facility:
            return _fail("--page establecimiento needs --facility CODE")
        jobs = [(f, None)]
    failures = []
    local = RenderServer(settings)
    with local as base, printer() as pr:
        for i, (view, region) in enumerate(jobs, 1):
            page = "paquete" if args.pack else args.page
            t0 = time.perf_counter()
            label = region.name if region else page
            try:
                pdf = pr.print_url(
                    base + page_path(page, view, facility),
                    banner(ctx, page, view, facility),
                    lang=view.lang,
                    cookies=local.print_cookies(ctx.scope, args.suppress),
                )
                target = out / pdf_name(ctx, page, view, facility) if args.pack else out
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(pdf)
                audit.record(
                    repo.engine,
                    "export",
                    _cli_actor(),
                    {"page": page, "format": "pdf", "query": view.to_query(), "file": str(target)},
                )
                status = f"ok {time.perf_counter() - t0:.1f} s -> {target}"
            except Exception as exc:  # one region failing must not lose the others
                failures.append((label, exc))
                status = f"FAILED: {exc}"
            if len(jobs) > 1:
                done = int(20 * i / len(jobs))
                print(
                    f"[{'#' * done}{'.' * (20 - done)}] {i}/{len(jobs)} {label}: {status}",
                    file=sys.stderr,
                )
            else:
                print(status, file=sys.stderr)
    for label, error in failures:
        print(f"error: {label}: {error}", file=sys.stderr)
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="build the Paraguay demo database (replaces its contents)")
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--scale", type=int, default=1, help="10 builds a 10x stress set")
    d.set_defaults(func=cmd_demo)

    i = sub.add_parser(
        "import",
        help="import data values or metadata (CSV, XLSX, DHIS2 JSON/CSV, FHIR MeasureReport, ADX)",
    )
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
    q.add_argument(
        "--suppress",
        nargs="?",
        type=int,
        const=0,
        metavar="N",
        help="disclosure control as the public sees it: counts 1..N (default "
        "DASHBOARD_SUPPRESS_THRESHOLD, 4) shown as <N+1, their rates withheld",
    )
    q.set_defaults(func=cmd_query)

    x = sub.add_parser(
        "export", help="what `query` answers as FHIR MeasureReport, ADX, DHIS2 JSON or long CSV"
    )
    x.add_argument("--format", choices=("fhir", "adx", "dhis2-json", "csv"), required=True)
    x.add_argument("--indicator", required=True)
    x.add_argument("--org-unit", required=True)
    x.add_argument("--period", required=True, help="202409, 2024Q3, 2024, 202401:202406 ...")
    x.add_argument("--by", choices=("region", "district", "facility", "month", "quarter", "year"))
    x.add_argument("--type", help="facility types, e.g. USF or HD,HR")
    x.add_argument("--scope", help="org-unit codes the caller may see (default: the whole country)")
    x.add_argument("-o", "--output", required=True, help="file to write, or - for stdout")
    x.set_defaults(func=cmd_export)
    g = sub.add_parser("sdg", help="SDG 3 indicators: trend, 2030 projection, status")
    g.add_argument("--org-unit", required=True)
    g.add_argument("--by", choices=("region", "district"), help="also each region or district")
    g.add_argument("--scope", help="org-unit codes the caller may see (default: the whole country)")
    g.add_argument("--format", choices=("json", "csv"), default="csv")
    g.set_defaults(func=cmd_sdg)

    b = sub.add_parser("briefing", help="the month's most important findings for a unit")
    b.add_argument("--org-unit", required=True, help="the country, a region or a district")
    b.add_argument("--period", required=True, help="202610, 2026Q3, 2026, LAST_MONTH …")
    b.add_argument("--lang", choices=("es", "en"), default="es")
    b.add_argument("--scope", help="org-unit codes the caller may see (default: the whole country)")
    b.add_argument("--format", choices=("text", "json"), default="text")
    b.set_defaults(func=cmd_briefing)

    ind = sub.add_parser("indicators", help="list the indicator catalogue")
    ind.add_argument("--format", choices=("table", "json", "csv"), default="table")
    ind.add_argument("--lang", choices=("es", "en"), default="es")
    ind.set_defaults(func=cmd_indicators)

    o = sub.add_parser("org-units", help="list the org-unit tree")
    o.add_argument("--level", choices=("country", "region", "district", "facility"))
    o.add_argument("--parent", help="only units under this code")
    o.add_argument("--format", choices=("table", "json", "csv"), default="table")
    o.set_defaults(func=cmd_org_units)

    e = sub.add_parser("export-pdf", help="PDF snapshot of a page, or a monthly pack per region")
    e.add_argument(
        "--page",
        choices=(
            "resumen",
            "mapa",
            "tendencias",
            "desempeno",
            "establecimiento",
            "equidad",
            "ods",
            "calidad",
        ),
        default="resumen",
    )
    e.add_argument(
        "--pack",
        choices=("region",),
        help="the regional pack: overview, map, facility scorecard, trends",
    )
    e.add_argument(
        "--each-region", action="store_true", help="with --pack: one PDF per health region"
    )
    e.add_argument("--region", help="ISO 3166-2:PY code, e.g. PY-1")
    e.add_argument("--district", help="INE district code, e.g. 0101")
    e.add_argument("--type", help="facility type: USF, PS, CS, HD, HR, HG, HE")
    e.add_argument("--indicator", help="indicator code, e.g. INM-03")
    e.add_argument("--facility", help="facility code (for --page establecimiento)")
    e.add_argument("--period", help="202409, 2024Q3, 2024, LAST_12_MONTHS ...")
    e.add_argument("--lang", choices=("es", "en"), default="es")
    e.add_argument(
        "--suppress",
        action="store_true",
        help="disclosure control as the public sees it: counts 1..threshold hidden",
    )
    e.add_argument("-o", "--output", required=True, help="PDF file, or a folder with --each-region")
    e.set_defaults(func=cmd_export_pdf)

    m = sub.add_parser(
        "migrate", help="upgrade the database schema (a release step, before starting workers)"
    )
    m.set_defaults(func=cmd_migrate)

    s = sub.add_parser("serve", help="run the web dashboard (development server)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8050)
    s.add_argument(
        "--ensure-demo", action="store_true", help="build the demo database if it is empty"
    )
    s.set_defaults(func=cmd_serve)

    u = sub.add_parser(
        "users", help="sign-in accounts: add, list, disable, set-role, reset-password"
    )
    us = u.add_subparsers(dest="action", required=True)
    ua = us.add_parser(
        "add", help="a new account (prints a generated password unless --password-stdin)"
    )
    ua.add_argument("email")
    ua.add_argument("--role", required=True, help="nacional, regional, distrital, analista, admin")
    ua.add_argument("--region", help="health region code, e.g. PY-1")
    ua.add_argument("--district", help="INE district code, e.g. 0101")
    ua.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    ul = us.add_parser("list", help="every account")
    ul.add_argument("--format", choices=("table", "json", "csv"), default="table")
    for name, what in (
        ("disable", "sign-in refused from the next request"),
        ("enable", "undo disable"),
    ):
        ud = us.add_parser(name, help=what)
        ud.add_argument("email")
    ur = us.add_parser("set-role", help="a new role and unit (applies from the next request)")
    ur.add_argument("email")
    ur.add_argument("role")
    ur.add_argument("--region")
    ur.add_argument("--district")
    up = us.add_parser("reset-password", help="a new password; open sessions end")
    up.add_argument("email")
    up.add_argument("--password-stdin", action="store_true")
    u.set_defaults(func=cmd_users)

    tk = sub.add_parser("tokens", help="personal access tokens of the read API (/api/v1)")
    tks = tk.add_subparsers(dest="action", required=True)
    tc = tks.add_parser("create", help="a new token for an account (printed once)")
    tc.add_argument("email")
    tc.add_argument("--days", type=int, default=90, help="days until it expires (1-366)")
    tl = tks.add_parser("list", help="every token (never the token itself)")
    tl.add_argument("--format", choices=("table", "json", "csv"), default="table")
    tr = tks.add_parser("revoke", help="stop a token at once")
    tr.add_argument("id", type=int)
    tk.set_defaults(func=cmd_tokens)

    a = sub.add_parser("audit", help="the audit log, newest first")
    a.add_argument("--since", help="ISO date or date-time, e.g. 2026-11-01")
    a.add_argument("--format", choices=("table", "json", "csv"), default="table")
    a.set_defaults(func=cmd_audit)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args, Settings.from_env())
    except UsageError as exc:
        return _fail(str(exc))
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
