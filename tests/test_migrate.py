"""Migrations are a release step: `python -m dashboard migrate`; production workers check the
schema and refuse to start when it is behind, instead of racing each other through Alembic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import fresh_engine

from dashboard.__main__ import main
from dashboard.app import SchemaOutOfDate, create_app
from dashboard.config import Settings
from dashboard.db import head_revision, schema_revision

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def empty_db(tmp_path):
    engine = fresh_engine(tmp_path, "empty")
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    return url, engine


def _settings(url, tmp_path):
    return Settings.from_env({"DASHBOARD_DATABASE_URL": url, "DASHBOARD_DATA_DIR": str(tmp_path)})


def test_migrate_worker_refuses_a_schema_behind_the_code(empty_db, tmp_path):
    url, engine = empty_db
    with pytest.raises(SchemaOutOfDate, match="python -m dashboard migrate"):
        create_app(_settings(url, tmp_path), migrate=False)
    assert schema_revision(engine) is None  # the worker did not migrate


def test_migrate_command_then_the_worker_starts(empty_db, tmp_path, monkeypatch, capsys):
    url, engine = empty_db
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", url)
    assert main(["migrate"]) == 0
    assert head_revision() in capsys.readouterr().out
    assert schema_revision(engine) == head_revision()
    assert create_app(_settings(url, tmp_path), migrate=False).server is not None
    assert main(["migrate"]) == 0  # again: nothing to do


def test_migrate_embedded_sqlite_still_migrates_on_first_use(tmp_path):
    url = f"sqlite:///{tmp_path / 'embedded.sqlite3'}"
    create_app(_settings(url, tmp_path))  # the default: SQLite migrates, PostgreSQL checks
    from dashboard.db import make_engine

    assert schema_revision(make_engine(url)) == head_revision()


def test_migrate_gunicorn_entry_point_exits_with_a_clear_message(empty_db, tmp_path):
    url, _ = empty_db
    env = {
        **os.environ,
        "DASHBOARD_DATABASE_URL": url,
        "DASHBOARD_DATA_DIR": str(tmp_path),
        "DASHBOARD_SECRET_KEY": "test-secret-not-for-production",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import dashboard.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3  # gunicorn halts instead of restarting the worker forever
    assert "python -m dashboard migrate" in done.stderr
