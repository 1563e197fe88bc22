"""The frame's pure component builders: the indicator definition (i), change arrows judged by
the indicator's direction, the status marks, the grouped indicator options, the 404 content."""

from dataclasses import replace

import pytest

from dashboard.catalog import Target
from dashboard.figures import CHANGE_ARROWS, STATUS_SYMBOLS
from dashboard.filters import Filters
from dashboard.i18n import LANGS, t
from layouts import shell
from layouts.components import change_text, indicator_info, target_lines


@pytest.fixture
def cat(repo):
    return repo.catalog()


def text(component) -> str:
    """All the text a component shows, in order (what a screen reader reads)."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return "".join(text(c) for c in component)
    if isinstance(component, dict):  # a component in wire form (layouts.wire)
        return text(component["props"].get("children"))
    return text(getattr(component, "children", None))


def test_status_marks_are_distinct_from_change_and_sort_marks():
    assert STATUS_SYMBOLS["near"] == "◆"
    marks = set(STATUS_SYMBOLS.values())
    assert len(marks) == len(STATUS_SYMBOLS)
    assert not marks & set(CHANGE_ARROWS.values())
    assert not marks & {"▲", "▼"}  # the sort marks


def test_change_text_judges_a_rise_by_the_indicators_direction(cat):
    coverage = cat.indicators["INM-03"]  # higher is better
    assert coverage.direction == "up"
    up = change_text(84.2, 81.9, coverage, "es", "vs_last_year")
    assert text(up) == "↑ +2,3 (mejor) vs. un año antes"
    assert "good" in up.className and up.title == "mejor"
    dropout = replace(coverage, direction="down")  # e.g. a dropout rate: a rise is worse
    worse = change_text(12.0, 10.5, dropout, "en", "vs_last_year")
    assert text(worse) == "↑ +1.5 (worse) vs a year earlier"
    assert "bad" in worse.className
    better = change_text(9.0, 10.5, dropout, "es", "vs_previous")
    assert text(better).startswith("↓ -1,5 (mejor)")
    flat = change_text(5.0, 5.0, coverage, "es", "vs_previous")
    assert text(flat).startswith("→ 0,0 (sin cambio)") and "muted" in flat.className
    band = change_text(5.0, 4.0, replace(coverage, direction="band"), "es", "vs_previous")
    assert "(sube)" in text(band) and "muted" in band.className
    # the arrow itself is hidden from screen readers: the words say it
    assert up.children[0].to_plotly_json()["props"]["aria-hidden"] == "true"


def test_target_lines_state_target_and_near_threshold(cat):
    ind = cat.indicators["INM-03"]
    goal, near = target_lines(ind, Target(target=90, near=80), "es")
    assert goal == "≥\u00a090,0\u00a0%"
    assert near == "≥\u00a080,0\u00a0% y por debajo de la meta"
    down = replace(ind, direction="down")
    assert target_lines(down, Target(target=5, near=8), "en") == (
        "≤\u00a05.0%",
        "≤\u00a08.0% and above the target",
    )
    assert target_lines(ind, Target(), "es") == ("Sin meta definida", "—")
    band = replace(ind, direction="band")
    assert target_lines(band, Target(band_low=10, band_high=15, near=2), "es") == (
        "entre 10,0\u00a0% y 15,0\u00a0%",
        "fuera del rango por no más de 2,0\u00a0%",
    )


def test_indicator_info_opens_the_whole_definition_in_the_language(cat):
    ind = cat.indicators["INM-03"]
    box = indicator_info(
        ind, "es", target=Target(target=95, near=85, source="PAI"), elements=cat.data_elements
    )
    assert box["type"] == "Details" and box["namespace"] == "dash_html_components"
    words = text(box)
    assert "Definición de «Cobertura Pentavalente 3»" in words  # the (i)'s accessible name
    for part in (
        "Numerador",
        "(PENTA3)",
        "Denominador",
        "(POP_LT1)",
        "× 100 (%)",
        "≥\u00a095,0\u00a0%",
        "≥\u00a085,0\u00a0% y por debajo de la meta",
        "Fuente de la meta",
        "PAI",
        ind.definition_es,
    ):
        assert part in words, part
    en = text(indicator_info(ind, "en"))
    assert "Numerator" in en and "Definition of “DTP3-containing vaccine coverage”" in en
    assert "PENTA3" in en and ind.target.source in en  # codes alone without elements
    assert "ind-info-end" in indicator_info(ind, "es", align="end")["props"]["className"]


def test_indicator_options_group_by_area_with_names_first(cat):
    opts = shell.indicator_options(cat, "es")
    heads = [o for o in opts if o.get("disabled")]
    codes = [o["value"] for o in opts if not o.get("disabled")]
    assert sorted(codes) == sorted(cat.indicators)
    domains = [d for d in shell.DOMAINS if any(i.domain == d for i in cat.indicators.values())]
    assert [h["value"] for h in heads] == [f"__{d}" for d in domains]
    assert heads[1]["label"] == "— INMUNIZACIONES —"
    penta = next(o for o in opts if o["value"] == "INM-03")
    assert penta["label"] == "Cobertura Pentavalente 3 · INM-03"
    # each option follows its area's heading
    area = None
    for o in opts:
        if o.get("disabled"):
            area = o["value"][2:]
        else:
            assert cat.indicators[o["value"]].domain == area


def test_indicator_suggestions_read_back_to_their_indicator(cat):
    from dashboard.filters import find_indicator

    for lang in ("es", "en"):
        sugg = shell.indicator_suggestions(cat, lang)
        assert len(sugg) == len(cat.indicators)
        for opt in sugg:
            code = opt.value.rsplit(" · ", 1)[1]
            assert find_indicator(opt.value, cat) == code
    penta = next(o for o in shell.indicator_suggestions(cat, "en") if o.value.endswith("INM-03"))
    assert penta.value == "DTP3-containing vaccine coverage · INM-03"
    assert penta.label == "Immunisation"


def test_not_found_content_offers_the_ways_on_and_no_export(cat):
    page = shell.not_found(Filters(lang="es"), "NOPE")
    words = text(page)
    assert "Establecimiento no encontrado: NOPE" in words
    assert "Mapa" in words and "Desempeño" in words
    assert "exportar" not in str(page.to_plotly_json())
    notice = shell.ignored_notice([["region", "XX"], ["periodo", "garbage"]], "en")
    assert "region=XX, periodo=garbage" in text(notice)
    assert shell.ignored_notice("forged", "es") == []
    assert shell.ignored_notice([["a", 1]], "es") == []


def test_the_first_loading_block_holds_the_pdf_printer_until_the_page_replaces_it():
    # dashboard.report.pdf waits while any .print-wait is on the page; without it the printer
    # took the "Cargando…" placeholder for the page and printed it.
    block = shell.loading_state("es")
    assert "print-wait" in block.className.split()
    assert block.role == "status" and "Cargando…" in text(block)


def test_change_verdict_reads_a_move_by_the_indicators_direction():
    from dashboard.figures import VERDICT_CLASS, change_verdict

    assert change_verdict("up", "up") == "better"  # a coverage rises
    assert change_verdict("down", "up") == "worse"  # a dropout rate rises
    assert change_verdict("down", "down") == "better"
    assert change_verdict("up", "down") == "worse"
    assert change_verdict("up", "flat") == change_verdict("down", "flat") == "same"
    # inside a target band a move is neither better nor worse
    assert change_verdict("band", "up") == "up" and VERDICT_CLASS["up"] == "muted"
    words = {lang: [t(f"change_{v}", lang) for v in ("better", "worse", "same")] for lang in LANGS}
    assert words == {"es": ["mejor", "peor", "sin cambio"], "en": ["better", "worse", "no change"]}
    assert (VERDICT_CLASS["better"], VERDICT_CLASS["worse"]) == ("good", "bad")
