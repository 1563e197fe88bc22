"""Import entry point: recognise a file by its extension and header, validate it, load it whole."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

from ..catalog import Scope
from ..interop.measures import MAP_KEY, MeasureResolver, load_map
from ..interop.vocab import DEFAULT_ORG_SYSTEMS
from ..repository import Repository
from . import adx, fhir
from .common import (
    CSV_SUFFIXES,
    XLSX_SUFFIXES,
    FileProblem,
    ImportLimits,
    ImportReport,
    MissingColumns,
    Problem,
    collect_table,
    iter_tables,
    read_text,
)
from .metadata import import_metadata
from .structured import Cells
from .values import DHIS2_ONLY, from_dhis2_json, from_dhis2_table, from_long_table, import_values

STRUCTURED_SUFFIXES = (".json", ".ndjson", ".xml")

__all__ = ["ImportLimits", "ImportReport", "Problem", "detect_kind", "import_file"]


def detect_kind(columns: set[str]) -> str | None:
    """What a header describes, from the columns only one kind of file has (lower-case names)."""
    if "measure" in columns:
        return "measure-map"
    if "sdg_indicator" in columns:
        return "sdg"
    if "indicator" in columns:
        return "targets"
    if columns & {"numerator", "denominator"}:
        return "indicators"
    if "kind" in columns:
        return "data-elements"
    if columns & {"level", "parent"}:
        return "org-units"
    if "year" in columns and "period" not in columns:
        return "populations"
    if columns & DHIS2_ONLY:
        return "dhis2"
    if columns & {"data_element", "org_unit", "period", "value"}:
        return "long"
    return None


def import_file(
    repo: Repository,
    path: Path,
    *,
    dry_run: bool = False,
    today: date,
    scope: Scope,
    limits: ImportLimits | None = None,
    org_systems: tuple[str, ...] = DEFAULT_ORG_SYSTEMS,
) -> ImportReport:
    """Validate a data or metadata file and, if it has no problem at all, load it in one
    transaction. Every row must lie inside `scope` (the command line passes the national
    scope); one row outside it refuses the whole file. Never raises for bad input: every
    problem is in the report."""
    path = Path(path)
    limits = limits or ImportLimits()
    report = ImportReport(file=path.name, dry_run=dry_run)
    try:
        _import(
            repo,
            path,
            report,
            dry_run=dry_run,
            today=today,
            scope=scope,
            limits=limits,
            org_systems=org_systems,
        )
    except FileProblem as exc:
        report.add_problems([exc.problem(path.name)], limits.max_problems)
    except MissingColumns as exc:
        report.add_problems(exc.problems, limits.max_problems)
    except OSError as exc:
        report.problems.append(
            Problem(path.name, 0, "", None, "file_unreadable", {"error": exc.strerror or str(exc)})
        )
    # Stable: problems of one row keep their column order.
    report.problems.sort(key=lambda p: p.row)
    if len(report.problems) > limits.max_problems:
        report.more_problems += len(report.problems) - limits.max_problems
        del report.problems[limits.max_problems :]
    if not report.ok:
        report.inserted = report.updated = report.unchanged = report.values = 0
    return report


def _import(
    repo: Repository,
    path: Path,
    report: ImportReport,
    *,
    dry_run: bool,
    today: date,
    scope: Scope,
    limits: ImportLimits,
    org_systems: tuple[str, ...],
) -> None:
    if not path.is_file():
        raise FileProblem("file_not_found")
    suffix = path.suffix.lower()
    # A fresh catalog: another process may have changed the reference data since it was read.
    repo.invalidate()
    if suffix in STRUCTURED_SUFFIXES:
        kind = _sniff(path)
        if kind in ("fhir", "adx"):
            text = read_text(path, limits)
            cat = repo.catalog()
            if kind == "fhir":
                report.format = "fhir-measurereport"
                resolver = MeasureResolver(cat, load_map(repo.get_meta(MAP_KEY)))
                cells = fhir.read_fhir(path.name, text, cat, resolver, org_systems)
            else:
                report.format = "adx"
                cells = adx.read_adx(path.name, text)
            _import_cells(repo, cells, report, dry_run, today, scope, limits)
            return
        if suffix == ".xml":
            raise FileProblem("not_adx")
    if suffix == ".json":
        report.format = "dhis2-json"
        import_values(
            repo,
            from_dhis2_json(path, limits),
            report,
            dry_run=dry_run,
            today=today,
            scope=scope,
            limits=limits,
        )
        return
    if suffix == ".xls":
        raise FileProblem("old_xls")
    if suffix not in CSV_SUFFIXES + XLSX_SUFFIXES:
        raise FileProblem("unknown_extension", ext=suffix or path.name)
    tables = iter_tables(path, limits)
    first = next(tables)
    kind = detect_kind(first.columns)
    if kind is None:
        raise FileProblem("unknown_header", row=first.header_row)
    ext = first.suffix
    if kind in ("long", "dhis2"):
        report.format = f"{kind}-{ext}"
        source = from_long_table if kind == "long" else from_dhis2_table
        chunks = (source(t) for t in itertools.chain([first], tables))
        import_values(
            repo, chunks, report, dry_run=dry_run, today=today, scope=scope, limits=limits
        )
        return
    table = collect_table(first, tables, limits.max_metadata_rows)
    if table.frame.empty:
        raise FileProblem("no_rows")
    import_metadata(repo, table, kind, report, dry_run=dry_run, scope=scope)


def _sniff(path: Path) -> str | None:
    """'fhir' or 'adx' from the first kilobytes of the file, else None."""
    with path.open("rb") as fh:
        head = fh.read(65536).decode("utf-8", errors="replace")
    stripped = head.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<"):
        return "adx" if adx.sniff(head) else None
    return fhir.sniff(head)


def _import_cells(
    repo: Repository,
    cells: Cells,
    report: ImportReport,
    dry_run: bool,
    today: date,
    scope: Scope,
    limits: ImportLimits,
) -> None:
    import_values(
        repo,
        cells.chunks(limits.chunk_rows),
        report,
        dry_run=dry_run,
        today=today,
        scope=scope,
        limits=limits,
    )
    report.skipped += cells.skipped
    cells.locate(report)
