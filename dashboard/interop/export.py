"""Write what `query` answers as a FHIR R4 MeasureReport Bundle, ADX, DHIS2 dataValueSets or
long CSV. The data value formats name the indicator's numerator and denominator data elements,
so a file exported at facility and month level imports back into the same values."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from xml.sax.saxutils import quoteattr

from ..aggregate import Result
from ..catalog import Catalog, Indicator
from ..periods import Period, parse_period
from .measures import POPULATION_SYSTEM, canonical, single_element
from .vocab import LEVEL_SYSTEMS, adx_period, period_dates

FORMATS = ("fhir", "adx", "dhis2-json", "csv")
IMPROVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-improvement-notation"
_UUID_NS = uuid.UUID("2b1f6a55-3f0e-4d0c-8c58-6b1d2f0e9a11")


class ExportError(ValueError):
    """The indicator cannot be written in the format asked for."""


def _period(pid: str, today: date) -> Period:
    return parse_period(pid, today)


def _count(v: float | None) -> int | float | None:
    if v is None:
        return None
    return int(v) if float(v).is_integer() else v


# ==== FHIR ===================================================================================
def measure_report(
    row: Result, ind: Indicator, cat: Catalog, today: date, created: str | None = None
) -> dict[str, Any]:
    """One MeasureReport (type summary) of a query row."""
    unit = cat.by_code[row.org_unit]
    start, end = period_dates(_period(row.period, today))
    populations = []
    for code, v in (("numerator", row.numerator), ("denominator", row.denominator)):
        pop: dict[str, Any] = {"code": {"coding": [{"system": POPULATION_SYSTEM, "code": code}]}}
        if v is not None:
            # FHIR counts are integers; a population estimate may carry a fraction.
            pop["count"] = int(round(v))
        populations.append(pop)
    group: dict[str, Any] = {"population": populations}
    if row.value is not None:
        group["measureScore"] = {"value": row.value, "unit": ind.unit_en}
    report: dict[str, Any] = {
        "resourceType": "MeasureReport",
        "id": _rid(row),
        "status": "complete",
        "type": "summary",
        "measure": canonical(ind.code),
        "subject": {
            "identifier": {"system": LEVEL_SYSTEMS[unit.level], "value": unit.code},
            "display": unit.name,
        },
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "group": [group],
    }
    if created:
        report["date"] = created
    if ind.direction in ("up", "down"):
        code = "increase" if ind.direction == "up" else "decrease"
        report["improvementNotation"] = {"coding": [{"system": IMPROVEMENT_SYSTEM, "code": code}]}
    return report


def _rid(row: Result) -> str:
    # FHIR ids: [A-Za-z0-9-.]{1,64}
    raw = f"{row.indicator}-{row.org_unit}-{row.period}".replace(":", "-").replace("_", "-")
    return raw[:64]


def fhir_bundle(
    rows: Sequence[Result], ind: Indicator, cat: Catalog, today: date, created: str | None = None
) -> dict[str, Any]:
    entries = []
    for row in rows:
        if row.numerator is None and row.denominator is None:
            continue
        rid = _rid(row)
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid5(_UUID_NS, rid)}",
                "resource": measure_report(row, ind, cat, today, created),
            }
        )
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    if created:
        bundle["timestamp"] = created
    return bundle


# ==== data values ============================================================================
@dataclass(frozen=True)
class DataValue:
    data_element: str
    period: Period
    org_unit: str
    value: int | float


def data_values(
    rows: Sequence[Result], ind: Indicator, cat: Catalog, today: date
) -> list[DataValue]:
    """The numerator and denominator of each row as values of their data elements. Refused
    when a side is a combination (it cannot be one data element's value); a population
    denominator is left out (populations travel as metadata)."""
    sides = []
    for side, expr in (("numerator", ind.numerator), ("denominator", ind.denominator)):
        code = single_element(expr)
        if code is None:
            raise ExportError(
                f"{ind.code}: the {side} is '{expr.text}', not one data element; "
                "export it as FHIR (--format fhir) instead"
            )
        de = cat.data_elements.get(code)
        if de is not None and de.kind == "count":
            sides.append((side, code))
    out = []
    for row in rows:
        for side, code in sides:
            v = _count(getattr(row, side))
            if v is None:
                continue
            out.append(DataValue(code, _period(row.period, today), row.org_unit, v))
    return out


def _period_id(p: Period) -> str:
    return p.id


def adx_document(values: Sequence[DataValue], data_set: str, created: str | None = None) -> str:
    groups: dict[tuple[str, str], list[DataValue]] = {}
    for v in values:
        groups.setdefault((v.org_unit, adx_period(v.period)), []).append(v)
    exported = f" exported={quoteattr(created)}" if created else ""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<adx xmlns="urn:ihe:qrph:adx:2015"{exported}>',
    ]
    for (ou, pe), vals in groups.items():
        lines.append(
            f"  <group orgUnit={quoteattr(ou)} period={quoteattr(pe)} dataSet={quoteattr(data_set)}>"
        )
        for v in vals:
            lines.append(
                f"    <dataValue dataElement={quoteattr(v.data_element)} value={quoteattr(str(v.value))}/>"
            )
        lines.append("  </group>")
    lines.append("</adx>")
    return "\n".join(lines) + "\n"


def dhis2_document(values: Sequence[DataValue]) -> dict[str, Any]:
    return {
        "dataValues": [
            {
                "dataElement": v.data_element,
                "period": _period_id(v.period),
                "orgUnit": v.org_unit,
                "value": str(v.value),
            }
            for v in values
        ]
    }


def csv_document(values: Sequence[DataValue]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["data_element", "period", "org_unit", "value"])
    for v in values:
        w.writerow([v.data_element, _period_id(v.period), v.org_unit, v.value])
    return buf.getvalue()


def render(
    fmt: str,
    rows: Sequence[Result],
    ind: Indicator,
    cat: Catalog,
    today: date,
    created: str | None = None,
) -> str:
    """The export as text in one of FORMATS."""
    if fmt == "fhir":
        return json.dumps(fhir_bundle(rows, ind, cat, today, created), ensure_ascii=False, indent=1)
    values = data_values(rows, ind, cat, today)
    if fmt == "adx":
        return adx_document(values, ind.code, created)
    if fmt == "dhis2-json":
        return json.dumps(dhis2_document(values), ensure_ascii=False, indent=1)
    if fmt == "csv":
        return csv_document(values)
    raise ExportError(f"unknown format '{fmt}'; one of {', '.join(FORMATS)}")
