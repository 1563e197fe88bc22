"""The audit log: sign-ins, failed sign-ins, sign-outs, exports, imports and account changes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from .db import audit_log

ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "export",
    "import",
    "account_add",
    "account_disable",
    "account_enable",
    "account_set_role",
    "account_reset_password",
    "token_create",
    "token_revoke",
)


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    actor: str | None
    action: str
    detail: dict[str, Any]
    ip: str | None


def record(
    conn: Connection | Engine,
    action: str,
    actor: str | None,
    detail: dict[str, Any] | None = None,
    *,
    ip: str | None = None,
    at: datetime | None = None,
) -> None:
    """One line of the log, in the caller's transaction when given a connection. Never pass a
    password or a token in `detail`."""
    if action not in ACTIONS:  # a typo would write a line nobody ever finds
        raise ValueError(f"unknown audit action {action!r}")
    values = {
        "at": at or datetime.now(UTC).replace(tzinfo=None),
        "actor": (actor or None) and actor[:254],
        "action": action,
        "detail": json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
        "ip": (ip or None) and ip[:64],
    }
    if isinstance(conn, Engine):
        with conn.begin() as c:
            c.execute(insert(audit_log).values(**values))
    else:
        conn.execute(insert(audit_log).values(**values))


def entries(engine: Engine, since: datetime | None = None, limit: int | None = None) -> list[Entry]:
    """Newest first."""
    q = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
    if since is not None:
        q = q.where(audit_log.c.at >= since)
    if limit is not None:
        q = q.limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [
        Entry(
            id=r.id,
            at=r.at,
            actor=r.actor,
            action=r.action,
            detail=json.loads(r.detail or "{}"),
            ip=r.ip,
        )
        for r in rows
    ]
