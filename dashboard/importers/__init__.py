"""Import entry point: recognise a file by its extension and header, validate it, load it whole."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ..repository import Repository
from .common import (
    CSV_SUFFIXES,
    XLSX_SUFFIXES,
    FileProblem,
    ImportReport,
    MissingColumns,
    Problem,
    read_table,
)
from .metadata import import_metadata
from .values import DHIS2_ONLY, from_dhis2_json, from_dhis2_table, from_long_table, import_values

__all__ = ["ImportReport", "Problem", "detect_kind", "import_file"]


def detect_kind(columns: set[str]) -> str | None:
    """What a header describes, from the columns only one kind of file has (lower-case names)."""
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
    repo: Repository, path: Path, *, dry_run: bool = False, today: date
) -> ImportReport:
    """Validate a data or metadata file and, if it has no problem at all, load it in one
    transaction. Never raises for bad input: every problem is in the report."""
    path = Path(path)
    report = ImportReport(file=path.name, dry_run=dry_run)
    try:
        _import(repo, path, report, dry_run=dry_run, today=today)
    except FileProblem as exc:
        report.problems.append(exc.problem(path.name))
    except MissingColumns as exc:
        report.problems.extend(exc.problems)
    except OSError as exc:
        report.problems.append(
            Problem(path.name, 0, "", None, "file_unreadable", {"error": exc.strerror or str(exc)})
        )
    if report.problems:
        report.inserted = report.updated = report.unchanged = report.values = 0
    return report


def _import(
    repo: Repository, path: Path, report: ImportReport, *, dry_run: bool, today: date
) -> None:
    if not path.is_file():
        raise FileProblem("file_not_found")
    suffix = path.suffix.lower()
    # A fresh catalog: another process may have changed the reference data since it was read.
    repo.invalidate()
    if suffix == ".json":
        report.format = "dhis2-json"
        import_values(repo, from_dhis2_json(path), report, dry_run=dry_run, today=today)
        return
    if suffix == ".xls":
        raise FileProblem("old_xls")
    if suffix not in CSV_SUFFIXES + XLSX_SUFFIXES:
        raise FileProblem("unknown_extension", ext=suffix or path.name)
    table = read_table(path)
    kind = detect_kind(table.columns)
    if kind is None:
        raise FileProblem("unknown_header", row=table.header_row)
    if table.frame.empty:
        raise FileProblem("no_rows")
    ext = table.suffix
    if kind == "long":
        report.format = f"long-{ext}"
        import_values(repo, from_long_table(table), report, dry_run=dry_run, today=today)
    elif kind == "dhis2":
        report.format = f"dhis2-{ext}"
        import_values(repo, from_dhis2_table(table), report, dry_run=dry_run, today=today)
    else:
        import_metadata(repo, table, kind, report, dry_run=dry_run)
