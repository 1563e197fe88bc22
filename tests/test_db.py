"""Schema: Alembic migrations build exactly the tables the code declares, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from helpers import PG_URL, fresh_engine

from dashboard.db import metadata, upgrade


def test_migrations_match_the_declared_schema(tmp_path):
    engine = fresh_engine(tmp_path, "schema")
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    assert diff == [], diff
    assert version == "0008_dq_series"


def test_upgrade_is_idempotent(tmp_path):
    engine = fresh_engine(tmp_path, "twice")
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM alembic_version").scalar() == 1


def test_renice_backend_only_touches_postgresql_on_this_host():
    import os
    import subprocess

    from dashboard.db import renice_backend

    other = subprocess.Popen(["sleep", "30"])
    try:
        assert "another host" in renice_backend(other.pid, "10.1.2.3", 19)
        assert "not PostgreSQL" in renice_backend(other.pid, None, 19)
        assert "not PostgreSQL" in renice_backend(other.pid, "127.0.0.1", 19)
        assert os.getpriority(os.PRIO_PROCESS, other.pid) == 0
    finally:
        other.kill()
        other.wait()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL pass only")
def test_render_server_sessions_run_at_low_priority_on_postgresql():
    """The print process's engine renices its own backends, and only those."""
    import os

    from dashboard.db import make_engine

    def backend_nice(engine) -> int:
        with engine.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            return os.getpriority(os.PRIO_PROCESS, pid)

    low, plain = make_engine(PG_URL, backend_nice=19), make_engine(PG_URL)
    try:
        assert backend_nice(low) == 19
        assert backend_nice(plain) == 0
    finally:
        low.dispose()
        plain.dispose()


def test_batched_upserts_write_what_rows_one_by_one_would(repo):
    """Org units and catalogue rows are written in batches: new ones together until a row
    names a parent still waiting, updates by id. A code named twice takes the later values;
    ancestors are filled in for units new and old."""
    from sqlalchemy import select

    from dashboard import db

    usf = {"level": 3, "facility_type": "USF"}
    counts = repo.upsert_org_units(
        [
            {"code": "9901", "name": "Distrito nuevo", "level": 2, "parent": "PY-1"},
            {"code": "F1", "name": "USF uno", "parent": "9901", **usf},
            {"code": "F2", "name": "USF dos", "parent": "9901", **usf},
            {"code": "F1", "name": "USF uno (bis)", "level": 3, "parent": "9901"},
            {"code": "0101", "name": "Concepción (distrito)", "level": 2, "parent": "PY-1"},
        ]
    )
    assert (counts.inserted, counts.updated) == (3, 1)
    again = repo.upsert_org_units(
        [{"code": "F2", "name": "USF dos", "level": 3, "parent": "0101", "facility_type": "PS"}]
    )
    assert (again.inserted, again.updated) == (0, 1)
    t = db.org_unit
    with repo.engine.connect() as c:
        id_of = dict(c.execute(select(t.c.code, t.c.id)).all())
        got = {r.code: r for r in c.execute(select(t).where(t.c.code.in_(list(id_of))))}
    assert got["F1"].name == "USF uno (bis)" and got["F1"].facility_type == "USF"
    assert got["F1"].parent_id == id_of["9901"] and got["F1"].district_id == id_of["9901"]
    assert got["F2"].facility_type == "PS" and got["F2"].district_id == id_of["0101"]
    assert {got[c].region_id for c in ("9901", "F1", "F2")} == {id_of["PY-1"]}
    assert got["0101"].name == "Concepción (distrito)" and got["PY-1"].parent_id == id_of["PY"]
    assert got["PY-1"].name == "Concepción" and len(got) == 18 + 263 + 1 + 3

    element = {"kind": "count", "name_en": "New element", "description": None}
    counts = repo.upsert_data_elements(
        [
            {"code": "NEW-1", "name_es": "Elemento nuevo", **element},
            {"code": "NEW-1", "name_es": "Elemento nuevo (bis)", **element},
            {"code": "NEW-2", "name_es": "Otro", **element},
        ]
    )
    again = repo.upsert_data_elements([{"code": "NEW-2", "name_es": "Otro (cambiado)", **element}])
    assert (counts.inserted, counts.updated, again.inserted, again.updated) == (2, 0, 0, 1)
    d = db.data_element
    with repo.engine.connect() as c:
        names = dict(c.execute(select(d.c.code, d.c.name_es).where(d.c.code.like("NEW-%"))).all())
    assert names == {"NEW-1": "Elemento nuevo (bis)", "NEW-2": "Otro (cambiado)"}


def test_a_refresh_leaves_planner_statistics_for_the_page_reads(repo):
    """SQLite plans the rollup reads by key only with statistics (writes.analyze): every
    refresh leaves them, as ANALYZE does for PostgreSQL."""
    from helpers import add_facilities, put_values
    from sqlalchemy import text

    add_facilities(repo, [("F1", "USF", "0101")])
    put_values(repo, [("F1", "PENTA3", 202401, 5)])
    with repo.engine.connect() as c:
        if repo.engine.dialect.name == "sqlite":
            tables = {r[0] for r in c.execute(text("SELECT tbl FROM sqlite_stat1"))}
        else:
            tables = {
                r[0]
                for r in c.execute(
                    text("SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL")
                )
            }
    assert {"rollup", "data_value"} <= tables
