"""The demo tells the truth: populations add up the tree, districts are placed, facilities lie
inside their department, estimated figures are marked."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from helpers import TODAY
from shapely.geometry import shape

from dashboard import reference
from dashboard.aggregate import evaluate_frame
from dashboard.catalog import Scope
from dashboard.demo import district_populations, make_facilities, share_remainder
from dashboard.periods import parse_period

NATIONAL = Scope.national()
FIXTURE = Path(__file__).parent / "fixtures" / "paraguay_departments.geojson"


def _outlines() -> dict:
    with open(FIXTURE, encoding="utf-8") as f:
        return {
            ft["properties"]["iso_code"]: shape(ft["geometry"]) for ft in json.load(f)["features"]
        }


@pytest.fixture(scope="module")
def facilities() -> pd.DataFrame:
    return make_facilities(np.random.default_rng(1))


def test_make_facilities_places_every_facility_inside_its_department(facilities):
    outlines = _outlines()
    for iso, grp in facilities.groupby("region"):
        inside = shapely.contains_xy(outlines[iso], grp.longitude, grp.latitude)
        assert inside.all(), grp[~inside].code.tolist()


def test_share_remainder_adds_up_to_each_department_census_total(facilities):
    d = share_remainder(district_populations(), facilities)
    totals = {r["iso_code"]: int(r["population_2022"]) for r in reference.regions()}
    sums = d.groupby("department_iso_code")["pop"].sum()
    assert {k: int(round(v)) for k, v in sums.items()} == totals
    known = d.population_2022 != ""
    assert (d.loc[known, "pop"] == pd.to_numeric(d.population_2022[known])).all()
    assert (d["pop"] > 0).all()


def test_share_remainder_follows_the_catchments_of_the_estimated_districts(facilities):
    d = share_remainder(district_populations(), facilities).set_index("district_code")
    phc = facilities[facilities.facility_type.isin(("USF", "PS", "CS"))]
    catch = phc.groupby("parent").catchment_population.sum()
    missing = d[(d.population_2022 == "") & (d.department_iso_code == "PY-1")]
    ratio = missing["pop"] / (catch.reindex(missing.index) + 1)
    # One ratio per department (to rounding): a facility's share of its district's people
    # is then its share of the district's catchments.
    assert ratio.max() / ratio.min() < 1.01


def test_share_remainder_places_every_district(facilities):
    d = share_remainder(district_populations(), facilities)
    assert d.lat.notna().all() and d.lon.notna().all()
    seatless = d[d.seat_lat == ""]
    centre = facilities.groupby("parent")[["latitude", "longitude"]].mean()
    first = seatless.iloc[0]
    assert first.lat == pytest.approx(centre.latitude[first.district_code])


@pytest.mark.slow
def test_demo_districts_are_located_and_estimated_ones_marked(demo):
    repo, _, _ = demo
    cat = repo.catalog()
    districts = cat.level_units(2)
    assert all(u.latitude is not None and u.longitude is not None for u in districts)
    pop = cat.data_elements["POP_TOTAL"].id
    estimated = repo.estimated_populations(
        NATIONAL, [*districts, *cat.level_units(1), cat.unit("PY")], None, [pop], [2024]
    )
    census = {r["district_code"] for r in reference.districts() if r["population_2022"]}
    assert {cat.units[i].code for i in estimated} == {u.code for u in districts} - census
    # A region's districts split its census total: the region itself is not estimated.
    assert cat.unit("PY-1").id not in estimated and cat.unit("PY").id not in estimated


@pytest.mark.slow
def test_demo_national_and_regional_values_are_sums_of_their_rows(demo):
    repo, _, _ = demo
    cat = repo.catalog()
    indicators = list(cat.indicators.values())
    periods = [parse_period(p, TODAY) for p in ("202403", "2024", "2025Q3", "202510")]
    country, regions = cat.unit("PY"), cat.level_units(1)
    key = ["indicator", "period"]

    def frame(units):
        f = evaluate_frame(repo, NATIONAL, indicators, units, periods)
        return f[["indicator", "org_unit", "period", "numerator", "denominator"]]

    def check(parent, children):
        top = frame([parent]).set_index(key)
        rows = frame(children).groupby(key)[["numerator", "denominator"]].sum(min_count=1)
        both = top.join(rows, rsuffix="_rows")
        for col in ("numerator", "denominator"):
            want = both[col].fillna(0).to_numpy()
            got = both[f"{col}_rows"].fillna(0).to_numpy()
            bad = both.index[~np.isclose(want, got, rtol=1e-9, atol=1e-6)]
            assert not len(bad), (parent.code, col, list(bad[:5]))

    check(country, regions)
    assert len(regions) == 18
    for region in regions:
        check(region, cat.descendants(region, 2))
