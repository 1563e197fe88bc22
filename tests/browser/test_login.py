"""Sign-in in a real browser: the form in both languages, accessible; a regional account lands
on its region and cannot pick another; sign-out."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

PW = "correct horse battery"


@pytest.fixture
def fresh_page(browser, live_server, page_log):
    """A page with no session at all."""
    context = browser.new_context(locale="es-PY", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    p = context.new_page()
    p.on("pageerror", lambda e: page_log.page_errors.append(str(e)))
    yield p
    context.close()


def _account(demo, role="nacional", region=None) -> str:
    from argon2 import PasswordHasher

    from dashboard.accounts import Accounts

    repo = demo[0]
    accounts = Accounts(
        repo.engine, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    email = f"{role}-{uuid.uuid4().hex[:6]}@test.local"
    accounts.add(repo.catalog(), email, role, PW, region=region, actor="tests")
    return email


@pytest.mark.parametrize("lang", ["es", "en"])
def test_login_page_is_accessible_in_each_language(fresh_page, live_server, axe, snap, lang):
    fresh_page.goto(f"{live_server}/login?lang={lang}")
    assert fresh_page.evaluate("document.documentElement.lang") == lang
    expect(fresh_page.get_by_label("Contraseña" if lang == "es" else "Password")).to_be_visible()
    serious = [v for v in axe(fresh_page) if v["impact"] in ("serious", "critical")]
    assert serious == []
    snap(fresh_page, f"login-{lang}")


def test_regional_director_signs_in_lands_on_next_and_stays_in_region(
    fresh_page, live_server, demo, settle, page_log, snap
):
    email = _account(demo, "regional", "PY-1")
    p = fresh_page
    p.goto(f"{live_server}/desempeno?region=PY-11")
    assert "/login?next=" in p.url
    p.get_by_label("Correo electrónico").fill(email)
    p.get_by_label("Contraseña").fill(PW)
    p.get_by_role("button", name="Ingresar").click()
    p.wait_for_url("**/desempeno**")
    p.wait_for_load_state("networkidle")
    settle(p)
    # The forged region in the URL is dropped on the server: the page shows Concepción only.
    expect(p.locator("#filter-region")).to_have_value("PY-1")
    options = p.locator("#filter-region option").all_inner_texts()
    assert [o for o in options if o] == ["01 · Concepción"]
    expect(p.locator("#page-content")).to_contain_text("Concepción")
    expect(p.locator("#page-content")).not_to_contain_text("Central")
    expect(p.locator("#lang-switch")).to_contain_text(email)
    snap(p, "signed-in-director")
    p.locator("#lang-switch").get_by_role("link", name="Cerrar sesión").click()
    p.get_by_role("button", name="Cerrar sesión").click()
    p.wait_for_url("**/login**")
    expect(p.get_by_role("status")).to_contain_text("Cerró la sesión")
    p.goto(f"{live_server}/")
    assert "/login" in p.url
    assert page_log.page_errors == []
