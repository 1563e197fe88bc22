"""Read HL7 FHIR R4 MeasureReport (one resource, a Bundle of them, or NDJSON) as data values."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ..catalog import Catalog
from ..interop.measures import POPULATION_SYSTEM, MeasureResolver
from ..interop.vocab import parse_fhir_date, period_from_dates
from .common import FileProblem
from .structured import Cells

REPORT_TYPES = ("summary", "data-collection")
_RESOURCE = re.compile(r'"resourceType"\s*:\s*"([A-Za-z]+)"')


def sniff(head: str) -> str | None:
    """'fhir' when the start of a JSON text is a FHIR resource (the first resourceType key
    comes before any dataValues key), else None."""
    m = _RESOURCE.search(head)
    if m is None:
        return None
    dv = head.find('"dataValues"')
    if dv != -1 and dv < m.start():
        return None
    return "fhir"


def _resources(text: str, ndjson: bool) -> Iterator[tuple[str, Any]]:
    """(path prefix, resource) for every resource of the file."""
    if ndjson:
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                yield f"line {i}: ", json.loads(line)
            except json.JSONDecodeError as exc:
                raise FileProblem("bad_json", error=f"{exc.msg} (line {i})") from exc
        return
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileProblem("bad_json", error=f"{exc.msg} (line {exc.lineno})") from exc
    if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
        entries = doc.get("entry") or []
        if not isinstance(entries, list):
            raise FileProblem("not_fhir", column="entry")
        for i, entry in enumerate(entries):
            res = entry.get("resource") if isinstance(entry, dict) else None
            yield f"entry[{i}].resource.", res
        return
    yield "", doc


def _is_ndjson(text: str) -> bool:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        return False
    try:
        json.loads(lines[0])
    except json.JSONDecodeError:
        return False
    return True


def _code(concept: Any) -> str | None:
    """The measure-population code of a CodeableConcept (the HL7 system first, then any)."""
    if not isinstance(concept, dict):
        return None
    codings = [c for c in concept.get("coding") or [] if isinstance(c, dict) and c.get("code")]
    for c in codings:
        if c.get("system") == POPULATION_SYSTEM:
            return str(c["code"])
    if codings:
        return str(codings[0]["code"])
    text = concept.get("text")
    return str(text) if text else None


def _stratum_key(stratum: dict) -> str:
    value = stratum.get("value")
    if isinstance(value, dict):
        return _code(value) or json.dumps(value, sort_keys=True)
    comps = stratum.get("component") or []
    return json.dumps(comps, sort_keys=True)


def _count_text(v: Any) -> str | None:
    """The count as text for the value check; None when it is not a JSON number."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _org_unit(res: dict, systems: tuple[str, ...]) -> tuple[str, str | None, str | None]:
    """(path, code, reason) of the org unit from subject, else reporter."""
    for key in ("subject", "reporter"):
        ref = res.get(key)
        if not isinstance(ref, dict):
            continue
        ident = ref.get("identifier")
        path = f"{key}.identifier"
        if not isinstance(ident, dict):
            continue
        value = ident.get("value")
        if ident.get("system") not in systems:
            return f"{path}.system", str(ident.get("system")), "unknown_identifier_system"
        return f"{path}.value", str(value or ""), None
    return "subject.identifier", None, "missing_value"


def read_fhir(
    file: str, text: str, catalog: Catalog, resolver: MeasureResolver, systems: tuple[str, ...]
) -> Cells:
    out = Cells(file)
    ndjson = _is_ndjson(text)
    found = False
    for prefix, res in _resources(text, ndjson):
        found = True
        _report(out, prefix, res, resolver, systems)
    if not found:
        raise FileProblem("no_rows")
    return out


def _report(
    out: Cells, p: str, res: Any, resolver: MeasureResolver, systems: tuple[str, ...]
) -> None:
    if not isinstance(res, dict) or res.get("resourceType") != "MeasureReport":
        kind = res.get("resourceType") if isinstance(res, dict) else None
        out.problem(f"{p}resourceType", str(kind) if kind else None, "not_fhir")
        return
    status = res.get("status")
    if status != "complete":
        out.problem(f"{p}status", str(status), "report_not_complete", status=str(status))
        return
    rtype = res.get("type")
    if rtype not in REPORT_TYPES:
        out.problem(f"{p}type", str(rtype), "report_type", type=str(rtype))
        return
    measure = res.get("measure")
    if not isinstance(measure, str) or not measure.strip():
        out.problem(f"{p}measure", None, "missing_value")
        return
    if not resolver.known(measure):
        out.problem(f"{p}measure", measure, "unknown_measure")
        return
    ou_path, ou_code, reason = _org_unit(res, systems)
    if reason:
        out.problem(f"{p}{ou_path}", ou_code, reason)
        return
    raw_period = res.get("period")
    period: dict[str, Any] = raw_period if isinstance(raw_period, dict) else {}
    start = parse_fhir_date(str(period.get("start", "")), end=False)
    end = parse_fhir_date(str(period.get("end", "")), end=True)
    pe = period_from_dates(start, end) if start and end else None
    shown = f"{period.get('start', '')}/{period.get('end', '')}"
    if pe is None:
        out.problem(f"{p}period", shown, "period_not_month_quarter_year")
        return
    base = {"org_unit": ou_code or "", "period": pe.id, "aoc": ""}
    where_base = {"org_unit": f"{p}{ou_path}", "period": f"{p}period"}
    for g, group in enumerate(res.get("group") or []):
        if not isinstance(group, dict):
            continue
        gp = f"{p}group[{g}]"
        totals: set[str] = set()
        for j, pop in enumerate(group.get("population") or []):
            pp = f"{gp}.population[{j}]"
            code = _code(pop.get("code")) if isinstance(pop, dict) else None
            if code is None:
                out.problem(f"{pp}.code", None, "missing_value")
                continue
            if "count" not in pop:
                continue  # a population named but not counted here (its strata may be)
            if _value(out, measure, code, pop.get("count"), "", base, where_base, pp, resolver):
                totals.add(code)
        # Strata of the first stratifier, summed per population (as DHIS2 disaggregations
        # are): only for populations the group does not count in total (no double count).
        strat = (group.get("stratifier") or [None])[0]
        if not isinstance(strat, dict):
            continue
        for k, stratum in enumerate(strat.get("stratum") or []):
            if not isinstance(stratum, dict):
                continue
            sp = f"{gp}.stratifier[0].stratum[{k}]"
            key = _stratum_key(stratum)
            for j, pop in enumerate(stratum.get("population") or []):
                pp = f"{sp}.population[{j}]"
                code = _code(pop.get("code")) if isinstance(pop, dict) else None
                if code is None:
                    out.problem(f"{pp}.code", None, "missing_value")
                    continue
                if code in totals or "count" not in pop:
                    continue
                _value(out, measure, code, pop.get("count"), key, base, where_base, pp, resolver)


def _value(
    out: Cells,
    measure: str,
    code: str,
    count: Any,
    stratum: str,
    base: dict[str, str],
    where_base: dict[str, str],
    pp: str,
    resolver: MeasureResolver,
) -> bool:
    r = resolver.resolve(measure, code)
    if r.reason:
        out.problem(f"{pp}.code", code, r.reason, **dict(r.params or {}))
        return False
    if r.skip or r.element is None:
        out.skipped += 1
        return True
    text = _count_text(count)
    if text is None:
        out.problem(f"{pp}.count", json.dumps(count), "bad_count")
        return False
    out.add(
        {**base, "data_element": r.element.code, "coc": stratum, "value": text},
        {**where_base, "data_element": f"{pp}.code", "value": f"{pp}.count", "coc": pp},
    )
    return True
