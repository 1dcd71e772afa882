"""Retry timing for the caller: exponential backoff with full jitter, and ``Retry-After`` parsing."""

from __future__ import annotations

import random
from datetime import timezone
from email.utils import parsedate_to_datetime

__all__ = ["backoff_schedule", "parse_retry_after"]

# 2**62 seconds already dwarfs any cap; clamping the exponent keeps the float arithmetic finite.
_MAX_EXPONENT = 62


def backoff_schedule(
    attempt: int,
    base_s: float,
    cap_s: float,
    jitter: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` ("full jitter").

    The ceiling doubles per attempt, ``min(cap_s, base_s * 2 ** (attempt - 1))``, and the delay is
    drawn uniformly from ``[0, ceiling]`` so that many failing deliveries do not retry in lockstep.

    Args:
        attempt: 1 for the first retry, 2 for the second, …
        base_s: the ceiling of the first retry.
        cap_s: the largest ceiling.
        jitter: the random source; pass a seeded ``random.Random`` for a deterministic schedule.
            None uses a fresh, OS-seeded generator.

    Returns:
        The delay in seconds, between 0 and ``cap_s``.

    Raises:
        ValueError: for an attempt below 1 or a negative base or cap.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if base_s < 0 or cap_s < 0:
        raise ValueError("base_s and cap_s must not be negative")
    ceiling = min(cap_s, base_s * 2.0 ** min(attempt - 1, _MAX_EXPONENT))
    rng = jitter if jitter is not None else random.Random()
    return rng.uniform(0.0, ceiling)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Read a ``Retry-After`` header: delta seconds or an HTTP date.

    Args:
        value: the header value, or None when absent.
        now: current unix time, to turn an HTTP date into a delay.

    Returns:
        Seconds to wait (0 for a date in the past), or None when absent or unreadable.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are always GMT; a naive result means the zone was written "-0000".
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)
