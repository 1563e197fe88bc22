"""Bounded imports (issue 8): size caps, zip bombs, undecodable text, whole counts, closing dates,
absurd magnitudes, access scope and chunked reading. Each refusal is tested with a real file."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from helpers import fresh_engine
from sqlalchemy import text

from dashboard.catalog import Scope
from dashboard.config import Settings
from dashboard.importers import ImportLimits, import_file
from dashboard.reference import load_reference
from dashboard.repository import Repository

TODAY = date(2024, 6, 15)
HEADER = "data_element,period,org_unit,value\n"
NATIONAL = Scope.national()


@pytest.fixture
def store(tmp_path) -> Repository:
    """Reference tree plus F001 (Concepción, PY-1), F002 (Ñeembucú, PY-12) and F003, which
    closed on 15 June 2023."""
    repo = Repository(fresh_engine(tmp_path))
    load_reference(repo)
    repo.upsert_org_units(
        [
            {"code": c, "name": n, "level": 3, "parent": p, "facility_type": t, "closed": closed}
            for c, n, p, t, closed in (
                ("F001", "USF Concepción", "0101", "USF", None),
                ("F002", "Hospital de Pilar", "1201", "HR", None),
                ("F003", "USF cerrada", "0101", "USF", date(2023, 6, 15)),
            )
        ]
    )
    yield repo
    repo.engine.dispose()


def put_bytes(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def put(tmp_path: Path, name: str, content: str) -> Path:
    return put_bytes(tmp_path, name, content.encode("utf-8"))


def run(store: Repository, path: Path, **kw):
    kw.setdefault("scope", NATIONAL)
    return import_file(store, path, today=TODAY, **kw)


def only_problem(report):
    assert len(report.problems) == 1, report.render("en")
    return report.problems[0]


def values_stored(store: Repository) -> int:
    with store.engine.connect() as c:
        return c.execute(text("SELECT COUNT(*) FROM data_value")).scalar_one()


# ==== size cap ===============================================================================
def test_bounds_file_over_the_configured_cap_is_refused_before_parsing(
    store, tmp_path, monkeypatch
):
    path = put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202401,F001,1\n" * 20)
    import dashboard.importers.common as common

    def never(*a, **k):
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(common, "text_encoding", never)
    p = only_problem(run(store, path, limits=ImportLimits(max_bytes=100)))
    assert (p.row, p.column, p.reason) == (0, "", "file_too_large")
    assert p.params == {"size": path.stat().st_size, "limit": 100}
    assert p.render("en") == "v.csv: the file is 0.0 MB; the limit is 0.0 MB"
    assert values_stored(store) == 0


def test_bounds_cap_comes_from_settings_in_megabytes():
    assert Settings.from_env({}).import_max_bytes == 100 * 1024 * 1024
    settings = Settings.from_env({"DASHBOARD_IMPORT_MAX_MB": "2.5"})
    assert settings.import_max_bytes == int(2.5 * 1024 * 1024)
    assert ImportLimits.for_size(settings.import_max_bytes).max_unzipped_bytes == 5 * int(
        2.5 * 1024 * 1024
    )


def test_bounds_size_message_in_megabytes_per_language(store, tmp_path):
    path = put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202401,F001,1\n")
    p = only_problem(run(store, path, limits=ImportLimits(max_bytes=10)))
    p.params = {"size": 150 * 1024 * 1024 + 512 * 1024, "limit": 100 * 1024 * 1024}
    assert p.message("es") == "el archivo pesa 150,5 MB y el máximo es 100,0 MB"
    assert p.message("en") == "the file is 150.5 MB; the limit is 100.0 MB"


# ==== XLSX: zip bombs and XML ================================================================
def _xlsx_with_sheet(sheet_xml: bytes) -> bytes:
    """A minimal workbook whose first sheet is sheet_xml (deflated)."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            b'<Default Extension="xml" ContentType="application/xml"/>'
            b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            b"</Types>"
        ),
        "_rels/.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            b"</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}" xmlns:r="{rel}">'
            '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            b"</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_bounds_zip_bomb_xlsx_is_refused_before_openpyxl_opens_it(store, tmp_path, monkeypatch):
    # 64 MB of one repeated byte inside the sheet: deflated to about 64 KB (ratio ~1000:1).
    bomb = b'<?xml version="1.0"?><worksheet>' + b" " * (64 * 1024 * 1024) + b"</worksheet>"
    path = put_bytes(tmp_path, "bomb.xlsx", _xlsx_with_sheet(bomb))
    assert path.stat().st_size < 200 * 1024
    import openpyxl

    def never(*a, **k):
        raise AssertionError("openpyxl opened the bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    p = only_problem(run(store, path))
    assert (p.row, p.reason) == (0, "xlsx_ratio")
    assert p.params["entry"] == "xl/worksheets/sheet1.xml"
    assert p.params["ratio"] > 100
    assert "zip bomb" in p.render("en") and "bomba zip" in p.render("es")


def test_bounds_xlsx_unpacking_past_the_cap_is_refused(store, tmp_path):
    path = tmp_path / "v.xlsx"
    pd.DataFrame({"data_element": ["NAC_VIVOS"] * 50, "period": ["202401"] * 50}).to_excel(
        path, index=False
    )
    p = only_problem(run(store, path, limits=ImportLimits(max_unzipped_bytes=2000)))
    assert (p.row, p.reason) == (0, "xlsx_too_large")
    assert p.params["limit"] == 2000 and p.params["size"] > 2000


def test_bounds_xlsx_xml_goes_through_defusedxml(store, tmp_path):
    from openpyxl.xml import functions

    assert functions.iterparse.__module__.startswith("defusedxml")
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    p = only_problem(run(store, put_bytes(tmp_path, "lol.xlsx", _xlsx_with_sheet(laughs))))
    assert (p.row, p.reason) == (0, "bad_xlsx")


# ==== text that does not decode ==============================================================
def test_bounds_undecodable_byte_is_refused_with_its_offset(store, tmp_path):
    # 0x81 is neither UTF-8 nor Windows-1252 (Latin-1 would have stored it as U+0081).
    content = b"code,name,level,parent\nPY-1,Regi\x81n Concepci\xf3n,region,PY\n"
    p = only_problem(run(store, put_bytes(tmp_path, "ou.csv", content)))
    assert (p.row, p.reason) == (0, "undecodable_byte")
    assert p.params == {"offset": content.index(b"\x81"), "byte": "81", "line": 2}
    assert p.render("en") == (
        "ou.csv: unreadable byte 0x81 at offset 32 (line 2): not UTF-8, UTF-16 or "
        "Windows-1252 text; save it as CSV UTF-8"
    )
    with store.engine.connect() as c:
        assert c.execute(text("SELECT name FROM org_unit WHERE code = 'PY-1'")).scalar_one() == (
            "Concepción"
        )


def test_bounds_cp1252_text_is_still_read(store, tmp_path):
    content = "code,name,level,parent,facility_type\nF100,USF Ñeembucú,facility,1201,USF\n"
    report = run(store, put_bytes(tmp_path, "ou.csv", content.encode("cp1252")))
    assert report.ok, report.render("en")
    store.invalidate()
    assert store.catalog().by_code["F100"].name == "USF Ñeembucú"


def test_bounds_utf8_mixed_with_cp1252_is_refused(store, tmp_path):
    content = "code,name,level,parent\nPY-12,Ñeembucú,region,PY\n".encode() + (
        "PY-1,Concepción,region,PY\n".encode("cp1252")
    )
    p = only_problem(run(store, put_bytes(tmp_path, "ou.csv", content)))
    assert (p.reason, p.params["byte"], p.params["line"]) == ("mixed_encoding", "F3", 3)
    assert p.params["offset"] == content.index(b"\xf3")


def test_bounds_control_character_is_refused_with_its_offset(store, tmp_path):
    content = ("code,name,level,parent\nPY-1,Concepción\x00,region,PY\n").encode()
    p = only_problem(run(store, put_bytes(tmp_path, "ou.csv", content)))
    assert (p.reason, p.params["code"], p.params["line"]) == ("control_character", "0000", 2)
    assert p.params["offset"] == content.index(b"\x00")


def test_bounds_utf16_without_bom_is_not_text(store, tmp_path):
    p = only_problem(run(store, put_bytes(tmp_path, "v.csv", HEADER.encode("utf-16-le"))))
    assert (p.reason, p.params["offset"]) == ("control_character", 1)


def test_bounds_utf16_with_bom_still_reads(store, tmp_path):
    content = (HEADER + "NAC_VIVOS,202401,F001,3\n").encode("utf-16")
    report = run(store, put_bytes(tmp_path, "v.csv", content))
    assert report.ok and report.inserted == 1, report.render("en")


# ==== values: whole counts, closing dates, magnitudes ========================================
def test_bounds_decimal_count_is_refused_with_row_and_column(store, tmp_path):
    path = put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202401,F001,3\nPARTOS,202401,F001,2.5\n")
    p = only_problem(run(store, path))
    assert (p.row, p.column, p.value, p.reason) == (3, "value", "2.5", "not_whole_count")
    assert (
        p.render("es") == "v.csv fila 3, columna value: '2.5' — un conteo debe ser un número entero"
    )
    assert values_stored(store) == 0


def test_bounds_decimal_comma_count_is_refused(store, tmp_path):
    path = put(
        tmp_path, "v.csv", "data_element;period;org_unit;value\nCAMAS_MES;202401;F002;12,5\n"
    )
    p = only_problem(run(store, path))
    assert (p.row, p.column, p.value, p.reason) == (2, "value", "12,5", "not_whole_count")


def test_bounds_value_after_the_closing_date_is_refused(store, tmp_path):
    path = put(
        tmp_path,
        "v.csv",
        # June 2023 is the closing month itself (open part of it): accepted.
        HEADER + "NAC_VIVOS,202306,F003,1\nNAC_VIVOS,202307,F003,1\nNAC_VIVOS,202307,F001,1\n",
    )
    p = only_problem(run(store, path))
    assert (p.row, p.column, p.value, p.reason) == (3, "period", "202307", "after_closing")
    assert p.render("en") == (
        "v.csv row 3, column period: '202307' — the facility closed on 2023-06-15: "
        "it cannot have values for later months"
    )
    assert values_stored(store) == 0


@pytest.mark.parametrize("value", ["1e308", "1E+300", "10000001"])
def test_bounds_absurd_magnitude_is_refused(store, tmp_path, value):
    path = put(tmp_path, "v.csv", HEADER + f"CONSULTAS,202401,F001,{value}\n")
    p = only_problem(run(store, path))
    assert (p.row, p.column, p.value, p.reason) == (2, "value", value, "too_large")
    assert p.message("es") == "valor desmedido: mayor que 10.000.000"


def test_bounds_largest_plausible_count_is_accepted(store, tmp_path):
    report = run(store, put(tmp_path, "v.csv", HEADER + "CONSULTAS,202401,F001,10000000\n"))
    assert report.ok and report.inserted == 1


def test_bounds_absurd_population_in_metadata_is_refused(store, tmp_path):
    path = put(tmp_path, "p.csv", "org_unit,year,data_element,value\nPY-1,2024,POP_TOTAL,1e308\n")
    p = only_problem(run(store, path))
    assert (p.row, p.column, p.value, p.reason) == (2, "value", "1e308", "too_large")


def test_bounds_1e308_in_a_dhis2_json_is_refused(store, tmp_path):
    import json

    path = tmp_path / "dvs.json"
    path.write_text(
        json.dumps(
            {
                "dataValues": [
                    {
                        "dataElement": "PARTOS",
                        "period": "202401",
                        "orgUnit": "F001",
                        "value": "1e308",
                    }
                ]
            }
        )
    )
    p = only_problem(run(store, path))
    assert (p.row, p.column, p.reason) == (1, "value", "too_large")


# ==== access scope ===========================================================================
def test_bounds_row_outside_the_scope_rejects_the_whole_file(store, tmp_path):
    path = put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202401,F001,1\nNAC_VIVOS,202401,F002,1\n")
    report = run(store, path, scope=Scope.of("PY-1"))
    p = only_problem(report)
    assert (p.row, p.column, p.value, p.reason) == (3, "org_unit", "F002", "outside_scope")
    assert (report.inserted, values_stored(store)) == (0, 0)
    assert run(store, path, scope=Scope.of("PY-1", "PY-12")).ok


def test_bounds_metadata_outside_the_scope_is_refused(store, tmp_path):
    regional = Scope.of("PY-1")
    pops = put(
        tmp_path,
        "p.csv",
        "org_unit,year,data_element,value\nPY-1,2024,POP_TOTAL,100\nPY-12,2024,POP_TOTAL,100\n",
    )
    p = only_problem(run(store, pops, scope=regional))
    assert (p.row, p.column, p.reason) == (3, "org_unit", "outside_scope")
    units = put(
        tmp_path,
        "ou.csv",
        "code,name,level,parent,facility_type\nF200,USF nueva,facility,0101,USF\n"
        "F201,USF ajena,facility,1201,USF\nF002,Renombrado,facility,1201,HR\n",
    )
    report = run(store, units, scope=regional)
    assert [(p.row, p.column, p.reason) for p in report.problems] == [
        (3, "parent", "outside_scope"),
        (4, "code", "outside_scope"),
    ]
    targets = put(tmp_path, "t.csv", "indicator,target,org_unit\nINM-03,90,\n")
    p = only_problem(run(store, targets, scope=regional))
    assert (p.row, p.column, p.reason) == (2, "org_unit", "outside_scope")
    elements = put(tmp_path, "de.csv", "code,kind,name_es,name_en\nNUEVO,count,Nuevo,New\n")
    p = only_problem(run(store, elements, scope=regional))
    assert (p.row, p.reason) == (0, "national_only")
    assert run(store, elements, scope=NATIONAL).ok


# ==== chunked reading ========================================================================
def test_bounds_chunks_keep_row_numbers_duplicates_and_ragged_rows(store, tmp_path):
    rows = [
        "NAC_VIVOS,202401,F001,1",
        "",
        "PARTOS,202401,F001,2",
        "NAC_VIVOS,202402,F001,3",
        "NAC_VIVOS,202401,F001,1",  # identical duplicate of row 2, in another chunk
        "PARTOS,202402,F001,4,,",  # trailing empty fields: fine
        "PARTOS,202401,F001,5",  # conflicts with row 4
        "PARTOS,202403,F001,6,x",  # an extra field
    ]
    path = put(tmp_path, "v.csv", HEADER + "\n".join(rows) + "\n")
    report = run(store, path, limits=ImportLimits(chunk_rows=2))
    assert [(p.row, p.column, p.reason, p.params) for p in report.problems] == [
        (8, "value", "duplicate_conflict", {"first": 4}),
        (9, "", "too_many_fields", {"fields": 5, "width": 4}),
    ]
    fixed = put(tmp_path, "w.csv", HEADER + "\n".join(rows[:6]) + "\n")
    report = run(store, fixed, limits=ImportLimits(chunk_rows=2))
    assert report.ok, report.render("en")
    assert (report.rows, report.values, report.skipped, report.inserted) == (5, 4, 1, 4)


def test_bounds_conflicting_duplicate_across_chunks_names_the_first_row(store, tmp_path):
    rows = [
        "NAC_VIVOS,202401,F001,1",
        "PARTOS,202401,F001,2",
        "NAC_VIVOS,202402,F001,3",
        "NAC_VIVOS,202401,F001,9",
    ]
    path = put(tmp_path, "v.csv", HEADER + "\n".join(rows) + "\n")
    p = only_problem(run(store, path, limits=ImportLimits(chunk_rows=1)))
    assert (p.row, p.column, p.value, p.reason, p.params) == (
        5,
        "value",
        "9",
        "duplicate_conflict",
        {"first": 2},
    )


def test_bounds_dhis2_combos_sum_across_chunks(store, tmp_path):
    content = (
        "dataelement,period,orgunit,catoptcombo,attroptcombo,value\n"
        "PARTOS,202401,F001,a,x,2\nPARTOS,202401,F001,b,x,3\nPARTOS,202401,F001,a,x,2\n"
        "PARTOS,202401,F001,c,x,5\n"
    )
    report = run(store, put(tmp_path, "d.csv", content), limits=ImportLimits(chunk_rows=1))
    assert report.ok, report.render("en")
    assert (report.values, report.skipped, report.inserted) == (1, 1, 1)
    with store.engine.connect() as c:
        assert c.execute(text("SELECT value FROM data_value")).scalar_one() == 10.0


def test_bounds_received_on_earliest_date_across_chunks(store, tmp_path):
    content = (
        "data_element,period,org_unit,value,received_on\n"
        "PARTOS,202401,F001,2,2024-02-20\nNAC_VIVOS,202401,F001,3,2024-02-10\n"
        "CESAREAS,202401,F001,1,\n"
    )
    report = run(store, put(tmp_path, "v.csv", content), limits=ImportLimits(chunk_rows=1))
    assert report.ok, report.render("en")
    with store.engine.connect() as c:
        got = c.execute(
            text(
                "SELECT r.received_on FROM report r JOIN org_unit o ON o.id = r.org_unit_id "
                "WHERE o.code = 'F001'"
            )
        ).scalar_one()
    assert str(got)[:10] == "2024-02-10"


def test_bounds_problems_beyond_the_limit_are_counted_not_kept(store, tmp_path):
    path = put(tmp_path, "v.csv", HEADER + "NAC_VIVOS,202401,XX,1\n" * 10)
    report = run(store, path, limits=ImportLimits(max_problems=3, chunk_rows=4))
    assert (len(report.problems), report.more_problems, report.problem_count) == (3, 7, 10)
    assert not report.ok
    assert report.render("en").splitlines()[-1] == "… and 7 more"
    assert report.summary("en") == "v.csv (long-csv): 10 problems; nothing was imported."
    assert report.as_dict()["more_problems"] == 7


def test_bounds_metadata_file_over_its_row_cap_is_refused(store, tmp_path):
    body = "".join(f"F{i:04d},USF {i},facility,0101,USF\n" for i in range(12))
    path = put(tmp_path, "ou.csv", "code,name,level,parent,facility_type\n" + body)
    p = only_problem(run(store, path, limits=ImportLimits(max_metadata_rows=10, chunk_rows=5)))
    assert (p.row, p.reason, p.params) == (0, "too_many_rows", {"max_rows": 10})


# ==== DHIS2 JSON, decoded an entry at a time ==================================================
def _entry(de: str, value: str, ou: str = "F001") -> dict:
    return {"dataElement": de, "period": "202401", "orgUnit": ou, "value": value}


def test_bounds_dhis2_json_streams_entries_around_other_members(store, tmp_path):
    import json

    doc = (
        '{"dataSet": {"id": "x", "nested": [1, {"a": "]"}]},\n "dataValues" : [\n'
        + ",\n".join(json.dumps(e) for e in [_entry("PARTOS", "2"), _entry("NAC_VIVOS", "3")])
        + ', 7 ],\n "period": "202401"}\n'
    )
    path = put(tmp_path, "dvs.json", doc)
    report = run(store, path, limits=ImportLimits(chunk_rows=1))
    p = only_problem(report)
    assert (p.row, p.reason) == (3, "bad_entry")  # entry numbers run across chunks
    del doc
    fixed = put(
        tmp_path,
        "ok.json",
        json.dumps({"dataValues": [_entry("PARTOS", "2"), _entry("NAC_VIVOS", "3")], "x": {}}),
    )
    report = run(store, fixed, limits=ImportLimits(chunk_rows=1))
    assert report.ok and report.inserted == 2, report.render("en")


@pytest.mark.parametrize(
    ("content", "reason", "error"),
    [
        (
            '{"dataValues": [{"value": "1"} {"value": "2"}]}',
            "bad_json",
            "Expecting ',' delimiter (line 1)",
        ),
        ('{"dataValues": [{"value": "1"}]}\n{}', "bad_json", "Extra data (line 2)"),
        ('{"dataValues": [\n{"value": "1",}]}', "bad_json", None),
        ('{"dataValues" [] }', "bad_json", "Expecting ':' delimiter (line 1)"),
        ("[1, 2]", "no_data_values", None),
        ('{"dataValues": {"a": 1}}', "no_data_values", None),
        ('{"other": []}', "no_data_values", None),
        ('{"dataValues": []}', "no_rows", None),
    ],
)
def test_bounds_dhis2_json_errors_as_json_loads_reports_them(
    store, tmp_path, content, reason, error
):
    p = only_problem(run(store, put(tmp_path, "dvs.json", content)))
    assert (p.row, p.reason) == (0, reason)
    if error:
        assert p.params["error"] == error


def test_bounds_xlsx_read_in_chunks_keeps_spreadsheet_rows(store, tmp_path):
    path = tmp_path / "v.xlsx"
    frame = pd.DataFrame(
        {
            "data_element": ["NAC_VIVOS", None, "PARTOS", "PARTOS", "NAC_VIVOS"],
            "period": ["202401", None, "202401", "202402", "202402"],
            "org_unit": ["F001", None, "F001", "F001", "F001"],
            "value": [1, None, 2, 3, 2.5],
        }
    )
    frame.to_excel(path, index=False)
    p = only_problem(run(store, path, limits=ImportLimits(chunk_rows=2)))
    assert (p.row, p.column, p.value, p.reason) == (6, "value", "2.5", "not_whole_count")
    frame.loc[4, "value"] = 4
    frame.to_excel(path, index=False)
    report = run(store, path, limits=ImportLimits(chunk_rows=2))
    assert report.ok and (report.rows, report.inserted) == (4, 4), report.render("en")
