"""Sign-in lock-out: after N failures within a window the key is locked until the window ends.

In memory for one process; through Redis when several workers must share the count."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger("dashboard")
MAX_FAILURES = 5
WINDOW_S = 15 * 60


def _key(text: str) -> str:
    # E-mail addresses are not stored in the clear in Redis or in memory dumps.
    return hashlib.sha256(text.strip().lower().encode()).hexdigest()[:32]


class Limiter(Protocol):
    def locked(self, key: str) -> bool: ...

    def fail(self, key: str) -> int: ...

    def reset(self, key: str) -> None: ...


class MemoryLimiter:
    """Failures per key in this process; the window restarts at the failure that locks."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[int, float]] = {}  # key -> (failures, expires at)

    def _get(self, k: str) -> int:
        count, expires = self._seen.get(k, (0, 0.0))
        if expires <= self.clock():
            self._seen.pop(k, None)
            return 0
        return count

    def locked(self, key: str) -> bool:
        with self._lock:
            return self._get(_key(key)) >= self.max_failures

    def fail(self, key: str) -> int:
        k = _key(key)
        with self._lock:
            count = self._get(k) + 1
            expires = self._seen.get(k, (0, 0.0))[1]
            if count == 1 or count >= self.max_failures:
                expires = self.clock() + self.window_s
            self._seen[k] = (count, expires)
            if len(self._seen) > 100_000:  # an attacker cycling names must not fill memory
                now = self.clock()
                self._seen = {a: b for a, b in self._seen.items() if b[1] > now}
            return count

    def reset(self, key: str) -> None:
        with self._lock:
            self._seen.pop(_key(key), None)


class RedisLimiter:
    """The same rule with the count in Redis (INCR + EXPIRE), shared by every worker. While
    Redis is unreachable each process counts on its own (sign-in keeps working, still limited)."""

    def __init__(
        self,
        client: Any,
        prefix: str = "dashboard:login:",
        max_failures: int = MAX_FAILURES,
        window_s: int = WINDOW_S,
    ):
        self.client = client
        self.prefix = prefix
        self.max_failures = max_failures
        self.window_s = window_s
        self.fallback = MemoryLimiter(max_failures, window_s)

    def _k(self, key: str) -> str:
        return self.prefix + _key(key)

    def locked(self, key: str) -> bool:
        try:
            value = self.client.get(self._k(key))
        except Exception as exc:  # redis.RedisError and socket errors alike
            log.warning("sign-in limiter: Redis unavailable (%s); counting in memory", exc)
            return self.fallback.locked(key)
        return int(value or 0) >= self.max_failures or self.fallback.locked(key)

    def fail(self, key: str) -> int:
        try:
            return self._fail(key)
        except Exception as exc:
            log.warning("sign-in limiter: Redis unavailable (%s); counting in memory", exc)
            return self.fallback.fail(key)

    def _fail(self, key: str) -> int:
        k = self._k(key)
        pipe = self.client.pipeline()
        pipe.incr(k)
        pipe.ttl(k)
        count, ttl = pipe.execute()
        if count == 1 or count >= self.max_failures or ttl is None or ttl < 0:
            self.client.expire(k, self.window_s)
        return int(count)

    def reset(self, key: str) -> None:
        self.fallback.reset(key)
        try:
            self.client.delete(self._k(key))
        except Exception as exc:
            log.warning("sign-in limiter: Redis unavailable (%s)", exc)


def make_limiter(redis_url: str | None, prefix: str = "dashboard:login:") -> Limiter:
    if redis_url:
        import redis

        return RedisLimiter(redis.Redis.from_url(redis_url), prefix=prefix)
    return MemoryLimiter()
