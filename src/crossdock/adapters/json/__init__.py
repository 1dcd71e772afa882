"""JSON codec: hardened decoding (duplicate keys, NaN, depth, huge numbers refused) and encoding,
and canonical documents as JSON Lines.

See :mod:`crossdock.adapters.json.codec` for the refusal policy and its stable codes.
"""

from __future__ import annotations

from crossdock.adapters.json.canonical import canonical_line, read_canonical, validate_canonical
from crossdock.adapters.json.codec import DEFAULT_LIMITS, JsonLimits, dump_json, iter_json_lines, load_json

__all__ = [
    "DEFAULT_LIMITS",
    "JsonLimits",
    "canonical_line",
    "dump_json",
    "iter_json_lines",
    "load_json",
    "read_canonical",
    "validate_canonical",
]
