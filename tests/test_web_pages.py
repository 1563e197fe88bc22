"""The page routes' HTTP side: 404 for addresses naming no page or an unknown facility (Dash
would answer 200 for anything), the page's own title and a loading frame in the first HTML."""

from helpers import add_facilities
from web_helpers import make_app, signed_in, url_of


def test_unknown_paths_and_facilities_answer_404_known_ones_200(repo, tmp_path):
    add_facilities(repo, [("F1", "USF", "0101"), ("F2", "USF", "1101")])
    app = make_app(url_of(repo), tmp_path)
    client = signed_in(app, url_of(repo))
    for path in ("/", "/mapa?region=PY-1", "/tendencias", "/desempeno", "/establecimiento/F1"):
        assert client.get(path).status_code == 200, path
    for path in ("/nonexistent", "/establecimiento/NOPE", "/establecimiento/0101", "/mapa/x"):
        r = client.get(path)
        assert r.status_code == 404, path
        html = r.get_data(as_text=True)
        # the product's own page (the frame renders and says so), not a bare error
        assert 'id="react-entry-point"' in html
        assert "<title>Página no encontrada · Tablero de desempeño</title>" in html
    # a director of Concepción: a facility of Central is not found, one of Concepción is
    director = signed_in(app, url_of(repo), "regional", region="PY-1")
    assert director.get("/establecimiento/F2").status_code == 404
    assert director.get("/establecimiento/F1").status_code == 200


def test_without_a_session_a_page_still_goes_to_sign_in_first(repo, tmp_path):
    app = make_app(url_of(repo), tmp_path)
    r = app.server.test_client().get("/nonexistent")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_first_html_has_the_title_language_frame_and_product_icon(repo, tmp_path):
    app = make_app(url_of(repo), tmp_path)
    client = signed_in(app, url_of(repo))
    html = client.get("/mapa?region=PY-1&lang=en").get_data(as_text=True)
    assert "<title>Map · Concepción · Performance dashboard</title>" in html
    assert '<html lang="en">' in html
    assert 'class="_dash-loading boot-skeleton"' in html and "Loading…" in html
    assert 'type="image/svg+xml" href="/assets/favicon.svg"' in html
    assert "_favicon.ico" not in html
    es = client.get("/?region=XX").get_data(as_text=True)
    assert "<title>Resumen · Paraguay · Tablero de desempeño</title>" in es
    assert '<html lang="es">' in es and "Cargando…" in es


# --- the Resumen's first view: its KPI cards in the first HTML (issue 10, point 20) ------------


FIRST = '<div class="first-view boot-skeleton">'


def _json_text(node) -> str:
    """The text of a component tree as Dash's callback sends it (JSON), in order."""
    if node is None or isinstance(node, bool):
        return ""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list):
        return "".join(_json_text(n) for n in node)
    return _json_text(node.get("props", {}).get("children"))


def _classed(node, cls: str) -> list[str]:
    """Texts of the elements with class `cls` in a JSON component tree."""
    if isinstance(node, list):
        return [x for n in node for x in _classed(n, cls)]
    if not isinstance(node, dict):
        return []
    props = node.get("props", {})
    here = (
        [_json_text(props.get("children"))] if cls in (props.get("className") or "").split() else []
    )
    return here + _classed(props.get("children"), cls)


def _first_view(page: str) -> str:
    start = FIRST
    assert page.count(start) == 1
    return page.split(start, 1)[1].split('<div id="react-entry-point">')[0]


def _plain(fragment: str) -> str:
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _callback_cards(app, client, query: str):
    """The cards the Resumen's callback draws for this client and address (through the
    frame's callback, as the browser asks)."""
    from web_helpers import callback_body

    sync = client.post(
        "/_dash-update-component",
        json=callback_body(app, "url.search", {"url.pathname": "/", "url.search": query}),
    )
    view = sync.get_json()["response"]["view"]["data"]
    cards = client.post(
        "/_dash-update-component",
        json=callback_body(app, "overview-cards.children", {"view.data": view}),
    )
    return cards.get_json()["response"]["overview-cards"]["children"]


def test_first_html_of_resumen_carries_the_cards_the_callback_draws(demo, tmp_path):
    import re

    _, url, _ = demo
    app = make_app(url, tmp_path)
    client = signed_in(app, url)
    query = "?region=PY-1&indicador=MNI-04"
    r = client.get("/" + query)
    page = r.get_data(as_text=True)
    first = _first_view(page)
    cards = _callback_cards(app, client, query)
    values = _classed(cards, "kpi-value")
    assert len(values) == 8 and all(re.fullmatch(r"[\d.]+,\d+", v) for v in values), values
    # every card's text, in order, exactly as React will draw it (values, status words,
    # targets, changes, completeness, the (i) definitions and quality marks' words)
    assert _json_text(cards) in _plain(first)
    assert re.findall(r'<span class="kpi-value">([^<]*)</span>', first) == values
    # the same quality marks (Concepción's demo values carry some) and their legend
    marks = _classed(cards, "dq-mark")
    assert marks and first.count('class="dq-mark"') == len(marks)
    # React's copy has the ids; the static one has none (no id twice on the page)
    assert ' id="' not in first
    # account data in a page: never kept by a shared cache
    assert r.headers["Cache-Control"] == "private, no-store"
    # a page other than Resumen keeps to the frame
    other = client.get("/mapa" + query)
    assert FIRST not in other.get_data(as_text=True)
    assert "no-store" not in other.headers.get("Cache-Control", "")


def test_first_view_of_a_regional_account_holds_nothing_of_another_region(demo, tmp_path):
    _, url, _ = demo
    app = make_app(url, tmp_path)
    director = signed_in(app, url, "regional", region="PY-1")
    cat = demo[0].catalog()
    others = [u.name for u in cat.regions() if u.code != "PY-1"]
    # asking for Central (or the country) still gives Concepción's own view
    for query in ("", "?region=PY-11", "?region=PY-11&indicador=INM-04"):
        text = _plain(_first_view(director.get("/" + query).get_data(as_text=True)))
        assert "Concepción" in text
        leaked = [name for name in others if name in text]
        assert leaked == [], (query, leaked)
        assert "Paraguay" not in text
    national = signed_in(app, url)
    assert _first_view(national.get("/?region=PY-1").get_data(as_text=True)) != _first_view(
        national.get("/").get_data(as_text=True)
    )


def test_first_view_is_never_drawn_without_an_accounts_session(demo, tmp_path):
    _, url, _ = demo
    public = make_app(url, tmp_path, public_access=1)
    anonymous = public.server.test_client().get("/", headers={"Accept": "text/html"})
    assert anonymous.status_code == 200
    page = anonymous.get_data(as_text=True)
    assert FIRST not in page and "kpi-value" not in page
    assert 'class="_dash-loading boot-skeleton"' in page  # the frame alone


def test_scripts_are_deferred_behind_the_first_paint_and_start_the_renderer_last(repo, tmp_path):
    import re

    app = make_app(url_of(repo), tmp_path)
    client = signed_in(app, url_of(repo))
    page = client.get("/").get_data(as_text=True)
    external = re.findall(r"<script[^>]*\ssrc=[^>]*>", page)
    assert len(external) >= 8 and all(" defer " in tag for tag in external), external
    # no inline script may need the bundles: the renderer starts from a deferred file, last
    assert external[-1] == '<script defer id="_dash-renderer" src="/_dashboard/start-renderer.js">'
    assert "new DashRenderer" not in page
    start = client.get("/_dashboard/start-renderer.js")
    assert start.status_code == 200 and start.mimetype == "application/javascript"
    assert start.get_data(as_text=True).startswith("var renderer = new DashRenderer(")
