"""The partial plotly.js bundle: it registers every trace type the figure builders draw, and the
app serves it, compressed and cacheable, where Dash's graphs load plotly.js from."""

from __future__ import annotations

import gzip
import inspect
import re
from pathlib import Path

import plotly.graph_objects as go
from flask import Flask
from helpers import fresh_engine
from plotly.basedatatypes import BaseTraceType
from web_helpers import make_app, signed_in, url_of

import dashboard.app as app_module
from dashboard.app import PLOTLY_PATH, install_plotly_bundle
from dashboard.repository import Repository

ROOT = Path(__file__).resolve().parent.parent
TRACE_TYPES = {
    n.lower()
    for n in dir(go)
    if n[:1].isupper()
    and inspect.isclass(getattr(go, n))
    and issubclass(getattr(go, n), BaseTraceType)
}


def used_trace_types() -> set[str]:
    """Trace types named in the builders: `"type": "bar"` in a trace dict, `_trace("choropleth"`."""
    found: set[str] = set()
    for module in ("figures.py", "maps.py"):
        src = (ROOT / "dashboard" / module).read_text(encoding="utf-8")
        found |= set(re.findall(r'"type":\s*"(\w+)"', src))
        found |= set(re.findall(r'_trace\(\s*"(\w+)"', src))
    return found & TRACE_TYPES


def bundled_trace_types() -> set[str]:
    src = (ROOT / "scripts" / "plotly-bundle.js").read_text(encoding="utf-8")
    return {"scatter"} | set(re.findall(r"require\('plotly\.js/lib/(\w+)'\)", src))


def test_bundle_registers_every_trace_type_the_builders_draw():
    used = used_trace_types()
    assert {"scatter", "bar", "choropleth", "scattergeo"} <= used  # the scan finds them
    missing = used - bundled_trace_types()
    assert not missing, f"add {sorted(missing)} to scripts/plotly-bundle.js"


def test_bundle_is_built_by_npm_from_the_entry_file():
    import json

    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    script = package["scripts"]["build:plotly"]
    assert "scripts/plotly-bundle.js" in script and "dashboard/static/plotly.min.js" in script
    # The bundle's plotly.js is pinned: the figures are specs of that version's schema.
    assert re.fullmatch(r"\d+\.\d+\.\d+", package["devDependencies"]["plotly.js"])


def test_served_compressed_with_an_etag_and_revalidated(tmp_path):
    bundle = tmp_path / "plotly.min.js"
    bundle.write_bytes(b"var Plotly={};" * 100)
    server = Flask(__name__)
    assert install_plotly_bundle(server, bundle, "/" + PLOTLY_PATH)
    client = server.test_client()
    r = client.get("/" + PLOTLY_PATH, headers={"Accept-Encoding": "gzip, br"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(r.data) == bundle.read_bytes()
    assert r.mimetype == "application/javascript"
    assert "max-age=86400" in r.headers["Cache-Control"]
    again = client.get(
        "/" + PLOTLY_PATH, headers={"Accept-Encoding": "gzip", "If-None-Match": r.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    plain = client.get("/" + PLOTLY_PATH)
    assert "Content-Encoding" not in plain.headers and plain.data == bundle.read_bytes()


def test_no_bundle_leaves_dash_plotly_in_place(tmp_path):
    server = Flask(__name__)
    assert not install_plotly_bundle(server, tmp_path / "absent.js", "/" + PLOTLY_PATH)
    assert "plotly_bundle" not in server.view_functions


def test_app_serves_the_bundle_instead_of_dash_full_plotly(tmp_path, monkeypatch):
    bundle = tmp_path / "plotly.min.js"
    bundle.write_bytes(b"/* partial */ var Plotly={};")
    monkeypatch.setattr(app_module, "PLOTLY_BUNDLE", bundle)
    repo = Repository(fresh_engine(tmp_path))
    repo.ensure_schema()
    url = url_of(repo)
    app = make_app(url, tmp_path)
    # Behind the session, as Dash's own scripts.
    anonymous = app.server.test_client().get("/" + PLOTLY_PATH)
    assert anonymous.status_code == 401
    r = signed_in(app, url).get("/" + PLOTLY_PATH, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert gzip.decompress(r.data) == bundle.read_bytes()
