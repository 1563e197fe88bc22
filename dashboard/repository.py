"""The store's one entry point: a thin facade that opens transactions, applies the caller's
access scope and keeps the catalog; the SQL lives in writes.py and reads.py, the rollup
arithmetic in rollups.py, the binary vectors in codec.py."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection, Engine

from . import db, reads, rollups, writes
from .catalog import Catalog, OrgUnit, Scope
from .memo import CatalogLRU
from .writes import WriteCounts

__all__ = ["ROLLUP_FORMAT", "Repository", "WriteCounts"]

ROLLUP_FORMAT = "5"  # bump when the rollup vectors change layout: old ones are rebuilt
SUMS_CELLS = 4_000_000  # 32 MB of float64 per process
# A read of this many facilities or more (Central's at ten times the demo's scale) reads every
# facility over those periods instead, and later facility reads of the same periods take their
# rows from it (Repository._level_sums). Smaller reads cost less on their own. Regions are
# always read all 18 at once: that costs what one region's read does.
COUNTRY_READ_MIN = 1000


class Repository:
    """version_check_s: how often (at most) catalog() asks the database whether another
    process changed the data since the catalog was loaded; a server then shows an import
    within that many seconds, for one tiny read a second at most."""

    def __init__(
        self,
        engine: Engine,
        version_check_s: float = 1.0,
        population_rule: str = "parts",
        on_load: Callable[[], None] | None = None,
    ):
        if population_rule not in rollups.POPULATION_RULES:
            raise ValueError(f"population rule {population_rule!r}")
        self.engine = engine
        # Which figure a region or the country rolls up: "parts" (the sum of its children's,
        # so a table's total is the sum of its rows) or "own" (its own figure when it has one).
        self.population_rule = population_rule
        self.version_check_s = version_check_s
        # Called after each catalogue load (a server settles its heap there: memo.settle_heap).
        self.on_load = on_load
        self._catalog: Catalog | None = None
        self._version: str | None = None
        self._checked = -math.inf
        self._reads = reads.PageReads(engine)
        # Sums of every counted element per (units, types, periods) read, up to SUMS_CELLS
        # numbers in all (Repository.sums).
        self._sums: CatalogLRU[Any] = CatalogLRU(64, SUMS_CELLS, _cells)

    def ensure_schema(self) -> None:
        """Upgrade the schema; rebuild rollups written in an older layout."""
        db.upgrade(self.engine)
        if self.get_meta("rollup_format") not in (None, ROLLUP_FORMAT):
            self.refresh_rollups()

    def _begin(self, conn: Connection | None) -> AbstractContextManager[Connection]:
        """The caller's connection (their transaction decides), or a transaction of our own."""
        return nullcontext(conn) if conn is not None else self.engine.begin()

    # ==== catalog ==========================================================================
    def catalog(self) -> Catalog:
        """The org-unit tree, data elements, indicators and targets, kept in memory and
        reloaded when the database's data version moved (any import, by any process)."""
        now = time.monotonic()
        cat = self._catalog
        if cat is not None and now - self._checked >= self.version_check_s:
            self._checked = now
            if self.data_version() != self._version:
                cat = None
        if cat is None:
            # The version first: a write landing in between then costs one more reload,
            # never a stale catalog filed under the new version.
            self._version = self.data_version()
            self._checked = now
            cat = self._catalog = reads.load_catalog(self.engine)
            if self.on_load is not None:
                self.on_load()
        return cat

    def data_version(self) -> str | None:
        """Changes whenever data or metadata is written (None: never written)."""
        return self.get_meta(writes.DATA_VERSION)

    def invalidate(self) -> None:
        self._catalog = None

    # ==== metadata writes ===================================================================
    def upsert_org_units(self, rows: Sequence[dict], conn: Connection | None = None) -> WriteCounts:
        """Insert or update org units by code; rows carry 'parent' as a code.

        Rows must come parents first (country, regions, districts, facilities).
        """
        with self._begin(conn) as c:
            counts = writes.upsert_org_units(c, rows)
            writes.bump_data_version(c)
        self.invalidate()
        return counts

    def upsert_data_elements(
        self, rows: Sequence[dict], conn: Connection | None = None
    ) -> WriteCounts:
        with self._begin(conn) as c:
            counts = writes.upsert_by_code(c, db.data_element, rows)
            writes.bump_data_version(c)
        self.invalidate()
        return counts

    def upsert_indicators(
        self, rows: Sequence[dict], conn: Connection | None = None
    ) -> WriteCounts:
        with self._begin(conn) as c:
            counts = writes.upsert_by_code(c, db.indicator, rows)
            writes.bump_data_version(c)
        self.invalidate()
        return counts

    def upsert_populations(
        self, rows: Sequence[dict], conn: Connection | None = None
    ) -> WriteCounts:
        """rows: org_unit_id, data_element_id, year, value."""
        with self._begin(conn) as c:
            counts = writes.upsert_populations(c, rows)
            writes.bump_data_version(c)
        self.invalidate()  # the estimated-population index is memoised on the catalog
        return counts

    def upsert_targets(self, rows: Sequence[dict], conn: Connection | None = None) -> WriteCounts:
        """rows: indicator_id, org_unit_id (or None), year (or None), target, near, band_low,
        band_high, source."""
        with self._begin(conn) as c:
            counts = writes.upsert_targets(c, rows)
            writes.bump_data_version(c)
        self.invalidate()
        return counts

    def upsert_sdg(self, rows: Sequence[dict], conn: Connection | None = None) -> WriteCounts:
        """rows: indicator_id, sdg, direction, target_2030, reduction, baseline_year, source."""
        with self._begin(conn) as c:
            counts = writes.upsert_sdg(c, rows)
            writes.bump_data_version(c)
        self.invalidate()
        return counts

    def set_meta(self, key: str, value: str, conn: Connection | None = None) -> None:
        with self._begin(conn) as c:
            writes.set_meta(c, key, value)

    def get_meta(self, key: str) -> str | None:
        return reads.get_meta(self.engine, key)

    # ==== data values and reports ===========================================================
    def start_batch(self, source: str, fmt: str, conn: Connection) -> int:
        return writes.start_batch(conn, source, fmt)

    def finish_batch(self, batch_id: int, rows: int, counts: WriteCounts, conn: Connection) -> None:
        writes.finish_batch(conn, batch_id, rows, counts)

    def diff_values(
        self, frame: pd.DataFrame, conn: Connection | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
        """Split incoming values (org_unit_id, data_element_id, month, value) into new, changed
        (with old_value) and the count unchanged, against what the database holds."""
        with self._begin(conn) as c:
            return writes.diff_values(c, frame)

    def write_values(self, frame: pd.DataFrame, batch_id: int, conn: Connection) -> WriteCounts:
        """Insert new values, update changed ones (logging old and new), skip identical ones."""
        counts = writes.write_values(conn, frame, batch_id)
        writes.bump_data_version(conn)
        return counts

    def diff_spans(self, frame: pd.DataFrame, conn: Connection | None = None) -> WriteCounts:
        """What writing quarter and year values (org_unit_id, data_element_id, grain 'Q'|'Y',
        period 20253|2025, value) would insert, update and leave unchanged."""
        with self._begin(conn) as c:
            return writes.diff_spans(c, frame)

    def write_spans(self, frame: pd.DataFrame, batch_id: int, conn: Connection) -> WriteCounts:
        """write_values for quarter and year values (changes logged in value_change_span)."""
        counts = writes.write_spans(conn, frame, batch_id)
        writes.bump_data_version(conn)
        return counts

    def span_values(self, years: Sequence[int] | None = None) -> pd.DataFrame:
        """Stored quarter and year values (org_unit_id, data_element_id, grain, period, value)
        of those calendar years (None: all)."""
        with self.engine.connect() as c:
            return reads.span_values(c, years)

    def months_within(self, spans: pd.DataFrame) -> pd.DataFrame:
        """spans: org_unit_id, data_element_id, first_month, last_month, tag. For each whose
        facility and element have stored monthly values inside it: tag, first and last month."""
        with self.engine.begin() as c:
            return reads.months_within(c, spans)

    def bulk_insert_values(self, frame: pd.DataFrame, batch_id: int, conn: Connection) -> None:
        """Fast path for an empty store (the demo build): plain inserts, no diffing."""
        writes.bulk_insert_values(conn, frame, batch_id)

    def ensure_expected_reports(
        self, first_month: int, last_month: int, conn: Connection | None = None
    ) -> None:
        """Every facility active in a month is expected to report for it."""
        with self._begin(conn) as c:
            writes.ensure_expected_reports(c, first_month, last_month)

    def mark_received(self, pairs: pd.DataFrame, received_on: date, conn: Connection) -> None:
        """pairs: org_unit_id, month (and optionally received_on) of reports that arrived."""
        writes.mark_received(conn, pairs, received_on)

    def bulk_insert_reports(self, frame: pd.DataFrame, conn: Connection) -> None:
        writes.copy_rows(conn, "report", writes.REPORT_COLUMNS, frame)

    def bulk_insert_populations(self, frame: pd.DataFrame, conn: Connection) -> None:
        """frame: org_unit_id, data_element_id, year, value[, estimated (0/1)]."""
        columns = ["org_unit_id", "data_element_id", "year", "value"]
        if "estimated" in frame.columns:
            columns.append("estimated")
        writes.copy_rows(conn, "population", columns, frame[columns])
        self.invalidate()

    def population_conflicts(self, conn: Connection | None = None) -> pd.DataFrame:
        """Regions and the country whose own population differs from the sum of their
        children's: org_unit_id, data_element_id, year, own, parts."""
        with self._begin(conn) as c:
            units = reads.unit_table(c).set_index("id")[["level", "parent_id", "facility_type"]]
            return rollups.population_conflicts(units, reads.population_table(c))

    # ==== rollups ===========================================================================
    def refresh_rollups(
        self, years: Iterable[int] | None = None, conn: Connection | None = None
    ) -> dict[str, float]:
        """Rebuild the columnar rollups (values, reporting and data-quality counts) and the
        population rollup from the raw tables.

        With `years`, only the rollup rows of those calendar years are rebuilt: every row of a
        year (its months, quarters and the year) depends on that year's data alone, outliers
        included, so an import of one month costs a year's work, not the whole history.
        """
        timings: dict[str, float] = {}
        span = None if years is None else sorted({int(y) for y in years})
        with self._begin(conn) as c:
            t0 = time.perf_counter()
            ids = reads.element_ids(c)
            count_ids = reads.count_element_ids(c)
            raw = reads.raw_values(c, count_ids, span)
            spans = reads.span_values(c, span, count_ids)
            reporting, received = rollups.reporting_counts(reads.expected_reports(c, span), ids)
            derived = reporting + rollups.outlier_counts(raw, ids)
            facts = pd.concat([raw, *derived], ignore_index=True) if derived else raw
            masks = rollups.report_masks(received) if not received.empty else received
            writes.replace_report_masks(c, masks, span)
            timings["read_and_derive_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            writes.delete_rollup(c, span)
            units = reads.unit_table(c)
            facilities = units.id[units.level == 3].to_numpy()
            writes.replace_series(c, rollups.series_rows(raw, facilities, ids), span)
            rows = rollups.rollup_rows(facts, units, ids.get("REP_FACILITIES"), spans)
            writes.copy_rows(c, "rollup", rollups.ROLLUP_COLUMNS, rows)
            timings["values_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            tree = units.set_index("id")[["level", "parent_id", "facility_type"]]
            writes.replace_agg_population(
                c, rollups.population_rows(tree, reads.population_table(c), self.population_rule)
            )
            timings["population_s"] = time.perf_counter() - t0
            first, last = reads.data_month_span(c)
            writes.set_meta(c, "data_first_month", str(first or ""))
            writes.set_meta(c, "data_last_month", str(last or ""))
            writes.set_meta(c, "refreshed_at", datetime.now().isoformat(timespec="seconds"))
            writes.set_meta(c, "rollup_format", ROLLUP_FORMAT)
            writes.bump_data_version(c)
        # The catalog holds the last month of expected reports: this process reloads it now,
        # others at their next version check.
        self.invalidate()
        writes.analyze(self.engine)
        return timings

    # ==== scoped reads ======================================================================
    def _visible(self, units: Iterable[OrgUnit], scope: Scope) -> list[OrgUnit]:
        return self.catalog().filter_scope(units, scope)

    def sums(
        self,
        scope: Scope,
        units: Sequence[OrgUnit],
        ftypes: tuple[str, ...] | None,
        de_ids: Sequence[int],
        buckets: Sequence[tuple[int, int]],
    ) -> np.ndarray:
        """Σ of each data element over each bucket's months, shape (units, buckets, elements).

        NaN where nothing was reported. Facilities read their own vectors (the type filter is
        the caller's business); districts, regions and the country read the rows of the
        facility types asked for (None = all types). Units outside the scope stay NaN.
        Each bucket is read as its fewest whole years, quarters and months.
        """
        visible = self._visible(units, scope)
        cat = self.catalog()
        every = cat.memo(("count_element_ids",), lambda: _count_ids(cat))
        at = np.searchsorted(every, de_ids)
        known = len(every) and len(de_ids) and (np.take(every, at, mode="clip") == de_ids).all()
        if not known or not visible:
            return self._reads.sums(units, visible, ftypes, de_ids, buckets)
        # Every counted element's sums at once, kept per data version: a rollup row holds
        # them all anyway, so another indicator over the same units and periods (a change of
        # indicator, a scorecard's other area) reads and decodes nothing again. The version
        # is read afresh (the catalogue is checked once a second): an answer never mixes in
        # numbers from before another process's import.
        version = self._reads.meta_value(writes.DATA_VERSION)
        spans = tuple(map(tuple, buckets))
        levels = {u.level for u in visible}
        if levels == {3}:
            whole = self._sums.get(("level", 3, version, None, spans), cat)
            if whole is not None or len(visible) >= COUNTRY_READ_MIN:
                return self._level_sums(cat, version, 3, None, units, visible, spans, every)[
                    :, :, at
                ]
        if levels == {1}:
            # 18 regions cost one round trip, as one region does: read them all, so the next
            # region's cards and trends read nothing.
            return self._level_sums(cat, version, 1, ftypes, units, visible, spans, every)[:, :, at]
        key = (version, tuple(u.id for u in units), tuple(u.id for u in visible), ftypes, spans)
        full = self._sums.get(key, cat)
        if full is None:
            full = self._reads.sums(units, visible, ftypes, every.tolist(), buckets)
            self._sums.put(key, cat, full)
        return full[:, :, at]

    def _level_sums(
        self,
        cat: Catalog,
        version: str | None,
        level: int,
        ftypes: tuple[str, ...] | None,
        units: Sequence[OrgUnit],
        visible: Sequence[OrgUnit],
        spans: tuple[tuple[int, ...], ...],
        every: np.ndarray,
    ) -> np.ndarray:
        """Sums of units of one level (a region's map points or facility scorecard; a region's
        cards): read once for every unit of that level in the country over those periods, then
        each request takes its rows. A unit's numbers do not depend on who asks; the scope
        decides which rows are handed out (the others stay NaN). Facilities read their own
        vectors whatever the type filter (`ftypes` None)."""
        key = ("level", level, version, ftypes, spans)
        hit = self._sums.get(key, cat)
        if hit is None:
            members = sorted(cat.level_units(level), key=lambda u: u.id)
            periods = [(int(a), int(b)) for a, b in spans]
            table = self._reads.sums(members, members, ftypes, every.tolist(), periods)
            hit = np.array([u.id for u in members], dtype=np.int64), table
            self._sums.put(key, cat, hit)
        ids, table = hit
        out = np.full((len(units), len(spans), len(every)), np.nan)
        shown = {u.id for u in visible}
        rows = np.array([i for i, u in enumerate(units) if u.id in shown], dtype=np.int64)
        at, found = reads.positions(ids, np.array([units[i].id for i in rows], dtype=np.int64))
        out[rows[found]] = table[at[found]]
        return out

    def populations(
        self,
        scope: Scope,
        units: Sequence[OrgUnit],
        ftypes: tuple[str, ...] | None,
        de_ids: Sequence[int],
        years: Sequence[int] | None = None,
    ) -> np.ndarray:
        """Rows (unit id, data element id, year, population) for the years asked (None: all).

        With a type filter an aggregate unit sums the catchments of facilities of those types;
        a facility always has its own catchment, whatever the filter lists."""
        return self._reads.populations(self._visible(units, scope), ftypes, de_ids, years)

    def estimated_populations(
        self,
        scope: Scope,
        units: Sequence[OrgUnit],
        ftypes: tuple[str, ...] | None,
        de_ids: Sequence[int],
        years: Sequence[int],
    ) -> set[int]:
        """Ids of the units (within the scope) whose population of any of those elements and
        years rests on an estimated figure (population.estimated, rolled up): the quality mark
        `estimated_denominator`. A year without a figure takes the nearest year's, as
        `populations` does, so ask for the years the value used."""
        # Read once per data version (a new catalogue): a scorecard asks for every indicator.
        index = self.catalog().memo(("estimated_populations",), self._reads.estimated_index)
        return self._reads.estimated_populations(
            self._visible(units, scope), ftypes, de_ids, years, index
        )

    def monthly_series(
        self,
        scope: Scope,
        facilities: Sequence[OrgUnit],
        months: Sequence[int],
        codes: Sequence[str],
    ) -> dict[str, np.ndarray]:
        """The monthly values of tracer elements (rollups.TRACERS) for each facility (within
        the scope) and month: per code, shape (facilities, months), NaN where none was
        reported. From dq_series, each year's blob read once per data version."""
        cat = self.catalog()
        out = {c: np.full((len(facilities), len(months)), np.nan) for c in codes}
        # The visible facilities' rows and ids: the same list is asked for every period (a
        # country's 13,000 facilities at 10×), so they are kept per data version.
        rows, wanted = cat.memo(
            ("series_rows", scope, tuple(u.id for u in facilities)),
            lambda: self._series_rows(facilities, scope),
        )
        if not len(rows):
            return out
        month_arr = np.asarray(months, dtype=np.int64)
        for code in codes:
            de = cat.data_elements.get(code)
            if de is None:
                continue
            for year in sorted({int(m) // 100 for m in months}):
                key = ("dq_series", year, de.id)
                fac, vals = cat.memo(key, partial(self._reads.series, year, de.id))
                if not len(fac):
                    continue
                at, found = reads.positions(fac, wanted)
                cols = np.flatnonzero(month_arr // 100 == year)
                picked = vals[np.ix_(at[found], month_arr[cols] % 100 - 1)]
                out[code][np.ix_(rows[found], cols)] = picked
        return out

    def _series_rows(
        self, facilities: Sequence[OrgUnit], scope: Scope
    ) -> tuple[np.ndarray, np.ndarray]:
        """Positions in `facilities` of the facilities the scope sees, and their ids."""
        visible = {u.id for u in self._visible(facilities, scope) if u.level == 3}
        rows = np.array([i for i, u in enumerate(facilities) if u.id in visible], dtype=np.int64)
        return rows, np.array([facilities[i].id for i in rows], dtype=np.int64)

    def facilities_reporting(
        self,
        scope: Scope,
        units: Sequence[OrgUnit],
        ftypes: tuple[str, ...] | None,
        buckets: Sequence[tuple[int, int]],
    ) -> dict[tuple[int, int], int]:
        """Distinct facilities with a received report, per (unit id, bucket index). Counted
        from every facility's report masks, held as arrays once per data version; each result
        is kept too, so a change of indicator does not count them again."""
        visible = self._visible(units, scope)
        cat = self.catalog()
        key = (
            "facilities_reporting",
            tuple(u.id for u in visible),
            ftypes,
            tuple(map(tuple, buckets)),
        )

        def count() -> dict[tuple[int, int], int]:
            masks = cat.memo(("report_masks",), partial(self._reads.report_masks, cat))
            return masks.count(visible, ftypes, buckets)

        return cat.memo(key, count)


def _count_ids(cat: Catalog) -> np.ndarray:
    """The ids of every element a rollup vector may hold (all but populations), ascending."""
    ids = [d.id for d in cat.data_elements.values() if d.kind != "population"]
    return np.array(sorted(ids), dtype=np.int64)


def _cells(value: Any) -> int:
    """Numbers held by a Repository._sums entry (an array, or facility ids and their array)."""
    return sum(a.size for a in value) if isinstance(value, tuple) else int(value.size)
