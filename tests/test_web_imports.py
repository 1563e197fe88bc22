"""/importar through Flask's test client: upload, dry-run report, confirm; roles, CSRF, scope,
the staged file's hash and the upload's own size cap."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from helpers import fresh_engine
from sqlalchemy import text

from dashboard.catalog import Scope
from dashboard.config import Settings
from dashboard.i18n import keys
from dashboard.reference import load_reference
from dashboard.repository import Repository
from dashboard.web import imports

TODAY = date(2024, 6, 15)
HEADER = "data_element,period,org_unit,value\n"
GOOD = HEADER + "NAC_VIVOS,202401,F001,12\nPARTOS,202401,F001,13\n"
BAD = HEADER + "NAC_VIVOS,202401,F001,2.5\nPARTOS,202401,XX9,1\n"


@dataclass
class User:
    id: str = "ana"
    role: str = "analista"
    scope: Scope = Scope.national()
    email: str | None = "ana@test.local"


@pytest.fixture
def store(tmp_path) -> Repository:
    repo = Repository(fresh_engine(tmp_path))
    load_reference(repo)
    repo.upsert_org_units(
        [
            {"code": "F001", "name": "USF 1", "level": 3, "parent": "0101", "facility_type": "USF"},
            {"code": "F002", "name": "HR 12", "level": 3, "parent": "1201", "facility_type": "HR"},
        ]
    )
    yield repo
    repo.engine.dispose()


@pytest.fixture
def who() -> dict:
    """Mutable: a test changes the signed-in user by replacing who["user"]."""
    return {"user": User()}


def make_client(store, tmp_path, who, **settings_kw):
    settings = Settings(
        database_url="unused", data_dir=tmp_path / "data", today=TODAY, **settings_kw
    )
    server = Flask("t")
    imports.register(server, store, settings, current_user=lambda: who["user"])
    return server, server.test_client()


@pytest.fixture
def client(store, tmp_path, who):
    return make_client(store, tmp_path, who)[1]


def csrf(client, lang: str = "es") -> str:
    html = client.get(f"/importar?lang={lang}").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def upload(client, content: str | bytes, name: str = "valores.csv", lang: str = "es", token=None):
    token = csrf(client, lang) if token is None else token
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        f"/importar?lang={lang}",
        data={"csrf_token": token, "lang": lang, "archivo": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def preview_token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def confirm(client, token: str, lang: str = "es"):
    return client.post(
        f"/importar/confirmar?lang={lang}",
        data={"csrf_token": csrf(client, lang), "token": token, "lang": lang},
    )


def stored(store) -> int:
    with store.engine.connect() as c:
        return c.execute(text("SELECT COUNT(*) FROM data_value")).scalar_one()


def test_importar_form_has_labelled_file_input_and_csrf_cookie(client):
    r = client.get("/importar")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and '<html lang="es">' in html
    assert '<label for="archivo"' in html and 'id="archivo"' in html
    assert 'enctype="multipart/form-data"' in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    cookie = client.get_cookie("importar_csrf", path="/importar")
    assert cookie is not None and cookie.value == token and cookie.http_only
    assert r.headers["Cache-Control"] == "no-store"


def test_importar_good_file_previews_then_confirm_writes(client, store):
    r = upload(client, GOOD)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Revisión (simulación)" in html
    assert re.search(r'data-count="inserted">2<', html)
    assert re.search(r'data-count="unchanged">0<', html)
    assert stored(store) == 0  # a preview writes nothing
    token = preview_token(html)
    done = confirm(client, token)
    assert done.status_code == 200
    assert "Importación terminada" in done.get_data(as_text=True)
    assert stored(store) == 2
    again = confirm(client, token)  # a second click imports nothing twice
    assert again.status_code == 409 and stored(store) == 2
    from dashboard import audit

    (line,) = [e for e in audit.entries(store.engine) if e.action == "import"]
    assert line.actor == "ana@test.local"
    assert line.detail["outcome"] == "ok" and line.detail["inserted"] == 2
    assert len(line.detail["sha256"]) == 64 and line.detail["via"] == "web"


def test_importar_bad_file_lists_every_problem_in_the_page_language(client, store):
    html = upload(client, BAD).get_data(as_text=True)
    assert "El archivo se rechazó entero: 2 problemas" in html
    rows = re.findall(
        r"<tr><td>(\d+)</td><td>([^<]+)</td><td><code>([^<]*)</code></td><td>([^<]+)</td></tr>",
        html,
    )
    assert rows == [
        ("2", "value", "2.5", "un conteo debe ser un número entero"),
        ("3", "org_unit", "XX9", "unidad organizativa desconocida"),
    ]
    assert 'name="token"' not in html  # nothing to confirm
    html_en = upload(client, BAD, lang="en").get_data(as_text=True)
    assert "a count must be a whole number" in html_en and "unknown org unit" in html_en
    assert stored(store) == 0


def test_importar_row_outside_the_scope_rejects_the_whole_file(client, store, who):
    who["user"] = User(scope=Scope.of("PY-1"))
    html = upload(client, GOOD + "PARTOS,202401,F002,1\n").get_data(as_text=True)
    assert "fuera de su ámbito de acceso" in html
    assert 'name="token"' not in html and stored(store) == 0
    assert "Valores a insertar" in upload(client, GOOD).get_data(as_text=True)


def test_importar_needs_the_analyst_role(client, store, who):
    token = csrf(client)
    who["user"] = User(role="regional")
    assert client.get("/importar").status_code == 403
    assert upload(client, GOOD, token=token).status_code == 403
    who["user"] = None
    r = client.get("/importar")
    assert r.status_code == 401 and "Inicie sesión" in r.get_data(as_text=True)
    assert stored(store) == 0


def test_importar_post_without_the_csrf_token_is_refused(client, store, tmp_path):
    csrf(client)  # the browser has its cookie, but the form does not carry the token
    r = upload(client, GOOD, token="")
    assert r.status_code == 400 and "El formulario caducó" in r.get_data(as_text=True)
    r = upload(client, GOOD, token="x" * 43)
    assert r.status_code == 400
    staging = tmp_path / "data" / "import-staging"
    assert not staging.exists() or not any(staging.iterdir())


def test_importar_confirm_rechecks_the_staged_file_hash(client, store, tmp_path):
    token = preview_token(upload(client, GOOD).get_data(as_text=True))
    staged = tmp_path / "data" / "import-staging" / token / "valores.csv"
    staged.write_text(HEADER + "NAC_VIVOS,202401,F001,99999\n")
    r = confirm(client, token)
    assert r.status_code == 409 and stored(store) == 0


def test_importar_confirm_only_by_the_user_who_uploaded(client, store, who):
    token = preview_token(upload(client, GOOD).get_data(as_text=True))
    who["user"] = User(id="otro")
    assert confirm(client, token).status_code == 409 and stored(store) == 0


def test_importar_confirm_with_a_made_up_token_is_refused(client, store):
    assert confirm(client, "../../etc").status_code == 409
    assert confirm(client, "A" * 43).status_code == 409


def test_importar_upload_over_its_cap_is_refused(store, tmp_path, who):
    _, client = make_client(store, tmp_path, who, import_max_bytes=1000)
    r = upload(client, GOOD + "NAC_VIVOS,202401,F001,12\n" * 200)
    assert r.status_code == 413 and "supera el máximo" in r.get_data(as_text=True)
    r = upload(client, GOOD + "NAC_VIVOS,202401,F001,12\n" * 5000)  # past the form overhead too
    assert r.status_code == 413 and stored(store) == 0


def test_importar_cap_is_its_own_not_the_apps_body_limit(store, tmp_path, who):
    # The app may cap request bodies at 1 MB for Dash callbacks; the upload keeps its own cap.
    server, client = make_client(store, tmp_path, who, import_max_bytes=4 * 1024 * 1024)
    server.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    big = GOOD + "NAC_VIVOS,202401,F001,12\n" * 80_000  # about 2 MB, identical duplicates
    assert len(big) > 1024 * 1024
    html = upload(client, big).get_data(as_text=True)
    assert re.search(r'data-count="inserted">2<', html), html[-2000:]


def test_importar_page_strings_exist_in_every_language():
    source = (imports.__file__ and open(imports.__file__, encoding="utf-8").read()) or ""
    used = set(re.findall(r'"(import_page_[a-z_]+)"', source))
    assert len(used) > 20
    assert used <= keys("es") and used <= keys("en")


def test_importar_is_wired_into_the_app_factory_behind_sign_in(tmp_path):
    from web_helpers import signed_in

    from dashboard.app import create_app

    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    settings = Settings(database_url=url, data_dir=tmp_path, secret_key="test-importar")
    app = create_app(settings)
    anonymous = app.server.test_client().get("/importar?lang=en")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    r = signed_in(app, url, role="analista").get("/importar?lang=en")
    assert r.status_code == 200 and '<html lang="en">' in r.get_data(as_text=True)
    assert "Import data" in r.get_data(as_text=True)
    assert signed_in(app, url, role="nacional").get("/importar?lang=en").status_code == 403


def test_importar_reads_fhir_and_adx_by_content(client, store):
    from pathlib import Path

    fixtures = Path(__file__).resolve().parent / "fixtures" / "interop"
    # The suffix does not decide: a MeasureReport Bundle saved as .json, ADX as .xml.
    html = upload(client, (fixtures / "values.adx.xml").read_bytes(), name="mspbs.xml")
    text_ = html.get_data(as_text=True)
    assert "· adx" in text_ and re.search(r'data-count="inserted">6<', text_)
    html = upload(client, (fixtures / "measurereports.json").read_bytes(), name="informe.json")
    text_ = html.get_data(as_text=True)
    assert "· fhir-measurereport" in text_ and re.search(r'data-count="inserted">6<', text_)
    assert stored(store) == 0


def test_importar_fhir_problem_shows_its_json_path_for_an_analyst(client, store, who):
    import json
    from pathlib import Path

    fixtures = Path(__file__).resolve().parent / "fixtures" / "interop"
    who["user"] = User(scope=Scope.of("PY-12"))
    bundle = json.loads((fixtures / "measurereports.json").read_text())
    html = upload(client, json.dumps(bundle), name="informe.json", lang="en").get_data(as_text=True)
    # F001 (entry 2, the reporter) lies in Concepción, outside this analyst's region.
    assert "<td><code>entry[2].resource.reporter.identifier.value</code></td>" in html
    assert "JSON path or XML line" in html
    assert "outside your access scope" in html
    assert 'name="token"' not in html and stored(store) == 0
