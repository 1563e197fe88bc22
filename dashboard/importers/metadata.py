"""Import metadata files: org units, data elements, indicators, populations and targets."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.engine import Connection

from ..catalog import (
    COUNTRY_CODE,
    DIRECTIONS,
    FACILITY_TYPES,
    Catalog,
    Expression,
    ExpressionError,
    Scope,
)
from ..interop.measures import INDICATOR_ROW, measure_key, upsert_map
from ..missing import is_missing
from ..repository import Repository, WriteCounts
from .common import (
    FileProblem,
    ImportReport,
    Problem,
    Table,
    database_errors,
    non_numeric_reason,
    parse_date,
    parse_number,
)
from .values import MAX_YEAR, MIN_YEAR, unknown_code

ORG_UNIT_REQUIRED = ("code", "name", "level", "parent")
ORG_UNIT_OPTIONAL = (
    "facility_type",
    "latitude",
    "longitude",
    "beds",
    "catchment_population",
    "opened",
    "closed",
)
DATA_ELEMENT_REQUIRED = ("code", "kind", "name_es", "name_en")
INDICATOR_REQUIRED = (
    "code",
    "domain",
    "name_es",
    "name_en",
    "numerator",
    "denominator",
    "factor",
    "direction",
)
INDICATOR_OPTIONAL = (
    "definition_es",
    "definition_en",
    "unit_es",
    "unit_en",
    "decimals",
    "facility_types",
    "target",
    "near",
    "band_low",
    "band_high",
    "target_source",
)
POPULATION_REQUIRED = ("org_unit", "year", "data_element", "value")
TARGET_REQUIRED = ("indicator", "target")
TARGET_OPTIONAL = ("org_unit", "year", "near", "band_low", "band_high", "source")
SDG_REQUIRED = ("indicator", "sdg_indicator", "direction")
# An SDG indicator number: 3.1.1, 3.b.1.
_SDG = re.compile(r"\d{1,2}\.[0-9a-z]{1,2}\.\d{1,2}")
# A 2030 target as the UN and WHO write it: "<70", "<=25", "≤ 12", "90", or a reduction against
# the unit's own value of a year, "-80% vs 2015".
_SDG_VALUE = re.compile(r"(?:<=|>=|<|>|≤|≥)?\s*(\d+(?:[.,]\d+)?)")
_SDG_REDUCTION = re.compile(
    r"-\s*(\d+(?:[.,]\d+)?)\s*%\s*(?:vs\.?|versus|contra|respecto a)\s*(\d{4})"
)
KINDS = ("count", "population", "derived")

LEVEL_WORDS = {
    **{str(i): i for i in range(4)},
    "country": 0,
    "region": 1,
    "district": 2,
    "facility": 3,
    "país": 0,
    "pais": 0,
    "región": 1,
    "distrito": 2,
    "establecimiento": 3,
}
# Paraguay with a margin: catches swapped or unsigned coordinates before they reach the map.
LATITUDE = (-28.5, -19.0)
LONGITUDE = (-63.0, -54.0)
_DE_CODE = re.compile(r"[A-Z][A-Z0-9_]*")
_YEAR = re.compile(r"\d{4}")
# No registry or target number comes near this (Paraguay has about 7 million people); 1e308
# would overflow the sums.
MAX_MAGNITUDE = 1_000_000_000


@dataclass
class _Sheet:
    """Row-by-row checks of a (small) metadata table, collecting every problem."""

    table: Table
    problems: list[Problem] = field(default_factory=list)
    skipped: int = 0

    def records(self) -> list[tuple[int, _Row]]:
        frame = self.table.frame.apply(lambda s: s.astype(str).str.strip())
        return [
            (int(self.table.rows[i]), _Row(self, int(self.table.rows[i]), rec))
            for i, rec in enumerate(frame.to_dict("records"))
        ]


class _Row:
    def __init__(self, sheet: _Sheet, row: int, cells: dict[str, str]):
        self.sheet, self.row, self.cells = sheet, row, cells
        self.failed = False

    def has(self, col: str) -> bool:
        return col in self.cells

    def raw(self, col: str) -> str:
        return self.cells.get(col, "")

    def bad(self, col: str, reason: str, value: str | None = "", **params: Any) -> None:
        self.failed = True
        shown = self.raw(col) if value == "" else value
        self.sheet.problems.append(
            Problem(
                self.sheet.table.file,
                self.row,
                self.sheet.table.display(col),
                shown,
                reason,
                params,
            )
        )

    def text(self, col: str, *, required: bool = False, max_len: int | None = None) -> str:
        t = self.raw(col)
        if not t and required:
            self.bad(col, "missing_value")
        elif max_len is not None and len(t) > max_len:
            self.bad(col, "too_long", max=max_len)
            return ""
        return t

    def number(
        self,
        col: str,
        *,
        required: bool = False,
        low: float | None = None,
        high: float | None = None,
        whole: bool = False,
        positive: bool = False,
        non_negative: bool = False,
    ) -> float | None:
        t = self.raw(col)
        if not t:
            if required:
                self.bad(col, "missing_value")
            return None
        v = parse_number(t, self.sheet.table.decimal_comma)
        if is_missing(v):
            self.bad(col, non_numeric_reason(self.sheet.table.decimal_comma))
            return None
        if abs(v) > MAX_MAGNITUDE:
            self.bad(col, "too_large", max_value=MAX_MAGNITUDE)
            return None
        if whole and (v < 0 or v != int(v)):
            self.bad(col, "not_whole")
            return None
        if positive and v <= 0:
            self.bad(col, "not_positive")
            return None
        if non_negative and v < 0:
            self.bad(col, "negative_value")
            return None
        if low is not None and high is not None and not low <= v <= high:
            self.bad(col, "out_of_range", low=low, high=high)
            return None
        return int(v) if whole else v

    def date(self, col: str) -> date | None:
        t = self.raw(col)
        if not t:
            return None
        d = parse_date(t)
        if d is None:
            self.bad(col, "bad_date")
        return d

    def year(self, col: str, *, required: bool = False) -> int | None:
        t = self.raw(col)
        if not t:
            if required:
                self.bad(col, "missing_value")
            return None
        if not _YEAR.fullmatch(t) or not MIN_YEAR <= int(t) <= MAX_YEAR:
            self.bad(col, "bad_year")
            return None
        return int(t)

    def org_unit(
        self, col: str, catalog: Catalog, scope: Scope, *, required: bool = False
    ) -> int | None:
        code = self.raw(col)
        if not code:
            if required:
                self.bad(col, "missing_value")
            elif not national(scope):
                # A blank org unit means every unit: more than a regional scope holds.
                self.bad(col, "outside_scope")
            return None
        unit = catalog.by_code.get(code)
        if unit is None:
            _, reason, params = unknown_code(code, catalog.by_code, "unknown_org_unit", zeros=True)
            self.bad(col, reason or "", **params)
            return None
        if not catalog.in_scope(unit, scope):
            self.bad(col, "outside_scope")
            return None
        return unit.id


class _Seen:
    """First row of each key: identical repeats are skipped, different ones are problems."""

    def __init__(self) -> None:
        self.first: dict[Any, tuple[int, Any]] = {}

    def repeat(self, row: _Row, key: Any, content: Any, col: str, reason: str) -> bool:
        """True when the row repeats an earlier one and must not be written again."""
        if key not in self.first:
            self.first[key] = (row.row, content)
            return False
        first_row, first_content = self.first[key]
        if first_content == content:
            row.sheet.skipped += 1
        else:
            row.bad(col, reason, first=first_row)
        return True


# ==== org units ==============================================================================
def national(scope: Scope) -> bool:
    return COUNTRY_CODE in scope.roots


def check_org_units(table: Table, catalog: Catalog, scope: Scope) -> tuple[list[dict], _Sheet]:
    table.require(ORG_UNIT_REQUIRED)
    sheet = _Sheet(table)
    records = sheet.records()
    first_row_of: dict[str, int] = {}
    for row_no, r in records:
        first_row_of.setdefault(r.raw("code"), row_no)
    in_file: dict[str, int] = {}  # code -> level, for rows already read
    seen = _Seen()
    out = []
    for _, r in records:
        code = r.text("code", required=True, max_len=32)
        name = r.text("name", required=True, max_len=200)
        level = _level(r)
        if code and seen.repeat(r, code, r.cells, "code", "duplicate_code"):
            continue
        existing = catalog.by_code.get(code) if code else None
        if existing is not None and level is not None and existing.level != level:
            r.bad("level", "level_change", level=existing.level)
        parent = r.raw("parent")
        if level == 0:
            if code and code != COUNTRY_CODE:
                r.bad("code", "only_one_country", code=COUNTRY_CODE)
            if parent:
                r.bad("parent", "country_no_parent")
        elif level is not None:
            _check_parent(r, parent, level, in_file, first_row_of, catalog)
        if existing is not None and not catalog.in_scope(existing, scope):
            r.bad("code", "outside_scope")
        elif existing is None and parent in catalog.by_code:
            # A new unit lands under its parent; a parent earlier in the file was judged there.
            if not catalog.in_scope(catalog.by_code[parent], scope):
                r.bad("parent", "outside_scope")
        if code and level is not None:
            # Registered even when the row has problems, so its children are judged on their own.
            in_file[code] = level
        unit: dict[str, Any] = {
            "code": code,
            "name": name,
            "level": level,
            "parent": parent or None,
        }
        _facility_type(r, unit, level, existing)
        _coordinates(r, unit)
        for col in ("beds", "catchment_population"):
            if r.has(col):
                unit[col] = r.number(col, whole=True)
        for col in ("opened", "closed"):
            if r.has(col):
                unit[col] = r.date(col)
        if unit.get("opened") and unit.get("closed") and unit["closed"] < unit["opened"]:
            r.bad("closed", "closed_before_opened")
        if not r.failed:
            out.append(unit)
    return out, sheet


def _level(r: _Row) -> int | None:
    t = r.text("level", required=True)
    if not t:
        return None
    level = LEVEL_WORDS.get(t.lower())
    if level is None:
        r.bad("level", "bad_level")
    return level


def _check_parent(
    r: _Row,
    parent: str,
    level: int,
    in_file: dict[str, int],
    first_row_of: dict[str, int],
    catalog: Catalog,
) -> None:
    if not parent:
        r.bad("parent", "missing_value")
        return
    parent_level = in_file.get(parent)
    if parent_level is None and parent in catalog.by_code:
        parent_level = catalog.by_code[parent].level
    if parent_level is None:
        if first_row_of.get(parent, 0) > r.row:
            r.bad("parent", "parent_later", first=first_row_of[parent])
        else:
            _, reason, params = unknown_code(parent, catalog.by_code, "unknown_parent", zeros=True)
            r.bad("parent", reason or "", **params)
    elif parent_level != level - 1:
        r.bad(
            "parent",
            "wrong_parent_level",
            parent_level=parent_level,
            level=level,
            expected=level - 1,
        )


def _facility_type(r: _Row, unit: dict[str, Any], level: int | None, existing: Any) -> None:
    ftype = r.raw("facility_type").upper()
    if level == 3:
        if ftype:
            if ftype in FACILITY_TYPES:
                unit["facility_type"] = ftype
            else:
                r.bad("facility_type", "bad_facility_type", types=", ".join(FACILITY_TYPES))
        elif not (existing is not None and existing.facility_type):
            # Rollups group facilities by type: a facility without one would vanish from them.
            r.bad("facility_type", "missing_value")
    elif ftype and level is not None:
        r.bad("facility_type", "type_not_facility")


def _coordinates(r: _Row, unit: dict[str, Any]) -> None:
    if not (r.has("latitude") or r.has("longitude")):
        return
    lat = r.number("latitude", low=LATITUDE[0], high=LATITUDE[1])
    lon = r.number("longitude", low=LONGITUDE[0], high=LONGITUDE[1])
    if bool(r.raw("latitude")) != bool(r.raw("longitude")):
        r.bad("longitude" if r.raw("latitude") else "latitude", "coordinates_pair")
    unit["latitude"], unit["longitude"] = lat, lon


# ==== data elements ==========================================================================
def check_data_elements(table: Table, catalog: Catalog, scope: Scope) -> tuple[list[dict], _Sheet]:
    table.require(DATA_ELEMENT_REQUIRED)
    sheet = _Sheet(table)
    seen = _Seen()
    out = []
    for _, r in sheet.records():
        code = r.text("code", required=True, max_len=32)
        if code and not _DE_CODE.fullmatch(code):
            # Indicator expressions can only name codes of this shape.
            r.bad("code", "bad_code")
        if code and seen.repeat(r, code, r.cells, "code", "duplicate_code"):
            continue
        kind = r.text("kind", required=True).lower()
        if kind and kind not in KINDS:
            r.bad("kind", "bad_kind")
        existing = catalog.data_elements.get(code)
        if existing is not None and kind in KINDS and existing.kind != kind:
            # Stored values of the old kind would be misread (counts summed as populations).
            r.bad("kind", "kind_change", kind=existing.kind)
        row: dict[str, Any] = {
            "code": code,
            "kind": kind,
            "name_es": r.text("name_es", required=True, max_len=200),
            "name_en": r.text("name_en", required=True, max_len=200),
        }
        if r.has("description"):
            row["description"] = r.text("description") or None
        if not r.failed:
            out.append(row)
    return out, sheet


# ==== indicators =============================================================================
def check_indicators(table: Table, catalog: Catalog, scope: Scope) -> tuple[list[dict], _Sheet]:
    table.require(INDICATOR_REQUIRED)
    sheet = _Sheet(table)
    seen = _Seen()
    out = []
    next_sort = max((i.sort for i in catalog.indicators.values()), default=-1) + 1
    for _, r in sheet.records():
        code = r.text("code", required=True, max_len=32)
        if code and seen.repeat(r, code, r.cells, "code", "duplicate_code"):
            continue
        row: dict[str, Any] = {
            "code": code,
            "domain": r.text("domain", required=True, max_len=16),
            "name_es": r.text("name_es", required=True, max_len=200),
            "name_en": r.text("name_en", required=True, max_len=200),
            "numerator": _expression(r, "numerator", catalog),
            "denominator": _expression(r, "denominator", catalog),
            "factor": r.number("factor", required=True, positive=True),
        }
        direction = r.text("direction", required=True).lower()
        if direction and direction not in DIRECTIONS:
            r.bad("direction", "bad_direction")
        row["direction"] = direction
        for col in ("definition_es", "definition_en", "target_source"):
            if r.has(col):
                row[col] = r.text(col) or None
        for col in ("unit_es", "unit_en"):
            if r.has(col):
                row[col] = r.text(col, max_len=60) or None
        if r.has("decimals"):
            decimals = r.number("decimals", whole=True)
            if decimals is not None and decimals > 6:
                r.bad("decimals", "bad_decimals")
            row["decimals"] = 1 if decimals is None else decimals
        if r.has("facility_types"):
            types = [t.upper() for t in re.split(r"[\s,;]+", r.raw("facility_types")) if t]
            if any(t not in FACILITY_TYPES for t in types):
                r.bad("facility_types", "bad_facility_type", types=", ".join(FACILITY_TYPES))
            row["facility_types"] = " ".join(types)
        for col in ("target", "near", "band_low", "band_high"):
            if r.has(col):
                row[col] = r.number(col)
        _band_order(r, row)
        if code not in catalog.indicators:
            row["sort"] = next_sort
            next_sort += 1
        if not r.failed:
            out.append(row)
    return out, sheet


def _expression(r: _Row, col: str, catalog: Catalog) -> str:
    text = r.text(col, required=True)
    if not text:
        return text
    try:
        expr = Expression.parse(text)
    except ExpressionError as exc:
        r.bad(col, "bad_expression", error=str(exc))
        return text
    for code in expr.codes:
        if code not in catalog.data_elements:
            r.bad(col, "unknown_expression_code", code=code)
    return text


def _band_order(r: _Row, row: dict[str, Any]) -> None:
    low, high = row.get("band_low"), row.get("band_high")
    if low is not None and high is not None and low > high:
        r.bad("band_low", "band_order")


# ==== populations ============================================================================
def check_populations(table: Table, catalog: Catalog, scope: Scope) -> tuple[list[dict], _Sheet]:
    table.require(POPULATION_REQUIRED)
    sheet = _Sheet(table)
    seen = _Seen()
    out = []
    for _, r in sheet.records():
        unit_id = r.org_unit("org_unit", catalog, scope, required=True)
        year = r.year("year", required=True)
        de_id = None
        code = r.text("data_element", required=True)
        if code:
            de = catalog.data_elements.get(code)
            if de is None:
                r.bad("data_element", "unknown_data_element")
            elif de.kind != "population":
                r.bad("data_element", "not_population", kind=de.kind)
            else:
                de_id = de.id
        value = r.number("value", required=True, non_negative=True)
        if r.failed:
            continue
        if seen.repeat(r, (unit_id, de_id, year), value, "value", "duplicate_conflict"):
            continue
        out.append({"org_unit_id": unit_id, "data_element_id": de_id, "year": year, "value": value})
    return out, sheet


def population_warnings(
    repo: Repository, rows: Sequence[dict], file: str, conn: Connection
) -> list[Problem]:
    """A region or the country whose own figure and the sum of its children's disagree, for
    the units (and their ancestors), elements and years the file touched: both numbers and the
    one that rolls up (the repository's population rule)."""
    cat = repo.catalog()
    touched: set[int] = set()
    for r in rows:
        unit = cat.units.get(r["org_unit_id"])
        while unit is not None:
            touched.add(unit.id)
            unit = cat.units.get(unit.parent_id) if unit.parent_id else None
    keys = {(r["data_element_id"], r["year"]) for r in rows}
    elements = {d.id: d.code for d in cat.data_elements.values()}
    out = []
    for c in repo.population_conflicts(conn).itertuples(index=False):
        if c.org_unit_id not in touched or (c.data_element_id, c.year) not in keys:
            continue
        used = c.parts if repo.population_rule == "parts" else c.own
        unit = cat.units[c.org_unit_id]
        params = {"unit": unit.code, "element": elements[c.data_element_id], "year": c.year}
        params |= {"own": c.own, "parts": c.parts, "used": used}
        out.append(Problem(file, 0, "", None, "population_parts_differ", params))
    return out


def _indicator_id(r, catalog: Catalog) -> int | None:
    """The id of the row's `indicator` (required), or None with the problem noted on the row."""
    code = r.text("indicator", required=True)
    if not code:
        return None
    ind = catalog.indicators.get(code)
    if ind is None:
        r.bad("indicator", "unknown_indicator")
        return None
    return ind.id


# ==== targets ================================================================================
def check_targets(table: Table, catalog: Catalog, scope: Scope) -> tuple[list[dict], _Sheet]:
    table.require(TARGET_REQUIRED)
    sheet = _Sheet(table)
    seen = _Seen()
    out = []
    for _, r in sheet.records():
        ind_id = _indicator_id(r, catalog)
        row: dict[str, Any] = {
            "indicator_id": ind_id,
            "org_unit_id": r.org_unit("org_unit", catalog, scope),  # blank: every unit
            "year": r.year("year"),  # blank: every year
            **{col: r.number(col) for col in ("target", "near", "band_low", "band_high")},
            "source": r.text("source") or None,
        }
        _band_order(r, row)
        if r.failed:
            continue
        key = (ind_id, row["org_unit_id"], row["year"])
        if seen.repeat(r, key, row, "indicator", "duplicate_conflict"):
            continue
        out.append(row)
    return out, sheet


# ==== measure map (FHIR/ADX) ===================================================================
MEASURE_MAP_REQUIRED = ("measure",)


def check_measure_map(table: Table, catalog: Catalog, scope: Scope) -> tuple[list[dict], _Sheet]:
    """Rows `measure,population,data_element` (a population code is a count data element) or
    `measure,indicator` (the Measure is a catalogue indicator: its numerator and denominator
    populations are the indicator's)."""
    table.require(MEASURE_MAP_REQUIRED)
    sheet = _Sheet(table)
    seen = _Seen()
    out = []
    for _, r in sheet.records():
        measure = measure_key(r.text("measure", required=True, max_len=500))
        indicator = r.text("indicator") if r.has("indicator") else ""
        if indicator:
            ind = catalog.indicators.get(indicator)
            if ind is None:
                r.bad("indicator", "unknown_indicator")
            population, code = INDICATOR_ROW, indicator
        else:
            population = r.text("population", required=True, max_len=200)
            code = r.text("data_element", required=True)
            if code:
                de = catalog.data_elements.get(code)
                if de is None:
                    r.bad("data_element", "unknown_data_element")
                elif de.kind != "count":
                    r.bad("data_element", "not_count", kind=de.kind)
        if r.failed:
            continue
        row = {"measure": measure, "population": population, "data_element": code}
        col = "indicator" if indicator else "data_element"
        if seen.repeat(r, (measure, population), row, col, "duplicate_conflict"):
            continue
        out.append(row)
    return out, sheet


def _upsert_measure_map(repo: Repository) -> Callable[[Sequence[dict], Connection], WriteCounts]:
    return lambda rows, conn: upsert_map(rows, conn)


# ==== SDG 3 mapping ==========================================================================
def parse_sdg_target(text: str) -> dict[str, Any] | None:
    """'<70' -> {target_2030: 70}; '-80% vs 2015' -> {reduction: 80, baseline_year: 2015};
    '' -> no numeric target; None when unreadable."""
    text = text.strip()
    out: dict[str, Any] = {"target_2030": None, "reduction": None, "baseline_year": None}
    if not text:
        return out
    m = _SDG_REDUCTION.fullmatch(text)
    if m:
        year = int(m.group(2))
        if not MIN_YEAR <= year <= MAX_YEAR or not 0 < float(m.group(1).replace(",", ".")) < 100:
            return None
        return out | {"reduction": float(m.group(1).replace(",", ".")), "baseline_year": year}
    m = _SDG_VALUE.fullmatch(text)
    if m:
        value = float(m.group(1).replace(",", "."))
        return None if value > MAX_MAGNITUDE else out | {"target_2030": value}
    return None


def check_sdg(table: Table, catalog: Catalog, scope: Scope) -> tuple[list[dict], _Sheet]:
    table.require(SDG_REQUIRED)
    sheet = _Sheet(table)
    seen = _Seen()
    out = []
    for _, r in sheet.records():
        ind_id = _indicator_id(r, catalog)
        sdg = r.text("sdg_indicator", required=True).lower()
        if sdg and not _SDG.fullmatch(sdg):
            r.bad("sdg_indicator", "bad_sdg_indicator")
        direction = r.text("direction", required=True).lower()
        if direction and direction not in ("up", "down"):
            r.bad("direction", "bad_sdg_direction")
        target = parse_sdg_target(r.raw("target_2030"))
        if target is None:
            r.bad("target_2030", "bad_sdg_target")
            target = {}
        row: dict[str, Any] = {
            "indicator_id": ind_id,
            "sdg": sdg,
            "direction": direction,
            **target,
            "source": r.text("source") or None,
        }
        if r.failed:
            continue
        if seen.repeat(r, ind_id, row, "indicator", "duplicate_conflict"):
            continue
        out.append(row)
    return out, sheet


# ==== entry ==================================================================================
@dataclass(frozen=True)
class Kind:
    format: str
    check: Callable[[Table, Catalog, Scope], tuple[list[dict], _Sheet]]
    upsert: Callable[[Repository], Callable[[Sequence[dict], Connection], WriteCounts]]
    refresh: bool  # rollups depend on it (the tree, populations)
    national: bool = False  # the whole country's catalogue: national scope only


KINDS_BY_NAME = {
    "org-units": Kind("metadata-org-units", check_org_units, lambda r: r.upsert_org_units, True),
    "data-elements": Kind(
        "metadata-data-elements",
        check_data_elements,
        lambda r: r.upsert_data_elements,
        False,
        national=True,
    ),
    "indicators": Kind(
        "metadata-indicators", check_indicators, lambda r: r.upsert_indicators, False, True
    ),
    "populations": Kind(
        "metadata-populations", check_populations, lambda r: r.upsert_populations, True
    ),
    "targets": Kind("metadata-targets", check_targets, lambda r: r.upsert_targets, False),
    "measure-map": Kind(
        "metadata-measure-map", check_measure_map, _upsert_measure_map, False, national=True
    ),
    # The SDG mapping is the country's commitment: national scope only.
    "sdg": Kind("metadata-sdg", check_sdg, lambda r: r.upsert_sdg, False, national=True),
}


def import_metadata(
    repo: Repository, table: Table, kind: str, report: ImportReport, *, dry_run: bool, scope: Scope
) -> ImportReport:
    spec = KINDS_BY_NAME[kind]
    report.format = spec.format
    if spec.national and not national(scope):
        raise FileProblem("national_only")
    rows, sheet = spec.check(table, repo.catalog(), scope)
    report.rows, report.skipped = len(table.frame), sheet.skipped
    problems = table.problems + sheet.problems
    if problems:
        report.problems.extend(sorted(problems, key=lambda p: p.row))
        return report
    upsert = spec.upsert(repo)
    with database_errors():
        if dry_run:
            # The real upsert inside a transaction that is rolled back: exact counts, no writes.
            with repo.engine.connect() as conn:
                trans = conn.begin()
                try:
                    counts = upsert(rows, conn)
                    if kind == "populations":
                        report.warnings += population_warnings(repo, rows, table.file, conn)
                finally:
                    trans.rollback()
        else:
            with repo.engine.begin() as conn:
                counts = upsert(rows, conn)
                if kind == "populations":
                    report.warnings += population_warnings(repo, rows, table.file, conn)
    repo.invalidate()
    report.inserted, report.updated, report.unchanged = (
        counts.inserted,
        counts.updated,
        counts.unchanged,
    )
    if spec.refresh and not dry_run:
        repo.refresh_rollups()
    return report
