"""Base class, schema version and the free-form ``extensions`` type shared by every canonical model."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = ["SCHEMA_VERSION", "CanonicalModel", "Extensions", "NonEmptyStr"]

#: Version of the canonical JSON shape; bump on any incompatible change of a document model.
SCHEMA_VERSION = "1.0"

#: Partner-specific data with no canonical home, JSON-serialisable, keyed by origin format
#: (``{"x12": {"unmapped": [...]}}``) so an outbound mapping to the same format can restore it.
Extensions = dict[str, JsonValue]

NonEmptyStr = Annotated[str, Field(min_length=1)]


class CanonicalModel(BaseModel):
    """Frozen, strict base: unknown fields are rejected, instances never change."""

    model_config = ConfigDict(frozen=True, extra="forbid")
