"""Metadata imports: org units, data elements, indicators, populations and targets."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from helpers import fresh_engine
from sqlalchemy import text

from dashboard.catalog import Scope
from dashboard.importers import import_file
from dashboard.reference import load_reference
from dashboard.repository import Repository

TODAY = date(2024, 6, 15)
OU_HEADER = "code,name,level,parent,facility_type,latitude,longitude\n"
IND_HEADER = (
    "code,domain,name_es,name_en,definition_es,definition_en,numerator,denominator,factor,unit_es,"
    "unit_en,decimals,direction,facility_types,target,near,band_low,band_high,target_source\n"
)


@pytest.fixture
def store(tmp_path) -> Repository:
    """Reference tree plus one facility; PostgreSQL when DASHBOARD_TEST_DATABASE_URL is set."""
    repo = Repository(fresh_engine(tmp_path))
    load_reference(repo)
    repo.upsert_org_units(
        [
            {
                "code": "F001",
                "name": "USF Concepción",
                "level": 3,
                "parent": "0101",
                "facility_type": "USF",
            }
        ]
    )
    yield repo
    repo.engine.dispose()


def put(tmp_path: Path, name: str, content: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding))
    return path


def run(store: Repository, path: Path, **kw):
    kw.setdefault("scope", Scope.national())
    return import_file(store, path, today=TODAY, **kw)


def problems(report) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.reason) for p in report.problems]


def unit(store: Repository, code: str):
    store.invalidate()
    return store.catalog().unit(code)


# ==== org units ==============================================================================
def test_org_units_cp1252_semicolon_file_keeps_accents_and_decimal_commas(store, tmp_path):
    content = "code;name;level;parent;facility_type;latitude;longitude\nF100;USF Ñeembucú;facility;1201;USF;-26,86;-58,30\n"
    report = run(store, put(tmp_path, "ou.csv", content, encoding="cp1252"))
    assert report.ok and report.format == "metadata-org-units", report.render("en")
    got = unit(store, "F100")
    assert (got.name, got.level, got.facility_type, got.latitude) == (
        "USF Ñeembucú",
        3,
        "USF",
        -26.86,
    )
    assert unit(store, "1201").id == got.parent_id == got.district_id


def test_org_units_utf8_bom_file_keeps_accents(store, tmp_path):
    report = run(
        store,
        put(
            tmp_path,
            "ou.csv",
            OU_HEADER + "F100,Hospital Ñeembucú,3,1201,HR,,\n",
            encoding="utf-8-sig",
        ),
    )
    assert report.ok, report.render("en")
    assert unit(store, "F100").name == "Hospital Ñeembucú"


def test_org_units_parent_defined_earlier_in_the_same_file(store, tmp_path):
    content = (
        OU_HEADER + "9901,NUEVO DISTRITO,district,PY-12,,,\nF200,USF Nueva,facility,9901,USF,,\n"
    )
    report = run(store, put(tmp_path, "ou.csv", content))
    assert (report.ok, report.inserted) == (True, 2), report.render("en")
    assert unit(store, "F200").region_id == unit(store, "PY-12").id


def test_org_units_update_existing_unit_keeps_leading_zero_codes(store, tmp_path):
    report = run(store, put(tmp_path, "ou.csv", "code,name,level,parent\n0101,CONCEPCIÓN,2,PY-1\n"))
    assert (report.ok, report.inserted, report.updated) == (True, 0, 1)
    assert unit(store, "0101").name == "CONCEPCIÓN"


def test_org_units_unknown_parent(store, tmp_path):
    report = run(store, put(tmp_path, "ou.csv", OU_HEADER + "F100,USF A,3,9999,USF,,\n"))
    assert problems(report) == [(2, "parent", "unknown_parent")]
    assert unit(store, "F100") is None


def test_org_units_parent_listed_after_child(store, tmp_path):
    content = OU_HEADER + "F200,USF Nueva,3,9901,USF,,\n9901,NUEVO DISTRITO,2,PY-12,,,\n"
    report = run(store, put(tmp_path, "ou.csv", content))
    assert problems(report) == [(2, "parent", "parent_later")]
    assert report.problems[0].params == {"first": 3}


def test_org_units_wrong_parent_level(store, tmp_path):
    report = run(store, put(tmp_path, "ou.csv", OU_HEADER + "F100,USF A,facility,PY-12,USF,,\n"))
    assert problems(report) == [(2, "parent", "wrong_parent_level")]
    assert (
        report.problems[0].message("en")
        == "the parent is a region; a facility must belong to a district"
    )


def test_org_units_bad_facility_type(store, tmp_path):
    report = run(store, put(tmp_path, "ou.csv", OU_HEADER + "F100,USF A,3,0101,CLINIC,,\n"))
    assert problems(report) == [(2, "facility_type", "bad_facility_type")]
    assert report.problems[0].value == "CLINIC"


def test_org_units_new_facility_needs_a_type_and_districts_have_none(store, tmp_path):
    content = OU_HEADER + "F100,USF A,3,0101,,,\n9901,NUEVO,2,PY-12,USF,,\n"
    report = run(store, put(tmp_path, "ou.csv", content))
    assert problems(report) == [
        (2, "facility_type", "missing_value"),
        (3, "facility_type", "type_not_facility"),
    ]


def test_org_units_bad_level_and_level_change(store, tmp_path):
    content = OU_HEADER + "F100,USF A,clinic,0101,USF,,\n0101,CONCEPCION,facility,PY-1,USF,,\n"
    report = run(store, put(tmp_path, "ou.csv", content))
    assert problems(report)[:2] == [(2, "level", "bad_level"), (3, "level", "level_change")]


def test_org_units_coordinates_outside_paraguay(store, tmp_path):
    report = run(store, put(tmp_path, "ou.csv", OU_HEADER + "F100,USF A,3,0101,USF,-57.4,-23.4\n"))
    assert problems(report) == [(2, "latitude", "out_of_range"), (2, "longitude", "out_of_range")]


def test_org_units_duplicate_code_with_other_content(store, tmp_path):
    content = (
        OU_HEADER + "F100,USF A,3,0101,USF,,\nF100,USF A,3,0101,USF,,\nF100,USF B,3,0101,USF,,\n"
    )
    report = run(store, put(tmp_path, "ou.csv", content))
    assert problems(report) == [(4, "code", "duplicate_code")]
    assert report.problems[0].params == {"first": 2}


def test_org_units_dry_run_writes_nothing(store, tmp_path):
    report = run(
        store,
        put(tmp_path, "ou.csv", OU_HEADER + "F100,USF A,3,0101,USF,,\nF001,USF B,3,0101,USF,,\n"),
        dry_run=True,
    )
    assert (report.ok, report.dry_run, report.inserted, report.updated) == (True, True, 1, 1)
    assert unit(store, "F100") is None and unit(store, "F001").name == "USF Concepción"


def test_org_units_xlsx(store, tmp_path):
    path = tmp_path / "ou.xlsx"
    pd.DataFrame(
        {
            "code": ["F300"],
            "name": ["USF Pilar"],
            "level": ["facility"],
            "parent": ["1201"],
            "facility_type": ["USF"],
            "beds": [4.0],
        }
    ).to_excel(path, index=False)
    report = run(store, path)
    assert report.ok, report.render("en")
    assert (unit(store, "F300").beds, unit(store, "F300").parent_id) == (4, unit(store, "1201").id)


# ==== data elements ==========================================================================
def test_data_elements_insert_and_reject_bad_kind(store, tmp_path):
    ok = run(
        store,
        put(
            tmp_path,
            "de.csv",
            "code,kind,name_es,name_en\nVIH_TEST,count,Pruebas de VIH,HIV tests\n",
        ),
    )
    assert (ok.ok, ok.format, ok.inserted) == (True, "metadata-data-elements", 1)
    assert unit(store, "PY") and store.catalog().data_elements["VIH_TEST"].kind == "count"
    bad = run(
        store,
        put(tmp_path, "de2.csv", "code,kind,name_es,name_en\nX_Y,stock,X,X\nnac vivos,count,A,B\n"),
    )
    assert problems(bad) == [(2, "kind", "bad_kind"), (3, "code", "bad_code")]


def test_data_elements_kind_of_existing_element_cannot_change(store, tmp_path):
    report = run(
        store, put(tmp_path, "de.csv", "code,kind,name_es,name_en\nNAC_VIVOS,population,NV,LB\n")
    )
    assert problems(report) == [(2, "kind", "kind_change")]


# ==== indicators =============================================================================
def test_indicators_insert_with_expression(store, tmp_path):
    row = "INM-09,INM,Deserción SPR,MMR dropout,,,SPR1 - SPR2,SPR1,100,%,%,1,down,,10,15,,,Meta local\n"
    report = run(store, put(tmp_path, "ind.csv", IND_HEADER + row))
    assert (report.ok, report.format, report.inserted) == (True, "metadata-indicators", 1), (
        report.render("en")
    )
    store.invalidate()
    ind = store.catalog().indicator("INM-09")
    assert (ind.numerator.codes, ind.denominator.codes, ind.direction, ind.target.target) == (
        ("SPR1", "SPR2"),
        ("SPR1",),
        "down",
        10.0,
    )


@pytest.mark.parametrize(
    ("numerator", "direction", "expected"),
    [
        ("SPR1 +", "up", (2, "numerator", "bad_expression")),
        ("SPR1 - VACUNA_X", "up", (2, "numerator", "unknown_expression_code")),
        ("SPR1", "sideways", (2, "direction", "bad_direction")),
    ],
)
def test_indicators_rejections(store, tmp_path, numerator, direction, expected):
    row = f"INM-09,INM,A,B,,,{numerator},SPR1,100,%,%,1,{direction},,,,,,\n"
    report = run(store, put(tmp_path, "ind.csv", IND_HEADER + row))
    assert problems(report) == [expected]
    assert "INM-09" not in store.catalog().indicators


def test_indicators_band_order_and_facility_types(store, tmp_path):
    row = "HOS-09,HOS,A,B,,,DIAS_PACIENTE,DIAS_CAMA,100,%,%,1,band,HD XX,,,90,80,\n"
    report = run(store, put(tmp_path, "ind.csv", IND_HEADER + row))
    assert problems(report) == [
        (2, "facility_types", "bad_facility_type"),
        (2, "band_low", "band_order"),
    ]


# ==== populations ============================================================================
def test_populations_insert_and_refresh_rollups(store, tmp_path):
    content = (
        'org_unit,year,data_element,value\n0101,2024,POP_TOTAL,73360\nF001,2024,POP_LT1,"1,200"\n'
    )
    bad = run(store, put(tmp_path, "pop.csv", content))
    assert problems(bad) == [(3, "value", "non_numeric")]
    content = (
        "org_unit;year;data_element;value\n0101;2024;POP_TOTAL;73.360\nF001;2024;POP_LT1;1.200\n"
    )
    report = run(store, put(tmp_path, "pop2.csv", content))
    assert (report.ok, report.format, report.inserted) == (True, "metadata-populations", 2), (
        report.render("en")
    )
    with store.engine.connect() as c:
        region = c.execute(
            text(
                "SELECT a.value FROM agg_population a JOIN org_unit o ON o.id = a.org_unit_id "
                "JOIN data_element d ON d.id = a.data_element_id "
                "WHERE o.code = 'PY-1' AND d.code = 'POP_TOTAL' AND a.ftype = '*' AND a.year = 2024"
            )
        ).scalar_one()
    assert region == 73360.0


def test_populations_rejections(store, tmp_path):
    content = (
        "org_unit,year,data_element,value\n"
        "0101,2024,NAC_VIVOS,1\n"
        "9999,2024,POP_TOTAL,1\n"
        "0101,24,POP_TOTAL,1\n"
        "0102,2024,POP_TOTAL,5\n"
        "0102,2024,POP_TOTAL,6\n"
    )
    report = run(store, put(tmp_path, "pop.csv", content))
    assert problems(report) == [
        (2, "data_element", "not_population"),
        (3, "org_unit", "unknown_org_unit"),
        (4, "year", "bad_year"),
        (6, "value", "duplicate_conflict"),
    ]
    with store.engine.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM population")).scalar_one() == 0


def _agg(store: Repository, code: str) -> float:
    with store.engine.connect() as c:
        return c.execute(
            text(
                "SELECT a.value FROM agg_population a JOIN org_unit o ON o.id = a.org_unit_id "
                "JOIN data_element d ON d.id = a.data_element_id "
                f"WHERE o.code = '{code}' AND d.code = 'POP_TOTAL' AND a.ftype = '*' "
                "AND a.year = 2024"
            )
        ).scalar_one()


POP_ASU = (
    "org_unit,year,data_element,value\nPY-ASU,2024,POP_TOTAL,462241\n0000,2024,POP_TOTAL,462240\n"
)


def test_populations_warn_when_a_unit_and_its_parts_disagree(store, tmp_path):
    dry = run(store, put(tmp_path, "pop.csv", POP_ASU), dry_run=True)
    assert dry.ok and [w.reason for w in dry.warnings] == ["population_parts_differ"]
    report = run(store, put(tmp_path, "pop.csv", POP_ASU))
    assert report.ok and report.inserted == 2
    (warning,) = report.warnings
    assert warning.params["unit"] == "PY-ASU"
    assert (warning.params["own"], warning.params["parts"]) == (462241.0, 462240.0)
    assert "462.241" in report.render("es") and "462.240" in report.render("es")
    assert "462,240 is used" in report.render("en")
    assert report.as_dict()["warnings"][0]["reason"] == "population_parts_differ"
    # The sum of the parts rolls up, so the country adds up its regions.
    assert _agg(store, "PY-ASU") == 462240.0 and _agg(store, "PY") == 462240.0


def test_populations_own_figure_rolls_up_when_configured(store, tmp_path):
    own = Repository(store.engine, population_rule="own")
    report = run(own, put(tmp_path, "pop.csv", POP_ASU))
    assert "462,241 is used" in report.render("en")
    assert _agg(store, "PY-ASU") == 462241.0


def test_populations_that_add_up_give_no_warning(store, tmp_path):
    content = POP_ASU.replace("462240", "462241")
    assert run(store, put(tmp_path, "pop.csv", content)).warnings == []


# ==== targets ================================================================================
def test_targets_blank_org_unit_and_year_mean_all(store, tmp_path):
    content = (
        "indicator,org_unit,year,target,near,band_low,band_high,source\n"
        "INM-01,,,90,85,,,Meta nacional\n"
        "INM-01,PY-12,2024,95,90,,,Meta regional\n"
    )
    report = run(store, put(tmp_path, "t.csv", content))
    assert (report.ok, report.format, report.inserted) == (True, "metadata-targets", 2), (
        report.render("en")
    )
    store.invalidate()
    cat = store.catalog()
    ind, region = cat.indicator("INM-01"), cat.unit("PY-12")
    assert (
        cat.overrides[(ind.id, None, None)].target,
        cat.overrides[(ind.id, None, None)].near,
    ) == (90.0, 85.0)
    assert cat.target_for(ind, cat.unit("F001"), None).source == "Meta nacional"
    assert cat.target_for(ind, region, 2024).source == "Meta regional"
    again = run(store, put(tmp_path, "t.csv", content))
    assert (again.inserted, again.updated) == (0, 2)


def test_targets_rejections(store, tmp_path):
    content = (
        "indicator,org_unit,year,target,near,band_low,band_high,source\n"
        "NOPE-1,,,90,85,,,\n"
        "INM-01,XX,,90,85,,,\n"
        "HOS-01,,,,,90,80,\n"
    )
    report = run(store, put(tmp_path, "t.csv", content))
    assert problems(report) == [
        (2, "indicator", "unknown_indicator"),
        (3, "org_unit", "unknown_org_unit"),
        (4, "band_low", "band_order"),
    ]


def test_targets_missing_target_column(store, tmp_path):
    report = run(store, put(tmp_path, "t.csv", "indicator,org_unit,year\nINM-01,,\n"))
    assert problems(report) == [(1, "target", "missing_column")]


def test_sdg_targets_import_replaces_the_mapping(store, tmp_path):
    content = (
        "indicator,sdg_indicator,direction,target_2030,source\n"
        "MNI-01,3.1.1,down,<=60,Meta nacional ODS\n"
        "TRA-04,3.3.2,down,-50% vs 2021,Meta nacional TB\n"
        "MNI-06,3.1.2,up,,\n"
    )
    report = run(store, put(tmp_path, "sdg.csv", content))
    assert (report.ok, report.format) == (True, "metadata-sdg"), report.render("en")
    assert (report.inserted, report.updated) == (0, 3)  # the default mapping, replaced
    sdg = store.catalog().sdg
    assert (sdg["MNI-01"].target_2030, sdg["MNI-01"].source) == (60.0, "Meta nacional ODS")
    assert (sdg["TRA-04"].reduction, sdg["TRA-04"].baseline_year) == (50.0, 2021)
    assert sdg["TRA-04"].target_2030 is None


def test_sdg_targets_rejections_and_national_only(store, tmp_path):
    content = (
        "indicator,sdg_indicator,direction,target_2030,source\n"
        "NOPE-1,3.1.1,down,70,\n"
        "MNI-01,tres,down,70,\n"
        "MNI-02,3.2.2,band,12,\n"
        "MNI-03,3.2.1,down,veinticinco,\n"
    )
    report = run(store, put(tmp_path, "sdg.csv", content))
    assert problems(report) == [
        (2, "indicator", "unknown_indicator"),
        (3, "sdg_indicator", "bad_sdg_indicator"),
        (4, "direction", "bad_sdg_direction"),
        (5, "target_2030", "bad_sdg_target"),
    ]
    regional = import_file(
        store,
        put(tmp_path, "sdg2.csv", "indicator,sdg_indicator,direction\nMNI-01,3.1.1,down\n"),
        dry_run=False,
        today=TODAY,
        scope=Scope.of("PY-1"),
    )
    assert not regional.ok
