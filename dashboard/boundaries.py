"""Boundary files (GeoJSON, TopoJSON, GeoPackage, Shapefile) -> small GeoJSON keyed by org unit."""

from __future__ import annotations

import csv
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .missing import is_missing

DATA = Path(__file__).parent / "data"
LEVELS = ("region", "district")
# Coverage simplification removes vertices whose triangle is smaller than tolerance² (deg²).
# 0.01° is about 0.7 px on a 600-px-wide map of Paraguay (8.3° of longitude): invisible, and it
# drops about half the vertices of the Natural Earth departments without opening gaps.
DEFAULT_TOLERANCE = 0.01
# 4 decimals = 11 m, far below one pixel (about 1.5 km) of a national map.
DEFAULT_DECIMALS = 4
DEFAULT_FILE = Path("boundaries") / "paraguay_departments.json"

# Property names (compared case-insensitively) that can carry the key, most specific first.
ISO_COLUMNS = ("iso_code", "iso_3166_2", "iso3166_2", "iso", "shapeiso", "region_code")
NAME_COLUMNS = (
    "department",
    "departamento",
    "dpto_desc",
    "nom_dpto",
    "nombre",
    "name",
    "name_es",
    "shapename",
    "name_1",
    "adm1_name",
    "region_name",
)
DPTO_COLUMNS = ("dpto", "cod_dpto", "dpto_code", "department_code", "cod_dep", "codigo_dpto")
DISTRICT_COLUMNS = ("clave", "district_code", "cod_dist", "codigo_distrito")

# INE / MSPBS department number -> ISO 3166-2:PY (Boquerón and Alto Paraguay swap; 0 = Asunción).
_INE_SPECIAL = {0: "PY-ASU", 16: "PY-19", 17: "PY-16"}
# Spellings found in INE and MSPBS tables that are not the official department name.
_NAME_ALIASES = {
    "CAPITAL": "PY-ASU",
    "DISTRITO CAPITAL": "PY-ASU",
    "ASUNCION DISTRITO CAPITAL": "PY-ASU",
    "GRAN ASUNCION": None,  # a metropolitan area, not a department: never guess
    "PTE HAYES": "PY-15",
    "PDTE HAYES": "PY-15",
    "PRES HAYES": "PY-15",
}


class BoundaryError(ValueError):
    """A boundary file that cannot be used at all (the message names the file and the problem)."""


@dataclass(frozen=True)
class Boundaries:
    level: str
    geojson: dict[str, Any]  # FeatureCollection, each feature's "id" = org-unit code
    codes: tuple[str, ...]
    bounds: tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat
    centroids: dict[str, tuple[float, float]]  # code -> (lat, lon), a point inside the unit
    source: str  # file name
    unmatched: tuple[str, ...] = ()  # key values (or "#<feature index>") that were left out
    # Where the browser fetches `geojson` (app.install_boundaries): maps then name it instead
    # of sending the polygons with every answer, and the browser keeps it.
    url: str | None = None


# --- codes -------------------------------------------------------------------------------------


def normalize_name(value: object) -> str:
    """Upper case, accents stripped (Ñ -> N), punctuation collapsed: 'Pte. Hayes' -> 'PTE HAYES'."""
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    text = re.sub(r"[^A-Z0-9]+", " ", text).strip()
    text = re.sub(r"^(DEPARTAMENTO|DEPARTMENT|DPTO)( (DE|DEL))? ", "", text)
    return re.sub(r" (DEPARTMENT|DEPARTAMENTO)$", "", text)


def _reference_rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def region_rows() -> list[dict[str, str]]:
    """The built-in health-region table (iso_code, department, health_region, capital ...)."""
    return _reference_rows("paraguay_health_regions.csv")


def region_names() -> dict[str, str]:
    """Normalised department name -> ISO code, from the built-in health-region table."""
    out = {
        normalize_name(r["department"]): r["iso_code"]
        for r in _reference_rows("paraguay_health_regions.csv")
    }
    out.update({k: v for k, v in _NAME_ALIASES.items() if v})
    return out


def region_codes() -> tuple[str, ...]:
    return tuple(r["iso_code"] for r in _reference_rows("paraguay_health_regions.csv"))


def district_codes() -> tuple[str, ...]:
    return tuple(r["district_code"] for r in _reference_rows("paraguay_districts.csv"))


def ine_department_to_iso(value: object) -> str | None:
    """INE DPTO ('00', '16', 17, 5.0) -> ISO 3166-2:PY; None if it is not a department number."""
    number = _as_int(value)
    if number is None or not 0 <= number <= 17:
        return None
    return _INE_SPECIAL.get(number, f"PY-{number}")


def district_code(value: object) -> str | None:
    """INE CLAVE as 4-character text: 101, '101', 101.0 -> '0101'; None if not a code."""
    number = _as_int(value)
    if number is None or not 0 <= number <= 9999:
        return None
    return f"{number:04d}"


def _as_int(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.0+)?", text):
        return int(float(text))
    return None


def _iso_value(value: object, known: frozenset[str]) -> str | None:
    if value is None:
        return None
    code = re.sub(r"\s+", "", str(value)).upper()
    return code if code in known else None


# --- TopoJSON ----------------------------------------------------------------------------------


def topojson_to_geojson(topology: Mapping[str, Any], name: str | None = None) -> dict[str, Any]:
    """Decode a TopoJSON Topology into a GeoJSON FeatureCollection.

    Handles quantised (delta-encoded) and plain arcs, reversed arcs (~index), every geometry type.
    `name` picks one object; by default the features of all objects are returned.
    """
    if topology.get("type") != "Topology":
        raise ValueError("not a TopoJSON Topology")
    transform = topology.get("transform")
    if transform:
        (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
    arcs: list[list[tuple[float, float]]] = []
    for arc in topology.get("arcs", []):
        points = []
        x = y = 0
        for position in arc:
            if transform:
                x, y = x + position[0], y + position[1]
                points.append((x * sx + tx, y * sy + ty))
            else:
                points.append((position[0], position[1]))
        arcs.append(points)

    def point(position):
        if transform:
            return [position[0] * sx + tx, position[1] * sy + ty]
        return list(position[:2])

    def line(indexes):
        coords: list[list[float]] = []
        for i in indexes:
            points = arcs[i] if i >= 0 else arcs[~i][::-1]
            start = 1 if coords else 0  # consecutive arcs share their joining point
            coords.extend(list(p) for p in points[start:])
        return coords

    def ring(indexes):
        coords = line(indexes)
        if coords and coords[0] != coords[-1]:
            coords.append(list(coords[0]))
        return coords

    def geometry(g):
        kind = g.get("type")
        if kind == "Point":
            return {"type": kind, "coordinates": point(g["coordinates"])}
        if kind == "MultiPoint":
            return {"type": kind, "coordinates": [point(p) for p in g["coordinates"]]}
        if kind == "LineString":
            return {"type": kind, "coordinates": line(g["arcs"])}
        if kind == "MultiLineString":
            return {"type": kind, "coordinates": [line(a) for a in g["arcs"]]}
        if kind == "Polygon":
            return {"type": kind, "coordinates": [ring(r) for r in g["arcs"]]}
        if kind == "MultiPolygon":
            return {"type": kind, "coordinates": [[ring(r) for r in p] for p in g["arcs"]]}
        if kind == "GeometryCollection":
            return {"type": kind, "geometries": [geometry(c) for c in g.get("geometries", [])]}
        return None

    def features(obj):
        if obj.get("type") == "GeometryCollection":
            for child in obj.get("geometries", []):
                yield from features_of(child)
        else:
            yield from features_of(obj)

    def features_of(g):
        feature: dict[str, Any] = {
            "type": "Feature",
            "properties": dict(g.get("properties") or {}),
            "geometry": geometry(g),
        }
        if "id" in g:
            feature["id"] = g["id"]
        yield feature

    objects = topology.get("objects", {})
    chosen = [objects[name]] if name is not None else list(objects.values())
    return {"type": "FeatureCollection", "features": [f for o in chosen for f in features(o)]}


# --- loading -----------------------------------------------------------------------------------


def find_boundaries(env: Mapping[str, str], data_dir: Path) -> Path | None:
    """DASHBOARD_BOUNDARIES if set, else the file fetch_boundaries writes, else None."""
    configured = env.get("DASHBOARD_BOUNDARIES")
    if configured:
        return Path(configured)
    default = Path(data_dir) / DEFAULT_FILE
    return default if default.is_file() else None


def load_tilegrid(path: Path | None = None):
    """The 18 health regions as tiles: iso_code, row, col, abbrev (codes kept as text)."""
    import pandas as pd

    frame = pd.read_csv(path or DATA / "tilegrid.csv", dtype={"iso_code": str, "abbrev": str})
    return frame.astype({"row": int, "col": int})


def _read_frame(path: Path):
    import geopandas as gpd

    if not path.is_file():
        raise BoundaryError(f"{path.name}: boundary file not found ({path})")
    try:
        if path.suffix.lower() in (".json", ".geojson", ".topojson"):
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            if isinstance(doc, dict) and doc.get("type") == "Topology":
                doc = topojson_to_geojson(doc)
            if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
                raise ValueError("not a GeoJSON FeatureCollection or TopoJSON Topology")
            return _frame_from_features(doc.get("features") or [], _geojson_crs(doc))
        return gpd.read_file(path)
    except BoundaryError:
        raise
    except Exception as exc:  # any reader failure means the same to the caller
        raise BoundaryError(f"{path.name}: cannot read boundary file: {exc}") from exc


def _geojson_crs(doc: Mapping[str, Any]) -> str:
    # RFC 7946 GeoJSON is always WGS84; old files may still name another CRS (e.g. EPSG:4674).
    name = ((doc.get("crs") or {}).get("properties") or {}).get("name")
    if name and "CRS84" not in name.upper():
        return name
    return "EPSG:4326"


def _frame_from_features(features: Iterable[Any], crs: str):
    """GeoDataFrame from GeoJSON features; a feature with a broken geometry keeps None."""
    import geopandas as gpd
    from shapely.geometry import shape

    props, geoms = [], []
    for f in features:
        if not isinstance(f, dict):
            continue
        props.append(f.get("properties") or {})
        try:
            geoms.append(shape(f["geometry"]) if f.get("geometry") else None)
        except Exception:  # one bad feature must not sink the file
            geoms.append(None)
    return gpd.GeoDataFrame(props, geometry=geoms, crs=crs)


def load_boundaries(
    path: Path,
    level: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    decimals: int = DEFAULT_DECIMALS,
    known_codes: Iterable[str] | None = None,
) -> Boundaries:
    """Read a boundary file and key its features by our org-unit codes.

    level "region": ISO 3166-2:PY from `iso_code`/`ISO`/`iso_3166_2`, a department name or an INE
    `DPTO` number; level "district": INE `CLAVE` (or `district_code`, or `DPTO` + `DISTRITO`).
    Features whose key is unknown are left out and listed in `unmatched`; features sharing a code
    are merged. Raises BoundaryError when the file cannot be read or has no usable key.
    """
    import shapely

    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    path = Path(path)
    frame = _read_frame(path)
    if frame.empty:
        raise BoundaryError(f"{path.name}: the file has no features")
    frame = _to_wgs84(frame, path)
    known = (
        frozenset(known_codes)
        if known_codes is not None
        else frozenset(region_codes() if level == "region" else district_codes())
    )
    keys = _match_keys(frame, level, known, path)

    geoms = shapely.make_valid(frame.geometry.values)
    groups: dict[str, list[Any]] = {}
    unmatched: list[str] = []
    for i, (code, raw, geom) in enumerate(zip(keys["code"], keys["raw"], geoms, strict=True)):
        polygonal = _polygonal(geom)
        if code is None or polygonal is None:
            unmatched.append(raw if raw else f"#{i}")
            continue
        groups.setdefault(code, []).append(polygonal)
    if not groups:
        raise BoundaryError(f"{path.name}: no feature could be matched to a {level} code")

    codes = tuple(sorted(groups, key=_code_sort_key))
    merged = [shapely.union_all(groups[c]) for c in codes]
    simplified = _simplify(merged, tolerance)
    features = []
    centroids = {}
    for code, geom in zip(codes, simplified, strict=True):
        point = geom.representative_point()
        centroids[code] = (round(point.y, decimals), round(point.x, decimals))
        features.append(
            {
                "type": "Feature",
                "id": code,
                "properties": {"code": code},
                "geometry": _rounded_geometry(geom, decimals),
            }
        )
    min_x, min_y, max_x, max_y = shapely.total_bounds(simplified)
    return Boundaries(
        level=level,
        geojson={"type": "FeatureCollection", "features": features},
        codes=codes,
        bounds=(float(min_x), float(min_y), float(max_x), float(max_y)),
        centroids=centroids,
        source=path.name,
        unmatched=tuple(unmatched),
    )


def _code_sort_key(code: str) -> tuple[int, str]:
    digits = re.sub(r"\D", "", code)
    return (int(digits) if digits else -1, code)


def _to_wgs84(frame, path: Path):
    if frame.crs is None:
        min_x, min_y, max_x, max_y = frame.total_bounds
        if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
            raise BoundaryError(
                f"{path.name}: no coordinate reference system and the coordinates are not "
                "longitude/latitude degrees"
            )
        return frame.set_crs("EPSG:4326")
    if frame.crs.to_epsg() != 4326:
        try:
            return frame.to_crs("EPSG:4326")
        except Exception as exc:
            raise BoundaryError(f"{path.name}: cannot reproject {frame.crs} to EPSG:4326") from exc
    return frame


def _match_keys(frame, level: str, known: frozenset[str], path: Path) -> dict[str, list]:
    """Per feature: our code (or None) and the raw key value, trying the best column first."""
    columns = {c.lower(): c for c in frame.columns if c != frame.geometry.name}
    candidates: list[tuple[str, Any]] = []  # (column, value -> code)
    if level == "region":
        names = region_names()
        for lower in ISO_COLUMNS:
            if lower in columns:
                candidates.append((columns[lower], lambda v: _iso_value(v, known)))
        for lower in NAME_COLUMNS:
            if lower in columns:
                candidates.append(
                    (columns[lower], lambda v: names.get(normalize_name(v)) if v else None)
                )
        for lower in DPTO_COLUMNS:
            if lower in columns:
                candidates.append((columns[lower], ine_department_to_iso))
    else:
        for lower in DISTRICT_COLUMNS:
            if lower in columns:
                candidates.append((columns[lower], district_code))
        if "dpto" in columns and "distrito" in columns:
            dpto, dist = frame[columns["dpto"]], frame[columns["distrito"]]
            combined = [
                f"{a:02d}{b:02d}" if a is not None and b is not None else None
                for a, b in zip(map(_as_int, dpto), map(_as_int, dist), strict=True)
            ]
            frame = frame.assign(_dpto_distrito=combined)
            candidates.append(("_dpto_distrito", lambda v: v))
    if not candidates:
        expected = (
            ISO_COLUMNS + NAME_COLUMNS + DPTO_COLUMNS if level == "region" else DISTRICT_COLUMNS
        )
        raise BoundaryError(
            f"{path.name}: no {level} key column; the file has {sorted(columns.values())}, "
            f"expected one of {list(expected)} (any case)"
        )

    def code_of(fn, value):
        try:
            code = fn(value)
        except Exception:  # a bad value only loses its feature
            return None
        return code if code in known else None

    mapped = []
    for column, fn in candidates:
        codes = [code_of(fn, v) for v in frame[column].tolist()]
        mapped.append((sum(c is not None for c in codes), column, codes))
    if not any(hits for hits, _, _ in mapped):
        tried = [column for column, _ in candidates]
        raise BoundaryError(f"{path.name}: no value in columns {tried} is a known {level} code")
    # Best column first; a feature it cannot place falls back to the next (Natural Earth's
    # iso_3166_2 is empty for 16 of 18 departments, its name is always there).
    mapped.sort(key=lambda m: -m[0])
    best_column = mapped[0][1]
    out_codes: list[str | None] = []
    raws: list[str] = []
    for i in range(len(frame)):
        out_codes.append(next((codes[i] for _, _, codes in mapped if codes[i]), None))
        raw = frame[best_column].iloc[i]
        raws.append("" if is_missing(raw) else str(raw))
    return {"code": out_codes, "raw": raws}


def _polygonal(geom):
    """The polygon part of a geometry (make_valid may return collections), None if empty."""
    import shapely

    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(parts) if parts else None
    return None


def _simplify(geoms: list[Any], tolerance: float) -> list[Any]:
    """Simplify all units together so shared borders stay shared (no slivers, no gaps)."""
    import numpy as np
    import shapely

    if tolerance <= 0:
        return list(geoms)
    arr = np.array(geoms, dtype=object)
    if hasattr(shapely, "coverage_simplify"):
        try:
            if shapely.coverage_is_valid(arr):
                out = shapely.coverage_simplify(arr, tolerance)
                if all(shapely.is_valid(out)) and not any(shapely.is_empty(out)):
                    return list(out)
        except Exception:  # GEOS older than 3.12: per-unit fallback below
            pass
    # Not a clean coverage (overlaps or gaps in the source): simplify each unit on its own.
    out = shapely.simplify(arr, tolerance, preserve_topology=True)
    return [o if not o.is_empty else g for o, g in zip(out, geoms, strict=True)]


def _rounded_geometry(geom, decimals: int) -> dict[str, Any]:
    polygons = [geom] if geom.geom_type == "Polygon" else list(geom.geoms)
    out = []
    for polygon in polygons:
        rings = [_ring(polygon.exterior.coords, decimals)]
        rings += [_ring(r.coords, decimals) for r in polygon.interiors]
        rings = [r for r in rings if len(r) >= 4]
        if rings and len(rings[0]) >= 4:
            out.append(rings)
    if len(out) == 1:
        return {"type": "Polygon", "coordinates": out[0]}
    return {"type": "MultiPolygon", "coordinates": out}


def _ring(coords, decimals: int) -> list[list[float]]:
    ring: list[list[float]] = []
    for x, y, *_ in coords:
        p = [round(x, decimals), round(y, decimals)]
        if not ring or ring[-1] != p:  # rounding can merge neighbours
            ring.append(p)
    return ring
