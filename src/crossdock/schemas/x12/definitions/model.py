"""The frozen model of X12 transaction-set definitions.

A definition is data: :class:`TransactionSetDef` holds the body of one set (the segments between
ST and SE) as :class:`SegmentUse` and :class:`LoopDef` nodes in the standard's order; each
segment is a :class:`SegmentDef` with its element and composite uses and syntax notes; each
element points at one :class:`ElementDef` of the shared element dictionary.

Requirement designators follow the standard: ``M`` mandatory, ``O`` optional, ``X`` conditional
(named by a syntax note of the segment). Unbounded max use / repeat (``>1``) is ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

__all__ = [
    "DataType",
    "Requirement",
    "ElementDef",
    "CompositeDef",
    "ElementUse",
    "CompositeUse",
    "SyntaxNote",
    "SegmentDef",
    "SegmentUse",
    "LoopDef",
    "BodyNode",
    "TransactionSetDef",
    "DefinitionLookup",
]

#: X12 data types: ID identifier, AN string, N0..N9 implied-decimal numeric, R decimal,
#: DT date, TM time, B binary.
DataType = str
Requirement = Literal["M", "O", "X"]


@dataclass(frozen=True, slots=True)
class ElementDef:
    """One data element of the dictionary.

    Attributes:
        ref: data element reference number (``"353"``); ``None`` for the few elements whose
            reference number the definitions do not record (validated by type and length only).
        name: the standard's name.
        data_type: ``ID``, ``AN``, ``N0``..``N9``, ``R``, ``DT``, ``TM`` or ``B``.
        min_length: minimum length (digits for numeric types, sign and point not counted).
        max_length: maximum length.
        codes: the code list we know for this element, or ``None``.
        codes_closed: ``True`` when ``codes`` is the complete list (a value outside it is an
            error); ``False`` when it is a common subset kept for writers and mappings.
    """

    ref: str | None
    name: str
    data_type: DataType
    min_length: int
    max_length: int
    codes: frozenset[str] | None = field(default=None, repr=False)
    codes_closed: bool = False

    @property
    def implied_decimals(self) -> int | None:
        """Digits after the implied decimal point for ``Nn`` types, else ``None``."""
        if len(self.data_type) == 2 and self.data_type[0] == "N" and self.data_type[1].isdigit():
            return int(self.data_type[1])
        return None


@dataclass(frozen=True, slots=True)
class ElementUse:
    """A simple element at a position of a segment (or a component of a composite).

    ``repeat`` is how many repetitions the element may have (00402 and later; 1 = not repeating).
    """

    position: int
    requirement: Requirement
    element: ElementDef
    repeat: int = 1


@dataclass(frozen=True, slots=True)
class CompositeDef:
    """A composite data structure (``C001``...) and its components in order."""

    ref: str
    name: str
    components: tuple[ElementUse, ...]


@dataclass(frozen=True, slots=True)
class CompositeUse:
    """A composite at a position of a segment (``repeat`` as for :class:`ElementUse`)."""

    position: int
    requirement: Requirement
    composite: CompositeDef
    repeat: int = 1


@dataclass(frozen=True, slots=True)
class SyntaxNote:
    """A relational condition between elements of one segment.

    Attributes:
        kind: ``P`` paired (all or none), ``R`` required (at least one), ``E`` exclusion (at
            most one), ``C`` conditional (if the first, then all others), ``L`` list conditional
            (if the first, then at least one other).
        positions: element positions, first one first.
    """

    kind: Literal["P", "R", "E", "C", "L"]
    positions: tuple[int, ...]

    @property
    def code(self) -> str:
        """The standard's notation, e.g. ``"P0304"``."""
        return self.kind + "".join(f"{p:02d}" for p in self.positions)


@dataclass(frozen=True, slots=True)
class SegmentDef:
    """A segment of the segment dictionary."""

    id: str
    name: str
    elements: tuple[ElementUse | CompositeUse, ...]
    syntax: tuple[SyntaxNote, ...] = ()


@dataclass(frozen=True, slots=True)
class SegmentUse:
    """A segment at a place in a transaction set: requirement and max use (``None`` = >1)."""

    segment: SegmentDef
    requirement: Literal["M", "O"]
    max_use: int | None


@dataclass(frozen=True, slots=True)
class LoopDef:
    """A loop: its id (the standard names loops after their first segment), requirement,
    repeat (``None`` = >1) and children; the first child is the loop's mandatory first segment."""

    id: str
    requirement: Literal["M", "O"]
    repeat: int | None
    children: tuple[Union[SegmentUse, "LoopDef"], ...]


BodyNode = Union[SegmentUse, LoopDef]


@dataclass(frozen=True, slots=True)
class TransactionSetDef:
    """One transaction set in one version: the body between ST and SE."""

    set_id: str
    version: str
    name: str
    functional_id: str
    body: tuple[BodyNode, ...]

    @property
    def key(self) -> str:
        """``"850/004010"``, as reported in :class:`~crossdock.schemas.x12.report.SetReport`."""
        return f"{self.set_id}/{self.version}"


@dataclass(frozen=True, slots=True)
class DefinitionLookup:
    """The answer of :func:`~crossdock.schemas.x12.definitions.load_definition`.

    Attributes:
        definition: the definition used, or ``None`` when the set is not defined at all.
        exact: ``True`` when the requested version is the one defined.
        note: why another version was used (a warning for the report), or why none was found.
        requested_version: the version asked for (e.g. GS08 ``"004030VICS"``).
    """

    definition: TransactionSetDef | None
    exact: bool
    note: str | None
    requested_version: str

    def __bool__(self) -> bool:
        return self.definition is not None
