"""Request rate limits per principal: a fixed window counter, in process or in Redis.

Decision: embedded mode (one process) counts in memory; production counts in Redis
(``INCRBY`` + ``EXPIRE`` on ``<namespace>:rl:<principal>:<window>``) so every API process shares
one budget. If Redis cannot be reached the request is allowed and a warning logged: the limiter
protects the gateway, it must not become the reason the gateway is down.

A Redis round trip per request costs the API more CPU than the request's own work, so a process
takes its budget in small leases: one ``INCRBY`` reserves up to :data:`MAX_LEASE` hits
(``limit // LEASE_FRACTION``, at least 1, so small limits are counted hit by hit), and the next
hits of that window are answered from the lease in memory (:meth:`RedisRateLimiter.hit_local`,
no I/O). The part of a lease beyond the limit is given back at once, so one process refuses at
exactly ``limit``; with several processes, hits leased but not yet used by the others (at most
``MAX_LEASE - 1`` each) may make a process refuse that much early, never let more through.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Protocol

import structlog

__all__ = ["Decision", "RateLimiter", "MemoryRateLimiter", "RedisRateLimiter", "build_rate_limiter", "lease_size",
           "MAX_LEASE", "LEASE_FRACTION"]

log = structlog.get_logger("crossdock.auth")
#: most hits one Redis round trip reserves for this process
MAX_LEASE = 32
#: a lease is at most this fraction of the limit (limits under 2 x this are counted hit by hit)
LEASE_FRACTION = 256


@dataclass(frozen=True, slots=True)
class Decision:
    """``allowed``; when not, ``retry_after_s`` until the window resets. ``first_refusal`` marks
    the first refused request of a window (the one worth an audit row)."""

    allowed: bool
    retry_after_s: float = 0.0
    first_refusal: bool = False


_ALLOWED = Decision(True)


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, period_s: float, now: float) -> Decision: ...

    def hit_local(self, key: str, limit: int, period_s: float, now: float) -> Decision | None:
        """The decision when it needs no I/O (safe on the event loop), else None: call :meth:`hit`."""
        ...


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
            return _ALLOWED
        return Decision(False, remaining_s, count == limit + 1)

    def hit_local(self, key: str, limit: int, period_s: float, now: float) -> Decision:
        """Counting in memory needs no I/O: always :meth:`hit`."""
        return self.hit(key, limit, period_s, now)


def lease_size(limit: int, max_lease: int = MAX_LEASE, fraction: int = LEASE_FRACTION) -> int:
    """Hits one Redis round trip reserves for a principal whose limit is ``limit``."""
    return max(1, min(max_lease, limit // fraction))


class RedisRateLimiter:
    """Counters in Redis, shared by every API process (production), taken in leases.

    Args:
        client: a redis-py client.
        namespace: key prefix shared by the processes of one deployment.
        max_lease: most hits per lease (1: a round trip per request).
        lease_fraction: a lease is at most ``limit // lease_fraction`` hits.
    """

    def __init__(self, client, namespace: str, *, max_lease: int = MAX_LEASE,
                 lease_fraction: int = LEASE_FRACTION) -> None:
        self._client = client
        self._namespace = namespace
        self._max_lease = max_lease
        self._lease_fraction = lease_fraction
        self._lock = threading.Lock()
        #: principal -> (window index, leased hits not used yet)
        self._leases: dict[str, tuple[int, int]] = {}

    def hit_local(self, key: str, limit: int, period_s: float, now: float) -> Decision | None:
        """Allowed from this process's lease for the current window, else None (ask Redis)."""
        index = math.floor(now / period_s)
        with self._lock:
            lease = self._leases.get(key)
            if lease is None or lease[0] != index or lease[1] <= 0:
                return None
            self._leases[key] = (index, lease[1] - 1)
        return _ALLOWED

    def hit(self, key: str, limit: int, period_s: float, now: float) -> Decision:
        import redis

        local = self.hit_local(key, limit, period_s, now)
        if local is not None:
            return local
        index, remaining_s = _window(now, period_s)
        name = f"{self._namespace}:rl:{key}:{index}"
        size = lease_size(limit, self._max_lease, self._lease_fraction)
        try:
            pipe = self._client.pipeline()
            pipe.incrby(name, size)
            pipe.expire(name, int(period_s) + 1)
            before = pipe.execute()[0] - size
            granted = max(0, min(size, limit - before))
            # What lies beyond the limit is given back (a refused hit keeps counting as one), so
            # the count stays exact and ``limit + 1`` still marks the first refusal.
            unused = size - max(granted, 1)
            if unused:
                self._client.decrby(name, unused)
        except redis.RedisError as exc:
            log.warning("rate limiter unavailable, allowing", error=type(exc).__name__)
            return _ALLOWED
        if granted:
            self._lease(key, index, granted - 1)
            return _ALLOWED
        return Decision(False, remaining_s, before == limit)

    def _lease(self, key: str, index: int, hits: int) -> None:
        """Add ``hits`` to the principal's lease (concurrent requests may each have taken one)."""
        with self._lock:
            held = self._leases.get(key)
            if held is not None and held[0] == index:
                hits += held[1]
            if len(self._leases) > 100_000:
                self._leases = {k: v for k, v in self._leases.items() if v[0] == index}
            self._leases[key] = (index, hits)


def build_rate_limiter(redis_url: str | None, namespace: str) -> RateLimiter:
    """Redis-backed when ``redis_url`` is set (production), in memory otherwise."""
    if not redis_url:
        return MemoryRateLimiter()
    import redis

    return RedisRateLimiter(redis.Redis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0),
                            namespace)
