"""Settings built from the environment; nothing is read at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .interop.vocab import DEFAULT_ORG_SYSTEMS
from .quality import QualityRules, ReviewRules


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
    # Data-quality marks: completeness below this % (WHO DQR default 90), zero events over
    # fewer than this many people, and an aggregate's share (%) of outlier values.
    dq_completeness: float = 90.0
    small_denominator: int = 100
    dq_outlier_share: float = 5.0
    # Which population a region or the country rolls up when its own figure and the sum of
    # its children's disagree: "parts" (a table's total is the sum of its rows) or "own".
    population_rule: str = "parts"
    # Disclosure control: roles that see counts 1..suppress_threshold as "<N" and no rate
    # resting on such a numerator.
    suppress_threshold: int = 4
    restricted_roles: frozenset[str] = frozenset({"publico"})
    # Signs CSRF and print tokens; required by dashboard.wsgi (production), generated per
    # process by `serve` when unset.
    secret_key: str | None = None
    # Shares the sign-in lock-out between workers; in memory (per process) when unset.
    redis_url: str | None = None
    # Anonymous visitors (role publico) see aggregates down to districts, never a facility.
    public_access: bool = False
    # Sessions end after this long without a request, and this long after sign-in whatever.
    session_idle_minutes: int = 60
    session_max_hours: int = 12
    # Longest a PostgreSQL statement may run before it is cancelled (its thread is then free).
    statement_timeout_s: float = 15.0
    # Longest a request waits for a pooled connection before it is refused.
    pool_timeout_s: float = 10.0
    # Longest SQLite waits for a lock held by a writer (an import) before giving up.
    sqlite_busy_timeout_s: float = 5.0
    # Largest request body (callbacks, forms) accepted; uploads set their own cap.
    max_body_bytes: int = 1_000_000
    # Where Chromium loads pages to print them when it prints inside the web worker
    # (pdf_priority "off", or an in-memory database); None: the address this process listens
    # on. Never derived from the request's Host header. Otherwise the print process serves the
    # pages itself on loopback (dashboard.report.render).
    internal_url: str | None = None
    # PDFs printed at once by one process (fewer than its threads), how many more may wait,
    # and how long one waits before the answer is 503 with Retry-After.
    # A short queue: a waiting request holds one of a worker's few threads from the other
    # users, so it waits one second at most; beyond that the page's PDF button waits and
    # retries on 503 + Retry-After itself.
    pdf_concurrency: int = 1
    pdf_queue: int = 1
    pdf_queue_timeout_s: float = 1.0
    # PDFs printed at once on the whole host, every worker together (file locks in lock_dir),
    # and whether Chromium runs from a print process of its own at the lowest CPU priority
    # ("idle": only on cores nothing else wants; "low": nice 10; "off": in the worker itself,
    # which then also serves the printed page to its Chromium).
    pdf_host_concurrency: int = 1
    pdf_priority: str = "idle"
    # Niceness given to this process's PostgreSQL server processes when the database runs on
    # this host (None: left alone). Only the print process sets it, for its render server: the
    # printed page's queries then yield the cores to the interactive workers' queries, as the
    # print process's own threads do. Never read from the environment.
    db_backend_nice: int | None = None
    # Reverse proxies in front of the server whose X-Forwarded-For/-Proto are trusted (0: none;
    # 1 behind one nginx): HTTPS is then known (HSTS, Secure cookies) and the client's address.
    trusted_proxies: int = 0
    # The data-quality review (/calidad): WHO DQR defaults, see dashboard.quality.ReviewRules.
    dqr: ReviewRules = ReviewRules()
    # Development only: Dash dev tools and hot reload (never in production).
    debug: bool = False
    # Largest file an import reads (command line and /importar), refused before parsing.
    import_max_bytes: int = 100 * 1024 * 1024
    # FHIR identifier systems whose values are org-unit codes (facility registry, INE
    # district, ISO 3166-2 region, ISO 3166 country), comma-separated in the environment.
    fhir_org_systems: tuple[str, ...] = DEFAULT_ORG_SYSTEMS
    # Read API (/api/v1): requests per personal access token per minute.
    api_rate_per_minute: int = 120
    # Equidad: people one USF is meant to serve, and where that norm comes from (None: the
    # built-in MSPBS design figure and its source, dashboard.equity.USF_NORM_SOURCE).
    usf_norm: float = 5000.0
    usf_norm_source: str | None = None

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
            dq_completeness=float(env.get("DASHBOARD_DQ_COMPLETENESS", "90")),
            small_denominator=int(env.get("DASHBOARD_SMALL_DENOMINATOR", "100")),
            dq_outlier_share=float(env.get("DASHBOARD_DQ_OUTLIER_SHARE", "5")),
            population_rule=env.get("DASHBOARD_POPULATION_ROLLUP", "parts") or "parts",
            suppress_threshold=int(env.get("DASHBOARD_SUPPRESS_THRESHOLD", "4")),
            restricted_roles=frozenset(
                r.strip()
                for r in env.get("DASHBOARD_RESTRICTED_ROLES", "publico").split(",")
                if r.strip()
            ),
            secret_key=env.get("DASHBOARD_SECRET_KEY") or None,
            redis_url=env.get("DASHBOARD_REDIS_URL") or None,
            public_access=env.get("DASHBOARD_PUBLIC_ACCESS", "") in ("1", "true", "yes"),
            session_idle_minutes=int(env.get("DASHBOARD_SESSION_IDLE_MINUTES", "60")),
            session_max_hours=int(env.get("DASHBOARD_SESSION_MAX_HOURS", "12")),
            statement_timeout_s=float(env.get("DASHBOARD_STATEMENT_TIMEOUT", "15")),
            pool_timeout_s=float(env.get("DASHBOARD_POOL_TIMEOUT", "10")),
            sqlite_busy_timeout_s=float(env.get("DASHBOARD_SQLITE_BUSY_TIMEOUT", "5")),
            max_body_bytes=int(env.get("DASHBOARD_MAX_BODY", "1000000")),
            internal_url=(env.get("DASHBOARD_INTERNAL_URL") or "").rstrip("/") or None,
            pdf_concurrency=max(1, int(env.get("DASHBOARD_PDF_CONCURRENCY", "1"))),
            pdf_queue=max(0, int(env.get("DASHBOARD_PDF_QUEUE", "1"))),
            pdf_queue_timeout_s=float(env.get("DASHBOARD_PDF_QUEUE_TIMEOUT", "1")),
            pdf_host_concurrency=max(1, int(env.get("DASHBOARD_PDF_HOST_CONCURRENCY", "1"))),
            pdf_priority=env.get("DASHBOARD_PDF_PRIORITY", "idle") or "idle",
            trusted_proxies=max(0, int(env.get("DASHBOARD_TRUSTED_PROXIES", "0"))),
            debug=env.get("DASHBOARD_DEBUG", "") in ("1", "true", "yes"),
            import_max_bytes=int(float(env.get("DASHBOARD_IMPORT_MAX_MB", "100")) * 1024 * 1024),
            fhir_org_systems=tuple(
                s.strip() for s in env.get("DASHBOARD_FHIR_ORG_SYSTEMS", "").split(",") if s.strip()
            )
            or DEFAULT_ORG_SYSTEMS,
            api_rate_per_minute=max(1, int(env.get("DASHBOARD_API_RATE", "120"))),
            dqr=ReviewRules(
                completeness=float(env.get("DASHBOARD_DQR_COMPLETENESS", "90")),
                timeliness=float(env.get("DASHBOARD_DQR_TIMELINESS", "75")),
                moderate_z=float(env.get("DASHBOARD_DQR_OUTLIER_MODERATE", "3.5")),
                extreme_z=float(env.get("DASHBOARD_DQR_OUTLIER_EXTREME", "5")),
                consistency=float(env.get("DASHBOARD_DQR_CONSISTENCY", "33")),
                dropout=float(env.get("DASHBOARD_DQR_DROPOUT", "0")),
                denominator=float(env.get("DASHBOARD_DQR_DENOMINATOR", "10")),
            ),
            usf_norm=float(env.get("DASHBOARD_USF_NORM", "5000")),
            usf_norm_source=env.get("DASHBOARD_USF_NORM_SOURCE") or None,
        )

    def quality_rules(self) -> QualityRules:
        """The thresholds of the data-quality marks."""
        return QualityRules(
            completeness=self.dq_completeness,
            small_count=self.small_count,
            small_denominator=self.small_denominator,
            outlier_share=self.dq_outlier_share,
        )

    def current_date(self) -> date:
        return self.today or date.today()
