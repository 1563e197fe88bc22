"""Reference data held in memory: the org-unit tree, data elements, indicators, access scope."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from .i18n import t

T = TypeVar("T")
MEMO_SIZE = 512
LEVELS = ("country", "region", "district", "facility")
COUNTRY_CODE = "PY"

# Facility types of the MSPBS network, from first level of care to specialised hospitals; their
# names are in the locale files (ftype_<code>): see facility_type_name.
FACILITY_TYPES: tuple[str, ...] = ("USF", "PS", "CS", "HD", "HR", "HG", "HE")
HOSPITAL_TYPES = ("HD", "HR", "HG", "HE")
DIRECTIONS = ("up", "down", "band")

_TERM = re.compile(r"\s*([+-])?\s*(?:(\d+(?:\.\d+)?)\s*\*\s*)?([A-Z][A-Z0-9_]*)\s*")


def facility_type_name(code: str | None, lang: str) -> str:
    """'Unidad de Salud de la Familia' / 'Family Health Unit'; '' for no or an unknown type."""
    return t(f"ftype_{code}", lang) if code in FACILITY_TYPES else ""


class ExpressionError(ValueError):
    pass


@dataclass(frozen=True)
class Expression:
    """A linear combination of data elements, e.g. 'PENTA1 - PENTA3'.

    Linear on purpose: the sum over units and months of a linear expression equals the
    expression of the sums, so rollups of single data elements are enough.
    """

    text: str
    terms: tuple[tuple[float, str], ...]

    @classmethod
    def parse(cls, text: str) -> Expression:
        pos = 0
        terms: list[tuple[float, str]] = []
        src = (text or "").strip().upper()
        if not src:
            raise ExpressionError("empty expression")
        while pos < len(src):
            m = _TERM.match(src, pos)
            if not m or m.end() == pos or (terms and not m.group(1)):
                raise ExpressionError(f"cannot read expression '{text}' at character {pos + 1}")
            sign = -1.0 if m.group(1) == "-" else 1.0
            coef = float(m.group(2)) if m.group(2) else 1.0
            terms.append((sign * coef, m.group(3)))
            pos = m.end()
        return cls(text=text.strip(), terms=tuple(terms))

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for _, code in self.terms)


@dataclass(frozen=True)
class OrgUnit:
    id: int
    code: str
    name: str
    level: int
    parent_id: int | None = None
    region_id: int | None = None
    district_id: int | None = None
    region_number: int | None = None
    facility_type: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    beds: int | None = None
    catchment_population: int | None = None
    opened: date | None = None
    closed: date | None = None

    @property
    def level_name(self) -> str:
        return LEVELS[self.level]


@dataclass(frozen=True)
class DataElement:
    id: int
    code: str
    kind: str
    name_es: str
    name_en: str


@dataclass(frozen=True)
class Target:
    target: float | None = None
    near: float | None = None
    band_low: float | None = None
    band_high: float | None = None
    source: str | None = None


@dataclass(frozen=True)
class Indicator:
    id: int
    code: str
    domain: str
    sort: int
    name_es: str
    name_en: str
    definition_es: str
    definition_en: str
    numerator: Expression
    denominator: Expression
    factor: float
    unit_es: str
    unit_en: str
    decimals: int
    direction: str
    facility_types: tuple[str, ...]
    target: Target

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_es

    def definition(self, lang: str) -> str:
        return self.definition_en if lang == "en" else self.definition_es

    def unit(self, lang: str) -> str:
        return self.unit_en if lang == "en" else self.unit_es

    def applies_to(self, facility_type: str | None) -> bool:
        return not self.facility_types or facility_type in self.facility_types


@dataclass(frozen=True)
class SdgTarget:
    """An indicator's SDG 3 mapping: the SDG indicator it tracks and the 2030 target, either a
    value (`target_2030`) or a reduction in % against the unit's own value of `baseline_year`
    (End TB: -80 % vs 2015). No target and no reduction: tracked without a numeric target."""

    sdg: str
    direction: str
    target_2030: float | None = None
    reduction: float | None = None
    baseline_year: int | None = None
    source: str | None = None


@dataclass(frozen=True)
class Scope:
    """The org units a caller may see: the subtrees under these codes, down to max_level
    (2 = districts: anonymous visitors see aggregates, never a facility's own rows)."""

    roots: frozenset[str]
    max_level: int = 3

    @classmethod
    def national(cls) -> Scope:
        return cls(frozenset({COUNTRY_CODE}))

    @classmethod
    def of(cls, *codes: str) -> Scope:
        return cls(frozenset(codes))


@dataclass
class Catalog:
    units: dict[int, OrgUnit]
    data_elements: dict[str, DataElement]
    indicators: dict[str, Indicator]
    overrides: dict[tuple[int, int | None, int | None], Target] = field(default_factory=dict)
    # The last month the store holds expected reports for (None: none); later months' expected
    # reports are counted from the facilities' opening and closing dates.
    reports_until: int | None = None
    # SDG 3 mappings by indicator code (dashboard/data/sdg3_targets.csv, importable).
    sdg: dict[str, SdgTarget] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_code = {u.code: u for u in self.units.values()}
        self.children: dict[int, list[OrgUnit]] = {}
        for u in sorted(self.units.values(), key=lambda u: (u.level, u.name)):
            if u.parent_id is not None:
                self.children.setdefault(u.parent_id, []).append(u)
        self._overridden = {k[0] for k in self.overrides}
        self._lineage: dict[int, frozenset[str]] = {}
        self._scope_ids: dict[frozenset[str], frozenset[int]] = {}
        self._memo: dict[Hashable, Any] = {}

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """A result computed from the data this catalogue was loaded with: any write moves the
        data version and the repository loads a new catalogue, so a memo never outlives its
        data. Bounded: the oldest entries go first (yearly SDG trends and the briefing, which
        read several years or many units for a result that stays the same all month)."""
        if key in self._memo:
            return self._memo[key]
        value = make()
        if len(self._memo) >= MEMO_SIZE:
            self._memo.pop(next(iter(self._memo)))
        self._memo[key] = value
        return value

    def memo_get(self, key: Hashable) -> Any:
        """What `memo` holds for that key, or None: a result another page already made."""
        return self._memo.get(key)

    # --- tree -----------------------------------------------------------------------------
    def unit(self, code: str) -> OrgUnit | None:
        return self.by_code.get(code)

    def country(self) -> OrgUnit:
        return self.by_code[COUNTRY_CODE]

    def parent(self, unit: OrgUnit) -> OrgUnit:
        """The unit one level up; the country has none (KeyError)."""
        if unit.parent_id is None:
            raise KeyError(f"{unit.code} has no parent")
        return self.units[unit.parent_id]

    def ancestors(self, unit: OrgUnit) -> list[OrgUnit]:
        out, cur = [], unit
        while cur.parent_id is not None:
            cur = self.units[cur.parent_id]
            out.append(cur)
        return out

    def path(self, unit: OrgUnit) -> list[OrgUnit]:
        """From the country down to the unit itself (for breadcrumbs)."""
        return list(reversed(self.ancestors(unit))) + [unit]

    def descendants(self, unit: OrgUnit, level: int) -> list[OrgUnit]:
        if unit.level == level:
            return [unit]
        if unit.level > level:
            return []
        out: list[OrgUnit] = []
        for child in self.children.get(unit.id, []):
            out.extend(self.descendants(child, level))
        return out

    def level_units(self, level: int) -> list[OrgUnit]:
        return sorted((u for u in self.units.values() if u.level == level), key=lambda u: u.name)

    def regions(self) -> list[OrgUnit]:
        return sorted(
            (u for u in self.units.values() if u.level == 1),
            key=lambda u: (u.region_number or 99, u.name),
        )

    def active_in(self, unit: OrgUnit, month: int) -> bool:
        """A facility is open (and so expected to report) in month YYYYMM."""
        first = date(month // 100, month % 100, 1)
        if unit.opened and unit.opened > date(month // 100, month % 100, 28):
            return False
        return not (unit.closed and unit.closed < first)

    # --- scope ----------------------------------------------------------------------------
    def in_scope(self, unit: OrgUnit, scope: Scope) -> bool:
        if unit.level > scope.max_level:
            return False
        lineage = self._lineage.get(unit.id)
        if lineage is None:
            lineage = frozenset([unit.code, *(a.code for a in self.ancestors(unit))])
            self._lineage[unit.id] = lineage
        return not lineage.isdisjoint(scope.roots)

    def filter_scope(self, units: Iterable[OrgUnit], scope: Scope) -> list[OrgUnit]:
        """The units in_scope keeps, by a set of the ids under the scope's roots (made once per
        catalogue and roots): a country's 13,000 facilities are filtered on many reads."""
        ids = self._scope_ids.get(scope.roots)
        if ids is None:
            found: set[int] = set()
            todo = [self.by_code[c].id for c in scope.roots if c in self.by_code]
            while todo:
                uid = todo.pop()
                if uid not in found:
                    found.add(uid)
                    todo.extend(c.id for c in self.children.get(uid, ()))
            ids = self._scope_ids[scope.roots] = frozenset(found)
        top = scope.max_level
        return [u for u in units if u.level <= top and u.id in ids]

    def scope_roots(self, scope: Scope) -> list[OrgUnit]:
        """The highest units a scope can see (the starting point of its pages)."""
        return sorted(
            (self.by_code[c] for c in scope.roots if c in self.by_code),
            key=lambda u: (u.level, u.name),
        )

    # --- indicators -----------------------------------------------------------------------
    def indicator(self, code: str) -> Indicator | None:
        return self.indicators.get(code)

    def has_overrides(self, ind: Indicator) -> bool:
        return ind.id in self._overridden

    def target_for(self, ind: Indicator, unit: OrgUnit, year: int | None) -> Target:
        """Most specific target: unit (or nearest ancestor) and year, then unit, then default."""
        chain = [unit, *self.ancestors(unit)]
        for u in chain:
            for y in (year, None):
                t = self.overrides.get((ind.id, u.id, y))
                if t is not None:
                    return t
        for y in (year, None):
            t = self.overrides.get((ind.id, None, y))
            if t is not None:
                return t
        return ind.target
