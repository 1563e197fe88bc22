"""FHIR MeasureReport and ADX imports: the same values as long CSV, every refusal located."""

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

TODAY = date(2024, 6, 15)
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "interop"
POP = "http://terminology.hl7.org/CodeSystem/measure-population"
FAC = "https://mspbs.gov.py/fhir/sid/establecimiento"


def make_store(tmp_path, name: str = "t") -> Repository:
    repo = Repository(fresh_engine(tmp_path, name))
    load_reference(repo)
    repo.upsert_org_units(TWO_FACILITIES)
    return repo


@pytest.fixture
def store(tmp_path):
    repo = make_store(tmp_path)
    yield repo
    repo.engine.dispose()


def stored(repo: Repository) -> dict[tuple[str, str, int], float]:
    with repo.engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT o.code, d.code, v.month, v.value FROM data_value v JOIN org_unit o ON "
                "o.id = v.org_unit_id JOIN data_element d ON d.id = v.data_element_id"
            )
        ).all()
    return {(o, d, m): v for o, d, m, v in rows}


def run(repo, path, **kw):
    kw.setdefault("scope", Scope.national())
    return import_file(repo, path, today=TODAY, **kw)


def answers(repo: Repository) -> list[dict]:
    cat = repo.catalog()
    ind = cat.indicator("MNI-02")
    out = []
    for by in (None, "month", "facility"):
        res = query(
            repo,
            Scope.national(),
            ind,
            cat.by_code["PY"],
            parse_period("2024Q1", TODAY),
            by=by,
            today=TODAY,
        )
        out += [r.as_dict() for r in res]
    return out


EXPECTED = {
    ("F002", "MUERTE_NEO", 202401): 2,
    ("F002", "NAC_VIVOS", 202401): 150,
    ("F002", "MUERTE_NEO", 202402): 1,
    ("F002", "NAC_VIVOS", 202402): 140,
    ("F001", "MUERTE_NEO", 202401): 0,
    ("F001", "NAC_VIVOS", 202401): 12,
}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("measurereports.json", "fhir-measurereport"), ("values.adx.xml", "adx")],
)
def test_same_values_as_long_csv(tmp_path, name, fmt):
    csv_repo = make_store(tmp_path, "csv")
    r = run(csv_repo, FIXTURES / "values.csv")
    assert r.ok, r.render("en")
    other = make_store(tmp_path, "other")
    r = run(other, FIXTURES / name)
    assert r.ok, r.render("en")
    assert r.format == fmt
    assert stored(other) == EXPECTED == stored(csv_repo)
    assert answers(other) == answers(csv_repo)
    # Hand-computed: MNI-02 applies to hospitals, so F001 (USF) is left out of the rate:
    # (2 + 1) / (150 + 140) * 1000 = 10.3448...
    total = answers(other)[0]
    assert total["numerator"] == 3 and total["denominator"] == 290
    assert total["value"] == pytest.approx(3 / 290 * 1000)
    csv_repo.engine.dispose()
    other.engine.dispose()


def test_idempotent_and_dry_run(store):
    dry = run(store, FIXTURES / "values.adx.xml", dry_run=True)
    assert dry.ok and dry.inserted == 6 and stored(store) == {}
    first = run(store, FIXTURES / "measurereports.json")
    assert first.inserted == 6
    again = run(store, FIXTURES / "values.adx.xml")
    assert again.ok and (again.inserted, again.updated, again.unchanged) == (0, 0, 6)


def test_ndjson_and_single_resource(store, tmp_path):
    bundle = json.loads((FIXTURES / "measurereports.json").read_text())
    resources = [e["resource"] for e in bundle["entry"]]
    nd = tmp_path / "reports.ndjson"
    nd.write_text("\n".join(json.dumps(r) for r in resources) + "\n")
    r = run(store, nd)
    assert r.ok, r.render("en")
    assert stored(store) == EXPECTED
    one = tmp_path / "one.json"
    one.write_text(
        json.dumps(
            {
                **resources[0],
                "group": [
                    {
                        "population": [
                            {"code": {"coding": [{"system": POP, "code": "numerator"}]}, "count": 5}
                        ]
                    }
                ],
            }
        )
    )
    r = run(store, one)
    assert r.ok and r.updated == 1
    assert stored(store)[("F002", "MUERTE_NEO", 202401)] == 5


def _bundle(tmp_path, mutate) -> Path:
    bundle = json.loads((FIXTURES / "measurereports.json").read_text())
    mutate(bundle["entry"])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bundle))
    return path


def _refused(store, path, scope=None):
    report = run(store, path, scope=scope or Scope.national())
    assert not report.ok
    assert stored(store) == {}, "a refused file must write nothing"
    return report


def _set(i, *keys_and_value):
    *keys, value = keys_and_value

    def mutate(entries):
        node = entries[i]["resource"]
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "where", "reason"),
    [
        (
            _set(1, "measure", "https://example.org/Measure/X"),
            "entry[1].resource.measure",
            "unknown_measure",
        ),
        (_set(0, "status", "pending"), "entry[0].resource.status", "report_not_complete"),
        (_set(2, "status", "error"), "entry[2].resource.status", "report_not_complete"),
        (_set(1, "type", "individual"), "entry[1].resource.type", "report_type"),
        (
            _set(0, "period", {"start": "2024-01-01", "end": "2024-01-07"}),
            "entry[0].resource.period",
            "period_not_month_quarter_year",
        ),
        (
            _set(
                1,
                "group",
                [
                    {
                        "population": [
                            {
                                "code": {"coding": [{"system": POP, "code": "numerator"}]},
                                "count": 1,
                            },
                            {
                                "code": {"coding": [{"system": POP, "code": "denominator"}]},
                                "count": -4,
                            },
                        ]
                    }
                ],
            ),
            "entry[1].resource.group[0].population[1].count",
            "negative_value",
        ),
        (
            _set(0, "subject", {"identifier": {"system": "urn:other", "value": "F002"}}),
            "entry[0].resource.subject.identifier.system",
            "unknown_identifier_system",
        ),
        (
            _set(0, "measure", "INM-04"),
            "entry[0].resource.group[0].population[0].code",
            "measure_not_invertible",
        ),
        (
            _set(
                0,
                "group",
                [{"population": [{"code": {"coding": [{"code": "vacunados"}]}, "count": 1}]}],
            ),
            "entry[0].resource.group[0].population[0].code",
            "unknown_population",
        ),
        (
            _set(
                1,
                "group",
                [
                    {
                        "population": [
                            {
                                "code": {"coding": [{"system": POP, "code": "numerator"}]},
                                "count": "3",
                            }
                        ]
                    }
                ],
            ),
            "entry[1].resource.group[0].population[0].count",
            "bad_count",
        ),
        (
            _set(0, "subject", {"identifier": {"system": FAC, "value": "F999"}}),
            "entry[0].resource.subject.identifier.value",
            "unknown_org_unit",
        ),
    ],
)
def test_fhir_refusals_name_their_location(store, tmp_path, mutate, where, reason):
    report = _refused(store, _bundle(tmp_path, mutate))
    found = [(p.where, p.reason) for p in report.problems]
    assert (where, reason) in found, found
    text_es = report.render("es")
    assert where in text_es


def test_fhir_outside_analyst_scope(store):
    # An analyst of region PY-1 (Concepción) may not load F002 (Ñeembucú, region PY-12).
    report = _refused(store, FIXTURES / "measurereports.json", scope=Scope.of("PY-1"))
    assert {p.where for p in report.problems if p.reason == "outside_scope"} == {
        "entry[0].resource.subject.identifier.value",
        "entry[1].resource.subject.identifier.value",
    }


def test_fhir_quarter_with_one_of_its_months_is_refused_as_double_counting(store, tmp_path):
    # Quarters are taken (tests/test_import_periods.py), but entry 1 is February of the same
    # hospital: the quarter would count it twice.
    path = _bundle(tmp_path, _set(0, "period", {"start": "2024-01-01", "end": "2024-03-31"}))
    report = _refused(store, path)
    p = next(p for p in report.problems if p.reason == "span_has_months")
    assert p.value == "2024Q1" and p.where == "entry[0].resource.period"
    assert p.params["months"] == "2024-02"


def test_measure_map_is_metadata(store, tmp_path):
    mapping = tmp_path / "measures.csv"
    mapping.write_text(
        "measure,population,data_element\n"
        "https://who.int/fhir/Measure/neonatal-deaths,numerator,MUERTE_NEO\n"
        "https://who.int/fhir/Measure/neonatal-deaths,denominator,NAC_VIVOS\n"
    )
    assert run(store, mapping, dry_run=True).ok
    r = run(store, mapping)
    assert r.ok and r.format == "metadata-measure-map" and r.inserted == 2
    assert run(store, mapping).unchanged == 2
    path = _bundle(tmp_path, _set(0, "measure", "https://who.int/fhir/Measure/neonatal-deaths|2"))
    r = run(store, path)
    assert r.ok, r.render("en")
    assert stored(store) == EXPECTED
    # A Measure may also be one of the catalogue's indicators (its numerator and denominator).
    by_indicator = tmp_path / "measures2.csv"
    by_indicator.write_text("measure,indicator\nurn:oid:2.16.600.1.7.2,MNI-02\n")
    r = run(store, by_indicator)
    assert r.ok and r.inserted == 1, r.render("en")
    path = _bundle(tmp_path, _set(1, "measure", "urn:oid:2.16.600.1.7.2"))
    with store.engine.begin() as c:
        c.execute(text("DELETE FROM data_value"))
    r = run(store, path)
    assert r.ok, r.render("en")
    assert stored(store) == EXPECTED
    bad = tmp_path / "bad_map.csv"
    bad.write_text(
        "measure,population,data_element,indicator\n"
        "X,numerator,POP_EMB,\nX,numerator2,NOPE,\nY,,,NOPE-1\nZ,,,\n"
    )
    r = run(store, bad)
    assert [p.reason for p in r.problems] == [
        "not_count",
        "unknown_data_element",
        "unknown_indicator",
        "missing_value",
        "missing_value",
    ]


ADX_HEAD = '<?xml version="1.0"?>\n<adx xmlns="urn:ihe:qrph:adx:2015">\n'


def _adx(tmp_path, body: str) -> Path:
    path = tmp_path / "bad.xml"
    path.write_text(ADX_HEAD + body + "</adx>\n")
    return path


@pytest.mark.parametrize(
    ("body", "where", "reason"),
    [
        (
            '<group orgUnit="F002" period="2024-01-01/P1M">\n'
            '<dataValue dataElement="NAC_VIVOS" value="-3"/>\n</group>\n',
            "line 4 <dataValue> @value",
            "negative_value",
        ),
        (
            '<group orgUnit="F002" period="2024-01-01/P7D">\n'
            '<dataValue dataElement="NAC_VIVOS" value="3"/>\n</group>\n',
            "line 3 <group> @period",
            "period_not_month_quarter_year",
        ),
        (
            '<group orgUnit="F002" period="2024-01-01/P1M">\n'
            '<dataValue dataElement="NOPE" value="3"/>\n</group>\n',
            "line 4 <dataValue> @dataElement",
            "unknown_data_element",
        ),
        (
            '<group orgUnit="F001" period="2024-01-01/P1M">\n'
            '<dataValue dataElement="NAC_VIVOS" value="3"/>\n</group>\n',
            "line 3 <group> @orgUnit",
            "outside_scope",
        ),
    ],
)
def test_adx_refusals_name_their_line(store, tmp_path, body, where, reason):
    report = _refused(store, _adx(tmp_path, body), scope=Scope.of("PY-12"))
    assert (where, reason) in [(p.where, p.reason) for p in report.problems]
    assert where.replace("line", "línea") in report.render("es")


def test_adx_broken_or_foreign_xml(store, tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text(ADX_HEAD + '<group orgUnit="F002" period="2024-01-01/P1M">\n<dataValue\n')
    report = _refused(store, broken)
    (p,) = report.problems
    assert p.reason == "bad_xml" and p.where.startswith("line ")
    other = tmp_path / "other.xml"
    other.write_text(
        '<?xml version="1.0"?>\n<dataValueSet xmlns="http://dhis2.org/schema/dxf/2.0"/>'
    )
    report = _refused(store, other)
    assert [p.reason for p in report.problems] == ["not_adx"]


def test_adx_xml_bomb_refused_before_expansion(store, tmp_path):
    bomb = tmp_path / "bomb.xml"
    lol = "".join(f'  <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(1, 10))
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE adx [\n  <!ENTITY lol0 "lol">\n'
        + lol
        + ']>\n<adx xmlns="urn:ihe:qrph:adx:2015"><group orgUnit="F002" '
        'period="2024-01-01/P1M"><dataValue dataElement="NAC_VIVOS" value="&lol9;"/>'
        "</group></adx>\n"
    )
    report = _refused(store, bomb)
    assert [(p.reason, p.where) for p in report.problems] == [("xml_forbidden", "line 2")]


def test_adx_quarter_and_year_periods_read(tmp_path):
    from dashboard.interop.vocab import adx_period, period_from_adx

    assert period_from_adx("2024-04-01/P3M").id == "2024Q2"
    assert period_from_adx("2024-01-01/P1Y").id == "2024"
    assert period_from_adx("2024-01-01/P12M").id == "2024"
    assert period_from_adx("2024-02-01/P3M") is None  # not a calendar quarter
    assert period_from_adx("2024-01-15/P1M") is None
    assert adx_period(period_from_adx("2024-07-01/P3M")) == "2024-07-01/P3M"
