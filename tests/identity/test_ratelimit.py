"""The rate limiter's window arithmetic, in memory and in the real Redis (shared by processes)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from crossdock.gateway.auth.ratelimit import (
    LEASE_FRACTION,
    MAX_LEASE,
    Decision,
    MemoryRateLimiter,
    RedisRateLimiter,
    build_rate_limiter,
    lease_size,
)


def _hits(limiter, key: str, times: list[float]) -> list[Decision]:
    return [limiter.hit(key, 2, 60.0, now) for now in times]


def test_fixed_window_in_memory() -> None:
    decisions = _hits(MemoryRateLimiter(), "key:a", [600.0, 610.0, 615.0, 620.0, 660.0])
    assert decisions == [Decision(True), Decision(True), Decision(False, 45.0, True), Decision(False, 40.0, False),
                         Decision(True)]


@pytest.mark.services
def test_redis_counts_are_shared_between_limiters(redis_url: str) -> None:
    namespace = f"crossdock-test-{uuid.uuid4().hex[:8]}"
    first, second = build_rate_limiter(redis_url, namespace), build_rate_limiter(redis_url, namespace)
    assert [d.allowed for d in _hits(first, "key:b", [600.0, 601.0])] == [True, True]
    refused = second.hit("key:b", 2, 60.0, 602.0)  # another API process sees the same budget
    assert refused == Decision(False, 58.0, True)
    assert second.hit("key:b", 2, 60.0, 661.0).allowed


def test_redis_down_fails_open() -> None:
    limiter = build_rate_limiter("redis://127.0.0.1:1/0", "crossdock-test")
    assert limiter.hit("key:c", 1, 60.0, 0.0) == Decision(True)
    assert limiter.hit("key:c", 1, 60.0, 1.0) == Decision(True)


def test_lease_size_counts_small_limits_hit_by_hit() -> None:
    assert [lease_size(limit) for limit in (1, 2, LEASE_FRACTION * 2 - 1, LEASE_FRACTION * 4, 60_000)] == [
        1, 1, 1, 4, MAX_LEASE]


def _leasing(redis_url: str, namespace: str) -> RedisRateLimiter:
    return RedisRateLimiter(redis.Redis.from_url(redis_url), namespace, max_lease=4, lease_fraction=1)


@pytest.mark.services
def test_redis_leases_answer_in_memory_and_refuse_at_exactly_the_limit(redis_url: str) -> None:
    namespace = f"crossdock-test-{uuid.uuid4().hex[:8]}"
    limiter = _leasing(redis_url, namespace)
    assert limiter.hit_local("key:d", 10, 60.0, 600.0) is None  # nothing leased yet: ask Redis
    decisions = [limiter.hit_local("key:d", 10, 60.0, 600.0) or limiter.hit("key:d", 10, 60.0, 600.0)
                 for _ in range(12)]
    assert decisions == [Decision(True)] * 10 + [Decision(False, 60.0, True), Decision(False, 60.0, False)]
    count = redis.Redis.from_url(redis_url).get(f"{namespace}:rl:key:d:10")
    assert int(count) == 12  # what the leases did not use was given back: the count stays exact
    assert limiter.hit_local("key:d", 10, 60.0, 660.0) is None  # a lease never outlives its window


@pytest.mark.services
def test_redis_leases_never_let_processes_exceed_the_shared_limit(redis_url: str) -> None:
    namespace = f"crossdock-test-{uuid.uuid4().hex[:8]}"
    first, second = _leasing(redis_url, namespace), _leasing(redis_url, namespace)
    assert first.hit("key:e", 5, 60.0, 600.0).allowed  # leases 4: 1 used, 3 left in `first`
    assert second.hit("key:e", 5, 60.0, 600.0).allowed  # the one hit left of the budget
    assert second.hit("key:e", 5, 60.0, 600.0) == Decision(False, 60.0, True)
    assert [first.hit("key:e", 5, 60.0, 600.0).allowed for _ in range(4)] == [True, True, True, False]


@pytest.mark.services
def test_concurrent_requests_use_every_leased_hit_and_no_more(redis_url: str) -> None:
    namespace = f"crossdock-test-{uuid.uuid4().hex[:8]}"
    limiter = _leasing(redis_url, namespace)
    start = threading.Barrier(8)

    def requests() -> list[bool]:
        start.wait()  # the lease runs dry for several threads at once: none of their leases is lost
        return [(limiter.hit_local("key:f", 40, 60.0, 600.0) or limiter.hit("key:f", 40, 60.0, 600.0)).allowed
                for _ in range(10)]

    with ThreadPoolExecutor(8) as pool:
        allowed = [a for decisions in pool.map(lambda _: requests(), range(8)) for a in decisions]
    assert allowed.count(True) == 40
