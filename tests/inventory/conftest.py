"""Builders for ledger rows: short, explicit, and deterministic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from crossdock.gateway.inventory import DocumentRef, ItemLocationKey, Movement, MovementKind

KEY = ItemLocationKey("SKU-1", "STORE-1")
DOC_TYPES = {
    "snapshot_on_hand": "852", "sale": "852", "on_order": "850", "confirmed": "855",
    "shipped": "856", "received": "receipt", "adjustment": "852", "cancelled": "860",
}


def movement(kind: str, qty: int | str, day: date, doc: str, line: str = "1", **extra: object) -> Movement:
    """One ledger row for ``KEY``; the document type follows the kind."""
    source = DocumentRef(doc, DOC_TYPES[kind], str(extra.pop("business_key", doc)), line)
    key = extra.pop("key", KEY)
    return Movement(MovementKind(kind), key, Decimal(qty), day, source, **extra)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def mv() -> Callable[..., Movement]:
    return movement
