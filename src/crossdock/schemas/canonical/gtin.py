"""GS1 check digits for GTIN-8/12/13/14 (UPC-A is GTIN-12, EAN-13 is GTIN-13)."""

from __future__ import annotations

__all__ = ["GTIN_LENGTHS", "gtin_format_ok", "gtin_check_digit_ok", "gtin_check_digit", "gtin_check_digit_matches"]

GTIN_LENGTHS = frozenset({8, 12, 13, 14})


def gtin_format_ok(value: str) -> bool:
    """True when ``value`` is 8, 12, 13 or 14 ASCII digits."""
    return len(value) in GTIN_LENGTHS and value.isascii() and value.isdigit()


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for ``body`` (all digits but the last)."""
    backwards = body[::-1]
    # weights 3, 1, 3, ... from the right
    if backwards.isascii() and backwards.isdigit():
        # the usual case, summed over the ASCII codes at C speed (48 is "0")
        odd, even = backwards[0::2].encode(), backwards[1::2].encode()
        total = 3 * (sum(odd) - 48 * len(odd)) + sum(even) - 48 * len(even)
    else:
        total = 3 * sum(map(int, backwards[0::2])) + sum(map(int, backwards[1::2]))
    return (10 - total % 10) % 10


def gtin_check_digit_matches(value: str) -> bool:
    """For a well-formed GTIN (``gtin_format_ok``): whether its last digit is the right check digit.

    The check digit makes the weighted sum (1, 3, 1, ... from the right, the check digit
    included) a multiple of ten; summed over the ASCII codes at C speed (48 is "0").
    """
    data = value.encode()
    ones, threes = data[-1::-2], data[-2::-2]
    return (3 * sum(threes) + sum(ones) - 48 * (3 * len(threes) + len(ones))) % 10 == 0


def gtin_check_digit_ok(value: str) -> bool:
    """True when ``value`` is a well-formed GTIN whose last digit is the right check digit."""
    return gtin_format_ok(value) and gtin_check_digit_matches(value)
