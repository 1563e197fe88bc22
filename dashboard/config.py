"""Settings built from the environment; nothing is read at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


def default_data_dir() -> Path:
    """Where the embedded SQLite database lives unless configured otherwise."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "paraguay-health-dashboard"


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    boundaries_path: Path | None = None
    # Optional district polygons (INE CNPV 2022 layer, key CLAVE); without them districts
    # show as bubbles at their seat.
    district_boundaries_path: Path | None = None
    # Fixed "today" for reproducible relative periods in tests; None means the real date.
    today: date | None = None
    # Minimum count shown before small-number suppression kicks in (pages and exports).
    small_count: int = 5
    extra: dict = field(default_factory=dict)
    # Largest file an import reads (command line and /importar), refused before parsing.
    import_max_bytes: int = 100 * 1024 * 1024

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("DASHBOARD_DATA_DIR") or default_data_dir())
        url = env.get("DASHBOARD_DATABASE_URL") or f"sqlite:///{data_dir / 'dashboard.sqlite3'}"
        boundaries = env.get("DASHBOARD_BOUNDARIES")
        districts = env.get("DASHBOARD_DISTRICT_BOUNDARIES")
        today = env.get("DASHBOARD_TODAY")
        return cls(
            database_url=url,
            data_dir=data_dir,
            boundaries_path=Path(boundaries) if boundaries else None,
            district_boundaries_path=Path(districts) if districts else None,
            today=date.fromisoformat(today) if today else None,
            small_count=int(env.get("DASHBOARD_SMALL_COUNT", "5")),
            import_max_bytes=int(float(env.get("DASHBOARD_IMPORT_MAX_MB", "100")) * 1024 * 1024),
        )

    def current_date(self) -> date:
        return self.today or date.today()
