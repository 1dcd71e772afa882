"""Validate one transaction set (ST..SE) against its definition, one segment at a time.

The reader calls::

    validator = new_set_validator(st, functional_id, group_version, delimiters)
    for segment in body:            # every segment after ST, SE excluded
        validator.feed(segment)
    report = validator.finish(se)   # se is None when SE is missing

The reader's fast protocol skips the trees: ``validator.feed_texts(pieces, start, ...)``
validates segment texts straight from the tokenizer's split, up to the next envelope segment.

Each definition is compiled once (per set, version, delimiter pair and character set, cached)
into a state machine. A state is one configuration of the loop stack (which child each open loop
is at); the move a segment id makes from a state (loops closed, mandatory children skipped,
the child reached, the loop entered, the next state) is computed on first use and kept, so in
the steady state a segment costs one dict lookup, a few list updates and its element check.
Element checks use the compiled fast path of :mod:`crossdock.adapters.x12.validator_elements`
(a cache of raw segment texts already found clean, then a generated check of the split
elements, one per element count); only a failing segment runs the detailed checker that names
its errors. Per set, the definition lookup and machine come from one cached call, and the
verdict of a clean set is built without intermediate objects.

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
ancestor) and the current HL03 level is named in messages of segments inside the HL loop. An
HL with an unknown parent is reported and then taken as a child of the HL before it, so the
HLs after it are judged against the right ancestors.

Character sets (``basic``, ``extended``, ``utf8``): characters outside the agreed set are
element errors, code 6 (see :mod:`~crossdock.adapters.x12.validator_elements`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import NamedTuple

from crossdock.adapters.x12._tokens import first_three
from crossdock.adapters.x12._tokens import split_values as _split_values
from crossdock.adapters.x12.validator_elements import (
    CLEAN_CACHE_SIZE,
    DEFAULT_CHARSET,
    EL_INVALID_CODE,
    Charset,
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
from crossdock.schemas.x12.tree import Delimiters, Segment, Value

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
    "set_validator_factory",
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

# envelope element positions (ST01..ST03 and SE01..SE02 are read together by first_three)
ST_SET_ID = 1
ST_CONTROL_NUMBER = 2
SE_SEGMENT_COUNT = 1
SE_CONTROL_NUMBER = 2
HL_ID = 1
HL_PARENT = 2
HL_LEVEL = 3
#: ids that end a run of body segments in the reader (and never have a place in a set)
_NO_PLACE = ("ISA", "IEA", "GS", "GE", "ST", "SE", "")
_CONTROL_NUMBER = re.compile(r"[^\x00-\x1f]{4,9}")
_SEGMENT_ID = re.compile(r"[A-Z0-9]{2,3}")
_UNBOUNDED = 1 << 62
#: open HL ancestors kept at most (a run of HLs with unknown parents must not grow it unbounded)
HL_MAX_DEPTH = 256


def _plain_segment(parts: list[str]) -> Segment:
    """The tree of a split segment text without composites (trailing empty elements dropped)."""
    while len(parts) > 1 and not parts[-1]:
        parts.pop()
    return tuple.__new__(Segment, (parts[0], tuple(parts[1:])))  # Segment(...) without its Python __new__


# ---------------------------------------------------------------------------------------------
# the compiled machine


@dataclass(frozen=True, slots=True, eq=False)
class _Seg:
    id: str
    mandatory: bool
    max_use: int
    checker: SegmentChecker


@dataclass(frozen=True, slots=True, eq=False)  # identity: states are keyed by loop objects
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


class _Step(NamedTuple):
    """What one segment id does from one state: computed once, applied per segment.

    Within one loop iteration the current position only moves forward, so every child after it
    is still unused: the mandatory children a move skips (or a closed loop never reached) are
    known from the states alone, and use counts are only needed for the current position (a
    run length per open loop, for max use and loop repeat). The hot loop reads it through its
    plain-tuple :func:`_move`.
    """

    #: loop frames closed (innermost first)
    pops: int
    #: the segment repeats the current position of its loop (else it starts a new run)
    same: bool
    #: max use (segment) or repeat (loop) of the child reached
    limit: int
    #: the segment starts an iteration of a loop (one frame pushed)
    enter: bool
    #: the move itself reports mandatory children missing (``closes`` or ``missing``)
    flagged: bool
    #: the state after the segment
    state: _State
    #: the loop id reported for the segment
    loop_id: str | None
    #: the checker of the segment
    checker: SegmentChecker
    #: the segment is an HL (its hierarchy is checked too)
    hl: bool
    #: the loop the segment lands in (before a loop it enters)
    loop: _Loop
    #: mandatory children of ``loop`` skipped over
    missing: tuple[_Seg | _Loop, ...]
    #: per closed frame (innermost first): its loop and the mandatory children it never reached
    closes: tuple[tuple[_Loop, tuple[_Seg | _Loop, ...]], ...]
    #: the child reached (a segment, or the loop entered)
    child: _Seg | _Loop


#: ``(plain, restart, pops, same, limit, enter, flagged, state, moves, clean, text_ok, by_count, hl,
#: step)``: a step as the hot loop unpacks it, with the next state's moves and the checker's
#: fast-path parts bound in. The two commonest moves have their own flags: ``plain`` only starts
#: a new run in the current loop (most segments), ``restart`` begins the next iteration of the
#: innermost loop (every PO1 or HL after the first): its frame's run count starts again at 1
#: and the loop's own run, one frame up, counts one more iteration
_Move = tuple


def _move(step: _Step) -> _Move:
    """The plain tuple of ``step`` (unpacking a tuple subclass such as a NamedTuple goes through
    the iterator protocol, several times slower than an exact tuple)."""
    checker = step.checker
    plain = not (step.pops or step.same or step.enter or step.flagged)
    restart = step.pops == 1 and step.same and step.enter and not step.flagged
    return (plain, restart, step.pops, step.same, step.limit, step.enter, step.flagged, step.state,
            step.state.moves, checker.clean_raw, checker.text_ok, checker.by_count, step.hl, step)


class _State:
    """One configuration of the loop stack: ``(loop, current position)`` per depth, root first.

    The transitions from it are computed on first use and kept (a set definition has few
    reachable configurations), so moving costs one dict lookup per segment.
    """

    __slots__ = ("path", "initial", "moves", "_machine", "_left_open")

    def __init__(self, path: tuple[tuple[_Loop, int], ...], initial: bool, machine: _Machine) -> None:
        self.path = path
        #: the root before the set's first segment (its position 0 is not used yet)
        self.initial = initial
        #: segment id -> its move from here, computed on first use; envelope ids (and the empty
        #: segment) never have a place in a set: they map to None from the start, so the hot
        #: loop tests for them only when a lookup finds no move
        self.moves: dict[str, _Move | None] = dict.fromkeys(_NO_PLACE)
        self._machine = machine
        self._left_open: tuple[tuple[_Seg | _Loop, _Loop], ...] | None = None

    def left_open(self) -> tuple[tuple[_Seg | _Loop, _Loop], ...]:
        """``(child, loop)`` for every mandatory child the set never reached when it ends here,
        innermost loop first (computed once; every child after the current one of each open
        loop is unused in its iteration)."""
        found = self._left_open
        if found is None:
            out: list[tuple[_Seg | _Loop, _Loop]] = []
            for loop, current in reversed(self.path):
                if self.initial and loop.children[0].mandatory:  # an empty set body
                    out.append((loop.children[0], loop))
                out.extend((loop.children[i], loop) for i in loop.mandatory_after_first if i > current)
            found = self._left_open = tuple(out)
        return found

    def step(self, sid: str) -> _Step | None:
        """The move ``sid`` makes from here (cached), or ``None`` when it has no place."""
        found = self.moves.get(sid)
        if found is None:
            target = self._target(sid)
            if target is None:
                return None
            found = self.moves[sid] = _move(self._build(*target))
        return found[-1]

    def _target(self, sid: str) -> tuple[int, int] | None:
        """(depth, child position) where ``sid`` goes: the innermost loop first (a repeat of its
        first segment starts its next iteration, found one level up), then outer loops."""
        path = self.path
        loop, current = path[-1]
        lowest = current if current or len(path) == 1 else 1
        for p in loop.index.get(sid, ()):
            if p >= lowest:
                return len(path) - 1, p
        if sid == loop.first_id and len(path) > 1:
            return len(path) - 2, path[-2][1]
        for depth in range(len(path) - 2, -1, -1):
            outer, current = path[depth]
            for p in outer.index.get(sid, ()):
                if p >= current:
                    return depth, p
        return None

    def _build(self, depth: int, p: int) -> _Step:
        path = self.path
        closes = []
        for k in range(len(path) - 1, depth, -1):
            closed, current = path[k]
            never = tuple(closed.children[i] for i in closed.mandatory_after_first if i > current)
            if never:
                closes.append((closed, never))
        loop, current = path[depth]
        first = 0 if self.initial else current + 1
        missing = tuple(loop.children[i] for i in range(first, p) if loop.children[i].mandatory)
        same = p == current and not self.initial
        child = loop.children[p]
        head = path[:depth] + ((loop, p),)
        if isinstance(child, _Seg):
            seg, limit, loop_id, after = child, child.max_use, loop.id, head
        else:
            seg, limit, loop_id, after = child.children[0], child.repeat, child.id, head + ((child, 0),)  # type: ignore[assignment]
        checker = seg.checker  # type: ignore[union-attr]
        return _Step(len(path) - 1 - depth, same, limit, isinstance(child, _Loop), bool(closes or missing),
                     self._machine.state(after), loop_id, checker, seg.id == "HL", loop, missing,  # type: ignore[union-attr]
                     tuple(closes), child)


class _Machine:
    """A set definition compiled for one delimiter pair and character set (cached, shared)."""

    __slots__ = ("set_id", "key", "functional_id", "root", "defined_ids", "known_ids", "_states", "start")

    def __init__(self, set_id: str, key: str, functional_id: str, root: _Loop, known_ids: frozenset[str]) -> None:
        self.set_id = set_id
        self.key = key
        self.functional_id = functional_id
        self.root = root
        #: every segment id the set defines, anywhere
        self.defined_ids = frozenset(_ids(root))
        self.known_ids = known_ids
        self._states: dict[tuple[tuple[_Loop, int], ...], _State] = {}
        self.start = _State(((root, 0),), True, self)

    def state(self, path: tuple[tuple[_Loop, int], ...]) -> _State:
        """The (interned) non-initial state for ``path``."""
        found = self._states.get(path)
        if found is None:
            found = self._states[path] = _State(path, False, self)
        return found


def _compile_loop(
    loop_id: str | None,
    mandatory: bool,
    repeat: int | None,
    nodes: tuple[SegmentUse | LoopDef, ...],
    checkers: dict[str, SegmentChecker],
    options: tuple[str, str, Charset],
) -> _Loop:
    children: list[_Seg | _Loop] = []
    for node in nodes:
        if isinstance(node, LoopDef):
            children.append(_compile_loop(node.id, node.requirement == "M", node.repeat, node.children, checkers, options))
            continue
        seg = node.segment
        checker = checkers.get(seg.id)
        if checker is None:
            checker = checkers[seg.id] = compile_segment(seg, *options)
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
def _machine(set_id: str, version: str, element_sep: str, component_sep: str,
             charset: Charset = DEFAULT_CHARSET) -> _Machine | None:
    lookup = load_definition(set_id, version)
    definition = lookup.definition
    if definition is None:
        return None
    root = _compile_loop(None, True, 1, definition.body, {}, (element_sep, component_sep, charset))
    return _Machine(definition.set_id, definition.key, definition.functional_id, root,
                    known_segment_ids(definition.version))


# ---------------------------------------------------------------------------------------------
# the validator


class SetValidator:
    """Streaming validator of one transaction set; see the module docstring.

    Memory is bounded: the loop stack (one use-count list per open loop), the open HL ancestors
    and at most ``max_errors`` errors.
    """

    __slots__ = (
        "_texts",
        "_lookup",
        "_machine",
        "_state",
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

    def __init__(self, st: Segment, lookup: DefinitionLookup, machine: _Machine | None, max_errors: int,
                 texts: tuple[str, str, str] | None = None) -> None:
        #: ST01, ST02, ST03 (given when the caller has read them already)
        self._texts = texts or first_three(st)
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
        #: per open loop (root first), how many times in a row its current child was used
        self._stack: list[int] = []
        self._state: _State | None = None
        if machine is not None:
            self._state = machine.start
            self._stack.append(0)

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

    def _element_errors(self, segment_id: str, position: int, loop_id: str | None, problems: list[ElementProblem]) -> None:
        where = self._where(loop_id)
        self._segment_error(SEG_ELEMENT_ERRORS, f"segment {segment_id}{where} has data element errors", segment_id, position, loop_id)
        for p in problems:
            self._add(
                X12Error(
                    "element",
                    p.code,
                    p.message,
                    segment_id=segment_id,
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
        if self._machine is not None:
            self._feed_segment(segment, self._count + 1)

    def feed_texts(self, pieces: list[str], start: int, stop: frozenset[str],
                   separators: tuple[str, str | None, str | None], keep: Callable[[Segment], object] | None,
                   checked: bool = False) -> int:
        """Validate segments straight from the reader's split text, without building trees.

        The reader's fast protocol: ``pieces[start:]`` are segment texts of this set's body; they
        are consumed up to the first one whose id is in ``stop`` (envelope segments, empty text).

        Args:
            pieces: cleaned segment texts (layout removed, no terminator).
            start: the first piece to validate.
            stop: segment ids that end the run (left to the reader).
            separators: element, component and repetition separators the reader splits on
                (an absent one is given as a character that cannot occur, e.g. the terminator);
                component and repetition are both ``None`` when the reader knows that no piece
                holds either.
            keep: called with each segment's tree when the reader keeps trees, else ``None``.
            checked: every piece's characters are already known to be in the agreed set
                (:func:`~crossdock.adapters.x12.validator_elements.text_in_charset` on the
                window), so the per-segment character test is skipped.

        Returns:
            The index of the first piece not consumed (``len(pieces)`` when all were).
        """
        if self._machine is None:
            return self._count_only(pieces, start, stop, separators, keep)
        e, c, r = separators
        runs = self._stack
        state = self._state
        assert state is not None
        moves = state.moves
        limit_size = CLEAN_CACHE_SIZE
        # the segment at pieces[i] is at position i + shift in the set (ST is 1)
        shift = self._count - start + 2
        for index in range(start, len(pieces)):  # noqa: B007  the index is returned
            raw = pieces[index]
            parts = raw.split(e)
            try:
                move = moves[parts[0]]
            except KeyError:
                move = None  # a move not taken from this state yet, or a segment with no place
            if move is None or c is not None and (c in raw or r in raw):
                if parts[0] in stop:
                    break
                # the general path: composites, repetitions, a first or a misplaced move
                self._state = state
                self._feed_split(parts, raw, c, r, index + shift, keep)
                state = self._state
                moves = state.moves
                continue
            plain, restart, pops, same, limit, enter, flagged, state, moves, clean, text_ok, by_count, hl, step = move
            if keep is not None:
                keep(_plain_segment(parts))
            if plain:
                runs[-1] = 1
            elif restart:  # pop the loop's frame, count the loop once more, push it again
                uses = runs[-2] = runs[-2] + 1
                runs[-1] = 1
                if uses > limit:
                    self._over_limit(step, parts[0], index + shift)
            else:
                if flagged:
                    self._step_errors(step, index + shift)
                if pops:
                    del runs[-pops:]
                if same:
                    uses = runs[-1] = runs[-1] + 1
                    if uses > limit:
                        self._over_limit(step, parts[0], index + shift)
                else:
                    runs[-1] = 1
                if enter:
                    runs.append(1)
            if hl:
                hl_problems = self._check_hl(parts, 1)
                if hl_problems:
                    self._element_problems(step.checker, _plain_segment(parts), index + shift, step.loop_id, hl_problems)
                    continue
            if raw not in clean:
                try:
                    ok = (checked or text_ok(raw)) and by_count[len(parts)](parts)
                except IndexError:  # more elements than defined (maybe trailing empty ones)
                    ok = False
                if ok:
                    if len(clean) >= limit_size:
                        clean.clear()
                    clean[raw] = True
                else:
                    self._element_problems(step.checker, _plain_segment(parts), index + shift, step.loop_id)
        else:
            index = len(pieces)
        self._state = state
        self._count += index - start
        return index

    def _feed_split(self, parts: list[str], raw: str, c: str | None, r: str | None, position: int,
                    keep: Callable[[Segment], object] | None) -> None:
        """One segment of :meth:`feed_texts` through the tree path (:meth:`_feed_segment`)."""
        if c is not None and (c in raw or r in raw):
            while len(parts) > 1 and not parts[-1]:
                parts.pop()
            segment = Segment(parts[0], _split_values(parts, c, r))
        else:
            segment = _plain_segment(parts)
        self._feed_segment(segment, position)
        if keep is not None:
            keep(segment)

    def _count_only(self, pieces: list[str], start: int, stop: frozenset[str],
                    separators: tuple[str, str | None, str | None], keep: Callable[[Segment], object] | None) -> int:
        """:meth:`feed_texts` for a set without a definition: segments are only counted."""
        e, c, r = separators
        for index in range(start, len(pieces)):
            raw = pieces[index]
            parts = raw.split(e)
            if parts[0] in stop:
                return index
            self._count += 1
            if keep is not None:
                while len(parts) > 1 and not parts[-1]:
                    parts.pop()
                composite = c is not None and (c in raw or r in raw)
                keep(Segment(parts[0], _split_values(parts, c, r) if composite else tuple(parts[1:])))
        return len(pieces)

    def _feed_segment(self, segment: Segment, position: int) -> None:
        """One segment through the state machine, then its element (and HL) checks."""
        state = self._state
        assert state is not None
        sid = segment[0]
        step = state.step(sid)
        if step is None:
            self._misplaced(segment, position)
            return
        runs = self._stack
        if step.flagged:
            self._step_errors(step, position)
        if step.pops:
            del runs[-step.pops :]
        runs[-1] = runs[-1] + 1 if step.same else 1
        if runs[-1] > step.limit:
            self._over_limit(step, sid, position)
        if step.enter:
            runs.append(1)
        self._state = step.state
        checker = step.checker
        hl_problems = self._check_hl(segment[1], 0) if sid == "HL" else ()
        if hl_problems or not checker.is_clean(segment[1]):
            self._element_problems(checker, segment, position, step.loop_id, hl_problems)

    def _step_errors(self, step: _Step, position: int) -> None:
        """The mandatory children a move leaves behind: those of the loops it closes, innermost
        first, then those it skips in the loop it lands in."""
        for loop, children in step.closes:
            for child in children:
                self._report_missing(child, loop, position)
        for child in step.missing:
            self._report_missing(child, step.loop, position)

    def _over_limit(self, step: _Step, sid: str, position: int) -> None:
        child, loop = step.child, step.loop
        if isinstance(child, _Seg):
            self._segment_error(SEG_OVER_MAX_USE, f"segment {child.id} exceeds its maximum use of {child.max_use}{self._where(loop.id)}", sid, position, loop.id)
        else:
            self._segment_error(SEG_LOOP_OVER_MAX, f"loop {child.id} occurs more than {child.repeat} times", sid, position, child.id)

    def _element_problems(self, checker: SegmentChecker, segment: Segment, position: int, loop_id: str | None,
                          hl_problems: Sequence[ElementProblem] = ()) -> None:
        """Names the element problems of a segment the fast path did not clear (plus its HL
        hierarchy problems, already found)."""
        if not hl_problems and checker.is_clean(segment[1]):
            return
        problems = checker.problems(segment[1])
        if hl_problems:
            problems.extend(hl_problems)
        if problems:
            self._element_errors(segment[0], position, loop_id, problems)

    def _report_missing(self, child: _Seg | _Loop, loop: _Loop, position: int) -> None:
        seg_id = child.id if isinstance(child, _Seg) else child.first_id
        what = f"segment {seg_id}" if isinstance(child, _Seg) else f"loop {child.id}"
        self._segment_error(SEG_MANDATORY_MISSING, f"mandatory {what} is missing{self._where(loop.id)}", seg_id, position, loop.id)

    def _misplaced(self, segment: Segment, position: int) -> None:
        machine, state = self._machine, self._state
        assert machine is not None and state is not None
        sid = segment.id
        loop_id = state.path[-1][0].id
        if sid in machine.defined_ids:
            earlier = any(p < current for loop, current in state.path for p in loop.index.get(sid, ()))
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

    def _check_hl(self, values: Sequence[Value], offset: int) -> Sequence[ElementProblem]:
        """HL01 counts up from 1; HL02 names an open ancestor (depth-first hierarchy).

        An HL whose parent is not open is reported and then taken as a child of the HL before
        it, so the hierarchy after one bad HL02 is still judged against the right ancestors.

        Args:
            values: the HL's elements (``offset`` 0) or the reader's split text (``offset`` 1,
                segment id first).
            offset: where HL01 is in ``values``.

        Returns:
            The hierarchy problems (element code 7), usually none (an empty tuple).
        """
        count = self._hl_count = self._hl_count + 1
        n = len(values) - offset
        hl_id = values[offset + HL_ID - 1] if n >= HL_ID else ""
        parent = values[offset + HL_PARENT - 1] if n >= HL_PARENT else ""
        level = values[offset + HL_LEVEL - 1] if n >= HL_LEVEL else ""
        # the reader's split text holds only strings; a tree may hold composites
        if not offset and not (isinstance(hl_id, str) and isinstance(parent, str) and isinstance(level, str)):
            return ()  # a composite here is already an element error of the segment
        problems: list[ElementProblem] = []
        if hl_id != str(count):
            problems.append(ElementProblem(EL_INVALID_CODE, HL_ID, f"HL01 is {hl_id[:12]!r}, expected {count} (HL01 counts up from 1)", None, None, "628", hl_id[:99]))
        open_ids = self._hl_open
        if not parent:
            open_ids.clear()
        else:
            try:
                del open_ids[open_ids.index(parent) + 1 :]
            except ValueError:
                problems.append(ElementProblem(EL_INVALID_CODE, HL_PARENT, f"HL02 parent {parent[:12]!r} is not an open ancestor HL", None, None, "734", parent[:99]))
                if len(open_ids) >= HL_MAX_DEPTH:
                    # a run of unplaceable HLs must not grow the chain without bound
                    open_ids.pop()
        open_ids.append(hl_id)
        self._hl_level = level
        return problems or ()

    # -- finishing ------------------------------------------------------------------------------

    def finish(self, se: Segment | None) -> SetReport:
        """Close the set and return its verdict.

        Args:
            se: the SE segment, or ``None`` when the set ended without one.

        Returns:
            The :class:`SetReport` (status ``A``, ``E`` or ``R``).
        """
        position = self._count + 2
        state = self._state
        if state is not None:
            for child, loop in state.left_open():
                self._report_missing(child, loop, position)
            self._stack.clear()
            self._state = None
        set_id, control, implementation_ref = self._texts  # ST01, ST02, ST03
        found = self._set_errors(se, position, set_id, control)
        if self._segments_in_error:
            found.append(X12Error("set", SET_SEGMENTS_IN_ERROR, "one or more segments are in error"))
        if self._errors:
            found += self._errors
        if self._suppressed:
            found.append(X12Error("set", SET_SEGMENTS_IN_ERROR, f"{self._suppressed} further errors not listed", severity="warning"))
        errors = tuple(found)
        if not errors:
            status = "A"
        elif any(e.severity == "error" for e in errors):
            status = "R"
        else:
            status = "E"
        machine = self._machine
        if machine is not None:  # its strings are shared by every report of the set type
            definition, set_id = machine.key, machine.set_id
        else:
            definition = self._lookup.definition.key if self._lookup.definition else None
        # positional: SetReport(set_id, control_number, status, errors, definition,
        # implementation_ref, segment_count), one verdict per set
        return SetReport(set_id, control, status, errors, definition, implementation_ref or None,  # type: ignore[arg-type]
                         self._count + (1 if se is None else 2))

    def _set_errors(self, se: Segment | None, position: int, set_id: str, control: str) -> list[X12Error]:
        out: list[X12Error] = []
        lookup = self._lookup
        if lookup.definition is None:
            out.append(X12Error("set", SET_NOT_SUPPORTED, f"transaction set {set_id[:6]!r} is not supported", segment_id="ST", segment_position=1))
        elif lookup.note is not None:
            out.append(X12Error("set", WARNING_NEAREST_VERSION, lookup.note, segment_id="ST", segment_position=1, severity="warning"))
        if not (control.isdigit() and 4 <= len(control) <= 9) and _CONTROL_NUMBER.fullmatch(control) is None:
            out.append(X12Error("set", SET_CONTROL_NUMBER_INVALID, "ST02 must be 4 to 9 characters", segment_id="ST", segment_position=1, element_position=ST_CONTROL_NUMBER, bad_value=control[:99]))
        if se is None:
            out.append(X12Error("set", SET_TRAILER_MISSING, "SE is missing", segment_id="SE", segment_position=position))
            return out
        declared, se_control, _ = first_three(se)  # SE01, SE02
        if se_control != control:
            out.append(X12Error("set", SET_CONTROL_NUMBER_MISMATCH, "SE02 does not match ST02", segment_id="SE", segment_position=position, element_position=SE_CONTROL_NUMBER, bad_value=se_control[:99]))
        if not (declared.isascii() and declared.isdigit() and int(declared) == position):
            out.append(X12Error("set", SET_SEGMENT_COUNT_WRONG, f"SE01 says {declared[:12]!r}, the set has {position} segments", segment_id="SE", segment_position=position, element_position=SE_SEGMENT_COUNT, bad_value=declared[:99]))
        return out


def new_set_validator(
    st: Segment,
    functional_id: str,
    group_version: str,
    delimiters: Delimiters,
    *,
    max_errors: int = DEFAULT_MAX_ERRORS,
    charset: Charset = DEFAULT_CHARSET,
) -> SetValidator:
    """Start validating one transaction set.

    Args:
        st: the ST segment.
        functional_id: GS01 of the enclosing group (checked against the set's functional id).
        group_version: GS08 (nearest defined version used, with a warning, when not defined).
        delimiters: the interchange's delimiters (the fast path is compiled for them).
        max_errors: errors kept per set (further ones are only counted).
        charset: the partner agreement's character set: ``basic``, ``extended`` or ``utf8``.

    Returns:
        A :class:`SetValidator`; never raises on bad input (unknown sets are reported AK5 1).

    Raises:
        ValueError: ``charset`` is not a known character set (a configuration error).
    """
    return _start(st, functional_id, group_version, delimiters, max_errors, charset)


def set_validator_factory(charset: Charset = DEFAULT_CHARSET, max_errors: int = DEFAULT_MAX_ERRORS,
                          ) -> Callable[[Segment, str, str, Delimiters], SetValidator]:
    """:func:`new_set_validator` with its options bound, for a reader that starts one validator
    per set (a closure: cheaper per call than ``functools.partial`` with keywords).

    Args:
        charset: the partner agreement's character set.
        max_errors: errors kept per set.

    Returns:
        ``(st, functional_id, group_version, delimiters) -> SetValidator``.
    """

    def start(st: Segment, functional_id: str, group_version: str, delimiters: Delimiters) -> SetValidator:
        return _start(st, functional_id, group_version, delimiters, max_errors, charset)

    return start


@lru_cache(maxsize=256)
def _resolve(set_id: str, group_version: str, element_sep: str, component_sep: str,
             charset: Charset) -> tuple[DefinitionLookup, _Machine | None]:
    """The definition lookup and compiled machine for one set type, version and delimiter pair
    (one cached call per set instead of two)."""
    lookup = load_definition(set_id, group_version)
    if lookup.definition is None:
        return lookup, None
    return lookup, _machine(set_id, lookup.definition.version, element_sep, component_sep, charset)


def _start(st: Segment, functional_id: str, group_version: str, delimiters: Delimiters, max_errors: int,
           charset: Charset) -> SetValidator:
    """:func:`new_set_validator`, positional."""
    texts = first_three(st)
    set_id = texts[0]
    lookup, machine = _resolve(set_id, group_version, delimiters.element, delimiters.component, charset)
    validator = SetValidator(st, lookup, machine, max_errors, texts)
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
