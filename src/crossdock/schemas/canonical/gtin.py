"""GS1 check digits for GTIN-8/12/13/14 (UPC-A is GTIN-12, EAN-13 is GTIN-13)."""

from __future__ import annotations

__all__ = ["GTIN_LENGTHS", "gtin_format_ok", "gtin_check_digit_ok", "gtin_check_digit"]

GTIN_LENGTHS = frozenset({8, 12, 13, 14})


def gtin_format_ok(value: str) -> bool:
    """True when ``value`` is 8, 12, 13 or 14 ASCII digits."""
    return len(value) in GTIN_LENGTHS and value.isascii() and value.isdigit()


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for ``body`` (all digits but the last)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def gtin_check_digit_ok(value: str) -> bool:
    """True when ``value`` is a well-formed GTIN whose last digit is the right check digit."""
    return gtin_format_ok(value) and gtin_check_digit(value[:-1]) == int(value[-1])
