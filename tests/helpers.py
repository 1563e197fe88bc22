"""Helpers the tests share (imported as `from helpers import …`; fixtures stay in conftest.py)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import text

from dashboard.db import make_engine
from dashboard.repository import Repository

# Natural Earth's departments, committed as a public-domain fixture (tests/fixtures/SOURCE.md).
BOUNDARIES = Path(__file__).resolve().parent / "fixtures" / "paraguay_departments.geojson"
TODAY = date(2026, 11, 29)
PG_URL = os.environ.get("DASHBOARD_TEST_DATABASE_URL")
# Two facilities in two regions (Concepción's USF, Ñeembucú's regional hospital): the import and
# export tests' smallest store beside the reference tree.
TWO_FACILITIES = [
    {
        "code": "F001",
        "name": "USF Concepción",
        "level": 3,
        "parent": "0101",
        "facility_type": "USF",
    },
    {
        "code": "F002",
        "name": "Hospital Regional de Pilar",
        "level": 3,
        "parent": "1201",
        "facility_type": "HR",
    },
]


def fresh_engine(tmp_path, name: str = "t"):
    """An empty database: a new SQLite file, or the PostgreSQL test database wiped clean."""
    if PG_URL:
        engine = make_engine(PG_URL)
        with engine.begin() as conn:
            # Everything, not just today's tables: a database left by an older schema (or
            # another run on this machine) must not leak into the test.
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        return engine
    return make_engine(f"sqlite:///{tmp_path / name}.sqlite3")


def add_facilities(repo: Repository, specs: list[tuple[str, str, str]], **extra) -> None:
    """specs: (code, facility_type, district code)."""
    repo.upsert_org_units(
        [
            {
                "code": c,
                "name": f"Establecimiento {c}",
                "level": 3,
                "parent": d,
                "facility_type": t,
                **extra,
            }
            for c, t, d in specs
        ]
    )


def put_values(
    repo: Repository,
    rows: list[tuple[str, str, int, float]],
    received_on: date = date(2024, 1, 10),
    expect: tuple[int, int] | None = None,
) -> None:
    """rows: (facility code, data element code, month, value); then refresh the rollups.

    Every facility-month in rows counts as a received report; `expect` adds expected reports for
    every facility over a month range (so missing months show in completeness).
    """
    cat = repo.catalog()
    frame = pd.DataFrame(
        [(cat.by_code[f].id, cat.data_elements[d].id, m, float(v)) for f, d, m, v in rows],
        columns=["org_unit_id", "data_element_id", "month", "value"],
    )
    with repo.engine.begin() as conn:
        batch = repo.start_batch("test", "test", conn)
        repo.write_values(frame, batch, conn)
        if expect:
            repo.ensure_expected_reports(expect[0], expect[1], conn)
        repo.mark_received(frame[["org_unit_id", "month"]], received_on, conn)
    repo.refresh_rollups()


def put_population(repo: Repository, rows: list[tuple[str, str, int, float]]) -> None:
    """rows: (org unit code, population element code, year, value)."""
    cat = repo.catalog()
    repo.upsert_populations(
        [
            {
                "org_unit_id": cat.by_code[u].id,
                "data_element_id": cat.data_elements[d].id,
                "year": y,
                "value": v,
            }
            for u, d, y, v in rows
        ]
    )
    repo.refresh_rollups()


def demo_url(tmp_dir) -> str:
    """A database of its own for the session's demo (the per-test fixture wipes the main one)."""
    if not PG_URL:
        return f"sqlite:///{tmp_dir / 'demo.sqlite3'}"
    base, _, name = PG_URL.rpartition("/")
    demo_name = f"{name}_demo"
    admin = make_engine(PG_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{demo_name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{demo_name}"'))
    admin.dispose()
    return f"{base}/{demo_name}"
