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
