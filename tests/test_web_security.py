"""The Flask side: security headers on every response, private exports, no /_reload-hash in
production, request size limits, and 400 (never 500) for malformed callback bodies."""

from __future__ import annotations

import json
import random

import pytest
from web_helpers import callback_body, make_app, signed_in, url_of

from dashboard.i18n import t
from dashboard.web.security import callback_body_problem, csp


@pytest.fixture
def app(repo, tmp_path):
    return make_app(url_of(repo), tmp_path)


@pytest.fixture
def client(app, repo):
    return signed_in(app, url_of(repo))


def _script_src(policy: str) -> str:
    return next(d for d in policy.split(";") if d.strip().startswith("script-src"))


@pytest.mark.parametrize(
    "path",
    ["/", "/mapa?lang=en", "/healthz", "/readyz", "/exportar.csv", "/no-such", "/_dash-layout"],
)
def test_security_headers_on_every_response(client, path):
    r = client.get(path)
    policy = r.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in _script_src(policy)
    assert "'unsafe-eval'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in r.headers  # plain http: HSTS would be ignored


def test_security_headers_on_errors_too(client):
    for r in (
        client.post("/_dash-update-component", data="{not json", content_type="application/json"),
        client.get("/_reload-hash"),
        client.put("/healthz"),
    ):
        assert r.status_code in (400, 404, 405)
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert b"Traceback" not in r.data


def test_security_hsts_only_over_https(client):
    r = client.get("/healthz", base_url="https://dashboard.example")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_security_csp_names_dash_inline_scripts_by_hash(app, client):
    html = client.get("/").get_data(as_text=True)
    policy = client.get("/").headers["Content-Security-Policy"]
    hashes = app.csp_hashes()
    assert hashes and all(h in _script_src(policy) for h in hashes)
    assert "<script" in html
    assert csp([]).count("script-src 'self'") == 1


def test_security_exports_and_callbacks_are_private(client, app):
    r = client.get("/exportar.csv?pagina=resumen")
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "private, no-store"
    assert "public" not in r.headers["Cache-Control"]
    body = callback_body(app, "url.search", {"url.pathname": "/", "url.search": ""})
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "private, no-store"


def test_security_static_assets_stay_cacheable(client):
    asset = next(
        line.split('href="')[1].split('"')[0]
        for line in client.get("/").get_data(as_text=True).split("<link")
        if "/assets/" in line and ".css" in line
    )
    r = client.get(asset)
    assert r.status_code == 200
    assert "max-age" in r.headers["Cache-Control"] and "no-store" not in r.headers["Cache-Control"]


def test_security_reload_hash_gone_in_production(client):
    assert client.get("/_reload-hash").status_code == 404


def test_security_reload_hash_only_with_debug(repo, tmp_path):
    app = make_app(url_of(repo), tmp_path, debug="1")
    assert signed_in(app, url_of(repo)).get("/_reload-hash").status_code == 200


def test_limits_callback_body_over_cap_is_413(client):
    big = json.dumps({"output": "x", "pad": "a" * 1_100_000})
    r = client.post("/_dash-update-component", data=big, content_type="application/json")
    assert r.status_code == 413


def test_limits_body_cap_is_configurable(repo, tmp_path):
    app = make_app(url_of(repo), tmp_path, max_body="1000")
    r = signed_in(app, url_of(repo)).post(
        "/_dash-update-component", data="{" + " " * 2000 + "}", content_type="application/json"
    )
    assert r.status_code == 413


def test_limits_forged_compare_list_is_cut_to_six(client, app):
    forged = ",".join(["PY-1", "PY-2", "PY-3", "PY-4", "PY-5", "PY-6", "PY-7", "PY-8"] * 5000)
    body = callback_body(
        app, "url.search", {"url.pathname": "/tendencias", "url.search": f"?comparar={forged}"}
    )
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200
    view = r.get_json()["response"]["view"]["data"]
    assert len(view["filters"]["compare"]) == 6
    # The store a browser sends back is capped as well.
    view["filters"]["compare"] = ["PY-1"] * 100_000
    body = callback_body(app, "trend-note.children", {"view.data": {**view, "page": "tendencias"}})
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200
    assert len(r.get_data()) < 200_000


# --- malformed callback bodies --------------------------------------------------------------


def _malformed(app) -> list[tuple[str, bytes | str]]:
    good = callback_body(app, "url.search", {"url.pathname": "/", "url.search": ""})
    cases: list[tuple[str, bytes | str]] = [
        ("empty", ""),
        ("not json", "{output:"),
        ("truncated", json.dumps(good)[:-7]),
        ("null", "null"),
        ("list", "[]"),
        ("number", "42"),
        ("string", '"x"'),
        ("binary", b"\xff\xfe\x00\x01"),
        ("deep", "[" * 5000 + "]" * 5000),
    ]
    mutations = {
        "no output": lambda b: b.pop("output"),
        "output number": lambda b: b.update(output=7),
        "output unknown": lambda b: b.update(output="nope.children"),
        "inputs missing": lambda b: b.pop("inputs"),
        "inputs dict": lambda b: b.update(inputs={"a": 1}),
        "inputs short": lambda b: b.update(inputs=b["inputs"][:1]),
        "inputs long": lambda b: b.update(inputs=b["inputs"] * 2),
        "inputs of strings": lambda b: b.update(inputs=["x"] * len(b["inputs"])),
        "input id wrong": lambda b: b["inputs"][0].update(id="other"),
        "input id dict": lambda b: b["inputs"][0].update(id={"type": "x"}),
        "input property wrong": lambda b: b["inputs"][0].update(property="value"),
        "input without id": lambda b: b["inputs"][0].pop("id"),
        "state string": lambda b: b.update(state="x"),
        "state missing": lambda b: b.pop("state"),
        "outputs string": lambda b: b.update(outputs="x"),
        "outputs of numbers": lambda b: b.update(outputs=[1, 2]),
        "changed not list": lambda b: b.update(changedPropIds="url.search"),
        "changed of numbers": lambda b: b.update(changedPropIds=[1]),
    }
    for name, mutate in mutations.items():
        body = json.loads(json.dumps(good))
        mutate(body)
        cases.append((name, json.dumps(body)))
    return cases


def test_limits_malformed_callback_bodies_get_400(client, app):
    statuses = {}
    for name, data in _malformed(app):
        r = client.post("/_dash-update-component", data=data, content_type="application/json")
        statuses[name] = r.status_code
        assert b"Traceback" not in r.data
    assert {k: v for k, v in statuses.items() if v != 400} == {}


WEIRD = [None, 0, -1, 1e308, True, "", "x" * 5000, "__", [], [1, [2]], {}, {"a": {"b": 1}}]


def test_limits_wrong_value_types_never_500(client, app):
    """Well-formed bodies with values of every wrong type, for every callback of the app:
    the answer is a page state (200/204) or 400, never a server error."""
    rng = random.Random(8)
    failures = []
    for key in app.callback_map:
        first = key.strip(".").split("...")[0].rsplit(".", 1)[0]
        prop = key.strip(".").split("...")[0].rsplit(".", 1)[1].split("@")[0]
        for _ in range(12):
            body = callback_body(app, f"{first}.{prop}")
            for item in body["inputs"] + body["state"]:
                item["value"] = rng.choice(WEIRD)
            r = client.post("/_dash-update-component", json=body)
            if r.status_code >= 500:
                failures.append((key[:60], [i["value"] for i in body["inputs"]], r.status_code))
    assert failures == []


def test_limits_body_problem_accepts_a_real_body(app):
    body = callback_body(app, "url.search", {"url.pathname": "/", "url.search": ""})
    assert callback_body_problem(body, app.callback_map) is None


def test_a_forged_host_never_chooses_what_chromium_loads(client):
    from dashboard.web.auth import SESSION_COOKIE

    # The session for the host the request names.
    client.set_cookie(
        SESSION_COOKIE, client.get_cookie(SESSION_COOKIE).value, domain="evil.example"
    )
    # Whatever the Host header says, the page is printed from the print process's own render
    # server on loopback (dashboard.report.render), so the PDF is made, from our own pages.
    r = client.get("/exportar.pdf?pagina=resumen&lang=en", base_url="http://evil.example")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert "evil.example" not in r.data.decode("latin-1")


def test_security_error_page_in_the_request_language(client):
    r = client.get("/exportar.pdf?pagina=establecimiento&establecimiento=NOPE&lang=en")
    assert r.status_code == 404
    body = r.get_data(as_text=True)
    assert t("export_not_found", "en") in body and t("export_not_found", "es") not in body


@pytest.mark.parametrize(
    ("internal", "environ", "expected"),
    [
        (None, {"SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000"}, "http://127.0.0.1:8000"),
        (None, {"SERVER_NAME": "0.0.0.0", "SERVER_PORT": "8000"}, "http://127.0.0.1:8000"),
        (None, {"SERVER_NAME": "::1", "SERVER_PORT": "8000"}, "http://[::1]:8000"),
        (None, {"SERVER_NAME": "localhost", "SERVER_PORT": "80"}, "http://127.0.0.1:80"),
        # a unix socket: gunicorn copies the client's Host header here; refused
        (None, {"SERVER_NAME": "evil.example", "SERVER_PORT": "80"}, None),
        (None, {"SERVER_NAME": "127.0.0.1", "SERVER_PORT": ""}, None),
        ("http://10.0.0.5:8000", {"SERVER_NAME": "evil.example"}, "http://10.0.0.5:8000"),
    ],
)
def test_security_pdf_origin_is_never_the_host_header(internal, environ, expected):
    from dashboard.app import internal_origin
    from dashboard.config import Settings

    settings = Settings.from_env({"DASHBOARD_INTERNAL_URL": internal or ""})
    assert internal_origin(settings, {**environ, "HTTP_HOST": "evil.example"}) == expected
