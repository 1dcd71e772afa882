"""The reader's fast paths give the verdicts of the slow ones, and the codec's closed gaps.

* ``validate`` hands runs of raw segment texts to the set validator (``feed_texts``); a validator
  without that method gets one tree per segment (``feed``). Both must agree, whole verdicts
  compared, on every corpus file, every golden input and Hypothesis-mutated interchanges.
* Segments over ``max_segment_length`` are reported wherever they are (not only across chunks).
* Character sets (``ReadOptions(charset=...)``), AK9 code 19 by version, HL hierarchies after a
  bad HL02, the CLI's file-level error object, and compact accepted-set verdicts.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossdock.adapters.x12 import ReadOptions, build_acks, parse, validate
from crossdock.adapters.x12.envelope_codes import ak9_code_defined
from crossdock.adapters.x12.validator import new_set_validator
from crossdock.adapters.x12.validator_elements import text_in_charset
from crossdock.adapters.x12.writer import CountingAllocator, serialize
from crossdock.schemas.errors import ConfigurationInvalid
from crossdock.schemas.x12.report import FileReport
from crossdock.schemas.x12.tree import Segment


def _load(name: str):
    """A sibling test module, loaded by path (works with or without ``__init__.py``)."""
    key = f"crossdock_x12_test_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, Path(__file__).with_name(f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


S = _load("test_reader_support")
GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "x12"


class _TreeOnly:
    """The real set validator seen through the plain protocol (no ``feed_texts``)."""

    def __init__(self, st: Segment, functional_id: str, version: str, delimiters, charset: str = "extended") -> None:
        self._inner = new_set_validator(st, functional_id, version, delimiters, charset=charset)

    def feed(self, segment: Segment) -> None:
        self._inner.feed(segment)

    def finish(self, se: Segment | None):
        return self._inner.finish(se)


def _slow(charset: str = "extended", **options) -> ReadOptions:
    return ReadOptions(validator=lambda *args: _TreeOnly(*args, charset=charset), charset=charset, **options)


def _same_verdict(data: bytes, charset: str = "extended") -> FileReport:
    fast = validate(data, ReadOptions(charset=charset))
    assert fast == validate(data, _slow(charset))
    assert parse(data, ReadOptions(charset=charset))[1] == fast  # trees kept: the fast path with keep
    return fast


# --- fast path = slow path ------------------------------------------------------------------------


def test_fast_and_tree_paths_agree_on_every_golden_input() -> None:
    inputs = sorted(GOLDEN.glob("**/input.x12"))
    assert len(inputs) > 50
    for path in inputs:
        for charset in ("basic", "extended"):  # utf8 is covered by the mutants
            _same_verdict(path.read_bytes(), charset)


def test_fast_and_tree_paths_agree_on_the_corpus(corpus_dir: Path) -> None:
    files = sorted(p for p in (corpus_dir / "x12").rglob("*") if p.is_file())
    assert files
    for path in files:
        _same_verdict(path.read_bytes())


def test_trees_from_the_fast_path_are_the_trees() -> None:
    data = S.interchange([S.group([S.st_set(body=("BEG*00*SA*X**20240101", "PO1*1*2*EA*1>2^3",
                                                  "N1*ST*NAME**", "CTT*1"))])],
                         isa11="^", isa12="00501").encode()
    fast_trees, fast_report = parse(data)
    slow_trees, slow_report = parse(data, _slow())
    assert (fast_trees, fast_report) == (slow_trees, slow_report)
    body = fast_trees[0].groups[0].transactions[0].segments
    assert body[3] == Segment("N1", ("ST", "NAME"))  # trailing empty elements dropped


MUTANTS = _load("test_mutation_x12").mutants


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MUTANTS(), st.sampled_from(["basic", "extended", "utf8"]))
def test_fast_and_tree_paths_agree_on_mutants(data: bytes, charset: str) -> None:
    _same_verdict(data, charset)


# --- a. max segment length anywhere -----------------------------------------------------------------

GIANT_BODY = ("BEG*00*SA*PO-1**20240101", "MSG*" + "X" * 5000, "PO1*1*10*EA*9.95**UP*012345678905", "CTT*1")


@pytest.mark.parametrize("chunk_size", [1 << 20, 256])
def test_giant_segment_inside_one_chunk_is_reported_and_skipped(chunk_size: int) -> None:
    data = S.interchange([S.group([S.st_set(body=GIANT_BODY)])]).encode()
    options = ReadOptions(validator=S.CountingValidator, max_segment_length=1000, chunk_size=chunk_size)
    report = validate(data, options)
    assert S.summary(report) == [{
        "status": "rejected", "ta1": "022", "errors": [("022", None, None, "error")],
        "groups": [{"status": "R", "ak9": [], "sets": [("0001", "R", ["4"])]}]}]
    trees, _ = parse(data, options)
    assert [s.id for s in trees[0].groups[0].transactions[0].segments] == ["ST", "BEG", "PO1", "CTT", "SE"]


def test_giant_last_segment_without_terminator_is_reported() -> None:
    data = (S.interchange(iea=False) + "MSG*" + "X" * 3000).encode()
    report = validate(data, ReadOptions(validator=S.CountingValidator, max_segment_length=1000))
    assert [e.code for e in report.interchanges[0].errors] == ["022", "023"]


def test_segments_at_the_limit_are_read() -> None:
    body = ("BEG*00*SA*PO-1**20240101", "MSG*" + "X" * 996, "CTT*1")
    report = validate(S.interchange([S.group([S.st_set(body=body)])]).encode(),
                      ReadOptions(validator=S.CountingValidator, max_segment_length=1000))
    assert S.summary(report) == S.accepted()


# --- c. character sets ----------------------------------------------------------------------------


def _pid(description: str, charset: str) -> list[tuple]:
    body = ("BEG*00*SA*PO-1**20240101", "PO1*1*10*EA*9.95**UP*012345678905", f"PID*F****{description}", "CTT*1")
    report = _same_verdict(S.interchange([S.group([S.st_set(body=body)])]).encode(), charset)
    return [(e.level, e.code, e.segment_id, e.segment_position, e.element_position, e.element_ref)
            for t in report.interchanges[0].groups[0].transactions for e in t.errors]


CHAR_ERROR = [("set", "5", None, None, None, None), ("segment", "8", "PID", 4, None, None),
              ("element", "6", "PID", 4, 5, "352")]


@pytest.mark.parametrize(("description", "charset", "expected"), [
    ("WIDGET (LARGE) 12.5", "basic", []),
    ("Widget large", "basic", CHAR_ERROR),
    ("WIDGET #5 @ 50%", "basic", CHAR_ERROR),
    ("Widget #5 @ 50% {x} [y] a_b c|d <e $g\\h", "extended", []),  # not ">": the component separator
    ("WIDGET ^5", "extended", CHAR_ERROR),
    ("WIDGET `5", "extended", CHAR_ERROR),
    ("WIDGET SÜSSE", "extended", CHAR_ERROR),
    ("WIDGET SÜßE €", "utf8", []),
    ("WIDGET\x07BELL", "utf8", CHAR_ERROR),
])
def test_characters_outside_the_agreed_set_are_element_code_6(description: str, charset: str, expected) -> None:
    assert _pid(description, charset) == expected


def test_character_error_names_the_character_and_its_place() -> None:
    body = ("BEG*00*SA*PO-1**20240101", "PID*F****WIDGET é", "CTT*1")
    report = validate(S.interchange([S.group([S.st_set(body=body)])]).encode(), ReadOptions(charset="basic"))
    (error,) = [e for t in report.interchanges[0].groups[0].transactions for e in t.errors if e.level == "element"]
    assert error.message == "element 352 has a character outside the basic character set (U+00E9 at character 8)"


def test_separators_are_not_data_for_the_character_set() -> None:
    # '>' (component) and '~' (terminator) are outside "basic" but separate, they are not data
    data = S.interchange([S.group([S.st_set(body=("BEG*00*SA*PO-1**20240101", "PO1*1*2*EA*1", "CTT*1"))])],
                         component=">").encode()
    assert S.summary(validate(data, ReadOptions(charset="basic"))) == S.accepted()


def test_unknown_charset_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationInvalid):
        ReadOptions(charset="latin1")  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "charset", "expected"), [
    ("BEG*00*SA~\nPO1*1~\n", "basic", True),
    ("BEG*00*sa~\n", "basic", False),
    ("BEG*00*sa~\n", "extended", True),
    ("BEG*00*S^A~\n", "extended", False),
    ("BEG*00*SÄ~\n", "extended", False),
    ("BEG*00*SÄ~\n", "utf8", True),
    ("BEG*00\t*SA~\n", "utf8", False),
    ("BEG\x1d00\x1dSA\x1e", "basic", True),
])
def test_whole_window_character_test(text: str, charset: str, expected: bool) -> None:
    assert text_in_charset(text, charset, "~*:\x1d\x1e") is expected  # type: ignore[arg-type]


# --- b. AK9 code 19 by version --------------------------------------------------------------------


@pytest.mark.parametrize(("version", "defined"), [
    ("003040", False), ("004010", False), ("004010VICS", False), ("004040", False),
    ("004050", True), ("005010", True), ("005010X222A1", True), ("", True)])
def test_ak9_19_exists_from_004050(version: str, defined: bool) -> None:
    assert ak9_code_defined("19", version) is defined
    assert ak9_code_defined("5", version)


@pytest.mark.parametrize(("version", "ak9"), [
    ("004010", "AK9*R*1*1*0"), ("004050", "AK9*R*1*1*0*19"), ("005010", "AK9*R*1*1*0*19")])
def test_997_reports_a_duplicate_gs06_in_the_groups_own_code_list(version: str, ak9: str) -> None:
    isa12 = "00501" if version >= "005" else "00401"
    groups = [S.group([S.st_set()], number="7", version=version),
              S.group([S.st_set()], number="7", version=version)]
    extra = {"isa11": "^"} if isa12 == "00501" else {}
    report = validate(S.interchange(groups, isa12=isa12, **extra).encode(), S.OPTIONS).interchanges[0]
    assert [g.ak9_codes for g in report.groups] == [(), ("19",)]
    (reply,) = build_acks(report, allocator=CountingAllocator(), clock=lambda: datetime(2024, 6, 1), ack_type="997")
    assert serialize(reply).decode().split("~")[-5] == ak9


# --- d. HL hierarchy after a bad HL02 -------------------------------------------------------------

ASN = ["BSN*00*ASN-1*20240120*1400", "HL*1**S", "TD1*CTN25*2", "TD5**2*UPSN", "HL*2*1*O", "PRF*PO-1",
       "HL*3*2*P", "HL*4*9*I", "LIN**UP*012345678905", "SN1**24*EA", "HL*5*2*P", "HL*6*5*I",
       "LIN**UP*012345678912", "SN1**6*EA", "HL*7*5*I", "LIN**UP*012345678929", "SN1**1*EA", "CTT*7"]


def test_only_the_hl_with_an_unknown_parent_is_flagged() -> None:
    data = S.interchange([S.group([S.st_set(body=tuple(ASN), set_id="856")], functional_id="SH")]).encode()
    report = _same_verdict(data)
    (asn,) = report.interchanges[0].groups[0].transactions
    assert [(e.segment_position, e.element_position, e.bad_value) for e in asn.errors if e.level == "element"] == [
        (9, 2, "9")]  # HL 5 (parent 2), HL 6 and HL 7 (parent 5) are judged against the right ancestors


def test_a_run_of_unplaceable_hls_stays_bounded() -> None:
    body = ["BSN*00*ASN-1*20240120*1400", "HL*1**S"] + [f"HL*{n}*X{n}*I" for n in range(2, 400)] + [
        "HL*400*1*O", "CTT*1"]  # 398 unplaceable HLs (more than HL_MAX_DEPTH), then a good one
    data = S.interchange([S.group([S.st_set(body=tuple(body), set_id="856")], functional_id="SH")]).encode()
    (asn,) = validate(data).interchanges[0].groups[0].transactions
    flagged = [e.segment_position for e in asn.errors if e.level == "element" and e.element_position == 2]
    assert flagged == list(range(4, 402))


# --- f. the CLI's file-level error ------------------------------------------------------------------


def test_file_error_json_is_code_and_message_only() -> None:
    report = validate(b"hello, not X12", path="junk.x12")
    assert report.error is not None and report.error["reason"] == "NO_ISA"
    assert report.as_json() == {"path": "junk.x12", "error": {"code": "ENVELOPE_INVALID",
                                                             "message": report.error["message"]}}


# --- g. compact verdicts for accepted sets ----------------------------------------------------------


def test_accepted_sets_share_their_strings_and_hold_no_errors() -> None:
    sets = [S.st_set(f"{n:04d}") for n in range(1, 6)]
    report = validate(S.interchange([S.group(sets)]).encode())
    verdicts = report.interchanges[0].groups[0].transactions
    assert [v.status for v in verdicts] == ["A"] * 5
    assert all(v.errors == () and v.implementation_ref is None for v in verdicts)
    assert len({id(v.set_id) for v in verdicts}) == 1
    assert len({id(v.definition) for v in verdicts}) == 1
    assert json.dumps(report.as_json())


# --- e. data element reference numbers ----------------------------------------------------------


@pytest.mark.parametrize(("segment_id", "version", "refs"), [
    ("BCH", "004010", ["353", "92", "324", "328", "327", "373", "326", "367", "127", "373", "373",
                       "1166", "786", "587", "640", "1232"]),
    ("PAL", "005010", ["883", "884", "885", "356", "395", "355", "82", "189", "65", "355", "384", "355",
                       "385", "355", "399", "810", "1699"]),
    ("LH2", "004010", ["215", "983", "218", "222", "759", "355", "408", "355", "408", "355", "408"]),
    ("YNQ", "005010", ["1321", "1073", "1250", "1251", "933", "933", "933", "1270", "1271", "933"]),
])
def test_element_reference_numbers_are_recorded(segment_id: str, version: str, refs: list[str]) -> None:
    from crossdock.schemas.x12.definitions import segment

    assert [use.element.ref for use in segment(segment_id, version).elements] == refs


def test_ak4_carries_the_reference_number_of_a_filled_element() -> None:
    body = ("BSN*00*ASN-1*20240120*1400", "HL*1**S", "PAL*1*ABC", "CTT*1")
    data = S.interchange([S.group([S.st_set(body=body, set_id="856")], functional_id="SH")]).encode()
    (asn,) = validate(data).interchanges[0].groups[0].transactions
    assert [(e.segment_id, e.element_position, e.element_ref, e.code) for e in asn.errors if e.level == "element"] == [
        ("PAL", 2, "884", "6")]


# --- h. per-count raw checks, window scans, first elements (throughput work) ----------------------

# segments with every kind of syntax note (P, R, E, C, L), composites, dates, times and decimals
RAW_SEGMENT_IDS = ["BEG", "PO1", "PID", "N1", "N4", "REF", "DTM", "PER", "CUR", "SAC", "MEA", "QTY", "SN1", "HL",
                   "CTT", "TD5", "LIN", "BSN"]
JUNK_VALUES = ["12", "EA", "-5", "1.5", ".5", "1.", "-", "\u00b2", "20240230", "2561", "X" * 31, "9" * 16, "a b",
               "x\u00e9"]


@functools.lru_cache(maxsize=None)
def _raw_checker(seg_id: str, version: str, charset: str):
    from crossdock.adapters.x12.validator_elements import compile_segment
    from crossdock.schemas.x12.definitions import segment

    definition = segment(seg_id, version)
    return definition, compile_segment(definition, "*", ":", charset)  # type: ignore[arg-type]


def _valid_value(use) -> str:
    """A value the element accepts (component 1's, at a composite position)."""
    element = use.composite.components[0].element if hasattr(use, "composite") else use.element
    if element.codes_closed and element.codes:
        return min(element.codes)
    width = max(element.min_length, 1)
    if element.data_type == "DT":
        return "20240115" if element.max_length >= 8 else "240115"
    if element.data_type == "TM":
        return "1200" if element.min_length <= 4 else "120000"
    if element.data_type == "R" or element.implied_decimals is not None:
        return "1" * width
    return "A" * width


@pytest.mark.parametrize("seg_id", RAW_SEGMENT_IDS)
@settings(max_examples=25, deadline=None)
@given(version=st.sampled_from(["004010", "005010"]), charset=st.sampled_from(["basic", "extended", "utf8"]),
       data=st.data())
def test_count_checks_agree_with_the_slow_path(seg_id: str, version: str, charset: str, data) -> None:
    """The reader's raw check (one generated function per element count, trailing empty elements
    kept) clears a segment only when the slow path finds nothing, and fails one only when the
    slow path finds something or the segment has more (empty) elements than defined. Values are
    mostly empty or valid, so that the syntax notes decide."""
    from crossdock.adapters.x12.validator_elements import segment_problems

    definition, checker = _raw_checker(seg_id, version, charset)
    uses = definition.elements
    count = data.draw(st.integers(0, len(uses) + 2))
    values = []
    for i in range(count):
        if i >= len(uses):
            values.append(data.draw(st.sampled_from(["", "", "1"])))
        elif data.draw(st.integers(0, 7)):
            values.append(data.draw(st.sampled_from(["", _valid_value(uses[i])])))
        else:
            values.append(data.draw(st.sampled_from(JUNK_VALUES)))
    raw = "*".join([seg_id, *values])
    parts = raw.split("*")
    elements = list(values)
    while elements and elements[-1] == "":
        elements.pop()
    slow_clean = segment_problems(definition, tuple(elements), charset) == []  # type: ignore[arg-type]
    fast = bool(checker.text_ok(raw)) and len(parts) < len(checker.by_count) and bool(checker.by_count[len(parts)](parts))
    if fast:
        assert slow_clean, raw
    elif len(parts) < len(checker.by_count) and raw.isprintable():
        assert not slow_clean, raw


@pytest.mark.parametrize(("charset", "quantity", "clean"), [
    ("utf8", "12", True), ("utf8", "\u00b2", False), ("utf8", "1\u0662", False), ("extended", "\u00b2", False)])
def test_count_checks_take_only_ascii_digits_as_numbers(charset: str, quantity: str, clean: bool) -> None:
    """Under ``basic``/``extended`` the text test already refused non-ASCII text, so the generated
    numeric checks skip ``isascii``; under ``utf8`` they keep it."""
    _, checker = _raw_checker("PO1", "004010", charset)
    raw = f"PO1*1*{quantity}*EA"
    parts = raw.split("*")
    assert (bool(checker.text_ok(raw)) and bool(checker.by_count[len(parts)](parts))) is clean


_FIRST_USE = """
from crossdock.adapters.x12.validator_elements import compile_segment
from crossdock.schemas.x12.definitions import segment
checker = compile_segment(segment("PO1", "004010"), "*", ":", "extended")
before = list(checker.by_count)
clean = checker.by_count[10](["PO1", "1", "2", "EA", "9.5", "", "UP", "0123", "VN", "SKU-1"])
print(bool(clean), [n for n in range(len(before)) if checker.by_count[n] is not before[n]],
      sorted({f.__name__ for f in before}))
"""


def test_count_checks_are_compiled_on_first_use_only() -> None:
    # In a fresh interpreter: in this one, after the file's other tests, the snapshot of the
    # table now and then already held compiled checks (not understood yet; the property holds
    # in a fresh process every time).
    out = subprocess.run([sys.executable, "-c", _FIRST_USE], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "[10]", "['_never',", "'first']"]  # only entry 10 was compiled, by its use


@pytest.mark.parametrize("suffix", ["", "\n", "\r\n"])
@pytest.mark.parametrize("layout", ["regular", "blank lines", "indented", "wrapped"])
@pytest.mark.parametrize("charset", ["basic", "extended", "utf8"])
def test_window_scan_agrees_with_the_tree_path(suffix: str, layout: str, charset: str) -> None:
    """One translate pass per window proves regular layout and allowed characters; every other
    window falls back to the separate tests. Both give the tree path's verdict."""
    body = ["BEG*00*SA*PO-1**20240101", "PO1*1*10*EA*9.95**UP*012345678905", "PID*F****Widget large", "CTT*1"]
    text = S.interchange([S.group([S.st_set(body=tuple(body)), S.st_set("0002", body=tuple(body))])], suffix=suffix)
    if layout == "blank lines":
        text = text.replace("~", "~\n\n")
    elif layout == "indented":
        text = text.replace("~" + suffix + "PO1", "~" + suffix + "  \tPO1")
    elif layout == "wrapped":
        text = text.replace("ITEM", "IT\nEM").replace("Widget", "Wid\r\nget")
    report = _same_verdict(text.encode(), charset)
    verdicts = [t.status for t in report.interchanges[0].groups[0].transactions]
    assert verdicts == (["R", "R"] if charset == "basic" else ["A", "A"])  # lower case is not basic


def test_trailing_empty_elements_beyond_the_definition_are_not_errors() -> None:
    body = ("BEG*00*SA*PO-1**20240101" + "*" * 20, "PO1*1*10*EA*9.95**UP*012345678905", "CTT*1*******")
    report = _same_verdict(S.interchange([S.group([S.st_set(body=body)])]).encode())
    assert S.summary(report) == S.accepted()


def test_a_non_ascii_digit_in_se01_is_a_count_error_not_a_crash() -> None:
    data = S.interchange([S.group([S.st_set(count=None)[:-1] + ["SE*\u00b2*0001"]])]).encode()
    report = _same_verdict(data)
    assert S.summary(report)[0]["groups"][0]["sets"] == [("0001", "R", ["4"])]


def test_a_non_ascii_digit_in_gs08_is_not_a_crash() -> None:
    data = S.interchange([S.group([S.st_set()], version="\u00b204010")]).encode()
    report = _same_verdict(data)
    assert report.interchanges[0].groups[0].ak9_codes  # GS08 is not a version: the group is rejected


@pytest.mark.parametrize(("segment", "expected"), [
    (Segment("ST", ("850", "0001")), ("850", "0001", "")),
    (Segment("ST", ("850", "0001", "005010X220")), ("850", "0001", "005010X220")),
    (Segment("SE", ("5",)), ("5", "", "")),
    (Segment("ST", ()), ("", "", "")),
])
def test_first_three_reads_like_get(segment: Segment, expected: tuple[str, str, str]) -> None:
    from crossdock.adapters.x12._tokens import first_three
    from crossdock.schemas.x12.tree import Composite

    assert first_three(segment) == expected == (segment.get(1), segment.get(2), segment.get(3))
    composite = Segment("ST", (Composite(("850", "X")), "0001"))
    assert first_three(composite) == (composite.get(1), composite.get(2), composite.get(3)) == ("850", "0001", "")


def test_set_validators_from_the_factory_match_new_set_validator() -> None:
    from crossdock.adapters.x12.validator import set_validator_factory
    from crossdock.schemas.x12.tree import Delimiters

    st_segment, se = Segment("ST", ("850", "0001")), Segment("SE", ("3", "0001"))
    for charset in ("basic", "utf8"):
        reports = []
        for validator in (set_validator_factory(charset)(st_segment, "PO", "004010", Delimiters()),  # type: ignore[arg-type]
                          new_set_validator(st_segment, "PO", "004010", Delimiters(), charset=charset)):  # type: ignore[arg-type]
            validator.feed(Segment("BEG", ("00", "SA", "po-1", "", "20240101")))
            reports.append(validator.finish(se))
        assert reports[0] == reports[1]
        lower_case_refused = any(e.level == "element" and e.code == "6" for e in reports[0].errors)
        assert lower_case_refused is (charset == "basic")


@pytest.mark.parametrize(("extra", "expected"), [
    (["SAC*A*B840"] * 25, []),
    (["SAC*A*B840"] * 26, [("4", "SAC", 28)]),  # loop SAC repeats at most 25 times: the 26th restarts it
    (["PER*IC*JOHN"] * 4, [("5", "PER", 6)]),  # PER may be used 3 times
    (["DTM*002*20240101", "CUR*BY*USD"], [("7", "CUR", 4)]),  # back to a header position already passed
])
def test_loop_repeats_and_max_uses_through_the_fast_moves(extra: list[str], expected: list[tuple]) -> None:
    body = ("BEG*00*SA*PO-1**20240101", *extra, "PO1*1*10*EA*9.95**UP*012345678905", "CTT*1")
    report = _same_verdict(S.interchange([S.group([S.st_set(body=body)])]).encode())
    (verdict,) = report.interchanges[0].groups[0].transactions
    assert [(e.code, e.segment_id, e.segment_position) for e in verdict.errors if e.level == "segment"] == expected
