"""Both languages complete; numbers, months and periods formatted for the language."""

import re
from pathlib import Path

import pytest

from dashboard.catalog import FACILITY_TYPES, facility_type_name
from dashboard.i18n import (
    collation_key,
    fmt_month,
    fmt_number,
    fmt_percent,
    fmt_period,
    fmt_value,
    keys,
    t,
)
from dashboard.importers.common import REASONS
from dashboard.periods import Period

ROOT = Path(__file__).resolve().parent.parent


def test_i18n_every_language_has_every_key():
    assert keys("es") == keys("en")
    assert len(keys("es")) > 100


def test_i18n_every_key_used_in_code_exists():
    used = set()
    for path in [
        *ROOT.glob("layouts/*.py"),
        *ROOT.glob("callbacks/*.py"),
        *ROOT.glob("dashboard/*.py"),
    ]:
        used |= set(re.findall(r"\bt\(\s*\"([a-z][a-z0-9_]*)\"", path.read_text(encoding="utf-8")))
    missing = sorted(k for k in used if k not in keys("es"))
    assert not missing, missing
    assert "page_resumen" in used


@pytest.mark.parametrize(
    ("prefix", "names"),
    [
        ("status_", ["met", "near", "not_met", "no_target", "no_data"]),
        ("domain_", ["MNI", "INM", "TRA", "ENT", "SER", "HOS", "DQ"]),
        ("page_", ["resumen", "mapa", "tendencias", "desempeno", "establecimiento"]),
        ("grain_", ["month", "quarter", "year"]),
        ("trend_", ["up", "down", "flat"]),
        ("ftype_", list(FACILITY_TYPES)),
        ("import_", list(REASONS)),
        ("import_level_", ["0", "1", "2", "3"]),
        ("import_kind_", ["count", "population", "derived"]),
        (
            "import_",
            [f"{k}_{n}" for k in ("problems", "rows_read", "values") for n in ("one", "many")],
        ),
    ],
)
def test_i18n_keys_built_from_codes_exist(prefix, names):
    for name in names:
        assert prefix + name in keys("es"), prefix + name


def test_fmt_number_uses_spanish_and_english_separators():
    assert fmt_number(1234.5, "es", 1) == "1.234,5"
    assert fmt_number(1234.5, "en", 1) == "1,234.5"
    assert fmt_number(1234567, "es") == "1.234.567"
    assert fmt_number(None, "es") == "—"
    assert fmt_number(float("nan"), "en") == "—"


def test_fmt_value_and_percent():
    # A no-break space: "84,2 %" never breaks between number and sign on a narrow screen.
    assert fmt_percent(84.25, "es") in ("84,2\u00a0%", "84,3\u00a0%")
    assert fmt_value(12.34, "por 1.000 NV", "es", 1) == "12,3\u00a0por 1.000 NV"
    assert fmt_value(95.0, "%", "en", 1) == "95.0%"
    assert fmt_percent(12.34, "en") == "12.3%"


def test_fmt_month_and_period_in_both_languages():
    assert fmt_month(202401, "es") == "ene 2024"
    assert fmt_month(202401, "en") == "Jan 2024"
    assert fmt_month(202408, "es", long=True) == "agosto 2024"
    assert fmt_period(Period(202407, 202409, "2024Q3"), "es") == "T3 2024"
    assert fmt_period(Period(202407, 202409, "2024Q3"), "en") == "Q3 2024"
    assert fmt_period(Period(202401, 202412, "2024"), "en") == "2024"
    assert fmt_period(Period(202511, 202610, "LAST_12_MONTHS"), "es") == "nov 2025 – oct 2026"


def test_t_fills_parameters_and_falls_back():
    assert t("footer_as_of", "es", date="oct 2026") == "Datos hasta oct 2026"
    assert t("footer_as_of", "xx", date="x").startswith("Datos")  # unknown language: Spanish
    assert t("no_such_key", "en") == "no_such_key"


def test_collation_key_sorts_names_in_spanish_order():
    names = ["Ñemby", "Zeballos Cué", "Itauguá", "Areguá", "Nueva Italia", "Itá", "asunción"]
    assert sorted(names, key=collation_key) == [
        "Areguá",
        "asunción",
        "Itá",
        "Itauguá",
        "Nueva Italia",
        "Ñemby",
        "Zeballos Cué",
    ]


def test_facility_type_names_come_from_the_locales():
    assert facility_type_name("USF", "es") == "Unidad de Salud de la Familia"
    assert facility_type_name("HD", "en") == "District hospital"
    assert facility_type_name(None, "es") == facility_type_name("XX", "en") == ""


def test_fmt_values_writes_what_fmt_value_writes_one_at_a_time():
    import math

    from dashboard.i18n import fmt_number, fmt_value, fmt_values

    values = [1234567.891, 0.0, -0.05, None, math.nan, 52.1, 1e6]
    for lang in ("es", "en"):
        for unit in ("%", "por 100.000 hab.", "", " "):
            for d in (0, 1, 2):
                assert fmt_values(values, unit, lang, d) == [
                    fmt_value(v, unit, lang, d) for v in values
                ]
        assert fmt_values(values, None, lang, 1) == [fmt_number(v, lang, 1) for v in values]
    assert fmt_values([1234.5], "%", "es", 1) == ["1.234,5\u00a0%"]
