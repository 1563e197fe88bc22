"""Import monthly facility data values: the long CSV/XLSX format and DHIS2 dataValueSets."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ..catalog import Catalog
from ..missing import is_missing
from ..repository import Repository
from .common import (
    Checked,
    FileProblem,
    ImportReport,
    Problem,
    Table,
    Verdict,
    check_column,
    database_errors,
    decode,
    fail,
    non_numeric_reason,
    ok,
    parse_date,
    parse_number,
)

LONG_REQUIRED = ("data_element", "period", "org_unit", "value")
# DHIS2 names, lower-cased (CSV export headers and JSON camelCase alike) -> our names.
DHIS2_NAMES = {
    "dataelement": "data_element",
    "period": "period",
    "orgunit": "org_unit",
    "catoptcombo": "coc",
    "categoryoptioncombo": "coc",
    "attroptcombo": "aoc",
    "attributeoptioncombo": "aoc",
    "value": "value",
    "deleted": "deleted",
}
DHIS2_ONLY = frozenset(k for k in DHIS2_NAMES if k not in ("period", "value", "deleted"))
DHIS2_REQUIRED = ("dataelement", "period", "orgunit", "value")
_JSON_KEYS = {
    "data_element": "dataElement",
    "period": "period",
    "org_unit": "orgUnit",
    "coc": "categoryOptionCombo",
    "aoc": "attributeOptionCombo",
    "value": "value",
    "deleted": "deleted",
}

_MONTH = re.compile(r"(\d{4})(\d{2})")
# DHIS2 ids of other period types: year, quarter, six-month, week, bi-week, bi-month, financial
# years, day. Recognised only to say "monthly periods only" instead of "bad period".
_OTHER_PERIOD = re.compile(
    r"\d{4}(?:Q[1-4]|S[12]|W\d{1,2}|BIW\d{1,2}|\d{2}B|APRIL|JULY|OCT|NOV|APRILS[12]|NOVS[12]|\d{4})?"
)
_DHIS2_UID = re.compile(r"[A-Za-z][A-Za-z0-9]{10}")
MIN_YEAR, MAX_YEAR = 1990, 2100


@dataclass
class RawValues:
    """Data value cells as text, whatever file they came from, named with our column names."""

    file: str
    cells: dict[str, pd.Series]
    rows: np.ndarray
    names: dict[str, str]  # our name -> as written in the file
    decimal_comma: bool
    dhis2: bool
    problems: list[Problem]


@dataclass
class ParsedValues:
    """Validated values ready for the repository, or the problems that stop the import."""

    frame: pd.DataFrame  # org_unit_id, data_element_id, month, value (one row per key)
    reports: pd.DataFrame  # org_unit_id, month [, received_on]: the monthly reports that arrived
    rows: int
    skipped: int
    problems: list[Problem]


# ==== sources ================================================================================
def from_long_table(table: Table) -> RawValues:
    table.require(LONG_REQUIRED)
    names = [c for c in table.frame.columns if c in (*LONG_REQUIRED, "received_on")]
    return RawValues(
        table.file,
        {c: table.frame[c] for c in names},
        table.rows,
        {c: table.display(c) for c in names},
        table.decimal_comma,
        dhis2=False,
        problems=list(table.problems),
    )


def from_dhis2_table(table: Table) -> RawValues:
    table.require(DHIS2_REQUIRED)
    cells, names = {}, {}
    for col in table.frame.columns:
        ours = DHIS2_NAMES.get(col)
        if ours and ours not in cells:
            cells[ours] = table.frame[col]
            names[ours] = table.display(col)
    return RawValues(
        table.file,
        cells,
        table.rows,
        names,
        table.decimal_comma,
        dhis2=True,
        problems=list(table.problems),
    )


def from_dhis2_json(path: Path) -> RawValues:
    text = decode(path.read_bytes())
    if not text.strip():
        raise FileProblem("empty_file")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileProblem("bad_json", error=f"{exc.msg} (line {exc.lineno})") from exc
    entries = doc.get("dataValues") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise FileProblem("no_data_values")
    if not entries:
        raise FileProblem("no_rows")
    problems = []
    cells: dict[str, list[str]] = {k: [] for k in _JSON_KEYS}
    rows = []
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            problems.append(Problem(path.name, i, "", None, "bad_entry"))
            continue
        rows.append(i)
        for ours, key in _JSON_KEYS.items():
            cells[ours].append(_json_text(entry.get(key)))
    return RawValues(
        path.name,
        {k: pd.Series(v, dtype=object) for k, v in cells.items()},
        np.array(rows, dtype=np.int64),
        dict(_JSON_KEYS),
        decimal_comma=False,
        dhis2=True,
        problems=problems,
    )


def _json_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


# ==== validation =============================================================================
def parse_values(raw: RawValues, catalog: Catalog, today: date) -> ParsedValues:
    """Check every cell (vectorised over distinct texts) and build the facility-month frame."""
    problems = list(raw.problems)
    cells, rows = raw.cells, raw.rows
    n_read = len(rows) + sum(1 for p in raw.problems if p.reason == "bad_entry")
    skipped = 0
    if "deleted" in cells:
        # DHIS2 marks soft-deleted values; they are not data.
        deleted = (cells["deleted"].str.strip().str.lower() == "true").to_numpy()
        skipped += int(deleted.sum())
        keep = ~deleted
        cells = {k: v[keep].reset_index(drop=True) for k, v in cells.items()}
        rows = rows[keep]
    current = today.year * 100 + today.month
    checks: dict[str, Checked] = {
        "org_unit": check_column(cells["org_unit"], _org_unit_check(catalog, raw.dhis2), float),
        "data_element": check_column(
            cells["data_element"], _data_element_check(catalog, raw.dhis2), float
        ),
        "period": check_column(cells["period"], _period_check(current), float),
        "value": check_column(cells["value"], _value_check(raw.decimal_comma), float),
    }
    if "received_on" in cells:
        checks["received_on"] = check_column(cells["received_on"], _date_check(today))
    bad = np.zeros(len(rows), dtype=bool)
    for name, checked in checks.items():
        bad |= checked.bad
        problems.extend(checked.problems(raw.file, rows, raw.names[name], cells[name]))

    good = np.flatnonzero(~bad)
    f = pd.DataFrame(
        {
            "org_unit_id": checks["org_unit"].values[good].astype(np.int64),
            "data_element_id": checks["data_element"].values[good].astype(np.int64),
            "month": checks["period"].values[good].astype(np.int64),
            "value": checks["value"].values[good].astype(float),
            "pos": good,
        }
    )
    key = ["org_unit_id", "data_element_id", "month"]
    if raw.dhis2:
        # A DHIS2 value is keyed by its category and attribute option combos too.
        for combo in ("coc", "aoc"):
            col = cells.get(combo)
            f[combo] = col.to_numpy()[good] if col is not None else ""
            f[combo] = f[combo].astype(str).str.strip()
        key += ["coc", "aoc"]
    if "received_on" in checks:
        f["received_on"] = checks["received_on"].values[good]

    dup = f.duplicated(key, keep=False).to_numpy()
    if dup.any():
        d = f.loc[dup]
        first = d.groupby(key, sort=False)[["value", "pos"]].transform("first")
        conflict = d["value"].to_numpy() != first["value"].to_numpy()
        raw_value = cells["value"].to_numpy()
        for pos, first_pos in zip(
            d["pos"].to_numpy()[conflict], first["pos"].to_numpy()[conflict], strict=True
        ):
            problems.append(
                Problem(
                    raw.file,
                    int(rows[pos]),
                    raw.names["value"],
                    str(raw_value[pos]),
                    "duplicate_conflict",
                    {"first": int(rows[first_pos])},
                )
            )
        before = len(f)
        f = f.drop_duplicates(key)
        skipped += before - len(f)

    order = {name: i for i, name in enumerate(raw.names.values())}
    problems.sort(key=lambda p: (p.row, order.get(p.column, -1)))
    if problems:
        return ParsedValues(_empty_values(), _empty_values(), n_read, skipped, problems)

    reports = f[["org_unit_id", "month"]].copy()
    if "received_on" in f:
        # Blank means "today"; rows of one report may disagree, the earliest date counts.
        stamps = pd.to_datetime(f["received_on"].where(f["received_on"].notna(), today))
        reports["received_on"] = stamps.to_numpy()
        reports = reports.groupby(["org_unit_id", "month"], as_index=False)["received_on"].min()
        reports["received_on"] = reports["received_on"].dt.date
    else:
        reports = reports.drop_duplicates()
    if raw.dhis2:
        # Category option combos are disaggregations (age, sex...): the store keeps the total.
        f = f.groupby(key[:3], as_index=False, sort=False)["value"].sum()
    frame = f[["org_unit_id", "data_element_id", "month", "value"]].reset_index(drop=True)
    return ParsedValues(frame, reports.reset_index(drop=True), n_read, skipped, [])


def _empty_values() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "org_unit_id": pd.Series(dtype=np.int64),
            "data_element_id": pd.Series(dtype=np.int64),
            "month": pd.Series(dtype=np.int64),
            "value": pd.Series(dtype=float),
        }
    )


def unknown_code(
    code: str, known: dict, default: str, *, dhis2: bool = False, zeros: bool = False
) -> Verdict:
    """The reason for an unknown code, with a hint for the two usual causes."""
    if zeros and code.isdigit():
        for width in (2, 4):
            padded = code.zfill(width)
            if padded != code and padded in known:
                return fail("unknown_org_unit_zero", code=padded)
    # DHIS2 exports name things by UID (mixed case, 11 characters) unless asked for codes.
    if dhis2 and _DHIS2_UID.fullmatch(code) and code != code.upper():
        return fail("unknown_uid")
    return fail(default)


def _org_unit_check(catalog: Catalog, dhis2: bool):
    def check(text: str) -> Verdict:
        code = text.strip()
        if not code:
            return fail("missing_value")
        unit = catalog.by_code.get(code)
        if unit is None:
            return unknown_code(code, catalog.by_code, "unknown_org_unit", dhis2=dhis2, zeros=True)
        if unit.level != 3:
            return fail("not_facility", level=unit.level)
        return ok(unit.id)

    return check


def _data_element_check(catalog: Catalog, dhis2: bool):
    def check(text: str) -> Verdict:
        code = text.strip()
        if not code:
            return fail("missing_value")
        de = catalog.data_elements.get(code)
        if de is None:
            return unknown_code(code, catalog.data_elements, "unknown_data_element", dhis2=dhis2)
        if de.kind != "count":
            return fail("not_count", kind=de.kind)
        return ok(de.id)

    return check


def _period_check(current: int):
    def check(text: str) -> Verdict:
        pe = text.strip().upper()
        if not pe:
            return fail("missing_value")
        m = _MONTH.fullmatch(pe)
        if m:
            year, month = int(m.group(1)), int(m.group(2))
            if not (1 <= month <= 12 and MIN_YEAR <= year <= MAX_YEAR):
                return fail("bad_period")
            if int(pe) > current:
                return fail("future_period", month=str(current))
            return ok(int(pe))
        if _OTHER_PERIOD.fullmatch(pe):
            return fail("not_monthly")
        return fail("bad_period")

    return check


def _value_check(decimal_comma: bool):
    def check(text: str) -> Verdict:
        if not text.strip():
            return fail("missing_value")
        v = parse_number(text, decimal_comma)
        if is_missing(v):
            return fail(non_numeric_reason(decimal_comma))
        if v < 0:
            return fail("negative_value")
        return ok(v)

    return check


def _date_check(today: date):
    def check(text: str) -> Verdict:
        if not text.strip():
            return ok(None)
        d = parse_date(text)
        if d is None:
            return fail("bad_date")
        if d > today:
            return fail("future_date")
        return ok(d)

    return check


# ==== writing ================================================================================
def write_values(
    repo: Repository, parsed: ParsedValues, report: ImportReport, *, dry_run: bool, today: date
) -> None:
    """Write in one transaction (or, dry run, only count what would change)."""
    frame = parsed.frame
    report.values = len(frame)
    if frame.empty:
        return
    if dry_run:
        with database_errors():
            new, changed, same = repo.diff_values(frame)
        report.inserted, report.updated, report.unchanged = len(new), len(changed), same
        return
    t0 = time.perf_counter()
    with database_errors(), repo.engine.begin() as conn:
        batch_id = repo.start_batch(report.file, report.format, conn)
        counts = repo.write_values(frame, batch_id, conn)
        # Expected rows first: mark_received inserts a missing report row as not expected
        # (expected=0), which would keep an active facility's report out of completeness.
        repo.ensure_expected_reports(int(frame["month"].min()), int(frame["month"].max()), conn)
        repo.mark_received(parsed.reports, today, conn)
        repo.finish_batch(batch_id, report.rows, counts, conn)
    report.inserted, report.updated, report.unchanged = (
        counts.inserted,
        counts.updated,
        counts.unchanged,
    )
    t1 = time.perf_counter()
    # Only the calendar years the file touches: their rollups depend on nothing else.
    repo.refresh_rollups(years=sorted({int(m) // 100 for m in frame["month"].unique()}))
    report.timings.update(write_s=t1 - t0, refresh_s=time.perf_counter() - t1)


def import_values(
    repo: Repository, raw: RawValues, report: ImportReport, *, dry_run: bool, today: date
) -> ImportReport:
    parsed = parse_values(raw, repo.catalog(), today)
    report.rows, report.skipped = parsed.rows, parsed.skipped
    if parsed.problems:
        report.problems.extend(parsed.problems)
        return report
    write_values(repo, parsed, report, dry_run=dry_run, today=today)
    return report
