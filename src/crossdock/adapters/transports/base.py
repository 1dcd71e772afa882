"""The transport contract: one delivery in, one classified result out.

A transport never raises for a remote problem (timeout, refused connection, HTTP 503, full
disk): it classifies it into a :class:`DeliveryResult` whose ``outcome`` tells the caller what to
do next. Exceptions are reserved for programming errors (an ill-formed :class:`OutboundDelivery`)
and for configuration errors found when a transport is built.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Literal, Protocol, runtime_checkable

from crossdock.schemas.errors import TransportTimeout

__all__ = [
    "Outcome",
    "DeliveryErrorCode",
    "OutboundDelivery",
    "DeliveryResult",
    "Transport",
    "classify_http_status",
    "http_status_code",
]

Outcome = Literal["delivered", "retry", "failed"]

# Header-safe values: visible ASCII and spaces, nothing that could split a header (CR, LF, NUL).
_HEADER_VALUE = re.compile(r"[\x20-\x7e]*")
_METADATA_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")
_MAX_HEADER_VALUE = 1024


class DeliveryErrorCode(StrEnum):
    """Stable codes a :class:`DeliveryResult` carries when it is not ``delivered``.

    HTTP statuses use the dynamic form ``HTTP_STATUS_<n>`` (see :func:`http_status_code`).
    """

    TRANSPORT_TIMEOUT = TransportTimeout.code
    CONNECTION_FAILED = "CONNECTION_FAILED"
    PROTOCOL_ERROR = "PROTOCOL_ERROR"
    URL_INVALID = "URL_INVALID"
    DISK_FULL = "DISK_FULL"
    IO_ERROR = "IO_ERROR"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    READ_ONLY_FILESYSTEM = "READ_ONLY_FILESYSTEM"
    DIRECTORY_MISSING = "DIRECTORY_MISSING"
    DELIVERY_ID_INVALID = "DELIVERY_ID_INVALID"
    DELIVERY_ID_CONFLICT = "DELIVERY_ID_CONFLICT"


def http_status_code(status: int) -> str:
    """The stable error code for an HTTP status, e.g. ``HTTP_STATUS_503``."""
    return f"HTTP_STATUS_{status}"


def classify_http_status(status: int) -> tuple[Outcome, str | None]:
    """Map an HTTP status to an outcome and error code.

    2xx is delivered; 408, 429 and 5xx are transient; every other status (3xx included: a
    webhook endpoint that redirects a POST is misconfigured) fails permanently.

    Args:
        status: the HTTP status code the receiver answered.

    Returns:
        ``(outcome, error_code)``; ``error_code`` is None when delivered.
    """
    if 200 <= status < 300:
        return "delivered", None
    if status in (408, 429) or 500 <= status < 600:
        return "retry", http_status_code(status)
    return "failed", http_status_code(status)


def _check_header_value(name: str, value: str) -> None:
    if len(value) > _MAX_HEADER_VALUE or not _HEADER_VALUE.fullmatch(value):
        raise ValueError(f"{name} must be printable ASCII of at most {_MAX_HEADER_VALUE} characters")


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundDelivery:
    """One payload to hand to a partner, as the deliver stage sees it.

    Attributes:
        delivery_id: our id of this outbound message; stable across attempts and replays.
        partner_id: the receiving partner (for the caller's bookkeeping; transports do not route on it).
        payload: the exact bytes to deliver (left out of ``repr`` so it never reaches a log).
        content_type: MIME type, e.g. ``application/edi-x12``.
        filename_hint: a suggested file name; untrusted, only its extension may be used.
        idempotency_key: lets the receiver drop a duplicate; equal on every attempt of one delivery.
        metadata: small header-safe facts (document type, control numbers) a transport may pass on;
            the webhook sends them as ``X-Crossdock-Meta-<key>`` headers.

    Raises:
        ValueError: when an id, the content type or metadata could not travel in a header.
    """

    delivery_id: str
    partner_id: str
    payload: bytes = field(repr=False)
    content_type: str
    filename_hint: str | None = None
    idempotency_key: str
    metadata: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not self.delivery_id:
            raise ValueError("delivery_id must not be empty")
        if not isinstance(self.payload, bytes):
            raise ValueError("payload must be bytes")
        if not self.idempotency_key or not self.content_type:
            raise ValueError("idempotency_key and content_type must not be empty")
        for name in ("delivery_id", "content_type", "idempotency_key"):
            _check_header_value(name, getattr(self, name))
        for key, value in self.metadata.items():
            if not _METADATA_KEY.fullmatch(key):
                raise ValueError(f"metadata key {key!r} must be letters, digits and dashes")
            _check_header_value(f"metadata[{key}]", value)
        # A read-only copy keeps the value object frozen even if the caller mutates its dict.
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryResult:
    """What one delivery attempt came to.

    Attributes:
        outcome: ``delivered``; ``retry`` (transient: try again later, see :func:`backoff_schedule`);
            ``failed`` (permanent: retrying the same bytes will not help).
        status_code: the HTTP status when there was one.
        detail: a short operator-facing sentence; never contains the payload.
        duration_ms: wall time of the attempt.
        error_code: a stable code (:class:`DeliveryErrorCode` or ``HTTP_STATUS_<n>``), None when delivered.
        retry_after_s: the receiver's ``Retry-After``, in seconds, when it sent one with a retry outcome.
    """

    outcome: Outcome
    status_code: int | None = None
    detail: str = ""
    duration_ms: float = 0.0
    error_code: str | None = None
    retry_after_s: float | None = None


@runtime_checkable
class Transport(Protocol):
    """Delivers outbound payloads. Implementations are safe to share between threads."""

    def send(self, delivery: OutboundDelivery) -> DeliveryResult:
        """Deliver once and classify what happened; never raises for remote problems."""
        ...

    def close(self) -> None:
        """Release pooled connections or files; the transport is unusable afterwards."""
        ...
