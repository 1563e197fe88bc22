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
