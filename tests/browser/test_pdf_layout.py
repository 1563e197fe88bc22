"""Every kind of PDF, read back from its text positions (poppler's `pdftotext -bbox-layout`):
no two words printed over each other, no page with nothing but its header and footer, header
and footer text of 8 pt or more, and no screen-only instruction on paper."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import BOUNDARIES, TODAY

from dashboard.__main__ import main
from dashboard.report.pdf import MARGINS

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed"
)

XHTML = "{http://www.w3.org/1999/xhtml}"
PT_PER_MM = 72 / 25.4
# A word's box is about 1.16 times its font size tall (DejaVu Sans); 8 pt text is >= 9.2 pt tall.
MIN_BANNER_BOX_PT = 8 * 1.15


@dataclass(frozen=True)
class Word:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def area(self) -> float:
        return (self.x1 - self.x0) * (self.y1 - self.y0)


@dataclass(frozen=True)
class Page:
    height: float
    words: list[Word]

    def body(self) -> list[Word]:
        """Words between the header and footer margins."""
        top = float(MARGINS["top"].removesuffix("mm")) * PT_PER_MM
        bottom = self.height - float(MARGINS["bottom"].removesuffix("mm")) * PT_PER_MM
        return [w for w in self.words if w.y0 >= top - 1 and w.y1 <= bottom + 1]

    def banner(self) -> list[Word]:
        body = set(self.body())
        return [w for w in self.words if w not in body]


def pages_of(pdf: Path) -> list[Page]:
    out = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True
    ).stdout
    pages = []
    for p in ET.fromstring(out).iter(XHTML + "page"):
        words = [
            Word(*(float(w.get(k, 0)) for k in ("xMin", "yMin", "xMax", "yMax")), w.text or "")
            for w in p.iter(XHTML + "word")
        ]
        pages.append(Page(float(p.get("height", 0)), words))
    return pages


def overprinted(words: list[Word], share: float = 0.25) -> list[tuple[str, str]]:
    """Pairs of words whose boxes overlap by more than `share` of the smaller one: text printed
    over text (neighbouring words on a line touch at most at their edges)."""
    found = []
    ordered = sorted(words, key=lambda w: w.y0)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.y0 >= a.y1:
                break
            w = min(a.x1, b.x1) - max(a.x0, b.x0)
            h = min(a.y1, b.y1) - max(a.y0, b.y0)
            smaller = min(a.area, b.area)
            if w > 0 and h > 0 and smaller > 0 and w * h > share * smaller:
                found.append((a.text, b.text))
    return found


def problems(pdf: Path) -> list[str]:
    out = []
    pages = pages_of(pdf)
    assert pages, f"{pdf.name}: no pages"
    for n, page in enumerate(pages, 1):
        clash = overprinted(page.words)
        if clash:
            out.append(f"page {n}: text over text {clash[:5]}")
        if not page.body():
            out.append(f"page {n}: empty apart from header and footer")
        small = [w.text for w in page.banner() if w.y1 - w.y0 < MIN_BANNER_BOX_PT]
        if small:
            out.append(f"page {n}: header/footer text under 8 pt {small[:5]}")
    return out


# --- the checker itself ---------------------------------------------------------------------


def test_overprinted_finds_text_over_text_and_not_neighbours():
    line = [Word(10, 10, 40, 20, "Cobertura"), Word(42, 10, 70, 20, "Penta")]
    assert overprinted(line) == []
    touching = [Word(10, 10, 40, 20, "a"), Word(39.5, 10, 60, 20, "b")]  # kerning, 2 %
    assert overprinted(touching) == []
    over = [*line, Word(20, 14, 60, 24, "Dónde")]  # a heading printed into the line
    assert overprinted(over) == [("Cobertura", "Dónde"), ("Penta", "Dónde")]


def test_banner_size_and_empty_page_rules():
    header = Word(28, 15, 120, 15 + 7.0, "Región")  # 6 pt text, as printed before
    body = Word(28, 100, 90, 112, "Resumen")
    assert Page(596, [header]).body() == []
    assert Page(596, [header, body]).body() == [body]
    assert Page(596, [header, body]).banner() == [header]


# --- every page type, printed for real ---------------------------------------------------------


@pytest.fixture
def export(demo, monkeypatch, tmp_path):
    _, url, _ = demo
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", url)
    monkeypatch.setenv("DASHBOARD_TODAY", TODAY.isoformat())
    monkeypatch.setenv("DASHBOARD_BOUNDARIES", str(BOUNDARIES))

    def run(*argv: str) -> Path:
        out = tmp_path / "out.pdf"
        if "--pack" in argv:
            folder = tmp_path / "pack"
            assert main(["export-pdf", *argv, "-o", str(folder)]) == 0
            [out] = folder.glob("*.pdf")
        else:
            assert main(["export-pdf", *argv, "-o", str(out)]) == 0
        return out

    return run


def a_facility(repo, region: str) -> str:
    cat = repo.catalog()
    region_id = cat.unit(region).id
    return next(u.code for u in cat.by_code.values() if u.level == 3 and u.region_id == region_id)


VIEWS = {
    "resumen": ["--page", "resumen", "--region", "PY-1"],
    "resumen_mni04_last_year": [
        "--page",
        "resumen",
        "--region",
        "PY-1",
        "--indicator",
        "MNI-04",
        "--period",
        "LAST_YEAR",
    ],
    "resumen_en": ["--page", "resumen", "--lang", "en"],
    "mapa": ["--page", "mapa", "--region", "PY-1"],
    "tendencias": ["--page", "tendencias", "--region", "PY-1"],
    "desempeno": ["--page", "desempeno", "--region", "PY-1"],
    "desempeno_facilities": ["--page", "desempeno", "--region", "PY-11", "--type", "USF"],
    "paquete": ["--pack", "region", "--region", "PY-1"],
}


# Words only a drawn chart prints (its legend): a chart printed before its callback filled it
# is empty and says nothing.
CHART_WORDS = {"tendencias": "Completitud < 90 %", "establecimiento": "Umbral 90 %"}


def words_of(pdf: Path) -> str:
    return " ".join(w.text for p in pages_of(pdf) for w in p.words)


@pytest.mark.parametrize("view", list(VIEWS))
def test_pdf_pages_have_no_overprint_no_empty_page_and_readable_banner(export, view):
    pdf = export(*VIEWS[view])
    assert problems(pdf) == []
    if view in CHART_WORDS:
        assert CHART_WORDS[view] in words_of(pdf)


def test_pdf_facility_profile_layout(export, demo):
    pdf = export("--page", "establecimiento", "--facility", a_facility(demo[0], "PY-1"))
    assert problems(pdf) == []
    assert CHART_WORDS["establecimiento"] in words_of(pdf)


def test_pdf_leaves_screen_instructions_off_paper(export):
    for argv, hint, kept in (
        (VIEWS["desempeno"], "Ordene con los encabezados", "flechas: cambio respecto de"),
        (VIEWS["mapa"], "Haga clic en una región", "El tamaño de los puntos"),
        # the quality legend stays, its "hover or focus the mark" hint does not
        (VIEWS["resumen"], "Pase el cursor", "Advertencia de calidad del dato"),
    ):
        text = words_of(export(*argv))
        assert hint not in text
        assert kept in text
