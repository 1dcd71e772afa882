"""Pure checks of the webhook signature and of the retry timing helpers."""

from __future__ import annotations

import hashlib
import hmac
import random
from email.utils import formatdate

import pytest

from crossdock.adapters.transports import backoff_schedule, parse_retry_after, sign, verify_signature

SECRET = "whsec-9b2d"
TS = 1_700_000_000
BODY = b'{"po":"4500012345","lines":3}'
GOOD = sign(SECRET, TS, BODY)


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert GOOD == f"v1={expected}"
    assert sign(SECRET.encode(), TS, BODY) == GOOD


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "header", "now", "valid"),
    [
        pytest.param(SECRET, str(TS), BODY, GOOD, TS, True, id="exact"),
        pytest.param(SECRET, TS, BODY, GOOD, TS, True, id="int-timestamp"),
        pytest.param(SECRET, str(TS), BODY, GOOD, TS + 300, True, id="edge-of-window-late"),
        pytest.param(SECRET, str(TS), BODY, GOOD, TS - 300, True, id="edge-of-window-early"),
        pytest.param(SECRET, str(TS), BODY, GOOD, TS + 301, False, id="too-old"),
        pytest.param(SECRET, str(TS), BODY, GOOD, TS - 301, False, id="from-the-future"),
        pytest.param(SECRET, str(TS), BODY + b" ", GOOD, TS, False, id="body-tampered"),
        pytest.param(SECRET, str(TS + 1), BODY, GOOD, TS, False, id="timestamp-tampered"),
        pytest.param("other-secret", str(TS), BODY, GOOD, TS, False, id="wrong-secret"),
        pytest.param(SECRET, "17000000OO", BODY, GOOD, TS, False, id="timestamp-not-numeric"),
        pytest.param(SECRET, "١٧٠٠٠٠٠٠٠٠", BODY, GOOD, TS, False, id="timestamp-non-ascii-digits"),
        pytest.param(SECRET, "", BODY, GOOD, TS, False, id="timestamp-missing"),
        pytest.param(SECRET, str(TS), BODY, "", TS, False, id="header-missing"),
        pytest.param(SECRET, str(TS), BODY, "v1=", TS, False, id="header-empty-digest"),
        pytest.param(SECRET, str(TS), BODY, GOOD.replace("v1=", "v0="), TS, False, id="unknown-scheme"),
        pytest.param(SECRET, str(TS), BODY, GOOD.upper(), TS, False, id="case-changed"),
        pytest.param(SECRET, str(TS), BODY, "v1=ünïcode", TS, False, id="non-ascii-header"),
        pytest.param(SECRET, str(TS), BODY, f"v1={'0' * 64}, {GOOD}", TS, True, id="rotation-second-matches"),
    ],
)
def test_verify_signature(secret: str, timestamp: str | int, body: bytes, header: str, now: int, valid: bool) -> None:
    assert verify_signature(secret, timestamp, body, header, now=now) is valid


def test_verify_signature_custom_tolerance() -> None:
    assert verify_signature(SECRET, TS, BODY, GOOD, now=TS + 30, tolerance_s=60)
    assert not verify_signature(SECRET, TS, BODY, GOOD, now=TS + 61, tolerance_s=60)


class _Ceiling(random.Random):
    """Always draws the top of the range, exposing the exponential ceiling itself."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_backoff_ceiling_doubles_up_to_the_cap() -> None:
    delays = [backoff_schedule(n, base_s=2.0, cap_s=60.0, jitter=_Ceiling()) for n in range(1, 9)]
    assert delays == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


def test_backoff_is_deterministic_with_a_seeded_random() -> None:
    first = [backoff_schedule(n, 1.0, 300.0, random.Random(7)) for n in range(1, 12)]
    again = [backoff_schedule(n, 1.0, 300.0, random.Random(7)) for n in range(1, 12)]
    assert first == again


def test_backoff_has_full_jitter_within_bounds() -> None:
    rng = random.Random(42)
    samples = [backoff_schedule(4, base_s=1.0, cap_s=100.0, jitter=rng) for _ in range(4000)]
    assert all(0.0 <= s <= 8.0 for s in samples)
    # Full jitter spreads retries over the whole [0, ceiling] range, not near its top.
    assert 3.6 < sum(samples) / len(samples) < 4.4
    assert min(samples) < 0.5 and max(samples) > 7.5


def test_backoff_survives_huge_attempt_numbers() -> None:
    assert backoff_schedule(100_000, base_s=1.0, cap_s=30.0, jitter=_Ceiling()) == 30.0


@pytest.mark.parametrize(("attempt", "base", "cap"), [(0, 1.0, 10.0), (-1, 1.0, 10.0), (1, -1.0, 10.0), (1, 1.0, -5.0)])
def test_backoff_rejects_nonsense(attempt: int, base: float, cap: float) -> None:
    with pytest.raises(ValueError):
        backoff_schedule(attempt, base, cap, random.Random(1))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("0", 0.0),
        (formatdate(TS + 90, usegmt=True), 90.0),
        (formatdate(TS - 90, usegmt=True), 0.0),
        ("Tue, 14 Nov 2023 22:13:27 -0000", 7.0),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=TS) == expected
