"""The per-process authentication service: key cache, sessions, rate limiter, password hasher.

Built once by :func:`crossdock.gateway.http.app.create_app` (``app.state.auth``) and used by the
guards. Key lookups are cached for ``auth.key_cache_s`` (a revocation made in this process
clears the cache at once; other processes see it within that time).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Engine

from crossdock.gateway.audit import record_audit
from crossdock.gateway.auth.keys import KeyMatch, lookup_key, touch_key
from crossdock.gateway.auth.principal import Principal
from crossdock.gateway.auth.ratelimit import RateLimiter, build_rate_limiter
from crossdock.gateway.auth.sessions import session_principal
from crossdock.gateway.auth.users import password_hasher
from crossdock.gateway.settings import Settings

__all__ = ["AuthService", "build_auth"]


@dataclass
class AuthService:
    """Authentication state of one process.

    Attributes:
        engine: the database.
        settings: the whole settings tree (auth section, HTTP limits, mode).
        hasher: argon2id password hasher.
        limiter: request rate limiter.
        clock: epoch seconds (tests inject one).
    """

    engine: Engine
    settings: Settings
    hasher: PasswordHasher
    limiter: RateLimiter
    clock: Callable[[], float] = time.time
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _keys: dict[str, tuple[float, KeyMatch | None]] = field(default_factory=dict, repr=False)

    @property
    def cookie_secure(self) -> bool:
        configured = self.settings.auth.cookie_secure
        return self.settings.mode == "production" if configured is None else configured

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def cached_key(self, key: str) -> tuple[bool, KeyMatch | None]:
        """``(True, match)`` while ``key``'s lookup is cached, else ``(False, None)``; no I/O.

        The guards call this on the event loop, so a cached key costs no hop to a worker thread.
        """
        with self._lock:
            hit = self._keys.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def key(self, key: str) -> KeyMatch | None:
        """The key's match (cached); refreshing the cache also records the key's last use."""
        cached, match = self.cached_key(key)
        if cached:
            return match
        now = time.monotonic()
        with self.engine.connect() as conn:
            match = lookup_key(conn, key)
        if match is not None and not match.revoked:
            with self.engine.begin() as conn:
                touch_key(conn, match.id, self.now())
        with self._lock:
            if len(self._keys) > 10_000:
                self._keys.clear()
            self._keys[key] = (now + self.settings.auth.key_cache_s, match)
        return match

    def forget_keys(self) -> None:
        """Drop cached key lookups (after a revocation or a partner change in this process)."""
        with self._lock:
            self._keys.clear()

    def session(self, token: str) -> Principal | None:
        with self.engine.connect() as conn:
            return session_principal(conn, token, self.now())

    def audit(self, kind: str, **fields: Any) -> None:
        """Record one audit row in its own transaction (for events outside any other write)."""
        with self.engine.begin() as conn:
            record_audit(conn, kind, at=self.now(), **fields)


def build_auth(engine: Engine, settings: Settings, *, clock: Callable[[], float] = time.time) -> AuthService:
    """Assemble the service from settings (Redis-backed rate limits in production mode)."""
    limiter = build_rate_limiter(settings.redis_url, settings.redis_namespace)
    return AuthService(engine, settings, password_hasher(settings.auth), limiter, clock)
