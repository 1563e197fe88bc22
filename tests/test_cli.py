"""The command line: output formats and errors of query, indicators and org-units."""

import csv
import io
import json

import pytest

from dashboard.__main__ import main
from dashboard.aggregate import query
from dashboard.catalog import Scope
from dashboard.periods import parse_period


@pytest.fixture
def cli(demo, monkeypatch, capsys):
    _, url, _ = demo
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", url)
    monkeypatch.setenv("DASHBOARD_TODAY", "2026-11-29")

    def run(*argv):
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_cli_query_json_has_the_documented_fields(cli, demo):
    code, out, _ = cli(
        "query",
        "--indicator",
        "INM-03",
        "--org-unit",
        "PY-1",
        "--period",
        "2024Q3",
        "--format",
        "json",
    )
    assert code == 0
    [row] = json.loads(out)
    for key in (
        "indicator",
        "org_unit",
        "period",
        "numerator",
        "denominator",
        "value",
        "completeness",
        "quality",
    ):
        assert key in row
    assert isinstance(row["quality"], list)
    assert (row["indicator"], row["org_unit"], row["period"]) == ("INM-03", "PY-1", "2024Q3")
    repo = demo[0]
    cat = repo.catalog()
    [r] = query(
        repo,
        Scope.national(),
        cat.indicators["INM-03"],
        cat.unit("PY-1"),
        parse_period("2024Q3", None),
    )
    assert row["value"] == pytest.approx(r.value)
    assert row["value"] == pytest.approx(row["numerator"] / row["denominator"] * 100)


def test_cli_query_by_region_csv_has_18_rows(cli):
    code, out, _ = cli(
        "query",
        "--indicator",
        "DQ-01",
        "--org-unit",
        "PY",
        "--period",
        "2025",
        "--by",
        "region",
        "--format",
        "csv",
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 18
    assert {r["org_unit"] for r in rows} >= {"PY-ASU", "PY-16", "PY-19"}
    assert all(float(r["value"]) > 0 for r in rows)


def test_cli_query_by_month_table(cli):
    code, out, _ = cli(
        "query", "--indicator", "TRA-01", "--org-unit", "PY", "--period", "2024", "--by", "month"
    )
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 13
    assert lines[0].split()[:4] == ["indicator", "org_unit", "org_unit_name", "period"]
    assert "202402" in lines[2]


def test_cli_query_scope_limits_the_breakdown(cli):
    code, out, _ = cli(
        "query",
        "--indicator",
        "DQ-01",
        "--org-unit",
        "PY",
        "--period",
        "2025",
        "--by",
        "region",
        "--scope",
        "PY-1",
        "--format",
        "json",
    )
    assert code == 0
    assert [r["org_unit"] for r in json.loads(out)] == ["PY-1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--indicator", "NOPE", "--org-unit", "PY", "--period", "2024"),
            "unknown indicator 'NOPE'",
        ),
        (("--indicator", "DQ-01", "--org-unit", "XX", "--period", "2024"), "unknown org unit 'XX'"),
        (
            ("--indicator", "DQ-01", "--org-unit", "PY", "--period", "2024Q9"),
            "'2024Q9' is not a period",
        ),
        (
            ("--indicator", "DQ-01", "--org-unit", "PY", "--period", "2024", "--type", "ZZ"),
            "unknown facility type ZZ",
        ),
    ],
)
def test_cli_query_errors_say_what_is_wrong(cli, args, message):
    code, out, err = cli("query", *args)
    assert code == 2 and message in err and out == ""


def test_cli_indicators_json_lists_the_catalogue(cli):
    code, out, _ = cli("indicators", "--format", "json", "--lang", "en")
    rows = json.loads(out)
    assert code == 0 and 25 <= len(rows) <= 35
    pentas = [r for r in rows if r["code"] == "INM-03"]
    assert pentas[0]["name"] == "DTP3-containing vaccine coverage" and pentas[0]["target"] == 90


def test_cli_org_units_lists_the_tree(cli):
    code, out, _ = cli("org-units", "--level", "region", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 18
    assert {"code": "PY-19", "name": "Boquerón"}.items() <= next(
        r for r in rows if r["code"] == "PY-19"
    ).items()
    code, out, _ = cli("org-units", "--parent", "PY-16", "--level", "district", "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(out)))) == 4
