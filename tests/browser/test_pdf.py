"""PDF snapshots for real: Chromium prints the view; text, page count, numbers and pixels checked."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import BOUNDARIES, TODAY
from pypdf import PdfReader

from dashboard.__main__ import main
from dashboard.aggregate import query
from dashboard.catalog import Scope
from dashboard.i18n import fmt_number
from dashboard.periods import parse_period


@pytest.fixture
def cli(demo, monkeypatch, capsys):
    _, url, _ = demo
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", url)
    monkeypatch.setenv("DASHBOARD_TODAY", TODAY.isoformat())
    monkeypatch.setenv("DASHBOARD_BOUNDARIES", str(BOUNDARIES))

    def run(*argv):
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def text_of(path: Path) -> str:
    """The PDF's words, one space between them: a phrase matches wherever the line wraps."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def query_value(repo, ind, unit, period, **kw):
    cat = repo.catalog()
    [r] = query(
        repo,
        Scope.national(),
        cat.indicators[ind],
        cat.unit(unit),
        parse_period(period, None),
        **kw,
    )
    return r


def ink(png: Path) -> float:
    """Share of pixels that are not white: a blank page is close to 0."""
    from PIL import Image

    im = Image.open(png).convert("L")
    hist = im.histogram()
    return 1 - sum(hist[245:]) / sum(hist)


def test_pdf_scorecard_states_filters_and_equals_the_query(cli, demo, tmp_path):
    out = tmp_path / "desempeno.pdf"
    code, _, err = cli(
        "export-pdf",
        "--page",
        "desempeno",
        "--region",
        "PY-1",
        "--period",
        "2025Q3",
        "-o",
        str(out),
    )
    assert code == 0, err
    reader = PdfReader(out)
    assert len(reader.pages) >= 1
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape
    assert round(float(box.width)) in (841, 842, 843)  # A4
    text = text_of(out)
    for words in (
        "Región sanitaria: Concepción",
        "Período: T3 2025",
        "Indicador: INM-03",
        "Datos hasta oct 2026",
        "Desempeño",
    ):
        assert words in text, words
    assert f"1 / {len(reader.pages)}" in text
    value = query_value(demo[0], "INM-03", "0101", "2025Q3").value
    assert fmt_number(value, "es", 1) in text
    from dashboard import audit

    [entry] = audit.entries(demo[0].engine, limit=1)
    assert (entry.action, entry.detail["format"], entry.detail["page"]) == (
        "export",
        "pdf",
        "desempeno",
    )
    assert "region=PY-1" in entry.detail["query"] and entry.actor.startswith("cli")


def test_pdf_overview_kpi_equals_the_query_cli_in_english(cli, demo, tmp_path):
    out = tmp_path / "resumen.pdf"
    code, _, err = cli(
        "export-pdf",
        "--page",
        "resumen",
        "--region",
        "PY-11",
        "--indicator",
        "MNI-05",
        "--period",
        "2025",
        "--lang",
        "en",
        "-o",
        str(out),
    )
    assert code == 0, err
    text = text_of(out)
    assert "Health region: Central" in text and "Overview" in text
    code, json_out, _ = cli(
        "query",
        "--indicator",
        "MNI-05",
        "--org-unit",
        "PY-11",
        "--period",
        "2025",
        "--format",
        "json",
    )
    import json

    value = json.loads(json_out)[0]["value"]
    assert fmt_number(value, "en", 1) in text


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed"
)
def test_pdf_map_page_renders_ink_not_a_blank_page(cli, tmp_path):
    out = tmp_path / "mapa.pdf"
    code, _, err = cli("export-pdf", "--page", "mapa", "--region", "PY-15", "-o", str(out))
    assert code == 0, err
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(out), str(tmp_path / "p")],
        check=True,
    )
    png = next(tmp_path.glob("p*.png"))
    assert ink(png) > 0.03
    # Charts and maps are vector: the PDF carries paths, not one big raster.
    page = PdfReader(out).pages[0]
    assert not page.images or len(page.images) == 0


def test_pdf_regional_pack_for_one_region(cli, tmp_path):
    code, _, err = cli(
        "export-pdf",
        "--pack",
        "region",
        "--region",
        "PY-16",
        "--period",
        "2025",
        "-o",
        str(tmp_path / "packs"),
    )
    assert code == 0, err
    [pdf] = list((tmp_path / "packs").glob("*.pdf"))
    text = text_of(pdf)
    assert "Informe regional" in text and "Alto Paraguay" in text
    assert (
        "Desempeño de los establecimientos" in text
        and "Tendencias de los indicadores clave" in text
    )
    assert len(PdfReader(pdf).pages) >= 3


def test_pdf_pack_each_region_continues_past_a_failure(cli, tmp_path, monkeypatch):
    """The loop itself, with the printer stubbed: one region fails, the other 17 are written."""
    from dashboard.report import pdf

    def fake_print(self, url, banner, **kw):
        if "region=PY-16" in url:
            raise RuntimeError("simulated failure")
        return b"%PDF-1.4 fake"

    monkeypatch.setattr(pdf.Printer, "print_url", fake_print)
    code, _, err = cli(
        "export-pdf",
        "--pack",
        "region",
        "--each-region",
        "--period",
        "2025",
        "-o",
        str(tmp_path / "all"),
    )
    assert code == 1
    assert len(list((tmp_path / "all").glob("*.pdf"))) == 17
    assert "Alto Paraguay" in err and "simulated failure" in err
    assert "18/18" in err  # the progress bar reached the end


def test_pdf_without_engine_says_so(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("DASHBOARD_CHROMIUM", str(tmp_path / "no-such-browser"))
    code, _, err = cli("export-pdf", "--page", "resumen", "-o", str(tmp_path / "x.pdf"))
    assert code == 3
    assert "Chromium" in err and not (tmp_path / "x.pdf").exists()


def test_pdf_cli_rejects_unknown_codes(cli, tmp_path):
    code, _, err = cli(
        "export-pdf", "--page", "resumen", "--region", "PY-99", "-o", str(tmp_path / "x.pdf")
    )
    assert code == 2 and "unknown region 'PY-99'" in err


def test_pdf_button_downloads_the_view(page, open_page, tmp_path):
    """The button shows progress while the file prints, a second press asks for nothing more,
    and the file arrives with the view's name and filters."""
    open_page("/desempeno?region=PY-1&periodo=2025Q3")
    asked = []
    page.on("request", lambda r: "/exportar.pdf" in r.url and asked.append(r.url))
    button = page.locator("a[data-export=pdf]")
    with page.expect_download(timeout=60_000) as dl:
        button.click()
        page.wait_for_selector("a[data-export=pdf].is-busy[aria-busy=true]", timeout=2_000)
        assert "Preparando PDF" in page.inner_text("#pdf-export-status")
        label = page.evaluate(
            "getComputedStyle(document.querySelector('a[data-export=pdf]'), '::after').content"
        )
        assert "Preparando PDF" in label
        page.evaluate("document.querySelector('a[data-export=pdf]').click()")  # pressed again
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    assert path.suffix == ".pdf" and "PY-1" in path.name
    text = text_of(path)
    assert "Región sanitaria: Concepción" in text and "Período: T3 2025" in text
    page.wait_for_selector("a[data-export=pdf]:not(.is-busy)")
    assert len(asked) == 1, asked
    assert button.get_attribute("aria-busy") is None


def test_pdf_button_says_when_the_server_stays_busy(page, open_page):
    """A 503 beyond the button's waiting budget (too many prints for too long) is said on the
    page, and the button can be pressed again."""
    open_page("/?region=PY-1")
    busy_page = "<!doctype html><p>Se están generando muchos PDF en este momento.</p>"
    page.route(
        "**/exportar.pdf*",
        lambda route: route.fulfill(
            status=503, body=busy_page, headers={"Retry-After": "10"}, content_type="text/html"
        ),
    )
    page.evaluate("document.querySelector('a[data-export=pdf]').dataset.retryBudget = '5'")
    page.click("a[data-export=pdf]")
    alert = page.wait_for_selector("#pdf-export-status.alert", timeout=5_000)
    assert "muchos PDF" in alert.inner_text()
    page.wait_for_selector("a[data-export=pdf]:not(.is-busy)")


def test_pdf_button_waits_and_asks_again_when_the_printer_is_busy(page, open_page, tmp_path):
    """The server queues a request a second at most: on 503 + Retry-After the button says so,
    waits, asks again by itself and the file arrives, with no second press."""
    open_page("/?region=PY-1")
    asked: list[str] = []

    def busy_once(route):
        asked.append(route.request.url)
        if len(asked) == 1:
            route.fulfill(
                status=503,
                body="<p>ocupado</p>",
                headers={"Retry-After": "1"},
                content_type="text/html",
            )
        else:
            route.continue_()

    page.route("**/exportar.pdf*", busy_once)
    with page.expect_download(timeout=60_000) as dl:
        page.click("a[data-export=pdf]")
        page.wait_for_function(
            "document.getElementById('pdf-export-status').textContent.includes('otros PDF')",
            timeout=3_000,
        )
        assert page.locator("a[data-export=pdf].is-busy").count() == 1
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    assert path.read_bytes()[:5] == b"%PDF-"
    assert len(asked) == 2 and asked[0] == asked[1]
    assert not page.locator("#pdf-export-status.alert").count()


def test_pdf_for_the_public_hides_small_counts(cli, tmp_path):
    """A PDF printed under disclosure control (what the public role downloads) shows "<5"
    where the authorised PDF shows the real small count."""
    args = ["export-pdf", "--page", "mapa", "--region", "PY-11", "--indicator", "MNI-02"]
    args += ["--period", "202501"]
    public, full = tmp_path / "public.pdf", tmp_path / "full.pdf"
    assert cli(*args, "--suppress", "-o", str(public))[0] == 0
    assert cli(*args, "-o", str(full))[0] == 0
    shown, real = text_of(public), text_of(full)
    assert "<5" in shown
    assert "<5" not in real


def test_pdf_of_the_annual_data_quality_review_of_a_region(cli, tmp_path):
    out = tmp_path / "calidad.pdf"
    args = ["export-pdf", "--page", "calidad", "--region", "PY-1", "--period", "2025"]
    assert cli(*args, "-o", str(out))[0] == 0
    text = text_of(out)
    for words in ("Calidad de datos", "Concepción", "Completitud y oportunidad", "Horqueta"):
        assert words in text
    # Every WHO metric's section, printed in full (not the loading skeleton).
    for code in ("1a · 1b", "2a · 2b", "2d.", "2e.", "4a."):
        assert code in text
    assert len(PdfReader(out).pages) >= 3
