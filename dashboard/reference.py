"""Built-in reference data: Paraguay's org-unit tree (INE / MSPBS) and the indicator catalogue.

Sources (see dashboard/data/SOURCE.md): regions and districts from INE Paraguay, Censo Nacional de
Población y Viviendas 2022, resultados finales; region numbers from MSPBS; ISO 3166-2:PY codes.
"""

from __future__ import annotations

import csv
from pathlib import Path

from .catalog import COUNTRY_CODE
from .repository import Repository

DATA = Path(__file__).parent / "data"
COUNTRY_NAME = "Paraguay"


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def regions() -> list[dict[str, str]]:
    return _rows("paraguay_health_regions.csv")


def districts() -> list[dict[str, str]]:
    return _rows("paraguay_districts.csv")


def _num(v: str) -> float | None:
    return float(v) if v not in ("", None) else None


def tree_rows() -> list[dict]:
    """Country, 18 health regions and 263 districts as org-unit rows, parents first."""
    rows: list[dict] = [{"code": COUNTRY_CODE, "name": COUNTRY_NAME, "level": 0, "parent": None}]
    for r in regions():
        rows.append(
            {
                "code": r["iso_code"],
                "name": r["department"],
                "level": 1,
                "parent": COUNTRY_CODE,
                "region_number": int(r["health_region"]),
                "latitude": _num(r["capital_lat"]),
                "longitude": _num(r["capital_lon"]),
            }
        )
    for d in districts():
        rows.append(
            {
                "code": d["district_code"],
                # The name people read (accents, ñ, Spanish capitals); `district` is INE's key form.
                "name": d["district_name"],
                "level": 2,
                "parent": d["department_iso_code"],
                "latitude": _num(d["seat_lat"]),
                "longitude": _num(d["seat_lon"]),
            }
        )
    return rows


def data_element_rows() -> list[dict]:
    return [dict(r) for r in _rows("data_elements.csv")]


def indicator_rows() -> list[dict]:
    out = []
    for i, r in enumerate(_rows("indicators.csv")):
        row: dict = dict(r)
        for k in ("factor", "target", "near", "band_low", "band_high"):
            row[k] = _num(row[k])
        row["decimals"] = int(row["decimals"])
        row["sort"] = i
        out.append(row)
    return out


def sdg_rows(indicator_ids: dict[str, int]) -> list[dict]:
    """The default SDG 3 mapping (sdg3_targets.csv) for the indicators the catalogue has."""
    from .importers.metadata import parse_sdg_target

    out = []
    for r in _rows("sdg3_targets.csv"):
        if r["indicator"] not in indicator_ids:
            continue
        target = parse_sdg_target(r["target_2030"])
        assert target is not None, r  # the shipped file is checked by a test
        out.append(
            {
                "indicator_id": indicator_ids[r["indicator"]],
                "sdg": r["sdg_indicator"],
                "direction": r["direction"],
                **target,
                "source": r["source"] or None,
            }
        )
    return out


def load_reference(repo: Repository) -> None:
    """Load the org-unit tree, the catalogue and its SDG mapping (idempotent: updates by code)."""
    repo.ensure_schema()
    repo.upsert_data_elements(data_element_rows())
    repo.upsert_indicators(indicator_rows())
    repo.upsert_sdg(sdg_rows({i.code: i.id for i in repo.catalog().indicators.values()}))
    repo.upsert_org_units(tree_rows())
