"""The in-memory twin: records what would have been sent and answers from a script."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable

from .base import DeliveryResult, OutboundDelivery, classify_http_status

__all__ = ["MemoryTransport"]


class MemoryTransport:
    """A transport for tests that keeps every attempt in memory.

    Each ``send`` consumes the next scripted answer: an HTTP status (classified exactly as the
    webhook classifies it) or a ready :class:`DeliveryResult`. Once the script runs out, every
    send is delivered with status 200. Like a well-behaved receiver it drops duplicates by
    ``idempotency_key``, so :attr:`received` shows what the partner ended up with.

    Args:
        script: answers for the first sends, in order.
    """

    def __init__(self, script: Iterable[int | DeliveryResult] = ()) -> None:
        self._script: deque[int | DeliveryResult] = deque(script)
        self._lock = threading.Lock()
        self._attempts: list[OutboundDelivery] = []
        self._received: dict[str, OutboundDelivery] = {}
        self.closed = False

    @classmethod
    def failing(cls, times: int, status: int = 503) -> MemoryTransport:
        """A transport whose first ``times`` sends answer ``status``, then succeed."""
        return cls([status] * times)

    @property
    def attempts(self) -> tuple[OutboundDelivery, ...]:
        """Every delivery passed to :meth:`send`, duplicates and failures included."""
        with self._lock:
            return tuple(self._attempts)

    @property
    def received(self) -> tuple[OutboundDelivery, ...]:
        """Deliveries accepted, one per idempotency key, in the order first accepted."""
        with self._lock:
            return tuple(self._received.values())

    def send(self, delivery: OutboundDelivery) -> DeliveryResult:
        """Record the attempt and answer with the next scripted result."""
        with self._lock:
            self._attempts.append(delivery)
            answer = self._script.popleft() if self._script else 200
            result = answer if isinstance(answer, DeliveryResult) else _from_status(answer)
            if result.outcome == "delivered":
                self._received.setdefault(delivery.idempotency_key, delivery)
            return result

    def close(self) -> None:
        """Mark the transport closed (tests can assert the caller closed it)."""
        self.closed = True


def _from_status(status: int) -> DeliveryResult:
    outcome, code = classify_http_status(status)
    return DeliveryResult(outcome=outcome, status_code=status, detail=f"HTTP {status}", error_code=code)
