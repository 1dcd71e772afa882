"""Webhook signatures: HMAC-SHA256 over ``"{timestamp}.{body}"``, checked in constant time.

The header looks like ``v1=<hex>``; a receiver rotating secrets may see several comma-separated
``v1=`` entries and accepts the request when any of them matches. The timestamp travels in its
own header and is signed with the body, so a captured request cannot be replayed outside the
tolerance window.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_SCHEME", "DEFAULT_TOLERANCE_S", "sign", "verify_signature"]

SIGNATURE_SCHEME = "v1"
DEFAULT_TOLERANCE_S = 300


def _secret_bytes(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def _digest(secret: str | bytes, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(_secret_bytes(secret), message, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Crossdock-Signature`` header value for a request.

    Args:
        secret: the endpoint's shared secret.
        timestamp: unix seconds, the value sent in ``X-Crossdock-Timestamp``.
        body: the exact request body.

    Returns:
        ``"v1=<64 hex digits>"``.
    """
    return f"{SIGNATURE_SCHEME}={_digest(secret, timestamp, body)}"


def _parse_timestamp(timestamp: str | int) -> int | None:
    if isinstance(timestamp, int):
        return timestamp
    text = timestamp.strip()
    # str.isdigit accepts other scripts' digits; a timestamp is ASCII only.
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    return int(text)


def _candidates(header: str) -> list[str]:
    prefix = f"{SIGNATURE_SCHEME}="
    parts = (part.strip() for part in header.split(","))
    return [part[len(prefix):] for part in parts if part.startswith(prefix)]


def verify_signature(
    secret: str | bytes,
    timestamp: str | int,
    body: bytes,
    header: str,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """Check a received webhook: signature valid and timestamp within the window.

    Args:
        secret: the shared secret.
        timestamp: the ``X-Crossdock-Timestamp`` header as received (or already an int).
        body: the raw request body, before any decoding.
        header: the ``X-Crossdock-Signature`` header as received.
        now: the receiver's current unix time (passed in so tests and clock checks are explicit).
        tolerance_s: how far the timestamp may be from ``now``, either way.

    Returns:
        True only when the timestamp is well formed and fresh and one ``v1=`` entry matches.
    """
    ts = _parse_timestamp(timestamp)
    if ts is None or abs(now - ts) > tolerance_s:
        return False
    expected = _digest(secret, ts, body).encode("ascii")
    matched = False
    for candidate in _candidates(header):
        # Check every entry (no early exit) so timing does not reveal which one matched.
        matched |= hmac.compare_digest(expected, candidate.encode("ascii", "replace"))
    return matched
