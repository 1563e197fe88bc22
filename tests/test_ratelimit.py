"""Sign-in lock-out: five failures lock the name for fifteen minutes, in memory or in Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from dashboard.ratelimit import MemoryLimiter, RedisLimiter

REDIS_URL = os.environ.get("DASHBOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/3")


class Clock:
    t = 1000.0

    def __call__(self):
        return self.t


def test_memory_limiter_locks_after_five_failures_for_the_window():
    clock = Clock()
    lim = MemoryLimiter(max_failures=5, window_s=900, clock=clock)
    for _ in range(4):
        lim.fail("Ana@x.org")
    assert not lim.locked("ana@x.org")
    lim.fail("ana@x.org ")
    assert lim.locked("ANA@x.org")
    assert not lim.locked("other@x.org")
    clock.t += 899
    assert lim.locked("ana@x.org")
    clock.t += 2
    assert not lim.locked("ana@x.org")


def test_memory_limiter_reset_after_success():
    lim = MemoryLimiter()
    for _ in range(4):
        lim.fail("a@x.org")
    lim.reset("a@x.org")
    lim.fail("a@x.org")
    assert not lim.locked("a@x.org")


@pytest.fixture
def redis_client():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"test-ratelimit-{uuid.uuid4().hex}:"
    yield client, prefix
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)


def test_redis_limiter_is_shared_between_workers(redis_client):
    client, prefix = redis_client
    worker_a = RedisLimiter(client, prefix=prefix)
    worker_b = RedisLimiter(client, prefix=prefix)
    for i in range(5):
        (worker_a if i % 2 else worker_b).fail("a@x.org")
    assert worker_a.locked("a@x.org") and worker_b.locked("A@x.org")
    [key] = list(client.scan_iter(prefix + "*"))
    assert b"a@x.org" not in key  # names are hashed
    assert 890 < client.ttl(key) <= 900
    worker_b.reset("a@x.org")
    assert not worker_a.locked("a@x.org")


def test_redis_limiter_counts_in_memory_while_redis_is_down():
    redis = pytest.importorskip("redis")
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    lim = RedisLimiter(client, prefix="unused:")
    for _ in range(5):
        lim.fail("a@x.org")
    assert lim.locked("a@x.org")
    lim.reset("a@x.org")
    assert not lim.locked("a@x.org")
