"""Which data element a FHIR Measure population (or an ADX data element) stands for.

Two sources, the first that answers wins:
1. The measure map the ministry imports (a CSV with columns measure, population, data_element,
   or measure, indicator; kept in the meta table as JSON): `measure` is a canonical URL or its
   last path segment; a row with an indicator makes the Measure that catalogue indicator.
2. The default for the catalogue's own indicators: the canonical URL
   `https://mspbs.gov.py/fhir/Measure/<INDICATOR>` (or just `<INDICATOR>`); its `numerator`
   population is the indicator's numerator data element and `denominator` its denominator,
   when each is a single data element (a sum such as `PENTA1 - PENTA3` cannot be split back).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .. import db, writes
from ..catalog import Catalog, DataElement, Expression, Indicator

MEASURE_BASE = "https://mspbs.gov.py/fhir/Measure/"
MAP_KEY = "measure_map"
# HL7 measure-population codes (http://terminology.hl7.org/CodeSystem/measure-population).
POPULATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-population"
STANDARD_POPULATIONS = (
    "initial-population",
    "numerator",
    "numerator-exclusion",
    "denominator",
    "denominator-exclusion",
    "denominator-exception",
    "measure-population",
    "measure-population-exclusion",
    "measure-observation",
)

# The map's entry that makes a Measure a catalogue indicator (not a population code: '@').
INDICATOR_ROW = "@indicator"
MeasureMap = dict[str, dict[str, str]]  # measure key -> {population code -> data element}


def canonical(indicator_code: str) -> str:
    return MEASURE_BASE + indicator_code


def measure_key(measure: str) -> str:
    """A canonical URL without its |version, as the map stores it."""
    return measure.split("|", 1)[0].strip()


def _last_segment(measure: str) -> str:
    return measure_key(measure).rstrip("/").rsplit("/", 1)[-1]


def single_element(expr: Expression) -> str | None:
    """The data element an expression is, when it is exactly one with coefficient 1."""
    if len(expr.terms) == 1 and expr.terms[0][0] == 1.0:
        return expr.terms[0][1]
    return None


def load_map(conn_or_text: str | None) -> MeasureMap:
    if not conn_or_text:
        return {}
    data = json.loads(conn_or_text)
    return {str(k): {str(p): str(d) for p, d in v.items()} for k, v in data.items()}


@dataclass(frozen=True)
class Resolution:
    """What a measure population becomes: a data element, nothing (skipped), or a refusal."""

    element: DataElement | None = None
    skip: bool = False
    reason: str | None = None
    params: Mapping[str, str] | None = None


class MeasureResolver:
    def __init__(self, catalog: Catalog, mapping: MeasureMap):
        self.catalog = catalog
        self.mapping = mapping
        # A file repeats a few Measures and codes thousands of times.
        self._seen: dict[tuple[str, str], Resolution] = {}

    def indicator(self, measure: str) -> Indicator | None:
        key = measure_key(measure)
        for k in (key, _last_segment(key)):
            mapped = self.mapping.get(k, {}).get(INDICATOR_ROW)
            if mapped is not None:
                return self.catalog.indicators.get(mapped)
        if key.startswith(MEASURE_BASE) or "/" not in key:
            return self.catalog.indicators.get(_last_segment(key))
        return None

    def known(self, measure: str) -> bool:
        key = measure_key(measure)
        return (
            key in self.mapping
            or _last_segment(key) in self.mapping
            or self.indicator(measure) is not None
        )

    def resolve(self, measure: str, population: str) -> Resolution:
        found = self._seen.get((measure, population))
        if found is None:
            found = self._seen[(measure, population)] = self._resolve(measure, population)
        return found

    def _resolve(self, measure: str, population: str) -> Resolution:
        key = measure_key(measure)
        for k in (key, _last_segment(key)):
            mapped = self.mapping.get(k, {}).get(population)
            if mapped is not None:
                de = self.catalog.data_elements.get(mapped)
                if de is None:
                    return Resolution(reason="unknown_data_element")
                return Resolution(element=de)
        ind = self.indicator(measure)
        if ind is not None and population in ("numerator", "denominator"):
            expr = ind.numerator if population == "numerator" else ind.denominator
            code = single_element(expr)
            if code is None:
                return Resolution(reason="measure_not_invertible", params={"expression": expr.text})
            de = self.catalog.data_elements.get(code)
            if de is None:
                return Resolution(reason="unknown_data_element")
            # A population estimate is metadata (populations file), not a monthly count.
            return Resolution(element=de, skip=de.kind != "count")
        if population in STANDARD_POPULATIONS:
            return Resolution(skip=True)
        # A population code that is itself a data element code.
        de = self.catalog.data_elements.get(population)
        if de is not None:
            return Resolution(element=de)
        return Resolution(reason="unknown_population")


def read_map(conn: Connection) -> MeasureMap:
    text = conn.execute(select(db.meta.c.value).where(db.meta.c.key == MAP_KEY)).scalar()
    return load_map(text)


def upsert_map(rows: Sequence[dict], conn: Connection) -> writes.WriteCounts:
    """Merge rows {measure, population, data_element} into the stored map."""
    current = read_map(conn)
    inserted = updated = unchanged = 0
    for r in rows:
        pops = current.setdefault(r["measure"], {})
        old = pops.get(r["population"])
        if old is None:
            inserted += 1
        elif old == r["data_element"]:
            unchanged += 1
        else:
            updated += 1
        pops[r["population"]] = r["data_element"]
    if inserted or updated:
        writes.set_meta(conn, MAP_KEY, json.dumps(current, sort_keys=True))
        writes.bump_data_version(conn)
    return writes.WriteCounts(inserted, updated, unchanged)
