"""Reading the ISA header: delimiter detection and the TA1-level checks of its 16 fields.

The ISA is the only fixed-width X12 segment: 106 characters, the element separator at index 3,
the component separator (ISA16) at index 104 and the segment terminator at index 105. The
repetition separator is ISA11 from version 00402 on; before that ISA11 is the standards id
(``"U"``).

Real partners also send *short* ISAs whose fields are not padded. Such a header is found by
counting element separators instead of positions: ISA16 is the character after the 16th element
separator (the one after ``ISA`` counts as the first) and the segment terminator is the
character after ISA16. That search stops after :data:`ISA_MAX_LENIENT_LENGTH` characters. A
short ISA is always read that way, so the rest of the interchange can still be checked; unless
the caller allows it (``lenient_isa``) it is also an error, TA1 ``022``. In the counted reading,
line breaks inside fields are dropped (some generators wrap long lines), and the terminator
found must not occur earlier in the header (else the 16 separators span several segments and
the header is unreadable, ``022``).

Field checks are deliberately format-based where partners vary: an id qualifier (ISA05/07) must
be two upper-case letters or digits, ids must not be blank; codes are checked against the
standard's short lists (ISA01, ISA03, ISA11 before 00402, ISA14, ISA15), dates and times for
real calendar values, ISA12 for 00200..00801. An alphanumeric ISA11 where the version calls for
a repetition separator (``U`` under 00403 is common) is read as "no repetition separator" with
a warning.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from crossdock.adapters.x12 import envelope_codes as codes
from crossdock.schemas.x12.report import X12Error
from crossdock.schemas.x12.tree import Delimiters, Segment

__all__ = ["IsaHeader", "read_isa", "ISA_LENGTH", "ISA_MAX_LENIENT_LENGTH"]

ISA_LENGTH = 106
ISA_ELEMENT_SEPARATOR_AT = 3
ISA_COMPONENT_SEPARATOR_AT = 104
ISA_SEGMENT_TERMINATOR_AT = 105
ISA_MAX_LENIENT_LENGTH = 256
#: field widths of ISA01..ISA16
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)

ISA_AUTHORIZATION_QUALIFIER = 1
ISA_SECURITY_QUALIFIER = 3
ISA_SENDER_QUALIFIER = 5
ISA_SENDER_ID = 6
ISA_RECEIVER_QUALIFIER = 7
ISA_RECEIVER_ID = 8
ISA_DATE = 9
ISA_TIME = 10
ISA_REPETITION_SEPARATOR = 11  # ISA11 is the standards id ("U") before 00402
ISA_VERSION = 12
ISA_CONTROL_NUMBER = 13
ISA_ACK_REQUESTED = 14
ISA_USAGE = 15
ISA_COMPONENT_SEPARATOR = 16

FIRST_REPETITION_VERSION = "00402"
OLDEST_VERSION = "00200"
NEWEST_VERSION = "00801"

AUTHORIZATION_QUALIFIERS = frozenset({"00", "01", "02", "03", "04", "05", "06"})
SECURITY_QUALIFIERS = frozenset({"00", "01"})
ACK_REQUESTED_VALUES = frozenset({"0", "1"})
USAGE_INDICATORS = frozenset({"P", "T", "I"})
STANDARDS_IDS = frozenset({"U"})

_BLANKS = " \t\r\n"


def _fixed_separator_positions() -> tuple[int, ...]:
    positions = [ISA_ELEMENT_SEPARATOR_AT]
    for width in ISA_WIDTHS[:-1]:
        positions.append(positions[-1] + width + 1)
    return tuple(positions)


#: index of each element separator in a fixed-width ISA (3, 6, 17, ..., 103)
ISA_SEPARATOR_POSITIONS = _fixed_separator_positions()


@dataclass(frozen=True, slots=True)
class IsaHeader:
    """What the ISA says, and what is wrong with it.

    Attributes:
        segment: the ISA as read, elements kept as-is (padding included), ISA16 as element 16.
        delimiters: the interchange's separators, or ``None`` when no usable set was found
            (the rest of the interchange cannot be tokenized).
        length: characters taken by the ISA, terminator included.
        errors: interchange-level problems, TA1 codes, in ISA element order.
        component: the component separator to split on, or ``None`` when ISA16 is unusable.
        repetition: the repetition separator to split on, or ``None``.
    """

    segment: Segment
    delimiters: Delimiters | None
    length: int
    errors: tuple[X12Error, ...]
    component: str | None = None
    repetition: str | None = None


def _error(code: str, message: str, position: int | None = None, value: str | None = None,
           severity: str = "error") -> X12Error:
    return X12Error(
        level="interchange", code=code, message=message, segment_id="ISA",
        element_position=position, bad_value=value, severity=severity,  # type: ignore[arg-type]
    )


def _usable_separator(char: str) -> bool:
    """Separators must not be letters, digits, spaces, tabs or line breaks (data or layout).

    Other control characters are fine: 0x1C-0x1F and 0x7F are common choices."""
    return not (char.isalnum() or char in _BLANKS)


def _fixed_elements(text: str, separator: str) -> list[str] | None:
    """ISA01..ISA16 by position, or ``None`` when the header is not fixed-width."""
    if len(text) < ISA_LENGTH:
        return None
    # the separator positions decide; a separator inside a field (ISA11 equal to it) is then a
    # delimiter clash reported on its own, not a layout problem
    if any(text[p] != separator for p in ISA_SEPARATOR_POSITIONS):
        return None
    bounds = ISA_SEPARATOR_POSITIONS + (ISA_COMPONENT_SEPARATOR_AT + 1,)
    return [text[bounds[i] + 1:bounds[i + 1]] for i in range(len(ISA_WIDTHS))]


def _counted_elements(text: str, separator: str) -> tuple[list[str], int] | None:
    """ISA01..ISA16 found by counting separators, plus the index of the terminator.

    Returns ``None`` when 16 separators and ISA16 are not found within the search limit.
    """
    limit = min(len(text), ISA_MAX_LENIENT_LENGTH)
    starts: list[int] = []
    at = ISA_ELEMENT_SEPARATOR_AT
    for n in range(len(ISA_WIDTHS)):
        if at < 0 or at + 1 >= limit:
            return None
        starts.append(at + 1)
        if n < len(ISA_WIDTHS) - 1:
            at = text.find(separator, at + 1, limit)
    component_at = starts[-1]
    terminator_at = component_at + 1
    if terminator_at >= limit or text[terminator_at] in text[:component_at]:
        # the "terminator" occurs inside the header: these 16 separators span other segments
        return None
    values = [text[starts[i]:starts[i + 1] - 1] for i in range(len(ISA_WIDTHS) - 1)]
    values = [v.replace("\r", "").replace("\n", "") for v in values]
    values.append(text[component_at])
    return values, terminator_at


def _digits(value: str) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts superscripts and other scripts)."""
    return value.isascii() and value.isdigit()


def _valid_date(value: str) -> bool:
    if len(value) != 6 or not _digits(value):
        return False
    try:
        _dt.date(2000 + int(value[:2]), int(value[2:4]), int(value[4:]))
    except ValueError:
        return False
    return True


def _valid_time(value: str) -> bool:
    return len(value) == 4 and _digits(value) and int(value[:2]) < 24 and int(value[2:]) < 60


def _field_errors(values: list[str], has_repetition: bool) -> list[X12Error]:
    """TA1 checks of the individual ISA fields (element order)."""
    v = dict(enumerate(values, start=1))
    found: list[X12Error] = []

    def check(ok: bool, position: int, code: str, what: str) -> None:
        if not ok:
            found.append(_error(code, f"ISA{position:02d} {what}", position, v[position][:99]))

    check(v[ISA_AUTHORIZATION_QUALIFIER] in AUTHORIZATION_QUALIFIERS, ISA_AUTHORIZATION_QUALIFIER,
          codes.TA1_INVALID_AUTHORIZATION_QUALIFIER, "is not an authorization qualifier (00-06)")
    check(v[ISA_SECURITY_QUALIFIER] in SECURITY_QUALIFIERS, ISA_SECURITY_QUALIFIER,
          codes.TA1_INVALID_SECURITY_QUALIFIER, "is not a security qualifier (00 or 01)")
    for qualifier, ident, q_code, i_code, who in (
        (ISA_SENDER_QUALIFIER, ISA_SENDER_ID, codes.TA1_INVALID_SENDER_QUALIFIER,
         codes.TA1_INVALID_SENDER_ID, "sender"),
        (ISA_RECEIVER_QUALIFIER, ISA_RECEIVER_ID, codes.TA1_INVALID_RECEIVER_QUALIFIER,
         codes.TA1_INVALID_RECEIVER_ID, "receiver"),
    ):
        q = v[qualifier]
        check(len(q) == 2 and q.isascii() and q.isalnum() and q.upper() == q, qualifier, q_code,
              f"is not a valid {who} id qualifier")
        check(v[ident].strip() != "", ident, i_code, f"{who} id is blank")
    check(_valid_date(v[ISA_DATE]), ISA_DATE, codes.TA1_INVALID_DATE, "is not a valid YYMMDD date")
    check(_valid_time(v[ISA_TIME]), ISA_TIME, codes.TA1_INVALID_TIME, "is not a valid HHMM time")
    if not has_repetition:
        check(v[ISA_REPETITION_SEPARATOR] in STANDARDS_IDS, ISA_REPETITION_SEPARATOR,
              codes.TA1_INVALID_STANDARDS_ID, "is not a standards id (U)")
    version = v[ISA_VERSION]
    check(len(version) == 5 and _digits(version) and OLDEST_VERSION <= version <= NEWEST_VERSION,
          ISA_VERSION, codes.TA1_INVALID_VERSION,
          f"is not a supported control version ({OLDEST_VERSION}-{NEWEST_VERSION})")
    control = v[ISA_CONTROL_NUMBER]
    check(len(control) == 9 and _digits(control), ISA_CONTROL_NUMBER,
          codes.TA1_INVALID_CONTROL_NUMBER, "is not a 9-digit control number")
    check(v[ISA_ACK_REQUESTED] in ACK_REQUESTED_VALUES, ISA_ACK_REQUESTED,
          codes.TA1_INVALID_ACK_REQUESTED, "is not 0 or 1")
    check(v[ISA_USAGE] in USAGE_INDICATORS, ISA_USAGE, codes.TA1_INVALID_TEST_INDICATOR,
          "is not P, T or I")
    return found


def _uses_repetition(version: str) -> bool:
    return _digits(version) and version >= FIRST_REPETITION_VERSION


def _separator_errors(element: str, component: str, terminator: str, repetition: str | None,
                      ) -> tuple[list[X12Error], str | None, str | None, bool]:
    """Checks ISA16, the terminator and ISA11; returns errors, usable component and repetition
    separators, and whether the terminator is usable."""
    found: list[X12Error] = []
    usable_component: str | None = component
    if not _usable_separator(component) or component in (element, terminator):
        found.append(_error(codes.TA1_INVALID_COMPONENT_SEPARATOR,
                            "ISA16 component separator is a letter, digit, space, line break, or "
                            "equal to another delimiter", ISA_COMPONENT_SEPARATOR, component))
        usable_component = None
    # a terminator equal to ISA16 is kept: the component separator is the one reported (027)
    terminator_ok = not terminator.isalnum() and terminator not in " \t" and terminator != element
    if not terminator_ok:
        found.append(_error(codes.TA1_INVALID_SEGMENT_TERMINATOR,
                            "the segment terminator (character after ISA16) is a letter, digit, "
                            "space, or the element separator", None, terminator))
    usable_repetition = repetition
    if repetition is not None:
        if not _usable_separator(repetition):
            found.append(_error(codes.TA1_INVALID_CONTROL_STRUCTURE,
                                "ISA11 should be the repetition separator for this version but is "
                                "a letter, digit or space; read without repetitions",
                                ISA_REPETITION_SEPARATOR, repetition, severity="warning"))
            usable_repetition = None
        elif repetition in (element, component, terminator):
            found.append(_error(codes.TA1_INVALID_CONTROL_STRUCTURE,
                                "ISA11 repetition separator equals another delimiter",
                                ISA_REPETITION_SEPARATOR, repetition))
            usable_repetition = None
    return found, usable_component, usable_repetition, terminator_ok


def _unreadable(text: str, error: X12Error) -> IsaHeader:
    """A header whose separators cannot be found: keep what fixed positions give, for a TA1."""
    head = text[:ISA_LENGTH]
    separator = head[ISA_ELEMENT_SEPARATOR_AT] if len(head) > ISA_ELEMENT_SEPARATOR_AT else ""
    values = head[ISA_ELEMENT_SEPARATOR_AT + 1:].split(separator) if separator else []
    return IsaHeader(Segment("ISA", tuple(values[:len(ISA_WIDTHS)])), None, len(head), (error,))


def read_isa(text: str, lenient: bool) -> IsaHeader:
    """Reads the ISA at the start of ``text``.

    Args:
        text: starts with ``"ISA"``; should hold at least :data:`ISA_MAX_LENIENT_LENGTH`
            characters unless the input ends sooner.
        lenient: accept a short (unpadded) ISA without an error.

    Returns:
        The header with its delimiters (``None`` when unusable) and every problem found.
    """
    if len(text) <= ISA_ELEMENT_SEPARATOR_AT:
        return _unreadable(text, _error(codes.TA1_PREMATURE_END_OF_FILE,
                                        "input ends inside the ISA segment"))
    element = text[ISA_ELEMENT_SEPARATOR_AT]
    if not _usable_separator(element):
        return _unreadable(text, _error(codes.TA1_INVALID_ELEMENT_SEPARATOR,
                                        "the element separator (4th character of the ISA) is a "
                                        "letter, digit, space or line break", None, element))
    errors: list[X12Error] = []
    values = _fixed_elements(text, element)
    if values is not None:
        terminator_at = ISA_SEGMENT_TERMINATOR_AT
    else:
        counted = _counted_elements(text, element)
        if counted is None:
            if len(text) < ISA_LENGTH:
                return _unreadable(text, _error(codes.TA1_PREMATURE_END_OF_FILE,
                                                "input ends inside the ISA segment"))
            return _unreadable(text, _error(codes.TA1_INVALID_CONTROL_STRUCTURE,
                                            "the ISA does not have 16 elements"))
        values, terminator_at = counted
        if not lenient:
            errors.append(_error(codes.TA1_INVALID_CONTROL_STRUCTURE,
                                 "the ISA is not fixed-width (106 characters, fields padded)"))
    terminator = text[terminator_at]
    component = values[ISA_COMPONENT_SEPARATOR - 1]
    has_repetition = _uses_repetition(values[ISA_VERSION - 1])
    repetition = values[ISA_REPETITION_SEPARATOR - 1][:1] if has_repetition else None
    if not values[ISA_REPETITION_SEPARATOR - 1] and has_repetition:
        repetition = None
    separator_errors, usable_component, usable_repetition, terminator_ok = _separator_errors(
        element, component, terminator, repetition)
    errors = separator_errors + errors
    errors.extend(_field_errors(values, has_repetition))
    segment = Segment("ISA", tuple(values))
    if not terminator_ok:
        return IsaHeader(segment, None, terminator_at + 1, tuple(errors))
    delimiters = Delimiters(element=element, segment=terminator, component=component,
                            repetition=usable_repetition)
    return IsaHeader(segment, delimiters, terminator_at + 1, tuple(errors),
                     usable_component, usable_repetition)
