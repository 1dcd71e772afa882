"""The X12 source-path grammar of mapping rules, after pyx12's ``path.py``.

::

    path      := step [element]
    step      := SEG [ "[" qualifier "]" ]        SEG is the 2-3 character segment id
    qualifier := code ("|" code)*                 element 01 is one of the codes
               | NN "=" code ("|" code)*           element NN is one of the codes
    element   := NN [ "-" C ] [ ".." NN ]          position, component, last position of a range

Examples: ``BEG03``, ``N1[ST]02``, ``REF[PO|CO]02``, ``DTM[002]02``, ``PID[F]05``,
``HL[03=O]``, ``PO106..25`` (elements 06 to 25), ``UIT01-1`` (component 1 of element 01).
A path is relative to the loop instance being mapped; nesting (``PO1`` loop, then ``PID`` in it)
is expressed by the rules (``Each("lines", "PO1", rules=(Field(..., "PID[F]05"), ...))``), so a
path never reaches into a loop the rules have not entered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from crossdock.schemas.errors import SpecInvalid

__all__ = ["Qualifier", "Step", "X12Path", "parse_path"]

_STEP = re.compile(
    r"^(?P<seg>[A-Z][A-Z0-9]{1,2}?)(?:\[(?P<q>[^\]]+)\])?"
    r"(?P<el>\d{2})?(?:-(?P<comp>\d{1,2}))?(?:\.\.(?P<last>\d{2}))?$"
)
_QUALIFIER = re.compile(r"^(?:(?P<pos>\d{2})=)?(?P<codes>[^=]+)$")


@dataclass(frozen=True, slots=True)
class Qualifier:
    """Element ``position`` must hold one of ``codes``."""

    position: int
    codes: tuple[str, ...]

    def matches(self, elements: tuple[object, ...]) -> bool:
        if self.position > len(elements):
            return False
        value = elements[self.position - 1]
        text = value if isinstance(value, str) else (value[0] if value else "")
        return text in self.codes


@dataclass(frozen=True, slots=True)
class Step:
    """A segment id with an optional qualifier."""

    segment: str
    qualifier: Qualifier | None = None

    def matches(self, segment_id: str, elements: tuple[object, ...]) -> bool:
        return segment_id == self.segment and (self.qualifier is None or self.qualifier.matches(elements))


@dataclass(frozen=True, slots=True)
class X12Path:
    """A parsed source path: the segment (with qualifier) and the element (or element range)."""

    text: str
    step: Step
    element: int | None = None
    component: int | None = None
    last: int | None = None

    @property
    def positions(self) -> tuple[int, ...]:
        """Element positions the path reads (one, or the whole range)."""
        if self.element is None:
            return ()
        return tuple(range(self.element, (self.last or self.element) + 1))


def _parse_qualifier(text: str, path: str) -> Qualifier:
    match = _QUALIFIER.match(text)
    if match is None:
        raise SpecInvalid(f"bad qualifier [{text}] in path {path!r}", code="SPEC_PATH_INVALID")
    return Qualifier(int(match["pos"] or 1), tuple(match["codes"].split("|")))


@lru_cache(maxsize=4096)
def parse_path(text: str) -> X12Path:
    """Parse a rule's source path (cached: specs reuse the same paths).

    Raises:
        SpecInvalid: (code ``SPEC_PATH_INVALID``) the text does not follow the grammar.
    """
    match = _STEP.match(text)
    if match is None:
        raise SpecInvalid(f"bad path {text!r}", code="SPEC_PATH_INVALID")
    if (match["comp"] or match["last"]) and not match["el"]:
        raise SpecInvalid(f"component or range without element in {text!r}", code="SPEC_PATH_INVALID")
    qualifier = _parse_qualifier(match["q"], text) if match["q"] else None
    element = int(match["el"]) if match["el"] else None
    last = int(match["last"]) if match["last"] else None
    if element is not None and (element < 1 or (last is not None and last < element)):
        raise SpecInvalid(f"bad element position in {text!r}", code="SPEC_PATH_INVALID")
    component = int(match["comp"]) if match["comp"] else None
    return X12Path(text, Step(match["seg"], qualifier), element, component, last)
