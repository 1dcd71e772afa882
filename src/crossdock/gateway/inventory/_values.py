"""Coercion of quantities into exact decimals, collecting problems as issues (private)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from crossdock.schemas.errors import Issue

ZERO = Decimal(0)


def coerce_decimal(value: object, name: str, issues: list[Issue]) -> Decimal | None:
    """Turn an int, str or Decimal into a finite Decimal.

    Floats are refused (a binary float is not an exact quantity); so are booleans, NaN and
    infinities.

    Args:
        value: the raw value (``None`` passes through).
        name: field name, used as the issue location.
        issues: list the problem is appended to.

    Returns:
        The Decimal, ``None`` when ``value`` is ``None`` or invalid (then an issue was added).
    """
    if value is None:
        return None
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int) and not isinstance(value, bool):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            issues.append(Issue("NOT_A_NUMBER", f"{name} is not a number", (name,), input=value[:40]))
            return None
    else:
        issues.append(Issue("NOT_A_NUMBER", f"{name} must be a Decimal, int or str", (name,),
                            input=type(value).__name__))
        return None
    if not result.is_finite():
        issues.append(Issue("NOT_FINITE", f"{name} must be finite", (name,), input=str(result)))
        return None
    return result


def check(condition: bool, code: str, msg: str, loc: str, issues: list[Issue]) -> None:
    """Append an issue at ``loc`` unless ``condition`` holds."""
    if not condition:
        issues.append(Issue(code, msg, (loc,)))
