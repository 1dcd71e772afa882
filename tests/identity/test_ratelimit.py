"""The rate limiter's window arithmetic, in memory and in the real Redis (shared by processes)."""

from __future__ import annotations

import uuid

import pytest

from crossdock.gateway.auth.ratelimit import Decision, MemoryRateLimiter, build_rate_limiter


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
