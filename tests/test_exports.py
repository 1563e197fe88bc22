"""Page exports on the demo store: the frames behind every page equal the screen's numbers,
CSV and XLSX read back with numbers as numbers, and no cell can run as a formula."""

import csv
import dataclasses
import io
import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from helpers import TODAY

from dashboard import exports
from dashboard.aggregate import query
from dashboard.catalog import Scope
from dashboard.db import make_engine
from dashboard.filters import Filters
from dashboard.i18n import keys, t
from dashboard.missing import is_missing
from dashboard.periods import parse_period
from dashboard.repository import Repository
from dashboard.views import Context, scorecard

LOCALES = Path(__file__).resolve().parent.parent / "dashboard" / "locales"
F = Filters(region="PY-11", period="2025Q3")
FRAMES = {
    "resumen": ["kpi", "sparklines", "attention"],
    "mapa": ["areas", "facilities"],
    "tendencias": ["series"],
    "desempeno": ["scorecard"],
    "establecimiento": ["indicators", "history", "reports"],
}
FORMULA = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def ctx(demo):
    return Context(repo=demo[0], scope=Scope.national(), today=TODAY)


@pytest.fixture(scope="module")
def hr(ctx):
    return next(u for u in ctx.cat.level_units(3) if u.facility_type == "HR")


@pytest.fixture
def own_ctx(demo):
    """A repository of its own on the demo database: its catalogue can be altered freely."""
    repo = Repository(make_engine(demo[1]))
    yield Context(repo=repo, scope=Scope.national(), today=TODAY)
    repo.engine.dispose()


def _query(ctx, ind, unit, period, **kw):
    cat = ctx.cat
    [r] = query(
        ctx.repo, ctx.scope, cat.indicators[ind], cat.unit(unit), parse_period(period, TODAY), **kw
    )
    return r


def _row(frame, column, value, lang="es"):
    return frame[frame[t(column, lang)] == value].iloc[0]


def _split_csv(raw: bytes, lang: str):
    """(header pairs, data frame) of an exported CSV."""
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    head, body = text.split("\n\n", 1)
    sep, dec = (";", ",") if lang == "es" else (",", ".")
    pairs = [tuple(r) for r in csv.reader(io.StringIO(head), delimiter=sep)]
    # Codes stay text ('0101'); everything else is read as the language writes numbers.
    codes = {t("col_code", lang): str}
    return pairs, pd.read_csv(io.StringIO(body), sep=sep, decimal=dec, dtype=codes)


# ==== page_tables ================================================================================
@pytest.mark.parametrize("page", list(FRAMES))
def test_page_tables_gives_every_frame_with_rows(ctx, hr, page):
    frames = exports.page_tables(ctx, page, F, facility=hr.code)
    assert list(frames) == FRAMES[page]
    for name, frame in frames.items():
        assert len(frame) > 0, name
        assert frame.columns.is_unique, name


def test_page_tables_unknown_page_or_facility_is_empty(ctx, hr, demo):
    assert exports.page_tables(ctx, "nope", F) == {}
    assert exports.page_tables(ctx, "establecimiento", F) == {}
    assert exports.page_tables(ctx, "establecimiento", F, facility="NOPE") == {}
    scoped = Context(repo=demo[0], scope=Scope.of("PY-1"), today=TODAY)
    assert exports.page_tables(scoped, "establecimiento", F, facility=hr.code) == {}


def test_page_tables_overview_equals_the_query(ctx):
    frames = exports.page_tables(ctx, "resumen", F)
    kpi = frames["kpi"]
    assert kpi[t("col_code", "es")].iloc[0] == "INM-03" and len(kpi) == 8
    row = _row(kpi, "col_code", "INM-03")
    now = _query(ctx, "INM-03", "PY-11", "2025Q3")
    assert row[t("col_value", "es")] == round(now.value, 1)
    assert row[t("col_prev_value", "es")] == round(
        _query(ctx, "INM-03", "PY-11", "2025Q2").value, 1
    )
    assert row[t("col_ly_value", "es")] == round(_query(ctx, "INM-03", "PY-11", "2024Q3").value, 1)
    assert row[t("numerator", "es")] == pytest.approx(now.numerator)
    assert row[t("denominator", "es")] == pytest.approx(now.denominator)
    assert row[t("col_completeness_pct", "es")] == round(now.completeness, 1)
    assert row[t("col_status", "es")] == t(f"status_{now.status}", "es")
    assert row[t("target", "es")] == now.target
    hos = _row(kpi, "col_code", "HOS-01")  # a band indicator states its band
    assert hos[t("col_band_low", "es")] < hos[t("col_band_high", "es")]
    assert kpi[t("col_value", "es")].dtype == float
    spark = frames["sparklines"]
    inm = spark[spark[t("col_code", "es")] == "INM-03"]
    assert len(inm) == 12 and inm[t("col_month_id", "es")].iloc[-1] == "202509"
    assert inm[t("col_value", "es")].iloc[-1] == round(
        _query(ctx, "INM-03", "PY-11", "202509").value, 1
    )
    attention = frames["attention"]
    first = attention.iloc[0]
    assert first[t("col_value", "es")] == round(
        _query(ctx, "INM-03", first[t("col_code", "es")], "2025Q3").value, 1
    )
    statuses = {t("status_not_met", "es"), t("status_near", "es")}
    assert set(attention[t("col_status", "es")]) <= statuses


def test_page_tables_map_equals_the_query(ctx):
    frames = exports.page_tables(ctx, "mapa", F)
    areas = frames["areas"]
    assert len(areas) == len(ctx.cat.descendants(ctx.cat.unit("PY-11"), 2))
    row = _row(areas, "col_code", "1101")
    assert row[t("col_value", "es")] == round(_query(ctx, "INM-03", "1101", "2025Q3").value, 1)
    ranks = areas[t("rank", "es")].dropna().tolist()
    assert ranks == sorted(ranks) and ranks[0] == 1  # the table's order: best first
    fac = frames["facilities"]
    with_value = fac[fac[t("col_value", "es")].notna()].iloc[0]
    code = with_value[t("col_code", "es")]
    assert with_value[t("col_value", "es")] == round(_query(ctx, "INM-03", code, "2025Q3").value, 1)
    assert (fac[t("col_latitude", "es")] < 0).all()  # Paraguay: south and west, as numbers
    assert exports.page_tables(ctx, "mapa", Filters(period="2025")).keys() == {"areas"}
    national = exports.page_tables(ctx, "mapa", Filters(period="2025", points=True))
    assert len(national["facilities"]) > 1000


def test_page_tables_trends_equal_the_query(ctx):
    f = Filters(region="PY-11", period="2025", grain="quarter", compare=("PY-15",))
    series = exports.page_tables(ctx, "tendencias", f)["series"]
    roles = series[t("col_role", "es")]
    assert set(roles) == {t(f"role_{r}", "es") for r in ("selected", "national", "compare")}
    row = series[
        (series[t("col_code", "es")] == "PY-15") & (series[t("col_period_id", "es")] == "2025Q3")
    ].iloc[0]
    q = _query(ctx, "INM-03", "PY-15", "2025Q3")
    assert row[t("col_value", "es")] == round(q.value, 1)
    assert row[t("col_period", "es")] == "T3 2025"
    assert row[t("denominator", "es")] == pytest.approx(q.denominator)
    incomplete = series[t("col_incomplete", "es")]
    assert set(incomplete) <= {t("yes", "es"), t("no", "es")}
    low = series[t("col_completeness_pct", "es")] < exports.INCOMPLETE_BELOW
    assert (incomplete[low] == t("yes", "es")).all()


def test_page_tables_scorecard_is_the_table_on_screen(ctx):
    f = Filters(region="PY-11", period="2025Q3", ftype="USF", sort="-INM-01")
    frame = exports.page_tables(ctx, "desempeno", f)["scorecard"]
    pd.testing.assert_frame_equal(frame, exports.scorecard_frame(scorecard(ctx, f), ctx.cat, "es"))
    row = _row(frame, "col_code", frame[t("col_code", "es")].iloc[0])
    col = next(c for c in frame.columns if c.startswith("INM-03 ") and "%" in c)
    q = _query(ctx, "INM-03", row[t("col_code", "es")], "2025Q3")
    assert row[col] == pytest.approx(round(q.value, 1), nan_ok=True)


def test_page_tables_facility_equals_the_query(ctx, hr):
    frames = exports.page_tables(ctx, "establecimiento", F, facility=hr.code)
    ind = frames["indicators"]
    codes = set(ind[t("col_code", "es")])
    assert "HOS-01" in codes and "MNI-05" not in codes
    row = _row(ind, "col_code", "HOS-01")
    assert row[t("col_value", "es")] == round(_query(ctx, "HOS-01", hr.code, "2025Q3").value, 1)
    national = t("peers_country", "es", type="Hospital regional")
    peer = _query(ctx, "HOS-01", "PY", "2025Q3", ftypes=("HR",)).value
    assert row[national] == round(peer, 1)
    history = frames["history"]
    hos = history[history[t("col_code", "es")] == "HOS-01"]
    assert len(hos) == 24 and hos[t("col_month_id", "es")].iloc[-1] == "202509"
    reports = frames["reports"]
    assert len(reports) == 24
    last = reports.iloc[-1]
    dq = _query(ctx, "DQ-01", hr.code, "202509")
    assert last[t("col_expected", "es")] == dq.expected_reports
    assert last[t("col_received", "es")] == dq.received_reports
    assert last[t("col_on_time", "es")] == round((dq.timeliness or 0) * dq.expected_reports / 100)
    assert reports[t("col_expected", "es")].dtype.kind == "i"


@pytest.mark.parametrize("page", list(FRAMES))
def test_page_tables_headers_are_translated(ctx, hr, page):
    es = exports.page_tables(ctx, page, F, facility=hr.code)
    en = exports.page_tables(ctx, page, F.with_(lang="en"), facility=hr.code)
    assert list(es) == list(en)
    for name in es:
        assert len(es[name].columns) == len(en[name].columns)
        assert list(es[name].columns) != list(en[name].columns), name
        assert es[name].shape == en[name].shape


def test_every_export_key_exists_in_both_locale_files_sorted():
    used = set(exports.HEADER_KEYS.values()) | set(exports.SHEET_KEYS.values())
    used |= {"as_of", "filter_facility", "yes", "no", "role_selected", "source_demo"}
    for lang in ("es", "en"):
        assert used <= keys(lang), used - keys(lang)
        text = (LOCALES / f"{lang}.json").read_text(encoding="utf-8")
        data = json.loads(text)
        assert list(data) == sorted(data)
        assert text == json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False)
    assert keys("es") == keys("en")
    assert {k for k in used if t(k, "es") != t(k, "en")} >= set(exports.HEADER_KEYS.values())


# ==== describe_filters and file_name =============================================================
def test_describe_filters_in_words(ctx, hr):
    rows = dict(exports.describe_filters(ctx, F, "desempeno"))
    assert rows[t("filter_region", "es")] == "Central"
    assert rows[t("filter_type", "es")] == t("all_types", "es")
    assert rows[t("filter_indicator", "es")].startswith("INM-03 Cobertura")
    assert rows[t("filter_period", "es")] == "T3 2025"
    assert rows[t("compared_with", "es")] == "T3 2024"
    en = dict(exports.describe_filters(ctx, Filters(lang="en", ftype="USF"), "resumen"))
    assert en["Health region"] == "Whole country"
    assert en["Facility type"] == "Family Health Unit"
    assert en["Period"].startswith("Last 12 months (Nov 2025")
    fac = dict(exports.describe_filters(ctx, F, "establecimiento", hr.code))
    assert fac[t("filter_facility", "es")] == f"{hr.code} {hr.name}"
    assert fac[t("filter_type", "es")] == "Hospital regional"
    # A short period on the trends page is widened to 24 months: the file says so.
    trend = dict(exports.describe_filters(ctx, Filters(period="202510"), "tendencias"))
    assert trend[t("filter_period", "es")] == "nov 2023 – oct 2025"


def test_file_name_carries_the_filters_in_safe_characters(ctx, hr):
    f = Filters(region="PY-11", ftype="USF", indicator="INM-03", period="2025Q3")
    assert (
        exports.file_name("desempeno", f, ctx, "csv") == "desempeno_PY-11_USF_INM-03_2025Q3_es.csv"
    )
    g = Filters(lang="en", region="PY-11", district="1101", period="202401:202406")
    assert (
        exports.file_name("mapa", g, ctx, ".xlsx") == "mapa_PY-11_1101_INM-03_202401-202406_en.xlsx"
    )
    assert (
        exports.file_name("resumen", Filters(), ctx, "csv")
        == "resumen_PY_INM-03_202511-202610_es.csv"
    )
    fac = exports.file_name("establecimiento", F, ctx, "xlsx", facility=hr.code)
    assert hr.code in fac and fac.endswith("_2025Q3_es.xlsx")
    odd = exports.file_name("establecimiento", F, ctx, "csv", facility='../a b;"=c')
    for name in (fac, odd):
        assert re.fullmatch(r"[A-Za-z0-9_.-]+", name) and ".." not in name


# ==== CSV and XLSX ===============================================================================
@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("page", list(FRAMES))
def test_page_csv_reads_back_with_equal_numbers(ctx, hr, page, lang):
    f = F.with_(lang=lang)
    main = next(iter(exports.page_tables(ctx, page, f, facility=hr.code).values()))
    pairs, back = _split_csv(exports.page_csv(ctx, page, f, facility=hr.code), lang)
    head = dict(pairs)
    for k, v in exports.describe_filters(ctx, f, page, hr.code):
        assert head[k] == v
    assert head[t("source", lang)] == t("source_demo", lang)
    assert head[t("as_of", lang)] == ("oct 2026" if lang == "es" else "Oct 2026")
    assert list(back.columns) == list(main.columns)
    assert len(back) == len(main)
    numeric = [c for c in main.columns if pd.api.types.is_numeric_dtype(main[c])]
    assert numeric
    for col in numeric:
        expected = main[col].astype(float).tolist()
        assert back[col].dtype.kind in "if", col
        assert back[col].astype(float).tolist() == pytest.approx(expected, nan_ok=True), col


@pytest.mark.parametrize("page", list(FRAMES))
def test_page_xlsx_sheets_read_back_numbers_as_numbers(ctx, hr, page):
    f = F.with_(lang="en") if page == "mapa" else F
    frames = exports.page_tables(ctx, page, f, facility=hr.code)
    wb = openpyxl.load_workbook(io.BytesIO(exports.page_xlsx(ctx, page, f, facility=hr.code)))
    titles = [t(exports.SHEET_KEYS[k], f.lang) for k in frames]
    assert wb.sheetnames == [*titles, "info"]
    for title, frame in zip(titles, frames.values(), strict=True):
        ws = wb[title]
        assert [c.value for c in ws[1]] == list(frame.columns)
        assert ws.max_row == len(frame) + 1
        for j, col in enumerate(frame.columns, start=1):
            cells = [ws.cell(row=i + 2, column=j) for i in range(len(frame))]
            if pd.api.types.is_numeric_dtype(frame[col]):
                values = [c for c in cells if c.value is not None]
                assert values and all(c.data_type == "n" for c in values), col
                got = [c.value for c in cells]
                want = [None if is_missing(v) else v for v in frame[col].tolist()]
                assert got == pytest.approx(want), col
    info = {r[0]: r[1] for r in wb["info"].iter_rows(values_only=True)}
    for k, v in exports.describe_filters(ctx, f, page, hr.code):
        assert info[k] == v
    assert info[t("source", f.lang)] == t("source_demo", f.lang)
    assert t("generated", f.lang) in info and t("as_of", f.lang) in info


def test_page_xlsx_of_an_unknown_page_has_only_the_info_sheet(ctx):
    wb = openpyxl.load_workbook(io.BytesIO(exports.page_xlsx(ctx, "nope", F)))
    assert wb.sheetnames == ["info"]


def test_exports_neutralise_formulas_in_names_and_header(own_ctx, monkeypatch):
    cat = own_ctx.cat
    ind = cat.indicators["INM-03"]
    cat.indicators["INM-03"] = dataclasses.replace(ind, name_es='=HYPERLINK("http://x","y")')
    district = cat.unit("1101")
    cat.by_code["1101"] = dataclasses.replace(district, name="-2+3 distrito")
    real = own_ctx.repo.get_meta
    monkeypatch.setattr(
        own_ctx.repo, "get_meta", lambda k: "@SUM(1)" if k == "data_source" else real(k)
    )
    text = exports.page_csv(own_ctx, "resumen", F).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM(1)" in text
    assert ";=" not in text and "\n=" not in text and "\n@" not in text
    areas = exports.page_csv(own_ctx, "mapa", F).decode("utf-8-sig")
    assert "'-2+3 distrito" in areas  # shown as stored, never title-cased
    for page in ("resumen", "mapa"):
        wb = openpyxl.load_workbook(io.BytesIO(exports.page_xlsx(own_ctx, page, F)))
        seen = []
        for ws in wb:
            for row in ws.iter_rows():
                for c in row:
                    assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                    if isinstance(c.value, str):
                        assert not c.value.startswith(FORMULA), (ws.title, c.value)
                        seen.append(c.value)
        assert any(v.startswith("'") for v in seen)
        if page == "mapa":  # negative coordinates are numbers, not neutralised text
            lat = wb[t("sheet_facilities", "es")]["D2"]
            assert lat.data_type == "n" and lat.value < 0


def test_writers_neutralise_text_cells_and_headers_but_not_numbers():
    frame = pd.DataFrame(
        {
            "=cmd": ["-1+1", "ok", "@x"],
            "n": [-5.5, 2.0, None],
            "k": pd.array([1, None, -3], "Int64"),
        }
    )
    header = [("+key", "a;=b,c"), ("k", "\r\nx")]
    for lang in ("es", "en"):
        pairs, back = _split_csv(exports.to_csv(frame, header, lang), lang)
        assert pairs[0] == ("'+key", "a;=b,c")  # quoted: the separator cannot start a cell
        assert list(back.columns) == ["'=cmd", "n", "k"]
        assert back["'=cmd"].tolist() == ["'-1+1", "ok", "'@x"]
        assert back["n"].tolist() == pytest.approx([-5.5, 2.0, float("nan")], nan_ok=True)
        assert back["k"].tolist() == pytest.approx([1, float("nan"), -3], nan_ok=True)
    wb = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx_sheets({"data": frame}, header)))
    ws = wb["data"]
    assert [c.value for c in ws[1]] == ["'=cmd", "n", "k"]
    assert [ws.cell(row=i, column=1).value for i in (2, 3, 4)] == ["'-1+1", "ok", "'@x"]
    assert ws["B2"].value == -5.5 and ws["B2"].data_type == "n"
    assert ws["C4"].value == -3 and ws["C4"].data_type == "n"
    assert wb["info"]["A1"].value == "'+key"


def test_sheet_names_are_valid_and_unique():
    taken = {"info"}
    long = exports.sheet_name("Establecimientos: [a/b]*?\\ con un nombre largo", taken)
    assert len(long) <= 31 and not re.search(r"[\[\]:*?/\\]", long)
    again = exports.sheet_name("Establecimientos: [a/b]*?\\ con un nombre largo", taken)
    assert again != long and len(again) <= 31
    assert exports.sheet_name("INFO", taken).lower() != "info"
    assert exports.sheet_name("''", set()) == "data"


def test_trends_file_says_which_period_is_partial(ctx):
    f = Filters(region="PY-1", grain="quarter")  # Últimos 12 meses: ends in October 2026
    series = exports.page_tables(ctx, "tendencias", f)["series"]
    periods = list(dict.fromkeys(series[t("col_period", "es")]))
    assert periods[0] == "T4 2024" and periods[-2] == "T3 2026"
    assert periods[-1] == "T4 2026 (parcial)"  # October alone: never passed off as a quarter


def test_trends_file_of_a_facility_names_it(ctx):
    cat = ctx.cat
    fac = sorted(cat.descendants(cat.unit("0114"), 3), key=lambda u: u.code)[0]
    f = Filters(region="PY-1", district="0114", facility=fac.code)
    rows = dict(exports.describe_filters(ctx, f, "tendencias"))
    assert rows[t("filter_facility", "es")] == f"{fac.code} {fac.name}"
    assert f"_0114_{fac.code}_INM-03_" in exports.file_name("tendencias", f, ctx, "csv")
    series = exports.page_tables(ctx, "tendencias", f)["series"]
    assert fac.code in set(series[t("col_code", "es")])
