"""The parsed X12 tree: delimiter-independent, immutable values.

An element value is one of:

* ``str`` — a simple element (``""`` when empty);
* ``Composite`` — a tuple of component strings (the element contained the component separator);
* ``Repeats`` — a tuple of repetitions, each a ``str`` or ``Composite`` (element contained the
  repetition separator, 00402 and later).

Positions follow the standard: ``segment.elements[0]`` is element 01. Trailing empty elements
are dropped on parse, so ``N1*ST*NAME**~`` and ``N1*ST*NAME~`` are the same segment.

The tree is what mappings read and what the writer serializes; it holds no delimiters, so
``parse(serialize(tree, any_delimiters)) == tree``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Union

__all__ = [
    "Composite",
    "Repeats",
    "Value",
    "Delimiters",
    "Segment",
    "Transaction",
    "Group",
    "Interchange",
    "DEFAULT_DELIMITERS",
]


class Composite(tuple):
    """Components of a composite element, in order (component 1 first)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Composite({tuple.__repr__(self)})"


class Repeats(tuple):
    """Repetitions of a repeating element (ISA11 repetition separator)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Repeats({tuple.__repr__(self)})"


Value = Union[str, Composite, Repeats]


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The four X12 separators, as single characters."""

    element: str = "*"
    segment: str = "~"
    component: str = ":"
    repetition: str | None = "^"
    #: what follows each segment terminator when writing (``""``, ``"\\n"`` or ``"\\r\\n"``)
    suffix: str = ""


DEFAULT_DELIMITERS = Delimiters()


class Segment(NamedTuple):
    """One segment: its id (``"PO1"``) and its elements (element 01 first)."""

    id: str
    elements: tuple[Value, ...] = ()

    def get(self, position: int, component: int | None = None, default: str = "") -> str:
        """Element ``position`` (1-based) as a string, or one component (1-based) of it.

        A composite read without ``component`` gives its first component; a repeated
        element gives its first repetition.
        """
        if position < 1 or position > len(self.elements):
            return default
        value = self.elements[position - 1]
        if isinstance(value, Repeats):
            value = value[0] if value else ""
        if isinstance(value, Composite):
            index = (component or 1) - 1
            return value[index] if index < len(value) else default
        if component is not None and component != 1:
            return default
        return value or default


@dataclass(frozen=True, slots=True)
class Transaction:
    """One transaction set, ST to SE inclusive."""

    segments: tuple[Segment, ...]

    @property
    def set_id(self) -> str:
        return self.segments[0].get(1) if self.segments else ""

    @property
    def control_number(self) -> str:
        return self.segments[0].get(2) if self.segments else ""

    @property
    def body(self) -> tuple[Segment, ...]:
        """Segments between ST and SE."""
        return self.segments[1:-1]


@dataclass(frozen=True, slots=True)
class Group:
    """One functional group: GS, its transaction sets, GE."""

    header: Segment
    transactions: tuple[Transaction, ...]
    trailer: Segment | None

    @property
    def functional_id(self) -> str:
        return self.header.get(1)

    @property
    def control_number(self) -> str:
        return self.header.get(6)

    @property
    def version(self) -> str:
        return self.header.get(8)


@dataclass(frozen=True, slots=True)
class Interchange:
    """One interchange: ISA, groups, IEA, and the delimiters it was read with."""

    header: Segment
    groups: tuple[Group, ...]
    trailer: Segment | None
    delimiters: Delimiters = DEFAULT_DELIMITERS
    #: interchange-level segments between ISA and the first GS (TA1 acknowledgements, ISB/ISE)
    control_segments: tuple[Segment, ...] = ()

    @property
    def sender(self) -> tuple[str, str]:
        """(ISA05 qualifier, ISA06 id stripped)."""
        return self.header.get(5), self.header.get(6).strip()

    @property
    def receiver(self) -> tuple[str, str]:
        """(ISA07 qualifier, ISA08 id stripped)."""
        return self.header.get(7), self.header.get(8).strip()

    @property
    def control_number(self) -> str:
        return self.header.get(13)

    @property
    def version(self) -> str:
        return self.header.get(12)
