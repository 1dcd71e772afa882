"""Element checks for one segment: a compiled fast path and a detailed slow path.

The fast path joins a segment's elements with the interchange's element separator (which by
definition never occurs in data) and matches the text against one regular expression compiled
from the segment definition: types, lengths, closed code lists, valid dates and times, required
elements and the element count. Syntax notes are small presence checks. Only when that fails does
the slow path walk the elements one by one and name every problem with its AK4/IK4 code.

The two paths agree: a segment passes the fast path only if the slow path finds nothing, and
the slow path finds something whenever the fast path fails, except for segments with repeated
elements or characters ``str.isprintable`` refuses beyond control characters, which always take
the slow path (tests check this on random segments and on every corpus segment).

Character sets (the partner agreement's ``X12CharacterSet``, see :data:`CHARSETS`): ``basic``
(upper-case letters, digits, space and ``!"&'()*+,-./:;?=``), ``extended`` (adds lower case and
``%@[]_{}\\|<>~#$``) and ``utf8`` (any character). A character outside the agreed set is element
code 6 "invalid character in data element", at its element's position. Control characters are
never data, whatever the set.

The reader's raw path (:meth:`SegmentChecker.text_ok`, :attr:`SegmentChecker.by_count`,
:attr:`SegmentChecker.clean_raw`) checks a segment from its text and its split element list
(segment id first) without building a tree: one generated function per element count, compiled
on first use, unpacks the elements into locals and checks them in a straight line. It gives the
same verdict as :meth:`is_clean`, except that a segment with trailing empty elements beyond the
defined ones is left to the slow path (which clears it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Literal

from crossdock.schemas.x12.definitions import (
    CompositeUse,
    ElementDef,
    ElementUse,
    SegmentDef,
    SyntaxNote,
)
from crossdock.schemas.x12.tree import Composite, Repeats, Value

__all__ = [
    "CHARSETS",
    "allowed_ascii",
    "text_in_charset",
    "DEFAULT_CHARSET",
    "Charset",
    "EL_MANDATORY_MISSING",
    "EL_CONDITIONAL_MISSING",
    "EL_TOO_MANY_ELEMENTS",
    "EL_TOO_SHORT",
    "EL_TOO_LONG",
    "EL_INVALID_CHARACTER",
    "EL_INVALID_CODE",
    "EL_INVALID_DATE",
    "EL_INVALID_TIME",
    "EL_EXCLUSION_VIOLATED",
    "EL_TOO_MANY_REPETITIONS",
    "EL_TOO_MANY_COMPONENTS",
    "ElementProblem",
    "SegmentChecker",
    "compile_segment",
    "segment_problems",
    "value_problem",
]

# AK4-03 (element 723) / IK4-03 (element 621): the same codes, except that a 997 reports too
# many components as 6 (004010's list stops at 10) where a 999 says 13.
EL_MANDATORY_MISSING = "1"
EL_CONDITIONAL_MISSING = "2"
EL_TOO_MANY_ELEMENTS = "3"
EL_TOO_SHORT = "4"
EL_TOO_LONG = "5"
EL_INVALID_CHARACTER = "6"
EL_INVALID_CODE = "7"
EL_INVALID_DATE = "8"
EL_INVALID_TIME = "9"
EL_EXCLUSION_VIOLATED = "10"
EL_TOO_MANY_REPETITIONS = "12"
EL_TOO_MANY_COMPONENTS = "13"

BAD_VALUE_LIMIT = 99  # AK404 / IK404 hold at most 99 characters

_NUMERIC = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?(?:\d+\.?\d*|\.\d+)")
_TIME = re.compile(r"(?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d\d{0,2})?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Gregorian dates as a regular expression, so the fast path needs no Python per date.
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])(?:0[1-9]|[12]\d|3[01])"
    r"|(?:0[469]|11)(?:0[1-9]|[12]\d|30)"
    r"|02(?:0[1-9]|1\d|2[0-8]))"
)
_LEAP_YY = r"(?:[02468][048]|[13579][26])"
_DATE8 = rf"(?:\d{{4}}{_MONTH_DAY}|(?:\d\d(?:0[48]|[2468][048]|[13579][26])|{_LEAP_YY}00)0229)"
_DATE6 = rf"(?:\d\d{_MONTH_DAY}|{_LEAP_YY}0229)"

Charset = Literal["basic", "extended", "utf8"]
#: the character sets a partner agreement may name (Azure's X12CharacterSet values)
CHARSETS: tuple[Charset, ...] = ("basic", "extended", "utf8")
DEFAULT_CHARSET: Charset = "extended"
_UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_BASIC = _UPPER_DIGITS + " !\"&'()*+,-./:;?="
_EXTENDED = _BASIC + "abcdefghijklmnopqrstuvwxyz%@[]_{}\\|<>~#$"
#: characters each set allows (``None``: any character but a control character)
_ALLOWED: dict[str, str | None] = {"basic": _BASIC, "extended": _EXTENDED, "utf8": None}


#: printable ASCII characters each set allows, as bytes (``utf8``: all of them)
_ALLOWED_ASCII = {
    "basic": _BASIC.encode(),
    "extended": _EXTENDED.encode(),
    "utf8": bytes(range(0x20, 0x7F)),
}


def allowed_ascii(charset: Charset) -> bytes:
    """The printable ASCII characters ``charset`` allows, as bytes (for ``bytes.translate``).

    Raises:
        KeyError: ``charset`` is not one of :data:`CHARSETS`.
    """
    return _ALLOWED_ASCII[charset]


@lru_cache(maxsize=64)
def _layout_and_allowed(charset: Charset, separators: str) -> bytes:
    """The ASCII bytes a whole-text test may delete: the set's characters, the separators and the
    line breaks."""
    return allowed_ascii(charset) + separators.encode("ascii", "ignore") + b"\r\n"


def text_in_charset(text: str, charset: Charset, separators: str) -> bool:
    """A whole-text test: ``True`` only when every character of ``text`` is a separator, a line
    break, or a printable character the set allows (``False`` may also mean "look closer").

    The reader runs it once per window of segments, so the per-segment checks can skip the
    character test; it scans in C: ASCII text is encoded (a copy) and every allowed byte deleted
    in one ``bytes.translate`` pass, so the text passes when nothing is left.

    Args:
        text: many segments, terminators and line breaks included.
        charset: the agreed character set.
        separators: the interchange's separators (they are not data).
    """
    if text.isascii():
        return not text.encode("ascii").translate(None, _layout_and_allowed(charset, separators))
    if charset != "utf8":
        return False
    for ch in separators + "\r\n":
        if not ch.isprintable() and ch in text:
            text = text.replace(ch, "")
    return text.isprintable()


@lru_cache(maxsize=None)
def _outside(charset: str) -> re.Pattern[str]:
    """Finds the first character of a value that the set does not allow (control characters
    included)."""
    allowed = _ALLOWED.get(charset, "")
    if charset not in _ALLOWED:
        raise ValueError(f"unknown character set {charset!r}; expected one of {CHARSETS}")
    if allowed is None:
        return _CONTROL
    return re.compile("[^" + "".join(re.escape(ch) for ch in allowed) + "]")


def _text_test(charset: str, element_sep: str) -> Callable[[str], object]:
    """A test of a segment's text (elements joined by ``element_sep``): truthy when every
    character is allowed. Under ``utf8`` it is ``str.isprintable`` (stricter than "no control
    character": the few printable-refused characters take the slow path, which clears them)."""
    allowed = _ALLOWED.get(charset)
    if allowed is None:
        if element_sep.isprintable():
            return str.isprintable
        return lambda text: text.replace(element_sep, "").isprintable()
    return re.compile("[" + "".join(re.escape(ch) for ch in dict.fromkeys(allowed + element_sep)) + "]*").fullmatch


@dataclass(frozen=True, slots=True)
class ElementProblem:
    """One element-level finding (the slow path's output).

    Attributes:
        code: AK4-03 / IK4-03 code.
        position: element position in the segment (1-based).
        message: a sentence for operators.
        component: component position inside a composite, when relevant.
        repetition: repetition number, when relevant.
        ref: data element reference number, when known.
        bad_value: copy of the bad element, at most 99 characters.
        code_999: IK4-03 code when it differs (too many components: 997 code 6, since 004010's
            element 723 has no code 13; 999 code 13).
    """

    code: str
    position: int
    message: str
    component: int | None = None
    repetition: int | None = None
    ref: str | None = None
    bad_value: str | None = None
    #: the 999 (IK4) code when it differs from ``code``
    code_999: str | None = None


# ---------------------------------------------------------------------------------------------
# fast path: one regular expression per segment definition and delimiter pair


def _char_class(separators: str) -> str:
    return "[^" + "".join(re.escape(s) for s in separators) + r"\x00-\x1f\x7f]"


def _time_pattern(min_length: int, max_length: int) -> str:
    hhmm = r"(?:[01]\d|2[0-3])[0-5]\d"
    if max_length <= 4:
        return hhmm
    seconds = r"[0-5]\d" + (rf"\d{{0,{max_length - 6}}}" if max_length > 6 else "")
    return hhmm + (f"(?:{seconds})" if min_length >= 6 else f"(?:{seconds})?")


def _value_pattern(el: ElementDef, chars: str) -> str:
    """A regular expression matching exactly the valid non-empty values of ``el``."""
    if el.codes_closed and el.codes:
        return "(?:" + "|".join(re.escape(c) for c in sorted(el.codes, key=len, reverse=True)) + ")"
    kind, low, high = el.data_type, el.min_length, el.max_length
    if kind == "DT":
        return _DATE6 if high == 6 else _DATE8
    if kind == "TM":
        return _time_pattern(low, high)
    if kind == "R":
        # integers are bounded directly; a decimal has exactly one point among low+1..high+1
        # characters, so its digit count (point excluded) is within the bounds too
        return rf"-?(?:\d{{{low},{high}}}|(?=[\d.]{{{low + 1},{high + 1}}}(?![\d.]))\d*\.\d*)"
    if el.implied_decimals is not None:
        return rf"-?\d{{{low},{high}}}"
    return f"{chars}{{{low},{high}}}"


def _optional(pattern: str, el: ElementDef | None) -> str:
    """``pattern`` or nothing; a plain bounded class with minimum 1 just widens to 0."""
    if el is not None and el.min_length == 1 and pattern.endswith(f"{{1,{el.max_length}}}") and pattern.startswith("[^"):
        return pattern[: -len(f"{{1,{el.max_length}}}")] + f"{{0,{el.max_length}}}"
    return f"(?:{pattern})?"


def _nested(parts: Sequence[tuple[str, bool]], separator: str) -> str:
    """Join component patterns so trailing optional components may be dropped (as the tree does).

    Args:
        parts: ``(pattern, mandatory)`` per position, first first (optional ones already wrapped).
        separator: the escaped separator between positions.

    Returns:
        A pattern: positions up to the last mandatory one are required, later ones nest.
    """
    patterns = [p for p, _ in parts]
    # the first position is always written (possibly empty), so the head reaches at least it
    head = max((i for i, (_, m) in enumerate(parts) if m), default=0)
    tail = ""
    for pattern in reversed(patterns[head + 1 :]):
        tail = f"(?:{separator}{pattern}{tail})?"
    return separator.join(patterns[: head + 1]) + tail


def _segment_pattern(seg: SegmentDef, element_sep: str, component_sep: str) -> str:
    """One flat pattern over every defined position; the text is padded to full width first."""
    simple_chars = _char_class(element_sep + component_sep)
    esc_e, esc_c = re.escape(element_sep), re.escape(component_sep)
    parts: list[str] = []
    for use in seg.elements:
        if isinstance(use, CompositeUse):
            comps = []
            for c in use.composite.components:
                value = _value_pattern(c.element, simple_chars)
                mandatory = c.requirement == "M"
                comps.append((value if mandatory else _optional(value, c.element), mandatory))
            pattern = _nested(comps, esc_c)
            parts.append(pattern if use.requirement == "M" else f"(?:{pattern})?")
        else:
            value = _value_pattern(use.element, simple_chars)
            parts.append(value if use.requirement == "M" else _optional(value, use.element))
    return esc_e.join(parts)


def _present(elements: Sequence[Value], position: int) -> bool:
    """An element is present when it is not empty (a composite always counts as present)."""
    return position <= len(elements) and elements[position - 1] != ""


def _present_at(position: int, known: int, offset: int = 0) -> str:
    """Presence test of ``position`` in generated code when the element count is ``known``."""
    return f"e[{position - 1 + offset}] != ''" if position <= known else "False"


def _absent_at(position: int, known: int, offset: int = 0) -> str:
    return f"e[{position - 1 + offset}] == ''" if position <= known else "True"


def _note_expr(note: SyntaxNote, known: int, offset: int = 0) -> str | None:
    """The note as a Python expression for a segment of exactly ``known`` elements.

    Returns:
        ``None`` when the note trivially holds (every position absent and the note not ``R``).
    """
    if note.kind != "R" and min(note.positions) > known:
        return None
    written = [p for p in note.positions if p <= known]
    terms = [_present_at(p, known, offset) for p in written]
    first = note.positions[0]
    rest = [p for p in note.positions[1:]]
    if note.kind == "P":
        if len(written) < len(note.positions):  # some positions are absent: all must be
            return "(" + " and ".join(_absent_at(p, known, offset) for p in written) + ")"
        return "(" + " == ".join(f"({t})" for t in terms) + ")"
    if note.kind == "R":
        return "(" + " or ".join(terms) + ")" if terms else "False"
    if note.kind == "E":
        return "(" + " + ".join(f"({t})" for t in terms) + " <= 1)" if len(terms) > 1 else None
    if first > known:
        return None
    if note.kind == "C":
        if any(p > known for p in rest):
            return f"({_absent_at(first, known, offset)})"
        return f"({_absent_at(first, known, offset)} or (" + " and ".join(_present_at(p, known, offset) for p in rest) + "))"
    present_rest = [_present_at(p, known, offset) for p in rest if p <= known]
    if not present_rest:
        return f"({_absent_at(first, known, offset)})"
    return f"({_absent_at(first, known, offset)} or " + " or ".join(present_rest) + ")"


def _syntax_expr(notes: tuple[SyntaxNote, ...], known: int, offset: int = 0) -> str:
    exprs = [x for x in (_note_expr(n, known, offset) for n in notes) if x is not None]
    return " and ".join(exprs) if exprs else "True"


def _named_note_expr(note: SyntaxNote, known: int) -> str | None:
    """The note as a Python expression over the locals ``v1``, ``v2``... of a segment of exactly
    ``known`` elements, testing presence by truthiness (fewer operations than comparing with
    ``''``); the value only matters as true or false.

    Returns:
        ``None`` when the note trivially holds.
    """
    written = [p for p in note.positions if p <= known]
    first, rest = note.positions[0], note.positions[1:]
    if note.kind == "R":
        return "(" + " or ".join(f"v{p}" for p in written) + ")" if written else "False"
    if not written or (note.kind in ("C", "L") and first > known):
        return None
    if note.kind == "P":
        if len(written) < len(note.positions):  # some positions are absent: all must be
            return "not (" + " or ".join(f"v{p}" for p in written) + ")"
        return "(" + " == ".join(f"(not v{p})" for p in written) + ")"
    if note.kind == "E":
        if len(written) < 2:
            return None
        values = ", ".join(f"v{p}" for p in written)
        return f"(({values},).count('') >= {len(written) - 1})"
    if note.kind == "C":
        if any(p > known for p in rest):
            return f"(not v{first})"
        return f"(not v{first} or (" + " and ".join(f"v{p}" for p in rest) + "))"
    present_rest = [f"v{p}" for p in rest if p <= known]
    if not present_rest:
        return f"(not v{first})"
    return f"(not v{first} or " + " or ".join(present_rest) + ")"


def _value_check(el: ElementDef, name: str, mandatory: bool, constants: dict[str, object], v: str = "v",
                 ascii_known: bool = False) -> list[str]:
    """Generated lines that ``return False`` when the value in local ``v`` breaks ``el``'s rules.

    Args:
        el: the element definition.
        name: the name its closed code list gets among ``constants``.
        mandatory: an empty value fails.
        constants: the generated function's globals, extended here.
        v: the local variable holding the value.
        ascii_known: the caller has already checked that the text is ASCII (``basic`` and
            ``extended`` character sets), so digit tests need no ``isascii``.
    """
    low, high, kind = el.min_length, el.max_length, el.data_type
    lines = [f"if not {v}: return False"] if mandatory else []
    guard = "" if mandatory else f"{v} and "
    ascii_test = "" if ascii_known else f" and {v}.isascii()"
    if el.codes_closed and el.codes:
        constants[name] = el.codes
        return lines + [f"if {guard}{v} not in {name}: return False"]
    if kind == "DT":
        return lines + [f"if {guard}{v} not in _dates and not _date_ok({v}, {high}, _dates): return False"]
    if kind == "TM":
        return lines + [f"if {guard}{v} not in _times and not _time_ok({v}, {low}, {high}, _times): return False"]
    if kind == "R":
        # unsigned decimals inline (digits counted without the point); anything else via helper
        digits = f"len({v}) - ('.' in {v})"
        bounds = f"{digits} <= {high}" if low <= 1 else f"{low} <= {digits} <= {high}"
        return lines + [f"if {guard}not (({v}.replace('.', '', 1).isdigit(){ascii_test} and {bounds}) or _decimal_ok({v}, {low}, {high})): return False"]
    if el.implied_decimals is not None:
        return lines + [f"if {guard}not (({v}.isdigit(){ascii_test} and {low} <= len({v}) <= {high}) or _numeric_ok({v}, {low}, {high})): return False"]
    if low <= 1:
        return lines + [f"if len({v}) > {high}: return False"]
    if low == high:
        return lines + [f"if {guard}len({v}) != {high}: return False"]
    return lines + [f"if {guard}not ({low} <= len({v}) <= {high}): return False"]


def _element_lines(use: ElementUse | CompositeUse, index: int, constants: dict[str, object], v: str = "v",
                   ascii_known: bool = False) -> list[str]:
    """Generated lines checking the plain text of one element position (held in local ``v``);
    at a composite position that text is component 1, the only one written."""
    if isinstance(use, CompositeUse):
        first = use.composite.components[0]
        lines = _value_check(first.element, f"C{index}", use.requirement == "M", constants, v, ascii_known)
        if any(c.requirement == "M" for c in use.composite.components[1:]):
            lines.append(f"if {v}: return False")  # only component 1 is written, a later one is mandatory
        return lines
    return _value_check(use.element, f"C{index}", use.requirement == "M", constants, v, ascii_known)


def _namespace(constants: dict[str, object]) -> dict[str, object]:
    """Globals of generated checks: the helpers and bounded memos of valid dates and times."""
    return {
        "_dates": {},
        "_times": {},
        "_date_ok": _date_value_ok,
        "_time_ok": _time_value_ok,
        "_decimal_ok": _decimal_value_ok,
        "_numeric_ok": _numeric_value_ok,
        **constants,
    }


def _last_mandatory(seg: SegmentDef) -> int:
    return max((u.position for u in seg.elements if u.requirement == "M"), default=0)


def _generate_simple_check(seg: SegmentDef) -> Callable[[Sequence[Value]], bool]:
    """A generated function validating a segment whose elements are all plain strings.

    Straight-line code with the element count known at each step: positions after the last
    written element cost nothing, and syntax notes are specialised for that count. The caller
    has already checked that no element holds a control character (or a character outside the
    agreed set).

    Args:
        seg: the segment definition; the checked sequence holds its elements, element 01 first
            (a tree's elements).
    """
    constants: dict[str, object] = {}
    uses = seg.elements
    last_mandatory = _last_mandatory(seg)
    body = ["def check(e):", "    n = len(e)",
            f"    if n > {len(uses)} or n < {last_mandatory}: return False"]
    for known in range(0, len(uses) + 1):
        if known >= last_mandatory:
            body.append(f"    if n == {known}: return {_syntax_expr(seg.syntax, known)}")
        if known == len(uses):
            break
        body.append(f"    v = e[{known}]")
        body.extend("    " + line for line in _element_lines(uses[known], known, constants))
    namespace = _namespace(constants)
    exec(compile("\n".join(body) + "\n", f"<x12-check-{seg.id}>", "exec"), namespace)  # noqa: S102  generated from our own definitions
    return namespace["check"]  # type: ignore[return-value]


def _generate_count_check(seg: SegmentDef, count: int, ascii_known: bool,
                          namespace: dict[str, object]) -> Callable[[list[str]], object]:
    """A generated check of a split segment text (id first) with exactly ``count`` elements.

    The elements are unpacked into locals in one step and checked in a straight line, then the
    syntax notes are tested for that count; empty elements (trailing ones included, which the
    tree drops) are simply absent values. Returns a truthy value when the segment is clean.

    Args:
        seg: the segment definition.
        count: the number of elements after the id (``len(parts) - 1``).
        ascii_known: the text is known to be ASCII (see :func:`_value_check`).
        namespace: the globals shared by the segment's count checks (see :func:`_namespace`).
    """
    constants: dict[str, object] = {}
    body = ["def check(e):"]
    if count:
        body.append("    _, " + ", ".join(f"v{p}" for p in range(1, count + 1)) + ", = e")
    for index, use in enumerate(seg.elements[:count]):
        body.extend("    " + line for line in _element_lines(use, index, constants, f"v{index + 1}", ascii_known))
    notes = [x for x in (_named_note_expr(n, count) for n in seg.syntax) if x is not None]
    body.append(f"    return {' and '.join(notes) if notes else 'True'}")
    namespace.update(constants)
    local: dict[str, object] = {}
    exec(compile("\n".join(body) + "\n", f"<x12-check-{seg.id}-{count}>", "exec"), namespace, local)  # noqa: S102  generated from our own definitions
    return local["check"]  # type: ignore[return-value]


def _never(parts: list[str]) -> bool:
    return False


def _count_checks(seg: SegmentDef, ascii_known: bool) -> list[Callable[[list[str]], object]]:
    """Checks of split segment texts indexed by ``len(parts)``, each compiled on first use.

    Entries for fewer elements than the last mandatory one are :func:`_never`; a split longer
    than the table (more elements than defined, or trailing empty ones) is not clean here and
    goes to the slow path, which decides.
    """
    namespace = _namespace({})
    table: list[Callable[[list[str]], object]] = [_never] * (len(seg.elements) + 2)

    def compiled_on_first_use(count: int) -> Callable[[list[str]], object]:
        def first(parts: list[str]) -> object:
            check = table[count + 1] = _generate_count_check(seg, count, ascii_known, namespace)
            return check(parts)
        return first

    for count in range(_last_mandatory(seg), len(seg.elements) + 1):
        table[count + 1] = compiled_on_first_use(count)
    return table


_MEMO_LIMIT = 4096  # bounded caches of valid dates and times per checker


def _date_value_ok(value: str, max_length: int, memo: dict[str, bool]) -> bool:
    if len(value) != max_length or not (value.isdigit() and value.isascii()) or not _date_ok(value):
        return False
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[value] = True
    return True


def _time_value_ok(value: str, low: int, high: int, memo: dict[str, bool]) -> bool:
    if not (low <= len(value) <= high) or _TIME.fullmatch(value) is None:
        return False
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[value] = True
    return True


def _decimal_value_ok(value: str, low: int, high: int) -> bool:
    if _DECIMAL.fullmatch(value) is None or not value.isascii():
        return False
    return low <= _digits(value) <= high


def _numeric_value_ok(value: str, low: int, high: int) -> bool:
    if _NUMERIC.fullmatch(value) is None or not value.isascii():
        return False
    return low <= _digits(value) <= high


#: clean segment texts remembered per checker (repeated segments skip the pattern); bounded
CLEAN_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class SegmentChecker:
    """A segment definition compiled for one pair of element and component separators and one
    character set.

    Attributes:
        fullmatch: the compiled pattern's ``fullmatch`` over all defined positions joined by
            ``element_sep`` (shorter segments are padded with separators first).
        syntax: the generated syntax-note predicate, or ``None``.
        padding: ``padding[k]`` is ``k`` separators.
        clean: texts already found clean (cleared when it reaches :data:`CLEAN_CACHE_SIZE`).
        simple: generated check of a tree's plain-string elements (element 01 first).
        charset: the agreed character set.
        text_ok: truthy when a segment text (elements joined by ``element_sep``, with or without
            the segment id) holds only allowed characters.
        outside: finds a character of one value that the set does not allow.
        by_count: checks of the reader's split list (segment id first, trailing empty elements
            kept), indexed by its length; truthy when clean. A list longer than the table is not
            clean here (the slow path decides).
        clean_raw: raw segment texts (id included) already found clean; bounded like ``clean``.
    """

    segment: SegmentDef
    fullmatch: Callable[[str], re.Match[str] | None]
    syntax: Callable[[Sequence[Value]], bool] | None
    element_sep: str
    component_sep: str
    padding: tuple[str, ...]
    clean: dict[str, bool]
    simple: Callable[[Sequence[Value]], bool]
    charset: Charset
    text_ok: Callable[[str], object]
    outside: Callable[[str], re.Match[str] | None]
    by_count: list[Callable[[list[str]], object]]
    clean_raw: dict[str, bool]

    def is_clean(self, elements: tuple[Value, ...]) -> bool:
        """Fast path: ``True`` when the elements have no problem at all."""
        try:
            text = self.element_sep.join(elements)  # type: ignore[arg-type]
        except TypeError:  # a Composite or Repeats is in the segment
            return self._composite_clean(elements)
        if text in self.clean:
            return True
        if not self.text_ok(text) or not self.simple(elements):
            return False
        if len(self.clean) >= CLEAN_CACHE_SIZE:
            self.clean.clear()
        self.clean[text] = True
        return True

    def _composite_clean(self, elements: tuple[Value, ...]) -> bool:
        missing = len(self.padding) - 1 - len(elements)
        text = self.flatten(elements)
        if missing < 0 or text is None or self.fullmatch(text + self.padding[missing]) is None:
            return False
        if self.charset != "utf8" and any(self.outside(v if isinstance(v, str) else "".join(v)) for v in elements):
            return False
        return self.syntax is None or self.syntax(elements)

    def flatten(self, elements: tuple[Value, ...]) -> str | None:
        """The elements joined as written, or ``None`` when one repeats (slow path only)."""
        parts = []
        for value in elements:
            if isinstance(value, Repeats):
                return None
            parts.append(value if isinstance(value, str) else self.component_sep.join(value))
        return self.element_sep.join(parts)

    def problems(self, elements: tuple[Value, ...]) -> list[ElementProblem]:
        """Slow path: every element problem, with its AK4/IK4 code."""
        return segment_problems(self.segment, elements, self.charset)


def _syntax_predicate(seg: SegmentDef) -> Callable[[Sequence[Value]], bool] | None:
    """Syntax notes for the composite path (rare, so the slow path's own check is reused)."""
    if not seg.syntax:
        return None
    return lambda elements: not _syntax_problems(seg, elements)


def compile_segment(seg: SegmentDef, element_sep: str, component_sep: str,
                    charset: Charset = DEFAULT_CHARSET) -> SegmentChecker:
    """Compile ``seg`` for the given separators and character set.

    Args:
        seg: the segment definition.
        element_sep: the interchange's element separator.
        component_sep: the interchange's component separator.
        charset: ``basic``, ``extended`` or ``utf8`` (the partner agreement's character set).

    Returns:
        A :class:`SegmentChecker`.

    Raises:
        ValueError: ``charset`` is not one of :data:`CHARSETS`.
    """
    pattern = re.compile(_segment_pattern(seg, element_sep, component_sep), re.DOTALL)
    padding = tuple(element_sep * k for k in range(len(seg.elements) + 1))
    return SegmentChecker(
        seg,
        pattern.fullmatch,
        _syntax_predicate(seg),
        element_sep,
        component_sep,
        padding,
        {},
        _generate_simple_check(seg),
        charset,
        _text_test(charset, element_sep),
        _outside(charset).search,
        _count_checks(seg, ascii_known=charset != "utf8"),
        {},
    )


# ---------------------------------------------------------------------------------------------
# slow path: name every problem


def _trim(value: str) -> str:
    return value[:BAD_VALUE_LIMIT]


def _digits(value: str) -> int:
    return sum(ch.isdigit() for ch in value)


def _date_ok(value: str) -> bool:
    try:
        if len(value) == 8:
            date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        else:
            year = int(value[:2])
            date(2000 + year, int(value[2:4]), int(value[4:6]))
    except ValueError:
        return False
    return True


def value_problem(el: ElementDef, value: str, charset: Charset = DEFAULT_CHARSET) -> tuple[str, str] | None:
    """The first problem of one non-empty simple value, as ``(code, message)``, or ``None``.

    Args:
        el: the element definition.
        value: the value (non-empty).
        charset: the agreed character set.

    Returns:
        ``None`` when the value is valid.
    """
    kind = el.data_type
    label = f"element {el.ref}" if el.ref else "element"
    if _CONTROL.search(value):
        return EL_INVALID_CHARACTER, f"{label} contains a control character"
    found = _outside(charset).search(value)
    if found is not None:
        return EL_INVALID_CHARACTER, (f"{label} has a character outside the {charset} character set "
                                      f"(U+{ord(found.group()):04X} at character {found.start() + 1})")
    if kind == "R" and _DECIMAL.fullmatch(value) is None:
        return EL_INVALID_CHARACTER, f"{label} is not a decimal number"
    if el.implied_decimals is not None and _NUMERIC.fullmatch(value) is None:
        return EL_INVALID_CHARACTER, f"{label} is not a numeric value ({kind})"
    if kind in ("DT", "TM") and not value.isdigit():
        return (EL_INVALID_DATE if kind == "DT" else EL_INVALID_TIME), f"{label} is not a {kind} value"
    length = _digits(value) if kind == "R" or el.implied_decimals is not None else len(value)
    if length < el.min_length:
        return EL_TOO_SHORT, f"{label} is {length} long, minimum {el.min_length}"
    if length > el.max_length:
        return EL_TOO_LONG, f"{label} is {length} long, maximum {el.max_length}"
    if kind == "DT" and (len(value) not in (6, 8) or not _date_ok(value)):
        return EL_INVALID_DATE, f"{label} is not a valid date"
    if kind == "TM" and _TIME.fullmatch(value) is None:
        return EL_INVALID_TIME, f"{label} is not a valid time"
    if el.codes_closed and el.codes and value not in el.codes:
        return EL_INVALID_CODE, f"{label} code {value!r} is not in the code list"
    return None


def _simple_problems(use: ElementUse, value: str, position: int, component: int | None,
                     charset: Charset = DEFAULT_CHARSET) -> list[ElementProblem]:
    el = use.element
    if value == "":
        if use.requirement == "M":
            where = f"component {component} of element {position}" if component else f"element {position}"
            return [ElementProblem(EL_MANDATORY_MISSING, position, f"mandatory {where} is missing", component, None, el.ref)]
        return []
    found = value_problem(el, value, charset)
    if found is None:
        return []
    return [ElementProblem(found[0], position, found[1], component, None, el.ref, _trim(value))]


def _composite_problems(use: CompositeUse, value: Value, position: int, charset: Charset) -> list[ElementProblem]:
    parts = (value,) if isinstance(value, str) else tuple(value)
    components = use.composite.components
    out: list[ElementProblem] = []
    if len(parts) > len(components):
        out.append(ElementProblem(EL_INVALID_CHARACTER, position, f"composite {use.composite.ref} has {len(parts)} components, at most {len(components)}", None, None, components[0].element.ref, None, EL_TOO_MANY_COMPONENTS))
    if not any(parts):
        if use.requirement == "M":
            out.append(ElementProblem(EL_MANDATORY_MISSING, position, f"mandatory composite {use.composite.ref} is missing", None, None, components[0].element.ref))
        return out
    for comp in components:
        part = parts[comp.position - 1] if comp.position <= len(parts) else ""
        out.extend(_simple_problems(comp, part, position, comp.position, charset))
    return out


def _use_problems(use: ElementUse | CompositeUse, value: Value, charset: Charset) -> list[ElementProblem]:
    position = use.position
    if isinstance(value, Repeats):
        return _repeat_problems(use, value, charset)
    if isinstance(use, CompositeUse):
        return _composite_problems(use, value, position, charset)
    if isinstance(value, Composite):
        return [ElementProblem(EL_INVALID_CHARACTER, position, f"element {position} is not a composite (it holds the component separator)", None, None, use.element.ref, _trim(":".join(value)), EL_TOO_MANY_COMPONENTS)]
    return _simple_problems(use, value, position, None, charset)


def _repeat_problems(use: ElementUse | CompositeUse, value: Repeats, charset: Charset) -> list[ElementProblem]:
    out: list[ElementProblem] = []
    if len(value) > use.repeat:
        ref = use.element.ref if isinstance(use, ElementUse) else use.composite.components[0].element.ref
        allowed = "is not repeatable" if use.repeat == 1 else f"may repeat at most {use.repeat} times"
        out.append(ElementProblem(EL_TOO_MANY_REPETITIONS, use.position, f"element {use.position} {allowed}", None, use.repeat + 1, ref))
    for number, repetition in enumerate(value[: use.repeat], 1):
        for problem in _use_problems(use, repetition, charset):
            out.append(replace(problem, repetition=number) if use.repeat > 1 else problem)
    return out


def _ref_at(seg: SegmentDef, position: int) -> str | None:
    use = seg.elements[position - 1]
    return use.element.ref if isinstance(use, ElementUse) else use.composite.components[0].element.ref


def _syntax_problems(seg: SegmentDef, elements: Sequence[Value]) -> list[ElementProblem]:
    out: list[ElementProblem] = []
    for note in seg.syntax:
        present = [p for p in note.positions if _present(elements, p)]
        if note.kind == "E" and len(present) > 1:
            position = present[1]
            out.append(ElementProblem(EL_EXCLUSION_VIOLATED, position, f"syntax {note.code}: only one of these elements may be present", None, None, _ref_at(seg, position)))
            continue
        missing: list[int] = []
        if note.kind == "P" and present:
            missing = [p for p in note.positions if p not in present]
        elif note.kind == "R" and not present:
            missing = [note.positions[0]]
        elif note.kind == "C" and note.positions[0] in present:
            missing = [p for p in note.positions[1:] if p not in present]
        elif note.kind == "L" and note.positions[0] in present and len(present) == 1:
            missing = [note.positions[1]]
        for position in missing:
            out.append(ElementProblem(EL_CONDITIONAL_MISSING, position, f"syntax {note.code}: element {position} is required", None, None, _ref_at(seg, position)))
    return out


def segment_problems(seg: SegmentDef, elements: Sequence[Value],
                     charset: Charset = DEFAULT_CHARSET) -> list[ElementProblem]:
    """Every element-level problem of one segment against its definition.

    Args:
        seg: the segment definition.
        elements: the segment's elements (element 01 first; trailing empties dropped).
        charset: the agreed character set (``basic``, ``extended`` or ``utf8``).

    Returns:
        Problems in element order, then syntax-note problems; empty when the segment is valid.
    """
    out: list[ElementProblem] = []
    defined = len(seg.elements)
    for use in seg.elements:
        value = elements[use.position - 1] if use.position <= len(elements) else ""
        out.extend(_use_problems(use, value, charset))
    if len(elements) > defined:
        extra = elements[defined]
        shown = extra if isinstance(extra, str) else ":".join(str(v) for v in extra)
        out.append(ElementProblem(EL_TOO_MANY_ELEMENTS, defined + 1, f"segment {seg.id} has {len(elements)} elements, at most {defined}", None, None, None, _trim(shown)))
    out.extend(_syntax_problems(seg, elements))
    return out
