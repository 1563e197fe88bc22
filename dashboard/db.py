"""Database schema (SQLAlchemy Core), engine factory and Alembic migration runner."""

from __future__ import annotations

import ipaddress
import logging
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

# Country (level 0) -> 18 health regions (1) -> 263 districts (2) -> facilities (3).
# region_id / district_id are denormalised ancestors so that rollups need no recursion.
org_unit = Table(
    "org_unit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("level", SmallInteger, nullable=False),
    Column("parent_id", Integer, ForeignKey("org_unit.id")),
    Column("region_id", Integer),
    Column("district_id", Integer),
    Column("region_number", SmallInteger),
    Column("facility_type", String(8)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("beds", Integer),
    Column("catchment_population", Integer),
    Column("opened", Date),
    Column("closed", Date),
)

# kind: 'count' (reported monthly by facilities), 'population' (stock by org unit and year),
# 'derived' (computed by the rollup: reporting and data-quality counts).
data_element = Table(
    "data_element",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("name_es", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("description", Text),
)

indicator = Table(
    "indicator",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("domain", String(16), nullable=False),
    Column("sort", Integer, nullable=False, default=0),
    Column("name_es", String(200), nullable=False),
    Column("name_en", String(200), nullable=False),
    Column("definition_es", Text),
    Column("definition_en", Text),
    Column("numerator", Text, nullable=False),
    Column("denominator", Text, nullable=False),
    Column("factor", Float, nullable=False),
    Column("unit_es", String(60)),
    Column("unit_en", String(60)),
    Column("decimals", SmallInteger, nullable=False, default=1),
    Column("direction", String(8), nullable=False),
    Column("facility_types", String(60), nullable=False, default=""),
    Column("target", Float),
    Column("near", Float),
    Column("band_low", Float),
    Column("band_high", Float),
    Column("target_source", Text),
)

# Overrides of an indicator's target per region/district/facility and/or year.
target_override = Table(
    "target_override",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("indicator_id", Integer, ForeignKey("indicator.id"), nullable=False),
    Column("org_unit_id", Integer, ForeignKey("org_unit.id")),
    Column("year", SmallInteger),
    Column("target", Float),
    Column("near", Float),
    Column("band_low", Float),
    Column("band_high", Float),
    Column("source", Text),
    UniqueConstraint("indicator_id", "org_unit_id", "year", name="uq_target_override"),
)

# The SDG 3 indicator an indicator tracks and its 2030 target (one mapping per indicator).
sdg_target = Table(
    "sdg_target",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("indicator_id", Integer, ForeignKey("indicator.id"), nullable=False, unique=True),
    Column("sdg", String(16), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("target_2030", Float),
    Column("reduction", Float),
    Column("baseline_year", SmallInteger),
    Column("source", Text),
)

import_batch = Table(
    "import_batch",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(400), nullable=False),
    Column("format", String(40), nullable=False),
    Column("imported_at", DateTime, nullable=False),
    Column("rows", Integer, nullable=False, default=0),
    Column("inserted", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
)

data_value = Table(
    "data_value",
    metadata,
    Column("org_unit_id", Integer, nullable=False),
    Column("data_element_id", Integer, nullable=False),
    Column("month", Integer, nullable=False),
    Column("value", Float, nullable=False),
    Column("batch_id", Integer, nullable=False),
    # Month before element: a facility's months are contiguous for profiles and scorecards.
    PrimaryKeyConstraint("org_unit_id", "month", "data_element_id", name="pk_data_value"),
    sqlite_with_rowid=False,
)

# Every value an import changed: the audit trail of corrections.
value_change = Table(
    "value_change",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", Integer, nullable=False),
    Column("org_unit_id", Integer, nullable=False),
    Column("data_element_id", Integer, nullable=False),
    Column("month", Integer, nullable=False),
    Column("old_value", Float, nullable=False),
    Column("new_value", Float, nullable=False),
)

# A count a facility reported for a whole quarter ('Q', 20253) or year ('Y', 2025), as FHIR and
# ADX reports may be: it cannot be split into months, so it is kept as reported and rolled up
# only into the quarter and year rows that contain its whole span (as DHIS2 aggregates a
# longer period type, never a shorter one). A facility and element never hold both a span value
# and a monthly value inside it (the importer refuses the second): it would count twice.
data_value_span = Table(
    "data_value_span",
    metadata,
    Column("org_unit_id", Integer, nullable=False),
    Column("data_element_id", Integer, nullable=False),
    Column("grain", String(1), nullable=False),
    Column("period", Integer, nullable=False),
    Column("value", Float, nullable=False),
    Column("batch_id", Integer, nullable=False),
    PrimaryKeyConstraint(
        "org_unit_id", "data_element_id", "grain", "period", name="pk_data_value_span"
    ),
    # An import checks and refreshes whole calendar years.
    Index("ix_data_value_span_period", "grain", "period"),
    sqlite_with_rowid=False,
)

# Every quarter or year value an import changed (value_change's twin).
value_change_span = Table(
    "value_change_span",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", Integer, nullable=False),
    Column("org_unit_id", Integer, nullable=False),
    Column("data_element_id", Integer, nullable=False),
    Column("grain", String(1), nullable=False),
    Column("period", Integer, nullable=False),
    Column("old_value", Float, nullable=False),
    Column("new_value", Float, nullable=False),
)

population = Table(
    "population",
    metadata,
    Column("org_unit_id", Integer, nullable=False),
    Column("data_element_id", Integer, nullable=False),
    Column("year", SmallInteger, nullable=False),
    Column("value", Float, nullable=False),
    # 1: a figure the product (or the ministry) estimated, not an official one (census).
    Column("estimated", SmallInteger, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("org_unit_id", "data_element_id", "year", name="pk_population"),
    sqlite_with_rowid=False,
)

# One monthly report per facility: expected (active that month) and when it arrived.
report = Table(
    "report",
    metadata,
    Column("org_unit_id", Integer, nullable=False),
    Column("month", Integer, nullable=False),
    Column("expected", SmallInteger, nullable=False, default=1),
    Column("received_on", Date),
    PrimaryKeyConstraint("org_unit_id", "month", name="pk_report"),
    Index("ix_report_month", "month", "org_unit_id", "received_on"),
)

# Analytics rollups, columnar: one row per org unit × facility type × period holding the sums of
# every data element as a sparse vector (uint16 element ids, then float64 sums). Grains: months
# ('M', 202409), quarters ('Q', 20243) and years ('Y', 2024); facilities carry ftype '*', districts,
# regions and the country one row per facility type and one for all types ('*'). Reporting and
# data-quality counts (REP_*, DQ_*) are computed into the same vectors.
rollup = Table(
    "rollup",
    metadata,
    Column("org_unit_id", Integer, nullable=False),
    Column("ftype", String(8), nullable=False),
    Column("grain", String(1), nullable=False),
    Column("period", Integer, nullable=False),
    Column("vals", LargeBinary, nullable=False),
    PrimaryKeyConstraint("org_unit_id", "ftype", "grain", "period", name="pk_rollup"),
    # An import refreshes whole calendar years: find their rows without a table scan.
    Index("ix_rollup_period", "grain", "period"),
    sqlite_with_rowid=False,
)

# Months with a received (expected) report per facility and year, as 12 bits (January = bit 0):
# "facilities reporting" over any span is then a count of masks, not a scan of monthly reports.
report_mask = Table(
    "report_mask",
    metadata,
    Column("org_unit_id", Integer, nullable=False),
    Column("year", SmallInteger, nullable=False),
    Column("mask", Integer, nullable=False),
    PrimaryKeyConstraint("org_unit_id", "year", name="pk_report_mask"),
    sqlite_with_rowid=False,
)

# The data-quality review's tracer series: per calendar year and tracer element, the facilities
# with a monthly value that year (`ids`, int64) and their 12 months (`vals`, float64, NaN where
# none), so scoring a year of every facility's months reads a few blobs, not a row per
# facility-month (rollups.series_rows; rebuilt with the rollup of that year).
dq_series = Table(
    "dq_series",
    metadata,
    Column("year", SmallInteger, nullable=False),
    Column("data_element_id", Integer, nullable=False),
    Column("ids", LargeBinary, nullable=False),
    Column("vals", LargeBinary, nullable=False),
    PrimaryKeyConstraint("year", "data_element_id", name="pk_dq_series"),
)

# Resolved populations for every org unit (rollups.population_rows says which figure wins).
agg_population = Table(
    "agg_population",
    metadata,
    Column("org_unit_id", Integer, nullable=False),
    Column("data_element_id", Integer, nullable=False),
    Column("ftype", String(8), nullable=False),
    Column("year", SmallInteger, nullable=False),
    Column("value", Float, nullable=False),
    # 1: the value rests on at least one estimated figure.
    Column("estimated", SmallInteger, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint(
        "org_unit_id", "data_element_id", "ftype", "year", name="pk_agg_population"
    ),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text),
)

# Sign-in accounts. role: nacional, regional, distrital, analista, admin (dashboard.accounts);
# region/district are org-unit codes that bound what the account sees.
account = Table(
    "account",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("region", String(32)),
    Column("district", String(32)),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("last_login", DateTime),
)

# Server-side sessions: the cookie holds a random token, the table only its SHA-256, so a
# leaked table does not sign anyone in; deleting the row signs the browser out.
auth_session = Table(
    "auth_session",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", Integer, ForeignKey("account.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
    Index("ix_auth_session_account", "account_id"),
)

# Personal access tokens of the read API (/api/v1): like sessions, only the SHA-256 of the
# token is stored; a token acts with its account's current scope, until it expires or is revoked.
api_token = Table(
    "api_token",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("account.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    Column("last_used", DateTime),
    Index("ix_api_token_account", "account_id"),
)

# Who did what: sign-ins (and failures), sign-outs, exports, imports, account changes.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(254)),
    Column("action", String(40), nullable=False),
    Column("detail", Text),
    Column("ip", String(64)),
    Index("ix_audit_log_at", "at"),
)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(
    url: str,
    *,
    statement_timeout_s: float | None = None,
    pool_timeout_s: float | None = None,
    busy_timeout_s: float = 5.0,
    connect_timeout_s: int = 5,
    backend_nice: int | None = None,
) -> Engine:
    """Engine for SQLite (file created on first use) or PostgreSQL (psycopg 3).

    The web server passes a statement timeout so that one slow or blocked query (a lock held
    by an import) is cancelled and frees its thread; the CLI's long rollup refreshes pass none.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": busy_timeout_s}
    else:
        connect: dict[str, Any] = {"connect_timeout": max(2, int(connect_timeout_s))}
        if statement_timeout_s:
            connect["options"] = f"-c statement_timeout={int(statement_timeout_s * 1000)}"
        kwargs["connect_args"] = connect
        # A connection left over from before a database restart is replaced, not handed out.
        kwargs["pool_pre_ping"] = True
        if pool_timeout_s is not None:
            kwargs["pool_timeout"] = pool_timeout_s
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()

        if statement_timeout_s:
            _sqlite_statement_timeout(engine, statement_timeout_s)
    elif backend_nice is not None:
        _nice_backends(engine, backend_nice)
    return engine


def _nice_backends(engine: Engine, nice: int) -> None:
    """Renice each new connection's PostgreSQL server process, when it runs on this host and
    this process may (root, or the same user); otherwise leave it, and say so once. Niceness,
    not SCHED_IDLE: a backend starved outright while holding a lock would stall the others."""
    told: list[bool] = []

    @event.listens_for(engine, "connect")
    def _renice(dbapi_conn, _record):  # noqa: ANN001
        cur = dbapi_conn.cursor()
        try:
            cur.execute("SELECT pg_backend_pid(), host(inet_server_addr())")
            pid, addr = cur.fetchone()
        finally:
            cur.close()
            dbapi_conn.rollback()
        why = renice_backend(int(pid), addr, nice)
        if why and not told:
            told.append(True)
            logging.getLogger(__name__).info("database sessions keep their priority: %s", why)


def renice_backend(pid: int, server_addr: str | None, nice: int) -> str | None:
    """Set the niceness of PostgreSQL server process `pid`; the reason it was not done, or
    None. Only over a Unix socket or loopback, and only a process that is PostgreSQL's on this
    host: in another PID namespace the number could name anything."""
    if server_addr is not None and not ipaddress.ip_address(server_addr).is_loopback:
        return f"the database is on another host ({server_addr})"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            command = f.read()
        if b"postgres" not in command:
            return f"process {pid} here is not PostgreSQL's"
        os.setpriority(os.PRIO_PROCESS, pid, max(nice, os.getpriority(os.PRIO_PROCESS, pid)))
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _sqlite_statement_timeout(engine: Engine, seconds: float) -> None:
    """SQLite has no statement_timeout: a progress handler interrupts a statement that runs
    past its deadline (sqlite3 raises OperationalError 'interrupted')."""

    @event.listens_for(engine, "connect")
    def _install(dbapi_conn, record):  # noqa: ANN001
        deadline = [float("inf")]
        record.info["deadline"] = deadline
        dbapi_conn.set_progress_handler(lambda: int(time.monotonic() > deadline[0]), 20_000)

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn, *_args):  # noqa: ANN001
        deadline = conn.connection.info.get("deadline")
        if deadline is not None:
            deadline[0] = time.monotonic() + seconds


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision this code knows."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg).get_current_head()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (creates it on an empty database)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
