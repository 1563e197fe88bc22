"""The rollup builders and the vector codec, on hand-made frames: no database."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard.codec import DE_BITS, check_element_ids, decode_vectors, pack_key, unpack_key
from dashboard.rollups import report_masks, reporting_counts, rollup_rows

# Country 1 -> region 2 -> district 3 -> facilities 10 (USF) and 11 (HD).
UNITS = pd.DataFrame(
    [
        (1, 0, None, None, None, None),
        (2, 1, 1, None, 2, None),
        (3, 2, 2, 3, 2, None),
        (10, 3, 3, 3, 2, "USF"),
        (11, 3, 3, 3, 2, "HD"),
    ],
    columns=["id", "level", "parent_id", "district_id", "region_id", "facility_type"],
)


def facts(rows):
    return pd.DataFrame(rows, columns=["org_unit_id", "month", "data_element_id", "value"])


def sums_of(rows: pd.DataFrame) -> dict[tuple, dict[int, float]]:
    rec, row_of = decode_vectors(list(rows.vals))
    out: dict[tuple, dict[int, float]] = {}
    keys = rows[["org_unit_id", "ftype", "grain", "period"]].itertuples(index=False, name=None)
    for i, (unit, ftype, grain, period) in enumerate(keys):
        out[(int(unit), ftype, grain, int(period))] = {
            int(d): float(v) for d, v in rec[row_of == i]
        }
    return out


def test_codec_key_round_trips():
    keys = pack_key([10, 3], [0, 5], [0, 16383], [1, (1 << DE_BITS) - 1])
    unit, ftype, pidx, de = unpack_key(keys)
    assert unit.tolist() == [10, 3]
    assert ftype.tolist() == [0, 5]
    assert pidx.tolist() == [0, 16383]
    assert de.tolist() == [1, (1 << DE_BITS) - 1]


def test_codec_refuses_element_ids_beyond_the_key():
    check_element_ids([0, 1, (1 << DE_BITS) - 1])
    with pytest.raises(ValueError, match="rollup key"):
        check_element_ids([5, 1 << DE_BITS])


def test_rollup_rows_sum_facilities_up_the_tree_per_type_and_grain():
    rows = rollup_rows(
        facts([(10, 202401, 7, 5.0), (10, 202402, 7, 1.0), (11, 202401, 7, 2.0)]), UNITS, None
    )
    got = sums_of(rows)
    assert got[(10, "*", "M", 202401)] == {7: 5.0}
    assert got[(10, "*", "Q", 20241)] == {7: 6.0}
    assert got[(3, "*", "M", 202401)] == {7: 7.0}
    assert got[(3, "USF", "M", 202401)] == {7: 5.0}
    assert got[(3, "HD", "M", 202401)] == {7: 2.0}
    assert got[(1, "*", "Y", 2024)] == {7: 8.0}
    assert (11, "*", "M", 202402) not in got


def test_rollup_rows_count_a_reporting_facility_once_per_quarter():
    rows = rollup_rows(facts([(10, 202401, 9, 1.0), (10, 202402, 9, 1.0)]), UNITS, 9)
    got = sums_of(rows)
    assert got[(10, "*", "Q", 20241)] == {9: 1.0}
    assert got[(2, "*", "M", 202401)] == {9: 1.0}


def test_rollup_rows_put_quarter_and_year_values_only_in_the_grains_that_contain_them():
    spans = pd.DataFrame(
        [(11, 7, "Q", 20243, 30.0), (11, 8, "Y", 2024, 400.0)],
        columns=["org_unit_id", "data_element_id", "grain", "period", "value"],
    )
    rows = rollup_rows(facts([(10, 202408, 7, 5.0)]), UNITS, None, spans)
    got = sums_of(rows)
    # A quarter value: its quarter and its year, never a month.
    assert got[(11, "*", "Q", 20243)] == {7: 30.0}
    assert got[(11, "*", "Y", 2024)] == {7: 30.0, 8: 400.0}
    assert not [k for k in got if k[0] == 11 and k[2] == "M"]
    # A year value: the year only (no quarter row holds element 8).
    assert all(8 not in v for k, v in got.items() if k[2] != "Y")
    # Up the tree with the monthly value of the USF: the HD's spans under its type.
    assert got[(3, "*", "M", 202408)] == {7: 5.0}
    assert got[(3, "*", "Q", 20243)] == {7: 35.0}
    assert got[(1, "HD", "Y", 2024)] == {7: 30.0, 8: 400.0}
    assert got[(1, "*", "Y", 2024)] == {7: 35.0, 8: 400.0}


def test_rollup_rows_refuse_an_element_id_the_key_cannot_hold():
    with pytest.raises(ValueError):
        rollup_rows(facts([(10, 202401, 1 << DE_BITS, 1.0)]), UNITS, None)


def test_reporting_counts_on_time_by_the_15th_of_next_month():
    reports = pd.DataFrame(
        [(10, 202412, date(2025, 1, 15)), (11, 202412, date(2025, 1, 16)), (10, 202411, None)],
        columns=["org_unit_id", "month", "received_on"],
    )
    ids = {"REP_EXPECTED": 1, "REP_RECEIVED": 2, "REP_ONTIME": 3}
    parts, received = reporting_counts(reports, ids)
    total = pd.concat(parts).groupby("data_element_id").value.sum().to_dict()
    assert total == {1: 3.0, 2: 2.0, 3: 1.0}
    assert sorted(map(tuple, received.to_numpy().tolist())) == [(10, 202412), (11, 202412)]
    masks = report_masks(received)
    assert masks.to_dict("records") == [
        {"org_unit_id": 10, "year": 2024, "mask": 1 << 11},
        {"org_unit_id": 11, "year": 2024, "mask": 1 << 11},
    ]


def test_series_rows_hold_each_facilitys_months_by_year_and_tracer():
    from dashboard.rollups import decode_series, series_rows

    ids = {"CONSULTAS": 7, "PENTA3": 8, "OTHER": 9}
    raw = facts(
        [
            (11, 202401, 7, 5.0),
            (10, 202403, 7, 2.0),
            (10, 202412, 7, 4.0),
            (10, 202501, 7, 6.0),
            (10, 202402, 8, 1.0),
            (10, 202402, 9, 99.0),  # not a tracer
            (3, 202401, 7, 50.0),  # a district's own value: not a facility series
        ]
    )
    rows = series_rows(raw, np.array([10, 11]), ids)
    assert list(zip(rows.year, rows.data_element_id, strict=True)) == [
        (2024, 7),
        (2024, 8),
        (2025, 7),
    ]
    fac, vals = decode_series(rows.ids[0], rows.vals[0])
    assert fac.tolist() == [10, 11]
    assert vals.shape == (2, 12)
    assert vals[0, 2] == 2.0 and vals[0, 11] == 4.0 and vals[1, 0] == 5.0
    assert np.isnan(vals).sum() == 24 - 3
    fac, vals = decode_series(rows.ids[2], rows.vals[2])
    assert fac.tolist() == [10] and vals[0, 0] == 6.0
    assert series_rows(raw.iloc[:0], np.array([10]), ids).empty
