"""The canonical model: one set of pydantic v2 documents every format maps to and from.

Documents (discriminated by ``document_type``): :class:`PurchaseOrder` (850), :class:`OrderChange`
(860), :class:`OrderResponse` (855), :class:`ShipNotice` (856), :class:`Invoice` (810),
:class:`InventoryReport` (846), :class:`ProductActivity` (852), :class:`PlanningSchedule` (830),
:class:`FunctionalAck` (997/999), :class:`InterchangeAck` (TA1); :data:`CanonicalDocument` is their
union. Value types live in :mod:`.values`; units and GTIN check digits are data/helpers.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter

from crossdock.schemas.canonical.base import SCHEMA_VERSION, CanonicalModel, Extensions
from crossdock.schemas.canonical.documents import *  # noqa: F403
from crossdock.schemas.canonical.documents import DOCUMENT_TYPES, CanonicalDocument
from crossdock.schemas.canonical.documents import __all__ as _documents_all
from crossdock.schemas.canonical.gtin import (
    gtin_check_digit, gtin_check_digit_matches, gtin_check_digit_ok, gtin_format_ok,
)
from crossdock.schemas.canonical.units import X12_UNITS, normalise_x12_unit, x12_unit_for
from crossdock.schemas.canonical.values import *  # noqa: F403
from crossdock.schemas.canonical.values import __all__ as _values_all

__all__ = [
    "SCHEMA_VERSION", "CanonicalModel", "Extensions", "X12_UNITS", "normalise_x12_unit",
    "x12_unit_for", "gtin_check_digit", "gtin_check_digit_matches", "gtin_check_digit_ok", "gtin_format_ok",
    "document_adapter", "parse_document", "document_class",
    *_documents_all, *_values_all,
]


@lru_cache(maxsize=1)
def document_adapter() -> TypeAdapter[Any]:
    """The (cached) pydantic adapter for :data:`CanonicalDocument`."""
    return TypeAdapter(CanonicalDocument)


def parse_document(data: str | bytes | dict[str, Any]) -> Any:
    """Validate canonical JSON (text or already-decoded) into its document class.

    Raises:
        pydantic.ValidationError: the data is not a valid canonical document.
    """
    adapter = document_adapter()
    if isinstance(data, dict):
        return adapter.validate_python(data)
    return adapter.validate_json(data)


def document_class(name: str) -> type[CanonicalModel] | None:
    """The model for a document type (``purchase_order``) or class name (``PurchaseOrder``)."""
    if name in DOCUMENT_TYPES:
        return DOCUMENT_TYPES[name]
    return next((cls for cls in DOCUMENT_TYPES.values() if cls.__name__ == name), None)
