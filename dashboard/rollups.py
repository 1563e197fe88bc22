"""Pure rollup builders: raw facility facts in, the frames the rollup tables hold out (no I/O)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .codec import (
    ALL_TYPES,
    TYPE_CODES,
    TYPE_NAMES,
    check_element_ids,
    encode_groups,
    pack_key,
    unpack_key,
)

REPORT_DEADLINE_DAY = 15  # a monthly report is on time if received by the 15th of next month
# Modified z-score (Iglewicz and Hoaglin) flagging outliers: 3.5 is the WHO data-quality app's
# moderate outlier (dhis2/who-data-quality-app c3fac52, appServiceDataAnalysis.js outlierGap:
# criteria.moderate.z = 3.5; extreme: 5). The quality marks (dashboard.quality) use these counts.
OUTLIER_Z = 3.5
# The data-quality review's tracers (WHO DQR: antenatal first visits, third pentavalent doses,
# deliveries, outpatient visits): their monthly series per facility are kept as dq_series.
TRACERS = ("CPN_1", "PENTA3", "PARTOS", "CONSULTAS")
SERIES_COLUMNS = ["year", "data_element_id", "ids", "vals"]
FACT_COLUMNS = ["org_unit_id", "month", "data_element_id", "value"]
ROLLUP_COLUMNS = ["org_unit_id", "ftype", "grain", "period", "vals"]


def reporting_counts(
    reports: pd.DataFrame, ids: dict[str, int]
) -> tuple[list[pd.DataFrame], pd.DataFrame]:
    """Facility-month facts REP_EXPECTED, REP_RECEIVED, REP_ONTIME and REP_FACILITIES from the
    expected reports (org_unit_id, month, received_on), and the received facility-months."""
    parts = []
    if reports.empty:
        return [], reports[["org_unit_id", "month"]]
    y, m = reports.month // 100, reports.month % 100
    ny, nm = np.where(m == 12, y + 1, y), np.where(m == 12, 1, m + 1)
    deadline = pd.to_datetime(
        pd.DataFrame({"year": ny, "month": nm, "day": REPORT_DEADLINE_DAY})
    ).dt.date
    received = reports.received_on.notna()
    received_on = pd.to_datetime(reports.received_on).dt.date
    ontime = received & (received_on.where(received, date.max) <= deadline)
    for code, mask in (
        ("REP_EXPECTED", slice(None)),
        ("REP_RECEIVED", received),
        ("REP_ONTIME", ontime),
        ("REP_FACILITIES", received),
    ):
        if code in ids:
            part = reports.loc[mask, ["org_unit_id", "month"]].copy()
            part["data_element_id"] = ids[code]
            part["value"] = 1.0
            parts.append(part[FACT_COLUMNS])
    return parts, reports.loc[received, ["org_unit_id", "month"]]


def outlier_counts(raw: pd.DataFrame, ids: dict[str, int]) -> list[pd.DataFrame]:
    """Per facility-month: values reported (DQ_VALUES) and extreme outliers (DQ_OUTLIERS):
    modified z-score (Iglewicz and Hoaglin) of each facility × element series within a calendar
    year, as the WHO data-quality tool's annual review flags them. Within a year, so a year's
    rollup depends on that year only."""
    if "DQ_VALUES" not in ids or raw.empty:
        return []
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
        )[FACT_COLUMNS]
    ]
    if "DQ_OUTLIERS" in ids:
        out.append(
            per[["org_unit_id", "month"]].assign(
                data_element_id=ids["DQ_OUTLIERS"], value=per["outliers"]
            )[FACT_COLUMNS]
        )
    return out


def series_rows(raw: pd.DataFrame, facility_ids: np.ndarray, ids: dict[str, int]) -> pd.DataFrame:
    """dq_series rows: per calendar year and tracer, the facilities with a value that year
    (ascending ids, int64 bytes) and their 12 monthly values (float64 bytes, row-major, NaN
    where none)."""
    tracer_ids = [ids[c] for c in TRACERS if c in ids]
    sel = raw[raw.data_element_id.isin(tracer_ids) & raw.org_unit_id.isin(facility_ids)]
    rows = []
    for (year, de), g in sel.groupby([sel.month // 100, sel.data_element_id], sort=True):
        fac, row = np.unique(g.org_unit_id.to_numpy(np.int64), return_inverse=True)
        vals = np.full((len(fac), 12), np.nan)
        vals[row, g.month.to_numpy(np.int64) % 100 - 1] = g.value.to_numpy(float)
        rows.append((int(year), int(de), fac.astype("<i8").tobytes(), vals.astype("<f8").tobytes()))
    return pd.DataFrame(rows, columns=SERIES_COLUMNS)


def decode_series(ids: bytes, vals: bytes) -> tuple[np.ndarray, np.ndarray]:
    """A dq_series row's facility ids and their (facilities, 12) monthly values."""
    fac = np.frombuffer(ids, dtype="<i8")
    return fac, np.frombuffer(vals, dtype="<f8").reshape(len(fac), 12)


def report_masks(received: pd.DataFrame) -> pd.DataFrame:
    """(org_unit_id, year, mask): the months with a received report as 12 bits (January = 1)."""
    bits = np.left_shift(1, (received.month % 100 - 1).to_numpy(np.int64))
    # Each facility-month occurs once, so the sum of its month bits is their OR.
    return (
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


def _sum_by(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum values per key; keys come back sorted."""
    s = pd.Series(values).groupby(keys, sort=True).sum()
    return s.index.to_numpy(np.int64), s.to_numpy(float)


def _with_spans(facts: pd.DataFrame, spans: pd.DataFrame | None) -> tuple[pd.DataFrame, np.ndarray]:
    """Facts and quarter/year values as one frame of facts (a span at its first month), and the
    smallest grain each may enter: 0 month, 1 quarter, 2 year."""
    if spans is None or spans.empty:
        return facts, np.zeros(len(facts), dtype=np.int8)
    period = spans.period.to_numpy(np.int64)
    quarter = (spans.grain == "Q").to_numpy()
    first = np.where(quarter, (period // 10) * 100 + (period % 10) * 3 - 2, period * 100 + 1)
    extra = pd.DataFrame(
        {
            "org_unit_id": spans.org_unit_id.to_numpy(np.int64),
            "month": first,
            "data_element_id": spans.data_element_id.to_numpy(np.int64),
            "value": spans.value.to_numpy(float),
        }
    )
    both = pd.concat([facts[FACT_COLUMNS], extra], ignore_index=True)
    level = np.concatenate([np.zeros(len(facts), np.int8), np.where(quarter, 1, 2).astype(np.int8)])
    return both, level


def rollup_rows(
    facts: pd.DataFrame,
    units: pd.DataFrame,
    rep_facilities: int | None,
    spans: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The rollup table's rows (org_unit_id, ftype, grain, period, vals) for facility facts
    (org_unit_id, month, data_element_id, value).

    units: id, level, district_id, region_id, facility_type of every org unit. Facilities get
    one row per period; districts, regions and the country one per facility type and one for
    all types. Grains: months, quarters, years. spans: facility values reported for a whole
    quarter or year (org_unit_id, data_element_id, grain 'Q'|'Y', period 20253|2025, value):
    a quarter's enters its quarter and year rows, a year's its year row, never a month's."""
    country = units.id[units.level == 0].tolist()
    facts, min_grain = _with_spans(facts, spans)
    if facts.empty or not country:
        return pd.DataFrame(columns=ROLLUP_COLUMNS)
    check_element_ids(facts.data_element_id.unique())
    # Lookup arrays by org-unit id: district, region and type code of each facility.
    size = int(units.id.max()) + 1
    district = np.full(size, -1, dtype=np.int64)
    region = np.full(size, -1, dtype=np.int64)
    tcode = np.zeros(size, dtype=np.int64)
    fac = units[(units.level == 3) & units.district_id.notna()]
    ids = fac.id.to_numpy(np.int64)
    district[ids] = fac.district_id.to_numpy(np.int64)
    region[ids] = fac.region_id.to_numpy(np.int64)
    tcode[ids] = [TYPE_CODES.get(t or "", 0) for t in fac.facility_type]
    org = facts.org_unit_id.to_numpy(np.int64)
    keep = (org < size) & (district[np.minimum(org, size - 1)] >= 0)
    org, month = org[keep], facts.month.to_numpy(np.int64)[keep]
    de = facts.data_element_id.to_numpy(np.int64)[keep]
    value = facts.value.to_numpy(float)[keep]
    min_grain = min_grain[keep]
    if not len(org):
        return pd.DataFrame(columns=ROLLUP_COLUMNS)

    periods: list[tuple[str, int]] = []
    chunks: list[tuple[np.ndarray, np.ndarray]] = []
    spanned = bool(min_grain.any())
    for g, (grain, period) in enumerate(
        (
            ("M", month),
            ("Q", (month // 100) * 10 + (month % 100 + 2) // 3),
            ("Y", month // 100),
        )
    ):
        g_org, g_de, g_value = org, de, value
        if spanned:
            sel = min_grain <= g
            period, g_org, g_de, g_value = period[sel], org[sel], de[sel], value[sel]
            if not len(period):
                continue
        uniq, pidx = np.unique(period, return_inverse=True)
        base = len(periods)
        periods += [(grain, int(p)) for p in uniq]
        pidx = pidx + base
        # Facility level first: it is what the district, region and country rows add up.
        keys, sums = _sum_by(pack_key(g_org, 0, pidx, g_de), g_value)
        f_org, _, f_p, f_de = unpack_key(keys)
        if rep_facilities is not None and grain != "M":
            # "Facilities reporting" over a quarter or year counts each facility once.
            sums = np.where(f_de == rep_facilities, np.minimum(sums, 1.0), sums)
        chunks.append((keys, sums))
        f_t = tcode[f_org]
        for parent in (district[f_org], region[f_org], np.full(len(f_org), country[0])):
            chunks.append(_sum_by(pack_key(parent, f_t, f_p, f_de), sums))
            chunks.append(_sum_by(pack_key(parent, 0, f_p, f_de), sums))
    # Each chunk is sorted and groups never span chunks (unit ids are unique).
    first, blobs = encode_groups(
        np.concatenate([k for k, _ in chunks]), np.concatenate([s for _, s in chunks])
    )
    g_unit, g_type, g_p, _ = unpack_key(first)
    grains = np.array([g for g, _ in periods], dtype=object)
    pvals = np.array([p for _, p in periods], dtype=np.int64)
    return pd.DataFrame(
        {
            "org_unit_id": g_unit,
            "ftype": np.array(TYPE_NAMES, dtype=object)[g_type],
            "grain": grains[g_p],
            "period": pvals[g_p],
            "vals": blobs,
        }
    )


POPULATION_RULES = ("parts", "own")


def population_rows(units: pd.DataFrame, pop: pd.DataFrame, rule: str = "parts") -> pd.DataFrame:
    """The agg_population rows (org_unit_id, data_element_id, ftype, year, value, estimated).

    units: indexed by id, with level, parent_id, facility_type. pop: the population table
    (org_unit_id, data_element_id, year, value[, estimated]). Typed rows sum facility catchments
    up the tree. All-types rows of a district take its own figure (census) when it has one, else
    the sum of its facilities' catchments (they do not partition a district). A region or the
    country takes the sum of its children's figures when every child has one (rule "parts", the
    default: a table's total then equals the sum of its rows), else its own figure; rule "own"
    lets a unit's own figure win wherever it has one. `estimated` is 1 when any figure the
    value rests on was estimated."""
    columns = ["org_unit_id", "data_element_id", "ftype", "year", "value", "estimated"]
    if pop.empty:
        return pd.DataFrame(columns=columns)
    if "estimated" not in pop.columns:
        pop = pop.assign(estimated=0)
    pop = pop.assign(estimated=pop.estimated.fillna(0).astype(int))
    key = ["org_unit_id", "data_element_id", "year"]
    pop = pop.join(units, on="org_unit_id")
    agg = {"value": "sum", "estimated": "max"}
    out = []
    typed = pop[pop.level == 3].copy()
    typed["ftype"] = typed.facility_type
    cur = typed[key + ["ftype", "value", "estimated"]]
    out.append(cur)
    for _ in (2, 1, 0):
        cur = cur.join(units.parent_id, on="org_unit_id").dropna(subset=["parent_id"])
        cur = (
            cur.assign(org_unit_id=cur.parent_id.astype(int))
            .groupby(key + ["ftype"], as_index=False)
            .agg(agg)
        )
        out.append(cur)
    # `whole`: the figure covers the whole unit (its own, or the sum of whole children), as
    # a sum of facility catchments does not.
    own = pop[key + ["value", "estimated"]].set_index(key).assign(whole=1)
    children = units.groupby("parent_id").size()
    resolved = own[own.index.get_level_values(0).isin(units.index[units.level == 3])]
    all_rows = [resolved]
    for level in (2, 1, 0):
        child = (
            resolved.reset_index()
            .join(units.parent_id, on="org_unit_id")
            .dropna(subset=["parent_id"])
        )
        child = child.assign(org_unit_id=child.parent_id.astype(int)).groupby(key)
        child = child.agg({**agg, "whole": "sum"})
        n_children = children.reindex(child.index.get_level_values(0)).to_numpy()
        complete = (child.whole.to_numpy() == n_children) & (level < 2)
        child = child.assign(whole=complete.astype(int))
        mine = own[own.index.get_level_values(0).isin(units.index[units.level == level])]
        parts = child[complete] if rule == "parts" else child.iloc[:0]
        # Parts that add up to the unit's own figure (to rounding) only split an official
        # total: they are as estimated as that total, not more.
        agree = mine.reindex(parts.index)
        n = children.reindex(parts.index.get_level_values(0)).to_numpy()
        same = ((agree.value - parts.value).abs() <= 0.5 * n + 0.5).to_numpy()
        parts = parts.assign(
            estimated=np.where(same, agree.estimated.fillna(0), parts.estimated).astype(int)
        )
        rest = child[~child.index.isin(parts.index)]
        mine = mine[~mine.index.isin(parts.index)]
        resolved = pd.concat([parts, mine, rest[~rest.index.isin(mine.index)]])
        all_rows.append(resolved)
    total = pd.concat(all_rows).reset_index().assign(ftype=ALL_TYPES)
    out.append(total[key + ["ftype", "value", "estimated"]])
    frame = pd.concat(out, ignore_index=True)[columns]
    frame["org_unit_id"] = frame.org_unit_id.astype(int)
    frame["estimated"] = frame.estimated.astype(int)
    return frame


def population_conflicts(
    units: pd.DataFrame, pop: pd.DataFrame, tolerance: float = 0.5
) -> pd.DataFrame:
    """Regions and the country whose own figure differs from the sum of their children's
    (every child having a whole figure): org_unit_id, data_element_id, year, own, parts."""
    columns = ["org_unit_id", "data_element_id", "year", "own", "parts"]
    if pop.empty:
        return pd.DataFrame(columns=columns)
    key = ["org_unit_id", "data_element_id", "year"]
    rows = population_rows(units, pop[key + ["value"]], "parts")
    parts = rows[rows.ftype == ALL_TYPES].set_index(key)["value"].rename("parts")
    own = pop.set_index(key)["value"].rename("own")
    own = own[own.index.get_level_values(0).isin(units.index[units.level < 2])]
    both = pd.concat([own, parts], axis=1, join="inner")
    both = both[(both.own - both.parts).abs() > tolerance]
    return both.reset_index()[columns]
