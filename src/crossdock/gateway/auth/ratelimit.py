"""Request rate limits per principal: a fixed window counter, in process or in Redis.

Decision: embedded mode (one process) counts in memory; production counts in Redis
(``INCR`` + ``EXPIRE`` on ``<namespace>:rl:<principal>:<window>``) so every API process shares
one budget. If Redis cannot be reached the request is allowed and a warning logged: the limiter
protects the gateway, it must not become the reason the gateway is down.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Protocol

import structlog

__all__ = ["Decision", "RateLimiter", "MemoryRateLimiter", "RedisRateLimiter", "build_rate_limiter"]

log = structlog.get_logger("crossdock.auth")


@dataclass(frozen=True, slots=True)
class Decision:
    """``allowed``; when not, ``retry_after_s`` until the window resets. ``first_refusal`` marks
    the first refused request of a window (the one worth an audit row)."""

    allowed: bool
    retry_after_s: float = 0.0
    first_refusal: bool = False


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, period_s: float, now: float) -> Decision: ...


def _window(now: float, period_s: float) -> tuple[int, float]:
    index = math.floor(now / period_s)
    return index, (index + 1) * period_s - now


class MemoryRateLimiter:
    """Counters in this process (embedded mode, tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, limit: int, period_s: float, now: float) -> Decision:
        index, remaining_s = _window(now, period_s)
        with self._lock:
            window, count = self._counts.get(key, (index, 0))
            count = count + 1 if window == index else 1
            self._counts[key] = (index, count)
            if len(self._counts) > 100_000:
                self._counts = {k: v for k, v in self._counts.items() if v[0] == index}
        if count <= limit:
            return Decision(True)
        return Decision(False, remaining_s, count == limit + 1)


class RedisRateLimiter:
    """Counters in Redis, shared by every API process (production)."""

    def __init__(self, client, namespace: str) -> None:
        self._client = client
        self._namespace = namespace

    def hit(self, key: str, limit: int, period_s: float, now: float) -> Decision:
        import redis

        index, remaining_s = _window(now, period_s)
        name = f"{self._namespace}:rl:{key}:{index}"
        try:
            pipe = self._client.pipeline()
            pipe.incr(name)
            pipe.expire(name, int(period_s) + 1)
            count = pipe.execute()[0]
        except redis.RedisError as exc:
            log.warning("rate limiter unavailable, allowing", error=type(exc).__name__)
            return Decision(True)
        if count <= limit:
            return Decision(True)
        return Decision(False, remaining_s, count == limit + 1)


def build_rate_limiter(redis_url: str | None, namespace: str) -> RateLimiter:
    """Redis-backed when ``redis_url`` is set (production), in memory otherwise."""
    if not redis_url:
        return MemoryRateLimiter()
    import redis

    return RedisRateLimiter(redis.Redis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0),
                            namespace)
