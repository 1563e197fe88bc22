"""The only module with SQL: writes of metadata and values, rollup refresh, scoped reads."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.engine import Connection, Engine

from . import db
from .catalog import (
    FACILITY_TYPES,
    Catalog,
    DataElement,
    Expression,
    Indicator,
    OrgUnit,
    Scope,
    Target,
)
from .periods import add_months, pieces

ALL_TYPES = "*"
REPORT_DEADLINE_DAY = 15  # a monthly report is on time if received by the 15th of next month
ROLLUP_FORMAT = "4"  # bump when the rollup vectors change layout: old ones are rebuilt
OUTLIER_Z = 3.5  # modified z-score (Iglewicz and Hoaglin) flagging extreme outliers


@dataclass(frozen=True)
class WriteCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def _ints(values: Iterable[int]) -> str:
    """Comma list of integers for an IN clause; int() makes inlining safe."""
    return ",".join(str(int(v)) for v in values) or "NULL"


class Repository:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._catalog: Catalog | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def ensure_schema(self) -> None:
        """Upgrade the schema; rebuild rollups written in an older layout."""
        db.upgrade(self.engine)
        if self.get_meta("rollup_format") not in (None, ROLLUP_FORMAT):
            self.refresh_rollups()

    # ==== catalog ==========================================================================
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = self._load_catalog()
        return self._catalog

    def invalidate(self) -> None:
        self._catalog = None

    def _load_catalog(self) -> Catalog:
        with self.engine.connect() as conn:
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
        return Catalog(units=units, data_elements=des, indicators=inds, overrides=overrides)

    # ==== metadata writes ===================================================================
    def upsert_org_units(self, rows: Sequence[dict], conn: Connection | None = None) -> WriteCounts:
        """Insert or update org units by code; rows carry 'parent' as a code.

        Rows must come parents first (country, regions, districts, facilities).
        """
        with self._begin(conn) as c:
            existing = {
                r.code: r.id for r in c.execute(select(db.org_unit.c.code, db.org_unit.c.id))
            }
            cols = {col.name for col in db.org_unit.columns} - {
                "id",
                "parent_id",
                "region_id",
                "district_id",
            }
            ins = upd = 0
            for row in rows:
                values = {k: row.get(k) for k in cols if k in row}
                parent = row.get("parent")
                values["parent_id"] = existing[parent] if parent else None
                if row["code"] in existing:
                    c.execute(
                        update(db.org_unit)
                        .where(db.org_unit.c.id == existing[row["code"]])
                        .values(**values)
                    )
                    upd += 1
                else:
                    existing[row["code"]] = c.execute(
                        insert(db.org_unit).values(**values)
                    ).inserted_primary_key[0]
                    ins += 1
            self._denormalise_ancestors(c)
        self.invalidate()
        return WriteCounts(inserted=ins, updated=upd)

    def _denormalise_ancestors(self, c: Connection) -> None:
        rows = c.execute(
            select(db.org_unit.c.id, db.org_unit.c.parent_id, db.org_unit.c.level)
        ).all()
        parent = {r.id: r.parent_id for r in rows}
        level = {r.id: r.level for r in rows}
        updates = []
        for uid in parent:
            region = district = None
            cur: int | None = uid
            while cur is not None:
                if level[cur] == 1:
                    region = cur
                elif level[cur] == 2:
                    district = cur
                cur = parent[cur]
            updates.append({"uid": uid, "r": region, "d": district})
        c.execute(
            update(db.org_unit)
            .where(db.org_unit.c.id == bindparam("uid"))
            .values(region_id=bindparam("r"), district_id=bindparam("d")),
            updates,
        )

    def _upsert_by_code(
        self, table, rows: Sequence[dict], conn: Connection | None = None
    ) -> WriteCounts:
        with self._begin(conn) as c:
            existing = {r.code: r.id for r in c.execute(select(table.c.code, table.c.id))}
            ins = upd = 0
            for row in rows:
                if row["code"] in existing:
                    c.execute(
                        update(table).where(table.c.id == existing[row["code"]]).values(**row)
                    )
                    upd += 1
                else:
                    c.execute(insert(table).values(**row))
                    ins += 1
        self.invalidate()
        return WriteCounts(inserted=ins, updated=upd)

    def upsert_data_elements(
        self, rows: Sequence[dict], conn: Connection | None = None
    ) -> WriteCounts:
        return self._upsert_by_code(db.data_element, rows, conn)

    def upsert_indicators(
        self, rows: Sequence[dict], conn: Connection | None = None
    ) -> WriteCounts:
        return self._upsert_by_code(db.indicator, rows, conn)

    def upsert_populations(
        self, rows: Sequence[dict], conn: Connection | None = None
    ) -> WriteCounts:
        """rows: org_unit_id, data_element_id, year, value."""
        with self._begin(conn) as c:
            current = {
                (r.org_unit_id, r.data_element_id, r.year): r.value
                for r in c.execute(select(db.population))
            }
            new, changed, same = [], [], 0
            for r in rows:
                key = (r["org_unit_id"], r["data_element_id"], r["year"])
                if key not in current:
                    new.append(r)
                elif current[key] != r["value"]:
                    changed.append(r)
                else:
                    same += 1
            if new:
                c.execute(insert(db.population), new)
            for r in changed:
                t = db.population.c
                c.execute(
                    update(db.population)
                    .where(
                        (t.org_unit_id == r["org_unit_id"])
                        & (t.data_element_id == r["data_element_id"])
                        & (t.year == r["year"])
                    )
                    .values(value=r["value"])
                )
        return WriteCounts(len(new), len(changed), same)

    def upsert_targets(self, rows: Sequence[dict], conn: Connection | None = None) -> WriteCounts:
        """rows: indicator_id, org_unit_id (or None), year (or None), target, near, band_low, band_high, source."""
        with self._begin(conn) as c:
            t = db.target_override.c
            ins = upd = 0
            for r in rows:
                cond = (
                    (t.indicator_id == r["indicator_id"])
                    & (
                        t.org_unit_id.is_(None)
                        if r["org_unit_id"] is None
                        else t.org_unit_id == r["org_unit_id"]
                    )
                    & (t.year.is_(None) if r["year"] is None else t.year == r["year"])
                )
                found = c.execute(select(t.id).where(cond)).first()
                if found:
                    c.execute(update(db.target_override).where(t.id == found.id).values(**r))
                    upd += 1
                else:
                    c.execute(insert(db.target_override).values(**r))
                    ins += 1
        self.invalidate()
        return WriteCounts(inserted=ins, updated=upd)

    def set_meta(self, key: str, value: str, conn: Connection | None = None) -> None:
        with self._begin(conn) as c:
            c.execute(delete(db.meta).where(db.meta.c.key == key))
            c.execute(insert(db.meta).values(key=key, value=value))

    def get_meta(self, key: str) -> str | None:
        with self.engine.connect() as c:
            return c.execute(select(db.meta.c.value).where(db.meta.c.key == key)).scalar()

    # ==== data values =======================================================================
    def start_batch(self, source: str, fmt: str, conn: Connection) -> int:
        return conn.execute(
            insert(db.import_batch).values(source=source, format=fmt, imported_at=datetime.now())
        ).inserted_primary_key[0]

    def finish_batch(self, batch_id: int, rows: int, counts: WriteCounts, conn: Connection) -> None:
        conn.execute(
            update(db.import_batch)
            .where(db.import_batch.c.id == batch_id)
            .values(
                rows=rows,
                inserted=counts.inserted,
                updated=counts.updated,
                unchanged=counts.unchanged,
            )
        )

    def diff_values(
        self, frame: pd.DataFrame, conn: Connection | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame, int]:
        """Split incoming values (org_unit_id, data_element_id, month, value) into new, changed
        (with old_value) and the count unchanged, against what the database holds."""
        with self._connect(conn) as c:
            self._load_staging(c, frame)
            new = pd.DataFrame(
                c.execute(
                    text(
                        "SELECT s.org_unit_id, s.data_element_id, s.month, s.value FROM staging_value s "
                        "LEFT JOIN data_value d ON d.org_unit_id = s.org_unit_id AND "
                        "d.data_element_id = s.data_element_id AND d.month = s.month "
                        "WHERE d.org_unit_id IS NULL"
                    )
                ).all(),
                columns=["org_unit_id", "data_element_id", "month", "value"],
            )
            changed = pd.DataFrame(
                c.execute(
                    text(
                        "SELECT s.org_unit_id, s.data_element_id, s.month, s.value, d.value FROM staging_value s "
                        "JOIN data_value d ON d.org_unit_id = s.org_unit_id AND "
                        "d.data_element_id = s.data_element_id AND d.month = s.month "
                        "WHERE d.value <> s.value"
                    )
                ).all(),
                columns=["org_unit_id", "data_element_id", "month", "value", "old_value"],
            )
            c.execute(text("DROP TABLE staging_value"))
        return new, changed, len(frame) - len(new) - len(changed)

    def write_values(self, frame: pd.DataFrame, batch_id: int, conn: Connection) -> WriteCounts:
        """Insert new values, update changed ones (logging old and new), skip identical ones."""
        self._load_staging(conn, frame)
        q = (
            "FROM staging_value s JOIN data_value d ON d.org_unit_id = s.org_unit_id AND "
            "d.data_element_id = s.data_element_id AND d.month = s.month WHERE d.value <> s.value"
        )
        conn.execute(
            text(
                "INSERT INTO value_change (batch_id, org_unit_id, data_element_id, month, old_value, new_value) "
                f"SELECT {int(batch_id)}, s.org_unit_id, s.data_element_id, s.month, d.value, s.value {q}"
            )
        )
        updated = conn.execute(
            text(f"SELECT COUNT(*) FROM value_change WHERE batch_id = {int(batch_id)}")
        ).scalar_one()
        if updated:
            # UPDATE ... FROM (PostgreSQL, SQLite >= 3.33): one join, not a lookup per row.
            conn.execute(
                text(
                    f"UPDATE data_value SET value = s.value, batch_id = {int(batch_id)} "
                    "FROM staging_value s WHERE s.org_unit_id = data_value.org_unit_id "
                    "AND s.data_element_id = data_value.data_element_id "
                    "AND s.month = data_value.month AND s.value <> data_value.value"
                )
            )
        inserted = conn.execute(
            text(
                "INSERT INTO data_value (org_unit_id, data_element_id, month, value, batch_id) "
                f"SELECT s.org_unit_id, s.data_element_id, s.month, s.value, {int(batch_id)} "
                "FROM staging_value s LEFT JOIN data_value d ON d.org_unit_id = s.org_unit_id AND "
                "d.data_element_id = s.data_element_id AND d.month = s.month WHERE d.org_unit_id IS NULL"
            )
        ).rowcount
        conn.execute(text("DROP TABLE staging_value"))
        return WriteCounts(inserted, updated, len(frame) - inserted - updated)

    def bulk_insert_values(self, frame: pd.DataFrame, batch_id: int, conn: Connection) -> None:
        """Fast path for an empty store (the demo build): plain inserts, no diffing."""
        f = frame[["org_unit_id", "data_element_id", "month", "value"]].copy()
        f["batch_id"] = batch_id
        self._copy_rows(conn, "data_value", list(f.columns), f)

    def _load_staging(self, conn: Connection, frame: pd.DataFrame) -> None:
        conn.execute(text("DROP TABLE IF EXISTS staging_value"))
        conn.execute(
            text(
                "CREATE TEMPORARY TABLE staging_value (org_unit_id INTEGER NOT NULL, "
                "data_element_id INTEGER NOT NULL, month INTEGER NOT NULL, value DOUBLE PRECISION NOT NULL, "
                "PRIMARY KEY (org_unit_id, data_element_id, month))"
            )
        )
        cols = ["org_unit_id", "data_element_id", "month", "value"]
        self._copy_rows(conn, "staging_value", cols, frame[cols])
        if self.dialect == "postgresql":
            # A temporary table has no statistics until analysed; without them the planner
            # joins 100,000 staged rows to the store by nested loops.
            conn.execute(text("ANALYZE staging_value"))

    def _copy_rows(
        self, conn: Connection, table: str, columns: list[str], frame: pd.DataFrame
    ) -> None:
        """Bulk load: COPY on PostgreSQL, executemany on SQLite."""
        if frame.empty:
            return
        raw = conn.connection.driver_connection
        if self.dialect == "postgresql":
            blobs = [
                c
                for c in frame.columns
                if frame[c].dtype == object and len(frame) and isinstance(frame[c].iloc[0], bytes)
            ]
            if blobs:
                frame = frame.copy()
                for c in blobs:
                    # COPY text format: bytea as hex, its backslash escaped.
                    frame[c] = ["\\\\x" + b.hex() for b in frame[c]]
            buf = io.StringIO()
            frame.to_csv(buf, index=False, header=False, na_rep="\\N", sep="\t")
            buf.seek(0)
            with (
                raw.cursor() as cur,
                cur.copy(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT text)"
                ) as cp,
            ):
                while chunk := buf.read(1 << 20):
                    cp.write(chunk)
        else:
            marks = ",".join("?" * len(columns))
            cur = raw.cursor()
            cur.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                _python_rows(frame),
            )
            cur.close()

    # ==== reports ===========================================================================
    def ensure_expected_reports(
        self, first_month: int, last_month: int, conn: Connection | None = None
    ) -> None:
        """Every facility active in a month is expected to report for it."""
        with self._begin(conn) as c:
            facilities = c.execute(
                select(db.org_unit.c.id, db.org_unit.c.opened, db.org_unit.c.closed).where(
                    db.org_unit.c.level == 3
                )
            ).all()
            have = {
                (r.org_unit_id, r.month)
                for r in c.execute(
                    select(db.report.c.org_unit_id, db.report.c.month).where(
                        db.report.c.month.between(first_month, last_month)
                    )
                )
            }
            rows = []
            m = first_month
            months = []
            while m <= last_month:
                months.append(m)
                m = add_months(m, 1)
            for f in facilities:
                for m in months:
                    if (f.id, m) in have or not _active(f.opened, f.closed, m):
                        continue
                    rows.append((f.id, m, 1, None))
            if rows:
                self._copy_rows(
                    c,
                    "report",
                    ["org_unit_id", "month", "expected", "received_on"],
                    pd.DataFrame(rows, columns=["org_unit_id", "month", "expected", "received_on"]),
                )

    def mark_received(self, pairs: pd.DataFrame, received_on: date, conn: Connection) -> None:
        """pairs: org_unit_id, month (and optionally received_on) of reports that arrived."""
        pairs = pairs.drop_duplicates(["org_unit_id", "month"]).copy()
        if "received_on" not in pairs:
            pairs["received_on"] = received_on
        have = {
            (r.org_unit_id, r.month): r.received_on
            for r in conn.execute(
                select(db.report.c.org_unit_id, db.report.c.month, db.report.c.received_on).where(
                    db.report.c.org_unit_id.in_([int(x) for x in pairs.org_unit_id.unique()])
                )
            )
        }
        new, fill = [], []
        for uid, month, rec in pairs[["org_unit_id", "month", "received_on"]].itertuples(
            index=False
        ):
            key = (int(uid), int(month))
            if key not in have:
                new.append(
                    {"org_unit_id": key[0], "month": key[1], "expected": 0, "received_on": rec}
                )
            elif have[key] is None:
                fill.append({"u": key[0], "m": key[1], "r": rec})
        if new:
            conn.execute(insert(db.report), new)
        if fill:
            conn.execute(
                update(db.report)
                .where(
                    (db.report.c.org_unit_id == bindparam("u"))
                    & (db.report.c.month == bindparam("m"))
                )
                .values(received_on=bindparam("r")),
                fill,
            )

    def bulk_insert_reports(self, frame: pd.DataFrame, conn: Connection) -> None:
        self._copy_rows(conn, "report", ["org_unit_id", "month", "expected", "received_on"], frame)

    def bulk_insert_populations(self, frame: pd.DataFrame, conn: Connection) -> None:
        self._copy_rows(
            conn, "population", ["org_unit_id", "data_element_id", "year", "value"], frame
        )

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
        import time

        timings: dict[str, float] = {}
        span = None if years is None else sorted({int(y) for y in years})
        with self._begin(conn) as c:
            t0 = time.perf_counter()
            ids = self._de_ids(c)
            kinds = {
                r.id: r.kind
                for r in c.execute(select(db.data_element.c.id, db.data_element.c.kind))
            }
            raw = self._raw_values(c, [i for i, k in kinds.items() if k == "count"], span)
            derived, received = self._derived(c, ids, raw, span)
            self._write_report_mask(c, received, span)
            facts = pd.concat([raw, *derived], ignore_index=True) if derived else raw
            timings["read_and_derive_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            self._write_rollup(c, facts, ids.get("REP_FACILITIES"), span)
            timings["values_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            self._refresh_agg_population(c)
            timings["population_s"] = time.perf_counter() - t0
            first, last = c.execute(text("SELECT MIN(month), MAX(month) FROM data_value")).one()
            self.set_meta("data_first_month", str(first or ""), conn=c)
            self.set_meta("data_last_month", str(last or ""), conn=c)
            self.set_meta("refreshed_at", datetime.now().isoformat(timespec="seconds"), conn=c)
            self.set_meta("rollup_format", ROLLUP_FORMAT, conn=c)
        if self.dialect == "postgresql":
            with self.engine.connect() as c2:
                c2.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        return timings

    def _de_ids(self, c: Connection) -> dict[str, int]:
        return {
            r.code: r.id for r in c.execute(select(db.data_element.c.code, db.data_element.c.id))
        }

    def _raw_values(
        self, c: Connection, count_ids: list[int], years: list[int] | None
    ) -> pd.DataFrame:
        """Raw facility values as columns; read in chunks so a 10x store (17 M values) never
        holds millions of Python tuples at once."""
        cur = c.connection.driver_connection.cursor()
        parts = []
        try:
            cur.execute(
                "SELECT org_unit_id, month, data_element_id, value FROM data_value "
                f"WHERE data_element_id IN ({_ints(count_ids)}){_years_sql('month', years)}"
            )
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
        )

    def _derived(
        self, c: Connection, ids: dict[str, int], raw: pd.DataFrame, years: list[int] | None
    ) -> tuple[list[pd.DataFrame], pd.DataFrame]:
        """Facility-month counts (reports expected, received, on time; values and outliers) and
        the received facility-months themselves."""
        rep = pd.DataFrame(
            c.execute(
                text(
                    "SELECT org_unit_id, month, expected, received_on FROM report "
                    f"WHERE expected = 1{_years_sql('month', years)}"
                )
            ).all(),
            columns=["org_unit_id", "month", "expected", "received_on"],
        )
        parts = []
        if not rep.empty:
            y, m = rep.month // 100, rep.month % 100
            ny, nm = np.where(m == 12, y + 1, y), np.where(m == 12, 1, m + 1)
            deadline = pd.to_datetime(
                pd.DataFrame({"year": ny, "month": nm, "day": REPORT_DEADLINE_DAY})
            ).dt.date
            received = rep.received_on.notna()
            received_on = pd.to_datetime(rep.received_on).dt.date
            ontime = received & (received_on.where(received, date.max) <= deadline)
            for code, mask in (
                ("REP_EXPECTED", slice(None)),
                ("REP_RECEIVED", received),
                ("REP_ONTIME", ontime),
                ("REP_FACILITIES", received),
            ):
                if code in ids:
                    part = rep.loc[mask, ["org_unit_id", "month"]].copy()
                    part["data_element_id"] = ids[code]
                    part["value"] = 1.0
                    parts.append(part)
        if "DQ_VALUES" in ids and len(raw):
            parts.extend(_outlier_counts(raw, ids))
        got = rep.loc[rep.received_on.notna(), ["org_unit_id", "month"]] if not rep.empty else rep
        return [p[["org_unit_id", "month", "data_element_id", "value"]] for p in parts], got

    def _write_report_mask(
        self, c: Connection, received: pd.DataFrame, years: list[int] | None
    ) -> None:
        if years is None:
            c.execute(delete(db.report_mask))
        else:
            c.execute(delete(db.report_mask).where(db.report_mask.c.year.in_(years)))
        if received.empty:
            return
        bits = np.left_shift(1, (received.month % 100 - 1).to_numpy(np.int64))
        # Each facility-month occurs once, so the sum of its month bits is their OR.
        masks = (
            pd.DataFrame(
                {
                    "org_unit_id": received.org_unit_id.to_numpy(np.int64),
                    "year": (received.month // 100).to_numpy(np.int64),
                    "mask": bits,
                }
            )
            .groupby(["org_unit_id", "year"], as_index=False)["mask"]
            .sum()
        )
        self._copy_rows(c, "report_mask", ["org_unit_id", "year", "mask"], masks)

    def _write_rollup(
        self,
        c: Connection,
        facts: pd.DataFrame,
        rep_facilities: int | None,
        years: list[int] | None,
    ) -> None:
        if years is None:
            c.execute(delete(db.rollup))
        else:
            # Ranges on (grain, period) so the index finds the rows: no scan of every vector.
            for y in years:
                for grain, lo, hi in (
                    ("Y", y, y),
                    ("Q", y * 10 + 1, y * 10 + 4),
                    ("M", y * 100 + 1, y * 100 + 12),
                ):
                    c.execute(
                        text(
                            f"DELETE FROM rollup WHERE grain = '{grain}' "
                            f"AND period BETWEEN {int(lo)} AND {int(hi)}"
                        )
                    )
        units = c.execute(
            select(
                db.org_unit.c.id,
                db.org_unit.c.level,
                db.org_unit.c.district_id,
                db.org_unit.c.region_id,
                db.org_unit.c.facility_type,
            )
        ).all()
        country = [u.id for u in units if u.level == 0]
        if facts.empty or not country:
            return
        # Lookup arrays by org-unit id: district, region and type code of each facility.
        size = max(u.id for u in units) + 1
        district = np.full(size, -1, dtype=np.int64)
        region = np.full(size, -1, dtype=np.int64)
        tcode = np.zeros(size, dtype=np.int64)
        for u in units:
            if u.level == 3 and u.district_id is not None:
                district[u.id] = u.district_id
                region[u.id] = u.region_id
                tcode[u.id] = TYPE_CODES.get(u.facility_type or "", 0)
        org = facts.org_unit_id.to_numpy(np.int64)
        keep = (org < size) & (district[np.minimum(org, size - 1)] >= 0)
        org, month = org[keep], facts.month.to_numpy(np.int64)[keep]
        de, value = (
            facts.data_element_id.to_numpy(np.int64)[keep],
            facts.value.to_numpy(float)[keep],
        )

        periods: list[tuple[str, int]] = []
        chunks: list[tuple[np.ndarray, np.ndarray]] = []
        for grain, period in (
            ("M", month),
            ("Q", (month // 100) * 10 + (month % 100 + 2) // 3),
            ("Y", month // 100),
        ):
            uniq, pidx = np.unique(period, return_inverse=True)
            base = len(periods)
            periods += [(grain, int(p)) for p in uniq]
            pidx = pidx + base
            # Facility level first: it is what the district, region and country rows add up.
            keys, sums = _sum_by(_key(org, 0, pidx, de), value)
            f_org, _, f_p, f_de = _unkey(keys)
            if rep_facilities is not None and grain != "M":
                # "Facilities reporting" over a quarter or year counts each facility once.
                sums = np.where(f_de == rep_facilities, np.minimum(sums, 1.0), sums)
            chunks.append((keys, sums))
            f_t = tcode[f_org]
            for parent in (district[f_org], region[f_org], np.full(len(f_org), country[0])):
                chunks.append(_sum_by(_key(parent, f_t, f_p, f_de), sums))
                chunks.append(_sum_by(_key(parent, 0, f_p, f_de), sums))
        keys = np.concatenate([k for k, _ in chunks])
        sums = np.concatenate([s for _, s in chunks])
        # Each chunk is sorted and groups never span chunks (unit ids are unique).
        group = keys >> DE_BITS
        change = np.flatnonzero(group[1:] != group[:-1]) + 1
        starts = np.concatenate([[0], change])
        ends = np.concatenate([change, [len(keys)]])
        rec = np.empty(len(keys), dtype=VECTOR)
        rec["id"] = keys & ((1 << DE_BITS) - 1)
        rec["v"] = sums
        buf = rec.tobytes()
        size_ = VECTOR.itemsize
        g_unit, g_type, g_p, _ = _unkey(keys[starts])
        grains = np.array([g for g, _ in periods], dtype=object)
        pvals = np.array([p for _, p in periods], dtype=np.int64)
        rows = pd.DataFrame(
            {
                "org_unit_id": g_unit,
                "ftype": np.array(TYPE_NAMES, dtype=object)[g_type],
                "grain": grains[g_p],
                "period": pvals[g_p],
                "vals": [buf[a * size_ : b * size_] for a, b in zip(starts, ends, strict=True)],
            }
        )
        self._copy_rows(c, "rollup", ["org_unit_id", "ftype", "grain", "period", "vals"], rows)

    def _refresh_agg_population(self, c: Connection) -> None:
        c.execute(delete(db.agg_population))
        units = pd.DataFrame(
            c.execute(
                select(
                    db.org_unit.c.id,
                    db.org_unit.c.level,
                    db.org_unit.c.parent_id,
                    db.org_unit.c.facility_type,
                )
            ).all(),
            columns=["id", "level", "parent_id", "facility_type"],
        ).set_index("id")
        pop = pd.DataFrame(
            c.execute(select(db.population)).all(),
            columns=["org_unit_id", "data_element_id", "year", "value"],
        )
        if pop.empty:
            return
        key = ["org_unit_id", "data_element_id", "year"]
        pop = pop.join(units, on="org_unit_id")
        out = []
        # Typed rows: catchment populations of facilities of each type, summed up the tree.
        typed = pop[pop.level == 3].copy()
        typed["ftype"] = typed.facility_type
        cur = typed[key + ["ftype", "value"]]
        out.append(cur)
        for _ in (2, 1, 0):
            cur = cur.join(units.parent_id, on="org_unit_id").dropna(subset=["parent_id"])
            cur = (
                cur.assign(org_unit_id=cur.parent_id.astype(int))
                .groupby(key + ["ftype"], as_index=False)["value"]
                .sum()
            )
            out.append(cur)
        # All types: a unit's own figure (census) wins; else the sum of its children's.
        own = pop[key + ["value"]].set_index(key)["value"]
        resolved = own[own.index.get_level_values(0).isin(units.index[units.level == 3])]
        all_rows = [resolved]
        for level in (2, 1, 0):
            child = (
                resolved.reset_index()
                .join(units.parent_id, on="org_unit_id")
                .dropna(subset=["parent_id"])
            )
            child = (
                child.assign(org_unit_id=child.parent_id.astype(int)).groupby(key)["value"].sum()
            )
            mine = own[own.index.get_level_values(0).isin(units.index[units.level == level])]
            resolved = pd.concat([mine, child[~child.index.isin(mine.index)]])
            all_rows.append(resolved)
        total = pd.concat(all_rows).reset_index().assign(ftype=ALL_TYPES)
        out.append(total[key + ["ftype", "value"]])
        frame = pd.concat(out, ignore_index=True)[
            ["org_unit_id", "data_element_id", "ftype", "year", "value"]
        ]
        frame["org_unit_id"] = frame.org_unit_id.astype(int)
        self._copy_rows(c, "agg_population", list(frame.columns), frame)

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
        out = np.full((len(units), len(buckets), len(de_ids)), np.nan)
        visible = self._visible(units, scope)
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
        periods_sql = " OR ".join(
            f"(grain = '{g}' AND period IN ({_ints(sorted(ps))}))" for g, ps in by_grain.items()
        )
        facilities = [u.id for u in visible if u.level == 3]
        aggregates = [u.id for u in visible if u.level < 3]
        types = (ALL_TYPES,) if ftypes is None else tuple(t for t in ftypes if t in FACILITY_TYPES)
        queries = []
        if facilities:
            queries.append((facilities, (ALL_TYPES,)))
        if aggregates and types:
            queries.append((aggregates, types))
        for ids, tps in queries:
            rows = self._fetch(
                "SELECT org_unit_id, grain, period, vals FROM rollup "
                f"WHERE org_unit_id IN ({_ints(ids)}) "
                f"AND ftype IN ({','.join(repr(t) for t in tps)}) AND ({periods_sql})"
            )
            if not rows:
                continue
            rec, row_of = decode_vectors([r[3] for r in rows])
            ids_ok = rec["id"] < len(col)
            k = np.where(ids_ok, col[np.minimum(rec["id"], len(col) - 1)], -1)
            keep = k >= 0
            unit_of_row = np.array([pos[r[0]] for r in rows])
            # A piece may serve several buckets (overlapping periods): one scatter per use.
            uses = [(i, b) for i, r in enumerate(rows) for b in where_piece[(r[1], r[2])]]
            use_row = np.array([i for i, _ in uses])
            use_bucket = np.array([b for _, b in uses])
            first_use = np.searchsorted(use_row, np.arange(len(rows)))
            n_uses = np.bincount(use_row, minlength=len(rows))
            sel = np.flatnonzero(keep)
            reps = n_uses[row_of[sel]]
            rec_idx = np.repeat(sel, reps)
            offsets = np.arange(len(rec_idx)) - np.repeat(np.cumsum(reps) - reps, reps)
            use_idx = first_use[row_of[rec_idx]] + offsets
            flat = np.zeros(out.size)
            seen = np.zeros(out.size, dtype=bool)
            target = np.ravel_multi_index(
                (unit_of_row[row_of[rec_idx]], use_bucket[use_idx], k[rec_idx]), out.shape
            )
            np.add.at(flat, target, rec["v"][rec_idx])
            seen[target] = True
            view = out.reshape(-1)
            view[seen] = np.where(np.isnan(view[seen]), 0.0, view[seen]) + flat[seen]
        return out

    def _fetch(self, sql: str) -> list[tuple]:
        """Run a read on the driver's cursor: many small rows cost far less than through Result.

        Only for SQL built here from integers and validated codes (no user text)."""
        with self.engine.connect() as c:
            cur = c.connection.driver_connection.cursor()
            try:
                cur.execute(sql)
                return cur.fetchall()
            finally:
                cur.close()

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
        units = self._visible(units, scope)
        if not units or not de_ids:
            return np.empty((0, 4))
        types = [ALL_TYPES] if ftypes is None else [t for t in ftypes if t in FACILITY_TYPES]
        facility_ids = [u.id for u in units if u.level == 3]
        aggregate_ids = [u.id for u in units if u.level < 3]
        year_sql = f" AND year IN ({_ints(years)})" if years is not None else ""
        base = (
            "SELECT org_unit_id, data_element_id, year, SUM(value) FROM agg_population "
            f"WHERE data_element_id IN ({_ints(de_ids)}){year_sql} AND "
        )
        rows: list[tuple] = []
        if facility_ids:
            # A facility's figure is its own catchment: read it from the (compact) population
            # table, one row per key, rather than summing the rollup.
            rows += self._fetch(
                "SELECT org_unit_id, data_element_id, year, value FROM population "
                f"WHERE org_unit_id IN ({_ints(facility_ids)}) AND data_element_id IN ({_ints(de_ids)})"
                + year_sql
            )
        if aggregate_ids and types:
            rows += self._fetch(
                base + f"org_unit_id IN ({_ints(aggregate_ids)}) "
                f"AND ftype IN ({','.join(repr(t) for t in types)}) "
                "GROUP BY org_unit_id, data_element_id, year"
            )
        return np.array(rows, dtype=float).reshape(-1, 4)

    def facilities_reporting(
        self,
        scope: Scope,
        units: Sequence[OrgUnit],
        ftypes: tuple[str, ...] | None,
        buckets: Sequence[tuple[int, int]],
    ) -> dict[tuple[int, int], int]:
        """Distinct facilities with a received report, per (unit id, bucket index)."""
        units = self._visible(units, scope)
        out: dict[tuple[int, int], int] = {}
        if not units or not buckets:
            return out
        col = {0: "0", 1: "o.region_id", 2: "o.district_id", 3: "o.id"}
        type_sql = ""
        if ftypes is not None:
            type_sql = (
                " AND o.facility_type IN ("
                + ",".join(f"'{t}'" for t in ftypes if t in FACILITY_TYPES)
                + ")"
            )
        for level in sorted({u.level for u in units}):
            ids = [u.id for u in units if u.level == level]
            unit_filter = f" AND {col[level]} IN ({_ints(ids)})" if level else ""
            for i, (start, end) in enumerate(buckets):
                spans = " OR ".join(
                    f"(m.year = {y} AND (m.mask & {bits}) <> 0)"
                    for y, bits in _month_bits(start, end)
                )
                sql = (
                    f"SELECT {col[level]} AS k, COUNT(*) FROM report_mask m "
                    f"JOIN org_unit o ON o.id = m.org_unit_id WHERE ({spans}){unit_filter}{type_sql}"
                    + (f" GROUP BY {col[level]}" if level else "")
                )
                # A facility has one mask a year: count facilities, not (facility, year) pairs.
                if len(_month_bits(start, end)) > 1:
                    sql = (
                        f"SELECT k, COUNT(DISTINCT f) FROM (SELECT {col[level]} AS k, m.org_unit_id AS f "
                        f"FROM report_mask m JOIN org_unit o ON o.id = m.org_unit_id WHERE ({spans})"
                        f"{unit_filter}{type_sql}) x GROUP BY k"
                    )
                for k, n in self._fetch(sql):
                    out[(ids[0] if level == 0 else k, i)] = n
        return out

    def data_months(self) -> tuple[int | None, int | None]:
        with self.engine.connect() as c:
            row = c.execute(text("SELECT MIN(month), MAX(month) FROM data_value")).one()
        return row[0], row[1]

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as c:
            return {
                t: c.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                for t in (
                    "org_unit",
                    "data_value",
                    "report",
                    "agg_value",
                    "population",
                    "indicator",
                )
            }

    # ==== helpers ===========================================================================
    def _begin(self, conn: Connection | None):
        return _Nested(conn) if conn is not None else self.engine.begin()

    def _connect(self, conn: Connection | None):
        return _Nested(conn) if conn is not None else self.engine.begin()


class _Nested:
    """Context manager that reuses a caller's connection (their transaction decides)."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(self, *exc) -> None:
        return None


def _python_rows(frame: pd.DataFrame):
    cols = []
    for name in frame.columns:
        s = frame[name]
        if s.dtype.kind in "iu":
            cols.append(s.astype(object).map(int).tolist())
        elif s.dtype.kind == "f":
            cols.append([None if v != v else float(v) for v in s.tolist()])
        else:
            cols.append(
                [
                    None if (v is None or (isinstance(v, float) and v != v)) else v
                    for v in s.tolist()
                ]
            )
    return list(zip(*cols, strict=True))


def _active(opened: date | None, closed: date | None, month: int) -> bool:
    first = date(month // 100, month % 100, 1)
    if opened and opened > date(month // 100, month % 100, 28):
        return False
    return not (closed and closed < first)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= add_months(out[-1][1], 1):
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _disjoint_groups(buckets: Sequence[tuple[int, int]]) -> list[list[int]]:
    """Bucket indexes split into groups whose spans do not overlap (one SQL query each)."""
    groups: list[list[int]] = []
    for i in sorted(range(len(buckets)), key=lambda i: buckets[i]):
        for g in groups:
            if all(buckets[i][0] > buckets[j][1] or buckets[i][1] < buckets[j][0] for j in g):
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


# One record per data element present: (element id, Σ value). Packed, so the blobs of many
# rows joined together are one array that numpy reads without a Python loop.
VECTOR = np.dtype([("id", "<u2"), ("v", "<f8")])


def encode_vector(ids: np.ndarray, vals: np.ndarray) -> bytes:
    rec = np.empty(len(ids), dtype=VECTOR)
    rec["id"] = ids
    rec["v"] = vals
    return rec.tobytes()


def decode_vectors(blobs: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """All records of many blobs, and for each record the index of the blob it came from."""
    joined = b"".join(bytes(b) for b in blobs)
    rec = np.frombuffer(joined, dtype=VECTOR)
    lengths = np.fromiter(
        (len(b) // VECTOR.itemsize for b in blobs), dtype=np.int64, count=len(blobs)
    )
    return rec, np.repeat(np.arange(len(blobs)), lengths)


def _outlier_counts(raw: pd.DataFrame, ids: dict[str, int]) -> list[pd.DataFrame]:
    """Per facility-month: values reported and extreme outliers: modified z-score (Iglewicz and
    Hoaglin) of each facility × element series within a calendar year, as the WHO data-quality
    tool's annual review flags them. Within a year, so a year's rollup depends on that year only."""
    vals = raw
    year = vals.month // 100
    g = vals.groupby([vals.org_unit_id, vals.data_element_id, year])["value"]
    med = g.transform("median")
    dev = (vals.value - med).abs()
    mad = dev.groupby([vals.org_unit_id, vals.data_element_id, year]).transform("median")
    # Series of at least 6 values only; a flat series (MAD 0) flags nothing.
    n = g.transform("size")
    z = 0.6745 * dev / mad.where(mad > 0)
    out_flag = ((z >= OUTLIER_Z) & (n >= 6)).astype(float)
    per = (
        pd.DataFrame({"org_unit_id": vals.org_unit_id, "month": vals.month, "out": out_flag})
        .groupby(["org_unit_id", "month"])
        .agg(values=("out", "size"), outliers=("out", "sum"))
        .reset_index()
    )
    out = [
        per[["org_unit_id", "month"]].assign(
            data_element_id=ids["DQ_VALUES"], value=per["values"].astype(float)
        )
    ]
    if "DQ_OUTLIERS" in ids:
        out.append(
            per[["org_unit_id", "month"]].assign(
                data_element_id=ids["DQ_OUTLIERS"], value=per["outliers"]
            )
        )
    return out


# Composite integer keys for the rollup: unit | type | period index | data element.
DE_BITS, PERIOD_BITS, TYPE_BITS = 12, 14, 4
TYPE_NAMES = [ALL_TYPES, *FACILITY_TYPES]
TYPE_CODES = {t: i for i, t in enumerate(TYPE_NAMES)}


def _key(unit, ftype, pidx, de) -> np.ndarray:
    k = np.asarray(unit, dtype=np.int64) << TYPE_BITS | np.asarray(ftype, dtype=np.int64)
    k = k << PERIOD_BITS | np.asarray(pidx, dtype=np.int64)
    return k << DE_BITS | np.asarray(de, dtype=np.int64)


def _unkey(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    de = keys & ((1 << DE_BITS) - 1)
    rest = keys >> DE_BITS
    pidx = rest & ((1 << PERIOD_BITS) - 1)
    rest = rest >> PERIOD_BITS
    return rest >> TYPE_BITS, rest & ((1 << TYPE_BITS) - 1), pidx, de


def _sum_by(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum values per key; keys come back sorted."""
    s = pd.Series(values).groupby(keys, sort=True).sum()
    return s.index.to_numpy(np.int64), s.to_numpy(float)


def _years_sql(column: str, years: list[int] | None) -> str:
    if years is None:
        return ""
    return f" AND {column} / 100 IN ({_ints(years)})"


def _month_bits(start: int, end: int) -> list[tuple[int, int]]:
    """(year, bit mask of the months of [start, end] in that year) for each year touched."""
    out: dict[int, int] = {}
    m = start
    while m <= end:
        out[m // 100] = out.get(m // 100, 0) | (1 << (m % 100 - 1))
        m = add_months(m, 1)
    return sorted(out.items())
