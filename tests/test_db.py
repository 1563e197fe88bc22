"""Schema: Alembic migrations build exactly the tables the code declares, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from helpers import fresh_engine

from dashboard.db import metadata, upgrade


def test_migrations_match_the_declared_schema(tmp_path):
    engine = fresh_engine(tmp_path, "schema")
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    assert diff == [], diff
    assert version == "0007_value_spans"


def test_upgrade_is_idempotent(tmp_path):
    engine = fresh_engine(tmp_path, "twice")
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM alembic_version").scalar() == 1
