"""Outbound transports: one narrow interface, several ways to hand bytes to a partner.

The contract (``base``)::

    delivery = OutboundDelivery(delivery_id=..., partner_id=..., payload=b"...",
                                content_type="application/edi-x12", filename_hint=None,
                                idempotency_key=..., metadata={"Document-Type": "855"})
    result = transport.send(delivery)      # -> DeliveryResult, never raises for remote problems
    transport.close()                      # or: with contextlib.closing(transport): ...

``DeliveryResult.outcome`` tells the caller what to do:

- ``delivered``: record it, done.
- ``retry``: transient (timeout, refused connection, HTTP 408/429/5xx, full disk); wait
  ``backoff_schedule(attempt, base_s, cap_s, jitter)`` seconds, or ``retry_after_s`` when the
  receiver sent ``Retry-After``, then send the *same* delivery again (same ``delivery_id`` and
  ``idempotency_key``). After the caller's last attempt it becomes a failure.
- ``failed``: permanent (other 4xx, bad URL, permissions, conflicting content); retrying the
  same bytes will not help, an operator replays after a fix.

``error_code`` is stable (``DeliveryErrorCode`` members, or ``HTTP_STATUS_<n>``); ``detail`` is a
short sentence without payload; ``duration_ms`` times the attempt. Delivery is at-least-once: a
crash between ``send`` and recording the result re-sends, and receivers dedupe on
``Idempotency-Key`` (the webhook) or the delivery id (the directory).

Implementations, each configured by a frozen dataclass passed in (never read from the environment):

- ``WebhookTransport(WebhookConfig(url=..., secret=...), client=None, clock=time.time)``: signed
  HTTPS POST (``X-Crossdock-Signature: v1=<hex HMAC-SHA256 over "{timestamp}.{body}">``). A
  receiver checks it with ``verify_signature(secret, timestamp, body, header, now)``.
- ``DirectoryTransport(DirectoryConfig(directory=...))``: atomic, fsynced file drop named
  ``<delivery_id>.<ext>``; a periodic ``purge_stale_temp_files(directory, older_than_s, now)``
  removes temp files of writes a killed process never finished.
- ``MemoryTransport(script=())``: the in-memory twin for tests.

SFTP and AS2 are not built yet; they plug into the same ``Transport`` protocol (``send`` returns a
classified ``DeliveryResult``; an AS2 MDN maps onto ``delivered``/``failed``).
"""

from __future__ import annotations

from .backoff import backoff_schedule, parse_retry_after
from .base import (
    DeliveryErrorCode,
    DeliveryResult,
    OutboundDelivery,
    Outcome,
    Transport,
    classify_http_status,
    http_status_code,
)
from .directory import DirectoryConfig, DirectoryTransport, purge_stale_temp_files
from .memory import MemoryTransport
from .signing import sign, verify_signature
from .webhook import (
    HEADER_DELIVERY,
    HEADER_IDEMPOTENCY_KEY,
    HEADER_META_PREFIX,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    WebhookConfig,
    WebhookTransport,
)

__all__ = [
    "Transport",
    "OutboundDelivery",
    "DeliveryResult",
    "Outcome",
    "DeliveryErrorCode",
    "classify_http_status",
    "http_status_code",
    "WebhookConfig",
    "WebhookTransport",
    "DirectoryConfig",
    "DirectoryTransport",
    "purge_stale_temp_files",
    "MemoryTransport",
    "backoff_schedule",
    "parse_retry_after",
    "sign",
    "verify_signature",
    "HEADER_DELIVERY",
    "HEADER_IDEMPOTENCY_KEY",
    "HEADER_META_PREFIX",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
]
