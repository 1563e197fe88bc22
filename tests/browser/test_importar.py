"""/importar in a real browser: upload a good file, read the dry-run report, confirm; upload a
bad file and read every problem; axe-core and a Spanish screenshot of each state.

The app runs over a small store of its own (the reference tree and two facilities), so these
tests neither need the demo nor change the data other browser tests read.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.browser

TODAY = date(2024, 6, 15)
HEADER = "data_element,period,org_unit,value\n"
GOOD = HEADER + "NAC_VIVOS,202401,F001,12\nPARTOS,202401,F001,13\nPARTOS,202402,F002,4\n"
BAD = HEADER + "NAC_VIVOS,202401,F001,2.5\nPARTOS,202401,XX9,1\nPARTOS,202402,F002,1e308\n"


@pytest.fixture(scope="module")
def import_server():
    from werkzeug.serving import make_server

    from dashboard.app import create_app
    from dashboard.config import Settings
    from dashboard.db import make_engine
    from dashboard.reference import load_reference
    from dashboard.repository import Repository

    data_dir = Path(tempfile.mkdtemp(prefix="dashboard-importar-"))
    url = f"sqlite:///{data_dir / 'importar.sqlite3'}"
    repo = Repository(make_engine(url))
    repo.ensure_schema()
    load_reference(repo)
    repo.upsert_org_units(
        [
            {"code": "F001", "name": "USF 1", "level": 3, "parent": "0101", "facility_type": "USF"},
            {"code": "F002", "name": "HR 12", "level": 3, "parent": "1201", "facility_type": "HR"},
        ]
    )
    from argon2 import PasswordHasher

    from dashboard.accounts import Accounts
    from dashboard.web.auth import SESSION_COOKIE

    accounts = Accounts(
        repo.engine, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    analyst = accounts.add(
        repo.catalog(), "analista@test.local", "analista", "a long test password", actor="tests"
    )
    app = create_app(
        Settings(database_url=url, data_dir=data_dir, today=TODAY, secret_key="test-importar")
    )
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="importar", daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        cookie = {"name": SESSION_COOKIE, "value": accounts.start_session(analyst.id), "url": base}
        yield base, repo, cookie
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        repo.engine.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def importer(import_server, page):
    """(base URL, repo) with the page signed in as an analyst of the import server's store."""
    base, repo, cookie = import_server
    page.context.add_cookies([cookie])
    return base, repo


def _upload(page, base: str, name: str, content: str, lang: str = "es"):
    page.goto(f"{base}/importar?lang={lang}")
    page.get_by_label("Archivo a importar" if lang == "es" else "File to import").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content.encode()}]
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Revisar archivo" if lang == "es" else "Check file").click()
    return page


def _serious(axe, page) -> list[dict]:
    return [v for v in axe(page) if v["impact"] in ("serious", "critical")]


def test_importar_good_file_preview_and_confirm(importer, page, page_log, axe, snap):
    base, repo = importer
    _upload(page, base, "valores.csv", GOOD)
    assert "Revisión (simulación)" in page.locator("h2").inner_text()
    assert page.locator('[data-count="inserted"]').inner_text() == "3"
    assert page.locator('[data-count="updated"]').inner_text() == "0"
    assert _serious(axe, page) == []
    assert snap(page, "importar-revision").stat().st_size > 1000
    with page.expect_navigation():
        page.get_by_role("button", name="Confirmar importación").click()
    assert "Importación terminada" in page.get_by_role("status").inner_text()
    assert page.locator('[data-count="inserted"]').inner_text() == "3"
    with repo.engine.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM data_value")).scalar_one() == 3
    snap(page, "importar-resultado")
    assert page_log.problems() == {}


def test_importar_bad_file_shows_every_problem(importer, page, page_log, axe, snap):
    base, _ = importer
    _upload(page, base, "malo.csv", BAD)
    assert "2.5" in page.locator("#import-problems").inner_text()
    rows = page.locator("#import-problems tbody tr").all_inner_texts()
    cells = [r.split("\t") for r in rows]
    assert [(c[0], c[1], c[2]) for c in cells] == [
        ("2", "value", "2.5"),
        ("3", "org_unit", "XX9"),
        ("4", "value", "1e308"),
    ], json.dumps(cells, ensure_ascii=False)
    assert "un conteo debe ser un número entero" in cells[0][3]
    assert "valor desmedido" in cells[2][3]
    assert page.get_by_role("button", name="Confirmar importación").count() == 0
    assert _serious(axe, page) == []
    snap(page, "importar-problemas")
    assert page_log.problems() == {}


def test_importar_report_in_english(importer, page):
    base, _ = importer
    _upload(page, base, "bad.csv", BAD, lang="en")
    text = page.locator("#import-problems").inner_text()
    assert "a count must be a whole number" in text and "unknown org unit" in text
    assert page.locator("html").get_attribute("lang") == "en"
