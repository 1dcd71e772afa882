"""Element data types from the X12 definitions, for parsing and formatting values.

The definitions (``crossdock.schemas.x12.definitions``) are the one source of truth for each
element's type (ID, AN, Nn, R, DT, TM) and length; this module only reads them, lazily and cached.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from crossdock.schemas.x12.definitions import CompositeUse, ElementUse, segment

__all__ = ["ElementType", "element_type", "format_value"]


class ElementType(NamedTuple):
    """Data type and lengths of one element position (composites: of the component)."""

    data_type: str
    min_length: int
    max_length: int


@lru_cache(maxsize=512)
def _positions(segment_id: str, version: str) -> dict[int, ElementUse | CompositeUse]:
    definition = segment(segment_id, version)
    return {use.position: use for use in definition.elements} if definition is not None else {}


@lru_cache(maxsize=4096)
def element_type(segment_id: str, position: int, version: str, component: int | None = None) -> ElementType | None:
    """Type of element ``position`` (1-based) of ``segment_id`` in ``version``, or ``None`` when unknown.

    For a composite, the type of ``component`` (the first when ``None``).
    """
    use = _positions(segment_id, version).get(position)
    if use is None:
        return None
    if isinstance(use, CompositeUse):
        components = use.composite.components
        index = (component or 1) - 1
        if index >= len(components):
            return None
        definition = components[index].element
    else:
        definition = use.element
    return ElementType(definition.data_type, definition.min_length, definition.max_length)


def _format_decimal(value: Decimal, kind: ElementType | None) -> str:
    if kind is not None and kind.data_type.startswith("N") and kind.data_type[1:].isdigit():
        scaled = value.scaleb(int(kind.data_type[1:])).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        digits = str(abs(int(scaled))).rjust(kind.min_length, "0")
        return ("-" if scaled < 0 else "") + digits
    text = format(value.normalize(), "f") if value != 0 else "0"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_value(value: Any, kind: ElementType | None) -> str:
    """Text for ``value`` in an element of type ``kind`` (STYLE item 32: the type decides).

    ``Decimal``: ``Nn`` implied decimals (``N2``: 12.5 -> ``1250``), ``R`` minimal (``12.5``);
    ``date``: ``CCYYMMDD`` (``YYMMDD`` when the element is at most 6 long); ``time``: ``HHMM`` or
    ``HHMMSS`` when it has seconds; strings as they are.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, Decimal):
        return _format_decimal(value, kind)
    if isinstance(value, int):
        return _format_decimal(Decimal(value), kind)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.strftime("%y%m%d" if kind is not None and kind.max_length == 6 else "%Y%m%d")
    if isinstance(value, dt.time):
        return value.strftime("%H%M%S" if value.second else "%H%M")
    return str(value)
