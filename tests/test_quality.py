"""Data-quality marks of every value, against hand-computed answers on a tiny store."""

from datetime import date

import numpy as np
import pytest
from helpers import TODAY, add_facilities, put_population, put_values

from dashboard.aggregate import evaluate_frame, query
from dashboard.catalog import Scope
from dashboard.config import Settings
from dashboard.periods import parse_period
from dashboard.quality import QualityRules, as_codes, quality_text, quality_words

NATIONAL = Scope.national()


def one(repo, ind, unit, period, **kw):
    cat = repo.catalog()
    [r] = query(
        repo, NATIONAL, cat.indicators[ind], cat.unit(unit), parse_period(period, TODAY), **kw
    )
    return r


@pytest.fixture
def store(repo):
    add_facilities(repo, [("F1", "USF", "0101"), ("F2", "USF", "0101"), ("H1", "HD", "0102")])
    return repo


def test_quality_is_empty_for_a_sound_value(store):
    put_values(store, [("F1", "CPN_1_T1", 202403, 30), ("F1", "CPN_1", 202403, 60)])
    r = one(store, "MNI-05", "F1", "202403")
    assert r.value == pytest.approx(50.0) and r.quality == []
    assert r.as_dict()["quality"] == []


def test_quality_low_completeness_below_90_percent(store):
    # F1 reports 2 of 3 months (66.7 % < 90 %); the district 2 of 6.
    put_values(
        store,
        [
            ("F1", "CPN_1_T1", 202401, 30),
            ("F1", "CPN_1", 202401, 60),
            ("F1", "CPN_1_T1", 202403, 30),
            ("F1", "CPN_1", 202403, 60),
        ],
        expect=(202401, 202403),
    )
    assert "low_completeness" in one(store, "MNI-05", "F1", "2024Q1").quality
    assert "low_completeness" in one(store, "MNI-05", "0101", "2024Q1").quality
    assert "low_completeness" not in one(store, "MNI-05", "F1", "202403").quality  # 1 of 1
    # The threshold is configurable: at 60 % F1's 66.7 % passes.
    loose = QualityRules(completeness=60)
    assert "low_completeness" not in one(store, "MNI-05", "F1", "2024Q1", rules=loose).quality


def test_quality_small_numbers_few_events_or_zero_over_a_small_denominator(store):
    put_values(
        store,
        [
            ("H1", "MUERTE_MAT", 202403, 0),
            ("H1", "NAC_VIVOS", 202403, 40),  # 0 of 40 births: small numbers, not "Cumple"
            ("H1", "MUERTE_MAT", 202404, 0),
            ("H1", "NAC_VIVOS", 202404, 400),  # 0 of 400: no mark
            ("H1", "MUERTE_MAT", 202405, 3),
            ("H1", "NAC_VIVOS", 202405, 4000),  # 3 deaths (1 to 4): small numbers
        ],
    )
    mar = one(store, "MNI-01", "H1", "202403")
    assert (mar.numerator, mar.denominator, mar.value) == (0, 40, 0.0)
    assert mar.status == "met" and mar.quality == ["small_numbers"]
    assert one(store, "MNI-01", "H1", "202404").quality == []
    assert one(store, "MNI-01", "H1", "202405").quality == ["small_numbers"]
    # A smaller denominator threshold leaves 0 of 40 unmarked.
    rules = QualityRules(small_denominator=40)
    assert one(store, "MNI-01", "H1", "202403", rules=rules).quality == []


def test_quality_over_100_only_for_a_coverage_of_a_population(store):
    put_population(store, [("0101", "POP_LT1", 2024, 120)])
    put_values(store, [("F1", "PENTA3", 202400 + m, 15) for m in range(1, 13)])  # 180 doses
    r = one(store, "INM-03", "0101", "2024")
    assert r.value == pytest.approx(150.0) and "over_100" in r.quality
    # Bed occupancy above 100 % is a full hospital, not a population too small.
    put_values(store, [("H1", "DIAS_PACIENTE", 202403, 110), ("H1", "DIAS_CAMA", 202403, 100)])
    assert "over_100" not in one(store, "HOS-01", "H1", "202403").quality


def test_quality_outlier_month_in_the_span(store):
    # Eleven months of 10 and one of 100 in F1's CONSULTAS series: modified z of 100 >= 3.5.
    rows = [("F1", "CONSULTAS", 202400 + m, 10 + (m % 2)) for m in range(1, 13) if m != 6]
    put_population(store, [("0101", "POP_TOTAL", 2024, 1000)])
    put_values(store, rows + [("F1", "CONSULTAS", 202406, 100)])
    assert "outlier" in one(store, "SER-01", "F1", "202406").quality
    assert "outlier" not in one(store, "SER-01", "F1", "202405").quality
    assert "outlier" in one(store, "SER-01", "F1", "2024Q2").quality
    # The district: 1 outlier of 12 values in the year (8.3 % > 5 %).
    assert "outlier" in one(store, "SER-01", "0101", "2024").quality
    assert (
        "outlier"
        not in one(store, "SER-01", "0101", "2024", rules=QualityRules(outlier_share=10)).quality
    )


def test_zero_denominator_keeps_the_numerator_and_gives_no_value(store):
    put_values(store, [("F1", "CPN_1_T1", 202403, 3), ("F1", "CPN_1", 202403, 0)])
    r = one(store, "MNI-05", "F1", "202403")
    assert (r.numerator, r.denominator, r.value, r.status) == (3, 0, None, "no_data")
    assert r.quality == []  # no value, no small-numbers mark


def test_expected_reports_run_to_the_last_complete_month_not_the_last_data(store):
    # Data (and expected reports) end in March 2024; the calendar goes on.
    put_values(
        store,
        [("F1", "CPN_1_T1", 202403, 3), ("F1", "CPN_1", 202403, 9)],
        expect=(202401, 202403),
    )
    q2 = one(store, "MNI-05", "0101", "2024Q2", today=TODAY)
    # F1 and F2 open all three months: 6 expected, none received: 0 %, never "no data".
    assert (q2.expected_reports, q2.received_reports, q2.completeness) == (6, 0, 0.0)
    assert q2.quality == ["low_completeness"]
    fac = one(store, "DQ-01", "F1", "2024Q2", today=TODAY)
    assert (fac.expected_reports, fac.completeness, fac.value) == (3, 0.0, 0.0)
    # Months after the last complete month (October 2026 for 29 November) are not expected.
    q4 = one(store, "DQ-01", "F2", "2026Q4", today=TODAY)
    assert q4.expected_reports == 1
    # A month before the newest expected reports is unchanged: the stored rows count.
    q1 = one(store, "DQ-01", "0101", "2024Q1", today=TODAY)
    assert (q1.expected_reports, q1.received_reports) == (6, 1)


def test_expected_reports_after_the_data_skip_closed_facilities(repo):
    add_facilities(repo, [("F1", "USF", "0101")])
    add_facilities(repo, [("F3", "USF", "0101")], closed=date(2024, 4, 30))
    put_values(repo, [("F1", "CPN_1", 202403, 9)], expect=(202401, 202403))
    r = one(repo, "DQ-01", "0101", "2024Q2", today=TODAY)
    assert r.expected_reports == 3 + 1  # F1 April-June, F3 April only


def test_quality_column_of_the_frame_holds_tuples(store):
    put_values(store, [("F1", "CPN_1_T1", 202403, 1), ("F1", "CPN_1", 202403, 3)])
    cat = store.catalog()
    frame = evaluate_frame(
        store,
        NATIONAL,
        [cat.indicators["MNI-05"]],
        [cat.unit("F1"), cat.unit("F2")],
        [parse_period("202403", TODAY)],
    )
    assert frame["quality"].tolist() == [("small_numbers",), ()]


def test_quality_codes_in_words_in_both_languages():
    codes = as_codes(np.array([0, 1 | 2]))
    assert codes.tolist() == [(), ("low_completeness", "small_numbers")]
    assert quality_words(codes[1], "es") == "informes incompletos; pocos casos"
    assert quality_words(codes[1], "en") == "incomplete reporting; small numbers"
    assert quality_words((), "es") == ""
    assert "90" in quality_text(("low_completeness",), "es")
    assert "100" in quality_text(("small_numbers",), "en", QualityRules(small_denominator=100))


def test_quality_thresholds_come_from_the_environment():
    s = Settings.from_env(
        {
            "DASHBOARD_DQ_COMPLETENESS": "80",
            "DASHBOARD_SMALL_COUNT": "10",
            "DASHBOARD_SMALL_DENOMINATOR": "50",
            "DASHBOARD_DQ_OUTLIER_SHARE": "2.5",
        }
    )
    assert s.quality_rules() == QualityRules(80, 10, 50, 2.5)
    assert QualityRules().outlier_share == 5.0
    assert Settings.from_env({}).quality_rules() == QualityRules()


def test_quality_column_of_the_exports_in_the_page_language(store):
    from dashboard import exports
    from dashboard.filters import Filters
    from dashboard.i18n import t
    from dashboard.views import Context

    put_values(
        store,
        [("H1", "MUERTE_MAT", 202403, 0), ("H1", "NAC_VIVOS", 202403, 40)],
    )
    ctx = Context(repo=store, scope=NATIONAL, today=TODAY)
    for lang, words in (("es", "pocos casos"), ("en", "small numbers")):
        f = Filters(lang=lang, region="PY-1", indicator="MNI-01", period="202403", points=True)
        tables = exports.page_tables(ctx, "mapa", f)
        col = tables["facilities"][t("col_quality", lang)].tolist()
        assert col == [words]
        assert t("col_quality", lang) in tables["areas"]


def test_quality_mark_states_the_configured_thresholds_in_words():
    from layouts.components import quality_mark, status_badge

    mark = quality_mark(("low_completeness",), "en", QualityRules(completeness=80))
    assert "80%" in mark.title and mark.title == mark.to_plotly_json()["props"]["aria-label"]
    assert quality_mark((), "es") is None
    badge = status_badge("met", "es", uncertain=True)
    assert "uncertain" in badge.className and "¿Cumple?" in badge.children
    assert "uncertain" not in status_badge("no_data", "es", uncertain=True).className


def put_estimated_population(repo, rows):
    """rows: (org unit code, element, year, value, estimated 0/1)."""
    cat = repo.catalog()
    repo.upsert_populations(
        [
            {
                "org_unit_id": cat.by_code[u].id,
                "data_element_id": cat.data_elements[d].id,
                "year": y,
                "value": v,
                "estimated": e,
            }
            for u, d, y, v, e in rows
        ]
    )
    repo.refresh_rollups()


def test_quality_estimated_denominator_only_where_the_population_was_estimated(store):
    # 0101 has its census figure, 0102 one the product estimated; both 1000 people.
    put_estimated_population(
        store,
        [("0101", "POP_TOTAL", 2024, 1000, 0), ("0102", "POP_TOTAL", 2024, 1000, 1)],
    )
    put_values(
        store,
        [("F1", "CONSULTAS", 202400 + m, 200) for m in range(1, 13)]
        + [("H1", "CONSULTAS", 202400 + m, 200) for m in range(1, 13)],
    )
    official = one(store, "SER-01", "0101", "2024")
    estimated = one(store, "SER-01", "0102", "2024")
    # 2400 consultations over 1000 people: 2.4 a person, in both; only 0102's is estimated.
    assert official.value == pytest.approx(2.4) and official.quality == []
    assert estimated.value == pytest.approx(2.4) and estimated.quality == ["estimated_denominator"]
    # A month of the year uses the same figure (a twelfth of it): still estimated.
    assert one(store, "SER-01", "0102", "202405").quality == ["estimated_denominator"]
    # The region rests on both districts' figures: one of them estimated marks it too.
    assert "estimated_denominator" in one(store, "SER-01", "PY-1", "2024").quality
    # A denominator that is not a population never carries the mark.
    put_values(store, [("H1", "CPN_1_T1", 202403, 30), ("H1", "CPN_1", 202403, 60)])
    assert one(store, "MNI-05", "0102", "202403").quality == []
    # Another year, with no estimated figure of its own, is not marked by 2024's.
    put_estimated_population(store, [("0102", "POP_TOTAL", 2023, 990, 0)])
    put_values(store, [("H1", "CONSULTAS", 202303, 100)])
    assert one(store, "SER-01", "0102", "202303").quality == []


def test_estimated_denominator_in_words_and_in_the_frame(store):
    codes = as_codes(np.array([16]))
    assert codes.tolist() == [("estimated_denominator",)]
    assert quality_words(codes[0], "es") == "población estimada"
    assert "estimated" in quality_text(codes[0], "en")


def test_query_json_and_csv_carry_the_estimated_denominator(store, monkeypatch, capsys):
    import json

    from dashboard.__main__ import main

    put_estimated_population(
        store,
        [("0101", "POP_TOTAL", 2024, 1000, 0), ("0102", "POP_TOTAL", 2024, 1000, 1)],
    )
    put_values(store, [("H1", "CONSULTAS", 202403, 200), ("F1", "CONSULTAS", 202403, 200)])
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", str(store.engine.url))
    monkeypatch.setenv("DASHBOARD_TODAY", "2026-11-29")
    args = ["query", "--indicator", "SER-01", "--org-unit", "PY-1", "--period", "202403"]
    assert main([*args, "--by", "district", "--format", "json"]) == 0
    rows = {r["org_unit"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["0102"]["quality"] == ["estimated_denominator"]
    assert rows["0101"]["quality"] == []
    assert main([*args, "--by", "district", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "quality" in lines[0].split(",")
    assert any(line.startswith("SER-01,0102") and "estimated_denominator" in line for line in lines)


def test_query_suppress_uses_the_dashboards_decisions(store, monkeypatch, capsys):
    import json

    from dashboard.__main__ import main

    add_facilities(store, [("F3", "USF", "0102")])
    put_values(
        store,
        [
            ("F1", "CPN_1_T1", 202403, 3),
            ("F1", "CPN_1", 202403, 60),
            ("F3", "CPN_1_T1", 202403, 30),
            ("F3", "CPN_1", 202403, 60),
        ],
    )
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", str(store.engine.url))
    monkeypatch.setenv("DASHBOARD_TODAY", "2026-11-29")
    args = ["query", "--indicator", "MNI-05", "--org-unit", "PY-1", "--period", "202403"]
    assert main([*args, "--by", "district", "--format", "json", "--suppress"]) == 0
    rows = {r["org_unit"]: r for r in json.loads(capsys.readouterr().out)}
    # 3 first visits before 12 weeks: hidden, the rate withheld; 0102's 30 is hidden too, or
    # the region's 33 less 30 would give the 3 away.
    assert rows["0101"]["numerator"] == "<5" and rows["0101"]["value"] is None
    assert rows["0102"]["numerator"] == "<5"
    assert main([*args, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["numerator"] == 33
