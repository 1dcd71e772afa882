"""One error root, stable machine codes, and the Issue record.

Document problems are collected as data (:class:`Issue`), all of them, and only the stage
boundary raises. Exceptions exist for conditions that stop a stage outright.

Tree::

    CrossdockError                    CROSSDOCK_ERROR
    ├── InputRejected                 INPUT_REJECTED      bad bytes from outside (permanent)
    │   ├── EncodingUnsupported       ENCODING_UNSUPPORTED  UTF-16, EBCDIC, undecodable
    │   ├── EnvelopeInvalid           ENVELOPE_INVALID    no readable ISA, broken interchange
    │   ├── XmlRejected               XML_REJECTED        DTD, entities, XInclude, huge tree, not well-formed
    │   ├── JsonRejected              JSON_REJECTED       duplicate keys, NaN, depth, huge ints
    │   └── FormatUnknown             FORMAT_UNKNOWN      neither X12 nor XML nor JSON
    ├── MappingRuleFailed             MAPPING_RULE_FAILED a spec could not be applied (permanent)
    ├── SerializationFailed           SERIALIZATION_FAILED a tree or value cannot be written as X12
    ├── SpecInvalid                   SPEC_INVALID        a mapping/definition spec is itself wrong
    ├── PartnerUnknown                PARTNER_UNKNOWN     no partner/agreement for an identity (permanent)
    ├── ConfigurationInvalid          CONFIGURATION_INVALID
    └── TransientError                TRANSIENT           retry with backoff
        └── TransportTimeout          TRANSPORT_TIMEOUT

Every class carries ``code`` (stable, upper snake case) and may carry the acknowledgement code
that an EDI reply should use (``ack``), so building an acknowledgement is a lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

__all__ = [
    "CrossdockError",
    "InputRejected",
    "EncodingUnsupported",
    "EnvelopeInvalid",
    "XmlRejected",
    "JsonRejected",
    "FormatUnknown",
    "MappingRuleFailed",
    "SerializationFailed",
    "SpecInvalid",
    "PartnerUnknown",
    "ConfigurationInvalid",
    "TransientError",
    "TransportTimeout",
    "Issue",
    "Severity",
    "has_errors",
]

Severity = Literal["error", "warning"]


class CrossdockError(Exception):
    """Root of every error Crossdock raises on purpose."""

    code: ClassVar[str] = "CROSSDOCK_ERROR"
    transient: ClassVar[bool] = False

    def __init__(self, message: str, *, code: str | None = None, ack: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]  # instance may refine the class code
        self.ack = ack

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class InputRejected(CrossdockError):
    code = "INPUT_REJECTED"


class EncodingUnsupported(InputRejected):
    code = "ENCODING_UNSUPPORTED"


class EnvelopeInvalid(InputRejected):
    code = "ENVELOPE_INVALID"


class XmlRejected(InputRejected):
    code = "XML_REJECTED"


class JsonRejected(InputRejected):
    code = "JSON_REJECTED"


class FormatUnknown(InputRejected):
    code = "FORMAT_UNKNOWN"


class MappingRuleFailed(CrossdockError):
    code = "MAPPING_RULE_FAILED"


class SerializationFailed(CrossdockError):
    code = "SERIALIZATION_FAILED"


class SpecInvalid(CrossdockError):
    code = "SPEC_INVALID"


class PartnerUnknown(CrossdockError):
    code = "PARTNER_UNKNOWN"


class ConfigurationInvalid(CrossdockError):
    code = "CONFIGURATION_INVALID"


class TransientError(CrossdockError):
    code = "TRANSIENT"
    transient = True


class TransportTimeout(TransientError):
    code = "TRANSPORT_TIMEOUT"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a document, kept as data.

    Attributes:
        code: stable machine code, e.g. ``"MISSING_REQUIRED"``, ``"GTIN_CHECK_DIGIT"``.
        msg: human sentence; never contains more of the payload than ``input``.
        loc: where it is, outermost first, e.g. ``("lines", 3, "item", "gtin")`` or
            ``("ST", 2, "PO1", 7, 2)``.
        severity: ``"error"`` rejects the document at the stage boundary, ``"warning"`` does not.
        input: the offending value, trimmed, when it helps the operator.
    """

    code: str
    msg: str
    loc: tuple[str | int, ...] = field(default=())
    severity: Severity = "error"
    input: str | None = None


def has_errors(issues: list[Issue] | tuple[Issue, ...]) -> bool:
    """True when any issue is an error (not only warnings)."""
    return any(i.severity == "error" for i in issues)
