"""X12 transaction-set definitions as data: one source of truth for validation and writing.

850, 855, 856, 810, 846, 852, 830, 860 and 997 in 004010 and 005010, and 999 in 005010, with a
shared element dictionary (type, length, code lists), a segment dictionary (element uses,
syntax notes) and one body per set and version. See ``docs/ADDING_A_TRANSACTION.md``.

Use::

    lookup = load_definition("850", "004010VICS")
    lookup.definition.body        # SegmentUse / LoopDef nodes, standard order
    element("353").codes          # frozenset of BEG01 codes
"""

from crossdock.schemas.x12.definitions.loader import (
    BASE_VERSION,
    DEFINED_VERSIONS,
    composite,
    element,
    known_segment_ids,
    load_definition,
    resolve_version,
    segment,
    supported_sets,
)
from crossdock.schemas.x12.definitions.model import (
    BodyNode,
    CompositeDef,
    CompositeUse,
    DataType,
    DefinitionLookup,
    ElementDef,
    ElementUse,
    LoopDef,
    Requirement,
    SegmentDef,
    SegmentUse,
    SyntaxNote,
    TransactionSetDef,
)

__all__ = [
    "BASE_VERSION",
    "DEFINED_VERSIONS",
    "BodyNode",
    "CompositeDef",
    "CompositeUse",
    "DataType",
    "DefinitionLookup",
    "ElementDef",
    "ElementUse",
    "LoopDef",
    "Requirement",
    "SegmentDef",
    "SegmentUse",
    "SyntaxNote",
    "TransactionSetDef",
    "composite",
    "element",
    "known_segment_ids",
    "load_definition",
    "resolve_version",
    "segment",
    "supported_sets",
]
