"""Raw bytes for human eyes: X12 one segment per line, XML and JSON pretty-printed.

Pure functions of the stored bytes. Output is text; escaping is the template's job (autoescape),
so nothing here may be marked safe. Undecodable or malformed input falls back to plain lines, and
very large payloads are cut (the full bytes stay downloadable from the raw endpoint).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from crossdock.adapters.xml import parse_xml, render_xml
from crossdock.schemas.errors import CrossdockError

__all__ = ["RawLine", "RawView", "render_raw", "x12_segments", "MAX_DISPLAY_BYTES", "MAX_LINES"]

MAX_DISPLAY_BYTES = 2 * 1024 * 1024
MAX_LINES = 5000
ISA_LENGTH = 106
ISA_ELEMENT_SEPARATOR = 3
ISA_SEGMENT_TERMINATOR = 105


@dataclass(frozen=True, slots=True)
class RawLine:
    """One displayed line.

    Attributes:
        number: 1-based line number.
        text: the text (not escaped).
        segment_id: for X12, the segment id.
        set_position: for X12, the position inside its ST..SE (ST = 1), as validation errors count.
        set_index: for X12, the 0-based index of its transaction set in the message.
    """

    number: int
    text: str
    segment_id: str | None = None
    set_position: int | None = None
    set_index: int | None = None


@dataclass(frozen=True, slots=True)
class RawView:
    kind: str  # x12 | xml | json | text
    lines: tuple[RawLine, ...]
    truncated: bool = False
    note: str | None = None


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def x12_segments(text: str) -> list[str] | None:
    """Split an X12 text on the terminator its ISA declares; None when there is no usable ISA."""
    start = text.find("ISA")
    if start < 0 or len(text) < start + ISA_LENGTH:
        return None
    element = text[start + ISA_ELEMENT_SEPARATOR]
    terminator = text[start + ISA_SEGMENT_TERMINATOR]
    if terminator.isalnum() or terminator == element:
        return None
    segments = [s.strip("\r\n") for s in text[start:].split(terminator)]
    return [s for s in segments if s.strip()]


def _x12_view(text: str) -> RawView | None:
    segments = x12_segments(text)
    if segments is None:
        return None
    element = text[text.find("ISA") + ISA_ELEMENT_SEPARATOR]
    lines: list[RawLine] = []
    set_index, position = -1, None
    for number, segment in enumerate(segments[:MAX_LINES], start=1):
        segment_id = segment.split(element, 1)[0].strip()
        if segment_id == "ST":
            set_index, position = set_index + 1, 1
        elif position is not None:
            position += 1
        lines.append(RawLine(number, segment, segment_id, position, set_index if position is not None else None))
        if segment_id == "SE":
            position = None
    return RawView("x12", tuple(lines), truncated=len(segments) > MAX_LINES)


def _json_view(data: bytes) -> RawView | None:
    try:
        text = json.dumps(json.loads(data), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        try:
            values = [json.loads(line) for line in data.splitlines() if line.strip()]
        except (ValueError, RecursionError):
            return None
        text = "\n".join(json.dumps(v, indent=2, ensure_ascii=False) for v in values)
    return _plain("json", text)


def _xml_view(data: bytes) -> RawView | None:
    try:
        pretty = render_xml(parse_xml(data), pretty=True)
    except CrossdockError:
        return None
    return _plain("xml", _decode(pretty))


def _plain(kind: str, text: str, note: str | None = None) -> RawView:
    lines = text.splitlines()
    return RawView(kind, tuple(RawLine(n, line) for n, line in enumerate(lines[:MAX_LINES], start=1)),
                   truncated=len(lines) > MAX_LINES, note=note)


def render_raw(data: bytes, fmt: str) -> RawView:
    """Lines to display for a message's raw bytes.

    Args:
        data: the stored bytes.
        fmt: the message format (``x12``, ``xml``, ``json`` or ``unknown``).

    Returns:
        The view; malformed content is shown as plain lines with a note.
    """
    cut = len(data) > MAX_DISPLAY_BYTES
    shown = data[:MAX_DISPLAY_BYTES]
    view: RawView | None = None
    if fmt == "x12":
        view = _x12_view(_decode(shown))
    elif fmt == "json" and not cut:
        view = _json_view(shown)
    elif fmt == "xml" and not cut:
        view = _xml_view(shown)
    if view is None:
        note = None if fmt in ("unknown", "text") else f"shown as received: not well-formed {fmt}"
        view = _plain("text", _decode(shown), note)
    if cut:
        return RawView(view.kind, view.lines, True, f"first {MAX_DISPLAY_BYTES} of {len(data)} bytes")
    return view
