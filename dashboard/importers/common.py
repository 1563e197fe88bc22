"""Shared parts of the importers: reading CSV/XLSX text, numbers and dates, problems, the report."""

from __future__ import annotations

import codecs
import csv
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
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
    "not_month_quarter_year",
    "future_period",
    "non_numeric",
    "non_numeric_comma",
    "negative_value",
    "duplicate_conflict",
    "span_has_months",
    "month_in_span",
    "span_overlaps_span",
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
    # bounds (issue 8): refused before or while parsing, with the byte or row that broke them
    "file_too_large",
    "xlsx_too_large",
    "xlsx_ratio",
    "undecodable_byte",
    "mixed_encoding",
    "control_character",
    "too_many_rows",
    "not_whole_count",
    "too_large",
    "after_closing",
    "outside_scope",
    "national_only",
    # FHIR MeasureReport and ADX (issue 12)
    "bad_xml",
    "xml_forbidden",
    "not_adx",
    "not_fhir",
    "report_not_complete",
    "report_type",
    "unknown_measure",
    "measure_not_invertible",
    "unknown_population",
    "unknown_identifier_system",
    "period_not_month_quarter_year",
    "bad_count",
    # warnings: the file is imported, the report says what to look at
    "population_parts_differ",
)
_LEVEL_PARAMS = ("level", "parent_level", "expected")  # org-unit levels 0-3
_KIND_PARAMS = ("kind",)  # data element kinds
_KINDS = ("count", "population", "derived")
# Byte sizes shown in megabytes, and large whole numbers with the language's separators.
_SIZE_PARAMS = ("size", "limit")
_INT_PARAMS = ("max_value", "max_rows", "offset", "ratio", "max_ratio")
MB = 1024 * 1024
_NUMBER_PARAMS = ("own", "parts", "used")  # formatted for the language (1.234)


def fmt_int(n: int, lang: str = "es") -> str:
    """Thousands separators as each language writes them (es-PY: 1.234)."""
    return fmt_number(n, lang)


def _plural(key: str, n: int) -> str:
    """The locale key of the singular ('<key>_one') or plural ('<key>_many') text."""
    return f"{key}_one" if n == 1 else f"{key}_many"


def fmt_size(n: int, lang: str = "es") -> str:
    """Megabytes with one decimal, as each language writes them (es: 1,5 MB)."""
    text = f"{n / MB:,.1f} MB"
    if lang != "en":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


@dataclass
class Problem:
    """One thing wrong with an input file: where it is, what it holds and why it is refused."""

    file: str
    row: int  # spreadsheet row (header = 1); JSON entry index from 1; 0 = the whole file
    column: str  # as written in the file; '' = the whole row or file
    value: str | None  # the offending cell; None when there is no single cell to show
    reason: str  # one of REASONS
    params: dict[str, Any] = field(default_factory=dict)
    # Where in a structured file (FHIR JSON path, ADX line and element); replaces row/column.
    where: str = ""

    def message(self, lang: str = "es") -> str:
        params = dict(self.params)
        for k in _LEVEL_PARAMS:
            if isinstance(params.get(k), int):
                params[k] = t(f"import_level_{params[k]}", lang)
        for k in _KIND_PARAMS:
            if params.get(k) in _KINDS:
                params[k] = t(f"import_kind_{params[k]}", lang)
        for k in _SIZE_PARAMS:
            if isinstance(params.get(k), int):
                params[k] = fmt_size(params[k], lang)
        for k in _INT_PARAMS:
            if isinstance(params.get(k), int):
                params[k] = fmt_int(params[k], lang)
        for k in _NUMBER_PARAMS:
            if isinstance(params.get(k), int | float):
                params[k] = fmt_number(params[k], lang)
        return t(f"import_{self.reason}", lang, **params)

    def location(self, lang: str = "es") -> str:
        """Where in a structured file, in the language: "line" is its only word (JSON paths
        and element names are code)."""
        return self.where.replace("line ", t("import_line", lang) + " ")

    def render(self, lang: str = "es") -> str:
        row_word, col_word = t("import_row", lang), t("import_column", lang)
        if self.where:
            where = f"{self.file} {self.location(lang)}"
        else:
            where = self.file if self.row == 0 else f"{self.file} {row_word} {self.row}"
            if self.column:
                where += f", {col_word} {self.column}"
        if self.value is not None:
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            where += f": '{shown}'"
        sep = " — " if (self.column or self.where or self.value is not None) else ": "
        return f"{where}{sep}{self.message(lang)}"

    def as_dict(self) -> dict[str, Any]:
        out = {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
            "message_es": self.message("es"),
            "message_en": self.message("en"),
        }
        if self.where:
            out["where"] = self.where
        return out


class FileProblem(Exception):
    """A problem that stops reading a file at all; becomes one Problem on row 0 (or the header)."""

    def __init__(self, reason: str, row: int = 0, column: str = "", where: str = "", **params: Any):
        super().__init__(reason)
        self.reason, self.row, self.column, self.params = reason, row, column, params
        self.where = where

    def problem(self, file: str) -> Problem:
        return Problem(file, self.row, self.column, None, self.reason, self.params, self.where)


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
    # Problems found beyond ImportLimits.max_problems: counted, not kept (a file of a million
    # bad rows must not become a million objects).
    more_problems: int = 0
    # Imported all the same, but worth a look (a population that does not add up).
    warnings: list[Problem] = field(default_factory=list)
    # Seconds spent writing and refreshing the rollups (for the benchmark and the log).
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.more_problems

    @property
    def problem_count(self) -> int:
        return len(self.problems) + self.more_problems

    def add_problems(self, problems: Iterable[Problem], limit: int) -> None:
        """Keep the first `limit` problems, count the rest."""
        for p in problems:
            if len(self.problems) < limit:
                self.problems.append(p)
            else:
                self.more_problems += 1

    def audit_detail(self, sha256: str | None, via: str) -> dict[str, Any]:
        """What the audit log keeps of this import (never a value from the file)."""
        return {
            "file": self.file,
            "sha256": sha256,
            "format": self.format,
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "problems": self.problem_count,
            "outcome": "ok" if self.ok else "rejected",
            "via": via,
        }

    def summary(self, lang: str = "es") -> str:
        head = f"{self.file} ({self.format})"
        if not self.ok:
            count = self.problem_count
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
        hidden = self.problem_count - len(shown)
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
            "more_problems": self.more_problems,
            "warnings": [w.as_dict() for w in self.warnings],
        }


# ==== limits =================================================================================
@dataclass(frozen=True)
class ImportLimits:
    """What one import may cost, checked before a parser sees the file (issue 8)."""

    max_bytes: int = 100 * MB
    # XLSX: the sum of the parts' declared uncompressed sizes (zipfile never inflates a part
    # past its declared size, and a lie about it fails the CRC) and each large part's ratio.
    max_unzipped_bytes: int = 500 * MB
    max_zip_ratio: int = 100
    max_problems: int = 1000
    # Rows parsed at a time: memory follows this, not the file size.
    chunk_rows: int = 100_000
    # Metadata files are checked row by row in Python; the registry has a few thousand rows.
    max_metadata_rows: int = 200_000

    @classmethod
    def for_size(cls, max_bytes: int) -> ImportLimits:
        """Limits scaled to a file-size cap (Settings.import_max_bytes)."""
        return cls(max_bytes=max_bytes, max_unzipped_bytes=5 * max_bytes)


# Parts smaller than this may compress as well as they like; a bomb needs a large part.
ZIP_RATIO_MIN_SIZE = MB
_BLOCK = MB


def check_size(path: Path, limits: ImportLimits) -> None:
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise FileProblem("file_too_large", size=size, limit=limits.max_bytes)


def check_xlsx(path: Path, limits: ImportLimits) -> None:
    """Refuse a zip bomb from the archive's directory alone, before openpyxl inflates anything."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise FileProblem("bad_xlsx") from exc
    total = 0
    for info in infos:
        total += info.file_size
        packed = max(info.compress_size, 1)
        if info.file_size > ZIP_RATIO_MIN_SIZE and info.file_size > limits.max_zip_ratio * packed:
            raise FileProblem(
                "xlsx_ratio",
                entry=info.filename[:80],
                ratio=info.file_size // packed,
                max_ratio=limits.max_zip_ratio,
            )
    if total > limits.max_unzipped_bytes:
        raise FileProblem("xlsx_too_large", size=total, limit=limits.max_unzipped_bytes)


# C0 controls but tab, LF and CR; DEL; C1 controls (what Latin-1 makes of stray bytes).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class _BadByte(Exception):
    def __init__(self, offset: int, byte: int, line: int, after_multibyte: bool):
        super().__init__(offset)
        self.offset, self.byte, self.line = offset, byte, line
        self.after_multibyte = after_multibyte

    def problem(self, reason: str) -> FileProblem:
        return FileProblem(reason, offset=self.offset, byte=f"{self.byte:02X}", line=self.line)


def _scan(path: Path, encoding: str) -> None:
    """Decode the whole file block by block (nothing kept): raise _BadByte at the first byte
    that does not decode, FileProblem at the first control character."""
    decoder = codecs.getincrementaldecoder(encoding)()
    unit = {"utf-8-sig": "utf-8", "utf-16": "utf-16"}.get(encoding, encoding)
    pos, lines, high, bom = 0, 1, False, 0
    with path.open("rb") as f:
        first = True
        while True:
            block = f.read(_BLOCK)
            final = not block
            pending = len(decoder.getstate()[0])
            try:
                text = decoder.decode(block, final=final)
            except UnicodeDecodeError as exc:
                offset = max(pos - pending + exc.start, 0)
                local = max(offset - pos, 0)
                raise _BadByte(
                    offset,
                    exc.object[exc.start],
                    lines + block[:local].count(b"\n"),
                    high or any(b >= 0x80 for b in block[:local]),
                ) from exc
            if first and block:
                first = False
                if encoding == "utf-8-sig" and block.startswith(codecs.BOM_UTF8):
                    bom = 3
                elif encoding == "utf-16":
                    bom = 2
                    unit = "utf-16-be" if block.startswith(codecs.BOM_UTF16_BE) else "utf-16-le"
            m = _CONTROL.search(text)
            if m:
                start = pos - pending + (bom if pos == 0 else 0)
                offset = start + len(text[: m.start()].encode(unit))
                raise FileProblem(
                    "control_character",
                    code=f"{ord(m.group()):04X}",
                    offset=offset,
                    line=lines + text.count("\n", 0, m.start()),
                )
            if final:
                return
            lines += text.count("\n")
            high = high or max(block) >= 0x80
            pos += len(block)


def text_encoding(path: Path) -> str:
    """UTF-16 with a BOM (Excel 'Unicode text'), UTF-8 with or without BOM, else Windows-1252;
    every byte must decode and no control character may hide in the text. Refused otherwise,
    with the byte offset: undecodable bytes never reach the store as names."""
    with path.open("rb") as f:
        head = f.read(2)
    if head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        try:
            _scan(path, "utf-16")
        except _BadByte as exc:
            raise exc.problem("undecodable_byte") from None
        return "utf-16"
    try:
        _scan(path, "utf-8-sig")
        return "utf-8-sig"
    except _BadByte as exc:
        if exc.after_multibyte:
            # Valid UTF-8 accents before a byte that is not: two encodings in one file, and
            # reading it as Windows-1252 would store 'Ã±' for 'ñ'.
            raise exc.problem("mixed_encoding") from None
    try:
        _scan(path, "cp1252")
    except _BadByte as exc:
        # Windows-1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined.
        raise exc.problem("undecodable_byte") from None
    return "cp1252"


def read_text(path: Path, limits: ImportLimits) -> str:
    """A whole (size-capped) text file, decoded by the rules of text_encoding."""
    check_size(path, limits)
    return path.read_text(encoding=text_encoding(path))


# ==== reading ================================================================================
@dataclass
class Table:
    """A sheet (or a chunk of its rows) as text: canonical (lower-case) column names, blank
    rows dropped."""

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


_QUOTED = re.compile(r'"[^"]*"')


def sniff_delimiter(text: str) -> str:
    """Tab, ';' or ',': whichever the first non-blank line uses most (quoted parts ignored)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    bare = _QUOTED.sub("", first)
    counts = {sep: bare.count(sep) for sep in ("\t", ";", ",")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


# (first record number of the chunk, counted from 0; its cells; reader problems)
Grid = tuple[int, pd.DataFrame, list[Problem]]


def iter_tables(path: Path, limits: ImportLimits) -> Iterator[Table]:
    """A CSV/TSV/TXT or the first sheet of an XLSX as Tables of at most limits.chunk_rows rows,
    every cell as text; the first carries the header (first non-blank row), even with no rows.
    Size, zip and encoding are checked before any parser runs."""
    check_size(path, limits)
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        check_xlsx(path, limits)
        grids = _xlsx_grids(path, limits.chunk_rows)
        decimal_comma, kind = False, "xlsx"
    else:
        encoding = text_encoding(path)
        with path.open(encoding=encoding, newline="") as f:
            sample = f.read(64 * 1024)
        if not sample.strip():
            raise FileProblem("empty_file")
        sep = sniff_delimiter(sample)
        grids = _csv_grids(path, encoding, sep, limits.chunk_rows)
        # Spanish-locale Excel writes ';' files with decimal commas (1.234,5).
        decimal_comma, kind = sep == ";", "csv"
    return _tables(path.name, kind, grids, decimal_comma)


def collect_table(first: Table, rest: Iterator[Table], max_rows: int) -> Table:
    frames, rows, problems = [first.frame], [first.rows], list(first.problems)
    n = len(first.frame)
    for table in rest:
        n += len(table.frame)
        if n > max_rows:
            raise FileProblem("too_many_rows", max_rows=max_rows)
        frames.append(table.frame)
        rows.append(table.rows)
        problems.extend(table.problems)
    if n > max_rows:
        raise FileProblem("too_many_rows", max_rows=max_rows)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else first.frame
    return Table(
        first.file,
        first.suffix,
        frame,
        np.concatenate(rows) if len(rows) > 1 else first.rows,
        first.header_row,
        first.names,
        first.decimal_comma,
        problems,
    )


def _csv_grids(path: Path, encoding: str, sep: str, chunk: int) -> Iterator[Grid]:
    done = 0
    try:
        with path.open(encoding=encoding, newline="") as f:
            reader = pd.read_csv(
                f,
                sep=sep,
                header=None,
                dtype=str,
                na_filter=False,
                skip_blank_lines=False,
                quotechar='"',
                engine="c",
                chunksize=chunk,
            )
            for grid in reader:
                yield done, grid, []
                done += len(grid)
        return
    except pd.errors.EmptyDataError:
        return
    except pd.errors.ParserError:
        pass
    # A row longer than the first: carry on from where the fast reader stopped.
    yield from _ragged_grids(path, encoding, sep, chunk, skip=done)


def _ragged_grids(path: Path, encoding: str, sep: str, chunk: int, skip: int) -> Iterator[Grid]:
    """Slow path for rows longer than the header: trailing empty fields are dropped (Excel
    leaves them), any other extra field is a problem."""
    width: int | None = None
    records: list[list[str]] = []
    problems: list[Problem] = []
    start = skip
    with path.open(encoding=encoding, newline="") as f:
        for i, rec in enumerate(csv.reader(f, delimiter=sep)):
            if width is None and any(c.strip() for c in rec):
                width = len(rec)
            if i < skip:
                continue
            if width is not None and len(rec) > width:
                if any(c.strip() for c in rec[width:]):
                    problems.append(
                        Problem(
                            path.name,
                            i + 1,
                            "",
                            None,
                            "too_many_fields",
                            {"fields": len(rec), "width": width},
                        )
                    )
                rec = rec[:width]
            records.append(rec)
            if len(records) >= chunk:
                yield start, pd.DataFrame(records, dtype=object), problems
                start += len(records)
                records, problems = [], []
    if records:
        yield start, pd.DataFrame(records, dtype=object), problems


def _cell_text(v: Any) -> str:
    """An XLSX cell as pandas' read_excel(dtype=str) shows it: 12.0 -> '12'."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _xlsx_grids(path: Path, chunk: int) -> Iterator[Grid]:
    import openpyxl

    if not openpyxl.DEFUSEDXML:
        # openpyxl picks its XML parser at import; without defusedxml a sheet could expand
        # entities (billion laughs) or reach outside.
        raise RuntimeError("defusedxml is required to read XLSX files (pip install defusedxml)")
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a broken file
        raise FileProblem("bad_xlsx") from exc
    try:
        if not wb.worksheets:
            raise FileProblem("bad_xlsx")
        cells = wb.worksheets[0].iter_rows(values_only=True)
        records: list[list[str]] = []
        start = 0
        while True:
            try:
                row = next(cells)
            except StopIteration:
                break
            except Exception as exc:  # noqa: BLE001 - defusedxml, zlib, CRC: a broken sheet
                raise FileProblem("bad_xlsx") from exc
            records.append([_cell_text(v) for v in row])
            if len(records) >= chunk:
                yield start, pd.DataFrame(records, dtype=object), []
                start += len(records)
                records = []
        if records:
            yield start, pd.DataFrame(records, dtype=object), []
    finally:
        wb.close()


def _filled(grid: pd.DataFrame) -> np.ndarray:
    filled = np.zeros(len(grid), dtype=bool)
    for col in grid.columns:
        filled |= grid[col].to_numpy() != ""
    return filled


def _tables(file: str, kind: str, grids: Iterator[Grid], decimal_comma: bool) -> Iterator[Table]:
    header_row = 0
    names: dict[str, str] = {}
    columns: list[str] = []
    positions: list[int] = []
    for start, grid, problems in grids:
        grid = grid.fillna("")
        filled = _filled(grid)
        if not header_row:
            if not filled.any():
                continue
            at = int(np.argmax(filled))
            header_row = start + at + 1
            header = [str(h).replace("\ufeff", "").strip() for h in grid.iloc[at]]
            for pos, name in enumerate(header):
                canon = name.lower()
                if not canon:
                    continue
                if canon in names:
                    problems.append(Problem(file, header_row, name, None, "duplicate_column"))
                    continue
                names[canon] = name
                columns.append(canon)
                positions.append(pos)
            grid, filled, start = grid.iloc[at + 1 :], filled[at + 1 :], start + at + 1
        body = grid[filled]
        # Spreadsheet row numbers (1-based); the reader kept blank rows so positions are exact.
        rows = np.flatnonzero(filled) + start + 1
        if positions:
            width = max(positions) + 1
            if body.shape[1] < width:
                body = body.reindex(columns=range(width), fill_value="")
            frame = body.iloc[:, positions].copy()
        else:
            frame = pd.DataFrame(index=body.index)
        frame.columns = columns
        frame = frame.reset_index(drop=True)
        problems.sort(key=lambda p: p.row)
        yield Table(file, kind, frame, rows, header_row, dict(names), decimal_comma, problems)
    if not header_row:
        raise FileProblem("empty_file")


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
