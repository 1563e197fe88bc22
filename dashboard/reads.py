"""Reads: the catalog, the scoped page reads (element sums, populations, facilities reporting)
and the raw inputs of the rollup builders."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    BindParameter,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import SQLCompiler

from . import db
from .catalog import (
    FACILITY_TYPES,
    Catalog,
    DataElement,
    Expression,
    Indicator,
    OrgUnit,
    SdgTarget,
    Target,
)
from .codec import ALL_TYPES, decode_vectors
from .periods import add_months, pieces
from .rollups import FACT_COLUMNS, decode_series
from .writes import copy_rows


def load_catalog(engine: Engine) -> Catalog:
    with engine.connect() as conn:
        units = {r.id: OrgUnit(**r._asdict()) for r in conn.execute(select(db.org_unit)).all()}
        des = {
            r.code: DataElement(r.id, r.code, r.kind, r.name_es, r.name_en)
            for r in conn.execute(select(db.data_element)).all()
        }
        inds: dict[str, Indicator] = {}
        for r in conn.execute(
            select(db.indicator).order_by(db.indicator.c.sort, db.indicator.c.code)
        ).all():
            inds[r.code] = Indicator(
                id=r.id,
                code=r.code,
                domain=r.domain,
                sort=r.sort,
                name_es=r.name_es,
                name_en=r.name_en,
                definition_es=r.definition_es or "",
                definition_en=r.definition_en or "",
                numerator=Expression.parse(r.numerator),
                denominator=Expression.parse(r.denominator),
                factor=r.factor,
                unit_es=r.unit_es or "",
                unit_en=r.unit_en or "",
                decimals=r.decimals,
                direction=r.direction,
                facility_types=tuple(r.facility_types.split()) if r.facility_types else (),
                target=Target(r.target, r.near, r.band_low, r.band_high, r.target_source),
            )
        overrides = {
            (r.indicator_id, r.org_unit_id, r.year): Target(
                r.target, r.near, r.band_low, r.band_high, r.source
            )
            for r in conn.execute(select(db.target_override)).all()
        }
        codes = {i.id: i.code for i in inds.values()}
        sdg = {
            codes[r.indicator_id]: SdgTarget(
                r.sdg, r.direction, r.target_2030, r.reduction, r.baseline_year, r.source
            )
            for r in conn.execute(select(db.sdg_target)).all()
            if r.indicator_id in codes
        }
        last = conn.execute(select(func.max(db.report.c.month))).scalar()
    return Catalog(
        units=units,
        data_elements=des,
        indicators=inds,
        overrides=overrides,
        reports_until=int(last) if last is not None else None,
        sdg=sdg,
    )


def get_meta(engine: Engine, key: str) -> str | None:
    with engine.connect() as c:
        return c.execute(select(db.meta.c.value).where(db.meta.c.key == key)).scalar()


def _ints(values: Iterable) -> list[int]:
    return [int(v) for v in values]


def _types(ftypes: tuple[str, ...] | None) -> list[str]:
    """The rollup's ftype rows for a filter: all types, or the known types listed."""
    return [ALL_TYPES] if ftypes is None else [t for t in ftypes if t in FACILITY_TYPES]


def _inline(name: str, expanding: bool = True) -> BindParameter[Any]:
    """A value rendered into the SQL text when the statement runs (literal_execute): integers
    and our own type codes, quoted by SQLAlchemy. Inlined, a cached statement needs no
    parameter per unit id and the driver's cursor runs it as it is."""
    return bindparam(name, expanding=expanding, literal_execute=True)


# Estimated population figures by (element id, year, ftype or None for facilities' own).
EstimatedIndex = dict[tuple[int, int, str | None], set[int]]


_POSTCOMPILE = re.compile(r"__\[POSTCOMPILE_(\w+)\]")
_SAFE_TEXT = re.compile(r"[A-Za-z0-9_*-]*")


def _literal(value: Any) -> str | None:
    """SQL text of one inlined value: integers, and our own short codes (grain, facility
    type); None for anything else, which then goes through SQLAlchemy."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, str) and _SAFE_TEXT.fullmatch(value):
        return f"'{value}'"
    return None


def _render_literals(compiled: SQLCompiler, params: dict[str, Any]) -> str | None:
    """The statement with its inlined parameters written in, or None when it has another
    kind of parameter or a value _literal does not take. SQLAlchemy's own rendering runs a
    literal processor per value: for a region's thousand facility ids it cost more than the
    query."""
    if len(compiled.literal_execute_params) != len(compiled.binds):
        return None
    rendered: dict[str, str] = {}
    for name in compiled.binds:
        value = params.get(name)
        values = list(value) if isinstance(value, list | tuple) else [value]
        parts = [_literal(v) for v in values]
        if any(p is None for p in parts):
            return None
        # An empty IN list matches nothing, as SQLAlchemy's own empty-set rendering does.
        rendered[name] = ", ".join(parts) if parts else "NULL"  # type: ignore[arg-type]
    return _POSTCOMPILE.sub(lambda m: rendered[m.group(1)], compiled.string)


class PageReads:
    """The scoped page reads, whose statements are compiled once per shape and kept.

    Building and compiling a statement costs more than running these small indexed reads;
    each instance (one per Repository) keeps its own compiled statements."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._compiled: dict[tuple, SQLCompiler] = {}

    def fetch(
        self, shape: tuple, build: Callable[[], Select], params: dict[str, Any]
    ) -> list[tuple]:
        """Rows of the statement of that shape, run on the driver's cursor: many small rows
        cost far less than through a Result."""
        compiled = self._compiled.get(shape)
        if compiled is None:
            compiled = build().compile(dialect=self.engine.dialect)
            assert isinstance(compiled, SQLCompiler)
            self._compiled[shape] = compiled
        fast = _render_literals(compiled, params)
        if fast is not None:
            statement, rest = fast, None
        else:
            state = compiled.construct_expanded_state(params)
            statement = state.statement
            rest = state.positional_parameters if compiled.positional else state.parameters
        with self.engine.connect() as c:
            raw: Any = c.connection.driver_connection
            cur = raw.cursor()
            try:
                if rest:
                    cur.execute(statement, rest)
                else:
                    cur.execute(statement)
                return cur.fetchall()
            finally:
                cur.close()

    def sums(
        self,
        units: Sequence[OrgUnit],
        visible: Sequence[OrgUnit],
        ftypes: tuple[str, ...] | None,
        de_ids: Sequence[int],
        buckets: Sequence[tuple[int, int]],
    ) -> np.ndarray:
        """Σ of each data element over each bucket's months, shape (units, buckets, elements);
        NaN where nothing was reported or the unit is not in `visible`. See Repository.sums."""
        out = np.full((len(units), len(buckets), len(de_ids)), np.nan)
        if not visible or not de_ids or not buckets:
            return out
        pos = {u.id: i for i, u in enumerate(units)}
        col = np.full(max(max(de_ids), 1) + 1, -1)
        col[np.asarray(de_ids)] = np.arange(len(de_ids))
        where_piece: dict[tuple[str, int], list[int]] = {}
        for b, (start, end) in enumerate(buckets):
            for piece in pieces(start, end):
                where_piece.setdefault(piece, []).append(b)
        by_grain: dict[str, list[int]] = {}
        for grain, period in where_piece:
            by_grain.setdefault(grain, []).append(period)
        grains = tuple(sorted(by_grain))
        facilities = [u.id for u in visible if u.level == 3]
        aggregates = [u.id for u in visible if u.level < 3]
        types = _types(ftypes)
        queries: list[tuple[list[int], list[str]]] = []
        if facilities:
            queries.append((facilities, [ALL_TYPES]))
        if aggregates and types:
            queries.append((aggregates, types))
        for ids, tps in queries:
            params: dict[str, Any] = {"ids": _ints(ids), "types": tps}
            for g in grains:
                params[f"grain_{g}"] = g
                params[f"periods_{g}"] = sorted(by_grain[g])
            rows = self.fetch(("sums", grains), lambda: _sums_statement(grains), params)
            if rows:
                _scatter(out, rows, pos, col, where_piece)
        return out

    def meta_value(self, key: str) -> str | None:
        """One meta value, through the compiled-once fast path (the data version, asked on
        every cached read to know the cache still holds today's numbers)."""
        t = db.meta.c
        rows = self.fetch(
            ("meta",), lambda: select(t.value).where(t.key == bindparam("key")), {"key": key}
        )
        return rows[0][0] if rows else None

    def series(self, year: int, de_id: int) -> tuple[np.ndarray, np.ndarray]:
        """One dq_series row decoded (rollups.decode_series); empty arrays without one."""
        t = db.dq_series.c
        with self.engine.connect() as c:
            row = c.execute(
                select(t.ids, t.vals).where(t.year == year, t.data_element_id == de_id)
            ).first()
        if row is None:
            return np.empty(0, dtype=np.int64), np.empty((0, 12))
        return decode_series(bytes(row.ids), bytes(row.vals))

    def populations(
        self,
        units: Sequence[OrgUnit],
        ftypes: tuple[str, ...] | None,
        de_ids: Sequence[int],
        years: Sequence[int] | None = None,
    ) -> np.ndarray:
        """Rows (unit id, data element id, year, population) of visible units; see
        Repository.populations."""
        if not units or not de_ids:
            return np.empty((0, 4))
        types = _types(ftypes)
        facility_ids = [u.id for u in units if u.level == 3]
        aggregate_ids = [u.id for u in units if u.level < 3]
        by_year = years is not None
        params: dict[str, Any] = {"elements": _ints(de_ids), "years": _ints(years or ())}
        rows: list[tuple] = []
        if facility_ids:
            # A facility's figure is its own catchment: read it from the (compact) population
            # table, one row per key, rather than summing the rollup.
            rows += self.fetch(
                ("facility_populations", by_year),
                lambda: _facility_population_statement(by_year),
                {**params, "ids": _ints(facility_ids)},
            )
        if aggregate_ids and types:
            rows += self.fetch(
                ("populations", by_year),
                lambda: _population_statement(by_year),
                {**params, "ids": _ints(aggregate_ids), "types": types},
            )
        return np.array(rows, dtype=float).reshape(-1, 4)

    def estimated_populations(
        self,
        units: Sequence[OrgUnit],
        ftypes: tuple[str, ...] | None,
        de_ids: Sequence[int],
        years: Sequence[int],
        index: EstimatedIndex,
    ) -> set[int]:
        """Ids of the visible units whose population (any of the elements, years) rests on an
        estimated figure; see Repository.estimated_populations. `index` is the store's
        estimated figures (estimated_index), read once per data version: a scorecard asks
        this for every indicator, and a query each time cost more than the page's sums."""
        if not units or not de_ids or not years:
            return set()
        facilities = {u.id for u in units if u.level == 3}
        aggregates = {u.id for u in units if u.level < 3}
        out: set[int] = set()
        for d in de_ids:
            for y in years:
                if facilities:
                    out |= facilities & index.get((int(d), int(y), None), set())
                for t in _types(ftypes) if aggregates else ():
                    out |= aggregates & index.get((int(d), int(y), t), set())
        return out

    def estimated_index(self) -> EstimatedIndex:
        """Every estimated population figure: (element id, year, None) -> facility ids from
        the facilities' own figures, (element id, year, ftype) -> aggregate unit ids from the
        rolled-up figures (a few thousand ids on the demo)."""
        index: EstimatedIndex = {}
        p, a = db.population.c, db.agg_population.c
        with self.engine.connect() as c:
            own: Any = c.execute(
                select(p.org_unit_id, p.data_element_id, p.year).where(p.estimated == 1)
            )
            for unit, de, year in own:
                index.setdefault((de, year, None), set()).add(unit)
            rolled: Any = c.execute(
                select(a.org_unit_id, a.data_element_id, a.year, a.ftype).where(a.estimated == 1)
            )
            for unit, de, year, ftype in rolled:
                index.setdefault((de, year, ftype), set()).add(unit)
        return index

    def report_masks(self, cat: Catalog) -> ReportMasks:
        """Every facility's yearly report masks, with what counting them by unit needs."""
        m = db.report_mask.c
        with self.engine.connect() as c:
            rows = c.execute(select(m.org_unit_id, m.year, m.mask)).all()
        return ReportMasks(cat, rows)


class ReportMasks:
    """The report masks (a bit per month with a received report, one row per facility and
    year) held as arrays: counting the distinct facilities that reported in a period, per
    region, district or facility, is then a few array operations, not a query per period.
    Rows of units the catalogue does not hold as facilities are left out, as a join would."""

    def __init__(self, cat: Catalog, rows: Sequence[tuple[int, int, int]]):
        facilities = sorted((u for u in cat.units.values() if u.level == 3), key=lambda u: u.id)
        self.ids = np.array([u.id for u in facilities], dtype=np.int64)
        self.keys = {
            1: np.array([u.region_id or 0 for u in facilities], dtype=np.int64),
            2: np.array([u.district_id or 0 for u in facilities], dtype=np.int64),
            3: self.ids,
        }
        self.types = np.array([u.facility_type or "" for u in facilities], dtype=object)
        raw = np.array(rows, dtype=np.int64).reshape(-1, 3)
        at, known = positions(self.ids, raw[:, 0])
        self.row_facility = at[known]
        self.year = raw[known, 1]
        self.mask = raw[known, 2]

    def count(
        self,
        units: Sequence[OrgUnit],
        ftypes: tuple[str, ...] | None,
        buckets: Sequence[tuple[int, int]],
    ) -> dict[tuple[int, int], int]:
        """Distinct facilities with a received report, per (unit id, bucket index), for the
        units given: the country always has its count (zero included), other units only where
        one facility or more reported."""
        out: dict[tuple[int, int], int] = {}
        if not units or not buckets:
            return out
        allowed = np.ones(len(self.ids), dtype=bool)
        if ftypes is not None:
            allowed = np.isin(self.types, [t for t in ftypes if t in FACILITY_TYPES])
        levels = sorted({u.level for u in units})
        for i, (start, end) in enumerate(buckets):
            hit = np.zeros(len(self.year), dtype=bool)
            for year, bits in month_bits(start, end):
                hit |= (self.year == year) & ((self.mask & bits) != 0)
            reported = np.zeros(len(self.ids), dtype=bool)
            reported[self.row_facility[hit]] = True
            reported &= allowed
            for level in levels:
                if level == 0:
                    for u in units:
                        if u.level == 0:
                            out[(u.id, i)] = int(reported.sum())
                    continue
                keys, counts = np.unique(self.keys[level][reported], return_counts=True)
                found = dict(zip(keys.tolist(), counts.tolist(), strict=True))
                for u in units:
                    if u.level == level and u.id in found:
                        out[(u.id, i)] = found[u.id]
        return out


def _sums_statement(grains: tuple[str, ...]) -> Select:
    r = db.rollup.c
    in_periods = or_(
        *(
            and_(r.grain == _inline(f"grain_{g}", False), r.period.in_(_inline(f"periods_{g}")))
            for g in grains
        )
    )
    return select(r.org_unit_id, r.grain, r.period, r.vals).where(
        r.org_unit_id.in_(_inline("ids")), r.ftype.in_(_inline("types")), in_periods
    )


def _facility_population_statement(by_year: bool) -> Select:
    p = db.population.c
    stmt = select(p.org_unit_id, p.data_element_id, p.year, p.value).where(
        p.org_unit_id.in_(_inline("ids")), p.data_element_id.in_(_inline("elements"))
    )
    return stmt.where(p.year.in_(_inline("years"))) if by_year else stmt


def _population_statement(by_year: bool) -> Select:
    a = db.agg_population.c
    stmt = (
        select(a.org_unit_id, a.data_element_id, a.year, func.sum(a.value))
        .where(
            a.data_element_id.in_(_inline("elements")),
            a.org_unit_id.in_(_inline("ids")),
            a.ftype.in_(_inline("types")),
        )
        .group_by(a.org_unit_id, a.data_element_id, a.year)
    )
    return stmt.where(a.year.in_(_inline("years"))) if by_year else stmt


def _scatter(
    out: np.ndarray,
    rows: list[tuple],
    pos: dict[int, int],
    col: np.ndarray,
    where_piece: dict[tuple[str, int], list[int]],
) -> None:
    """Add the vectors of rollup rows (unit, grain, period, vals) into out[unit, bucket, column]."""
    rec, row_of = decode_vectors([row[3] for row in rows])
    ids_ok = rec["id"] < len(col)
    k = np.where(ids_ok, col[np.minimum(rec["id"], len(col) - 1)], -1)
    keep = k >= 0
    unit_of_row = np.array([pos[row[0]] for row in rows])
    sel = np.flatnonzero(keep)
    if all(len(b) == 1 for b in where_piece.values()):
        # Each piece serves one bucket (the usual case): one target per record.
        bucket_of_row = np.array([where_piece[(row[1], row[2])][0] for row in rows])
        rows_sel = row_of[sel]
        target = np.ravel_multi_index(
            (unit_of_row[rows_sel], bucket_of_row[rows_sel], k[sel]), out.shape
        )
        weights = rec["v"][sel]
    else:
        # A piece may serve several buckets (overlapping periods): one scatter per use.
        uses = [(i, b) for i, row in enumerate(rows) for b in where_piece[(row[1], row[2])]]
        use_row = np.array([i for i, _ in uses])
        use_bucket = np.array([b for _, b in uses])
        first_use = np.searchsorted(use_row, np.arange(len(rows)))
        n_uses = np.bincount(use_row, minlength=len(rows))
        reps = n_uses[row_of[sel]]
        rec_idx = np.repeat(sel, reps)
        offsets = np.arange(len(rec_idx)) - np.repeat(np.cumsum(reps) - reps, reps)
        use_idx = first_use[row_of[rec_idx]] + offsets
        target = np.ravel_multi_index(
            (unit_of_row[row_of[rec_idx]], use_bucket[use_idx], k[rec_idx]), out.shape
        )
        weights = rec["v"][rec_idx]
    seen = np.zeros(out.size, dtype=bool)
    # bincount with weights: the same sums as np.add.at, several times faster.
    flat = np.bincount(target, weights=weights, minlength=out.size)
    seen[target] = True
    view = out.reshape(-1)
    view[seen] = np.where(np.isnan(view[seen]), 0.0, view[seen]) + flat[seen]


def positions(ids: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each wanted id sits in the ascending `ids`, and whether it is there at all."""
    if not len(ids):
        return np.zeros(len(wanted), dtype=np.int64), np.zeros(len(wanted), dtype=bool)
    at = np.clip(np.searchsorted(ids, wanted), 0, len(ids) - 1)
    return at, ids[at] == wanted


def month_bits(start: int, end: int) -> list[tuple[int, int]]:
    """(year, bit mask of the months of [start, end] in that year) for each year touched."""
    out: dict[int, int] = {}
    mo = start
    while mo <= end:
        out[mo // 100] = out.get(mo // 100, 0) | (1 << (mo % 100 - 1))
        mo = add_months(mo, 1)
    return sorted(out.items())


# ==== rollup inputs =========================================================================
def element_ids(c: Connection) -> dict[str, int]:
    return {r.code: r.id for r in c.execute(select(db.data_element.c.code, db.data_element.c.id))}


def count_element_ids(c: Connection) -> list[int]:
    de = db.data_element.c
    return [r.id for r in c.execute(select(de.id).where(de.kind == "count"))]


def raw_values(c: Connection, count_ids: list[int], years: list[int] | None) -> pd.DataFrame:
    """Raw facility values (org_unit_id, month, data_element_id, value) of those elements and
    years (None: all); read in chunks so a 10x store (17 M values) never holds millions of
    Python tuples at once."""
    v = db.data_value.c
    stmt = select(v.org_unit_id, v.month, v.data_element_id, v.value).where(
        v.data_element_id.in_(_ints(count_ids))
    )
    if years is not None:
        stmt = stmt.where((v.month // 100).in_(_ints(years)))
    sql = str(stmt.compile(dialect=c.dialect, compile_kwargs={"literal_binds": True}))
    raw: Any = c.connection.driver_connection
    cur = raw.cursor()
    parts = []
    try:
        cur.execute(sql)
        while rows := cur.fetchmany(500_000):
            parts.append(np.array(rows, dtype=float).reshape(-1, 4))
    finally:
        cur.close()
    arr = np.concatenate(parts) if parts else np.empty((0, 4))
    return pd.DataFrame(
        {
            "org_unit_id": arr[:, 0].astype(np.int64),
            "month": arr[:, 1].astype(np.int64),
            "data_element_id": arr[:, 2].astype(np.int64),
            "value": arr[:, 3],
        }
    )[FACT_COLUMNS]


SPAN_COLUMNS = ["org_unit_id", "data_element_id", "grain", "period", "value"]


def span_values(
    c: Connection, years: Sequence[int] | None, count_ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """Quarter and year values (SPAN_COLUMNS) of those calendar years (None: all), of those
    elements (None: all)."""
    s = db.data_value_span.c
    stmt = select(s.org_unit_id, s.data_element_id, s.grain, s.period, s.value)
    if years is not None:
        quarters = [y * 10 + q for y in years for q in (1, 2, 3, 4)]
        stmt = stmt.where(
            or_(
                and_(s.grain == "Y", s.period.in_(_ints(years))),
                and_(s.grain == "Q", s.period.in_(quarters)),
            )
        )
    if count_ids is not None:
        stmt = stmt.where(s.data_element_id.in_(_ints(count_ids)))
    frame = pd.DataFrame(c.execute(stmt).all(), columns=SPAN_COLUMNS)
    return frame.astype({"org_unit_id": np.int64, "data_element_id": np.int64, "period": np.int64})


def months_within(c: Connection, spans: pd.DataFrame) -> pd.DataFrame:
    """For each span (org_unit_id, data_element_id, first_month, last_month, tag) whose facility
    and element have monthly values inside it: tag, the first and the last of those months."""
    cols = ["org_unit_id", "data_element_id", "first_month", "last_month", "tag"]
    out = ["tag", "first", "last"]
    if spans.empty:
        return pd.DataFrame(columns=out)
    c.execute(text("DROP TABLE IF EXISTS staging_range"))
    c.execute(
        text(
            "CREATE TEMPORARY TABLE staging_range (org_unit_id INTEGER NOT NULL, "
            "data_element_id INTEGER NOT NULL, first_month INTEGER NOT NULL, "
            "last_month INTEGER NOT NULL, tag INTEGER NOT NULL)"
        )
    )
    copy_rows(c, "staging_range", cols, spans[cols])
    rows = c.execute(
        text(
            "SELECT s.tag, MIN(d.month), MAX(d.month) FROM staging_range s JOIN data_value d "
            "ON d.org_unit_id = s.org_unit_id AND d.data_element_id = s.data_element_id "
            "AND d.month BETWEEN s.first_month AND s.last_month GROUP BY s.tag"
        )
    ).all()
    c.execute(text("DROP TABLE staging_range"))
    return pd.DataFrame(rows, columns=out)


def expected_reports(c: Connection, years: list[int] | None) -> pd.DataFrame:
    """Expected reports (org_unit_id, month, received_on) of those years (None: all)."""
    r = db.report.c
    stmt = select(r.org_unit_id, r.month, r.received_on).where(r.expected == 1)
    if years is not None:
        stmt = stmt.where((r.month // 100).in_(years))
    return pd.DataFrame(c.execute(stmt).all(), columns=["org_unit_id", "month", "received_on"])


def unit_table(c: Connection) -> pd.DataFrame:
    """id, level, parent_id, district_id, region_id, facility_type of every org unit."""
    o = db.org_unit.c
    cols = ["id", "level", "parent_id", "district_id", "region_id", "facility_type"]
    return pd.DataFrame(c.execute(select(*(o[k] for k in cols))).all(), columns=cols)


def population_table(c: Connection) -> pd.DataFrame:
    p = db.population.c
    return pd.DataFrame(
        c.execute(select(p.org_unit_id, p.data_element_id, p.year, p.value, p.estimated)).all(),
        columns=["org_unit_id", "data_element_id", "year", "value", "estimated"],
    )


def data_month_span(c: Connection) -> tuple[int | None, int | None]:
    v = db.data_value.c
    row = c.execute(select(func.min(v.month), func.max(v.month))).one()
    return row[0], row[1]
