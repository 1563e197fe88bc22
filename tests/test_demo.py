"""The demo store: deterministic, Paraguay-shaped, and true to life enough for the pages."""

import numpy as np
import pytest
from helpers import TODAY

from dashboard.aggregate import query
from dashboard.catalog import HOSPITAL_TYPES, Scope
from dashboard.demo import make_facilities
from dashboard.periods import parse_period

NATIONAL = Scope.national()


def test_make_facilities_is_deterministic_for_a_seed():
    a = make_facilities(np.random.default_rng(7))
    b = make_facilities(np.random.default_rng(7))
    c = make_facilities(np.random.default_rng(8))
    assert a.equals(b)
    assert not a[["latitude", "longitude"]].equals(c[["latitude", "longitude"]])


def test_make_facilities_scale_multiplies_the_network():
    one = make_facilities(np.random.default_rng(1), 1)
    three = make_facilities(np.random.default_rng(1), 3)
    assert len(three) == 3 * len(one)
    assert three.code.is_unique


def test_make_facilities_names_use_the_spanish_district_names():
    names = set(make_facilities(np.random.default_rng(1)).name)
    assert "Hospital Distrital de Concepción" in names
    assert any(n.startswith("USF Belén") for n in names)
    assert not any("Concepcion" in n or "Del Apa" in n or "Azote'Y" in n for n in names)


def test_reference_districts_are_named_as_people_write_them():
    from dashboard.reference import tree_rows

    names = {r["code"]: r["name"] for r in tree_rows()}
    assert (names["0101"], names["0105"], names["0108"]) == (
        "Concepción",
        "San Carlos del Apa",
        "Azote'y",
    )
    assert names["PY-12"] == "Ñeembucú" and names["PY-ASU"] == "Asunción"


def test_demo_network_matches_the_brief(demo):
    repo, _, summary = demo
    cat = repo.catalog()
    facilities = cat.level_units(3)
    types = [f.facility_type for f in facilities]
    assert 1250 <= len(facilities) <= 1350
    assert sum(t in ("USF", "PS", "CS") for t in types) >= 800
    assert sum(t in HOSPITAL_TYPES for t in types) == 90
    assert len(cat.level_units(1)) == 18 and len(cat.level_units(2)) == 263
    # Every facility sits in a real district, inside Paraguay's bounding box.
    assert all(cat.units[f.parent_id].level == 2 for f in facilities)
    assert all(-27.7 < f.latitude < -19.2 and -62.8 < f.longitude < -54.1 for f in facilities)
    assert (summary.first_month, summary.last_month) == (202101, 202610)


def test_demo_reporting_has_gaps_and_late_reports(demo):
    repo, _, _ = demo
    cat = repo.catalog()
    comp = query(
        repo, NATIONAL, cat.indicators["DQ-01"], cat.unit("PY"), parse_period("2025", TODAY)
    )[0]
    assert 92.0 <= comp.value <= 97.0  # 3-8 % of reports missing
    timely = query(
        repo, NATIONAL, cat.indicators["DQ-02"], cat.unit("PY"), parse_period("2025", TODAY)
    )[0]
    assert timely.value < comp.value - 3  # some arrive late
    outliers = query(
        repo, NATIONAL, cat.indicators["DQ-03"], cat.unit("PY"), parse_period("2021:2026", TODAY)
    )[0]
    assert outliers.numerator > 0


def test_demo_dengue_peaks_in_february_to_april(demo):
    repo, _, _ = demo
    cat = repo.catalog()
    months = query(
        repo,
        NATIONAL,
        cat.indicators["TRA-01"],
        cat.unit("PY"),
        parse_period("2024", TODAY),
        by="month",
    )
    peak = max(months, key=lambda r: r.value)
    assert peak.period in ("202402", "202403", "202404")
    assert peak.value > 5 * min(r.value for r in months)


def test_demo_chaco_behind_capital_on_immunisation(demo):
    repo, _, _ = demo
    cat = repo.catalog()
    res = {
        r.org_unit: r.value
        for r in query(
            repo,
            NATIONAL,
            cat.indicators["INM-03"],
            cat.unit("PY"),
            parse_period("2025", TODAY),
            by="region",
        )
    }
    assert len(res) == 18
    chaco = np.mean([res["PY-15"], res["PY-19"], res["PY-16"]])
    assert chaco < res["PY-ASU"] - 10
    assert all(40 < v < 110 for v in res.values())


def test_demo_capital_hospitals_fuller_than_interior(demo):
    repo, _, _ = demo
    cat = repo.catalog()
    res = {
        r.org_unit: r.value
        for r in query(
            repo,
            NATIONAL,
            cat.indicators["HOS-01"],
            cat.unit("PY"),
            parse_period("2025", TODAY),
            by="region",
        )
    }
    interior = np.mean([v for k, v in res.items() if k not in ("PY-ASU", "PY-11")])
    assert res["PY-ASU"] > interior + 5


@pytest.mark.parametrize(
    "code", ["MNI-05", "INM-01", "HOS-01", "ENT-03", "TRA-01", "DQ-01", "SER-01", "MNI-07"]
)
def test_demo_every_region_has_values(demo, code):
    repo, _, _ = demo
    cat = repo.catalog()
    res = query(
        repo,
        NATIONAL,
        cat.indicators[code],
        cat.unit("PY"),
        parse_period("LAST_12_MONTHS", TODAY),
        by="region",
    )
    assert len(res) == 18 and all(r.value is not None for r in res)
