"""The import contract (pyproject.toml, checked by lint-imports in CI) covers every core module."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The wiring modules: the only ones in dashboard/ that may import dash, flask, layouts, callbacks
# (web/ is the Flask side: sign-in, access control, headers, health).
WIRING = {"app", "wsgi", "__main__", "report", "web", "__init__"}


def test_import_contract_lists_every_core_module():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    core = next(c for c in contracts if "dash" in c["forbidden_modules"])
    listed = {m.removeprefix("dashboard.") for m in core["source_modules"]}
    on_disk = {
        p.stem if p.is_file() else p.name
        for p in (ROOT / "dashboard").iterdir()
        if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))
    }
    assert on_disk - WIRING == listed, "add new core modules to the import contract"
    assert {"dash", "dash_bootstrap_components", "flask", "layouts", "callbacks"} <= set(
        core["forbidden_modules"]
    )
