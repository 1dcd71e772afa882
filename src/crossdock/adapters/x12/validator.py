"""Validate one transaction set (ST..SE) against its definition, one segment at a time.

The reader calls::

    validator = new_set_validator(st, functional_id, group_version, delimiters)
    for segment in body:            # every segment after ST, SE excluded
        validator.feed(segment)
    report = validator.finish(se)   # se is None when SE is missing

Each definition is compiled once (per set, version and delimiter pair, cached) into a state
machine: every loop knows, per segment id, the child positions where that id may occur, so a
segment moves the machine with one dict lookup in the common case. Element checks use the
compiled fast path of :mod:`crossdock.adapters.x12.validator_elements`.

Codes (997 / 999 use the same values for everything this validator reports):

=======  ==========================================================================
level    codes
=======  ==========================================================================
set      718/618: 1 not supported, 2 SE missing, 3 SE02 ≠ ST02, 4 SE01 wrong,
         5 segments in error, 6 ST01 invalid or not for GS01, 7 ST02 invalid
segment  720/620: 1 unrecognized id, 2 unexpected, 3 mandatory missing, 4 loop over
         maximum, 5 over maximum use, 6 not in this set, 7 out of sequence, 8 has
         element errors
element  723/621: see :mod:`~crossdock.adapters.x12.validator_elements`
=======  ==========================================================================

999-only implementation codes (I4, I6–I13) concern implementation guides, which the standard
definitions here do not model. ``X12Error.code_999`` is set only for "too many components"
(997: 6 invalid character, as 004010's element 723 has no 13; 999: 13).

Statuses: ``R`` when any error; ``E`` when only warnings; ``A`` otherwise. When the group's
version is not defined here (003040, 004030, 005030...) the nearest defined version is used:
that is a warning (code :data:`WARNING_NEAREST_VERSION`, which no acknowledgement carries), and
every segment or element finding against the borrowed definition is a warning too, since it may
be a true difference between releases. Envelope-level set checks (SE, ST02, unsupported set)
stay errors.

856-style hierarchies: every ``HL`` is checked (HL01 counts up from 1, HL02 names an open
ancestor) and the current HL03 level is named in messages of segments inside the HL loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from crossdock.adapters.x12.validator_elements import (
    EL_INVALID_CODE,
    ElementProblem,
    SegmentChecker,
    compile_segment,
)
from crossdock.schemas.x12.definitions import (
    DefinitionLookup,
    LoopDef,
    SegmentUse,
    known_segment_ids,
    load_definition,
)
from crossdock.schemas.x12.report import SetReport, X12Error
from crossdock.schemas.x12.tree import Delimiters, Segment

__all__ = [
    "SET_NOT_SUPPORTED",
    "SET_TRAILER_MISSING",
    "SET_CONTROL_NUMBER_MISMATCH",
    "SET_SEGMENT_COUNT_WRONG",
    "SET_SEGMENTS_IN_ERROR",
    "SET_ID_INVALID",
    "SET_CONTROL_NUMBER_INVALID",
    "SEG_UNRECOGNIZED",
    "SEG_UNEXPECTED",
    "SEG_MANDATORY_MISSING",
    "SEG_LOOP_OVER_MAX",
    "SEG_OVER_MAX_USE",
    "SEG_NOT_IN_SET",
    "SEG_OUT_OF_SEQUENCE",
    "SEG_ELEMENT_ERRORS",
    "WARNING_NEAREST_VERSION",
    "DEFAULT_MAX_ERRORS",
    "SetValidator",
    "new_set_validator",
    "validate_set",
]

# AK5-02..06 (718) / IK5-02..06 (618)
SET_NOT_SUPPORTED = "1"
SET_TRAILER_MISSING = "2"
SET_CONTROL_NUMBER_MISMATCH = "3"
SET_SEGMENT_COUNT_WRONG = "4"
SET_SEGMENTS_IN_ERROR = "5"
SET_ID_INVALID = "6"
SET_CONTROL_NUMBER_INVALID = "7"
# AK3-04 (720) / IK3-04 (620)
SEG_UNRECOGNIZED = "1"
SEG_UNEXPECTED = "2"
SEG_MANDATORY_MISSING = "3"
SEG_LOOP_OVER_MAX = "4"
SEG_OVER_MAX_USE = "5"
SEG_NOT_IN_SET = "6"
SEG_OUT_OF_SEQUENCE = "7"
SEG_ELEMENT_ERRORS = "8"
#: code of the warning that the nearest defined version was used (never sent in an ack)
WARNING_NEAREST_VERSION = "NEAREST_VERSION"
#: errors kept per set; later ones are counted, not stored, so memory stays bounded
DEFAULT_MAX_ERRORS = 1000

ST_SET_ID = 1
ST_CONTROL_NUMBER = 2
ST_IMPLEMENTATION_REF = 3
SE_SEGMENT_COUNT = 1
SE_CONTROL_NUMBER = 2
HL_ID = 1
HL_PARENT = 2
HL_LEVEL = 3
_CONTROL_NUMBER = re.compile(r"[^\x00-\x1f]{4,9}")
_SEGMENT_ID = re.compile(r"[A-Z0-9]{2,3}")
_UNBOUNDED = 1 << 62


# ---------------------------------------------------------------------------------------------
# the compiled machine


@dataclass(frozen=True, slots=True)
class _Seg:
    id: str
    mandatory: bool
    max_use: int
    checker: SegmentChecker


@dataclass(frozen=True, slots=True)
class _Loop:
    id: str | None
    mandatory: bool
    repeat: int
    children: tuple[_Seg | _Loop, ...]
    #: segment id -> child positions where it (or a loop starting with it) may occur
    index: dict[str, tuple[int, ...]]
    #: positions of mandatory children after the first (checked when a segment skips ahead)
    mandatory_after_first: tuple[int, ...]
    #: id of the loop's first segment (a loop always starts with a segment)
    first_id: str


@dataclass(frozen=True, slots=True)
class _Machine:
    key: str
    functional_id: str
    root: _Loop
    #: every segment id the set defines, anywhere
    defined_ids: frozenset[str]
    known_ids: frozenset[str]


def _compile_loop(
    loop_id: str | None,
    mandatory: bool,
    repeat: int | None,
    nodes: tuple[SegmentUse | LoopDef, ...],
    checkers: dict[str, SegmentChecker],
    separators: tuple[str, str],
) -> _Loop:
    children: list[_Seg | _Loop] = []
    for node in nodes:
        if isinstance(node, LoopDef):
            children.append(_compile_loop(node.id, node.requirement == "M", node.repeat, node.children, checkers, separators))
            continue
        seg = node.segment
        checker = checkers.get(seg.id)
        if checker is None:
            checker = checkers[seg.id] = compile_segment(seg, *separators)
        children.append(_Seg(seg.id, node.requirement == "M", node.max_use or _UNBOUNDED, checker))
    index: dict[str, list[int]] = {}
    for position, child in enumerate(children):
        first = child.id if isinstance(child, _Seg) else child.first_id
        index.setdefault(first, []).append(position)
    required = tuple(i for i, child in enumerate(children) if i and child.mandatory)
    first_id = children[0].id if isinstance(children[0], _Seg) else children[0].first_id
    index_tuples = {k: tuple(v) for k, v in index.items()}
    return _Loop(loop_id, mandatory, repeat or _UNBOUNDED, tuple(children), index_tuples, required, first_id)


def _ids(loop: _Loop) -> set[str]:
    out: set[str] = set()
    for child in loop.children:
        out.update({child.id} if isinstance(child, _Seg) else _ids(child))
    return out


@lru_cache(maxsize=64)
def _machine(set_id: str, version: str, element_sep: str, component_sep: str) -> _Machine | None:
    lookup = load_definition(set_id, version)
    definition = lookup.definition
    if definition is None:
        return None
    root = _compile_loop(None, True, 1, definition.body, {}, (element_sep, component_sep))
    return _Machine(definition.key, definition.functional_id, root, frozenset(_ids(root)), known_segment_ids(definition.version))


# ---------------------------------------------------------------------------------------------
# the validator


class SetValidator:
    """Streaming validator of one transaction set; see the module docstring.

    Memory is bounded: the loop stack, the open HL ancestors and at most ``max_errors`` errors.
    """

    __slots__ = (
        "_st",
        "_lookup",
        "_machine",
        "_stack",
        "_count",
        "_errors",
        "_suppressed",
        "_max_errors",
        "_hl_count",
        "_hl_open",
        "_hl_level",
        "_segments_in_error",
    )

    def __init__(self, st: Segment, lookup: DefinitionLookup, machine: _Machine | None, max_errors: int) -> None:
        self._st = st
        self._lookup = lookup
        self._machine = machine
        self._count = 0
        self._errors: list[X12Error] = []
        self._suppressed = 0
        self._max_errors = max_errors
        self._hl_count = 0
        self._hl_open: list[str] = []
        self._hl_level = ""
        self._segments_in_error = False
        self._stack: list[list] = []
        if machine is not None:
            # [loop, current child, per-child use counts, lowest child a repeat may match]
            self._stack.append([machine.root, 0, [0] * len(machine.root.children), 0])

    # -- recording ------------------------------------------------------------------------------

    def _add(self, error: X12Error) -> None:
        if error.level in ("segment", "element"):
            if not self._lookup.exact:
                # validated against another version: differences are noted, not rejected
                error = replace(error, severity="warning")
            else:
                self._segments_in_error = True
        if len(self._errors) < self._max_errors:
            self._errors.append(error)
        else:
            self._suppressed += 1

    def _segment_error(self, code: str, message: str, segment_id: str, position: int, loop_id: str | None) -> None:
        self._add(X12Error("segment", code, message, segment_id=segment_id, segment_position=position, loop_id=loop_id))

    def _element_errors(self, segment: Segment, position: int, loop_id: str | None, problems: list[ElementProblem]) -> None:
        where = self._where(loop_id)
        self._segment_error(SEG_ELEMENT_ERRORS, f"segment {segment.id}{where} has data element errors", segment.id, position, loop_id)
        for p in problems:
            self._add(
                X12Error(
                    "element",
                    p.code,
                    p.message,
                    segment_id=segment.id,
                    segment_position=position,
                    element_position=p.position,
                    component_position=p.component,
                    repetition_position=p.repetition,
                    element_ref=p.ref,
                    loop_id=loop_id,
                    bad_value=p.bad_value,
                    code_999=p.code_999,
                )
            )

    def _where(self, loop_id: str | None) -> str:
        if loop_id is None:
            return ""
        if loop_id == "HL" and self._hl_level:
            return f" in loop HL (level {self._hl_level})"
        return f" in loop {loop_id}"

    # -- feeding --------------------------------------------------------------------------------

    def feed(self, segment: Segment) -> None:
        """Validate the next segment of the body (after ST, SE excluded)."""
        self._count += 1
        if self._machine is None:
            return
        sid = segment[0]
        stack = self._stack
        frame = stack[-1]
        loop = frame[0]
        candidates = loop.index.get(sid)
        if candidates is not None:
            current = frame[1]
            # a loop's first segment again starts a new iteration, found one level up
            lowest = current or frame[3]
            for p in candidates:
                if p >= lowest:
                    child = loop.children[p]
                    if child.__class__ is not _Seg:
                        self._move(len(stack) - 1, p, segment, self._count + 1)
                        return
                    counts = frame[2]
                    if p == current and counts[p] < child.max_use and sid != "HL":
                        # the commonest case of all: the same segment again, within its max use
                        counts[p] += 1
                        checker = child.checker
                        try:
                            if checker.element_sep.join(segment[1]) in checker.clean:
                                return
                        except TypeError:
                            pass
                        if not checker.is_clean(segment[1]):
                            self._check_segment(child, segment, self._count + 1, loop.id)
                        return
                    self._next_segment(frame, loop, child, current, p, segment)
                    return
        if sid == loop.first_id and len(stack) > 1:
            # the innermost loop starts its next iteration (the most common loop transition)
            self._close(stack.pop(), self._count + 1)
            parent = stack[-1]
            self._enter(parent, parent[1], loop, segment, self._count + 1)
            return
        located = self._locate(sid)
        if located is None:
            self._misplaced(segment, self._count + 1)
            return
        self._move(located[0], located[1], segment, self._count + 1)

    def _next_segment(self, frame: list, loop: _Loop, child: _Seg, current: int, p: int, segment: Segment) -> None:
        """The common case: a segment of the innermost open loop, at or after the current one."""
        counts = frame[2]
        if (p > current + 1 and loop.mandatory_after_first) or counts[current] == 0:
            # (a zero count at the current position only happens before the set's first segment)
            self._missing_between(loop, counts, current, p, self._count + 1)
        frame[1] = p
        uses = counts[p] = counts[p] + 1
        if uses > child.max_use:
            self._segment_error(SEG_OVER_MAX_USE, f"segment {child.id} exceeds its maximum use of {child.max_use}{self._where(loop.id)}", child.id, self._count + 1, loop.id)
        if segment[0] == "HL" or not child.checker.is_clean(segment[1]):
            self._check_segment(child, segment, self._count + 1, loop.id)

    def _locate(self, sid: str) -> tuple[int, int] | None:
        """Where ``sid`` may occur from here: (stack depth, child position), innermost first."""
        stack = self._stack
        for depth in range(len(stack) - 2, -1, -1):
            loop, current = stack[depth][0], stack[depth][1]
            for p in loop.index.get(sid, ()):
                if p >= current:
                    return depth, p
        return None

    def _move(self, depth: int, p: int, segment: Segment, position: int) -> None:
        stack = self._stack
        while len(stack) - 1 > depth:
            self._close(stack.pop(), position)
        frame = stack[depth]
        loop, current, counts = frame[0], frame[1], frame[2]
        if p > current and (loop.mandatory_after_first or counts[0] == 0):
            self._missing_between(loop, counts, current, p, position)
        child = loop.children[p]
        if isinstance(child, _Loop):
            self._enter(frame, p, child, segment, position)
            return
        frame[1] = p
        counts[p] += 1
        if counts[p] > child.max_use:
            self._segment_error(SEG_OVER_MAX_USE, f"segment {child.id} exceeds its maximum use of {child.max_use}{self._where(loop.id)}", segment.id, position, loop.id)
        self._check_segment(child, segment, position, loop.id)

    def _enter(self, frame: list, p: int, child: _Loop, segment: Segment, position: int) -> None:
        """Start an iteration of loop ``child`` (at position ``p`` of ``frame``) with ``segment``."""
        frame[1] = p
        counts = frame[2]
        counts[p] += 1
        if counts[p] > child.repeat:
            self._segment_error(SEG_LOOP_OVER_MAX, f"loop {child.id} occurs more than {child.repeat} times", segment[0], position, child.id)
        inner = [0] * len(child.children)
        inner[0] = 1
        self._stack.append([child, 0, inner, 1])
        first: _Seg = child.children[0]  # type: ignore[assignment]
        if segment[0] == "HL" or not first.checker.is_clean(segment[1]):
            self._check_segment(first, segment, position, child.id)

    def _check_segment(self, use: _Seg, segment: Segment, position: int, loop_id: str | None) -> None:
        hl_problems = self._check_hl(segment) if segment.id == "HL" else None
        if use.checker.is_clean(segment.elements) and not hl_problems:
            return
        problems = use.checker.problems(segment.elements)
        if hl_problems:
            problems.extend(hl_problems)
        if problems:
            self._element_errors(segment, position, loop_id, problems)

    def _missing_between(self, loop: _Loop, counts: list[int], start: int, end: int, position: int) -> None:
        for i in range(start, end):
            child = loop.children[i]
            if child.mandatory and counts[i] == 0:
                self._report_missing(child, loop, position)

    def _close(self, frame: list, position: int) -> None:
        loop, current, counts = frame[0], frame[1], frame[2]
        if current == 0 and counts[0] == 0 and loop.children[0].mandatory:  # an empty set body
            self._report_missing(loop.children[0], loop, position)
        for i in loop.mandatory_after_first:
            if i > current and counts[i] == 0:
                self._report_missing(loop.children[i], loop, position)

    def _report_missing(self, child: _Seg | _Loop, loop: _Loop, position: int) -> None:
        seg_id = child.id if isinstance(child, _Seg) else child.first_id
        what = f"segment {seg_id}" if isinstance(child, _Seg) else f"loop {child.id}"
        self._segment_error(SEG_MANDATORY_MISSING, f"mandatory {what} is missing{self._where(loop.id)}", seg_id, position, loop.id)

    def _misplaced(self, segment: Segment, position: int) -> None:
        machine = self._machine
        assert machine is not None
        sid = segment.id
        loop_id = self._stack[-1][0].id
        if sid in machine.defined_ids:
            earlier = any(p < frame[1] for frame in self._stack for p in frame[0].index.get(sid, ()))
            if earlier:
                code, why = SEG_OUT_OF_SEQUENCE, "is not in proper sequence"
            else:
                code, why = SEG_UNEXPECTED, "is not expected here"
        elif sid in machine.known_ids:
            code, why = SEG_NOT_IN_SET, f"is not in transaction set {machine.key}"
        else:
            code, why = SEG_UNRECOGNIZED, "is not a recognized segment id"
        shown = sid if _SEGMENT_ID.fullmatch(sid) else sid[:8]
        self._segment_error(code, f"segment {shown} {why}{self._where(loop_id)}", shown, position, loop_id)

    def _check_hl(self, segment: Segment) -> list[ElementProblem]:
        """HL01 counts up from 1; HL02 names an open ancestor (depth-first hierarchy)."""
        problems: list[ElementProblem] = []
        self._hl_count += 1
        elements = segment[1]
        count = len(elements)
        hl_id = elements[HL_ID - 1] if count >= HL_ID else ""
        parent = elements[HL_PARENT - 1] if count >= HL_PARENT else ""
        level = elements[HL_LEVEL - 1] if count >= HL_LEVEL else ""
        if not (isinstance(hl_id, str) and isinstance(parent, str) and isinstance(level, str)):
            return []  # a composite here is already an element error of the segment
        if hl_id != str(self._hl_count):
            problems.append(ElementProblem(EL_INVALID_CODE, HL_ID, f"HL01 is {hl_id[:12]!r}, expected {self._hl_count} (HL01 counts up from 1)", None, None, "628", hl_id[:99]))
        open_ids = self._hl_open
        if parent:
            if parent in open_ids:
                del open_ids[open_ids.index(parent) + 1 :]
            else:
                problems.append(ElementProblem(EL_INVALID_CODE, HL_PARENT, f"HL02 parent {parent[:12]!r} is not an open ancestor HL", None, None, "734", parent[:99]))
                open_ids.clear()
        else:
            open_ids.clear()
        open_ids.append(hl_id)
        self._hl_level = level
        return problems

    # -- finishing ------------------------------------------------------------------------------

    def finish(self, se: Segment | None) -> SetReport:
        """Close the set and return its verdict.

        Args:
            se: the SE segment, or ``None`` when the set ended without one.

        Returns:
            The :class:`SetReport` (status ``A``, ``E`` or ``R``).
        """
        position = self._count + 2
        while self._stack:
            self._close(self._stack.pop(), position)
        set_errors = self._set_errors(se, position)
        if self._segments_in_error:
            set_errors.append(X12Error("set", SET_SEGMENTS_IN_ERROR, "one or more segments are in error"))
        errors = set_errors + self._errors
        if self._suppressed:
            errors.append(X12Error("set", SET_SEGMENTS_IN_ERROR, f"{self._suppressed} further errors not listed", severity="warning"))
        return self._report(tuple(errors), se is not None)

    def _set_errors(self, se: Segment | None, position: int) -> list[X12Error]:
        out: list[X12Error] = []
        lookup, st = self._lookup, self._st
        set_id, control = st.get(ST_SET_ID), st.get(ST_CONTROL_NUMBER)
        if lookup.definition is None:
            out.append(X12Error("set", SET_NOT_SUPPORTED, f"transaction set {set_id[:6]!r} is not supported", segment_id="ST", segment_position=1))
        elif lookup.note is not None:
            out.append(X12Error("set", WARNING_NEAREST_VERSION, lookup.note, segment_id="ST", segment_position=1, severity="warning"))
        if _CONTROL_NUMBER.fullmatch(control) is None:
            out.append(X12Error("set", SET_CONTROL_NUMBER_INVALID, "ST02 must be 4 to 9 characters", segment_id="ST", segment_position=1, element_position=ST_CONTROL_NUMBER, bad_value=control[:99]))
        if se is None:
            out.append(X12Error("set", SET_TRAILER_MISSING, "SE is missing", segment_id="SE", segment_position=position))
            return out
        if se.get(SE_CONTROL_NUMBER) != control:
            out.append(X12Error("set", SET_CONTROL_NUMBER_MISMATCH, "SE02 does not match ST02", segment_id="SE", segment_position=position, element_position=SE_CONTROL_NUMBER, bad_value=se.get(SE_CONTROL_NUMBER)[:99]))
        declared = se.get(SE_SEGMENT_COUNT)
        if not (declared.isdigit() and int(declared) == position):
            out.append(X12Error("set", SET_SEGMENT_COUNT_WRONG, f"SE01 says {declared[:12]!r}, the set has {position} segments", segment_id="SE", segment_position=position, element_position=SE_SEGMENT_COUNT, bad_value=declared[:99]))
        return out

    def _report(self, errors: tuple[X12Error, ...], has_se: bool) -> SetReport:
        if any(e.severity == "error" for e in errors):
            status = "R"
        elif errors:
            status = "E"
        else:
            status = "A"
        implementation_ref = self._st.get(ST_IMPLEMENTATION_REF) or None
        definition = self._lookup.definition.key if self._lookup.definition else None
        return SetReport(
            set_id=self._st.get(ST_SET_ID),
            control_number=self._st.get(ST_CONTROL_NUMBER),
            status=status,
            errors=errors,
            definition=definition,
            implementation_ref=implementation_ref,
            segment_count=self._count + (2 if has_se else 1),
        )


def new_set_validator(
    st: Segment,
    functional_id: str,
    group_version: str,
    delimiters: Delimiters,
    *,
    max_errors: int = DEFAULT_MAX_ERRORS,
) -> SetValidator:
    """Start validating one transaction set.

    Args:
        st: the ST segment.
        functional_id: GS01 of the enclosing group (checked against the set's functional id).
        group_version: GS08 (nearest defined version used, with a warning, when not defined).
        delimiters: the interchange's delimiters (the fast path is compiled for them).
        max_errors: errors kept per set (further ones are only counted).

    Returns:
        A :class:`SetValidator`; never raises on bad input (unknown sets are reported AK5 1).
    """
    set_id = st.get(ST_SET_ID)
    lookup = load_definition(set_id, group_version)
    machine = None
    if lookup.definition is not None:
        machine = _machine(set_id, lookup.definition.version, delimiters.element, delimiters.component)
    validator = SetValidator(st, lookup, machine, max_errors)
    if machine is not None and functional_id != machine.functional_id:
        validator._add(
            X12Error(
                "set",
                SET_ID_INVALID,
                f"transaction set {set_id} belongs in a {machine.functional_id} group, not {functional_id[:3]!r}",
                segment_id="ST",
                segment_position=1,
                element_position=ST_SET_ID,
                bad_value=set_id,
            )
        )
    return validator


def validate_set(
    segments: tuple[Segment, ...] | list[Segment],
    functional_id: str,
    group_version: str,
    delimiters: Delimiters,
) -> SetReport:
    """Validate a whole set held in memory: ST first, SE last when present.

    Args:
        segments: the set's segments, ST first; the last one is taken as SE when its id is SE.
        functional_id: GS01.
        group_version: GS08.
        delimiters: the interchange's delimiters.

    Returns:
        The set's :class:`SetReport`.
    """
    st = segments[0]
    has_se = len(segments) > 1 and segments[-1].id == "SE"
    body = segments[1:-1] if has_se else segments[1:]
    validator = new_set_validator(st, functional_id, group_version, delimiters)
    for segment in body:
        validator.feed(segment)
    return validator.finish(segments[-1] if has_se else None)
