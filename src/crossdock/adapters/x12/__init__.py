"""X12 codec: read (streaming tokenizer, envelope checks), validate, write, acknowledge.

Reading, streaming first (see :mod:`crossdock.adapters.x12.reader`)::

    for event in read(path_or_bytes_or_stream, ReadOptions()):
        ...  # SetUnit per transaction set, then the InterchangeReport of its interchange

    report = validate(path)            # FileReport, nothing kept in memory
    trees, report = parse(data)        # whole file as trees, for small inputs and tests

Writing and acknowledging (:mod:`~crossdock.adapters.x12.writer`, :mod:`~crossdock.adapters.x12.acks`)::

    serialize(trees, delimiters)       # bytes; counts and trailers recomputed
    ack_bytes(report, allocator=..., clock=...)   # the 997/999/TA1 replies for a FileReport

Only this package touches pyx12.
"""

from crossdock.adapters.x12 import envelope_codes
from crossdock.adapters.x12.acks import ack_bytes, build_acks, functional_ack_type
from crossdock.adapters.x12.reader import (
    ReadOptions,
    SetUnit,
    SetValidator,
    Source,
    ValidatorFactory,
    iter_interchanges,
    iter_sets,
    parse,
    read,
    validate,
)
from crossdock.adapters.x12.writer import (
    ControlNumberAllocator,
    CountingAllocator,
    build_group,
    build_interchange,
    build_transaction,
    check_delimiters,
    format_element,
    serialize,
)

__all__ = [
    "ControlNumberAllocator",
    "CountingAllocator",
    "ack_bytes",
    "build_acks",
    "build_group",
    "build_interchange",
    "build_transaction",
    "check_delimiters",
    "format_element",
    "functional_ack_type",
    "serialize",
    "ReadOptions",
    "SetUnit",
    "SetValidator",
    "Source",
    "ValidatorFactory",
    "envelope_codes",
    "iter_interchanges",
    "iter_sets",
    "parse",
    "read",
    "validate",
]
