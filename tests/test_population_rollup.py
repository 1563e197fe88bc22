"""The population rollup: which figure a unit gets, what is estimated, and the conflicts an
import warns about, on hand-made frames (no database)."""

import pandas as pd

from dashboard.rollups import population_conflicts, population_rows

# Country 1 -> regions 2, 3 -> districts 4, 5 (of 2) and 6 (of 3) -> facility 7 (USF, in 4).
UNITS = pd.DataFrame(
    {
        "id": [1, 2, 3, 4, 5, 6, 7],
        "level": [0, 1, 1, 2, 2, 2, 3],
        "parent_id": [None, 1, 1, 2, 2, 3, 4],
        "facility_type": [None, None, None, None, None, None, "USF"],
    }
).set_index("id")


def pop(values: dict[int, float], estimated: tuple[int, ...] = ()) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "org_unit_id": list(values),
            "data_element_id": 1,
            "year": 2024,
            "value": list(values.values()),
            "estimated": [int(u in estimated) for u in values],
        }
    )


def resolved(frame: pd.DataFrame, column: str = "value") -> dict[int, float]:
    rows = frame[frame.ftype == "*"]
    return dict(zip(rows.org_unit_id, rows[column], strict=True))


FIGURES = {1: 1000.0, 2: 600.0, 3: 401.0, 4: 300.0, 5: 300.0, 6: 401.0, 7: 50.0}


def test_population_rows_roll_up_the_sum_of_the_parts_by_default():
    got = resolved(population_rows(UNITS, pop(FIGURES)))
    # The country's own 1,000 gives way to its regions' 600 + 401: the total adds up.
    assert got[1] == 1001.0 and got[2] == 600.0 and got[3] == 401.0


def test_population_rows_let_the_own_figure_win_when_configured():
    assert resolved(population_rows(UNITS, pop(FIGURES), "own"))[1] == 1000.0


def test_population_rows_keep_a_district_figure_over_its_facility_catchments():
    assert resolved(population_rows(UNITS, pop(FIGURES)))[4] == 300.0


def test_population_rows_use_the_own_figure_when_a_child_has_none():
    # District 6 has no figure and no facility: region 3's own figure stands, and the country
    # adds up its regions.
    got = resolved(population_rows(UNITS, pop({k: v for k, v in FIGURES.items() if k != 6})))
    assert got[3] == 401.0 and got[1] == 1001.0 and 6 not in got


def test_population_rows_mark_what_rests_on_an_estimate():
    got = resolved(population_rows(UNITS, pop(FIGURES, estimated=(5,))), "estimated")
    assert got[5] == 1 and got[4] == 0
    # Region 2's parts split its official 600 exactly: not an estimate, and neither is the
    # country that adds the regions up.
    assert got[2] == 0 and got[1] == 0
    figures = {**FIGURES, 5: 350.0}
    got = resolved(population_rows(UNITS, pop(figures, estimated=(5,))), "estimated")
    assert got[2] == 1 and got[1] == 1


def test_population_conflicts_name_both_figures():
    conflicts = population_conflicts(UNITS, pop(FIGURES))
    assert conflicts.to_dict("records") == [
        {"org_unit_id": 1, "data_element_id": 1, "year": 2024, "own": 1000.0, "parts": 1001.0}
    ]
    assert population_conflicts(UNITS, pop({**FIGURES, 1: 1001.0})).empty
