"""Access control on the web server: every route needs a session, sign-in and sign-out, lock-out,
and a scope decided on the server that forged callback payloads and export URLs cannot widen."""

from __future__ import annotations

import io
import re
import uuid
from types import SimpleNamespace
from urllib.parse import quote

import openpyxl
import pytest
from argon2 import PasswordHasher
from helpers import TODAY

from dashboard import audit
from dashboard.accounts import Accounts
from dashboard.catalog import Scope
from dashboard.config import Settings
from dashboard.web.auth import PRINT_COOKIE, SESSION_COOKIE, make_print_token, safe_next

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PW = "correct horse battery"
SECRET = "test-secret-not-for-production"
OPEN = {"/login", "/healthz", "/readyz", "/_favicon.ico"}
OTHER = "PY-11"  # Central: never shown to the director of Concepción (PY-1)


@pytest.fixture(scope="module")
def web(demo, tmp_path_factory):
    from dashboard.app import create_app

    repo, url, _ = demo
    settings = Settings(
        database_url=url,
        data_dir=tmp_path_factory.mktemp("web"),
        today=TODAY,
        secret_key=SECRET,
    )
    app = create_app(settings)
    accounts = Accounts(repo.engine, hasher=FAST)
    cat = repo.catalog()
    tag = uuid.uuid4().hex[:6]
    made = {}
    for key, role, region, district in [
        ("nacional", "nacional", None, None),
        ("director", "regional", "PY-1", None),
        ("distrital", "distrital", None, "0101"),
        ("sinregion", "regional", None, None),
        ("admin", "admin", None, None),
    ]:
        email = f"{key}-{tag}@test.local"
        made[key] = accounts.add(
            cat, email, role, PW, region=region, district=district, actor="tests"
        )
    other = cat.unit(OTHER)
    districts = cat.descendants(other, 2)
    facilities = cat.descendants(other, 3)
    in_py1 = " ".join(u.name for u in cat.descendants(cat.unit("PY-1"), 3))
    forbidden = {OTHER, other.name, *(f'"{d.code}"' for d in districts)}
    forbidden |= {f.code for f in facilities} | {f.name for f in facilities}
    forbidden |= {d.name for d in districts if d.name.lower() not in in_py1.lower()}
    return SimpleNamespace(
        app=app,
        server=app.server,
        accounts=accounts,
        made=made,
        cat=cat,
        repo=repo,
        forbidden=forbidden,
        other_facility=facilities[0].code,
        other_district=districts[0].code,
    )


def client(web, who: str | None = None):
    c = web.server.test_client()
    if who:
        c.set_cookie(SESSION_COOKIE, web.accounts.start_session(web.made[who].id))
    return c


def leaks(web, text: str) -> list[str]:
    return sorted(w for w in web.forbidden if w in text)


# --- every route needs a session ----------------------------------------------------------------


def test_every_route_needs_a_session_except_the_allow_list(web):
    c = client(web)
    seen = []
    for rule in web.server.url_map.iter_rules():
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        method = "GET" if "GET" in rule.methods else "POST"
        r = c.open(path, method=method, headers={"Accept": "text/html"})
        seen.append(path)
        if path in OPEN or path.startswith("/assets/"):
            assert r.status_code != 401 and "/login?" not in r.headers.get("Location", ""), path
            continue
        if r.status_code in (302, 303):
            assert r.headers["Location"].startswith("/login"), path
        else:
            assert r.status_code == 401, (path, r.status_code)
        api = c.open(path, method=method, headers={"Accept": "application/json"})
        assert api.status_code in (302, 303, 401)
    for needed in ("/_dash-layout", "/_dash-dependencies", "/_dash-update-component"):
        assert needed in seen
    assert any(p.startswith("/exportar") for p in seen)


def test_unauthenticated_page_redirects_with_next_and_xhr_gets_401(web):
    c = client(web)
    r = c.get("/desempeno?region=PY-1", headers={"Accept": "text/html"})
    assert r.status_code == 302
    assert r.headers["Location"] == "/login?next=" + quote("/desempeno?region=PY-1", safe="")
    r = c.post("/_dash-update-component", json={}, headers={"Accept": "application/json"})
    assert r.status_code == 401 and r.json == {"error": "authentication required"}
    assert c.get("/_dash-layout").status_code == 401
    assert c.get("/exportar.csv?pagina=resumen", headers={"Accept": "*/*"}).status_code in (
        302,
        401,
    )


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/mapa?region=PY-1", "/mapa?region=PY-1"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/login", "/"),
        ("", "/"),
        ("/x\r\nSet-Cookie: a=b", "/"),
    ],
)
def test_safe_next_keeps_only_local_paths(target, expected):
    assert safe_next(target) == expected


# --- sign-in, sign-out ----------------------------------------------------------------------


def _csrf(c, path="/login"):
    r = c.get(path)
    return re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)


def _login(c, email, password, nxt="/"):
    token = _csrf(c)
    return c.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": nxt},
    )


def test_login_page_in_both_languages_has_form_fields(web):
    c = client(web)
    es = c.get("/login")
    assert es.status_code == 200 and '<html lang="es">' in es.text
    for field in ('name="email"', 'name="password"', 'name="csrf_token"', 'for="email"'):
        assert field in es.text
    assert "Iniciar sesión" in es.text and es.headers["Cache-Control"] == "no-store"
    en = c.get("/login?lang=en")
    assert '<html lang="en">' in en.text and "Sign in" in en.text
    assert "/assets/00-bootstrap.min.css" in es.text


def test_login_rotates_session_sets_safe_cookie_and_audits(web):
    c = client(web, "nacional")
    old = c.get_cookie(SESSION_COOKIE).value
    r = _login(c, web.made["director"].email, PW, nxt="/mapa?region=PY-1")
    assert r.status_code == 303 and r.headers["Location"] == "/mapa?region=PY-1"
    cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    new = c.get_cookie(SESSION_COOKIE).value
    assert new != old
    assert web.accounts.session_account(old, *_lifetimes()) is None  # the old one is gone
    assert c.get("/_dash-layout").status_code == 200
    log = audit.entries(web.repo.engine, limit=5)
    assert any(e.action == "login" and e.actor == web.made["director"].email for e in log)
    assert not any(PW in str(e.detail) for e in log)


def test_login_cookie_is_secure_behind_https(web):
    c = web.server.test_client()
    token = _csrf(c)
    r = c.post(
        "/login",
        data={"email": web.made["nacional"].email, "password": PW, "csrf_token": token},
        base_url="https://localhost",
    )
    assert "Secure" in next(h for h in r.headers.getlist("Set-Cookie") if SESSION_COOKIE in h)


def _lifetimes():
    from datetime import timedelta

    return timedelta(hours=1), timedelta(hours=12)


def test_login_refuses_without_csrf_token(web):
    c = client(web)
    c.get("/login")
    r = c.post("/login", data={"email": web.made["nacional"].email, "password": PW})
    assert r.status_code == 400 and c.get_cookie(SESSION_COOKIE) is None


def test_login_same_answer_for_unknown_account_and_wrong_password(web):
    c = client(web)
    wrong = _login(c, web.made["nacional"].email, "wrong password!")
    unknown = _login(c, f"nobody-{uuid.uuid4().hex[:6]}@test.local", PW)
    assert wrong.status_code == unknown.status_code == 401
    msg = re.compile(r'role="alert"[^>]*>([^<]+)<')
    assert msg.search(wrong.text).group(1) == msg.search(unknown.text).group(1)
    assert "Correo o contraseña incorrectos." in wrong.text
    actions = [e.action for e in audit.entries(web.repo.engine, limit=2)]
    assert actions == ["login_failed", "login_failed"]


def test_lockout_after_five_failures_even_with_the_right_password(web):
    cat = web.cat
    email = f"lock-{uuid.uuid4().hex[:6]}@test.local"
    web.accounts.add(cat, email, "nacional", PW, actor="tests")
    c = client(web)
    for _ in range(4):
        assert _login(c, email, "wrong password!").status_code == 401
    fifth = _login(c, email, "wrong password!")
    assert "15 minutos" in fifth.text
    r = _login(c, email, PW)
    assert r.status_code == 429 and c.get_cookie(SESSION_COOKIE) is None
    # An unknown name locks the same way (nothing tells the two apart).
    ghost = f"ghost-{uuid.uuid4().hex[:6]}@test.local"
    for _ in range(5):
        _login(c, ghost, PW)
    assert _login(c, ghost, PW).status_code == 429


def test_logout_ends_session_and_needs_a_token(web):
    c = client(web, "nacional")
    token = c.get_cookie(SESSION_COOKIE).value
    assert c.post("/logout").status_code == 400
    csrf = _csrf(c, "/logout")
    r = c.post("/logout", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["Location"].startswith("/login")
    assert web.accounts.session_account(token, *_lifetimes()) is None
    assert c.get("/_dash-layout").status_code == 401
    assert audit.entries(web.repo.engine, limit=1)[0].action == "logout"


def test_disabled_account_and_new_role_apply_on_the_next_request(web):
    email = f"change-{uuid.uuid4().hex[:6]}@test.local"
    acc = web.accounts.add(web.cat, email, "nacional", PW, actor="tests")
    c = web.server.test_client()
    c.set_cookie(SESSION_COOKIE, web.accounts.start_session(acc.id))
    assert c.get("/_dash-layout").status_code == 200
    web.accounts.set_role(web.cat, email, "regional", actor="tests")  # no region: nothing
    assert c.get("/_dash-layout").status_code == 403
    web.accounts.set_role(web.cat, email, "regional", region="PY-1", actor="tests")
    assert c.get("/_dash-layout").status_code == 200
    web.accounts.set_disabled(email, True, actor="tests")
    assert c.get("/_dash-layout").status_code == 401


def test_regional_account_without_region_sees_nothing_with_a_message(web):
    c = client(web, "sinregion")
    r = c.get("/", headers={"Accept": "text/html"})
    assert r.status_code == 403 and "no tiene un ámbito asignado" in r.text
    assert c.get("/exportar.csv?pagina=resumen").status_code == 403
    assert c.post("/_dash-update-component", json={}).status_code == 403


# --- the print token ---------------------------------------------------------------------------


def test_print_token_opens_pages_of_its_scope_only_and_no_downloads(web):
    c = web.server.test_client()
    c.set_cookie(PRINT_COOKIE, make_print_token(SECRET.encode(), Scope.of("PY-1")))
    assert c.get("/_dash-layout").status_code == 200
    assert c.get("/exportar.csv?pagina=resumen").status_code in (302, 401)
    assert c.get("/auditoria").status_code in (302, 401)
    forged = web.server.test_client()
    forged.set_cookie(PRINT_COOKIE, make_print_token(b"another key", Scope.national()))
    assert forged.get("/_dash-layout").status_code == 401
    expired = web.server.test_client()
    expired.set_cookie(
        PRINT_COOKIE, make_print_token(SECRET.encode(), Scope.national(), now=1_000_000)
    )
    assert expired.get("/_dash-layout").status_code == 401


# --- scope decided on the server: replayed callbacks -----------------------------------------


@pytest.fixture(scope="module")
def dash_deps(web):
    return client(web, "nacional").get("/_dash-dependencies").json


def call(c, deps, output: str, values: dict, changed: str | None = None):
    """POST a callback exactly as Dash's renderer does, with these input/state values."""
    from dash._utils import split_callback_id

    def matches(d):
        inputs = {f"{i['id']}.{i['property']}" for i in d["inputs"]}
        return output in d["output"].split("@")[0] or (output == changed and output in inputs)

    dep = next(d for d in deps if matches(d))

    def items(kind):
        return [
            {
                "id": i["id"],
                "property": i["property"],
                "value": values.get(f"{i['id']}.{i['property']}"),
            }
            for i in dep[kind]
        ]

    inputs = items("inputs")
    body = {
        "output": dep["output"],
        "outputs": split_callback_id(dep["output"]),
        "inputs": inputs,
        "state": items("state"),
        "changedPropIds": [changed or f"{inputs[0]['id']}.{inputs[0]['property']}"],
    }
    return c.post("/_dash-update-component", json=body)


def forged_view(path: str, query: str) -> dict:
    """A view store as the browser could forge it: its own claims agree with the query."""
    page = path.strip("/").split("/")[0] or "resumen"
    return {
        "page": page,
        "facility": path.split("/")[2] if path.count("/") == 2 else None,
        "path": path,
        "query": query,
        "filters": {"region": OTHER, "district": None, "compare": [OTHER]},
    }


PAGE_OUTPUTS = [
    ("/", "overview-cards.children"),
    ("/mapa", "map-graph.figure"),
    ("/tendencias", "trend-graph.figure"),
    ("/desempeno", "score-table.children"),
    ("/paquete", "pack-trends.figure"),
    ("/equidad", "eq-title.children"),
    ("/equidad", "eq-access-intro.children"),
    ("/desempeno", "footer.children"),  # the frame: summary, export links
    ("/desempeno", "page-content.children"),
    ("/ods", "ods-summary.children"),
    ("/", "briefing.children"),
    ("/paquete", "briefing.children"),
]


def _queries(web):
    d = web.other_district
    return [
        f"?region={OTHER}",
        f"?distrito={d}",
        f"?region={OTHER}&distrito={d}",
        f"?region=PY-1&distrito={d}",
        f"?comparar={OTHER},PY-2&region={OTHER}&lang=en",
        "?region=%ff%fe&periodo=<script>&comparar=,,,",
    ]


@pytest.mark.parametrize("who", ["director", "distrital"])
def test_replayed_page_callbacks_hold_nothing_of_another_region(web, dash_deps, who):
    c = client(web, who)
    for path, output in PAGE_OUTPUTS:
        for q in _queries(web):
            r = call(c, dash_deps, output, {"view.data": forged_view(path, q)})
            assert r.status_code in (200, 204), (path, q, r.status_code)
            assert leaks(web, r.text) == [], (who, path, q)


def test_replayed_callbacks_are_meaningful_for_a_national_account(web, dash_deps):
    """The same payloads do show the other region to a national account (the test can fail)."""
    c = client(web, "nacional")
    r = call(
        c,
        dash_deps,
        "score-table.children",
        {"view.data": forged_view("/desempeno", f"?region={OTHER}")},
    )
    assert leaks(web, r.text)
    r = call(
        c, dash_deps, "ods-summary.children", {"view.data": forged_view("/ods", f"?region={OTHER}")}
    )
    assert leaks(web, r.text)


def test_replayed_facility_page_of_another_region_is_not_found(web, dash_deps):
    c = client(web, "director")
    path = f"/establecimiento/{web.other_facility}"
    r = call(c, dash_deps, "fac-header.children", {"view.data": forged_view(path, "")})
    assert r.status_code == 200 and leaks(web, r.text) == []
    assert "no encontrado" in r.text.lower()


def test_replayed_filter_sync_cannot_pick_another_region(web, dash_deps):
    for who in ("director", "distrital"):
        c = client(web, who)
        values = {
            "url.pathname": "/desempeno",
            "url.search": f"?region={OTHER}",
            "filter-region.value": OTHER,
            "filter-district.value": web.other_district,
        }
        r = call(c, dash_deps, "filter-region.options", values, changed="filter-region.value")
        assert r.status_code in (200, 204)
        assert leaks(web, r.text) == [], who
        if r.status_code == 200:
            view = r.json["response"]["view"]["data"]
            assert OTHER not in view["query"]


def test_replayed_map_click_outside_scope_does_nothing(web, dash_deps):
    c = client(web, "director")
    view = forged_view("/mapa", "?region=PY-1")
    for code in (web.other_facility, web.other_district, OTHER, ["x"], None, 12):
        click = {"points": [{"customdata": code, "location": code}]}
        r = call(
            c,
            dash_deps,
            "map-graph.clickData",
            {"map-graph.clickData": click, "view.data": view},
            changed="map-graph.clickData",
        )
        assert r.status_code == 204, code
    inside = web.cat.descendants(web.cat.unit("PY-1"), 2)[0].code
    click = {"points": [{"customdata": inside}]}
    r = call(
        c,
        dash_deps,
        "map-graph.clickData",
        {"map-graph.clickData": click, "view.data": view},
        changed="map-graph.clickData",
    )
    assert r.status_code == 200 and inside in r.text


# --- exports ---------------------------------------------------------------------------------


def _xlsx_text(raw: bytes) -> str:
    wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True)
    return " ".join(
        str(v)
        for ws in wb.worksheets
        for row in ws.iter_rows(values_only=True)
        for v in row
        if v is not None
    )


@pytest.mark.parametrize("who", ["director", "distrital"])
def test_export_urls_hold_nothing_of_another_region(web, who):
    c = client(web, who)
    d = web.other_district
    for page in ("resumen", "mapa", "tendencias", "desempeno", "equidad"):
        for q in (
            f"region={OTHER}",
            f"distrito={d}",
            f"comparar={OTHER}",
            f"region=PY-1&distrito={d}",
            f"establecimiento={web.other_facility}",
        ):
            csv = c.get(f"/exportar.csv?pagina={page}&{q}")
            assert csv.status_code == 200
            assert leaks(web, csv.data.decode("utf-8-sig")) == [], (who, page, q)
            assert leaks(web, csv.headers["Content-Disposition"]) == []
            xlsx = c.get(f"/exportar.xlsx?pagina={page}&{q}")
            assert leaks(web, _xlsx_text(xlsx.data)) == [], (who, page, q)
    fac = c.get(f"/exportar.csv?pagina=establecimiento&establecimiento={web.other_facility}")
    assert fac.status_code == 404 and leaks(web, fac.text) == []
    pdf = c.get(f"/exportar.pdf?pagina=establecimiento&establecimiento={web.other_facility}")
    assert pdf.status_code == 404


def test_exports_are_audited_with_page_filters_and_format(web):
    c = client(web, "director")
    c.get("/exportar.csv?pagina=desempeno&region=PY-11&indicador=MNI-05")
    [e] = audit.entries(web.repo.engine, limit=1)
    assert e.action == "export" and e.actor == web.made["director"].email
    assert e.detail["format"] == "csv" and e.detail["page"] == "desempeno"
    assert "region=PY-1&" in e.detail["query"] + "&" and "MNI-05" in e.detail["query"]


# --- the audit page ----------------------------------------------------------------------------


def test_audit_page_for_admins_only(web):
    assert client(web, "director").get("/auditoria").status_code == 403
    r = client(web, "admin").get("/auditoria?lang=en")
    assert r.status_code == 200 and "Audit log" in r.text and "account_add" in r.text
    r = client(web, "admin").get("/auditoria?desde=2999-01-01")
    assert "No hay registros" in r.text


def test_wsgi_refuses_to_start_without_secret_key(monkeypatch):
    import importlib
    import sys

    monkeypatch.delenv("DASHBOARD_SECRET_KEY", raising=False)
    sys.modules.pop("dashboard.wsgi", None)
    with pytest.raises(SystemExit, match="DASHBOARD_SECRET_KEY"):
        importlib.import_module("dashboard.wsgi")
    sys.modules.pop("dashboard.wsgi", None)


# --- anonymous visitors (DASHBOARD_PUBLIC_ACCESS=1) ------------------------------------------

# Dash writes "/" as "\u002f", so no word boundary before the code.
FACILITY_CODE = re.compile(r"E\d{6}(?!\d)")


@pytest.fixture(scope="module")
def public_server(web, tmp_path_factory):
    from dashboard.app import create_app

    settings = Settings(
        database_url=web.repo.engine.url.render_as_string(False),
        data_dir=tmp_path_factory.mktemp("public"),
        today=TODAY,
        secret_key=SECRET,
        public_access=True,
    )
    return create_app(settings).server


def test_public_visitor_sees_district_aggregates_and_never_a_facility(
    web, public_server, dash_deps
):
    c = public_server.test_client()
    assert c.get("/", headers={"Accept": "text/html"}).status_code == 200
    assert c.get("/auditoria").status_code == 403
    district = web.other_district
    fac = web.other_facility
    for path, output in [*PAGE_OUTPUTS, (f"/establecimiento/{fac}", "fac-header.children")]:
        for q in (f"?distrito={district}&puntos=1", f"?region={OTHER}&puntos=1", ""):
            r = call(c, dash_deps, output, {"view.data": forged_view(path, q)})
            assert r.status_code in (200, 204), (path, q)
            assert FACILITY_CODE.findall(r.text) == [], (path, q)
    r = call(
        c,
        dash_deps,
        "score-table.children",
        {"view.data": forged_view("/desempeno", f"?region={OTHER}")},
    )
    assert f'"{district}"' in r.text or district in r.text  # districts are shown
    for page in ("resumen", "mapa", "desempeno"):
        csv = c.get(f"/exportar.csv?pagina={page}&distrito={district}&puntos=1")
        assert csv.status_code == 200 and FACILITY_CODE.findall(csv.data.decode("utf-8-sig")) == []
        xlsx = c.get(f"/exportar.xlsx?pagina={page}&distrito={district}&puntos=1")
        assert FACILITY_CODE.findall(_xlsx_text(xlsx.data)) == []
    assert c.get(f"/exportar.csv?pagina=establecimiento&establecimiento={fac}").status_code == 404
    click = {"points": [{"customdata": fac}]}
    r = call(
        c,
        dash_deps,
        "map-graph.clickData",
        {"map-graph.clickData": click, "view.data": forged_view("/mapa", "")},
        changed="map-graph.clickData",
    )
    assert r.status_code == 204


def test_national_account_does_see_facilities_with_the_same_payloads(web, dash_deps):
    c = client(web, "nacional")
    q = f"?distrito={web.other_district}&puntos=1"
    r = call(c, dash_deps, "score-table.children", {"view.data": forged_view("/desempeno", q)})
    assert FACILITY_CODE.findall(r.text)


def test_print_token_keeps_the_public_level(web):
    from dashboard.accounts import PUBLIC
    from dashboard.web.auth import read_print_claims

    token = make_print_token(SECRET.encode(), PUBLIC)
    assert read_print_claims(SECRET.encode(), token) == (PUBLIC, False)


def test_print_token_carries_the_restriction_of_its_requester(web):
    from dashboard.web.auth import read_print_claims

    secret = SECRET.encode()
    open_token = make_print_token(secret, Scope.of("PY-1"))
    restricted = make_print_token(secret, Scope.of("PY-1"), restricted=True)
    assert read_print_claims(secret, open_token) == (Scope.of("PY-1"), False)
    assert read_print_claims(secret, restricted) == (Scope.of("PY-1"), True)
    # The flag is signed: flipping it in the body breaks the signature.
    body, _, sig = restricted.partition(".")
    assert read_print_claims(secret, open_token.partition(".")[0] + "." + sig) is None


def test_a_restricted_print_job_gets_disclosure_control():
    from dashboard.accounts import Principal
    from dashboard.config import Settings
    from dashboard.services import Services

    def ctx(principal):
        deps = Services(
            repo=None,  # type: ignore[arg-type]  # context() only reads the settings here
            settings=Settings.from_env({"DASHBOARD_SUPPRESS_THRESHOLD": "4"}),
            scope=lambda: Scope.national(),
            tiles=None,  # type: ignore[arg-type]
            principal=lambda: principal,
        )
        return deps.context()

    assert ctx(Principal(None, "print", Scope.national(), restricted=True)).suppress == 4
    assert ctx(Principal(None, "print", Scope.national())).suppress is None
    assert ctx(Principal("p@x", "publico", Scope.national())).suppress == 4
