"""Canonical documents as JSON: read (hardened decoding, then the pydantic schema) and write.

The wire form is JSON Lines: one canonical document per line, ``document_type`` choosing the
model. A single JSON document (an object, or an array of objects) is read too. Unknown or
protected fields (``tenant_id``, ``status``…) are refused by the models' ``extra="forbid"``
(BAD_INPUT.md 3.8 item 58, mass assignment) and reported as ``CANONICAL_INVALID`` issues.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError

from crossdock.adapters.json.codec import DEFAULT_LIMITS, JsonLimits, iter_json_lines, load_json
from crossdock.schemas.canonical import document_adapter
from crossdock.schemas.errors import Issue, JsonRejected

__all__ = ["read_canonical", "canonical_line", "validate_canonical"]


def read_canonical(data: bytes, limits: JsonLimits = DEFAULT_LIMITS) -> Iterator[tuple[Any, list[Issue]]]:
    """Canonical documents from JSON Lines, a JSON object or a JSON array of objects.

    Args:
        data: the input bytes.
        limits: caps for the hardened decoder (applied per line for JSON Lines).

    Yields:
        ``(document or None, issues)`` per document; locations start with the line number
        (JSON Lines) or the array index.

    Raises:
        JsonRejected: the input as a whole is refused (too large).
    """
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        try:
            items = load_json(data, limits)
        except JsonRejected as exc:
            yield None, [Issue(exc.code, exc.message)]
            return
        for index, item in enumerate(items):
            yield validate_canonical(item, (index,))
        return
    for line, value in iter_json_lines(data, limits):
        if isinstance(value, JsonRejected):
            yield None, [Issue(value.code, value.message, ("line", line))]
        else:
            yield validate_canonical(value, ("line", line))


def validate_canonical(value: Any, loc: tuple[str | int, ...] = ()) -> tuple[Any, list[Issue]]:
    """Validate decoded JSON as a canonical document; errors become issues, never exceptions."""
    if not isinstance(value, dict):
        return None, [Issue("CANONICAL_INVALID", "a canonical document must be a JSON object", loc)]
    try:
        return document_adapter().validate_python(value), []
    except ValidationError as exc:
        return None, [
            Issue("CANONICAL_INVALID", error["msg"], (*loc, *error["loc"]), input=_short(error.get("input")))
            for error in exc.errors(include_url=False)
        ]


def canonical_line(document: BaseModel) -> bytes:
    """One canonical document as one JSON line (no newline), defaults and ``None`` left out."""
    return document.model_dump_json(exclude_none=True).encode("utf-8")


def _short(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)[:80]
