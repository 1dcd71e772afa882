"""The X12 writer: element formatting by type, serialization, envelopes, delimiter checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossdock.adapters.x12.writer import (
    CountingAllocator,
    build_group,
    build_interchange,
    build_transaction,
    check_delimiters,
    format_element,
    serialize,
)
from crossdock.schemas.errors import ConfigurationInvalid, SerializationFailed
from crossdock.schemas.x12.tree import Composite, Delimiters, Group, Interchange, Repeats, Segment, Transaction


@dataclass(frozen=True)
class El:
    data_type: str
    min_length: int
    max_length: int


# ----------------------------------------------------------------------------- format_element

FORMATTED = [
    # Nn: implied decimals, sign outside the length, leading zeros only to reach min length
    (El("N0", 1, 9), 5, "5"),
    (El("N0", 1, 9), -5, "-5"),
    (El("N0", 1, 9), 0, "0"),
    (El("N0", 1, 9), Decimal("-0"), "0"),
    (El("N0", 1, 9), "007", "7"),
    (El("N0", 3, 9), 7, "007"),
    (El("N0", 3, 9), -7, "-007"),
    (El("N", 1, 9), 42, "42"),
    (El("N2", 1, 10), 12.5, "1250"),
    (El("N2", 1, 10), Decimal("12.5"), "1250"),
    (El("N2", 1, 10), "0.01", "1"),
    (El("N2", 1, 10), -1.25, "-125"),
    (El("N2", 1, 10), 1, "100"),
    (El("N2", 4, 10), 0.5, "0050"),
    (El("N2", 1, 10), Decimal("3.100"), "310"),
    (El("N4", 1, 15), Decimal("0.0001"), "1"),
    # R: shortest plain decimal, leading zero suppressed (X12.6) unless min length needs it
    (El("R", 1, 10), Decimal("12.50"), "12.5"),
    (El("R", 1, 10), 100, "100"),
    (El("R", 1, 10), Decimal("1E+2"), "100"),
    (El("R", 1, 10), 0.5, ".5"),
    (El("R", 1, 10), -0.5, "-.5"),
    (El("R", 1, 10), 0, "0"),
    (El("R", 1, 10), Decimal("0.000"), "0"),
    (El("R", 1, 10), Decimal("-12.000"), "-12"),
    (El("R", 1, 10), "+3.10", "3.1"),
    (El("R", 2, 10), 5, "05"),
    (El("R", 2, 10), 0.5, "0.5"),
    (El("R", 1, 15), 1234567.125, "1234567.125"),
    # DT
    (El("DT", 8, 8), date(2024, 2, 29), "20240229"),
    (El("DT", 8, 8), datetime(2024, 12, 31, 23, 59), "20241231"),
    (El("DT", 8, 8), "20240105", "20240105"),
    (El("DT", 6, 6), date(2024, 1, 5), "240105"),
    (El("DT", 6, 6), "20240105", "240105"),
    (El("DT", 6, 6), date(1999, 12, 31), "991231"),
    # TM: seconds and hundredths only when present and room allows; truncated, never rounded
    (El("TM", 4, 8), time(9, 5), "0905"),
    (El("TM", 4, 8), time(9, 5, 7), "090507"),
    (El("TM", 4, 8), time(9, 5, 7, 120000), "09050712"),
    (El("TM", 4, 8), time(9, 5, 0, 500000), "0905005"),
    (El("TM", 4, 4), time(9, 5, 59, 999999), "0905"),
    (El("TM", 6, 6), time(9, 5), "090500"),
    (El("TM", 4, 8), datetime(2024, 1, 1, 0, 0), "0000"),
    (El("TM", 4, 8), "2359", "2359"),
    # ID / AN
    (El("ID", 2, 2), "PO", "PO"),
    (El("AN", 2, 5), "A", "A "),
    (El("AN", 1, 5), "  x", "  x"),
    # empty means "not used", whatever the type
    (El("N2", 1, 10), None, ""),
    (El("DT", 8, 8), "", ""),
    (El("ID", 2, 2), None, ""),
]


@pytest.mark.parametrize(("element", "value", "expected"), FORMATTED)
def test_format_element(element: El, value: object, expected: str) -> None:
    assert format_element(value, element) == expected


REJECTED = [
    (El("N2", 1, 10), 12.345, "PRECISION_LOST"),
    (El("N0", 1, 9), Decimal("1.5"), "PRECISION_LOST"),
    (El("N2", 1, 3), 10, "ELEMENT_TOO_LONG"),
    (El("N0", 1, 2), -123, "ELEMENT_TOO_LONG"),
    (El("R", 1, 10), "1e5", "EXPONENT_NOT_ALLOWED"),
    (El("R", 1, 10), "1.5E3", "EXPONENT_NOT_ALLOWED"),
    (El("N0", 1, 10), "2E2", "EXPONENT_NOT_ALLOWED"),
    (El("R", 1, 10), "abc", "NOT_A_NUMBER"),
    (El("R", 1, 10), "1,5", "NOT_A_NUMBER"),
    (El("R", 1, 10), " 1", "NOT_A_NUMBER"),
    (El("R", 1, 10), float("nan"), "NOT_A_NUMBER"),
    (El("R", 1, 10), float("inf"), "NOT_A_NUMBER"),
    (El("R", 1, 10), Decimal("NaN"), "NOT_A_NUMBER"),
    (El("R", 1, 10), True, "WRONG_VALUE_TYPE"),
    (El("R", 1, 10), [1], "WRONG_VALUE_TYPE"),
    (El("R", 1, 10), 0.1 + 0.2, "ELEMENT_TOO_LONG"),  # binary float noise is data, not rounded away
    (El("R", 1, 3), 1234, "ELEMENT_TOO_LONG"),
    (El("R", 1, 3), 12.34, "ELEMENT_TOO_LONG"),
    (El("DT", 8, 8), "20240230", "INVALID_DATE"),
    (El("DT", 8, 8), "2024-01-01", "INVALID_DATE"),
    (El("DT", 6, 6), "1234567", "INVALID_DATE"),
    (El("DT", 8, 8), 20240101, "WRONG_VALUE_TYPE"),
    (El("TM", 4, 8), "2560", "INVALID_TIME"),
    (El("TM", 4, 8), "0960", "INVALID_TIME"),
    (El("TM", 4, 8), "123", "INVALID_TIME"),
    (El("TM", 4, 8), "120061", "INVALID_TIME"),
    (El("TM", 4, 4), "120000", "ELEMENT_TOO_LONG"),
    (El("TM", 6, 8), "1200", "ELEMENT_TOO_SHORT"),
    (El("ID", 2, 2), "P", "ELEMENT_TOO_SHORT"),
    (El("ID", 2, 2), "POX", "ELEMENT_TOO_LONG"),
    (El("AN", 1, 5), "ABCDEF", "ELEMENT_TOO_LONG"),
    (El("ID", 2, 2), 12, "WRONG_VALUE_TYPE"),
    (El("B", 1, 10), "x", "UNSUPPORTED_TYPE"),
]


@pytest.mark.parametrize(("element", "value", "code"), REJECTED)
def test_format_element_rejects(element: El, value: object, code: str) -> None:
    with pytest.raises(SerializationFailed) as caught:
        format_element(value, element)
    assert caught.value.code == code


# ----------------------------------------------------------------------------- serialize

ISA_401 = Segment(
    "ISA",
    ("00", "", "00", "", "ZZ", "SENDER", "ZZ", "RECEIVER", "240101", "1200", "U", "00401", "7", "0", "P", ">"),
)


def _po_interchange(isa: Segment = ISA_401, delimiters: Delimiters = Delimiters()) -> Interchange:
    """A tree whose counts and trailer numbers are all wrong or missing."""
    transaction = Transaction((
        Segment("ST", ("850", "0001")),
        Segment("BEG", ("00", "SA", "PO-1", "", "20240101")),
        Segment("PO1", ("1", "2", "EA", "9.5", "", "VP", "AB-1")),
        Segment("SE", ("99", "9999")),
    ))
    group = Group(Segment("GS", ("PO", "S", "R", "20240101", "1200", "17", "X", "004010")), (transaction,),
                  Segment("GE", ("5", "5")))
    return Interchange(isa, (group,), None, delimiters)


def test_serialize_recomputes_counts_and_trailers() -> None:
    assert serialize(_po_interchange()) == (
        b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*U*00401*000000007*0*P*:~"
        b"GS*PO*S*R*20240101*1200*17*X*004010~"
        b"ST*850*0001~BEG*00*SA*PO-1**20240101~PO1*1*2*EA*9.5**VP*AB-1~SE*4*0001~"
        b"GE*1*17~IEA*1*000000007~"
    )


def test_serialize_with_other_delimiters_and_suffix() -> None:
    out = serialize(_po_interchange(), Delimiters("|", "\n", "}", None, ""))
    lines = out.decode().split("\n")
    assert lines[0] == "ISA|00|          |00|          |ZZ|SENDER         |ZZ|RECEIVER       |240101|1200|U|00401|000000007|0|P|}"
    assert lines[3:6] == ["BEG|00|SA|PO-1||20240101", "PO1|1|2|EA|9.5||VP|AB-1", "SE|4|0001"]
    crlf = serialize(_po_interchange(), Delimiters(suffix="\r\n")).decode()
    assert crlf.endswith("GE*1*17~\r\nIEA*1*000000007~\r\n")
    assert crlf.count("~\r\n") == 8


def test_serialize_isa11_is_the_repetition_separator_from_00402() -> None:
    isa = Segment("ISA", ISA_401.elements[:10] + ("^", "00501") + ISA_401.elements[12:])
    transaction = Transaction((
        Segment("ST", ("850", "0001", "005010")),
        Segment("REF", ("ZZ", Repeats(("A", Composite(("B", "C")))))),
    ))
    group = Group(Segment("GS", ("PO", "S", "R", "20240101", "1200", "1", "X", "005010")), (transaction,), None)
    out = serialize(Interchange(isa, (group,), None), Delimiters("*", "~", ">", "!", "\n")).decode()
    assert out.splitlines()[0].endswith("*1200*!*00501*000000007*0*P*>~")
    assert "REF*ZZ*A!B>C~\nSE*3*0001~\n" in out
    # before 00402 ISA11 is the standards id and stays "U" whatever the delimiters say
    assert b"*1200*U*00401*" in serialize(_po_interchange(), Delimiters(repetition="!"))


def test_serialize_several_interchanges_and_control_segments() -> None:
    ta1 = Interchange(ISA_401, (), None, control_segments=(Segment("TA1", ("000000005", "240101", "1200", "A", "000")),))
    out = serialize([ta1, _po_interchange()])
    assert out.startswith(b"ISA*")
    assert b"*P*:~TA1*000000005*240101*1200*A*000~IEA*0*000000007~ISA*" in out
    assert out.count(b"ISA*00") == 2


@pytest.mark.parametrize(
    ("tree", "code"),
    [
        (_po_interchange(Segment("ISA", ISA_401.elements[:5] + ("S*X",) + ISA_401.elements[6:])), "DELIMITER_IN_DATA"),
        (_po_interchange(Segment("ISA", ISA_401.elements[:5] + ("X" * 16,) + ISA_401.elements[6:])), "ISA_FIELD_TOO_LONG"),
        (_po_interchange(Segment("ISA", ISA_401.elements[:12])), "ISA_INCOMPLETE"),
    ],
)
def test_serialize_rejects_bad_isa(tree: Interchange, code: str) -> None:
    with pytest.raises(SerializationFailed) as caught:
        serialize(tree)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("element", "code"),
    [
        ("A~B", "DELIMITER_IN_DATA"),
        ("A*B", "DELIMITER_IN_DATA"),
        ("A:B", "DELIMITER_IN_DATA"),
        ("A^B", "DELIMITER_IN_DATA"),
        (Composite(("A", "B*C")), "DELIMITER_IN_DATA"),
    ],
)
def test_serialize_rejects_separators_in_data(element: object, code: str) -> None:
    tree = _po_interchange()
    transaction = Transaction((Segment("ST", ("850", "0001")), Segment("REF", ("ZZ", element))))
    group = Group(tree.groups[0].header, (transaction,), None)
    with pytest.raises(SerializationFailed) as caught:
        serialize(Interchange(tree.header, (group,), None))
    assert caught.value.code == code
    assert "REF02" in caught.value.message


def test_serialize_rejects_repeats_without_repetition_separator() -> None:
    tree = _po_interchange()
    transaction = Transaction((Segment("ST", ("850", "0001")), Segment("REF", ("ZZ", Repeats(("A", "B"))))))
    with pytest.raises(SerializationFailed) as caught:
        serialize(Interchange(tree.header, (Group(tree.groups[0].header, (transaction,), None),), None),
                  Delimiters(repetition=None))
    assert caught.value.code == "REPETITION_UNSUPPORTED"


@pytest.mark.parametrize(
    "delimiters",
    [
        Delimiters("*", "*", ":", "^"),  # terminator == element separator (TA1 004)
        Delimiters("*", "~", "*", "^"),  # component == element separator (TA1 027)
        Delimiters("*", "~", ":", "~"),  # repetition == terminator (TA1 022)
        Delimiters("A", "~", ":", "^"),  # alphanumeric element separator (TA1 026)
        Delimiters("*", "~", "1", None),
        Delimiters("*", " ", ":", None),  # space would be read back as ISA padding
        Delimiters("**", "~", ":", None),
        Delimiters("*", "~", ":", None, "x"),  # suffix may only be CR/LF
        Delimiters("*", "\n", ":", None, "\n"),  # suffix equal to the terminator
    ],
)
def test_colliding_delimiters_are_rejected(delimiters: Delimiters) -> None:
    with pytest.raises(ConfigurationInvalid) as caught:
        check_delimiters(delimiters)
    assert caught.value.code == "DELIMITERS_COLLIDE"
    with pytest.raises(ConfigurationInvalid):
        serialize(_po_interchange(), delimiters)


@pytest.mark.parametrize(
    "delimiters",
    [Delimiters(), Delimiters("|", "\n", "}", None), Delimiters("\x7f", "\x15", ":", None, "\r\n"), Delimiters("~", "\n", "|", None)],
)
def test_legal_delimiters_pass(delimiters: Delimiters) -> None:
    check_delimiters(delimiters)


# ----------------------------------------------------------------------------- envelopes


def _clock() -> datetime:
    return datetime(2024, 3, 9, 7, 5, 59)


def test_envelopes_are_deterministic_with_injected_allocator_and_clock() -> None:
    def build() -> bytes:
        allocator = CountingAllocator(start=41)
        sets = [
            build_transaction("846", [Segment("BIA", ("00", "MM", "REF1", "20240309"))], allocator=allocator),
            build_transaction("846", [Segment("BIA", ("00", "MM", "REF2", "20240309"))], allocator=allocator),
        ]
        group = build_group("IB", sets, application_sender="SUP", application_receiver="HUB",
                            version="004010", allocator=allocator, clock=_clock)
        return serialize(build_interchange([group], sender=("ZZ", "SUP"), receiver=("01", "123456789"),
                                           version="00401", allocator=allocator, clock=_clock, usage="T",
                                           ack_requested=True))

    first = build()
    assert first == build()
    assert first.decode().split("~")[:-1] == [
        "ISA*00*          *00*          *ZZ*SUP            *01*123456789      *240309*0705*U*00401*000000041*1*T*:",
        "GS*IB*SUP*HUB*20240309*0705*41*X*004010",
        "ST*846*0041", "BIA*00*MM*REF1*20240309", "SE*3*0041",
        "ST*846*0042", "BIA*00*MM*REF2*20240309", "SE*3*0042",
        "GE*2*41",
        "IEA*1*000000041",
    ]


def test_build_interchange_00501_writes_repetition_and_st03() -> None:
    allocator = CountingAllocator()
    transaction = build_transaction("999", [Segment("AK1", ("PO", "1", "005010"))], allocator=allocator,
                                    implementation_ref="005010X231A1")
    assert transaction.segments[0] == Segment("ST", ("999", "0001", "005010X231A1"))
    group = build_group("FA", [transaction], application_sender="A", application_receiver="B",
                        version="005010X231A1", allocator=allocator, clock=_clock)
    tree = build_interchange([group], sender=("ZZ", "A"), receiver=("ZZ", "B"), version="00501",
                             allocator=allocator, clock=_clock, delimiters=Delimiters("*", "~", ">", "{"))
    assert tree.header.get(11) == "{" and tree.header.get(16) == ">"
    assert serialize(tree).startswith(b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *240309*0705*{*00501*000000001*0*P*>~")


def test_control_numbers_out_of_range_are_refused() -> None:
    with pytest.raises(SerializationFailed) as caught:
        build_transaction("997", [], allocator=CountingAllocator(start=1_000_000_000))
    assert caught.value.code == "CONTROL_NUMBER_RANGE"


def test_format_element_checks_closed_code_lists_of_real_definitions() -> None:
    from crossdock.schemas.x12.definitions.model import ElementDef

    purpose = ElementDef("353", "Transaction Set Purpose Code", "ID", 2, 2, frozenset({"00", "01"}), codes_closed=True)
    assert format_element("00", purpose) == "00"
    with pytest.raises(SerializationFailed) as caught:
        format_element("ZZ", purpose)
    assert caught.value.code == "CODE_INVALID"
    quantity = ElementDef("380", "Quantity", "R", 1, 15)
    assert format_element(Decimal("24.000"), quantity) == "24"


# ----------------------------------------------------------------------------- round trip (Hypothesis)

SEPARATOR_POOL = "*~:^|!{}<>+@`#$%&;=?/[]_\\\""
DATA_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .-,()'"
BODY_IDS = ("BEG", "REF", "N1", "N3", "PO1", "PID", "LIN", "QTY", "DTM", "MSG")


@st.composite
def delimiter_sets(draw: st.DrawFn, with_repetition: bool) -> Delimiters:
    chars = draw(st.lists(st.sampled_from(SEPARATOR_POOL), min_size=4, max_size=4, unique=True))
    terminator = draw(st.sampled_from([chars[1], "\n"]))
    suffix = "" if terminator == "\n" else draw(st.sampled_from(["", "\n", "\r\n"]))
    return Delimiters(chars[0], terminator, chars[2], chars[3] if with_repetition else None, suffix)


TEXT = st.text(DATA_ALPHABET, min_size=1, max_size=12)


def _values(with_repetition: bool) -> st.SearchStrategy[object]:
    composite = st.lists(st.text(DATA_ALPHABET, max_size=6), min_size=1, max_size=3).map(
        lambda parts: Composite((*parts, "Z")))  # a last non-empty component keeps it a composite
    simple = st.one_of(st.just(""), TEXT)
    options = [simple, composite]
    if with_repetition:
        options.append(st.lists(st.one_of(TEXT, composite), min_size=2, max_size=3).map(Repeats))
    return st.one_of(*options)


@st.composite
def trees(draw: st.DrawFn) -> Interchange:
    version = draw(st.sampled_from(["00401", "00501"]))
    repeats = version >= "00402"
    delimiters = draw(delimiter_sets(repeats))
    allocator = CountingAllocator(start=draw(st.integers(1, 999_999_000)))
    groups = []
    for _ in range(draw(st.integers(1, 2))):
        sets = []
        for _ in range(draw(st.integers(1, 3))):
            body = []
            for _ in range(draw(st.integers(1, 5))):
                elements = draw(st.lists(_values(repeats), min_size=1, max_size=5))
                elements.append(draw(TEXT))  # trees carry no trailing empty element
                body.append(Segment(draw(st.sampled_from(BODY_IDS)), tuple(elements)))
            sets.append(build_transaction("850", body, allocator=allocator))
        groups.append(build_group("PO", sets, application_sender="BUYER", application_receiver="SELLER",
                                  version="004010" if version == "00401" else "005010", allocator=allocator,
                                  clock=_clock))
    return build_interchange(groups, sender=("ZZ", draw(st.text(DATA_ALPHABET[:36], min_size=1, max_size=15))),
                             receiver=("01", "123456789"), version=version, allocator=allocator, clock=_clock,
                             delimiters=delimiters)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees())
def test_parse_serialize_round_trip_across_delimiters(tree: Interchange) -> None:
    from crossdock.adapters.x12 import parse

    (parsed,), report = parse(serialize(tree))
    assert report.error is None
    assert parsed == tree


def test_serialize_parse_round_trip_keeps_suffix_and_delimiters() -> None:
    from crossdock.adapters.x12 import parse

    original = (
        b"ISA|00|          |00|          |ZZ|BUYER          |01|123456789      |240101|1200|{|00501|000000042|0|P|}\r\n"
        b"GS|PO|BUYER|SELLER|20240101|1200|42|X|005010\r\n"
        b"ST|850|0001\r\nREF|ZZ|A{B}C{D\r\nPO1|1|2|EA||VP|X}Y\r\nSE|4|0001\r\n"
        b"GE|1|42\r\nIEA|1|000000042\r\n"
    ).replace(b"\r\n", b"~\r\n")
    trees_, _ = parse(original)
    assert trees_[0].delimiters == Delimiters("|", "~", "}", "{", "\r\n")
    assert serialize(trees_) == original
