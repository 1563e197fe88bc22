"""Data value imports: long CSV/XLSX and DHIS2 JSON/CSV, every rejection, all-or-nothing writes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from helpers import TWO_FACILITIES, fresh_engine
from sqlalchemy import text

from dashboard.catalog import Scope
from dashboard.importers import detect_kind, import_file
from dashboard.importers.common import parse_number
from dashboard.reference import load_reference
from dashboard.repository import Repository

TODAY = date(2024, 6, 15)
HEADER = "data_element,period,org_unit,value\n"


@pytest.fixture
def store(tmp_path) -> Repository:
    """Reference tree plus two facilities; PostgreSQL when DASHBOARD_TEST_DATABASE_URL is set."""
    repo = Repository(fresh_engine(tmp_path))
    load_reference(repo)
    repo.upsert_org_units(TWO_FACILITIES)
    yield repo
    repo.engine.dispose()


def put(tmp_path: Path, name: str, content: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode(encoding))
    return path


def run(store: Repository, path: Path, **kw):
    kw.setdefault("scope", Scope.national())
    return import_file(store, path, today=TODAY, **kw)


def stored(store: Repository) -> dict[tuple[str, str, int], float]:
    """{(facility code, data element code, month): value} as the database holds it."""
    with store.engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT o.code, d.code, v.month, v.value FROM data_value v "
                "JOIN org_unit o ON o.id = v.org_unit_id JOIN data_element d ON d.id = v.data_element_id"
            )
        ).all()
    return {(o, d, m): v for o, d, m, v in rows}


def count(store: Repository, table: str) -> int:
    with store.engine.connect() as c:
        return c.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def only_problem(report):
    assert len(report.problems) == 1, report.render("en")
    return report.problems[0]


# ==== happy paths ============================================================================
def test_long_csv_inserts_values(store, tmp_path):
    path = put(
        tmp_path,
        "v.csv",
        HEADER + "NAC_VIVOS,202401,F001,12\nPARTOS,202401,F001,13\nNAC_VIVOS,202402,F002,7\n",
    )
    report = run(store, path)
    assert report.ok, report.render("en")
    assert (report.format, report.rows, report.inserted, report.updated) == ("long-csv", 3, 3, 0)
    assert stored(store) == {
        ("F001", "NAC_VIVOS", 202401): 12.0,
        ("F001", "PARTOS", 202401): 13.0,
        ("F002", "NAC_VIVOS", 202402): 7.0,
    }


def test_long_csv_reimport_changes_nothing(store, tmp_path):
    path = put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202401,F001,12\nPARTOS,202401,F001,13\n")
    run(store, path)
    again = run(store, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert count(store, "value_change") == 0
    assert count(store, "data_value") == 2


def test_long_csv_changed_value_is_updated_and_logged(store, tmp_path):
    run(store, put(tmp_path, "a.csv", HEADER + "NAC_VIVOS,202401,F001,12\nPARTOS,202401,F001,13\n"))
    report = run(
        store, put(tmp_path, "b.csv", HEADER + "NAC_VIVOS,202401,F001,15\nPARTOS,202401,F001,13\n")
    )
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    assert stored(store)[("F001", "NAC_VIVOS", 202401)] == 15.0
    with store.engine.connect() as c:
        changes = c.execute(text("SELECT old_value, new_value, month FROM value_change")).all()
    assert [tuple(r) for r in changes] == [(12.0, 15.0, 202401)]


def test_long_csv_dry_run_writes_nothing(store, tmp_path):
    path = put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202401,F001,12\nPARTOS,202401,F001,13\n")
    report = run(store, path, dry_run=True)
    assert report.ok and report.dry_run
    assert (report.inserted, report.updated, report.unchanged) == (2, 0, 0)
    assert count(store, "data_value") == count(store, "import_batch") == count(store, "report") == 0


def test_long_csv_dry_run_counts_would_update(store, tmp_path):
    run(store, put(tmp_path, "a.csv", HEADER + "NAC_VIVOS,202401,F001,12\nPARTOS,202401,F001,13\n"))
    report = run(
        store,
        put(
            tmp_path,
            "b.csv",
            HEADER + "NAC_VIVOS,202401,F001,20\nPARTOS,202401,F001,13\nPARTOS,202402,F001,1\n",
        ),
        dry_run=True,
    )
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 1)
    assert stored(store)[("F001", "NAC_VIVOS", 202401)] == 12.0
    assert count(store, "import_batch") == 1


def test_long_csv_records_batch_reports_and_rollups(store, tmp_path):
    run(
        store,
        put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202401,F001,12\nNAC_VIVOS,202402,F001,5\n"),
    )
    with store.engine.connect() as c:
        batch = c.execute(text("SELECT source, format, rows, inserted FROM import_batch")).one()
        reports = c.execute(
            text(
                "SELECT r.month, r.expected, r.received_on FROM report r JOIN org_unit o "
                "ON o.id = r.org_unit_id WHERE o.code = 'F001' ORDER BY r.month"
            )
        ).all()
    assert tuple(batch) == ("v.csv", "long-csv", 2, 2)
    assert [(m, e) for m, e, _ in reports] == [(202401, 1), (202402, 1)]
    assert all(str(r) == str(TODAY) for _, _, r in reports)
    cat = store.catalog()
    district = store.sums(
        Scope.national(),
        [cat.unit("0101")],
        None,
        [cat.data_elements["NAC_VIVOS"].id],
        [(202401, 202402)],
    )
    assert district[0, 0, 0] == 17.0


def test_long_csv_received_on_column_sets_report_date(store, tmp_path):
    path = put(
        tmp_path,
        "v.csv",
        "data_element,period,org_unit,value,received_on\n"
        "NAC_VIVOS,202401,F001,12,2024-02-10\nPARTOS,202401,F001,3,\n",
    )
    assert run(store, path).ok
    with store.engine.connect() as c:
        received = c.execute(
            text(
                "SELECT received_on FROM report WHERE month = 202401 AND expected = 1 "
                "AND received_on IS NOT NULL"
            )
        ).scalar_one()
    assert str(received) == "2024-02-10"


def test_long_csv_identical_duplicates_count_once(store, tmp_path):
    path = put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202401,F001,12\nNAC_VIVOS,202401,F001,12.0\n")
    report = run(store, path)
    assert report.ok
    assert (report.rows, report.values, report.inserted, report.skipped) == (2, 1, 1, 1)


def test_long_csv_closed_facility_report_does_not_break_later_rollups(store, tmp_path):
    # A report stored before the registry backdated the facility's closing is not expected;
    # later refreshes must cope. (Values after the closing date are refused on import now, so
    # the closing date is recorded after the import.)
    facility = {
        "code": "F009",
        "name": "USF cerrada",
        "level": 3,
        "parent": "0101",
        "facility_type": "USF",
    }
    store.upsert_org_units([facility])
    assert run(
        store, put(tmp_path, "a.csv", HEADER + "NAC_VIVOS,202401,F009,1\nNAC_VIVOS,202401,F001,1\n")
    ).ok
    store.upsert_org_units([{**facility, "closed": date(2023, 1, 1)}])
    store.refresh_rollups()
    report = run(store, put(tmp_path, "b.csv", HEADER + "NAC_VIVOS,202402,F001,1\n"))
    assert (report.ok, report.inserted) == (True, 1)
    assert (
        report.render("en")
        == "b.csv (long-csv): 1 row read, 1 value; 1 inserted, 0 updated, 0 unchanged."
    )


def test_long_csv_current_month_is_accepted(store, tmp_path):
    report = run(store, put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202406,F001,1\n"))
    assert report.ok and report.inserted == 1


# ==== encodings, delimiters, numbers =========================================================
def test_long_csv_semicolon_file_reads_decimal_comma_and_thousands(store, tmp_path):
    path = put(
        tmp_path,
        "v.csv",
        # Counts are whole numbers now (issue 8), so the decimal part is ',0'.
        "data_element;period;org_unit;value\nDIAS_CAMA;202401;F002;1.234,0\n"
        "CAMAS_MES;202401;F002;12,0\nEGRESOS;202401;F002;7\n",
    )
    assert run(store, path).ok
    got = stored(store)
    assert (got[("F002", "DIAS_CAMA", 202401)], got[("F002", "CAMAS_MES", 202401)]) == (
        1234.0,
        12.0,
    )


def test_long_csv_semicolon_file_rejects_decimal_point(store, tmp_path):
    path = put(
        tmp_path, "v.csv", "data_element;period;org_unit;value\nCAMAS_MES;202401;F002;12.5\n"
    )
    p = only_problem(run(store, path))
    assert (p.row, p.column, p.value, p.reason) == (2, "value", "12.5", "non_numeric_comma")


def test_long_csv_comma_file_reads_decimal_point(store, tmp_path):
    report = run(store, put(tmp_path, "v.csv", HEADER + "CAMAS_MES,202401,F002,12.0\n"))
    assert report.ok and stored(store)[("F002", "CAMAS_MES", 202401)] == 12.0


def test_long_csv_comma_file_rejects_decimal_comma(store, tmp_path):
    p = only_problem(run(store, put(tmp_path, "v.csv", HEADER + 'DIAS_CAMA,202401,F002,"1,5"\n')))
    assert (p.row, p.column, p.value, p.reason) == (2, "value", "1,5", "non_numeric")


def test_long_csv_tab_delimited(store, tmp_path):
    path = put(
        tmp_path, "v.tsv", "data_element\tperiod\torg_unit\tvalue\nNAC_VIVOS\t202401\tF001\t4\n"
    )
    assert run(store, path).ok and stored(store) == {("F001", "NAC_VIVOS", 202401): 4.0}


def test_long_csv_utf8_bom_header_is_recognised(store, tmp_path):
    path = put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202401,F001,4\n", encoding="utf-8-sig")
    report = run(store, path)
    assert report.ok and report.format == "long-csv"


def test_long_csv_headers_match_case_insensitively(store, tmp_path):
    path = put(tmp_path, "v.csv", "Data_Element,PERIOD,Org_Unit,Value\nNAC_VIVOS,202401,F001,4\n")
    assert run(store, path).inserted == 1


def test_parse_number_conventions():
    assert parse_number("1.234,5", True) == 1234.5
    assert parse_number("1.234", True) == 1234.0
    assert parse_number("12", False) == 12.0
    assert parse_number("1e3", False) == 1000.0
    assert parse_number("inf", False) != parse_number("inf", False)  # NaN: not a number
    assert parse_number("1,5", False) != parse_number("1,5", False)


# ==== rejections (each: exact row and column) ================================================
def test_long_csv_unknown_org_unit(store, tmp_path):
    p = only_problem(
        run(
            store,
            put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202401,F001,1\nNAC_VIVOS,202401,XX9,1\n"),
        )
    )
    assert (p.row, p.column, p.value, p.reason) == (3, "org_unit", "XX9", "unknown_org_unit")


@pytest.mark.parametrize(("code", "level"), [("PY-12", 1), ("0101", 2), ("PY", 0)])
def test_long_csv_region_or_district_is_not_a_facility(store, tmp_path, code, level):
    p = only_problem(run(store, put(tmp_path, "v.csv", HEADER + f"NAC_VIVOS,202401,{code},1\n")))
    assert (p.row, p.column, p.value, p.reason, p.params) == (
        2,
        "org_unit",
        code,
        "not_facility",
        {"level": level},
    )
    assert "not a facility" in p.message("en")


def test_long_csv_code_that_lost_its_leading_zero_gets_a_hint(store, tmp_path):
    p = only_problem(run(store, put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202401,101,1\n")))
    assert (p.row, p.reason, p.params) == (2, "unknown_org_unit_zero", {"code": "0101"})


def test_long_csv_unknown_data_element(store, tmp_path):
    p = only_problem(
        run(
            store,
            put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202401,F001,1\n\nNOPE,202401,F001,1\n"),
        )
    )
    # The blank line is spreadsheet row 3, so the bad row is row 4.
    assert (p.row, p.column, p.value, p.reason) == (
        4,
        "data_element",
        "NOPE",
        "unknown_data_element",
    )


@pytest.mark.parametrize(
    ("code", "kind"), [("POP_TOTAL", "population"), ("REP_EXPECTED", "derived")]
)
def test_long_csv_population_or_derived_element_is_rejected(store, tmp_path, code, kind):
    p = only_problem(run(store, put(tmp_path, "v.csv", HEADER + f"{code},202401,F001,1\n")))
    assert (p.row, p.column, p.reason, p.params) == (2, "data_element", "not_count", {"kind": kind})


@pytest.mark.parametrize(
    ("period", "reason"),
    [
        ("2024W3", "not_month_quarter_year"),
        ("2024S1", "not_month_quarter_year"),
        ("2024Q5", "bad_period"),
        ("202413", "bad_period"),
        ("2024-01", "bad_period"),
        ("enero", "bad_period"),
    ],
)
def test_long_csv_bad_or_other_period_type(store, tmp_path, period, reason):
    p = only_problem(run(store, put(tmp_path, "v.csv", HEADER + f"NAC_VIVOS,{period},F001,1\n")))
    assert (p.row, p.column, p.value, p.reason) == (2, "period", period, reason)


def test_long_csv_week_reason_names_the_period_types_taken(store, tmp_path):
    # Quarters and years are taken (tests/test_import_periods.py); a week is not.
    p = only_problem(run(store, put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,2024W3,F001,1\n")))
    assert "quarters YYYYQn" in p.message("en") and "trimestres AAAAQn" in p.message("es")


def test_long_csv_future_period(store, tmp_path):
    p = only_problem(run(store, put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202407,F001,1\n")))
    assert (p.row, p.column, p.value, p.reason) == (2, "period", "202407", "future_period")


@pytest.mark.parametrize(
    ("value", "reason"), [("abc", "non_numeric"), ("-3", "negative_value"), ("", "missing_value")]
)
def test_long_csv_bad_value(store, tmp_path, value, reason):
    p = only_problem(
        run(store, put(tmp_path, "v.csv", HEADER + f"NAC_VIVOS,202401,F001,{value}\n"))
    )
    assert (p.row, p.column, p.value, p.reason) == (2, "value", value, reason)


def test_long_csv_conflicting_duplicate_names_the_earlier_row(store, tmp_path):
    path = put(
        tmp_path,
        "v.csv",
        HEADER + "NAC_VIVOS,202401,F001,12\nPARTOS,202401,F001,1\nNAC_VIVOS,202401,F001,13\n",
    )
    p = only_problem(run(store, path))
    assert (p.row, p.column, p.value, p.reason, p.params) == (
        4,
        "value",
        "13",
        "duplicate_conflict",
        {"first": 2},
    )
    assert p.render("en") == "v.csv row 4, column value: '13' — conflicting duplicate of row 2"


def test_long_csv_missing_required_column(store, tmp_path):
    report = run(
        store, put(tmp_path, "v.csv", "data_element,period,org_unit\nNAC_VIVOS,202401,F001\n")
    )
    p = only_problem(report)
    assert (p.row, p.column, p.reason) == (1, "value", "missing_column")


def test_long_csv_bad_received_on(store, tmp_path):
    path = put(
        tmp_path,
        "v.csv",
        HEADER.strip() + ",received_on\nNAC_VIVOS,202401,F001,1,10/02/2024\n"
        "PARTOS,202401,F001,1,2024-07-01\n",
    )
    report = run(store, path)
    assert [(p.row, p.column, p.reason) for p in report.problems] == [
        (2, "received_on", "bad_date"),
        (3, "received_on", "future_date"),
    ]


def test_long_csv_lists_every_problem_and_writes_nothing(store, tmp_path):
    path = put(
        tmp_path,
        "v.csv",
        HEADER
        + "NAC_VIVOS,202401,F001,5\nNAC_VIVOS,202401,F002,-3\nNOPE,2024W1,0101,x\nPARTOS,202401,F001,1\n",
    )
    report = run(store, path)
    assert not report.ok
    assert [(p.row, p.column, p.reason) for p in report.problems] == [
        (3, "value", "negative_value"),
        (4, "data_element", "unknown_data_element"),
        (4, "period", "not_month_quarter_year"),
        (4, "org_unit", "not_facility"),
        (4, "value", "non_numeric"),
    ]
    assert (report.inserted, count(store, "data_value"), count(store, "import_batch")) == (0, 0, 0)


def test_long_csv_extra_field_is_a_problem_but_trailing_empty_ones_are_not(store, tmp_path):
    path = put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202401,F001,5,,\nPARTOS,202401,F001,1,oops\n")
    p = only_problem(run(store, path))
    assert (p.row, p.reason, p.params) == (3, "too_many_fields", {"fields": 5, "width": 4})


# ==== whole-file problems ====================================================================
def test_import_missing_file_is_a_problem(store, tmp_path):
    p = only_problem(run(store, tmp_path / "nope.csv"))
    assert (p.row, p.column, p.reason) == (0, "", "file_not_found")


def test_import_empty_file_is_a_problem(store, tmp_path):
    p = only_problem(run(store, put(tmp_path, "v.csv", "")))
    assert (p.row, p.reason) == (0, "empty_file")


def test_import_header_only_file_is_a_problem(store, tmp_path):
    p = only_problem(run(store, put(tmp_path, "v.csv", HEADER)))
    assert (p.row, p.reason) == (0, "no_rows")


def test_import_unknown_extension_is_a_problem(store, tmp_path):
    p = only_problem(run(store, put(tmp_path, "v.pdf", "%PDF")))
    assert (p.row, p.reason, p.params) == (0, "unknown_extension", {"ext": ".pdf"})


def test_import_xlsx_that_is_not_a_zip_is_a_problem(store, tmp_path):
    p = only_problem(run(store, put(tmp_path, "v.xlsx", HEADER + "NAC_VIVOS,202401,F001,1\n")))
    assert (p.row, p.column, p.reason) == (0, "", "bad_xlsx")
    assert p.render("en") == "v.xlsx: not a valid XLSX file (not an Excel zip archive)"


def test_import_unrecognised_header_is_a_problem(store, tmp_path):
    p = only_problem(run(store, put(tmp_path, "v.csv", "foo,bar\n1,2\n")))
    assert (p.row, p.reason) == (1, "unknown_header")


# ==== XLSX ===================================================================================
def test_long_xlsx_accepts_numbers_stored_as_numbers(store, tmp_path):
    path = tmp_path / "v.xlsx"
    frame = pd.DataFrame(
        {
            "data_element": ["NAC_VIVOS", "PARTOS", "CAMAS_MES"],
            "period": [202401, 202401, "202402"],
            "org_unit": ["F001", "F001", "F002"],
            "value": [12.0, 3, 4.0],
        }
    )
    frame.to_excel(path, index=False)
    report = run(store, path)
    assert report.ok and report.format == "long-xlsx", report.render("en")
    assert stored(store) == {
        ("F001", "NAC_VIVOS", 202401): 12.0,
        ("F001", "PARTOS", 202401): 3.0,
        ("F002", "CAMAS_MES", 202402): 4.0,
    }


def test_long_xlsx_problem_rows_are_spreadsheet_rows(store, tmp_path):
    path = tmp_path / "v.xlsx"
    frame = pd.DataFrame(
        {
            "data_element": ["NAC_VIVOS", None, "NAC_VIVOS"],
            "period": ["202401", None, "202401"],
            "org_unit": ["F001", None, "F002"],
            "value": [1, None, -2],
        }
    )
    frame.to_excel(path, index=False)
    p = only_problem(run(store, path))
    assert (p.row, p.column, p.value, p.reason) == (4, "value", "-2", "negative_value")


# ==== DHIS2 ==================================================================================
def dhis2_json(tmp_path: Path, values: list) -> Path:
    path = tmp_path / "dvs.json"
    path.write_text(json.dumps({"dataSet": "x", "dataValues": values}), encoding="utf-8")
    return path


def test_dhis2_json_sums_category_option_combos(store, tmp_path):
    path = dhis2_json(
        tmp_path,
        [
            {
                "dataElement": "NAC_VIVOS",
                "period": "202401",
                "orgUnit": "F001",
                "categoryOptionCombo": "M",
                "value": "5",
            },
            {
                "dataElement": "NAC_VIVOS",
                "period": "202401",
                "orgUnit": "F001",
                "categoryOptionCombo": "F",
                "value": 7,
            },
            {
                "dataElement": "PARTOS",
                "period": "202401",
                "orgUnit": "F001",
                "categoryOptionCombo": "F",
                "value": "9",
                "deleted": True,
            },
        ],
    )
    report = run(store, path)
    assert report.ok and report.format == "dhis2-json", report.render("en")
    assert (report.rows, report.values, report.skipped) == (3, 1, 1)
    assert stored(store) == {("F001", "NAC_VIVOS", 202401): 12.0}


def test_dhis2_json_problem_row_is_the_entry_index(store, tmp_path):
    path = dhis2_json(
        tmp_path,
        [
            {"dataElement": "NAC_VIVOS", "period": "202401", "orgUnit": "F001", "value": "5"},
            {"dataElement": "NAC_VIVOS", "period": "202401", "orgUnit": "PY-1", "value": "5"},
        ],
    )
    p = only_problem(run(store, path))
    assert (p.row, p.column, p.value, p.reason) == (2, "orgUnit", "PY-1", "not_facility")


def test_dhis2_json_same_combo_twice_with_other_value_conflicts(store, tmp_path):
    entry = {
        "dataElement": "NAC_VIVOS",
        "period": "202401",
        "orgUnit": "F001",
        "categoryOptionCombo": "M",
    }
    path = dhis2_json(
        tmp_path,
        [
            {**entry, "value": "5"},
            {**entry, "categoryOptionCombo": "F", "value": "1"},
            {**entry, "value": "6"},
        ],
    )
    p = only_problem(run(store, path))
    assert (p.row, p.column, p.reason, p.params) == (3, "value", "duplicate_conflict", {"first": 1})


def test_dhis2_json_uid_gets_an_id_scheme_hint(store, tmp_path):
    path = dhis2_json(
        tmp_path,
        [{"dataElement": "NAC_VIVOS", "period": "202401", "orgUnit": "DiszpKrYNg8", "value": "1"}],
    )
    p = only_problem(run(store, path))
    assert (p.column, p.reason) == ("orgUnit", "unknown_uid")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "bad_json"),
        (json.dumps({"dataSet": "x"}), "no_data_values"),
        ('{"dataValues": []}', "no_rows"),
    ],
)
def test_dhis2_json_unreadable_is_a_problem(store, tmp_path, content, reason):
    p = only_problem(run(store, put(tmp_path, "dvs.json", content)))
    assert (p.row, p.column, p.reason) == (0, "", reason)


DHIS2_CSV_HEADER = "dataelement,period,orgunit,catoptcombo,attroptcombo,value,storedby,lastupdated,comment,followup,deleted\n"


def test_dhis2_csv_sums_category_option_combos(store, tmp_path):
    path = put(
        tmp_path,
        "dvs.csv",
        DHIS2_CSV_HEADER
        + "PENTA1,202403,F002,COC_M,AOC,10,admin,2024-04-01,,false,\n"
        + "PENTA1,202403,F002,COC_F,AOC,11,admin,2024-04-01,,false,false\n"
        + "PENTA3,202403,F002,COC_F,AOC,99,admin,2024-04-01,,false,true\n",
    )
    report = run(store, path)
    assert report.ok and report.format == "dhis2-csv", report.render("en")
    assert stored(store) == {("F002", "PENTA1", 202403): 21.0}


def test_dhis2_csv_accepts_camel_case_headers(store, tmp_path):
    path = put(
        tmp_path,
        "dvs.csv",
        "dataElement,period,orgUnit,categoryOptionCombo,attributeOptionCombo,value\n"
        "PENTA1,202403,F002,A,X,2\nPENTA1,202403,F002,B,X,3\nPENTA1,202403,F001,B,X,-1\n",
    )
    p = only_problem(run(store, path))
    assert (p.row, p.column, p.value, p.reason) == (4, "value", "-1", "negative_value")


def test_dhis2_csv_missing_column_names_the_dhis2_column(store, tmp_path):
    p = only_problem(
        run(
            store,
            put(tmp_path, "dvs.csv", "dataelement,period,catoptcombo,value\nPENTA1,202403,A,1\n"),
        )
    )
    assert (p.row, p.column, p.reason) == (1, "orgunit", "missing_column")


def test_detect_kind_by_header():
    assert detect_kind({"data_element", "period", "org_unit", "value"}) == "long"
    assert detect_kind({"dataelement", "period", "orgunit", "value"}) == "dhis2"
    assert detect_kind({"org_unit", "year", "data_element", "value"}) == "populations"
    assert detect_kind({"code", "name", "level", "parent"}) == "org-units"
    assert detect_kind({"foo"}) is None


# ==== the report =============================================================================
def test_report_renders_one_line_per_problem_in_both_languages(store, tmp_path):
    path = put(
        tmp_path,
        "archivo.csv",
        HEADER
        + "".join(f"NAC_VIVOS,20240{i},F001,1\n" for i in range(1, 6))
        + "PARTOS,202401,F001,-3\n",
    )
    report = run(store, path)
    es, en = report.render("es").splitlines(), report.render("en").splitlines()
    assert es[0] == "archivo.csv (long-csv): 1 problema; no se importó nada."
    assert es[1] == "archivo.csv fila 7, columna value: '-3' — valor negativo"
    assert en[1] == "archivo.csv row 7, column value: '-3' — negative value"


def test_report_summary_uses_language_number_format(store, tmp_path):
    rows = "".join(
        f"NAC_VIVOS,2023{m:02d},F001,{m}\nPARTOS,2023{m:02d},F001,1\n" for m in range(1, 13)
    )
    body = rows * 50  # identical duplicates: 1,200 rows, 24 values
    report = run(store, put(tmp_path, "v.csv", HEADER + body))
    assert report.render("es").startswith(
        "v.csv (long-csv): 1.200 filas leídas, 24 valores; 24 insertados"
    )
    assert report.render("en").startswith(
        "v.csv (long-csv): 1,200 rows read, 24 values; 24 inserted"
    )


def test_report_as_dict_carries_problems_with_both_messages(store, tmp_path):
    d = run(store, put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202401,F001,-3\n")).as_dict()
    assert (d["ok"], d["format"], d["inserted"]) == (False, "long-csv", 0)
    assert d["problems"] == [
        {
            "file": "v.csv",
            "row": 2,
            "column": "value",
            "value": "-3",
            "reason": "negative_value",
            "message_es": "valor negativo",
            "message_en": "negative value",
        }
    ]
