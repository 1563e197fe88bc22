"""The app factory and the page skeletons: what Dash checks at start-up, checked here in ms."""

from __future__ import annotations

import pytest
from dash import html

from callbacks.shell import PAGE_LAYOUTS
from dashboard.app import create_app
from dashboard.config import Settings
from dashboard.db import make_engine
from layouts import shell


def _ids(component) -> set[str]:
    """Every component id in a layout tree."""
    found: set[str] = set()
    stack = [component]
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
            continue
        if not hasattr(node, "to_plotly_json"):
            continue
        if getattr(node, "id", None) is not None:
            found.add(node.id)
        stack.extend(getattr(node, name, None) for name in node._prop_names)
    return found


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    data_dir = tmp_path_factory.mktemp("app")
    return Settings(
        database_url=f"sqlite:///{data_dir / 'app.sqlite3'}",
        data_dir=data_dir,
        secret_key="test-app-secret",
    )


@pytest.fixture(scope="module")
def app(settings):
    return create_app(settings)


def test_app_factory_builds_on_an_empty_sqlite_database(app, settings):
    from argon2 import PasswordHasher

    from dashboard.accounts import Accounts
    from dashboard.repository import Repository
    from dashboard.web.auth import SESSION_COOKIE

    repo = Repository(make_engine(settings.database_url))
    accounts = Accounts(
        repo.engine, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    who = accounts.add(repo.catalog(), "app@test.local", "nacional", "a long password", actor="t")
    client = app.server.test_client()
    assert client.get("/_dash-layout").status_code == 401  # no session, no layout
    client.set_cookie(SESSION_COOKIE, accounts.start_session(who.id))
    assert client.get("/_dash-layout").status_code == 200  # Dash validates its layouts here
    assert client.get("/_dash-dependencies").status_code == 200
    assert app.callback_map, "callbacks are registered"


@pytest.mark.parametrize("page", sorted(PAGE_LAYOUTS))
def test_app_page_layout_renders_with_no_arguments_and_with_junk(page):
    layout = PAGE_LAYOUTS[page]
    plain = layout()
    junk = layout(lang="xx", region="<script>", periodo="99999999", nonsense="1", **{"a b": "c"})
    assert isinstance(plain, html.Div) and isinstance(junk, html.Div)
    assert _ids(plain) == _ids(junk), "junk arguments change no structure"


def test_app_shell_layout_renders_with_no_arguments_and_with_junk():
    assert _ids(shell.layout()) == _ids(shell.layout(lang="xx", foo="bar"))


def test_app_every_callback_id_exists_in_the_validation_layout(app):
    known = _ids(app.validation_layout)
    missing = []
    for key, spec in app.callback_map.items():
        deps = [*spec["inputs"], *spec.get("state", [])]
        deps += [{"id": part.split(".")[0]} for part in key.strip(".").split("...") if part]
        missing += [d["id"] for d in deps if d["id"].lstrip(".") not in known]
    assert not missing, f"callback ids not in any layout: {sorted(set(missing))}"


@pytest.mark.parametrize("page", sorted(PAGE_LAYOUTS))
def test_app_page_and_frame_have_no_duplicate_ids(page):
    """What the browser holds at once: the frame and one page skeleton."""
    seen: list[str] = []
    stack: list = [shell.layout(), PAGE_LAYOUTS[page]()]
    while stack:
        node = stack.pop()
        if isinstance(node, list | tuple):
            stack.extend(node)
        elif hasattr(node, "to_plotly_json"):
            if getattr(node, "id", None) is not None:
                seen.append(node.id)
            stack.extend(getattr(node, name, None) for name in node._prop_names)
    assert len(seen) == len(set(seen)), sorted(i for i in seen if seen.count(i) > 1)


def test_the_dashboard_benchmark_replays_callbacks_that_exist(app):
    """benchmarks/bench_dashboard.py posts each page's callback by its output string; a page
    that gains an output would answer the benchmark 400 (it did, unnoticed, after a merge)."""
    from benchmarks.bench_dashboard import PAGES

    missing = {page: out for page, out in PAGES.items() if out not in app.callback_map}
    assert missing == {}


def test_the_benchmark_p95_is_the_nearest_rank_not_the_maximum():
    from benchmarks.bench_dashboard import nearest_rank

    values = [float(v) for v in range(1, 21)]
    assert nearest_rank(values, 0.95) == 19.0 and nearest_rank(values, 0.5) == 10.0
    assert nearest_rank([7.0], 0.95) == 7.0
