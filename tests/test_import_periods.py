"""Values reported for a whole quarter or year (FHIR, ADX, CSV, DHIS2): stored as reported, counted
in the quarter and year views that contain them, never split into months or counted twice."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from helpers import TWO_FACILITIES, fresh_engine
from sqlalchemy import text

from dashboard.aggregate import query
from dashboard.catalog import Scope
from dashboard.importers import import_file
from dashboard.periods import parse_period
from dashboard.reference import load_reference
from dashboard.repository import Repository

TODAY = date(2025, 12, 15)
POP = "http://terminology.hl7.org/CodeSystem/measure-population"
FAC = "https://mspbs.gov.py/fhir/sid/establecimiento"
HOSPITALS = [
    {"code": "F003", "name": "Hospital Distrital de Horqueta", "level": 3, "parent": "0103"},
    {"code": "F004", "name": "Hospital Distrital de Loreto", "level": 3, "parent": "0104"},
]
# F002 reports monthly: July-September and February 2025 (neonatal deaths, live births).
MONTHLY = (
    "data_element,period,org_unit,value\n"
    "MUERTE_NEO,202507,F002,1\nNAC_VIVOS,202507,F002,100\n"
    "MUERTE_NEO,202508,F002,2\nNAC_VIVOS,202508,F002,110\n"
    "MUERTE_NEO,202509,F002,0\nNAC_VIVOS,202509,F002,90\n"
    "MUERTE_NEO,202502,F002,1\nNAC_VIVOS,202502,F002,50\n"
)


@pytest.fixture
def store(tmp_path):
    repo = Repository(fresh_engine(tmp_path))
    load_reference(repo)
    repo.upsert_org_units([*TWO_FACILITIES, *({**h, "facility_type": "HD"} for h in HOSPITALS)])
    yield repo
    repo.engine.dispose()


def run(repo, path, **kw):
    kw.setdefault("scope", Scope.national())
    return import_file(repo, path, today=TODAY, **kw)


def put(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content)
    return path


def report_of(unit: str, start: str, end: str, deaths: int, births: int) -> dict:
    return {
        "resourceType": "MeasureReport",
        "status": "complete",
        "type": "summary",
        "measure": "https://mspbs.gov.py/fhir/Measure/MNI-02",
        "subject": {"identifier": {"system": FAC, "value": unit}},
        "period": {"start": start, "end": end},
        "group": [
            {
                "population": [
                    {"code": {"coding": [{"system": POP, "code": "numerator"}]}, "count": deaths},
                    {"code": {"coding": [{"system": POP, "code": "denominator"}]}, "count": births},
                ]
            }
        ],
    }


def fhir(tmp_path: Path, *reports: dict, name: str = "reports.json") -> Path:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": []}
    bundle["entry"] = [{"resource": r} for r in reports]
    return put(tmp_path, name, json.dumps(bundle))


def adx(tmp_path: Path, groups: str, name: str = "values.xml") -> Path:
    return put(
        tmp_path,
        name,
        '<?xml version="1.0"?>\n<adx xmlns="urn:ihe:qrph:adx:2015">\n' + groups + "</adx>\n",
    )


F003_Q3 = report_of("F003", "2025-07-01", "2025-09-30", 3, 300)
F004_YEAR = (
    '<group orgUnit="F004" period="2025-01-01/P1Y" dataSet="MNI">\n'
    '<dataValue dataElement="MUERTE_NEO" value="4"/>\n'
    '<dataValue dataElement="NAC_VIVOS" SEX="F" value="190"/>\n'
    '<dataValue dataElement="NAC_VIVOS" SEX="M" value="210"/>\n</group>\n'
)


def spans(repo) -> dict[tuple[str, str, str, int], float]:
    with repo.engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT o.code, d.code, s.grain, s.period, s.value FROM data_value_span s "
                "JOIN org_unit o ON o.id = s.org_unit_id "
                "JOIN data_element d ON d.id = s.data_element_id"
            )
        ).all()
    return {(o, d, g, p): v for o, d, g, p, v in rows}


def ask(repo, period: str, by: str | None = None) -> list[tuple[str, float | None, float | None]]:
    cat = repo.catalog()
    rows = query(
        repo,
        Scope.national(),
        cat.indicator("MNI-02"),
        cat.by_code["PY"],
        parse_period(period, TODAY),
        by=by,
        today=TODAY,
    )
    return [(r.period, r.numerator, r.denominator) for r in rows]


@pytest.fixture
def loaded(store, tmp_path):
    for path in (
        put(tmp_path, "monthly.csv", MONTHLY),
        fhir(tmp_path, F003_Q3),
        adx(tmp_path, F004_YEAR),
    ):
        r = run(store, path)
        assert r.ok, r.render("en")
    return store


def test_fhir_quarter_and_adx_year_are_stored_as_reported(loaded):
    assert spans(loaded) == {
        ("F003", "MUERTE_NEO", "Q", 20253): 3,
        ("F003", "NAC_VIVOS", "Q", 20253): 300,
        # ADX disaggregations summed, as for months: 190 + 210.
        ("F004", "MUERTE_NEO", "Y", 2025): 4,
        ("F004", "NAC_VIVOS", "Y", 2025): 400,
    }
    with loaded.engine.connect() as c:
        months = c.execute(text("SELECT COUNT(*) FROM data_value")).scalar()
    assert months == 8  # the spans are not split into months


def test_quarter_and_year_views_count_spans_months_do_not(loaded):
    # Hand-computed, MNI-02 = neonatal deaths / live births (hospitals):
    # 2025Q3: F002 months (1 + 2 + 0) / (100 + 110 + 90) and F003's quarter 3 / 300.
    assert ask(loaded, "2025Q3") == [("2025Q3", 6, 600)]
    # The same months as a range are the same quarter.
    assert ask(loaded, "202507:202509") == [("2025Q3", 6, 600)]
    # 2025: F002 (1 + 3) / (50 + 300), F003 3 / 300, F004's year 4 / 400.
    assert ask(loaded, "2025") == [("2025", 11, 1050)]
    # A month holds F002's value only: a quarter is never split.
    assert ask(loaded, "202508") == [("202508", 2, 110)]
    assert ask(loaded, "2025", by="quarter") == [
        ("2025Q1", 1, 50),
        ("2025Q2", None, None),
        ("2025Q3", 6, 600),
        ("2025Q4", None, None),
    ]
    assert ask(loaded, "2025Q3", by="month") == [
        ("202507", 1, 100),
        ("202508", 2, 110),
        ("202509", 0, 90),
    ]
    # LAST_12_MONTHS (December 2024 - November 2025) holds the whole third quarter, so F003's
    # quarter counts; F004's year 2025 is not inside it and does not.
    assert ask(loaded, "LAST_12_MONTHS") == [("LAST_12_MONTHS", 1 + 3 + 3, 50 + 300 + 300)]


def test_span_import_is_idempotent_dry_run_counts_and_updates_are_logged(store, tmp_path):
    path = fhir(tmp_path, F003_Q3)
    dry = run(store, path, dry_run=True)
    assert dry.ok and (dry.inserted, dry.updated, dry.unchanged) == (2, 0, 0)
    assert spans(store) == {}
    first = run(store, path)
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    again = run(store, path)
    assert again.ok and (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    fixed = fhir(tmp_path, report_of("F003", "2025-07", "2025-09", 2, 300), name="fix.json")
    dry = run(store, fixed, dry_run=True)
    assert (dry.inserted, dry.updated, dry.unchanged) == (0, 1, 1)
    assert spans(store)[("F003", "MUERTE_NEO", "Q", 20253)] == 3
    r = run(store, fixed)
    assert (r.inserted, r.updated, r.unchanged) == (0, 1, 1)
    assert spans(store)[("F003", "MUERTE_NEO", "Q", 20253)] == 2
    with store.engine.connect() as c:
        log = c.execute(
            text("SELECT grain, period, old_value, new_value FROM value_change_span")
        ).all()
    assert [tuple(row) for row in log] == [("Q", 20253, 3.0, 2.0)]
    assert ask(store, "2025Q3") == [("2025Q3", 2, 300)]


def test_long_csv_and_dhis2_json_take_quarters_and_years(store, tmp_path):
    csv = put(
        tmp_path,
        "q.csv",
        "data_element,period,org_unit,value\nMUERTE_NEO,2025Q3,F003,3\nNAC_VIVOS,2025,F004,400\n",
    )
    assert run(store, csv).ok
    dv = put(
        tmp_path,
        "q.json",
        json.dumps(
            {
                "dataValues": [
                    {
                        "dataElement": "NAC_VIVOS",
                        "period": "2025Q3",
                        "orgUnit": "F003",
                        "categoryOptionCombo": "a",
                        "value": "120",
                    },
                    {
                        "dataElement": "NAC_VIVOS",
                        "period": "2025Q3",
                        "orgUnit": "F003",
                        "categoryOptionCombo": "b",
                        "value": "180",
                    },
                ]
            }
        ),
    )
    r = run(store, dv)
    assert r.ok, r.render("en")
    assert spans(store) == {
        ("F003", "MUERTE_NEO", "Q", 20253): 3,
        ("F003", "NAC_VIVOS", "Q", 20253): 300,
        ("F004", "NAC_VIVOS", "Y", 2025): 400,
    }


def test_quarter_over_stored_months_is_refused_naming_them(loaded, tmp_path):
    path = fhir(tmp_path, report_of("F002", "2025-07-01", "2025-09-30", 3, 300))
    r = run(loaded, path)
    assert not r.ok
    found = {(p.where, p.reason, p.value) for p in r.problems}
    assert found == {
        ("entry[0].resource.period", "span_has_months", "2025Q3"),
    }
    assert "2025-07..2025-09" in r.render("en") and "2025-07..2025-09" in r.render("es")
    assert ("F002", "MUERTE_NEO", "Q", 20253) not in spans(loaded)


def test_month_inside_a_stored_quarter_or_year_is_refused(loaded, tmp_path):
    path = put(
        tmp_path,
        "late.csv",
        "data_element,period,org_unit,value\n"
        "NAC_VIVOS,202508,F003,100\nNAC_VIVOS,202508,F004,100\nNAC_VIVOS,202510,F003,100\n",
    )
    r = run(loaded, path)
    assert [(p.row, p.reason, p.value, p.params) for p in r.problems] == [
        (2, "month_in_span", "202508", {"period": "2025Q3"}),
        (3, "month_in_span", "202508", {"period": "2025"}),
    ]
    assert "2025Q3" in r.render("es")
    # October is outside F003's third quarter: once the two refused rows go, it loads.
    assert run(
        loaded, put(tmp_path, "oct.csv", MONTHLY.split("\n")[0] + "\nNAC_VIVOS,202510,F003,100\n")
    ).ok


def test_quarter_inside_a_stored_year_and_a_file_with_both_are_refused(loaded, tmp_path):
    r = run(loaded, fhir(tmp_path, report_of("F004", "2025-04-01", "2025-06-30", 1, 90)))
    # One problem per value (deaths, births), both at the report's period.
    assert [(p.where, p.reason, p.params) for p in r.problems] == [
        ("entry[0].resource.period", "span_overlaps_span", {"period": "2025"})
    ] * 2
    both = adx(
        tmp_path,
        '<group orgUnit="F001" period="2024-01-01/P1Y">\n'
        '<dataValue dataElement="NAC_VIVOS" value="40"/>\n</group>\n'
        '<group orgUnit="F001" period="2024-04-01/P3M">\n'
        '<dataValue dataElement="NAC_VIVOS" value="10"/>\n</group>\n'
        '<group orgUnit="F001" period="2024-05-01/P1M">\n'
        '<dataValue dataElement="NAC_VIVOS" value="3"/>\n</group>\n',
        name="both.xml",
    )
    r = run(loaded, both)
    found = sorted((p.where, p.reason) for p in r.problems)
    assert found == [
        ("line 3 <group> @period", "span_has_months"),
        ("line 3 <group> @period", "span_overlaps_span"),
        ("line 6 <group> @period", "span_has_months"),
    ], r.render("en")


def test_span_refusals_closing_date_scope_future_and_other_period_types(store, tmp_path):
    store.upsert_org_units([{**HOSPITALS[1], "facility_type": "HD", "closed": date(2025, 3, 31)}])
    # Closed in March: its first quarter loads, the second (starting after) does not.
    r = run(store, fhir(tmp_path, report_of("F004", "2025-01-01", "2025-03-31", 0, 20)))
    assert r.ok, r.render("en")
    r = run(store, fhir(tmp_path, report_of("F004", "2025-04-01", "2025-06-30", 0, 20)))
    assert {p.reason for p in r.problems} == {"after_closing"}
    # A quarter that starts after the current month is in the future.
    r = run(store, fhir(tmp_path, report_of("F003", "2026-01-01", "2026-03-31", 0, 20)))
    assert {(p.where, p.reason) for p in r.problems} == {
        ("entry[0].resource.period", "future_period")
    }
    # Counts as for months: whole, not negative, not absurd.
    r = run(store, fhir(tmp_path, report_of("F003", "2025-07-01", "2025-09-30", -1, 10**8)))
    assert [(p.where, p.reason) for p in r.problems] == [
        ("entry[0].resource.group[0].population[0].count", "negative_value"),
        ("entry[0].resource.group[0].population[1].count", "too_large"),
    ]
    # A region's analyst may not load Ñeembucú's hospital, whatever the period.
    r = run(
        store,
        fhir(tmp_path, report_of("F002", "2025", "2025", 0, 20)),
        scope=Scope.of("PY-1"),
    )
    assert {(p.where, p.reason) for p in r.problems} == {
        ("entry[0].resource.subject.identifier.value", "outside_scope")
    }
    # Two months, a week: not a month, quarter or year.
    r = run(
        store,
        adx(
            tmp_path,
            '<group orgUnit="F003" period="2025-01-01/P2M">\n'
            '<dataValue dataElement="NAC_VIVOS" value="3"/>\n</group>\n',
        ),
    )
    assert [(p.where, p.reason) for p in r.problems] == [
        ("line 3 <group> @period", "period_not_month_quarter_year")
    ]
    r = run(
        store,
        put(tmp_path, "w.csv", "data_element,period,org_unit,value\nNAC_VIVOS,2025W3,F003,1\n"),
    )
    (p,) = r.problems
    assert p.reason == "not_month_quarter_year" and "quarters YYYYQn" in p.message("en")
    assert spans(store) == {
        ("F004", "MUERTE_NEO", "Q", 20251): 0,
        ("F004", "NAC_VIVOS", "Q", 20251): 20,
    }
