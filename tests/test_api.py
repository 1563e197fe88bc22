"""/api/v1: Bearer tokens with their account's scope, JSON errors, ETag, rate limit, OpenAPI."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from helpers import fresh_engine
from sqlalchemy import text, update
from web_helpers import make_app, signed_in, url_of

from dashboard.accounts import Accounts
from dashboard.aggregate import query
from dashboard.catalog import Scope
from dashboard.db import api_token
from dashboard.importers import import_file
from dashboard.periods import parse_period
from dashboard.reference import load_reference
from dashboard.repository import Repository
from dashboard.tokens import ApiTokens

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "interop"
MORE = "MUERTE_NEO,202401,F003,1\nNAC_VIVOS,202401,F003,80\n"
Q = "/api/v1/analytics?indicator=MNI-02&org_unit={unit}&period=2024Q1"


@pytest.fixture
def store(tmp_path):
    repo = Repository(fresh_engine(tmp_path))
    load_reference(repo)
    repo.upsert_org_units(
        [
            {"code": c, "name": n, "level": 3, "parent": d, "facility_type": ft}
            for c, n, d, ft in (
                ("F001", "USF Concepción", "0101", "USF"),
                ("F002", "Hospital Regional de Pilar", "1201", "HR"),
                ("F003", "Hospital Distrital de Horqueta", "0103", "HD"),
            )
        ]
    )
    values = tmp_path / "values.csv"
    values.write_text((FIXTURES / "values.csv").read_text() + MORE)
    report = import_file(repo, values, today=date(2024, 6, 15), scope=Scope.national())
    assert report.ok, report.render("en")
    yield repo
    repo.engine.dispose()


def _token(repo: Repository, role: str, region: str | None = None) -> tuple[int, str]:
    from argon2 import PasswordHasher

    accounts = Accounts(
        repo.engine, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    email = f"{role}-{region or 'py'}@test.local"
    accounts.add(repo.catalog(), email, role, "a long test password", region=region, actor="tests")
    return ApiTokens(repo.engine).create(email, days=30)


@pytest.fixture
def api(store, tmp_path):
    app = make_app(url_of(store), tmp_path)
    national = _token(store, "nacional")[1]
    regional = _token(store, "regional", "PY-1")[1]

    def get(path: str, token: str | None = national, **headers):
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return app.server.test_client().get(path, headers=headers)

    get.app = app  # type: ignore[attr-defined]
    get.national, get.regional = national, regional  # type: ignore[attr-defined]
    return get


def test_analytics_rows_are_the_query_rows(api, store):
    r = api(Q.format(unit="PY") + "&by=region")
    assert r.status_code == 200 and r.mimetype == "application/json"
    cat = store.catalog()
    expected = [
        x.as_dict()
        for x in query(
            store,
            Scope.national(),
            cat.indicator("MNI-02"),
            cat.by_code["PY"],
            parse_period("2024Q1", date(2026, 11, 29)),
            by="region",
            today=date(2026, 11, 29),
        )
    ]
    assert r.get_json() == expected
    rows = {row["org_unit"]: row for row in r.get_json()}
    # Hand-computed: Ñeembucú (F002) 3 / 290; Concepción (F003 only: F001 is a USF) 1 / 80.
    assert (rows["PY-12"]["numerator"], rows["PY-12"]["denominator"]) == (3, 290)
    assert (rows["PY-1"]["numerator"], rows["PY-1"]["denominator"]) == (1, 80)
    assert rows["PY-1"]["value"] == pytest.approx(12.5)


def test_analytics_csv_on_request(api):
    for r in (
        api(Q.format(unit="PY") + "&format=csv"),
        api(Q.format(unit="PY"), Accept="text/csv"),
    ):
        assert r.status_code == 200 and r.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
        assert (
            len(rows) == 1 and rows[0]["numerator"] == "4.0" and rows[0]["denominator"] == "370.0"
        )


def test_regional_token_sees_only_its_region(api):
    own = api(Q.format(unit="PY-1") + "&by=facility", token=api.regional)
    assert own.status_code == 200
    # F001 is a USF, which MNI-02 leaves out; F002 (Ñeembucú) is another region's.
    assert {row["org_unit"] for row in own.get_json()} == {"F003"}
    for unit in ("PY-12", "F002", "PY"):
        r = api(Q.format(unit=unit), token=api.regional)
        assert r.status_code == 403, unit
        assert r.get_json()["code"] == "outside_scope"
    units = api("/api/v1/org-units?level=facility", token=api.regional).get_json()
    assert [u["code"] for u in units] == ["F001", "F003"]
    fhir = api(
        Q.replace("analytics", "analytics.fhir").format(unit="PY-1") + "&by=facility",
        token=api.regional,
    ).get_json()
    assert {e["resource"]["subject"]["identifier"]["value"] for e in fhir["entry"]} == {"F003"}


def test_revoked_and_expired_tokens_get_401(api, store):
    token_id, token = ApiTokens(store.engine).create("nacional-py@test.local", days=1)
    assert api("/api/v1/indicators", token=token).status_code == 200
    assert ApiTokens(store.engine).revoke(token_id)
    r = api("/api/v1/indicators", token=token)
    assert r.status_code == 401 and r.get_json()["code"] == "unauthorized"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    token_id, token = ApiTokens(store.engine).create("nacional-py@test.local", days=1)
    with store.engine.begin() as c:
        c.execute(
            update(api_token)
            .where(api_token.c.id == token_id)
            .values(expires_at=api_token.c.created_at - timedelta(seconds=1))
        )
    assert api("/api/v1/indicators", token=token).status_code == 401
    assert api("/api/v1/indicators", token=None).status_code == 401
    # A disabled account's live token stops at once.
    _, live = ApiTokens(store.engine).create("nacional-py@test.local", days=1)
    assert api("/api/v1/indicators", token=live).status_code == 200
    Accounts(store.engine).set_disabled("nacional-py@test.local", True, actor="tests")
    assert api("/api/v1/indicators", token=live).status_code == 401
    assert api("/api/v1/indicators", token="dsh_made-up").status_code == 401


def test_tokens_are_stored_hashed(api, store):
    with store.engine.connect() as c:
        hashes = [r[0] for r in c.execute(text("SELECT token_hash FROM api_token"))]
    assert len(hashes) == 2 and api.national not in hashes
    assert all(len(h) == 64 for h in hashes)


def test_no_cookie_session_hole_either_way(api, store):
    session = signed_in(api.app, url_of(store), "nacional")
    r = session.get(Q.format(unit="PY"))
    assert r.status_code == 401 and r.mimetype == "application/json"
    # A token opens the API only: a page with a Bearer header and no session is refused.
    page = api.app.server.test_client().get(
        "/", headers={"Authorization": f"Bearer {api.national}", "Accept": "application/json"}
    )
    assert page.status_code == 401
    export = api.app.server.test_client().get(
        "/exportar.csv", headers={"Authorization": f"Bearer {api.national}"}
    )
    assert export.status_code in (302, 401)


def test_errors_are_json_never_html(api, store, monkeypatch):
    for path in ("/api/v1/nothing-here", "/api/", "/api/v2/analytics"):
        r = api(path)
        assert r.status_code == 404 and r.get_json()["code"] == "not_found", path
    r = api.app.server.test_client().post(
        "/api/v1/analytics", headers={"Authorization": f"Bearer {api.national}"}
    )
    assert r.status_code == 405 and r.get_json()["code"] == "method_not_allowed"
    assert "GET" in r.headers["Allow"]
    r = api("/api/v1/analytics?indicator=NOPE&org_unit=PY&period=2024")
    assert r.status_code == 400 and r.get_json()["code"] == "unknown_indicator"
    assert "NOPE" in r.get_json()["message"]
    r = api("/api/v1/analytics?indicator=MNI-02&org_unit=PY&period=2024W3&lang=es")
    assert r.get_json() == {
        "code": "bad_parameter",
        "message": "parámetro period inválido: «2024W3»",
    }
    # The pages keep their HTML error pages.
    page = signed_in(api.app, url_of(store), "nacional").get("/no-such-page.txt")
    assert "json" not in page.mimetype

    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(Repository, "catalog", broken)
    r = api("/api/v1/indicators")
    assert r.status_code == 500 and r.get_json()["code"] == "server_error"
    assert b"boom" not in r.data


def test_body_over_the_limit_is_json_413(store, tmp_path):
    from flask import request as flask_request

    app = make_app(url_of(store), tmp_path)
    # An endpoint under /api/ that reads its body (the API itself takes none).
    app.server.add_url_rule(
        "/api/v1/_echo", "api_v1._echo", lambda: flask_request.get_data(), methods=["POST"]
    )
    token = _token(store, "nacional")[1]
    big = app.server.test_client().post(
        "/api/v1/_echo",
        data="x" * 2_000_000,
        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {token}"},
    )
    assert big.status_code == 413 and big.get_json()["code"] == "too_large"


def test_etag_gives_304_until_data_changes(api, store, tmp_path):
    first = api(Q.format(unit="PY"))
    etag = first.headers["ETag"]
    again = api(Q.format(unit="PY"), **{"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = api(Q.format(unit="PY") + "&by=month", **{"If-None-Match": etag})
    assert other.status_code == 200
    extra = tmp_path / "more.csv"
    extra.write_text("data_element,period,org_unit,value\nMUERTE_NEO,202403,F002,1\n")
    assert import_file(store, extra, today=date(2024, 6, 15), scope=Scope.national()).ok
    changed = api(Q.format(unit="PY"), **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()[0]["numerator"] == 5


@pytest.mark.parametrize("shared", [False, True], ids=["memory", "redis"])
def test_rate_limit_per_token(store, tmp_path, shared):
    import os

    env = {"api_rate": 3}
    if shared:
        # Redis runs beside the tests on this project's machines and in CI (see .ci/run).
        redis = pytest.importorskip("redis")
        url = os.environ.get("DASHBOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
        try:
            redis.Redis.from_url(url).ping()
        except redis.exceptions.ConnectionError:
            pytest.skip(f"no Redis at {url}")
        env["redis_url"] = url
    app = make_app(url_of(store), tmp_path, **env)
    a = _token(store, "nacional")[1]
    b = _token(store, "regional", "PY-1")[1]
    client = app.server.test_client()
    codes = [
        client.get("/api/v1/indicators", headers={"Authorization": f"Bearer {a}"}).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    r = client.get("/api/v1/indicators", headers={"Authorization": f"Bearer {a}"})
    assert r.get_json()["code"] == "rate_limited" and r.headers["Retry-After"] == "60"
    assert (
        client.get("/api/v1/indicators", headers={"Authorization": f"Bearer {b}"}).status_code
        == 200
    )


def test_openapi_document_is_valid_and_true(api):
    import jsonschema
    from openapi_spec_validator import validate

    assert api("/api/v1/openapi.json", token=None).status_code == 401
    doc = api("/api/v1/openapi.json").get_json()
    validate(doc)

    def check(path: str, status: int, schema_ref: str, **kw):
        r = api(path, **kw)
        assert r.status_code == status, r.data[:200]
        schema = {"$ref": f"#/components/schemas/{schema_ref}", "components": doc["components"]}
        if schema_ref != "Error" and r.get_json() is not None and isinstance(r.get_json(), list):
            schema = {
                "type": "array",
                "items": schema["$ref"] and {"$ref": schema["$ref"]},
                "components": doc["components"],
            }
            assert r.get_json(), path
        jsonschema.Draft202012Validator(schema).validate(r.get_json())
        # The document names this status for this path.
        op = doc["paths"][path.split("?")[0].removeprefix("/api/v1")]["get"]
        assert str(status) in op["responses"]

    check(Q.format(unit="PY") + "&by=facility", 200, "Row")
    check("/api/v1/indicators", 200, "Indicator")
    check("/api/v1/org-units?parent=PY-1", 200, "OrgUnit")
    check(Q.replace("analytics", "analytics.fhir").format(unit="PY") + "&by=region", 200, "Bundle")
    check(Q.format(unit="PY") + "&by=nonsense", 400, "Error")
    check(Q.format(unit="PY-12"), 403, "Error", token=api.regional)
    check("/api/v1/indicators", 401, "Error", token="dsh_wrong")


def test_tokens_cli(store, monkeypatch, capsys):
    from dashboard.__main__ import main

    monkeypatch.setenv("DASHBOARD_DATABASE_URL", url_of(store))
    _token(store, "regional", "PY-1")
    assert main(["tokens", "create", "regional-PY-1@test.local", "--days", "7"]) == 0
    out = capsys.readouterr().out
    token = out.strip().rsplit(" ", 1)[-1]
    assert token.startswith("dsh_") and "shown once" in out
    assert main(["tokens", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert token not in json.dumps(listed)
    new = listed[-1]
    assert new["status"] == "active" and new["email"] == "regional-py-1@test.local"
    assert main(["tokens", "revoke", str(new["id"])]) == 0
    assert main(["tokens", "revoke", str(new["id"])]) == 2
    capsys.readouterr()
    assert main(["tokens", "list", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[-1]["status"] == "revoked"
    assert main(["tokens", "create", "nobody@test.local"]) == 2
    assert main(["tokens", "create", "regional-PY-1@test.local", "--days", "0"]) == 2


def test_restricted_role_gets_suppressed_counts(store, tmp_path):
    app = make_app(url_of(store), tmp_path, restricted_roles="regional")
    token = _token(store, "regional", "PY-1")[1]
    client = app.server.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    (row,) = client.get(Q.format(unit="PY-1"), headers=headers).get_json()
    # Concepción: 1 neonatal death of 80 births; 1 is a small count (threshold 4): hidden.
    assert row["numerator"] == "<5" and row["value"] is None and row["status"] == "no_data"
    assert row["denominator"] == 80
    fhir = client.get(Q.replace("analytics", "analytics.fhir").format(unit="PY-1"), headers=headers)
    assert fhir.status_code == 403 and fhir.get_json()["code"] == "forbidden"
