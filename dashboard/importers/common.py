"""Shared parts of the importers: reading CSV/XLSX text, numbers and dates, problems, the report."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from ..i18n import fmt_number, t

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")

# Why a row or file is refused. Each reason is a key of the locale files ("import_<reason>",
# e.g. import_bad_period), so the key-parity test covers the messages. Placeholders are filled
# from Problem.params; params named in _LEVEL_PARAMS / _KIND_PARAMS are translated first.
REASONS: tuple[str, ...] = (
    # whole file
    "file_not_found",
    "file_unreadable",
    "unknown_extension",
    "old_xls",
    "empty_file",
    "no_rows",
    "bad_xlsx",
    "bad_json",
    "no_data_values",
    "database_error",
    "unknown_header",
    # structure
    "missing_column",
    "duplicate_column",
    "too_many_fields",
    "bad_entry",
    "missing_value",
    # data values
    "unknown_org_unit",
    "unknown_org_unit_zero",
    "unknown_uid",
    "not_facility",
    "unknown_data_element",
    "not_count",
    "bad_period",
    "not_monthly",
    "future_period",
    "non_numeric",
    "non_numeric_comma",
    "negative_value",
    "duplicate_conflict",
    "bad_date",
    "future_date",
    # metadata
    "duplicate_code",
    "too_long",
    "bad_level",
    "only_one_country",
    "country_no_parent",
    "level_change",
    "unknown_parent",
    "parent_later",
    "wrong_parent_level",
    "bad_facility_type",
    "type_not_facility",
    "out_of_range",
    "coordinates_pair",
    "not_whole",
    "closed_before_opened",
    "bad_code",
    "bad_kind",
    "kind_change",
    "bad_expression",
    "unknown_expression_code",
    "bad_direction",
    "not_positive",
    "bad_decimals",
    "band_order",
    "not_population",
    "bad_year",
    "unknown_indicator",
    # warnings: the file is imported, the report says what to look at
    "population_parts_differ",
)
_LEVEL_PARAMS = ("level", "parent_level", "expected")  # org-unit levels 0-3
_KIND_PARAMS = ("kind",)  # data element kinds
_KINDS = ("count", "population", "derived")
_NUMBER_PARAMS = ("own", "parts", "used")  # formatted for the language (1.234)


def fmt_int(n: int, lang: str = "es") -> str:
    """Thousands separators as each language writes them (es-PY: 1.234)."""
    return fmt_number(n, lang)


def _plural(key: str, n: int) -> str:
    """The locale key of the singular ('<key>_one') or plural ('<key>_many') text."""
    return f"{key}_one" if n == 1 else f"{key}_many"


@dataclass
class Problem:
    """One thing wrong with an input file: where it is, what it holds and why it is refused."""

    file: str
    row: int  # spreadsheet row (header = 1); JSON entry index from 1; 0 = the whole file
    column: str  # as written in the file; '' = the whole row or file
    value: str | None  # the offending cell; None when there is no single cell to show
    reason: str  # one of REASONS
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str = "es") -> str:
        params = dict(self.params)
        for k in _LEVEL_PARAMS:
            if isinstance(params.get(k), int):
                params[k] = t(f"import_level_{params[k]}", lang)
        for k in _KIND_PARAMS:
            if params.get(k) in _KINDS:
                params[k] = t(f"import_kind_{params[k]}", lang)
        for k in _NUMBER_PARAMS:
            if isinstance(params.get(k), int | float):
                params[k] = fmt_number(params[k], lang)
        return t(f"import_{self.reason}", lang, **params)

    def render(self, lang: str = "es") -> str:
        row_word, col_word = t("import_row", lang), t("import_column", lang)
        where = self.file if self.row == 0 else f"{self.file} {row_word} {self.row}"
        if self.column:
            where += f", {col_word} {self.column}"
        if self.value is not None:
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            where += f": '{shown}'"
        sep = " — " if (self.column or self.value is not None) else ": "
        return f"{where}{sep}{self.message(lang)}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
            "message_es": self.message("es"),
            "message_en": self.message("en"),
        }


class FileProblem(Exception):
    """A problem that stops reading a file at all; becomes one Problem on row 0 (or the header)."""

    def __init__(self, reason: str, row: int = 0, column: str = "", **params: Any):
        super().__init__(reason)
        self.reason, self.row, self.column, self.params = reason, row, column, params

    def problem(self, file: str) -> Problem:
        return Problem(file, self.row, self.column, None, self.reason, self.params)


class MissingColumns(Exception):
    """Required columns are absent; carries one Problem per column."""

    def __init__(self, problems: list[Problem]):
        super().__init__(", ".join(p.column for p in problems))
        self.problems = problems


@contextmanager
def database_errors() -> Iterator[None]:
    """A write the database refuses becomes a problem; the transaction has rolled back."""
    try:
        yield
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise FileProblem(
            "database_error", error=detail[0] if detail else type(exc).__name__
        ) from exc


@dataclass
class ImportReport:
    """What an import read, wrote (or would write, in a dry run) and every problem it found."""

    file: str
    format: str = "unknown"
    rows: int = 0  # data rows read (JSON: dataValues entries)
    values: int = 0  # distinct facility-month values after summing disaggregations
    skipped: int = 0  # rows marked deleted and identical duplicates
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    problems: list[Problem] = field(default_factory=list)
    # Imported all the same, but worth a look (a population that does not add up).
    warnings: list[Problem] = field(default_factory=list)
    # Seconds spent writing and refreshing the rollups (for the benchmark and the log).
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self, lang: str = "es") -> str:
        head = f"{self.file} ({self.format})"
        if self.problems:
            count = len(self.problems)
            return t(_plural("import_problems", count), lang, head=head, n=fmt_int(count, lang))
        read = t(_plural("import_rows_read", self.rows), lang, n=fmt_int(self.rows, lang))
        if not self.format.startswith("metadata"):
            values = fmt_int(self.values, lang)
            read += ", " + t(_plural("import_values", self.values), lang, n=values)
        return t(
            "import_dry_run" if self.dry_run else "import_done",
            lang,
            head=head,
            read=read,
            **{k: fmt_int(getattr(self, k), lang) for k in ("inserted", "updated", "unchanged")},
        )

    def render(self, lang: str = "es", limit: int | None = None) -> str:
        """Summary line, then one line per problem (all of them unless limit is given)."""
        shown = self.problems if limit is None else self.problems[:limit]
        lines = [self.summary(lang), *(p.render(lang) for p in shown)]
        hidden = len(self.problems) - len(shown)
        if hidden:
            lines.append(t("import_more", lang, n=fmt_int(hidden, lang)))
        lines += [f"{t('import_warning', lang)}: {w.render(lang)}" for w in self.warnings]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "rows": self.rows,
            "values": self.values,
            "skipped": self.skipped,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "problems": [p.as_dict() for p in self.problems],
            "warnings": [w.as_dict() for w in self.warnings],
        }


# ==== reading ================================================================================
@dataclass
class Table:
    """A sheet as text: canonical (lower-case) column names, blank rows dropped."""

    file: str
    suffix: str  # 'csv' or 'xlsx'
    frame: pd.DataFrame  # str cells, columns = canonical names
    rows: np.ndarray  # spreadsheet row number of each frame row
    header_row: int
    names: dict[str, str]  # canonical name -> as written in the file
    decimal_comma: bool
    problems: list[Problem] = field(default_factory=list)  # rows the reader could not fit

    @property
    def columns(self) -> set[str]:
        return set(self.frame.columns)

    def display(self, name: str) -> str:
        return self.names.get(name, name)

    def require(self, required: tuple[str, ...]) -> None:
        """Stop with one problem per absent column: no row can be checked without them."""
        missing = [
            Problem(self.file, self.header_row, name, None, "missing_column")
            for name in required
            if name not in self.frame
        ]
        if missing:
            raise MissingColumns(missing)


def decode(raw: bytes) -> str:
    """UTF-16 (Excel 'Unicode text'), UTF-8 with or without BOM, else Windows-1252."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 decodes anything.
        return raw.decode("latin-1")


_QUOTED = re.compile(r'"[^"]*"')


def sniff_delimiter(text: str) -> str:
    """Tab, ';' or ',': whichever the first non-blank line uses most (quoted parts ignored)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    bare = _QUOTED.sub("", first)
    counts = {sep: bare.count(sep) for sep in ("\t", ";", ",")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def read_table(path: Path) -> Table:
    """Read a CSV/TSV/TXT or the first sheet of an XLSX, every cell as text."""
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        grid, decimal_comma, problems = _read_xlsx(path), False, list[Problem]()
        kind = "xlsx"
    else:
        raw = path.read_bytes()
        text = decode(raw)
        if not text.strip():
            raise FileProblem("empty_file")
        sep = sniff_delimiter(text)
        grid, problems = _read_csv(text, sep, path.name)
        # Spanish-locale Excel writes ';' files with decimal commas (1.234,5).
        decimal_comma, kind = sep == ";", "csv"
    return _to_table(path.name, kind, grid, decimal_comma, problems)


def _read_csv(text: str, sep: str, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    try:
        grid = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            quotechar='"',
            engine="c",
        )
        return grid, []
    except pd.errors.ParserError:
        return _read_ragged(text, sep, file)


def _read_ragged(text: str, sep: str, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Slow path for rows longer than the header: trailing empty fields are dropped (Excel
    leaves them), any other extra field is a problem."""
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    header_at = next((i for i, r in enumerate(records) if any(c.strip() for c in r)), 0)
    width = len(records[header_at]) if records else 0
    problems = []
    for i, rec in enumerate(records):
        if len(rec) > width:
            if any(c.strip() for c in rec[width:]):
                problems.append(
                    Problem(
                        file,
                        i + 1,
                        "",
                        None,
                        "too_many_fields",
                        {"fields": len(rec), "width": width},
                    )
                )
            records[i] = rec[:width]
        elif len(rec) < width:
            records[i] = rec + [""] * (width - len(rec))
    return pd.DataFrame(records, dtype=object), problems


def _read_xlsx(path: Path) -> pd.DataFrame:
    try:
        return pd.read_excel(
            path, sheet_name=0, header=None, dtype=str, engine="openpyxl", na_filter=False
        )
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a broken file
        raise FileProblem("bad_xlsx") from exc


def _to_table(
    file: str, kind: str, grid: pd.DataFrame, decimal_comma: bool, problems: list[Problem]
) -> Table:
    if grid.empty:
        raise FileProblem("empty_file")
    grid = grid.fillna("").astype(str) if kind == "xlsx" else grid.fillna("")
    filled = np.zeros(len(grid), dtype=bool)
    for col in grid.columns:
        filled |= grid[col].to_numpy() != ""
    if not filled.any():
        raise FileProblem("empty_file")
    header_at = int(np.argmax(filled))
    header = [str(h).replace("\ufeff", "").strip() for h in grid.iloc[header_at]]
    body = grid.iloc[header_at + 1 :]
    keep = filled[header_at + 1 :]
    body = body[keep]
    # Spreadsheet row numbers (1-based); the reader kept blank rows so positions are exact.
    rows = np.flatnonzero(keep) + header_at + 2
    names: dict[str, str] = {}
    columns, positions = [], []
    for pos, name in enumerate(header):
        canon = name.lower()
        if not canon:
            continue
        if canon in names:
            problems.append(Problem(file, header_at + 1, name, None, "duplicate_column"))
            continue
        names[canon] = name
        columns.append(canon)
        positions.append(pos)
    frame = body.iloc[:, positions].copy() if positions else pd.DataFrame(index=body.index)
    frame.columns = columns
    frame = frame.reset_index(drop=True)
    problems.sort(key=lambda p: p.row)
    return Table(file, kind, frame, rows, header_at + 1, names, decimal_comma, problems)


# ==== cells ==================================================================================
_POINT_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# '1234', '1234,5', '1.234', '1.234,5': a '.' only ever groups thousands in these files.
_COMMA_NUMBER = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:\.\d{3})+)(?:,\d+)?")


def parse_number(text: str, decimal_comma: bool) -> float:
    """The number in a cell, NaN when it is not one (blank, text, inf, nan)."""
    t = text.strip()
    if decimal_comma:
        if not _COMMA_NUMBER.fullmatch(t):
            return math.nan
        t = t.replace(".", "").replace(",", ".")
    elif not _POINT_NUMBER.fullmatch(t):
        return math.nan
    v = float(t)
    return v if math.isfinite(v) else math.nan


def non_numeric_reason(decimal_comma: bool) -> str:
    return "non_numeric_comma" if decimal_comma else "non_numeric"


_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00:00)?")


def parse_date(text: str) -> date | None:
    """ISO date (XLSX date cells arrive as 'YYYY-MM-DD 00:00:00'); None when it is not one."""
    m = _DATE.fullmatch(text.strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


# ==== per-distinct-value checks ==============================================================
Verdict = tuple[Any, str | None, dict[str, Any]]  # (parsed value, reason key or None, params)


@dataclass
class Checked:
    """A column checked once per distinct cell text, then spread back over the rows."""

    values: np.ndarray  # parsed value per row (object or float)
    bad: np.ndarray  # bool per row
    codes: np.ndarray  # index into verdicts per row
    verdicts: list[Verdict]

    def problems(
        self, file: str, rows: np.ndarray, column: str, raw: pd.Series
    ) -> Iterator[Problem]:
        raw_values = raw.to_numpy()
        for i in np.flatnonzero(self.bad):
            _, reason, params = self.verdicts[self.codes[i]]
            yield Problem(file, int(rows[i]), column, str(raw_values[i]), reason or "", params)


def check_column(
    series: pd.Series, check: Callable[[str], Verdict], dtype: Any = object
) -> Checked:
    """Run check on each distinct text; codes, periods and counts repeat a lot, so this is the
    vectorised path for big files."""
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    verdicts = [check(str(u)) for u in uniques]
    parsed = (
        np.array([v[0] for v in verdicts], dtype=dtype) if verdicts else np.array([], dtype=dtype)
    )
    failed = np.array([v[1] is not None for v in verdicts], dtype=bool)
    if len(series) == 0:
        return Checked(np.array([], dtype=dtype), np.array([], dtype=bool), codes, verdicts)
    return Checked(parsed[codes], failed[codes], codes, verdicts)


def ok(value: Any) -> Verdict:
    return (value, None, {})


def fail(reason: str, empty: Any = None, **params: Any) -> Verdict:
    return (empty, reason, params)
