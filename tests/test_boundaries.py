"""Boundary loading: key columns, formats, reprojection, TopoJSON, tile grid, fetch script."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from helpers import BOUNDARIES
from shapely.geometry import box

from dashboard.boundaries import (
    DEFAULT_FILE,
    BoundaryError,
    district_code,
    find_boundaries,
    ine_department_to_iso,
    load_boundaries,
    load_tilegrid,
    normalize_name,
    region_codes,
    region_names,
    region_rows,
    topojson_to_geojson,
)

ROOT = Path(__file__).resolve().parents[1]
# Natural Earth's departments, the committed public-domain fixture (tests/fixtures/SOURCE.md).
SHARED_GEO = BOUNDARIES
ALL_CODES = {"PY-ASU", *(f"PY-{i}" for i in range(1, 16)), "PY-16", "PY-19"}
ISO_TO_INE = {"PY-ASU": 0, "PY-19": 16, "PY-16": 17, **{f"PY-{i}": i for i in range(1, 16)}}


@pytest.fixture(scope="module")
def departments() -> gpd.GeoDataFrame:
    return gpd.read_file(SHARED_GEO)


def _squares(values: dict, column: str) -> gpd.GeoDataFrame:
    """One 0.1° square per value along a row, in Paraguay."""
    geoms = [box(-58 + i * 0.1, -25, -57.9 + i * 0.1, -24.9) for i in range(len(values))]
    return gpd.GeoDataFrame({column: list(values)}, geometry=geoms, crs="EPSG:4326")


# --- codes -------------------------------------------------------------------------------------


def test_ine_department_to_iso_swaps_boqueron_and_alto_paraguay():
    assert ine_department_to_iso("00") == "PY-ASU"
    assert ine_department_to_iso("16") == "PY-19"
    assert ine_department_to_iso(17) == "PY-16"
    assert ine_department_to_iso(5.0) == "PY-5"
    assert ine_department_to_iso("18") is None
    assert ine_department_to_iso("X") is None


def test_district_code_zero_pads_numbers():
    assert district_code(101) == "0101"
    assert district_code("101") == "0101"
    assert district_code(1504.0) == "1504"
    assert district_code("0000") == "0000"
    assert district_code("1O1") is None
    assert district_code(1.5) is None


def test_region_names_accept_ine_spellings():
    names = region_names()
    for spelling, code in [
        ("ALTO PARANA", "PY-10"),
        ("Alto Paraná", "PY-10"),
        ("PTE. HAYES", "PY-15"),
        ("ASUNCION", "PY-ASU"),
        ("CAPITAL", "PY-ASU"),
        ("ÑEEMBUCU", "PY-12"),
        ("Departamento de Boquerón", "PY-19"),
        ("Alto Paraguay Department", "PY-16"),
    ]:
        assert names[normalize_name(spelling)] == code, spelling
    assert len(set(region_codes())) == 18


# --- loading the real departments --------------------------------------------------------------


def test_load_boundaries_shared_geojson_has_all_codes(departments):
    b = load_boundaries(SHARED_GEO, "region")
    assert set(b.codes) == ALL_CODES
    assert b.unmatched == ()
    assert b.source == "paraguay_departments.geojson"
    assert [f["id"] for f in b.geojson["features"]] == list(b.codes)
    small = len(json.dumps(b.geojson, separators=(",", ":")))
    assert small < 0.6 * SHARED_GEO.stat().st_size
    min_lon, min_lat, max_lon, max_lat = b.bounds
    assert -63 < min_lon < -62 and -55 < max_lon < -54 and -28 < min_lat < -27
    assert -20 < max_lat < -19
    lat, lon = b.centroids["PY-ASU"]
    assert -25.4 < lat < -25.2 and -57.7 < lon < -57.5


def test_load_boundaries_rounds_coordinates(departments):
    b = load_boundaries(SHARED_GEO, "region", decimals=3)
    ring = b.geojson["features"][0]["geometry"]["coordinates"][0]
    assert all(round(x, 3) == x and round(y, 3) == y for x, y in ring)


def test_load_boundaries_simplification_keeps_shared_borders(departments):
    import shapely
    from shapely.geometry import shape

    b = load_boundaries(SHARED_GEO, "region", decimals=6)
    geoms = [shape(f["geometry"]) for f in b.geojson["features"]]
    assert shapely.coverage_is_valid(geoms)  # no overlaps, edges still matched
    assert shapely.union_all(geoms).geom_type == "Polygon"  # no gaps opened


@pytest.mark.parametrize(("suffix", "driver"), [(".gpkg", "GPKG"), (".shp", "ESRI Shapefile")])
def test_load_boundaries_gpkg_and_shapefile_match_geojson(departments, tmp_path, suffix, driver):
    path = tmp_path / f"departments{suffix}"
    departments[["iso_code", "name", "geometry"]].to_file(path, driver=driver)
    b = load_boundaries(path, "region")
    ref = load_boundaries(SHARED_GEO, "region")
    assert b.codes == ref.codes and b.unmatched == ()
    assert b.bounds == pytest.approx(ref.bounds, abs=1e-3)


def test_load_boundaries_reprojects_to_wgs84(departments, tmp_path):
    path = tmp_path / "utm.gpkg"
    departments.to_crs("EPSG:32721").to_file(path)
    b = load_boundaries(path, "region")
    assert set(b.codes) == ALL_CODES
    assert b.bounds == pytest.approx(load_boundaries(SHARED_GEO, "region").bounds, abs=1e-3)


def test_load_boundaries_ine_dpto_numbers(departments, tmp_path):
    frame = departments.assign(DPTO=[f"{ISO_TO_INE[c]:02d}" for c in departments.iso_code])
    path = tmp_path / "ine.geojson"
    frame[["DPTO", "geometry"]].to_file(path, driver="GeoJSON")
    b = load_boundaries(path, "region")
    assert set(b.codes) == ALL_CODES
    ref = load_boundaries(SHARED_GEO, "region")
    assert b.centroids == ref.centroids  # PY-16/PY-19 not swapped


def test_load_boundaries_ine_upper_case_names(departments, tmp_path):
    ine = {
        "PY-ASU": "CAPITAL",
        "PY-15": "PTE. HAYES",
        "PY-10": "ALTO PARANA",
        "PY-12": "ÑEEMBUCU",
    }
    names = [
        ine.get(c, normalize_name(n))
        for c, n in zip(departments.iso_code, departments.name, strict=True)
    ]
    path = tmp_path / "names.gpkg"
    departments.assign(DPTO_DESC=names)[["DPTO_DESC", "geometry"]].to_file(path)
    b = load_boundaries(path, "region")
    assert set(b.codes) == ALL_CODES and b.unmatched == ()


def test_load_boundaries_natural_earth_falls_back_to_name(departments, tmp_path):
    # Natural Earth: iso_3166_2 is "PY-" for 16 of 18 departments, the name is always right.
    iso = ["PY-ASU" if c == "PY-ASU" else "PY-" for c in departments.iso_code]
    frame = departments.assign(iso_3166_2=iso)[["iso_3166_2", "name", "geometry"]]
    path = tmp_path / "ne.geojson"
    frame.to_file(path, driver="GeoJSON")
    b = load_boundaries(path, "region")
    assert set(b.codes) == ALL_CODES and b.unmatched == ()


def test_load_boundaries_district_clave_numbers_zero_padded(tmp_path):
    frame = _squares({0: 1, 101: 1, 1504: 1, 9999: 1}, "CLAVE")
    path = tmp_path / "districts.gpkg"
    frame.to_file(path)
    assert frame.CLAVE.dtype.kind == "i"
    b = load_boundaries(path, "district")
    assert b.codes == ("0000", "0101", "1504")
    assert b.unmatched == ("9999",)
    assert [f["id"] for f in b.geojson["features"]] == ["0000", "0101", "1504"]


def test_load_boundaries_district_from_dpto_and_distrito(tmp_path):
    frame = _squares({1: 1, 15: 1}, "DPTO").assign(DISTRITO=[1, 4])
    path = tmp_path / "d.geojson"
    frame.to_file(path, driver="GeoJSON")
    assert load_boundaries(path, "district").codes == ("0101", "1504")


def test_load_boundaries_district_file_dissolves_to_regions(tmp_path):
    frame = _squares({"0101": 1, "0102": 1, "0201": 1}, "CLAVE").assign(DPTO=["01", "01", "02"])
    path = tmp_path / "d.gpkg"
    frame.to_file(path)
    b = load_boundaries(path, "region")
    assert b.codes == ("PY-1", "PY-2")
    assert b.geojson["features"][0]["geometry"]["type"] == "Polygon"  # two squares merged


def test_load_boundaries_bad_feature_is_listed_not_raised(tmp_path):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"iso_code": "PY-1"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[-58, -23], [-57, -23], [-57, -22], [-58, -23]]],
                },
            },
            {
                "type": "Feature",
                "properties": {"iso_code": "PY-2"},
                "geometry": {"type": "Polygon", "coordinates": [[[-58]]]},
            },
            {"type": "Feature", "properties": {"iso_code": "PY-3"}, "geometry": None},
            {
                "type": "Feature",
                "properties": {"iso_code": "PY-99"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[-58, -24], [-57, -24], [-57, -23], [-58, -24]]],
                },
            },
        ],
    }
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(doc))
    b = load_boundaries(path, "region")
    assert b.codes == ("PY-1",)
    assert set(b.unmatched) == {"PY-2", "PY-3", "PY-99"}


def test_load_boundaries_unreadable_file_names_the_file(tmp_path):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"not a geopackage")
    with pytest.raises(BoundaryError, match="broken.gpkg"):
        load_boundaries(path, "region")
    bad_json = tmp_path / "broken.geojson"
    bad_json.write_text("{not json")
    with pytest.raises(BoundaryError, match="broken.geojson"):
        load_boundaries(bad_json, "region")
    with pytest.raises(BoundaryError, match="missing.json: boundary file not found"):
        load_boundaries(tmp_path / "missing.json", "region")


def test_load_boundaries_without_key_column_says_what_is_expected(tmp_path):
    path = tmp_path / "nokey.geojson"
    _squares({"a": 1}, "foo").to_file(path, driver="GeoJSON")
    with pytest.raises(BoundaryError, match=r"nokey.geojson: no region key column.*iso_code"):
        load_boundaries(path, "region")
    path2 = tmp_path / "nomatch.geojson"
    _squares({"Narnia": 1}, "name").to_file(path2, driver="GeoJSON")
    with pytest.raises(BoundaryError, match="nomatch.geojson: no value in columns"):
        load_boundaries(path2, "region")


def test_load_boundaries_rejects_unknown_level(tmp_path):
    with pytest.raises(ValueError, match="level"):
        load_boundaries(tmp_path / "x.json", "facility")


# --- TopoJSON ----------------------------------------------------------------------------------

# Two unit squares side by side sharing the arc x=1 (arc 1), plus a two-part MultiPolygon,
# quantised with scale 0.5 and delta-encoded.
TOPOLOGY = {
    "type": "Topology",
    "transform": {"scale": [0.5, 0.5], "translate": [-58, -25]},
    "objects": {
        "pry": {
            "type": "GeometryCollection",
            "geometries": [
                {
                    "type": "Polygon",
                    "id": "a",
                    "properties": {"iso_code": "PY-1"},
                    "arcs": [[0, 1]],
                },
                {"type": "Polygon", "properties": {"iso_code": "PY-2"}, "arcs": [[2, -2]]},
                {
                    "type": "MultiPolygon",
                    "properties": {"iso_code": "PY-3"},
                    "arcs": [[[3]], [[4]]],
                },
            ],
        }
    },
    "arcs": [
        [[2, 0], [-2, 0], [0, 2], [2, 0]],  # left square, clockwise, without the shared side
        [[2, 2], [0, -2]],  # the shared side, top to bottom
        [[2, 2], [2, 0], [0, -2], [-2, 0]],  # right square, clockwise, without the shared side
        [[0, 6], [2, 0], [0, 2], [-2, 0], [0, -2]],
        [[4, 6], [2, 0], [0, 2], [-2, 0], [0, -2]],
    ],
}


def test_topojson_to_geojson_decodes_quantised_arcs():
    fc = topojson_to_geojson(TOPOLOGY, "pry")
    left, right, multi = fc["features"]
    assert left["id"] == "a" and left["properties"] == {"iso_code": "PY-1"}
    assert left["geometry"] == {
        "type": "Polygon",
        "coordinates": [
            [[-57.0, -25.0], [-58.0, -25.0], [-58.0, -24.0], [-57.0, -24.0], [-57.0, -25.0]]
        ],
    }
    # The reversed shared arc closes the right square onto the very same points.
    assert right["geometry"]["coordinates"] == [
        [[-57.0, -24.0], [-56.0, -24.0], [-56.0, -25.0], [-57.0, -25.0], [-57.0, -24.0]]
    ]
    assert multi["geometry"]["type"] == "MultiPolygon"
    assert len(multi["geometry"]["coordinates"]) == 2
    assert multi["geometry"]["coordinates"][1][0][0] == [-56.0, -22.0]


def test_topojson_to_geojson_unquantised_and_points():
    topo = {
        "type": "Topology",
        "objects": {
            "p": {"type": "Point", "coordinates": [-57.5, -25.3]},
            "l": {"type": "LineString", "arcs": [0]},
        },
        "arcs": [[[-58.0, -25.0], [-57.0, -24.0]]],
    }
    fc = topojson_to_geojson(topo)
    assert [f["geometry"] for f in fc["features"]] == [
        {"type": "Point", "coordinates": [-57.5, -25.3]},
        {"type": "LineString", "coordinates": [[-58.0, -25.0], [-57.0, -24.0]]},
    ]
    with pytest.raises(ValueError):
        topojson_to_geojson({"type": "FeatureCollection", "features": []})


def test_load_boundaries_reads_topojson_files(tmp_path):
    path = tmp_path / "tiny.topojson"
    path.write_text(json.dumps(TOPOLOGY))
    b = load_boundaries(path, "region", tolerance=0)
    assert b.codes == ("PY-1", "PY-2", "PY-3")
    assert b.geojson["features"][2]["geometry"]["type"] == "MultiPolygon"


# --- locating the file -------------------------------------------------------------------------


def test_find_boundaries_prefers_env_then_data_dir(tmp_path):
    assert find_boundaries({}, tmp_path) is None
    default = tmp_path / DEFAULT_FILE
    default.parent.mkdir(parents=True)
    default.write_text("{}")
    assert find_boundaries({}, tmp_path) == default
    assert find_boundaries({"DASHBOARD_BOUNDARIES": "/x/y.gpkg"}, tmp_path) == Path("/x/y.gpkg")
    assert find_boundaries({"DASHBOARD_BOUNDARIES": ""}, tmp_path) == default


# --- tile grid ---------------------------------------------------------------------------------


def test_tilegrid_has_every_region_once_on_distinct_cells():
    tiles = load_tilegrid()
    assert list(tiles.columns) == ["iso_code", "row", "col", "abbrev"]
    assert set(tiles.iso_code) == ALL_CODES and tiles.iso_code.is_unique
    assert not tiles.duplicated(["row", "col"]).any()
    assert tiles.abbrev.is_unique and tiles.abbrev.str.len().between(3, 5).all()


def test_tilegrid_roughly_geographic():
    at = load_tilegrid().set_index("iso_code")
    chaco = at.loc[["PY-16", "PY-19", "PY-15"], "col"]
    assert chaco.max() < at.loc["PY-11", "col"]  # the Chaco lies west of Central
    assert at.loc["PY-ASU", "col"] < at.loc["PY-11", "col"]  # Asunción beside Central, west
    assert at.loc["PY-ASU", "row"] == at.loc["PY-11", "row"]
    assert at.loc["PY-1", "row"] < at.loc["PY-7", "row"]  # Concepción north of Itapúa
    assert at.loc["PY-10", "col"] > at.loc["PY-5", "col"]  # Alto Paraná east of Caaguazú


# --- fetch script (no network) -----------------------------------------------------------------


@pytest.fixture
def fetch_script():
    spec = importlib.util.spec_from_file_location(
        "fetch_boundaries", ROOT / "scripts" / "fetch_boundaries.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fetch_script_assigns_iso_codes_by_natural_earth_name(fetch_script):
    from dashboard import boundaries

    ne_names = [r["department"] for r in region_rows()]
    features = [
        {
            "type": "Feature",
            "properties": {"name": name, "iso_3166_2": "PY-"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[-58.0, -25.0], [-57.9, -25.0], [-57.9, -24.9], [-58.0, -25.0]]],
            },
        }
        for name in reversed(ne_names)
    ]
    raw = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    fc = fetch_script.to_departments(raw, boundaries)
    props = [f["properties"] for f in fc["features"]]
    assert [p["health_region"] for p in props] == list(range(1, 19))
    assert {p["name"]: p["iso_code"] for p in props}["Boquerón"] == "PY-19"
    with pytest.raises(ValueError, match="Narnia"):
        bad = {
            "type": "FeatureCollection",
            "features": [{**features[0], "properties": {"name": "Narnia"}}],
        }
        fetch_script.to_departments(json.dumps(bad).encode(), boundaries)


def test_fetch_script_without_npm_exits_zero(fetch_script, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(fetch_script.shutil, "which", lambda name: None)
    assert fetch_script.main([]) == 0
    assert "npm is not installed" in capsys.readouterr().out
    assert not (tmp_path / DEFAULT_FILE).exists()


# --- served once, named by the maps ------------------------------------------------------------


def test_boundaries_are_served_as_one_immutable_file_named_by_its_content():
    import gzip

    from flask import Flask

    from dashboard.app import install_boundaries

    b = load_boundaries(SHARED_GEO, "region")
    server = Flask(__name__)
    served = install_boundaries(server, b, "/")
    assert served.url.startswith("/_dashboard/geo/region-") and served.url.endswith(".json")
    assert served.geojson is b.geojson and served.codes == b.codes
    client = server.test_client()
    r = client.get(served.url, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(r.data)) == b.geojson
    assert (
        "immutable" in r.headers["Cache-Control"]
        and "max-age=31536000" in r.headers["Cache-Control"]
    )
    again = client.get(served.url, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    # Other polygons, another address: a browser never keeps stale shapes.
    fewer = replace(b, geojson={**b.geojson, "features": b.geojson["features"][:3]})
    assert install_boundaries(Flask(__name__), fewer, "/").url != served.url
    assert install_boundaries(server, None, "/") is None


def test_maps_name_the_boundary_file_instead_of_sending_polygons():
    from dashboard import maps

    b = load_boundaries(SHARED_GEO, "region")
    frame = pd.DataFrame({"org_unit": ["PY-1", "PY-2"], "value": [1.0, 2.0]})
    url = "/_dashboard/geo/region-abc.json"
    traces = maps.choropleth_traces(frame, b.geojson, url=url, classes=[(0, 1.5, "#111", "a")])
    assert traces and all(t["geojson"] == url for t in traces if "locations" in t)
    drawn = [c for t in traces for c in t.get("locations", []) if c]
    assert sorted(drawn) == sorted(b.codes)  # every department still drawn, from the file
    (ring,) = maps.highlight_traces("x", geojson=b.geojson, code="PY-1", url=url)
    assert ring["geojson"] == url and ring["locations"] == ["PY-1"]
    # Without an address the polygons travel in the figure, as before.
    plain = maps.choropleth_traces(frame, b.geojson, classes=[(0, 1.5, "#111", "a")])
    assert all(isinstance(t["geojson"], dict) for t in plain if "locations" in t)
