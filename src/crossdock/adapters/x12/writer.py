"""Write X12: a parsed tree back to bytes, envelopes around new sets, values formatted by type.

* :func:`serialize` writes interchanges with chosen delimiters and recomputes what a writer
  owns: SE01/SE02, GE01/GE02, IEA01/IEA02, ISA11/ISA16 and the ISA's fixed-width padding.
* :func:`build_transaction`, :func:`build_group` and :func:`build_interchange` wrap new content
  in envelopes, taking control numbers from an allocator and the date/time from a clock that the
  caller passes in, so the output is deterministic under test.
* :func:`format_element` turns a Python value into the text of one element by its X12 data type
  (``Nn`` implied decimals, ``R`` minimal decimal, ``DT``, ``TM``, ``ID``/``AN``).

Errors: a delimiter set that collides raises :class:`~crossdock.schemas.errors.ConfigurationInvalid`
(``DELIMITERS_COLLIDE``); data that cannot be written raises
:class:`~crossdock.schemas.errors.SerializationFailed` with a specific code
(``DELIMITER_IN_DATA``, ``ELEMENT_TOO_LONG``, ``PRECISION_LOST``...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Literal, Protocol

from crossdock.schemas.errors import ConfigurationInvalid, SerializationFailed
from crossdock.schemas.x12.tree import (
    DEFAULT_DELIMITERS,
    Composite,
    Delimiters,
    Group,
    Interchange,
    Repeats,
    Segment,
    Transaction,
    Value,
)

__all__ = [
    "Clock",
    "ControlNumberAllocator",
    "ControlKind",
    "CountingAllocator",
    "ElementType",
    "ISA_WIDTHS",
    "build_group",
    "build_interchange",
    "build_transaction",
    "check_delimiters",
    "format_element",
    "serialize",
]

# Fixed widths of ISA01..ISA16; the ISA is the one segment whose layout is positional.
ISA_WIDTHS: tuple[int, ...] = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
ISA_REPETITION = 11
ISA_VERSION = 12
ISA_CONTROL_NUMBER = 13
ISA_COMPONENT = 16
#: ISA11 became the repetition separator in 00402; before that it is the standards id "U".
FIRST_VERSION_WITH_REPETITION = "00402"
STANDARDS_ID_US = "U"

ControlKind = Literal["ISA", "GS", "ST"]
#: returns "now" for envelope dates and times (ISA09/ISA10, GS04/GS05)
Clock = Callable[[], datetime]

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")
_SUFFIX_CHARS = frozenset("\r\n")


class ControlNumberAllocator(Protocol):
    """Hands out control numbers; the gateway supplies a durable one per partner."""

    def next(self, kind: ControlKind) -> int:
        """The next control number for ISA13, GS06 or ST02."""
        ...


class CountingAllocator:
    """In-process counters per kind, starting at ``start`` (tests and the CLI)."""

    def __init__(self, start: int = 1) -> None:
        self._next: dict[str, int] = {"ISA": start, "GS": start, "ST": start}

    def next(self, kind: ControlKind) -> int:
        number = self._next[kind]
        self._next[kind] = number + 1
        return number


class ElementType(Protocol):
    """What :func:`format_element` needs of an element definition (``ElementDef`` fits)."""

    data_type: str
    min_length: int
    max_length: int


# --------------------------------------------------------------------------- delimiters


def check_delimiters(delimiters: Delimiters) -> None:
    """Raise when the separators cannot delimit X12 unambiguously.

    Each separator must be one character, none alphanumeric or a space (ISA padding), all four
    distinct, and the suffix made only of CR/LF characters that are not separators themselves.

    Raises:
        ConfigurationInvalid: code ``DELIMITERS_COLLIDE``.
    """
    named = {
        "element": delimiters.element,
        "segment": delimiters.segment,
        "component": delimiters.component,
    }
    if delimiters.repetition is not None:
        named["repetition"] = delimiters.repetition
    for name, char in named.items():
        if not isinstance(char, str) or len(char) != 1 or char.isalnum() or char == " ":
            raise _collide(f"{name} separator {char!r} must be one non-alphanumeric, non-space character")
    if len(set(named.values())) != len(named):
        raise _collide(f"separators must be distinct, got {named!r}")
    if not set(delimiters.suffix) <= _SUFFIX_CHARS or set(delimiters.suffix) & set(named.values()):
        raise _collide(f"suffix {delimiters.suffix!r} must be CR/LF only and not a separator")


def _collide(message: str) -> ConfigurationInvalid:
    return ConfigurationInvalid(message, code="DELIMITERS_COLLIDE")


# --------------------------------------------------------------------------- serialize


def serialize(
    interchanges: Interchange | Iterable[Interchange],
    delimiters: Delimiters | None = None,
    *,
    encoding: str = "utf-8",
) -> bytes:
    """Write interchanges as X12 bytes.

    Counts and trailer control numbers are recomputed (SE01 = segments including ST/SE,
    SE02 = ST02, GE01 = sets, GE02 = GS06, IEA01 = groups, IEA02 = ISA13); missing trailers are
    added. ISA fields are padded to their fixed widths (ISA13 with leading zeros, the others
    with trailing spaces); ISA16 and, from version 00402, ISA11 come from the delimiters.

    Args:
        interchanges: one interchange or several (written one after another).
        delimiters: separators to write with; ``None`` uses each interchange's own.
        encoding: output encoding; use ``"latin-1"`` to reproduce a latin-1 input byte for byte.

    Returns:
        The X12 bytes, ``delimiters.suffix`` after every segment terminator.

    Raises:
        ConfigurationInvalid: the delimiters collide (``DELIMITERS_COLLIDE``).
        SerializationFailed: data contains a separator (``DELIMITER_IN_DATA``), an ISA field is
            too long (``ISA_FIELD_TOO_LONG``) or the ISA has fewer than 16 elements.
    """
    if isinstance(interchanges, Interchange):
        interchanges = (interchanges,)
    parts: list[str] = []
    for interchange in interchanges:
        chosen = delimiters or interchange.delimiters
        check_delimiters(chosen)
        parts.extend(_interchange_text(interchange, chosen))
    return "".join(parts).encode(encoding)


def _interchange_text(interchange: Interchange, d: Delimiters) -> list[str]:
    writer = _SegmentWriter(d)
    isa = _isa_elements(interchange.header, d)
    out = [writer.isa(isa)]
    out.extend(writer.write(segment) for segment in interchange.control_segments)
    for group in interchange.groups:
        out.extend(_group_text(group, writer))
    out.append(writer.write(Segment("IEA", (str(len(interchange.groups)), isa[ISA_CONTROL_NUMBER - 1]))))
    return out


def _group_text(group: Group, writer: _SegmentWriter) -> list[str]:
    out = [writer.write(group.header)]
    for transaction in group.transactions:
        out.extend(writer.write(segment) for segment in _with_trailer(transaction))
    out.append(writer.write(Segment("GE", (str(len(group.transactions)), group.control_number))))
    return out


def _with_trailer(transaction: Transaction) -> tuple[Segment, ...]:
    """ST..SE with SE01/SE02 recomputed (SE appended when the tree has none)."""
    segments = transaction.segments
    if segments and segments[-1].id == "SE":
        segments = segments[:-1]
    se = Segment("SE", (str(len(segments) + 1), transaction.control_number))
    return (*segments, se)


def _isa_elements(header: Segment, d: Delimiters) -> list[str]:
    if header.id != "ISA" or len(header.elements) < len(ISA_WIDTHS):
        raise SerializationFailed(
            f"ISA needs {len(ISA_WIDTHS)} elements, got {len(header.elements)}", code="ISA_INCOMPLETE"
        )
    values = [str(v) for v in header.elements[: len(ISA_WIDTHS)]]
    if values[ISA_VERSION - 1] >= FIRST_VERSION_WITH_REPETITION and d.repetition is not None:
        values[ISA_REPETITION - 1] = d.repetition
    values[ISA_COMPONENT - 1] = d.component
    padded = []
    for position, (value, width) in enumerate(zip(values, ISA_WIDTHS, strict=True), start=1):
        if len(value) > width:
            raise SerializationFailed(
                f"ISA{position:02d} is {len(value)} characters, the field holds {width}",
                code="ISA_FIELD_TOO_LONG",
            )
        padded.append(value.rjust(width, "0") if position == ISA_CONTROL_NUMBER else value.ljust(width))
    return padded


class _SegmentWriter:
    """Joins segments with one delimiter set and refuses data that contains a separator."""

    def __init__(self, d: Delimiters) -> None:
        self.d = d
        self.end = d.segment + d.suffix
        separators = [d.element, d.segment, d.component] + ([d.repetition] if d.repetition else [])
        self.forbidden = re.compile("[" + re.escape("".join(separators)) + "]")
        #: the separators but the element separator (checked on a joined segment by counting it)
        self.others = re.compile("[" + re.escape("".join(separators[1:])) + "]")

    def isa(self, padded: list[str]) -> str:
        # ISA11 and ISA16 hold separators by design; every other field must not.
        for position, value in enumerate(padded, start=1):
            if position not in (ISA_REPETITION, ISA_COMPONENT):
                self._check(value, "ISA", position)
        return self.d.element.join(("ISA", *padded)) + self.end

    def write(self, segment: Segment) -> str:
        elements, sep = segment.elements, self.d.element
        if elements and not any(isinstance(v, tuple) for v in elements):
            # plain elements (the common case): one join and two scans for the whole segment; a
            # separator in the data is found again element by element below, for its position
            text = sep.join(elements)
            if text.count(sep) == len(elements) - 1 and not self.others.search(text):
                return f"{segment.id}{sep}{text}{self.end}"
        fields = [segment.id]
        for position, value in enumerate(segment.elements, start=1):
            fields.append(self._value(value, segment.id, position))
        return self.d.element.join(fields) + self.end

    def _value(self, value: Value, segment_id: str, position: int) -> str:
        if isinstance(value, Repeats):
            if self.d.repetition is None:
                raise SerializationFailed(
                    f"{segment_id}{position:02d} repeats but the delimiters have no repetition separator",
                    code="REPETITION_UNSUPPORTED",
                )
            return self.d.repetition.join(self._value(v, segment_id, position) for v in value)
        if isinstance(value, Composite):
            for component in value:
                self._check(component, segment_id, position)
            return self.d.component.join(value)
        self._check(value, segment_id, position)
        return value

    def _check(self, text: str, segment_id: str, position: int) -> None:
        found = self.forbidden.search(text)
        if found:
            raise SerializationFailed(
                f"{segment_id}{position:02d} contains the separator {found.group()!r}; "
                "choose other delimiters or clean the value",
                code="DELIMITER_IN_DATA",
            )


# --------------------------------------------------------------------------- envelopes


def build_transaction(
    set_id: str,
    body: Iterable[Segment],
    *,
    allocator: ControlNumberAllocator,
    implementation_ref: str | None = None,
) -> Transaction:
    """ST, ``body``, SE with ST02 from the allocator (4 digits minimum) and SE01 counted.

    Args:
        set_id: ST01, e.g. ``"997"``.
        body: the segments between ST and SE.
        allocator: source of ST02.
        implementation_ref: ST03 (e.g. ``"005010X231A1"``), 00403 and later.

    Returns:
        The transaction, trailer included.
    """
    control = _control_number(allocator, "ST", 4)
    st_elements = (set_id, control) + ((implementation_ref,) if implementation_ref else ())
    segments = (Segment("ST", st_elements), *body)
    return Transaction((*segments, Segment("SE", (str(len(segments) + 1), control))))


def build_group(
    functional_id: str,
    transactions: Iterable[Transaction],
    *,
    application_sender: str,
    application_receiver: str,
    version: str,
    allocator: ControlNumberAllocator,
    clock: Clock,
) -> Group:
    """GS/GE around ``transactions``; GS06 from the allocator, GS04/GS05 from the clock.

    Args:
        functional_id: GS01, e.g. ``"FA"``.
        transactions: the sets of the group.
        application_sender: GS02.
        application_receiver: GS03.
        version: GS08, e.g. ``"004010"`` or ``"005010X231A1"``.
        allocator: source of GS06.
        clock: source of GS04 (CCYYMMDD) and GS05 (HHMM).

    Returns:
        The group with its GE.
    """
    now = clock()
    control = _control_number(allocator, "GS", 1)
    sets = tuple(transactions)
    header = Segment(
        "GS",
        (functional_id, application_sender, application_receiver,
         now.strftime("%Y%m%d"), now.strftime("%H%M"), control, "X", version),
    )
    return Group(header, sets, Segment("GE", (str(len(sets)), control)))


def build_interchange(
    groups: Iterable[Group],
    *,
    sender: tuple[str, str],
    receiver: tuple[str, str],
    version: str,
    allocator: ControlNumberAllocator,
    clock: Clock,
    usage: str = "P",
    ack_requested: bool = False,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
    control_segments: Iterable[Segment] = (),
) -> Interchange:
    """ISA/IEA around ``groups``; ISA13 from the allocator, ISA09/ISA10 from the clock.

    Args:
        groups: functional groups, in order.
        sender: (ISA05 qualifier, ISA06 id).
        receiver: (ISA07 qualifier, ISA08 id).
        version: ISA12, e.g. ``"00401"``.
        allocator: source of ISA13.
        clock: source of ISA09 (YYMMDD) and ISA10 (HHMM).
        usage: ISA15, ``"P"`` production or ``"T"`` test.
        ack_requested: ISA14, ask the receiver for a TA1.
        delimiters: written into ISA11 (00402+) and ISA16; kept on the tree for :func:`serialize`.
        control_segments: interchange-level segments before the first GS (TA1).

    Returns:
        The interchange with its IEA.
    """
    check_delimiters(delimiters)
    now = clock()
    control = _control_number(allocator, "ISA", 9)
    repetition = STANDARDS_ID_US
    if version >= FIRST_VERSION_WITH_REPETITION and delimiters.repetition is not None:
        repetition = delimiters.repetition
    elements = (
        "00", "", "00", "", sender[0], sender[1], receiver[0], receiver[1],
        now.strftime("%y%m%d"), now.strftime("%H%M"), repetition, version, control,
        "1" if ack_requested else "0", usage, delimiters.component,
    )
    header = Segment("ISA", tuple(v.ljust(w) for v, w in zip(elements, ISA_WIDTHS, strict=True)))
    group_tuple = tuple(groups)
    return Interchange(
        header, group_tuple, Segment("IEA", (str(len(group_tuple)), control)),
        delimiters, tuple(control_segments),
    )


def _control_number(allocator: ControlNumberAllocator, kind: ControlKind, width: int) -> str:
    number = allocator.next(kind)
    if not 1 <= number <= 999_999_999:
        raise SerializationFailed(f"{kind} control number {number} is outside 1..999999999", code="CONTROL_NUMBER_RANGE")
    return f"{number:0{width}d}"


# --------------------------------------------------------------------------- element values


def format_element(value: object, element_def: ElementType) -> str:
    """Format one value as the text of an element of the given X12 data type.

    ``None`` and ``""`` give ``""`` (element not used). Otherwise:

    ====  ==============================================================================
    Nn    implied decimals: N2 with 12.5 -> ``"1250"``; leading zeros to min length; ``-`` prefix
    R     shortest plain decimal: 12.50 -> ``"12.5"``, 0.5 -> ``".5"``, 100 -> ``"100"``
    DT    ``CCYYMMDD``, or ``YYMMDD`` when max length is 6
    TM    ``HHMM``, seconds and hundredths appended when non-zero and the max length allows
    ID    as is; too short, too long or (closed code list) unknown is an error
    AN    as is; padded with spaces to min length, too long is an error
    ====  ==============================================================================

    Signs and decimal points do not count toward length (X12.6). Numbers come as ``int``,
    ``Decimal``, ``float`` (via its shortest repr) or plain decimal ``str``; exponent notation
    and extra decimals that an ``Nn`` type cannot carry are rejected, never rounded.

    Args:
        value: the Python value.
        element_def: anything with ``data_type``, ``min_length``, ``max_length``.

    Returns:
        The element text (delimiters are checked later, by :func:`serialize`).

    Raises:
        SerializationFailed: ``ELEMENT_TOO_LONG``, ``ELEMENT_TOO_SHORT``, ``CODE_INVALID`` (ID with a
            closed code list), ``NOT_A_NUMBER``,
            ``EXPONENT_NOT_ALLOWED``, ``PRECISION_LOST``, ``INVALID_DATE``, ``INVALID_TIME``,
            ``WRONG_VALUE_TYPE`` or ``UNSUPPORTED_TYPE``.
    """
    if value is None or value == "":
        return ""
    data_type = element_def.data_type
    if data_type in ("ID", "AN"):
        return _format_text(value, element_def)
    if data_type == "R":
        return _format_real(_to_decimal(value), element_def)
    if data_type == "DT":
        return _format_date(value, element_def)
    if data_type == "TM":
        return _format_time(value, element_def)
    if data_type.startswith("N") and data_type[1:].isdigit() or data_type == "N":
        return _format_implied(_to_decimal(value), int(data_type[1:] or 0), element_def)
    raise SerializationFailed(f"data type {data_type!r} cannot be formatted", code="UNSUPPORTED_TYPE")


def _format_text(value: object, element_def: ElementType) -> str:
    if not isinstance(value, str):
        raise SerializationFailed(f"{element_def.data_type} needs a str, got {type(value).__name__}", code="WRONG_VALUE_TYPE")
    if len(value) > element_def.max_length:
        raise _too_long(len(value), element_def)
    codes = getattr(element_def, "codes", None)
    if element_def.data_type == "ID" and codes and getattr(element_def, "codes_closed", False) and value not in codes:
        raise SerializationFailed(f"{value[:20]!r} is not in the element's code list", code="CODE_INVALID")
    if len(value) < element_def.min_length:
        if element_def.data_type == "ID":
            raise SerializationFailed(
                f"code {value!r} is shorter than the minimum {element_def.min_length}", code="ELEMENT_TOO_SHORT"
            )
        value = value.ljust(element_def.min_length)
    return value


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise SerializationFailed("a bool is not a number", code="WRONG_VALUE_TYPE")
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        if not _PLAIN_NUMBER.fullmatch(value):
            code = "EXPONENT_NOT_ALLOWED" if _looks_exponential(value) else "NOT_A_NUMBER"
            raise SerializationFailed(f"{value[:20]!r} is not a plain decimal number", code=code)
        number = Decimal(value)
    else:
        raise SerializationFailed(f"a {type(value).__name__} is not a number", code="WRONG_VALUE_TYPE")
    if not number.is_finite():
        raise SerializationFailed(f"{value!r} is not a finite number", code="NOT_A_NUMBER")
    return number


def _looks_exponential(text: str) -> bool:
    try:
        return Decimal(text).is_finite() and "e" in text.lower()
    except InvalidOperation:
        return False


def _format_implied(number: Decimal, decimals: int, element_def: ElementType) -> str:
    scaled = number.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise SerializationFailed(
            f"{number} has more than {decimals} decimal places for N{decimals}", code="PRECISION_LOST"
        )
    magnitude = abs(int(scaled))
    digits = str(magnitude).rjust(element_def.min_length, "0")
    if len(digits) > element_def.max_length:
        raise _too_long(len(digits), element_def)
    return ("-" if scaled < 0 and magnitude else "") + digits


def _format_real(number: Decimal, element_def: ElementType) -> str:
    if number == 0:
        text = "0"
    else:
        text = format(abs(number).normalize(), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if text.startswith("0."):
            text = text[1:]  # X12.6: suppress leading zeros unless the minimum length needs them
    integer, point, fraction = text.partition(".")
    missing = element_def.min_length - len(integer) - len(fraction)
    if missing > 0:
        integer = "0" * missing + integer
    if len(integer) + len(fraction) > element_def.max_length:
        raise _too_long(len(integer) + len(fraction), element_def)
    return ("-" if number < 0 else "") + integer + point + fraction


def _format_date(value: object, element_def: ElementType) -> str:
    if isinstance(value, str):
        value = _parse_date(value)
    if not isinstance(value, date):
        raise SerializationFailed(f"DT needs a date or str, got {type(value).__name__}", code="WRONG_VALUE_TYPE")
    if element_def.max_length >= 8:
        return f"{value.year:04d}{value.month:02d}{value.day:02d}"
    return f"{value.year % 100:02d}{value.month:02d}{value.day:02d}"


def _parse_date(text: str) -> date:
    formats = {8: "%Y%m%d", 6: "%y%m%d"}
    if not text.isdigit() or len(text) not in formats:
        raise SerializationFailed(f"{text[:20]!r} is not CCYYMMDD or YYMMDD", code="INVALID_DATE")
    try:
        return datetime.strptime(text, formats[len(text)]).date()
    except ValueError as exc:
        raise SerializationFailed(f"{text!r} is not a calendar date", code="INVALID_DATE") from exc


def _format_time(value: object, element_def: ElementType) -> str:
    if isinstance(value, datetime):
        value = value.time()
    if isinstance(value, str):
        return _check_time_text(value, element_def)
    if not isinstance(value, time):
        raise SerializationFailed(f"TM needs a time or str, got {type(value).__name__}", code="WRONG_VALUE_TYPE")
    text = f"{value.hour:02d}{value.minute:02d}"
    # Sub-minute precision the element cannot hold is dropped: X12 times are truncated, not rounded.
    if element_def.max_length >= 6 and (value.second or value.microsecond or element_def.min_length >= 6):
        text += f"{value.second:02d}"
        fraction = f"{value.microsecond:06d}"[: element_def.max_length - 6].rstrip("0")
        text += fraction
    return text


def _check_time_text(text: str, element_def: ElementType) -> str:
    valid = (
        text.isdigit() and len(text) in (4, 6, 7, 8)
        and int(text[0:2]) < 24 and int(text[2:4]) < 60 and (len(text) < 6 or int(text[4:6]) < 60)
    )
    if not valid:
        raise SerializationFailed(f"{text[:20]!r} is not HHMM[SS[d[d]]]", code="INVALID_TIME")
    if len(text) > element_def.max_length:
        raise _too_long(len(text), element_def)
    if len(text) < element_def.min_length:
        raise SerializationFailed(f"time {text!r} is shorter than {element_def.min_length}", code="ELEMENT_TOO_SHORT")
    return text


def _too_long(length: int, element_def: ElementType) -> SerializationFailed:
    return SerializationFailed(
        f"{element_def.data_type} value of length {length} exceeds the maximum {element_def.max_length}",
        code="ELEMENT_TOO_LONG",
    )
