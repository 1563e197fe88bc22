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

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")

# reason key -> (Spanish, English). Placeholders are filled from Problem.params; params named
# in _LEVEL_PARAMS / _KIND_PARAMS are translated before formatting.
REASONS: dict[str, tuple[str, str]] = {
    # whole file
    "file_not_found": ("el archivo no existe", "file not found"),
    "file_unreadable": ("no se puede leer el archivo: {error}", "cannot read the file: {error}"),
    "unknown_extension": (
        "tipo de archivo no admitido '{ext}': use .csv, .txt, .tsv, .xlsx o .json",
        "unsupported file type '{ext}': use .csv, .txt, .tsv, .xlsx or .json",
    ),
    "old_xls": (
        "formato .xls antiguo: guárdelo como .xlsx o .csv",
        "old .xls format: save it as .xlsx or .csv",
    ),
    "empty_file": ("el archivo está vacío", "the file is empty"),
    "no_rows": ("el archivo no tiene filas de datos", "the file has no data rows"),
    "bad_xlsx": (
        "no es un archivo XLSX válido (no es un zip de Excel)",
        "not a valid XLSX file (not an Excel zip archive)",
    ),
    "bad_json": ("JSON inválido: {error}", "invalid JSON: {error}"),
    "no_data_values": (
        "el JSON no tiene una lista 'dataValues'",
        "the JSON has no 'dataValues' list",
    ),
    "database_error": (
        "la base de datos rechazó la importación (no se escribió nada): {error}",
        "the database rejected the import (nothing was written): {error}",
    ),
    "unknown_header": (
        "encabezado no reconocido: se esperaba data_element,period,org_unit,value, el CSV de "
        "DHIS2 o un archivo de metadatos (ver README)",
        "header not recognised: expected data_element,period,org_unit,value, a DHIS2 CSV or a "
        "metadata file (see README)",
    ),
    # structure
    "missing_column": ("falta la columna obligatoria", "required column missing"),
    "duplicate_column": ("columna repetida", "column repeated"),
    "too_many_fields": (
        "la fila tiene {fields} campos y el encabezado {width}",
        "the row has {fields} fields and the header {width}",
    ),
    "bad_entry": ("la entrada no es un objeto JSON", "the entry is not a JSON object"),
    "missing_value": ("valor vacío", "empty value"),
    # data values
    "unknown_org_unit": ("unidad organizativa desconocida", "unknown org unit"),
    "unknown_org_unit_zero": (
        "unidad organizativa desconocida; ¿quiso decir '{code}'? (Excel quita los ceros "
        "iniciales: guarde los códigos como texto)",
        "unknown org unit; did you mean '{code}'? (Excel drops leading zeros: store codes as text)",
    ),
    "unknown_uid": (
        "código desconocido (parece un UID de DHIS2: exporte con idScheme=CODE)",
        "unknown code (looks like a DHIS2 UID: export with idScheme=CODE)",
    ),
    "not_facility": (
        "es {level}, no un establecimiento: los valores se cargan por establecimiento",
        "is {level}, not a facility: values are loaded per facility",
    ),
    "unknown_data_element": ("elemento de datos desconocido", "unknown data element"),
    "not_count": (
        "el elemento es de tipo {kind}: solo se cargan conteos mensuales",
        "the element is of kind {kind}: only monthly counts can be loaded",
    ),
    "bad_period": (
        "período inválido: use un mes AAAAMM (p. ej. 202409)",
        "bad period: use a month YYYYMM (e.g. 202409)",
    ),
    "not_monthly": (
        "solo períodos mensuales AAAAMM (no trimestres, años, semanas ni días)",
        "monthly periods only, YYYYMM (not quarters, years, weeks or days)",
    ),
    "future_period": ("período futuro (posterior a {month})", "future period (after {month})"),
    "non_numeric": ("no es un número", "not a number"),
    "non_numeric_comma": (
        "no es un número (archivo separado por ';': coma decimal, p. ej. 1.234,5)",
        "not a number (';'-separated file: decimal comma, e.g. 1.234,5)",
    ),
    "negative_value": ("valor negativo", "negative value"),
    "duplicate_conflict": (
        "duplicado con otro valor (ver fila {first})",
        "conflicting duplicate of row {first}",
    ),
    "bad_date": ("fecha inválida: use AAAA-MM-DD", "bad date: use YYYY-MM-DD"),
    "future_date": ("fecha futura", "date in the future"),
    # metadata
    "duplicate_code": ("código repetido (ver fila {first})", "code repeated (see row {first})"),
    "too_long": ("demasiado largo (máx. {max} caracteres)", "too long (max {max} characters)"),
    "bad_level": (
        "nivel inválido: use country, region, district, facility o 0 a 3",
        "bad level: use country, region, district, facility or 0 to 3",
    ),
    "only_one_country": (
        "el único país es {code}",
        "the only country is {code}",
    ),
    "country_no_parent": ("el país no tiene padre", "the country has no parent"),
    "level_change": (
        "ya existe y es {level}: el nivel no puede cambiar",
        "already exists and is {level}: the level cannot change",
    ),
    "unknown_parent": ("padre desconocido", "unknown parent"),
    "parent_later": (
        "el padre se define más abajo (fila {first}): ponga los padres primero",
        "the parent is defined further down (row {first}): list parents first",
    ),
    "wrong_parent_level": (
        "el padre es {parent_level}; {level} debe depender de {expected}",
        "the parent is {parent_level}; {level} must belong to {expected}",
    ),
    "bad_facility_type": (
        "tipo de establecimiento desconocido: use {types}",
        "unknown facility type: use {types}",
    ),
    "type_not_facility": (
        "solo los establecimientos tienen tipo",
        "only facilities have a facility type",
    ),
    "out_of_range": ("fuera de rango ({low} a {high})", "out of range ({low} to {high})"),
    "coordinates_pair": (
        "latitude y longitude van juntas",
        "latitude and longitude go together",
    ),
    "not_whole": ("debe ser un entero mayor o igual a 0", "must be a whole number, 0 or more"),
    "closed_before_opened": (
        "la fecha de cierre es anterior a la de apertura",
        "the closing date is before the opening date",
    ),
    "bad_code": (
        "código inválido: mayúsculas, dígitos y _, empezando por letra (p. ej. NAC_VIVOS)",
        "bad code: capitals, digits and _, starting with a letter (e.g. NAC_VIVOS)",
    ),
    "bad_kind": (
        "tipo inválido: use count, population o derived",
        "bad kind: use count, population or derived",
    ),
    "kind_change": (
        "ya existe como {kind}: el tipo no puede cambiar",
        "already exists as {kind}: the kind cannot change",
    ),
    "bad_expression": ("expresión inválida: {error}", "bad expression: {error}"),
    "unknown_expression_code": (
        "elemento de datos desconocido en la expresión: {code}",
        "unknown data element in the expression: {code}",
    ),
    "bad_direction": (
        "dirección inválida: use up, down o band",
        "bad direction: use up, down or band",
    ),
    "not_positive": ("debe ser mayor que 0", "must be greater than 0"),
    "bad_decimals": ("use un entero de 0 a 6", "use a whole number from 0 to 6"),
    "band_order": ("band_low es mayor que band_high", "band_low is greater than band_high"),
    "not_population": (
        "el elemento es de tipo {kind}; se necesita uno de población",
        "the element is of kind {kind}; a population element is needed",
    ),
    "bad_year": (
        "año inválido: use AAAA entre 1990 y 2100",
        "bad year: use YYYY between 1990 and 2100",
    ),
    "unknown_indicator": ("indicador desconocido", "unknown indicator"),
}

# With the article, as the reasons use them: "es un distrito" / "is a district".
LEVEL_NAMES = {
    "es": ("el país", "una región", "un distrito", "un establecimiento"),
    "en": ("the country", "a region", "a district", "a facility"),
}
KIND_NAMES = {
    "es": {"count": "conteo", "population": "población", "derived": "calculado"},
    "en": {"count": "count", "population": "population", "derived": "derived"},
}
_LEVEL_PARAMS = ("level", "parent_level", "expected")
_KIND_PARAMS = ("kind",)


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "es"


def fmt_int(n: int, lang: str = "es") -> str:
    """Thousands separators as each language writes them (es-PY: 1.234)."""
    s = f"{n:,}"
    return s if _lang(lang) == "en" else s.replace(",", ".")


def _plural(n: int, shown: str, one: str, many: str) -> str:
    return f"{shown} {one if n == 1 else many}"


@dataclass
class Problem:
    """One thing wrong with an input file: where it is, what it holds and why it is refused."""

    file: str
    row: int  # spreadsheet row (header = 1); JSON entry index from 1; 0 = the whole file
    column: str  # as written in the file; '' = the whole row or file
    value: str | None  # the offending cell; None when there is no single cell to show
    reason: str  # key of REASONS
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str = "es") -> str:
        lang = _lang(lang)
        template = REASONS[self.reason][0 if lang == "es" else 1]
        params = dict(self.params)
        for k in _LEVEL_PARAMS:
            if isinstance(params.get(k), int):
                params[k] = LEVEL_NAMES[lang][params[k]]
        for k in _KIND_PARAMS:
            if k in params:
                params[k] = KIND_NAMES[lang].get(params[k], params[k])
        return template.format(**params)

    def render(self, lang: str = "es") -> str:
        lang = _lang(lang)
        row_word, col_word = ("fila", "columna") if lang == "es" else ("row", "column")
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
    # Seconds spent writing and refreshing the rollups (for the benchmark and the log).
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self, lang: str = "es") -> str:
        lang = _lang(lang)
        n = {
            k: fmt_int(getattr(self, k), lang)
            for k in ("rows", "values", "inserted", "updated", "unchanged")
        }
        head = f"{self.file} ({self.format})"
        if self.problems:
            count = len(self.problems)
            if lang == "es":
                return f"{head}: {_plural(count, fmt_int(count, lang), 'problema', 'problemas')}; no se importó nada."
            return f"{head}: {_plural(count, fmt_int(count, lang), 'problem', 'problems')}; nothing was imported."
        is_values = not self.format.startswith("metadata")
        if lang == "es":
            read = _plural(self.rows, n["rows"], "fila leída", "filas leídas")
            if is_values:
                read += ", " + _plural(self.values, n["values"], "valor", "valores")
            if self.dry_run:
                return (
                    f"{head}, simulación: {read}; se insertarían {n['inserted']}, se actualizarían "
                    f"{n['updated']}, {n['unchanged']} sin cambios. No se escribió nada."
                )
            return (
                f"{head}: {read}; {n['inserted']} insertados, {n['updated']} actualizados, "
                f"{n['unchanged']} sin cambios."
            )
        read = _plural(self.rows, n["rows"], "row read", "rows read")
        if is_values:
            read += ", " + _plural(self.values, n["values"], "value", "values")
        if self.dry_run:
            return (
                f"{head}, dry run: {read}; would insert {n['inserted']}, would update "
                f"{n['updated']}, {n['unchanged']} unchanged. Nothing was written."
            )
        return (
            f"{head}: {read}; {n['inserted']} inserted, {n['updated']} updated, "
            f"{n['unchanged']} unchanged."
        )

    def render(self, lang: str = "es", limit: int | None = None) -> str:
        """Summary line, then one line per problem (all of them unless limit is given)."""
        shown = self.problems if limit is None else self.problems[:limit]
        lines = [self.summary(lang), *(p.render(lang) for p in shown)]
        hidden = len(self.problems) - len(shown)
        if hidden:
            lines.append(
                f"… y {fmt_int(hidden, lang)} más"
                if _lang(lang) == "es"
                else f"… and {fmt_int(hidden, lang)} more"
            )
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
        grid, decimal_comma, problems = _read_xlsx(path), False, []
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
