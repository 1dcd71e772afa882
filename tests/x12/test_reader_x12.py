"""The X12 reader: delimiters, layout, encodings, streaming API and trees.

Envelope codes are in ``test_envelope_x12.py``; robustness in ``test_mutation_x12.py``.
"""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import pytest

from crossdock.adapters.x12 import (
    ReadOptions,
    SetUnit,
    iter_interchanges,
    iter_sets,
    parse,
    read,
    validate,
)
from crossdock.schemas.errors import EncodingUnsupported, EnvelopeInvalid
from crossdock.schemas.x12.report import InterchangeReport
from crossdock.schemas.x12.tree import Composite, Delimiters, Repeats, Segment


def _load_support():
    """``test_reader_support.py``, loaded by path (works with or without ``__init__.py``)."""
    name = "crossdock_reader_test_support"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("test_reader_support.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


S = _load_support()
OPTIONS = S.OPTIONS


def _body(trees) -> list[Segment]:
    return [seg for ic in trees for g in ic.groups for t in g.transactions for seg in t.segments]


def _read(text: str | bytes, options: ReadOptions = OPTIONS):
    data = text.encode() if isinstance(text, str) else text
    return parse(data, options)


# --- delimiters and layout --------------------------------------------------------------------

REFERENCE_TREES, REFERENCE_REPORT = _read(S.interchange())

LAYOUTS = [
    # (id, element, component, terminator, suffix)
    ("tilde", "*", ">", "~", ""),
    ("tilde-lf", "*", ">", "~", "\n"),
    ("tilde-crlf", "*", ">", "~", "\r\n"),
    ("newline-terminator", "*", ">", "\n", ""),
    ("cr-terminator", "*", ">", "\r", ""),
    ("cr-terminator-crlf", "*", ">", "\r", "\n"),
    ("pipe-element", "|", "^", "~", "\n"),
    ("del-element-nak-terminator", "\x7f", ">", "\x15", "\r\n"),
    ("tilde-element-pipe-component", "~", "|", "\n", ""),
    ("quote-terminator", "+", ":", "'", ""),
    ("gs-rs-controls", "\x1d", "\x1f", "\x1e", ""),
]


@pytest.mark.parametrize(("element", "component", "terminator", "suffix"),
                         [case[1:] for case in LAYOUTS], ids=[case[0] for case in LAYOUTS])
def test_delimiters_are_detected_and_trees_do_not_depend_on_them(element, component, terminator,
                                                                 suffix):
    text = S.interchange(element=element, component=component, terminator=terminator,
                         suffix=suffix)
    trees, report = _read(text)
    assert S.summary(report) == S.accepted()
    assert report.interchanges[0].delimiters == Delimiters(
        element=element, segment=terminator, component=component, repetition=None,
        suffix=suffix)
    assert _body(trees) == _body(REFERENCE_TREES)
    assert trees[0].groups[0].header == REFERENCE_TREES[0].groups[0].header


@pytest.mark.parametrize("prefix", [b"\xef\xbb\xbf", b"   ", b"\n\n", b"\r\n \t\r\n",
                                    b"\xef\xbb\xbf\r\n"],
                         ids=["bom", "spaces", "blank-lines", "mixed-blank", "bom-newline"])
def test_leading_bom_and_whitespace_are_skipped(prefix):
    trees, report = _read(prefix + S.interchange(suffix="\n").encode())
    assert S.summary(report) == S.accepted()
    assert report.interchanges[0].offset == len(prefix)
    assert _body(trees) == _body(REFERENCE_TREES)


def test_line_breaks_inside_segments_and_indentation_are_layout():
    lines = S.interchange(suffix="\r\n").split("\r\n")
    indented = "\r\n".join("    " + line if line.startswith(("ST", "BEG", "PO1", "CTT", "SE"))
                           else line for line in lines)
    wrapped = indented.replace("PO1*1*10", "PO1*1\r\n*10")
    trees, report = _read(wrapped)
    assert S.summary(report) == S.accepted()
    assert _body(trees) == _body(REFERENCE_TREES)


def test_several_interchanges_keep_their_own_delimiters_and_parties():
    first = S.interchange(suffix="\n")
    second = S.interchange(element="|", terminator="\n", component=":", isa06="OTHERSENDER    ",
                           isa13="000000002")
    third = S.interchange(element="*", terminator="'", isa08="THIRDPARTY     ",
                          isa13="000000003", suffix="\r\n")
    trees, report = _read(first + "\n\n" + second + third)
    assert [ic.sender for ic in report.interchanges] == [
        ("ZZ", "SENDERID"), ("ZZ", "OTHERSENDER"), ("ZZ", "SENDERID")]
    assert [ic.receiver[1] for ic in report.interchanges] == [
        "RECEIVERID", "RECEIVERID", "THIRDPARTY"]
    assert [ic.delimiters.segment for ic in report.interchanges] == ["~", "\n", "'"]
    assert S.summary(report) == S.accepted() * 3
    assert [t.control_number for t in trees] == ["000000001", "000000002", "000000003"]
    assert all(_body([t]) == _body(REFERENCE_TREES) for t in trees)


def test_several_groups_and_sets():
    groups = [S.group([S.st_set("0001"), S.st_set("0002"), S.st_set("0003")], number="1"),
              S.group([S.st_set("0001")], number="2", functional_id="IN",
                      version="005010")]
    trees, report = _read(S.interchange(groups, suffix="\n"))
    assert S.summary(report) == S.accepted(groups=2, sets=(3, 1))
    assert [len(g.transactions) for g in trees[0].groups] == [3, 1]
    assert [g.functional_id for g in trees[0].groups] == ["PO", "IN"]


@pytest.mark.parametrize("version", ["00200", "00300", "00304", "00401", "00402", "00403",
                                     "00501", "00601", "00704", "00801"])
def test_isa_versions_and_repetition_separator(version):
    repeats_from_version = version >= "00402"
    body = ("BEG*00*SA*PO-1**20240101", "REF*ZZ*A^B", "CTT*1")
    text = S.interchange([S.group([S.st_set(body=body)])], isa11="^" if repeats_from_version
                         else "U", isa12=version)
    trees, report = _read(text)
    assert S.summary(report) == S.accepted()
    ref = trees[0].groups[0].transactions[0].segments[2]
    if repeats_from_version:
        assert report.interchanges[0].delimiters.repetition == "^"
        assert ref == Segment("REF", ("ZZ", Repeats(("A", "B"))))
    else:
        assert report.interchanges[0].delimiters.repetition is None
        assert ref == Segment("REF", ("ZZ", "A^B"))


def test_values_composites_repeats_and_trailing_empties():
    body = ("BEG*00*SA*PO-1**20240101**", "PO1*1*10*EA*9.95**UP*1>2>3*VN*A>B^C>D^E",
            "N1*ST*ISA CORP**", "REF*ISA*X", "CTT*1")
    trees, report = _read(S.interchange([S.group([S.st_set(body=body)])], isa11="^",
                                        isa12="00501"))
    assert S.summary(report) == S.accepted()
    segments = trees[0].groups[0].transactions[0].segments
    assert segments[1] == Segment("BEG", ("00", "SA", "PO-1", "", "20240101"))
    assert segments[2] == Segment("PO1", (
        "1", "10", "EA", "9.95", "", "UP", Composite(("1", "2", "3")), "VN",
        Repeats((Composite(("A", "B")), Composite(("C", "D")), "E"))))
    assert segments[3] == Segment("N1", ("ST", "ISA CORP"))
    assert segments[4] == Segment("REF", ("ISA", "X"))
    header = trees[0].header
    assert header.elements[1] == "          " and header.elements[15] == ">"
    assert trees[0].trailer == Segment("IEA", ("1", "000000001"))


def test_isa_text_at_a_segment_start_inside_data_is_data():
    """'ISA' as an element value or inside a word never opens an interchange."""
    body = ("BEG*00*SA*ISA**20240101", "ISABEL*1", "CTT*1")
    trees, report = _read(S.interchange([S.group([S.st_set(body=body)])]))
    assert S.summary(report) == S.accepted()
    assert trees[0].groups[0].transactions[0].segments[2] == Segment("ISABEL", ("1",))


def test_short_isa_is_022_unless_lenient():
    text = ("ISA*00*NA *00*NA *ZZ*NA *ZZ*ABC *150415*1332*^*00701*000000001*0*T*:~"
            "GS*PO*A*B*20150415*1332*1*X*004010~ST*850*0001~BEG*00*SA*1**20150415~SE*3*0001~"
            "GE*1*1~IEA*1*000000001~")
    strict_trees, strict = _read(text)
    assert S.summary(strict) == [{"status": "rejected", "ta1": "022",
                                  "errors": [("022", "ISA", None, "error")],
                                  "groups": [{"status": "A", "ak9": [],
                                              "sets": [("0001", "A", [])]}]}]
    lenient_trees, lenient = _read(text, S.LENIENT)
    assert S.summary(lenient)[0]["status"] == "accepted"
    assert lenient.interchanges[0].delimiters == Delimiters("*", "~", ":", "^", "")
    assert lenient_trees == strict_trees


def test_lenient_isa_drops_line_breaks_inside_the_header():
    text = S.interchange().replace("*1200*", "*12\n00*", 1)
    _, report = _read(text, S.LENIENT)
    assert S.summary(report) == S.accepted()
    assert report.interchanges[0].header.get(10) == "1200"


def test_isa_elements_and_control_segments_are_kept():
    text = S.interchange().replace("~GS*", "~TA1*000000007*240101*1200*A*000~GS*", 1)
    trees, report = _read(text)
    assert S.summary(report) == S.accepted()
    control = (Segment("TA1", ("000000007", "240101", "1200", "A", "000")),)
    assert report.interchanges[0].control_segments == control
    assert trees[0].control_segments == control


# --- encodings ------------------------------------------------------------------------------


def test_latin1_fallback_is_a_warning_and_keeps_every_byte():
    body = ("BEG*00*SA*PO-1**20240101", "N1*ST*CAF\xc9", "CTT*1")
    data = S.interchange([S.group([S.st_set(body=body)])]).encode("latin-1")
    trees, report = _read(data)
    ic = report.interchanges[0]
    assert ic.status == "accepted"
    assert [(e.code, e.severity) for e in ic.errors] == [("LATIN1_FALLBACK", "warning")]
    assert trees[0].groups[0].transactions[0].segments[2] == Segment("N1", ("ST", "CAF\xc9"))


def test_invalid_utf8_without_fallback_is_a_file_error():
    data = S.interchange().encode().replace(b"PO-1", b"PO-\xff")
    report = validate(data, ReadOptions(validator=S.CountingValidator, latin1_fallback=False))
    assert report.error is not None
    assert (report.error["code"], report.error["reason"]) == ("ENCODING_UNSUPPORTED",
                                                              "INVALID_UTF8")


def test_utf8_multibyte_characters_survive_any_chunk_boundary():
    body = ("BEG*00*SA*PO-1**20240101", "N1*ST*Ünïcødé 北京", "CTT*1")
    data = ("\n" + S.interchange([S.group([S.st_set(body=body)])]) * 2).encode()
    reference = _read(data)
    for size in (1, 2, 3, 5, 64):
        assert _read(data, ReadOptions(validator=S.CountingValidator, chunk_size=size)) == \
            reference
    assert reference[1].interchanges[0].errors == ()
    second = reference[1].interchanges[1]
    assert second.offset == data.index(b"ISA", 10)


@pytest.mark.parametrize(("data", "reason"), [
    ("\ufeff" + "ISA*00*".ljust(120), "UTF-16LE"),
    ("ISA*00*".ljust(120), "UTF-16LE"),
])
def test_utf16_is_rejected_with_its_name(data, reason):
    for encoded, name in ((data.encode("utf-16-le"), reason),
                          (data.encode("utf-16-be"), reason.replace("LE", "BE"))):
        report = validate(encoded)
        assert report.error == {
            "code": "ENCODING_UNSUPPORTED", "reason": name,
            "message": f"the file is encoded in {name}; only ASCII/UTF-8 X12 is read"}


def test_ebcdic_is_rejected():
    report = validate(S.interchange().encode("cp037"))
    assert (report.error["code"], report.error["reason"]) == ("ENCODING_UNSUPPORTED", "EBCDIC")
    assert "EBCDIC" in report.error["message"]


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "EMPTY"),
    (b" \r\n\t\n", "EMPTY"),
    (b"\xef\xbb\xbf", "EMPTY"),
    (b"bad_file\n", "NO_ISA"),
    (b"GS*PO*A*B~", "NO_ISA"),
    (b"IS", "NO_ISA"),
])
def test_no_readable_isa_is_a_file_error(data, reason):
    report = validate(data, OPTIONS, path="in.x12")
    assert report.interchanges == ()
    assert (report.path, report.error["code"], report.error["reason"]) == (
        "in.x12", "ENVELOPE_INVALID", reason)
    assert not report.accepted
    with pytest.raises(EnvelopeInvalid):
        list(read(data, OPTIONS))


def test_streaming_apis_raise_our_error_types():
    with pytest.raises(EncodingUnsupported):
        list(iter_interchanges(S.interchange().encode("utf-16"), OPTIONS))
    with pytest.raises(EnvelopeInvalid):
        list(iter_sets(b"junk", OPTIONS))


# --- streaming API ---------------------------------------------------------------------------


def test_read_yields_each_interchanges_sets_then_its_report(tmp_path):
    first = S.interchange([S.group([S.st_set("0001"), S.st_set("0002")]),
                           S.group([S.st_set("0001")], number="2")])
    second = S.interchange(isa13="000000002")
    path = tmp_path / "two.x12"
    path.write_bytes((first + "\n" + second).encode())
    events = list(read(str(path), OPTIONS))
    kinds = [(type(e).__name__, getattr(e, "interchange_index", None),
              getattr(e, "group_index", None)) for e in events]
    assert kinds == [("SetUnit", 0, 0), ("SetUnit", 0, 0), ("SetUnit", 0, 1),
                     ("InterchangeReport", None, None), ("SetUnit", 1, 0),
                     ("InterchangeReport", None, None)]
    unit = events[0]
    assert isinstance(unit, SetUnit)
    assert unit.interchange_header.get(13) == "000000001"
    assert unit.group_header.get(6) == "1"
    assert unit.delimiters.segment == "~"
    assert unit.transaction.set_id == "850" and unit.transaction.control_number == "0001"
    assert unit.transaction.segments[-1] == Segment("SE", ("5", "0001"))
    assert unit.report.status == "A"
    assert [u.transaction for u in iter_sets(path, OPTIONS)] == [
        e.transaction for e in events if isinstance(e, SetUnit)]
    reports = list(iter_interchanges(path, OPTIONS))
    assert reports == [e for e in events if isinstance(e, InterchangeReport)]
    assert validate(path, OPTIONS).interchanges == tuple(reports)
    assert validate(path, OPTIONS).path == str(path)


def test_sources_bytes_stream_and_path_agree(tmp_path):
    data = S.interchange().encode()
    path = tmp_path / "one.x12"
    path.write_bytes(data)
    by_bytes = validate(data, OPTIONS, path="x")
    assert validate(io.BytesIO(data), OPTIONS, path="x") == by_bytes
    assert validate(bytearray(data), OPTIONS, path="x") == by_bytes
    assert validate(path, OPTIONS, path="x") == by_bytes


def test_chunk_size_does_not_change_the_result():
    text = (S.interchange(suffix="\r\n") + "\n" + S.interchange(
        element="|", terminator="\n", isa13="000000002")
        + S.interchange(isa13="000000003", suffix="\n"))
    data = text.encode()
    reference = _read(data)
    for size in (1, 7, 100, 107, 4096):
        assert _read(data, ReadOptions(validator=S.CountingValidator, chunk_size=size)) == \
            reference


def test_many_small_interchanges_with_alternating_delimiters():
    parts = [S.interchange(element="*|"[n % 2], terminator="~\n"[n % 2],
                           isa13=f"{n + 1:09d}") for n in range(300)]
    report = validate("".join(parts).encode(), OPTIONS)
    assert len(report.interchanges) == 300
    assert report.accepted
    assert [ic.control_number for ic in report.interchanges] == [
        f"{n + 1:09d}" for n in range(300)]


def test_set_with_missing_se_is_still_yielded_with_its_segments():
    groups = [S.group([S.st_set("0001")[:-1], S.st_set("0002")])]
    units = list(iter_sets(S.interchange(groups).encode(), OPTIONS))
    assert [(u.transaction.control_number, len(u.transaction.segments), u.report.status)
            for u in units] == [("0001", 4, "R"), ("0002", 5, "A")]


def test_last_segment_without_terminator_is_read_with_a_warning():
    text = S.interchange().rstrip("~")
    trees, report = _read(text)
    ic = report.interchanges[0]
    assert ic.status == "accepted"
    assert [(e.code, e.segment_id, e.severity) for e in ic.errors] == [
        ("023", None, "warning")]
    assert trees[0].trailer == Segment("IEA", ("1", "000000001"))


def test_giant_segment_is_skipped_not_buffered():
    body = ("BEG*00*SA*PO-1**20240101", "MSG*" + "X" * 5000, "CTT*1")
    options = ReadOptions(validator=S.CountingValidator, max_segment_length=1000,
                          chunk_size=256)
    trees, report = _read(S.interchange([S.group([S.st_set(body=body)])]), options)
    assert S.summary(report) == [{
        "status": "rejected", "ta1": "022", "errors": [("022", None, None, "error")],
        "groups": [{"status": "R", "ak9": [], "sets": [("0001", "R", ["4"])]}]}]
    assert [s.id for s in _body(trees)] == ["ST", "BEG", "CTT", "SE"]


def test_options_are_checked():
    from crossdock.schemas.errors import ConfigurationInvalid

    with pytest.raises(ConfigurationInvalid):
        ReadOptions(chunk_size=0)


def test_corpus_files_are_read_without_exceptions(corpus_dir: Path):
    """Every public sample gets a verdict (strict and lenient ISA) and nothing raises."""
    files = sorted(p for p in (corpus_dir / "x12").rglob("*") if p.is_file())
    assert files
    lines = []
    for path in files:
        for options in (OPTIONS, S.LENIENT):
            report = validate(path, options)
            trees, parsed = parse(path.read_bytes(), options)
            assert parsed.interchanges == report.interchanges
            assert len(trees) == len(report.interchanges)
        verdict = report.error["reason"] if report.error else ",".join(
            f"{ic.status[:3]}:{ic.ta1_code or '-'}" for ic in report.interchanges)
        lines.append(f"{path.relative_to(corpus_dir)}  {verdict}")
    print("\n".join(lines))


def test_real_set_validator_is_the_default():
    """With the definitions-based validator (B's), a clean 850 passes the whole reader."""
    pytest.importorskip("crossdock.adapters.x12.validator")
    body = ("BEG*00*SA*PO-1**20240101", "PO1*1*10*EA*9.95**UP*012345678905", "CTT*1")
    report = validate(S.interchange([S.group([S.st_set(body=body)])]).encode())
    ic = report.interchanges[0]
    assert (ic.status, ic.errors, ic.groups[0].ak9_codes) == ("accepted", (), ())
    assert [t.set_id for t in ic.groups[0].transactions] == ["850"]
