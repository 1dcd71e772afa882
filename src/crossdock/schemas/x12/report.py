"""Validation verdicts for X12, as data, in the shape of ``crossdock validate --json``.

Every problem is an :class:`X12Error` carrying the standard's code for its level, so building a
997/999/TA1 is a lookup:

=============  =====================================  ==================
level          code list                              acknowledgement
=============  =====================================  ==================
interchange    I18 TA1 note codes ``"001"``–``"031"``  TA1
group          716 AK9/IK9 codes (``"1"``–``"27"``)    AK9 / IK9 (999 uses the same list)
set            718 AK5/IK5 codes (``"1"``–``"27"``)    AK5 / IK5
segment        720 AK3 (997) / 620 IK3 (999)           AK3 / IK3
element        723 AK4 (997) / 621 IK4 (999)           AK4 / IK4
=============  =====================================  ==================

Statuses: interchange ``accepted``/``rejected``; group ``A`` accepted, ``E`` accepted with
errors, ``P`` partially accepted, ``R`` rejected; set ``A``, ``E`` or ``R``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from crossdock.schemas.x12.tree import Delimiters, Segment

__all__ = [
    "ErrorLevel",
    "X12Error",
    "SetReport",
    "GroupReport",
    "InterchangeReport",
    "FileReport",
]

ErrorLevel = Literal["interchange", "group", "set", "segment", "element"]


@dataclass(frozen=True, slots=True)
class X12Error:
    """One problem, at one level, with the standard's code and its position.

    Attributes:
        level: which acknowledgement level reports it.
        code: the code from that level's list (see module docstring); for segment and element
            levels this is the 997 code (720/723); :attr:`code_999` is the 999 one when it differs.
        message: a human sentence (no payload beyond ``bad_value``).
        segment_id: e.g. ``"PO1"``.
        segment_position: position of the segment in the set, ST = 1.
        element_position: 1-based element position in the segment.
        component_position: 1-based component position, when the problem is in a component.
        repetition_position: 1-based repetition, for repeated elements.
        element_ref: data element reference number (e.g. ``"353"``), for AK4-03/IK4-03.
        loop_id: the loop the segment is in (e.g. ``"PO1"``, ``"HL"``), for AK3-03/IK3-03.
        bad_value: copy of the bad data element, for AK4-04/IK4-04 (truncated to 99).
        severity: ``"error"`` rejects, ``"warning"`` only notes (e.g. nearest-version fallback).
    """

    level: ErrorLevel
    code: str
    message: str
    segment_id: str | None = None
    segment_position: int | None = None
    element_position: int | None = None
    component_position: int | None = None
    repetition_position: int | None = None
    element_ref: str | None = None
    loop_id: str | None = None
    bad_value: str | None = None
    code_999: str | None = None
    severity: Literal["error", "warning"] = "error"

    def as_json(self) -> dict[str, Any]:
        """The object printed by ``crossdock validate --json``."""
        return {
            "level": self.level,
            "code": self.code,
            "segment_id": self.segment_id,
            "segment_position": self.segment_position,
            "element_position": self.element_position,
            "component_position": self.component_position,
            "loop_id": self.loop_id,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class SetReport:
    """Verdict for one transaction set (ST..SE)."""

    set_id: str
    control_number: str
    status: Literal["A", "E", "R"]
    errors: tuple[X12Error, ...] = ()
    #: the definition actually used, e.g. ``"850/004010"``; ``None`` when the set is unknown
    definition: str | None = None
    #: ST03 implementation convention reference (999 AK2-03 / IK2-03), when present
    implementation_ref: str | None = None
    segment_count: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "set_id": self.set_id,
            "control_number": self.control_number,
            "status": self.status,
            "errors": [e.as_json() for e in self.errors if e.severity == "error"],
        }


@dataclass(frozen=True, slots=True)
class GroupReport:
    """Verdict for one functional group (GS..GE)."""

    functional_id: str
    control_number: str
    version: str
    status: Literal["A", "E", "P", "R"]
    ak9_codes: tuple[str, ...] = ()
    transactions: tuple[SetReport, ...] = ()
    header: Segment | None = None
    #: number of sets GE01 says were included (None when GE is missing)
    declared_count: int | None = None
    errors: tuple[X12Error, ...] = ()
    #: the GE segment (None when it is missing)
    trailer: Segment | None = None

    @property
    def received_count(self) -> int:
        return len(self.transactions)

    @property
    def accepted_count(self) -> int:
        return sum(1 for t in self.transactions if t.status != "R")

    def as_json(self) -> dict[str, Any]:
        return {
            "functional_id": self.functional_id,
            "control_number": self.control_number,
            "status": self.status,
            "ak9_codes": list(self.ak9_codes),
            "transactions": [t.as_json() for t in self.transactions],
        }


@dataclass(frozen=True, slots=True)
class InterchangeReport:
    """Verdict for one interchange (ISA..IEA)."""

    sender: tuple[str, str]
    receiver: tuple[str, str]
    control_number: str
    version: str
    status: Literal["accepted", "rejected"]
    ta1_code: str | None = None
    groups: tuple[GroupReport, ...] = ()
    header: Segment | None = None
    delimiters: Delimiters | None = None
    #: ISA14 = "1": the sender asked for a TA1
    ta1_requested: bool = False
    #: ISA15, "P" or "T"
    usage: str = "P"
    errors: tuple[X12Error, ...] = ()
    #: byte offset of the ISA in the file
    offset: int = 0
    #: the IEA segment (None when it is missing)
    trailer: Segment | None = None
    #: interchange-level segments between ISA and IEA outside groups (TA1, ISB/ISE)
    control_segments: tuple[Segment, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "sender": self.sender[1],
            "receiver": self.receiver[1],
            "control_number": self.control_number,
            "version": self.version,
            "status": self.status,
            "ta1_code": self.ta1_code,
            "groups": [g.as_json() for g in self.groups],
        }


@dataclass(frozen=True, slots=True)
class FileReport:
    """Verdict for one file: its interchanges, or a file-level error when no ISA is readable."""

    path: str
    interchanges: tuple[InterchangeReport, ...] = ()
    #: ``code``, ``reason`` (a stable detail such as ``"NO_ISA"`` or ``"UTF-16LE"``) and
    #: ``message``; ``crossdock validate --json`` shows only ``code`` and ``message``
    error: dict[str, str] | None = field(default=None)

    @property
    def accepted(self) -> bool:
        if self.error is not None:
            return False
        return all(
            i.status == "accepted" and all(g.status == "A" or g.status == "E" for g in i.groups)
            and all(t.status != "R" for g in i.groups for t in g.transactions)
            for i in self.interchanges
        )

    def as_json(self) -> dict[str, Any]:
        if self.error is not None:
            # the CLI contract: "error": {"code", "message"}; the reason stays on the object
            return {"path": self.path, "error": {key: self.error[key] for key in ("code", "message") if key in self.error}}
        return {"path": self.path, "interchanges": [i.as_json() for i in self.interchanges]}

