"""X12 data: the parsed tree and the transaction-set definitions."""

from crossdock.schemas.x12.tree import (
    DEFAULT_DELIMITERS,
    Composite,
    Delimiters,
    Group,
    Interchange,
    Repeats,
    Segment,
    Transaction,
    Value,
)

__all__ = [
    "DEFAULT_DELIMITERS",
    "Composite",
    "Delimiters",
    "Group",
    "Interchange",
    "Repeats",
    "Segment",
    "Transaction",
    "Value",
]
