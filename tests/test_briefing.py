"""The month's briefing: its rules on hand-computed cases, and its numbers equal to `query`'s."""

import json

import pandas as pd
import pytest
from helpers import TODAY, add_facilities, put_values
from web_helpers import url_of

from dashboard.__main__ import main
from dashboard.briefing import MAX_FINDINGS, build, drivers
from dashboard.catalog import Scope
from dashboard.filters import Filters, from_query
from dashboard.views import Context


def test_briefing_drivers_one_unit_explains_the_fall():
    # Before A 90/100, B 80/100, C 100/100 (R0 = 0.9); now A 60/100: the whole fall is A's.
    rows = pd.DataFrame(
        {
            "num_now": [60.0, 80.0, 100.0],
            "den_now": [100.0, 100.0, 100.0],
            "num_before": [90.0, 80.0, 100.0],
            "den_before": [100.0, 100.0, 100.0],
        }
    )
    assert drivers(rows, 0.9, 300.0, -1.0) == (1, 3, pytest.approx(100.0))


def test_briefing_drivers_exact_decomposition_with_changing_denominators():
    # Before: A 50/100, B 50/100 -> R0 = 0.5. Now: A 40/100, B 45/120 -> 85/220.
    # Contributions (ΔN − R0·ΔD)/D1: A (−10 − 0)/220 = −10/220; B (−5 − 0.5·20)/220 = −15/220.
    # Total −25/220 = 85/220 − 0.5 (exact). B alone 60 % < 70 %: both needed, 100 %.
    rows = pd.DataFrame(
        {
            "num_now": [40.0, 45.0],
            "den_now": [100.0, 120.0],
            "num_before": [50.0, 50.0],
            "den_before": [100.0, 100.0],
        }
    )
    assert drivers(rows, 0.5, 220.0, -1.0) == (2, 2, pytest.approx(100.0))
    # Three units, B causes 60/70 of it: B alone explains 85.7 % >= 70 %.
    rows = pd.DataFrame(
        {
            "num_now": [90.0, 40.0, 100.0],
            "den_now": [100.0, 100.0, 100.0],
            "num_before": [100.0, 100.0, 100.0],
            "den_before": [100.0, 100.0, 100.0],
        }
    )
    k, n, share = drivers(rows, 1.0, 300.0, -1.0)
    assert (k, n) == (1, 3) and share == pytest.approx(60 / 70 * 100)


def _num(month: int) -> int:
    return 85 + (1 if month % 2 else -1)  # 84 in even months, 86 in odd ones: a little noise


@pytest.fixture
def diabetes(repo):
    """ENT-03 (HbA1c control, target 80 %, near 70 %) in Concepción: three USF with 100
    diabetics each, 84/86 controlled by month; in October 2025 U1 (district 0101) falls to 37."""
    add_facilities(repo, [("U1", "USF", "0101"), ("U2", "USF", "0101"), ("U3", "USF", "0102")])
    rows = []
    months = [202409 + k for k in range(4)] + [202501 + k for k in range(10)]
    for m in months:
        for fac in ("U1", "U2", "U3"):
            num = 37 if (fac == "U1" and m == 202510) else _num(m)
            rows += [(fac, "DM_ATEND", m, 100), (fac, "DM_HBA1C", m, num)]
    put_values(repo, rows, expect=(202409, 202510))
    return repo


def _brief(repo, scope=None, lang="es", region=None):
    """The briefing as a page builds it: filters rebuilt from the URL within the scope."""
    ctx = Context(repo, scope or Scope.national(), TODAY)
    q = f"?lang={lang}&indicador=ENT-03&periodo=202510" + (f"&region={region}" if region else "")
    return build(ctx, from_query(q, ctx.cat, TODAY, ctx.scope))


def test_briefing_finds_the_fall_its_cause_and_the_status_change(diabetes):
    b = _brief(diabetes, region="PY-1")
    assert len(b.findings) <= MAX_FINDINGS
    kinds = [x.kind for x in b.findings]
    # Oct 2024 252/300 = 84.0 %; Oct 2025 (37 + 84 + 84)/300 = 68.3 %; Sep 2025 86.0 % (met).
    fall = b.findings[kinds.index("deterioration")]
    assert fall.text("es") == (
        "Concepción: Diabéticos con control glucémico (HbA1c < 8 %) bajó de 84,0\u00a0% a 68,3\u00a0% "
        "respecto a oct 2024; 1 de 2 distritos explica el 100 % de la caída."
    )
    assert fall.href(Filters(region="PY-1")) == "/mapa?region=PY-1&indicador=ENT-03&periodo=202510"
    worse = b.findings[kinds.index("status_worse")]
    assert worse.text("es").endswith(
        "de «cumple» a «no cumple» (68,3\u00a0%; 86,0\u00a0% en sep 2025)."
    )
    assert worse.score > fall.score  # a status lost outranks a fall that kept it
    # 0101 went from 86.0 % (met) to (37 + 84)/200 = 60.5 % (not met); 0102 stays met.
    below = b.findings[kinds.index("children_below")]
    assert below.text("es") == (
        "Concepción: 1 de 2 distritos cayó por debajo de la meta de Diabéticos con control "
        "glucémico (HbA1c < 8 %) respecto a sep 2025: Concepción."
    )
    assert below.href(Filters(region="PY-1")) == (
        "/desempeno?region=PY-1&indicador=ENT-03&periodo=202510"
    )
    # The English text carries English numbers.
    assert "from 84.0% to 68.3%" in fall.text("en")


def test_briefing_ignores_changes_within_month_to_month_noise(repo):
    # 84/86 alternating, and October 2025 at 80: a 4-point fall against 84 in Oct 2024 is
    # within two SDs (≈ 2.1 each) of the month-to-month changes: no deterioration finding.
    add_facilities(repo, [("U1", "USF", "0101")])
    rows = []
    for m in [202409 + k for k in range(4)] + [202501 + k for k in range(10)]:
        num = 80 if m == 202510 else _num(m)
        rows += [("U1", "DM_ATEND", m, 1000), ("U1", "DM_HBA1C", m, num * 10)]
    put_values(repo, rows, expect=(202409, 202510))
    b = _brief(repo, region="PY-1")
    assert "deterioration" not in [x.kind for x in b.findings]


def test_briefing_numbers_equal_the_query_command(diabetes, capsys, monkeypatch):
    """Every number of the deterioration sentence, read back from `python -m dashboard query`."""
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", url_of(diabetes))
    monkeypatch.setenv("DASHBOARD_TODAY", TODAY.isoformat())
    b = _brief(diabetes, region="PY-1")
    fall = next(x for x in b.findings if x.kind == "deterioration")
    values = {}
    for period in ("202510", "202410"):
        assert main(["query", "--indicator", "ENT-03", "--org-unit", "PY-1", "--period", period,
                     "--format", "json"]) == 0  # fmt: skip
        values[period] = json.loads(capsys.readouterr().out)[0]["value"]
    text = fall.text("es")
    for v in values.values():
        assert f"{v:.1f}".replace(".", ",") + "\u00a0%" in text
    assert fall.params["value_now"] == values["202510"]
    assert fall.params["value_before"] == values["202410"]


def test_briefing_command_text_and_json(diabetes, capsys, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", url_of(diabetes))
    monkeypatch.setenv("DASHBOARD_TODAY", TODAY.isoformat())
    assert main(["briefing", "--org-unit", "PY-1", "--period", "202510", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["org_unit"] == "PY-1" and doc["period"] == "202510"
    assert 1 <= len(doc["findings"]) <= MAX_FINDINGS
    assert all(f["href"].startswith("/") for f in doc["findings"])
    assert main(["briefing", "--org-unit", "PY-1", "--period", "202510", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("What matters most in Oct 2025")
    assert main(["briefing", "--org-unit", "NOPE", "--period", "202510"]) == 2


def test_briefing_regional_scope_never_names_another_region(diabetes):
    add_facilities(diabetes, [("X1", "USF", "0201")])
    put_values(diabetes, [("X1", "DM_ATEND", 202510, 100), ("X1", "DM_HBA1C", 202510, 1)])
    b = _brief(diabetes, scope=Scope.of("PY-2"))
    assert b.unit.code == "PY-2"  # the country is out of her scope: her region instead
    texts = " ".join(x.text("es") for x in b.findings)
    assert "Concepción" not in texts
