"""Import facility data values (monthly, or for a whole quarter or year): the long CSV/XLSX format
and DHIS2 dataValueSets; FHIR and ADX come here as cells."""

from __future__ import annotations

import ctypes
import itertools
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from ..catalog import Catalog, Scope
from ..missing import is_missing
from ..repository import Repository, WriteCounts
from .common import (
    Checked,
    FileProblem,
    ImportLimits,
    ImportReport,
    Problem,
    Table,
    Verdict,
    check_column,
    database_errors,
    fail,
    non_numeric_reason,
    ok,
    parse_date,
    parse_number,
    read_text,
)

LONG_REQUIRED = ("data_element", "period", "org_unit", "value")
SPAN_COLUMNS = ["org_unit_id", "data_element_id", "grain", "period", "value"]
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
_QUARTER = re.compile(r"(\d{4})Q([1-4])")
_YEAR = re.compile(r"\d{4}")
# DHIS2 ids of other period types: six-month, week, bi-week, bi-month, financial years, day.
# Recognised only to say "months, quarters or years only" instead of "bad period".
_OTHER_PERIOD = re.compile(
    r"\d{4}(?:S[12]|W\d{1,2}|BIW\d{1,2}|\d{2}B|APRIL|JULY|OCT|NOV|APRILS[12]|NOVS[12]|\d{4})"
)
_DHIS2_UID = re.compile(r"[A-Za-z][A-Za-z0-9]{10}")
MIN_YEAR, MAX_YEAR = 1990, 2100


@dataclass
class RawValues:
    """Data value cells as text (one chunk of a file), named with our column names."""

    file: str
    cells: dict[str, pd.Series]
    rows: np.ndarray
    names: dict[str, str]  # our name -> as written in the file
    decimal_comma: bool
    dhis2: bool
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


def from_dhis2_json(path: Path, limits: ImportLimits) -> Iterator[RawValues]:
    """dataValueSets JSON in chunks of entries. The text is read whole (within the size cap);
    the dataValues array is decoded one entry at a time, so the document never exists as
    millions of Python objects at once."""
    text = read_text(path, limits)
    if not text.strip():
        raise FileProblem("empty_file")
    try:
        entries = _data_values(text)
        found = False
        while True:
            batch = list(itertools.islice(entries, limits.chunk_rows))
            if not batch:
                break
            yield _json_chunk(path.name, batch)
            found = True
    except json.JSONDecodeError as exc:
        raise FileProblem("bad_json", error=f"{exc.msg} (line {exc.lineno})") from exc
    except _NoDataValues:
        raise FileProblem("no_data_values") from None
    if not found:
        raise FileProblem("no_rows")


class _NoDataValues(Exception):
    pass


_WS = re.compile(r"[ \t\n\r]*")


def _data_values(text: str) -> Iterator[tuple[int, object]]:
    """(entry number from 1, entry) for each element of the top-level object's dataValues
    array; every other member is decoded and dropped. Raises JSONDecodeError as json.loads
    would, _NoDataValues when there is no such array."""
    dec = json.JSONDecoder()

    def skip(i: int) -> int:
        m = _WS.match(text, i)
        return m.end() if m else i

    def expect(i: int, char: str, what: str) -> int:
        if text[i : i + 1] != char:
            raise json.JSONDecodeError(what, text, i)
        return i + 1

    i = skip(0)
    if text[i : i + 1] != "{":
        dec.raw_decode(text, i)  # a valid document that is not an object, or the error
        raise _NoDataValues
    i, found = skip(i + 1), False
    if text[i : i + 1] == "}":
        i += 1
    else:
        while True:
            key, i = dec.raw_decode(text, i)
            if not isinstance(key, str):
                raise json.JSONDecodeError(
                    "Expecting property name enclosed in double quotes", text, i
                )
            i = skip(expect(skip(i), ":", "Expecting ':' delimiter"))
            if key == "dataValues" and not found and text[i : i + 1] == "[":
                found = True
                i, n = skip(i + 1), 0
                if text[i : i + 1] == "]":
                    i += 1
                else:
                    while True:
                        entry, i = dec.raw_decode(text, i)
                        n += 1
                        yield n, entry
                        i = skip(i)
                        if text[i : i + 1] == "]":
                            i += 1
                            break
                        i = skip(expect(i, ",", "Expecting ',' delimiter"))
            else:
                _, i = dec.raw_decode(text, i)
            i = skip(i)
            if text[i : i + 1] == "}":
                i += 1
                break
            i = skip(expect(i, ",", "Expecting ',' delimiter"))
    if skip(i) != len(text):
        raise json.JSONDecodeError("Extra data", text, skip(i))
    if not found:
        raise _NoDataValues


def _json_chunk(file: str, batch: list[tuple[int, object]]) -> RawValues:
    problems = []
    cells: dict[str, list[str]] = {k: [] for k in _JSON_KEYS}
    rows = []
    for i, entry in batch:
        if not isinstance(entry, dict):
            problems.append(Problem(file, i, "", None, "bad_entry"))
            continue
        rows.append(i)
        for ours, key in _JSON_KEYS.items():
            cells[ours].append(_json_text(entry.get(key)))
    return RawValues(
        file,
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
# A monthly count at one facility above this is a typing or unit error (Paraguay has about
# 7 million people); it also keeps 1e308 out of sums that would overflow.
MAX_COUNT = 10_000_000
_NO_CLOSING = 999_999


# The 11-bit period slot of a key: the months of 1990-2100 first, then their quarters, then
# their years (1,887 slots of 2,048), so a quarter or year value is deduplicated, summed and
# checked by the monthly values' own machinery.
_N_YEARS = MAX_YEAR - MIN_YEAR + 1
Q_SLOT = _N_YEARS * 12
Y_SLOT = Q_SLOT + _N_YEARS * 4


def period_slot(period: np.ndarray) -> np.ndarray:
    """The slot of period codes as the period check gives them: a month 202507, a quarter
    20253 (year × 10 + quarter) or a year 2025."""
    p = np.asarray(period, dtype=np.int64)
    slot = (p // 100 - MIN_YEAR) * 12 + p % 100 - 1
    short = p < 100_000
    if short.any():
        q = p[short]
        slot[short] = np.where(
            q >= 10_000, Q_SLOT + (q // 10 - MIN_YEAR) * 4 + q % 10 - 1, Y_SLOT + q - MIN_YEAR
        )
    return slot


def slot_months(slot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first and last month slots (0 = January 1990) a period slot covers."""
    s = np.asarray(slot, dtype=np.int64)
    quarter = (s >= Q_SLOT) & (s < Y_SLOT)
    first = np.where(s < Q_SLOT, s, np.where(quarter, (s - Q_SLOT) * 3, (s - Y_SLOT) * 12))
    last = first + np.where(s < Q_SLOT, 0, np.where(quarter, 2, 11))
    return first, last


def slot_month(slot: np.ndarray) -> np.ndarray:
    """YYYYMM of month slots."""
    s = np.asarray(slot, dtype=np.int64)
    return (MIN_YEAR + s // 12) * 100 + s % 12 + 1


def slot_span(slot: int) -> tuple[str, int, str]:
    """(grain, period, DHIS2 id) of a quarter or year slot: ('Q', 20253, '2025Q3')."""
    if slot >= Y_SLOT:
        year = MIN_YEAR + slot - Y_SLOT
        return "Y", year, str(year)
    year, q = MIN_YEAR + (slot - Q_SLOT) // 4, (slot - Q_SLOT) % 4 + 1
    return "Q", year * 10 + q, f"{year}Q{q}"


def start_month(period: np.ndarray) -> np.ndarray:
    """The first month (YYYYMM) of period codes (months, quarters 20253, years 2025)."""
    first, _ = slot_months(period_slot(period))
    return slot_month(first)


def encode_key(unit: np.ndarray, month: np.ndarray, element: np.ndarray) -> np.ndarray:
    """One int64 per value: unit (32 bits), period slot (11 bits: a month since 1990, or a
    quarter or year after them), element (20 bits). Sorted, it is the store's own order (fast
    inserts) and keeps each facility-month's values side by side (its report). Built in place:
    a 200 MB file has millions of values."""
    key = unit.astype(np.int64)
    key <<= 31
    part = period_slot(month)
    part <<= 20
    key |= part
    del part
    key |= element.astype(np.int64)
    return key


def key_unit(key: np.ndarray) -> np.ndarray:
    return key >> 31


def key_slot(key: np.ndarray) -> np.ndarray:
    return (key >> 20) & 0x7FF


def key_month(key: np.ndarray) -> np.ndarray:
    return slot_month(key_slot(key))


def key_element(key: np.ndarray) -> np.ndarray:
    return key & 0xFFFFF


@dataclass
class ParsedValues:
    """Validated values of a whole file, sorted and deduplicated: 12 bytes a value."""

    key: np.ndarray  # encode_key(unit, month, element), ascending, unique; months only
    value: np.ndarray  # int32, or int64 for DHIS2 sums
    reports: pd.DataFrame  # org_unit_id, month [, received_on]: the monthly reports that arrived
    rows: int
    skipped: int
    # Values of a whole quarter or year: org_unit_id, data_element_id, grain, period, value.
    spans: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SPAN_COLUMNS))

    def __len__(self) -> int:
        return len(self.key) + len(self.spans)

    def month_counts(self, step: int = 1 << 20) -> dict[int, int]:
        """{YYYYMM: values}, counted a slice of the key at a time (decoding every key at
        once would make several int64 copies of it)."""
        counts = np.zeros(0x800, dtype=np.int64)
        for i in range(0, len(self.key), step):
            counts += np.bincount((self.key[i : i + step] >> 20) & 0x7FF, minlength=0x800)
        return {
            (MIN_YEAR + m // 12) * 100 + m % 12 + 1: int(counts[m])
            for m in np.flatnonzero(counts).tolist()
        }

    def frames(self, size: int) -> Iterator[pd.DataFrame]:
        """The values as repository frames of at most `size` rows."""
        for i in range(0, len(self.key), size):
            key = self.key[i : i + size]
            yield pd.DataFrame(
                {
                    "org_unit_id": key_unit(key),
                    "data_element_id": key_element(key),
                    "month": key_month(key),
                    "value": self.value[i : i + size].astype(np.float64),
                }
            )

    def release(self) -> None:
        """Drop the values once written (the rollup refresh that follows needs the memory)."""
        self.key = self.key[:0]
        self.value = self.value[:0]


class ValueCollector:
    """Checks data value chunks one at a time (vectorised over distinct texts) and keeps only
    compact numeric columns of the good rows, so memory follows the number of values, not
    the file's text."""

    def __init__(
        self,
        catalog: Catalog,
        today: date,
        scope: Scope,
        report: ImportReport,
        limits: ImportLimits,
        store: Repository | None = None,
    ):
        self.catalog, self.today, self.scope = catalog, today, scope
        # The store's quarter, year and monthly values that the file's could double count.
        self.store = store
        self.report, self.limits = report, limits
        self.current = today.year * 100 + today.month
        # Verdicts per distinct code survive between chunks; values are checked per chunk.
        self._unit_check = _cached(_org_unit_check(catalog, scope, dhis2=False))
        self._unit_check_dhis2 = _cached(_org_unit_check(catalog, scope, dhis2=True))
        self._de_check = _cached(_data_element_check(catalog, dhis2=False))
        self._de_check_dhis2 = _cached(_data_element_check(catalog, dhis2=True))
        self._period_check = _cached(_period_check(self.current))
        size = max(catalog.units, default=0) + 1
        self._closed = np.full(size, _NO_CLOSING, dtype=np.int64)
        self._closed_text: dict[int, str] = {}
        for u in catalog.units.values():
            if u.closed is not None:
                self._closed[u.id] = u.closed.year * 100 + u.closed.month
                self._closed_text[u.id] = u.closed.isoformat()
        self._combo_codes: dict[str, int] = {}
        self.parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("key", "value", "row", "received", "coc", "aoc")
        }
        self.rows = 0
        self.skipped = 0
        self.dhis2 = False
        self.received = False
        self.file = report.file
        self.value_name = "value"
        self.period_name = "period"
        self.spans = False  # a quarter or year value among the good rows

    def add(self, raw: RawValues) -> None:
        self.file, self.dhis2 = raw.file, raw.dhis2
        self.value_name = raw.names["value"]
        self.period_name = raw.names["period"]
        problems = list(raw.problems)
        cells, rows = raw.cells, raw.rows
        self.rows += len(rows) + sum(1 for p in raw.problems if p.reason == "bad_entry")
        if "deleted" in cells:
            # DHIS2 marks soft-deleted values; they are not data.
            deleted = (cells["deleted"].str.strip().str.lower() == "true").to_numpy()
            self.skipped += int(deleted.sum())
            keep = ~deleted
            cells = {k: v[keep].reset_index(drop=True) for k, v in cells.items()}
            rows = rows[keep]
        checks: dict[str, Checked] = {
            "org_unit": check_column(
                cells["org_unit"],
                self._unit_check_dhis2 if raw.dhis2 else self._unit_check,
                float,
            ),
            "data_element": check_column(
                cells["data_element"], self._de_check_dhis2 if raw.dhis2 else self._de_check, float
            ),
            "period": check_column(cells["period"], self._period_check, float),
            "value": check_column(cells["value"], _value_check(raw.decimal_comma), float),
        }
        if "received_on" in cells:
            self.received = True
            checks["received_on"] = check_column(cells["received_on"], _date_check(self.today))
        bad = np.zeros(len(rows), dtype=bool)
        for name, checked in checks.items():
            bad |= checked.bad
            problems.extend(checked.problems(raw.file, rows, raw.names[name], cells[name]))
        # A value for a month after the facility closed: judged on rows whose unit and period
        # are otherwise fine.
        both = ~(checks["org_unit"].bad | checks["period"].bad)
        units = np.where(both, checks["org_unit"].values, 0).astype(np.int64)
        # A quarter or year must start before the facility closed.
        months = np.where(both, start_month(np.where(both, checks["period"].values, 199001)), 0)
        late = both & (months > self._closed[units])
        if late.any():
            period_raw = cells["period"].to_numpy()
            for i in np.flatnonzero(late):
                problems.append(
                    Problem(
                        raw.file,
                        int(rows[i]),
                        raw.names["period"],
                        str(period_raw[i]),
                        "after_closing",
                        {"closed": self._closed_text[int(units[i])]},
                    )
                )
            bad |= late
        order = {name: i for i, name in enumerate(raw.names.values())}
        problems.sort(key=lambda p: (p.row, order.get(p.column, -1)))
        self.report.add_problems(problems, self.limits.max_problems)
        # Good rows are kept even when the file is already refused: conflicting duplicates
        # among them are problems to report too.
        good = np.flatnonzero(~bad)
        # Per value: one int64 key, the count (whole, at most MAX_COUNT: int32 holds it) and
        # the row number: 16 bytes; a 200 MB file is about 7.7 million values.
        self.spans |= bool((checks["period"].values[good] < 100_000).any())
        self.parts["key"].append(
            encode_key(
                checks["org_unit"].values[good].astype(np.int64),
                checks["period"].values[good].astype(np.int64),
                checks["data_element"].values[good].astype(np.int64),
            )
        )
        self.parts["value"].append(checks["value"].values[good].astype(np.int32))
        self.parts["row"].append(np.asarray(rows)[good].astype(np.int32))
        if "received_on" in checks:
            # Days since 1970 (-1 = blank, which means today).
            days = [
                -1 if d is None else (d - _EPOCH).days for d in checks["received_on"].values[good]
            ]
            self.parts["received"].append(np.array(days, dtype=np.int32))
        elif self.received:
            self.parts["received"].append(np.full(len(good), -1, dtype=np.int32))
        if raw.dhis2:
            for combo in ("coc", "aoc"):
                col = cells.get(combo)
                texts = col.to_numpy()[good] if col is not None else np.full(len(good), "")
                self.parts[combo].append(
                    np.array(
                        [
                            self._combo_codes.setdefault(str(t).strip(), len(self._combo_codes))
                            for t in texts
                        ],
                        dtype=np.int32,
                    )
                )

    def _take(self, name: str) -> np.ndarray:
        parts = self.parts.pop(name, [])
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def finish(self) -> ParsedValues | None:
        """Whole-file checks (conflicting duplicates), then the sorted, deduplicated values;
        None when the file is refused."""
        _return_memory()  # what reading the text left behind, before the sort's peak
        key = self._take("key")
        received = None
        if self.received:
            # Blank means "today"; rows of one report may disagree, the earliest date counts.
            received = self._take("received")
            received = np.where(received < 0, (self.today - _EPOCH).days, received)
        if self.dhis2:
            # A DHIS2 value is keyed by its category and attribute option combos too.
            coc, aoc = self._take("coc"), self._take("aoc")
            order = np.lexsort((aoc, coc, key))  # stable: equal keys keep file order
            key = key[order]
            coc, aoc = coc[order], aoc[order]
            full_same = (key[1:] == key[:-1]) & (coc[1:] == coc[:-1]) & (aoc[1:] == aoc[:-1])
            del coc, aoc
        else:
            order = np.argsort(key, kind="stable")
            key = key[order]
            full_same = key[1:] == key[:-1]
        value = self._take("value")[order]
        if received is not None:
            received = received[order]
        dup = np.concatenate([[False], full_same])
        del full_same
        row: np.ndarray | None = None
        if dup.any():
            # The first of each run of equal keys (stable sort: the earliest row) is the reference.
            starts = np.where(~dup, np.arange(len(dup)), 0)
            first = np.maximum.accumulate(starts)
            del starts
            conflict = dup & (value != value[first])
            # Row numbers stay in file order (not permuted: 30 MB less at the peak).
            row = self._take("row")
            self.report.add_problems(
                sorted(
                    (
                        Problem(
                            self.file,
                            int(row[order[i]]),
                            self.value_name,
                            _shown(value[i]),
                            "duplicate_conflict",
                            {"first": int(row[order[first[i]]])},
                        )
                        for i in np.flatnonzero(conflict)
                    ),
                    key=lambda p: p.row,
                ),
                self.limits.max_problems,
            )
            del first, conflict
        overlaps = self._overlaps(key, ~dup)
        if overlaps:
            row = row if row is not None else self._take("row")
            self.report.add_problems(
                sorted(
                    (
                        Problem(
                            self.file, int(row[order[i]]), self.period_name, shown, reason, params
                        )
                        for i, shown, reason, params in overlaps
                    ),
                    key=lambda p: p.row,
                ),
                self.limits.max_problems,
            )
        if dup.any() and self.report.ok:
            keep = ~dup
            self.skipped += int(dup.sum())
            value, key = value[keep], key[keep]
            if received is not None:
                received = received[keep]
        self.parts.pop("row", None)
        del order, dup, row
        if not self.report.ok:
            return None
        if self.dhis2 and len(key):
            # Category option combos are disaggregations (age, sex...): the store keeps the total.
            starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
            value = np.add.reduceat(value.astype(np.int64), starts)
            key = key[starts]
            if received is not None:
                received = np.minimum.reduceat(received, starts)
        spans = pd.DataFrame(columns=SPAN_COLUMNS)
        is_span = key_slot(key) >= Q_SLOT if self.spans else None
        if is_span is not None and is_span.any():
            spans = _span_frame(key[is_span], value[is_span])
            key, value = key[~is_span], value[~is_span]
            if received is not None:
                received = received[~is_span]
        reports = self._reports(key, received)
        parsed = ParsedValues(key, value, reports, self.rows, self.skipped, spans)
        _return_memory()
        return parsed

    def _overlaps(self, key: np.ndarray, first: np.ndarray) -> list[tuple[int, str, str, dict]]:
        """(index into key, value shown, reason, params) of each value that would be counted
        twice with another of the file or of the store: a quarter or year value and a monthly
        value inside it, or a quarter and its year, of the same facility and data element.
        `first`: the entries to judge (one of each run of equal keys)."""
        # A slice at a time: a monthly file has millions of keys, and only a few may matter.
        step = 1 << 20
        counts = np.zeros(0x800, dtype=np.int64)
        for a in range(0, len(key), step):
            counts += np.bincount(key_slot(key[a : a + step]), minlength=0x800)
        used = np.flatnonzero(counts)
        span_i = np.empty(0, dtype=np.int64)
        if counts[Q_SLOT:].any():
            span_i = np.concatenate(
                [
                    a
                    + np.flatnonzero(first[a : a + step] & (key_slot(key[a : a + step]) >= Q_SLOT))
                    for a in range(0, len(key), step)
                ]
            )
        stored = pd.DataFrame(columns=SPAN_COLUMNS)
        if self.store is not None and len(used):
            stored = self.store.span_values(sorted({int(y) for y in slot_year(used)}))
        if not len(span_i) and stored.empty:
            return []
        # Every span (the file's: idx into key; the store's: idx -1) by facility-element pair.
        s_unit = np.concatenate([key_unit(key[span_i]), stored.org_unit_id.to_numpy(np.int64)])
        s_de = np.concatenate([key_element(key[span_i]), stored.data_element_id.to_numpy(np.int64)])
        s_slot = np.concatenate(
            [key_slot(key[span_i]), period_slot(stored.period.to_numpy(np.int64))]
        ).astype(np.int64)
        lo, hi = slot_months(s_slot)
        spans = pd.DataFrame(
            {
                "pair": (s_unit << 20) | s_de,
                "slot": s_slot,
                "lo": lo,
                "hi": hi,
                "idx": np.concatenate([span_i, np.full(len(stored), -1)]).astype(np.int64),
            }
        )
        out: list[tuple[int, str, str, dict]] = []
        # Months of the file inside a span of the file or of the store.
        hits = []
        for a in range(0, len(key), step):
            k = key[a : a + step]
            k_slot = key_slot(k)
            pair = ((k >> 31) << 20) | key_element(k)
            near = np.flatnonzero(
                first[a : a + step] & (k_slot < Q_SLOT) & np.isin(pair, spans.pair.to_numpy())
            )
            hits.append(pd.DataFrame({"pair": pair[near], "m": k_slot[near], "i": a + near}))
        months = (
            pd.concat(hits, ignore_index=True) if hits else pd.DataFrame(columns=["pair", "m", "i"])
        )
        inside = months.merge(spans, on="pair")
        inside = inside[(inside.m >= inside.lo) & (inside.m <= inside.hi)]
        for i, span_slot in (
            inside[inside.idx < 0][["i", "slot"]]
            .drop_duplicates("i")
            .itertuples(index=False, name=None)
        ):
            shown = str(int(slot_month(key_slot(key[i]))))
            out.append((int(i), shown, "month_in_span", _span_id(int(span_slot))))
        ranges = inside[inside.idx >= 0][["idx", "m"]].rename(columns={"m": "first"})
        ranges = ranges.assign(last=ranges["first"])
        if self.store is not None and len(span_i):
            mine = spans[spans.idx >= 0]
            found = self.store.months_within(
                pd.DataFrame(
                    {
                        "org_unit_id": mine.pair.to_numpy() >> 20,
                        "data_element_id": mine.pair.to_numpy() & 0xFFFFF,
                        "first_month": slot_month(mine.lo.to_numpy()),
                        "last_month": slot_month(mine.hi.to_numpy()),
                        "tag": mine.idx.to_numpy(),
                    }
                )
            )
            if not found.empty:
                ranges = pd.concat(
                    [
                        ranges,
                        pd.DataFrame(
                            {
                                "idx": found.tag.to_numpy(np.int64),
                                "first": period_slot(found["first"].to_numpy(np.int64)),
                                "last": period_slot(found["last"].to_numpy(np.int64)),
                            }
                        ),
                    ],
                    ignore_index=True,
                )
        if not ranges.empty:
            per = ranges.groupby("idx").agg(first=("first", "min"), last=("last", "max"))
            for i, lo_m, hi_m in per.itertuples(name=None):
                sid = _span_id(int(key_slot(key[i])))
                params = {**sid, "months": _months(int(lo_m), int(hi_m))}
                out.append((int(i), sid["period"], "span_has_months", params))
        # A quarter and its year (or a stored one), reported once: at the later of the file's.
        both = spans.merge(spans, on="pair", suffixes=("", "_b"))
        both = both[
            (both.idx >= 0)
            & (both.slot != both.slot_b)
            & (both.lo <= both.hi_b)
            & (both.lo_b <= both.hi)
            & (both.idx_b < both.idx)
        ]
        pairs = both[["idx", "slot", "slot_b"]].drop_duplicates("idx")
        for i, mine_slot, other_slot in pairs.itertuples(index=False, name=None):
            shown = _span_id(int(mine_slot))["period"]
            out.append((int(i), shown, "span_overlaps_span", _span_id(int(other_slot))))
        return out

    def _reports(self, key: np.ndarray, received: np.ndarray | None) -> pd.DataFrame:
        """One row per facility-month: the report that arrived with these values."""
        pair = key >> 20
        starts = (
            np.flatnonzero(np.concatenate([[True], pair[1:] != pair[:-1]])) if len(pair) else pair
        )
        first = key[starts]
        reports = pd.DataFrame({"org_unit_id": key_unit(first), "month": key_month(first)})
        if received is not None:
            days = np.minimum.reduceat(received, starts) if len(starts) else received[:0]
            reports["received_on"] = [_EPOCH + timedelta(days=int(d)) for d in days]
        return reports


_EPOCH = date(1970, 1, 1)


def slot_year(slot: np.ndarray) -> np.ndarray:
    """The calendar year of period slots."""
    s = np.asarray(slot, dtype=np.int64)
    return MIN_YEAR + np.where(
        s < Q_SLOT, s // 12, np.where(s < Y_SLOT, (s - Q_SLOT) // 4, s - Y_SLOT)
    )


def _span_id(slot: int) -> dict[str, str]:
    return {"period": slot_span(slot)[2]}


def _months(first: int, last: int) -> str:
    """Month slots as '2025-07' or '2025-07..2025-09'."""
    a, b = (f"{m // 100}-{m % 100:02d}" for m in slot_month(np.array([first, last])).tolist())
    return a if a == b else f"{a}..{b}"


def _span_frame(key: np.ndarray, value: np.ndarray) -> pd.DataFrame:
    """Quarter and year keys as SPAN_COLUMNS rows."""
    slot = key_slot(key)
    year = slot_year(slot)
    is_year = slot >= Y_SLOT
    return pd.DataFrame(
        {
            "org_unit_id": key_unit(key),
            "data_element_id": key_element(key),
            "grain": np.where(is_year, "Y", "Q").astype(object),
            "period": np.where(is_year, year, year * 10 + (slot - Q_SLOT) % 4 + 1),
            "value": value.astype(np.float64),
        }
    )


def _shown(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _return_memory() -> None:
    """Hand freed heap back to the operating system (glibc only; elsewhere nothing).

    Sorting millions of values frees arrays of tens of megabytes that glibc keeps on the heap
    rather than unmapping; without this the rollup refresh that follows stacks its own peak
    on top of memory nobody uses (measured: 364 MB resident before the write, 190 MB after)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _cached(check: Callable[[str], Verdict]) -> Callable[[str], Verdict]:
    seen: dict[str, Verdict] = {}

    def cached(text: str) -> Verdict:
        v = seen.get(text)
        if v is None:
            v = seen[text] = check(text)
        return v

    return cached


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


def _org_unit_check(catalog: Catalog, scope: Scope, *, dhis2: bool) -> Callable[[str], Verdict]:
    def check(text: str) -> Verdict:
        code = text.strip()
        if not code:
            return fail("missing_value")
        unit = catalog.by_code.get(code)
        if unit is None:
            return unknown_code(code, catalog.by_code, "unknown_org_unit", dhis2=dhis2, zeros=True)
        if unit.level != 3:
            return fail("not_facility", level=unit.level)
        if not catalog.in_scope(unit, scope):
            return fail("outside_scope")
        return ok(unit.id)

    return check


def _data_element_check(catalog: Catalog, *, dhis2: bool) -> Callable[[str], Verdict]:
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


def _period_check(current: int) -> Callable[[str], Verdict]:
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
        # A quarter or a year (FHIR and ADX reports may cover one): code 20253 or 2025.
        q = _QUARTER.fullmatch(pe)
        if q or _YEAR.fullmatch(pe):
            year = int(pe[:4])
            if not MIN_YEAR <= year <= MAX_YEAR:
                return fail("bad_period")
            code = year * 10 + int(q.group(2)) if q else year
            if int(start_month(np.array([code]))[0]) > current:
                return fail("future_period", month=str(current))
            return ok(code)
        if _OTHER_PERIOD.fullmatch(pe):
            return fail("not_month_quarter_year")
        return fail("bad_period")

    return check


def _value_check(decimal_comma: bool) -> Callable[[str], Verdict]:
    def check(text: str) -> Verdict:
        if not text.strip():
            return fail("missing_value")
        v = parse_number(text, decimal_comma)
        if is_missing(v):
            return fail(non_numeric_reason(decimal_comma))
        if v < 0:
            return fail("negative_value")
        if v > MAX_COUNT:
            return fail("too_large", max_value=MAX_COUNT)
        if v != int(v):
            # Events and people come whole; 2.5 is a typo or an average in the wrong column.
            return fail("not_whole_count")
        return ok(v)

    return check


def _date_check(today: date) -> Callable[[str], Verdict]:
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
def _year_groups(months: dict[int, int], max_values: int) -> list[list[int]]:
    """Calendar years in runs whose values add up to at most max_values (at least one year
    each): a refresh reads every value of its years at once."""
    per_year: dict[int, int] = {}
    for m, n in months.items():
        per_year[m // 100] = per_year.get(m // 100, 0) + n
    groups: list[list[int]] = []
    total = 0
    for y, n in sorted(per_year.items()):
        if groups and total + n <= max_values:
            groups[-1].append(y)
            total += n
        else:
            groups.append([y])
            total = n
    return groups


def write_values(
    repo: Repository,
    parsed: ParsedValues,
    report: ImportReport,
    *,
    dry_run: bool,
    today: date,
    limits: ImportLimits,
) -> None:
    """Write in one transaction (or, dry run, only count what would change), a chunk of
    values at a time so the repository never holds the whole file as Python rows."""
    report.values = len(parsed)
    if not len(parsed):
        return
    size = limits.chunk_rows
    spans = parsed.spans
    if dry_run:
        with database_errors():
            for frame in parsed.frames(size):
                new, changed, same = repo.diff_values(frame)
                report.inserted += len(new)
                report.updated += len(changed)
                report.unchanged += same
            if not spans.empty:
                counts = repo.diff_spans(spans)
                report.inserted += counts.inserted
                report.updated += counts.updated
                report.unchanged += counts.unchanged
        return
    t0 = time.perf_counter()
    total = WriteCounts(0, 0, 0)
    with database_errors(), repo.engine.begin() as conn:
        batch_id = repo.start_batch(report.file, report.format, conn)
        frames = parsed.frames(size)
        for counts in itertools.chain(
            (repo.write_values(frame, batch_id, conn) for frame in frames),
            [repo.write_spans(spans, batch_id, conn)] if not spans.empty else [],
        ):
            total = WriteCounts(
                total.inserted + counts.inserted,
                total.updated + counts.updated,
                total.unchanged + counts.unchanged,
            )
        # Expected rows first: mark_received inserts a missing report row as not expected
        # (expected=0), which would keep an active facility's report out of completeness.
        # A year at a time: the repository builds every facility x month of its range.
        months = parsed.month_counts()
        for y in sorted({m // 100 for m in months}):
            in_year = [m for m in months if m // 100 == y]
            repo.ensure_expected_reports(min(in_year), max(in_year), conn)
        # A quarter or year value's rollups are those of its calendar year.
        span_years = slot_year(period_slot(spans.period.to_numpy(np.int64)))
        for y, n in zip(*np.unique(span_years, return_counts=True), strict=True):
            months[int(y) * 100 + 1] = months.get(int(y) * 100 + 1, 0) + int(n)
        groups = _year_groups(months, 2 * size)
        # mark_received holds the chunk's reports as Python dicts: smaller chunks.
        reports, step = parsed.reports, max(size // 4, 1)
        for i in range(0, len(reports), step):
            repo.mark_received(reports.iloc[i : i + step], today, conn)
        repo.finish_batch(batch_id, report.rows, total, conn)
    report.inserted, report.updated, report.unchanged = (
        total.inserted,
        total.updated,
        total.unchanged,
    )
    t1 = time.perf_counter()
    # Only the calendar years the file touches (their rollups depend on nothing else), a few
    # at a time: a refresh holds all the values of its years.
    parsed.release()
    for years in groups:
        _return_memory()
        repo.refresh_rollups(years=years)
    report.timings.update(write_s=t1 - t0, refresh_s=time.perf_counter() - t1)


def import_values(
    repo: Repository,
    chunks: Iterable[RawValues],
    report: ImportReport,
    *,
    dry_run: bool,
    today: date,
    scope: Scope,
    limits: ImportLimits,
) -> ImportReport:
    collector = ValueCollector(repo.catalog(), today, scope, report, limits, repo)
    for raw in chunks:
        collector.add(raw)
    if collector.rows == 0 and report.ok:
        raise FileProblem("no_rows")
    parsed = collector.finish()
    report.rows, report.skipped = collector.rows, collector.skipped
    if parsed is None:
        return report
    write_values(repo, parsed, report, dry_run=dry_run, today=today, limits=limits)
    return report
