"""`export`: FHIR, ADX, DHIS2 JSON and CSV round trips, and the FHIR checked against R4."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from helpers import TWO_FACILITIES

from dashboard.__main__ import main
from dashboard.db import make_engine
from dashboard.reference import load_reference
from dashboard.repository import Repository

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "interop"
FACILITIES = [
    *TWO_FACILITIES,
    {
        "code": "F003",
        "name": "Hospital Distrital de Horqueta",
        "level": 3,
        "parent": "0103",
        "facility_type": "HD",
    },
    {
        "code": "F004",
        "name": "Hospital Distrital de Loreto",
        "level": 3,
        "parent": "0104",
        "facility_type": "HD",
    },
]
MORE = (
    "MUERTE_NEO,202401,F003,1\nNAC_VIVOS,202401,F003,80\n"
    "MUERTE_NEO,202403,F003,0\nNAC_VIVOS,202403,F003,75\n"
)


def database(tmp_path: Path, name: str) -> str:
    # Two databases side by side: SQLite files even when the suite runs on PostgreSQL.
    url = f"sqlite:///{tmp_path / name}.sqlite3"
    repo = Repository(make_engine(url))
    load_reference(repo)
    repo.upsert_org_units(FACILITIES)
    repo.engine.dispose()
    return url


@pytest.fixture
def cli(monkeypatch, capsys):
    monkeypatch.setenv("DASHBOARD_TODAY", "2024-06-15")

    def run(url: str, *argv: str) -> tuple[int, str, str]:
        monkeypatch.setenv("DASHBOARD_DATABASE_URL", url)
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def answers(cli, url: str) -> list:
    out = []
    for unit, by in (("PY", "month"), ("PY", "facility"), ("PY-1", None), ("PY", "region")):
        code, text, err = cli(
            url,
            "query",
            "--indicator",
            "MNI-02",
            "--org-unit",
            unit,
            "--period",
            "2024Q1",
            "--format",
            "json",
            *(["--by", by] if by else []),
        )
        assert code == 0, err
        out.append(json.loads(text))
    return out


@pytest.fixture
def source(tmp_path, cli):
    url = database(tmp_path, "source")
    values = tmp_path / "values.csv"
    values.write_text((FIXTURES / "values.csv").read_text() + MORE)
    code, out, err = cli(url, "import", str(values))
    assert code == 0, out + err
    return url


SUFFIX = {"fhir": "json", "adx": "xml", "dhis2-json": "json", "csv": "csv"}


@pytest.mark.parametrize("fmt", ["fhir", "adx", "dhis2-json", "csv"])
def test_round_trip_is_exact(tmp_path, cli, source, fmt):
    target = database(tmp_path, "target")
    files = []
    # One file per facility by month: the store keeps facility-month values.
    for unit in ("F002", "F003"):
        files.append(
            _export(cli, source, fmt, unit, tmp_path / f"{unit}.{SUFFIX[fmt]}", "--by", "month")
        )
    code, out, err = cli(target, "import", *files)
    assert code == 0, out + err
    before, after = answers(cli, source), answers(cli, target)
    assert after == before
    # Hand-computed national quarter: (2 + 1 + 1 + 0) / (150 + 140 + 80 + 75) * 1000.
    monthly = before[0]
    assert [r["numerator"] for r in monthly] == [3, 1, 0]
    assert [r["denominator"] for r in monthly] == [230, 140, 75]
    assert sum(r["numerator"] for r in monthly) / sum(r["denominator"] for r in monthly) * 1000 == (
        pytest.approx(4 / 445 * 1000)
    )


def _export(cli, url: str, fmt: str, unit: str, path: Path, *extra: str) -> str:
    code, _, err = cli(
        url,
        "export",
        "--format",
        fmt,
        "--indicator",
        "MNI-02",
        "--org-unit",
        unit,
        "--period",
        "2024Q1",
        *extra,
        "-o",
        str(path),
    )
    assert code == 0, err
    return str(path)


@pytest.mark.parametrize("fmt", ["fhir", "adx", "dhis2-json", "csv"])
def test_round_trip_with_a_quarter_value_is_exact(tmp_path, cli, source, fmt):
    # F004 reports its first quarter as one value (as a FHIR or ADX quarterly report may).
    quarter = tmp_path / "quarter.csv"
    quarter.write_text(
        "data_element,period,org_unit,value\nMUERTE_NEO,2024Q1,F004,2\nNAC_VIVOS,2024Q1,F004,200\n"
    )
    code, out, err = cli(source, "import", str(quarter))
    assert code == 0, out + err
    target = database(tmp_path, "target")
    files = [
        _export(cli, source, fmt, unit, tmp_path / f"{unit}.{SUFFIX[fmt]}", "--by", "month")
        for unit in ("F002", "F003")
    ]
    # F004 has no month to export: its quarter goes as the quarter it is.
    files.append(_export(cli, source, fmt, "F004", tmp_path / f"F004.{SUFFIX[fmt]}"))
    text = Path(files[-1]).read_text()
    assert {"fhir": '"end": "2024-03-31"', "adx": "2024-01-01/P3M"}.get(fmt, "2024Q1") in text
    code, out, err = cli(target, "import", *files)
    assert code == 0, out + err
    before, after = answers(cli, source), answers(cli, target)
    assert after == before
    # Hand-computed: the quarter holds F004's 2 / 200; the months never do.
    national_by_month, by_facility = before[0], before[1]
    assert [r["numerator"] for r in national_by_month] == [3, 1, 0]
    f004 = next(r for r in by_facility if r["org_unit"] == "F004")
    assert (f004["numerator"], f004["denominator"]) == (2, 200)
    concepcion = before[2][0]  # PY-1: F003's months and F004's quarter
    assert (concepcion["numerator"], concepcion["denominator"]) == (1 + 0 + 2, 80 + 75 + 200)


def _bundle(cli, source, tmp_path, *extra) -> dict:
    path = tmp_path / "out.json"
    code, _, err = cli(
        source,
        "export",
        "--format",
        "fhir",
        "--indicator",
        "MNI-02",
        "--org-unit",
        "PY",
        "--period",
        "2024Q1",
        *extra,
        "-o",
        str(path),
    )
    assert code == 0, err
    return json.loads(path.read_text())


MEASURE_POPULATION = {
    "initial-population",
    "numerator",
    "numerator-exclusion",
    "denominator",
    "denominator-exclusion",
    "denominator-exception",
    "measure-population",
    "measure-population-exclusion",
    "measure-observation",
}


def test_fhir_export_is_a_valid_r4_measurereport_bundle(cli, source, tmp_path):
    doc = _bundle(cli, source, tmp_path, "--by", "region")
    # Structure, cardinality and data types by the FHIR models (R4B: MeasureReport is R4's).
    parsed = Bundle.model_validate(doc)
    assert parsed.type == "collection"
    reports = [e["resource"] for e in doc["entry"]]
    assert len(reports) == 2  # regions with data: Concepción (F003) and Ñeembucú (F002)
    for mr in reports:
        # Required elements and required-binding value sets of R4 MeasureReport.
        assert mr["resourceType"] == "MeasureReport"
        assert mr["status"] in {"complete", "pending", "error"} and mr["status"] == "complete"
        assert mr["type"] in {"individual", "subject-list", "summary", "data-collection"}
        assert mr["type"] == "summary"
        assert mr["measure"] == "https://mspbs.gov.py/fhir/Measure/MNI-02"
        assert {"start", "end"} <= set(mr["period"])
        assert mr["improvementNotation"]["coding"][0]["code"] in {"increase", "decrease"}
        for group in mr["group"]:
            for pop in group["population"]:
                coding = pop["code"]["coding"][0]
                assert coding["system"] == (
                    "http://terminology.hl7.org/CodeSystem/measure-population"
                )
                assert coding["code"] in MEASURE_POPULATION
                assert isinstance(pop["count"], int)
    by_region = {mr["subject"]["identifier"]["value"]: mr for mr in reports}
    assert set(by_region) == {"PY-1", "PY-12"}
    pilar = by_region["PY-12"]
    assert pilar["subject"]["identifier"]["system"] == "urn:iso:std:iso:3166:-2"
    assert pilar["period"] == {"start": "2024-01-01", "end": "2024-03-31"}
    counts = {p["code"]["coding"][0]["code"]: p["count"] for p in pilar["group"][0]["population"]}
    assert counts == {"numerator": 3, "denominator": 290}
    assert pilar["group"][0]["measureScore"]["value"] == pytest.approx(3 / 290 * 1000)


def test_export_refuses_combined_numerator_as_data_values(cli, source, tmp_path):
    code, _, err = cli(
        source,
        "export",
        "--format",
        "adx",
        "--indicator",
        "INM-04",
        "--org-unit",
        "PY",
        "--period",
        "2024Q1",
        "-o",
        str(tmp_path / "x.xml"),
    )
    assert code == 2 and "not one data element" in err


def test_export_scope_limits_rows(cli, source, tmp_path):
    doc = _bundle(cli, source, tmp_path, "--by", "region", "--scope", "PY-1")
    assert [e["resource"]["subject"]["identifier"]["value"] for e in doc["entry"]] == ["PY-1"]
