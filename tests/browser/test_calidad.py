"""The data-quality review page (/calidad) in a real browser: every WHO metric's table in
Spanish and English, axe-clean, no CSP violation (the page fixture fails on any)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("es", ("Completitud y oportunidad", "Valores atípicos", "Coherencia en el tiempo")),
        ("en", ("Completeness and timeliness", "Outliers", "Consistency over time")),
    ],
)
def test_calidad_renders_the_review_of_a_region(open_page, axe, snap, lang, words):
    page = open_page(f"/calidad?region=PY-1&periodo=2025&lang={lang}")
    page.locator(".dqr-body .dqr-table").first.wait_for()
    text = page.inner_text("#page-content")
    for w in words:
        assert w in text
    # Concepción's districts are the rows; the region's own row comes first.
    assert page.locator(".dqr-section").count() == 5
    assert "Horqueta" in text
    assert page.locator(".nav-link.active").inner_text() == (
        "Calidad de datos" if lang == "es" else "Data quality"
    )
    assert [v for v in axe(page) if v["impact"] in ("serious", "critical")] == [], axe(page)
    snap(page, f"calidad-{lang}")
