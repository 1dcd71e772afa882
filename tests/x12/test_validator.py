"""The set validator: every AK5/AK3/AK4 condition, whole error lists, fast path = slow path."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossdock.adapters.x12.validator import new_set_validator, validate_set
from crossdock.adapters.x12.validator_elements import compile_segment, segment_problems
from crossdock.schemas.x12.definitions import load_definition, segment, supported_sets
from crossdock.schemas.x12.report import SetReport
from crossdock.schemas.x12.tree import Composite, Delimiters, Repeats, Segment

D = Delimiters("*", "~", ":", "^")


def seg(text: str) -> Segment:
    """``"N1*ST*NAME"`` -> Segment; ``:`` makes a composite, ``^`` repetitions (test notation)."""
    head, *raw = text.split("*")
    values = []
    for value in raw:
        if "^" in value:
            values.append(Repeats(tuple(Composite(v.split(":")) if ":" in v else v for v in value.split("^"))))
        elif ":" in value:
            values.append(Composite(value.split(":")))
        else:
            values.append(value)
    while values and values[-1] == "":
        values.pop()
    return Segment(head, tuple(values))


def run(lines: list[str], fid: str = "PO", version: str = "004010") -> SetReport:
    return validate_set([seg(line) for line in lines], fid, version, D)


def errors(report: SetReport) -> list[tuple]:
    return [
        (e.level, e.code, e.segment_id, e.segment_position, e.element_position, e.component_position, e.element_ref, e.loop_id)
        for e in report.errors
        if e.severity == "error"
    ]


PO = [
    "ST*850*0001",
    "BEG*00*SA*PO123**20240115",
    "REF*DP*042",
    "N1*ST*STORE 12*92*0012",
    "PO1*1*12*EA*9.99**UP*012345678901",
    "PID*F****WIDGET",
    "CTT*1",
    "SE*8*0001",
]


def with_body(*body: str, se_count: int | None = None) -> list[str]:
    count = se_count if se_count is not None else len(body) + 2
    return ["ST*850*0001", *body, f"SE*{count}*0001"]


def test_valid_850_is_accepted() -> None:
    report = run(PO)
    assert (report.status, report.errors, report.definition, report.segment_count) == ("A", (), "850/004010", 8)


# -- set level (AK5 / IK5) ------------------------------------------------------------------------


def test_unsupported_set_still_reads_and_checks_its_trailer() -> None:
    report = run(["ST*123*0001", "FOO*1", "BAR*2", "SE*5*0001"])
    assert report.status == "R" and report.definition is None
    assert errors(report) == [("set", "1", "ST", 1, None, None, None, None), ("set", "4", "SE", 4, 1, None, None, None)]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (PO[:-1], [("set", "2", "SE", 8, None, None, None, None)]),
        (PO[:-1] + ["SE*8*0002"], [("set", "3", "SE", 8, 2, None, None, None)]),
        (PO[:-1] + ["SE*7*0001"], [("set", "4", "SE", 8, 1, None, None, None)]),
        (PO[:-1] + ["SE*x*0001"], [("set", "4", "SE", 8, 1, None, None, None)]),
        (["ST*850*12"] + PO[1:-1] + ["SE*8*12"], [("set", "7", "ST", 1, 2, None, None, None)]),
    ],
    ids=["se-missing", "se02-mismatch", "se01-wrong", "se01-not-numeric", "st02-too-short"],
)
def test_set_level_codes(lines: list[str], expected: list[tuple]) -> None:
    report = run(lines)
    assert report.status == "R"
    assert errors(report) == expected


def test_se01_with_leading_zeros_counts() -> None:
    assert run(PO[:-1] + ["SE*0000000008*0001"]).status == "A"


def test_functional_group_mismatch() -> None:
    assert errors(run(PO, fid="IN")) == [("set", "6", "ST", 1, 1, None, None, None)]


# -- segment level (AK3 / IK3) --------------------------------------------------------------------


SEGMENT_CASES = {
    "unrecognized-id": (
        with_body("BEG*00*SA*PO1**20240115", "ZZZ*1", "PO1*1*1*EA"),
        [("segment", "1", "ZZZ", 3, None, None, None, None)],
    ),
    "not-in-set": (
        with_body("BEG*00*SA*PO1**20240115", "BSN*00*S1*20240115*1200", "PO1*1*1*EA"),
        [("segment", "6", "BSN", 3, None, None, None, None)],
    ),
    "unexpected": (
        with_body("BEG*00*SA*PO1**20240115", "LE*1", "PO1*1*1*EA"),
        [("segment", "2", "LE", 3, None, None, None, None)],
    ),
    "out-of-sequence": (
        with_body("BEG*00*SA*PO1**20240115", "REF*DP*1", "CUR*BY*USD", "PO1*1*1*EA"),
        [("segment", "7", "CUR", 4, None, None, None, None)],
    ),
    "mandatory-missing-first": (
        with_body("REF*DP*1", "BEG*00*SA*PO1**20240115", "PO1*1*1*EA"),
        [("segment", "3", "BEG", 2, None, None, None, None), ("segment", "7", "BEG", 3, None, None, None, None)],
    ),
    "mandatory-loop-missing": (
        with_body("BEG*00*SA*PO1**20240115", "CTT*0"),
        [("segment", "3", "PO1", 3, None, None, None, None)],
    ),
    "over-max-use": (
        with_body("BEG*00*SA*PO1**20240115", "BEG*00*SA*PO2**20240115", "PO1*1*1*EA"),
        [("segment", "5", "BEG", 3, None, None, None, None)],
    ),
    "loop-over-max": (
        with_body("BEG*00*SA*PO1**20240115", "PO1*1*1*EA", "CTT*1", "CTT*1"),
        [("segment", "4", "CTT", 5, None, None, None, "CTT")],
    ),
    "mandatory-in-loop-missing": (
        with_body("BEG*00*SA*PO1**20240115", "PO1*1*1*EA", "LM*AG", "PO1*2*1*EA"),
        [("segment", "3", "LQ", 5, None, None, None, "LM")],
    ),
}


@pytest.mark.parametrize("case", SEGMENT_CASES, ids=list(SEGMENT_CASES))
def test_segment_level_codes(case: str) -> None:
    lines, expected = SEGMENT_CASES[case]
    report = run(lines)
    assert report.status == "R"
    assert errors(report) == [("set", "5", None, None, None, None, None, None), *expected]


# -- element level (AK4 / IK4) --------------------------------------------------------------------


def _element_case(line: str, code: str, position: int, ref: str | None, component: int | None = None, segment_position: int = 2, loop: str | None = None) -> tuple:
    seg_id = line.split("~")[-1].split("*")[0]
    return (
        line,
        [
            ("set", "5", None, None, None, None, None, None),
            ("segment", "8", seg_id, segment_position, None, None, None, loop),
            ("element", code, seg_id, segment_position, position, component, ref, loop),
        ],
    )


ELEMENT_CASES = {
    "mandatory-missing": _element_case("BEG*00*SA**PO1*20240115", "1", 3, "324"),
    "conditional-missing": _element_case("BEG*00*SA*PO1**20240115~N1*ST*NAME*92", "2", 4, "67", segment_position=3, loop="N1"),
    "required-one-of": _element_case("BEG*00*SA*PO1**20240115~REF*DP", "2", 2, "127", segment_position=3),
    "too-many-elements": _element_case("BEG*00*SA*PO1**20240115~N1*ST*NAME~N3*A*B*C", "3", 3, None, segment_position=4, loop="N1"),
    "too-short": _element_case("BEG*0*SA*PO1**20240115", "4", 1, "353"),
    "too-long": _element_case("BEG*00*SA*" + "P" * 40 + "**20240115", "5", 3, "324"),
    "invalid-character": _element_case("BEG*00*SA*PO1**20240115~PO1*1*1x*EA", "6", 2, "330", segment_position=3, loop="PO1"),
    "invalid-code": _element_case("BEG*ZZ*SA*PO1**20240115", "7", 1, "353"),
    "invalid-date": _element_case("BEG*00*SA*PO1**20240230", "8", 5, "373"),
    "invalid-time": _element_case("BEG*00*SA*PO1**20240115~DTM*002*20240101*2561", "9", 3, "337", segment_position=3),
    "exclusion": _element_case("BEG*00*SA*PO1**20240115~PO1*1*1*EA~QTY*01*5**TEXT", "10", 4, "61", segment_position=4, loop="QTY"),
    "composite-in-simple": _element_case("BEG*00*SA*PO1:X**20240115", "6", 3, "324"),
    "component-too-long": _element_case("BEG*00*SA*PO1**20240115~PO1*1*1*EA~CTP**UCP*1.5*1*EACH", "5", 5, "355", component=1, segment_position=4, loop="CTP"),
}


@pytest.mark.parametrize("case", ELEMENT_CASES, ids=list(ELEMENT_CASES))
def test_element_level_codes(case: str) -> None:
    text, expected = ELEMENT_CASES[case]
    body = text.split("~")
    if not any(line.startswith("PO1") for line in body):
        body.append("PO1*1*1*EA")
    report = run(with_body(*body))
    assert report.status == "R"
    assert errors(report) == expected


def test_composite_in_simple_element_has_its_999_code() -> None:
    report = run(with_body("BEG*00*SA*PO1:X**20240115", "PO1*1*1*EA"))
    element = next(e for e in report.errors if e.level == "element")
    assert (element.code, element.code_999, element.bad_value) == ("6", "13", "PO1:X")


def test_repetitions_in_005010() -> None:
    report = run(with_body("BEG*00*SA*PO1**20240115", "REF*DP*A^B", "PO1*1*1*EA"), version="005010")
    assert errors(report)[2] == ("element", "12", "REF", 3, 2, None, "127", None)
    ctx_ok = validate_set(
        [seg(s) for s in ("ST*999*0001*005010X231A1", "AK1*HC*1*005010X222A1", "AK2*837*0001", "IK3*CLM*22**8", "CTX*A^B:2*CLM*43", "IK5*R*5", "AK9*R*1*1*0", "SE*8*0001")],
        "FA",
        "005010X231A1",
        D,
    )
    assert (ctx_ok.status, ctx_ok.implementation_ref) == ("A", "005010X231A1")


# -- 856 hierarchy --------------------------------------------------------------------------------

ASN = [
    "ST*856*0001",
    "BSN*00*SHIP1*20240115*1200",
    "HL*1**S",
    "TD1*CTN25*2",
    "HL*2*1*O",
    "PRF*PO123",
    "HL*3*2*P",
    "MAN*GM*00000123456789012345",
    "HL*4*3*I",
    "LIN**UP*012345678901",
    "SN1**12*EA",
    "HL*5*2*I",
    "LIN**UP*012345678902",
    "SN1**1*EA",
    "CTT*5",
    "SE*16*0001",
]


def test_856_hierarchy_with_optional_tare_is_accepted() -> None:
    assert run(ASN, fid="SH").status == "A"


def test_856_hierarchy_errors_name_the_level() -> None:
    lines = list(ASN)
    lines[8] = "HL*7*3*I"  # HL01 out of sequence
    lines[11] = "HL*5*9*I"  # parent 9 is not an open ancestor
    report = run(lines, fid="SH")
    assert errors(report) == [
        ("set", "5", None, None, None, None, None, None),
        ("segment", "8", "HL", 9, None, None, None, "HL"),
        ("element", "7", "HL", 9, 1, None, "628", "HL"),
        ("segment", "8", "HL", 12, None, None, None, "HL"),
        ("element", "7", "HL", 12, 2, None, "734", "HL"),
    ]
    assert report.errors[1].message == "segment HL in loop HL (level I) has data element errors"


# -- statuses and versions ------------------------------------------------------------------------


def test_nearest_version_only_warns() -> None:
    report = run(with_body("BEG*00*SA*PO1**240115", "PO1*1*1*EA"), version="003040")
    assert report.status == "E" and errors(report) == []
    assert [(e.code, e.severity) for e in report.errors] == [("NEAREST_VERSION", "warning"), ("8", "warning"), ("4", "warning")]
    assert report.as_json()["errors"] == []


def test_errors_are_capped_but_counted() -> None:
    st_seg = seg("ST*850*0001")
    validator = new_set_validator(st_seg, "PO", "004010", D, max_errors=3)
    validator.feed(seg("BEG*00*SA*PO1**20240115"))
    for _ in range(10):
        validator.feed(seg("ZZZ*1"))
    validator.feed(seg("PO1*1*1*EA"))
    report = validator.finish(seg("SE*14*0001"))
    assert [e.code for e in report.errors] == ["5", "1", "1", "1", "5"]
    assert report.errors[-1].message == "7 further errors not listed"


# -- the fast path agrees with the slow path ------------------------------------------------------

VALUES = st.sampled_from(["", "00", "ZZ", "SA", "EA", "A", "0", "1", "12", "-5", "1.5", ".5", "1.", "-", "20240115", "20240230", "240101", "1200", "2561", "120000", "X" * 31, "9" * 16, "a\tb", "X:Y", "A^B"])
SEGMENT_IDS = sorted({"BEG", "PO1", "N1", "N4", "REF", "DTM", "PER", "CUR", "SAC", "PID", "MEA", "QTY", "SN1", "HL", "CTT", "CTP", "TD5", "SLN", "LIN", "IT1", "ACK", "ZA"})


def _as_value(text: str):
    if "^" in text:
        return Repeats(tuple(text.split("^")))
    if ":" in text:
        return Composite(text.split(":"))
    return text


@settings(max_examples=250, deadline=None)
@given(st.sampled_from(SEGMENT_IDS), st.sampled_from(["004010", "005010"]), st.lists(VALUES, max_size=24))
def test_fast_path_agrees_with_slow_path(seg_id: str, version: str, raw: list[str]) -> None:
    definition = segment(seg_id, version)
    elements = [_as_value(v) for v in raw]
    while elements and elements[-1] == "":
        elements.pop()
    checker = compile_segment(definition, "*", ":")
    _assert_paths_agree(checker, definition, tuple(elements))


def _assert_paths_agree(checker, definition, elements: tuple) -> None:
    fast, slow_clean = checker.is_clean(elements), segment_problems(definition, elements) == []
    if fast:
        assert slow_clean, elements
    elif not any(isinstance(v, Repeats) for v in elements) and all(_plain_printable(v) for v in elements):
        assert not slow_clean, elements


def _plain_printable(value) -> bool:
    parts = (value,) if isinstance(value, str) else value
    return all(p.isprintable() for p in parts)


def test_fast_path_agrees_on_every_corpus_segment(corpus_dir: Path) -> None:
    x12 = pytest.importorskip("crossdock.adapters.x12")
    checked = 0
    checkers: dict[tuple[str, str, str, str], object] = {}
    for path in sorted((corpus_dir / "x12").glob("*/*")):
        try:
            trees, _ = x12.parse(path.read_bytes())
        except Exception:  # noqa: BLE001  the reader's own errors are its tests' business
            continue
        for interchange in trees:
            d = interchange.delimiters
            for group in interchange.groups:
                version = group.version or "004010"
                for transaction in group.transactions:
                    for s in transaction.body:
                        definition = segment(s.id, version)
                        if definition is None:
                            continue
                        key = (s.id, version, d.element, d.component)
                        checker = checkers.get(key) or checkers.setdefault(key, compile_segment(definition, d.element, d.component))
                        _assert_paths_agree(checker, definition, s.elements)
                        checked += 1
    assert checked > 1000


@pytest.mark.parametrize(("set_id", "version"), supported_sets())
def test_every_definition_compiles_for_odd_delimiters(set_id: str, version: str) -> None:
    definition = load_definition(set_id, version).definition
    for element_sep, component_sep in (("|", "^"), ("\x7f", ">"), ("~", "}")):
        validator = new_set_validator(Segment("ST", (set_id, "0001")), definition.functional_id, version, Delimiters(element_sep, "\n", component_sep, None))
        report = validator.finish(Segment("SE", ("2", "0001")))
        assert report.status == "R"
        assert {e.code for e in report.errors if e.level == "segment"} == {"3"}  # mandatory segments missing
