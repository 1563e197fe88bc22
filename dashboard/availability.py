"""Is the database there, and why did a query fail: answers the web layer turns into a
friendly message, a 503 or a readiness probe, without ever showing a driver's error."""

from __future__ import annotations

import threading
from typing import Literal

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import Engine

Failure = Literal["timeout", "unavailable"]

# PostgreSQL: query_canceled (statement_timeout) and lock_not_available (lock_timeout).
_TIMEOUT_SQLSTATES = {"57014", "55P03"}


def classify(error: BaseException) -> Failure | None:
    """'timeout' for a query cancelled by its deadline or a lock (or no free pooled connection),
    'unavailable' for a database that cannot be reached; None for anything else (a bug)."""
    if isinstance(error, sa_exc.TimeoutError):  # the connection pool stayed empty
        return "timeout"
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    orig = error.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in _TIMEOUT_SQLSTATES:
        return "timeout"
    message = str(orig).lower()
    if "interrupted" in message or "database is locked" in message:
        return "timeout"
    if isinstance(error, sa_exc.OperationalError) or error.connection_invalidated:
        return "unavailable"
    if isinstance(error, sa_exc.InterfaceError):
        return "unavailable"
    return None


class Probe:
    """Readiness: one `SELECT 1` at a time, answered within a deadline. A probe still stuck
    (a database that accepts connections but never answers) makes the next ones say no at once
    instead of piling up threads."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._busy = threading.Lock()

    def ready(self, deadline_s: float = 1.5) -> bool:
        if not self._busy.acquire(blocking=False):
            return False
        result: list[bool] = []

        def run() -> None:
            try:
                with self.engine.connect() as conn:
                    conn.execute(text("SELECT 1")).scalar()
                result.append(True)
            except Exception:
                result.append(False)
            finally:
                self._busy.release()

        threading.Thread(target=run, name="readyz-probe", daemon=True).start()
        # Waiting on the lock, not the list, so a finished probe answers at once.
        if self._busy.acquire(timeout=deadline_s):
            self._busy.release()
        return bool(result and result[0])
