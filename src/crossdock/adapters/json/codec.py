"""Hardened JSON in and out.

Reading policy (BAD_INPUT.md 3.8), each refusal a :class:`JsonRejected` with its own code:

==========================  =================================================================
code                        when
==========================  =================================================================
``JSON_TOO_LARGE``          input over ``JsonLimits.max_bytes`` (checked before decoding)
``JSON_EMPTY``              no bytes, or only whitespace
``JSON_ENCODING_INVALID``   not UTF-8 (a UTF-8 BOM is tolerated and skipped)
``JSON_TOO_DEEP``           arrays/objects nested over ``JsonLimits.max_depth``; measured by a
                            flat scan before decoding, so ``[`` × 100 000 never reaches the
                            recursive decoder
``JSON_DUPLICATE_KEY``      the same key twice in one object (which one wins is parser-specific:
                            a classic smuggling trick)
``JSON_CONSTANT_FORBIDDEN`` ``NaN``, ``Infinity``, ``-Infinity`` (not JSON; Python accepts them)
``JSON_NUMBER_TOO_LARGE``   a number literal over ``JsonLimits.max_number_digits`` characters,
                            or a float that overflows to infinity
``JSON_LONE_SURROGATE``     a ``\\ud800``-style escape without its pair (cannot be stored as UTF-8)
``JSON_NOT_WELL_FORMED``    anything else the decoder refuses
==========================  =================================================================

Non-integer numbers are decoded as :class:`~decimal.Decimal`, so amounts keep their digits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate
from typing import Any

from crossdock.schemas.errors import JsonRejected

__all__ = ["JsonLimits", "DEFAULT_LIMITS", "load_json", "iter_json_lines", "dump_json"]

_STRING_LITERAL = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = str.maketrans({"[": "(", "{": "(", "]": ")", "}": ")"})
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class JsonLimits:
    """Caps applied to every JSON input.

    Attributes:
        max_bytes: whole input (one JSON Lines line counts against it separately too).
        max_depth: nesting of arrays and objects.
        max_number_digits: characters in one number literal.
    """

    max_bytes: int = 64 * 1024 * 1024
    max_depth: int = 64
    max_number_digits: int = 30


DEFAULT_LIMITS = JsonLimits()


def load_json(data: bytes | str, limits: JsonLimits = DEFAULT_LIMITS) -> Any:
    """Decode untrusted JSON, or refuse it.

    Args:
        data: the raw document (bytes must be UTF-8).
        limits: size, depth and number caps.

    Returns:
        The decoded value (dicts, lists, str, int, Decimal, bool, None).

    Raises:
        JsonRejected: with one of the codes in the module docstring.
    """
    text = _decode(data, limits)
    _check_depth(text, limits.max_depth)
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique_object,
            parse_constant=_refuse_constant,
            parse_int=lambda literal: _parse_int(literal, limits),
            parse_float=lambda literal: _parse_float(literal, limits),
        )
    except json.JSONDecodeError as exc:
        raise JsonRejected(f"JSON is not well-formed: {exc}", code="JSON_NOT_WELL_FORMED") from exc
    _check_strings(value)
    return value


def iter_json_lines(data: bytes, limits: JsonLimits = DEFAULT_LIMITS) -> Iterator[tuple[int, Any]]:
    """Decode JSON Lines: one value per non-blank line, each checked like :func:`load_json`.

    Args:
        data: the whole input.
        limits: applied to the whole input and to each line.

    Yields:
        ``(line_number, value)`` with 1-based line numbers; ``value`` is the
        :class:`JsonRejected` for a refused line, so one bad line does not hide the others.
    """
    if len(data) > limits.max_bytes:
        raise JsonRejected(f"JSON input is {len(data)} bytes, over the {limits.max_bytes} cap", code="JSON_TOO_LARGE")
    for number, line in enumerate(data.removeprefix(_UTF8_BOM).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, load_json(line, limits)
        except JsonRejected as exc:
            yield number, exc


def dump_json(value: Any, *, indent: int | None = None) -> bytes:
    """Encode to UTF-8 JSON: keys kept in order, Decimals written as strings, no NaN.

    Args:
        value: JSON-compatible data (plus Decimal).
        indent: pretty-print width, or ``None`` for one compact line.

    Returns:
        The encoded bytes (no trailing newline).
    """
    separators = (",", ": ") if indent else (",", ":")
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, indent=indent, separators=separators, default=_encode_extra)
    return text.encode("utf-8")


def _decode(data: bytes | str, limits: JsonLimits) -> str:
    if len(data) > limits.max_bytes:
        raise JsonRejected(f"JSON input is {len(data)} bytes, over the {limits.max_bytes} cap", code="JSON_TOO_LARGE")
    if isinstance(data, bytes):
        try:
            text = data.removeprefix(_UTF8_BOM).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonRejected(f"JSON is not UTF-8 (byte {exc.start})", code="JSON_ENCODING_INVALID") from exc
    else:
        text = data
    if not text.strip():
        raise JsonRejected("JSON input is empty", code="JSON_EMPTY")
    return text


def _check_depth(text: str, max_depth: int) -> None:
    """Nesting depth from a flat scan: strings blanked, brackets counted, no recursion."""
    skeleton = _STRING_LITERAL.sub("", text).translate(_BRACKETS)
    brackets = re.sub(r"[^()]", "", skeleton)
    if not brackets:
        return
    deepest = max(accumulate(1 if char == "(" else -1 for char in brackets))
    if deepest > max_depth:
        raise JsonRejected(f"JSON nesting is deeper than {max_depth}", code="JSON_TOO_DEEP")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise JsonRejected(f"JSON object has the key {key[:40]!r} twice", code="JSON_DUPLICATE_KEY")
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise JsonRejected(f"JSON constant {name} is not allowed", code="JSON_CONSTANT_FORBIDDEN")


def _parse_int(literal: str, limits: JsonLimits) -> int:
    if len(literal.lstrip("-")) > limits.max_number_digits:
        raise JsonRejected(
            f"JSON integer has {len(literal)} digits, over {limits.max_number_digits}", code="JSON_NUMBER_TOO_LARGE"
        )
    return int(literal)


def _parse_float(literal: str, limits: JsonLimits) -> Decimal:
    if len(literal) > limits.max_number_digits:
        raise JsonRejected(
            f"JSON number has {len(literal)} characters, over {limits.max_number_digits}", code="JSON_NUMBER_TOO_LARGE"
        )
    value = Decimal(literal)
    if not value.is_finite() or abs(value.adjusted()) > 300:
        raise JsonRejected("JSON number is out of range", code="JSON_NUMBER_TOO_LARGE")
    return value


def _check_strings(value: Any) -> None:
    """Refuse lone surrogates anywhere (keys included), walking without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            _check_string(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_string(key)
                pending.append(child)
        elif isinstance(item, list):
            pending.extend(item)


def _check_string(text: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise JsonRejected("JSON string holds a lone surrogate escape", code="JSON_LONE_SURROGATE") from exc


def _encode_extra(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
