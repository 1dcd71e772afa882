"""Envelope validation: every TA1 (I18), AK9 (716) and reader-level AK5 (718) code, with the
whole expected verdict compared (codes, segments, positions), not substrings.

BAD_INPUT.md items are named in the case ids (``bad-7`` is item 7).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from crossdock.adapters.x12 import ReadOptions, envelope_codes, validate
from crossdock.adapters.x12._isa import ISA_LENGTH


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
ISA = S.interchange  # shorthand
GROUP = S.group
SET = S.st_set


def _rejected(*errors, groups=None):
    """Expected summary of one rejected interchange with these interchange errors."""
    failed = [e for e in errors if e[3] == "error"]
    return [{"status": "rejected" if failed else "accepted",
             "ta1": failed[0][0] if failed else None, "errors": list(errors),
             "groups": groups if groups is not None else [
                 {"status": "A", "ak9": [], "sets": [("0001", "A", [])]}]}]


def _group_only(*groups):
    return [{"status": "accepted", "ta1": None, "errors": [], "groups": list(groups)}]


def _check(text: str, expected, options: ReadOptions = S.OPTIONS) -> None:
    assert S.summary(validate(text.encode(), options)) == expected


# --- TA1: the ISA itself --------------------------------------------------------------------

ISA_FIELD_CASES = [
    ("010-auth-qualifier", {"isa01": "99"}, ("010", "ISA", 1, "error")),
    ("012-security-qualifier", {"isa03": "07"}, ("012", "ISA", 3, "error")),
    ("005-sender-qualifier", {"isa05": "z!"}, ("005", "ISA", 5, "error")),
    ("006-sender-id-blank", {"isa06": " " * 15}, ("006", "ISA", 6, "error")),
    ("007-receiver-qualifier", {"isa07": "  "}, ("007", "ISA", 7, "error")),
    ("008-receiver-id-blank", {"isa08": " " * 15}, ("008", "ISA", 8, "error")),
    ("bad-17-014-date", {"isa09": "240231"}, ("014", "ISA", 9, "error")),
    ("bad-17-015-time", {"isa10": "2560"}, ("015", "ISA", 10, "error")),
    ("015-time-non-ascii-digits", {"isa10": "\u00b9200"}, ("015", "ISA", 10, "error")),
    ("016-standards-id", {"isa11": "X"}, ("016", "ISA", 11, "error")),
    ("bad-18-017-version", {"isa12": "00999", "isa11": "^"}, ("017", "ISA", 12, "error")),
    ("017-version-not-numeric", {"isa12": "0040A"}, ("017", "ISA", 12, "error")),
    ("bad-16-018-control-number", {"isa13": "00000000A", "iea_number": "00000000A"},
     ("018", "ISA", 13, "error")),
    ("019-ack-requested", {"isa14": "2"}, ("019", "ISA", 14, "error")),
    ("020-test-indicator", {"isa15": "X"}, ("020", "ISA", 15, "error")),
    ("repetition-alphanumeric-is-tolerated", {"isa11": "U", "isa12": "00501"},
     ("022", "ISA", 11, "warning")),
    ("bad-12-repetition-equals-element", {"isa11": "*", "isa12": "00501"},
     ("022", "ISA", 11, "error")),
    ("bad-12-repetition-equals-component", {"isa11": ">", "isa12": "00501"},
     ("022", "ISA", 11, "error")),
]


@pytest.mark.parametrize(("fields", "error"), [c[1:] for c in ISA_FIELD_CASES],
                         ids=[c[0] for c in ISA_FIELD_CASES])
def test_isa_field_codes(fields, error):
    _check(ISA(**fields), _rejected(error))


def test_several_isa_problems_are_all_reported():
    _check(ISA(isa09="999999", isa10="9999", isa14="X"), _rejected(
        ("014", "ISA", 9, "error"), ("015", "ISA", 10, "error"), ("019", "ISA", 14, "error")))


def test_bad_20_ack_requested_is_accepted_and_flagged():
    report = validate(ISA(isa14="1").encode(), S.OPTIONS)
    assert (report.interchanges[0].status, report.interchanges[0].ta1_requested) == (
        "accepted", True)


def test_bad_8_alphanumeric_element_separator_026_stops_reading():
    text = ISA(element="A")
    report = validate(text.encode(), S.OPTIONS)
    assert S.summary(report) == _rejected(("026", "ISA", None, "error"),
                                          ("022", None, None, "warning"), groups=[])
    assert report.interchanges[0].delimiters is None


def test_bad_9_terminator_equal_to_element_separator_004():
    _check(ISA(terminator="*"), _rejected(("004", "ISA", None, "error"),
                                          ("022", None, None, "warning"), groups=[]))


def test_bad_10_missing_isa16_027_and_004():
    text = ISA()[:ISA_LENGTH - 2] + "\n" + ISA().split("~", 1)[1].replace("~", "\n")
    _check(text, _rejected(("027", "ISA", 16, "error"), ("004", "ISA", None, "error"),
                           ("022", None, None, "warning"), groups=[]))


def test_bad_11_component_equal_to_element_027_keeps_reading():
    _check(ISA(component="*"), _rejected(("027", "ISA", 16, "error")))


def test_bad_7_short_isa_022_and_lenient_profile():
    text = ISA().replace("SENDERID       ", "SENDERID").replace("          ", "NA")
    _check(text, _rejected(("022", "ISA", None, "error")))
    _check(text, S.accepted(), S.LENIENT)


def test_isa_without_16_elements_022():
    _check("ISA*00*00*ZZ*SENDER~" + "GS*PO*A*B~" * 30, _rejected(("022", "ISA", None, "error"),
                                                   ("022", None, None, "warning"), groups=[]))


def test_truncated_isa_023():
    _check(ISA()[:60], _rejected(("023", "ISA", None, "error"), ("022", None, None, "warning"),
                                 groups=[]))


# --- TA1: IEA and structure -----------------------------------------------------------------

STRUCTURE_CASES = [
    ("001-iea02-mismatch", ISA(iea_number="000000002"), ("001", "IEA", 2, "error")),
    ("bad-23-021-iea01-count", ISA(iea_count=2), ("021", "IEA", 1, "error")),
    ("021-iea01-not-numeric", ISA().replace("IEA*1*", "IEA*X*"), ("021", "IEA", 1, "error")),
]


@pytest.mark.parametrize(("text", "error"), [c[1:] for c in STRUCTURE_CASES],
                         ids=[c[0] for c in STRUCTURE_CASES])
def test_trailer_codes(text, error):
    _check(text, _rejected(error))


def test_bad_24_missing_iea_023():
    _check(ISA(iea=False), _rejected(("023", "IEA", None, "error")))


def test_truncated_inside_a_set_closes_every_level():
    text = ISA().split("PO1*")[0]
    _check(text, _rejected(("023", "IEA", None, "error"), groups=[
        {"status": "R", "ak9": ["3"], "sets": [("0001", "R", ["2"])]}]))


def test_bad_35_st_before_gs_024_and_the_set_is_skipped():
    text = ISA().replace("~GS*", "~" + "~".join(SET("0009")) + "~GS*", 1)
    _check(text, _rejected(("024", "ST", None, "error")))


def test_bad_35_data_after_iea_024_once_per_run():
    text = ISA() + "\nBEG*00*SA*X~REF*ZZ*Y~\n\n"
    _check(text, _rejected(("024", None, None, "error")))


def test_isa_broken_by_a_line_break_after_iea_is_data_after_iea():
    text = ISA(suffix="\n") + "IS\nA" + ISA(isa13="000000002", suffix="\n")[3:]
    _check(text, _rejected(("024", None, None, "error")))


def test_blank_lines_after_iea_are_fine():
    _check(ISA() + "\r\n\r\n  \n", S.accepted())


def test_bad_35_gs_inside_st_024_and_missing_trailers():
    open_group = GROUP([SET("0001")[:-1]], number="1")[:-1]
    _check(ISA([open_group, GROUP([SET("0001")], number="2")]), _rejected(
        ("024", "GS", None, "error"),
        groups=[{"status": "R", "ak9": ["3"], "sets": [("0001", "R", ["2"])]},
                {"status": "A", "ak9": [], "sets": [("0001", "A", [])]}]))


def test_segment_between_sets_024():
    groups = [GROUP([SET("0001"), ["REF*ZZ*1"], SET("0002")])]
    text = ISA(groups).replace("GE*3*", "GE*2*")
    _check(text, _rejected(("024", "REF", None, "error"), groups=[
        {"status": "A", "ak9": [], "sets": [("0001", "A", []), ("0002", "A", [])]}]))


def test_stray_trailers_024():
    text = ISA().replace("~GS*", "~SE*2*0001~GE*1*1~GS*", 1)
    _check(text, _rejected(("024", "SE", None, "error"), ("024", "GE", None, "error")))


def test_bad_39_duplicate_isa13_in_file_025():
    text = ISA() + ISA()
    report = validate(text.encode(), S.OPTIONS)
    assert S.summary(report) == S.accepted() + _rejected(("025", "ISA", None, "error"))


def test_new_isa_before_iea_ends_the_open_interchange_023():
    text = ISA(iea=False).rsplit("GE*", 1)[0] + ISA(isa13="000000002", isa06="OTHER          ")
    report = validate(text.encode(), S.OPTIONS)
    assert S.summary(report) == _rejected(("023", "IEA", None, "error"), groups=[
        {"status": "R", "ak9": ["3"], "sets": [("0001", "A", [])]}]) + S.accepted()
    assert [ic.sender[1] for ic in report.interchanges] == ["SENDERID", "OTHER"]


def test_bad_15_interchanges_with_different_parties_are_separate():
    text = ISA() + ISA(isa06="PARTNERB       ", isa08="HUB            ", isa13="000000002")
    report = validate(text.encode(), S.OPTIONS)
    assert [(ic.sender[1], ic.receiver[1], len(ic.groups)) for ic in report.interchanges] == [
        ("SENDERID", "RECEIVERID", 1), ("PARTNERB", "HUB", 1)]


def test_too_many_problems_are_counted_not_listed():
    junk = "~".join(["REF*ZZ*1"] * 30)
    text = ISA().replace("~GS*", "~" + junk + "~GS*", 1)
    report = validate(text.encode(), ReadOptions(validator=S.CountingValidator, max_errors=5))
    errors = report.interchanges[0].errors
    assert [(e.code, e.severity) for e in errors] == [("024", "error")] * 5 + [
        ("024", "warning")]
    assert errors[-1].message == "25 further problems not listed"


# --- AK9: groups ----------------------------------------------------------------------------

GROUP_CASES = [
    ("bad-25-ak9-5-ge01-count", [GROUP([SET()], ge_count=2)], ["5"]),
    ("ak9-5-ge01-not-numeric", [GROUP([SET()], ge_count="X")], ["5"]),  # type: ignore[list-item]
    ("bad-26-ak9-4-ge02", [GROUP([SET()], ge_number="9")], ["4"]),
    ("ak9-6-gs06-syntax", [GROUP([SET()], number="12A")], ["6"]),
    ("ak9-6-gs06-too-long", [GROUP([SET()], number="1234567890")], ["6"]),
    ("ak9-2-gs08-version", [GROUP([SET()], version="X12")], ["2"]),
    ("ak9-1-gs01-blank", [GROUP([SET()], functional_id="")], ["1"]),
    ("ak9-several", [GROUP([SET()], ge_count=3, ge_number="8")], ["5", "4"]),
]


@pytest.mark.parametrize(("groups", "ak9"), [c[1:] for c in GROUP_CASES],
                         ids=[c[0] for c in GROUP_CASES])
def test_group_codes(groups, ak9):
    _check(ISA(groups), _group_only({"status": "R", "ak9": ak9, "sets": [("0001", "A", [])]}))


def test_ge02_compares_control_numbers_as_numbers():
    _check(ISA([GROUP([SET()], number="000005", ge_number="5")]), S.accepted())


def test_ak9_1_functional_id_not_in_the_partner_profile():
    options = ReadOptions(validator=S.CountingValidator, functional_ids=frozenset({"IN"}))
    _check(ISA(), _group_only({"status": "R", "ak9": ["1"], "sets": [("0001", "A", [])]}),
           options)


def test_bad_27_missing_ge_ak9_3():
    groups = [GROUP([SET()])[:-1]]
    _check(ISA(groups), _group_only({"status": "R", "ak9": ["3"], "sets": [("0001", "A", [])]}))


def test_bad_28_duplicate_gs06_ak9_19():
    groups = [GROUP([SET()], number="7"), GROUP([SET()], number="7")]
    _check(ISA(groups), _group_only({"status": "A", "ak9": [], "sets": [("0001", "A", [])]},
                                    {"status": "R", "ak9": ["19"],
                                     "sets": [("0001", "A", [])]}))


def test_missing_ge_before_next_gs_ak9_3():
    groups = [GROUP([SET()], number="1")[:-1], GROUP([SET()], number="2")]
    _check(ISA(groups).replace("IEA*2*", "IEA*2*"), _group_only(
        {"status": "R", "ak9": ["3"], "sets": [("0001", "A", [])]},
        {"status": "A", "ak9": [], "sets": [("0001", "A", [])]}))


def test_missing_ge_before_iea_ak9_3():
    _check(ISA([GROUP([SET()])[:-1]]), _group_only(
        {"status": "R", "ak9": ["3"], "sets": [("0001", "A", [])]}))


# --- AK5 set level, seen from the envelope ----------------------------------------------------


def test_bad_31_missing_se_next_st_code_2_and_valid_sets_still_pass():
    groups = [GROUP([SET("0001")[:-1], SET("0002"), SET("0003")])]
    _check(ISA(groups), _group_only({"status": "P", "ak9": [], "sets": [
        ("0001", "R", ["2"]), ("0002", "A", []), ("0003", "A", [])]}))


def test_missing_se_before_ge_code_2():
    groups = [GROUP([SET("0001"), SET("0002")[:-1]])]
    _check(ISA(groups), _group_only({"status": "P", "ak9": [], "sets": [
        ("0001", "A", []), ("0002", "R", ["2"])]}))


def test_bad_32_duplicate_st02_code_23():
    groups = [GROUP([SET("0001"), SET("0002"), SET("0001")])]
    _check(ISA(groups), _group_only({"status": "P", "ak9": [], "sets": [
        ("0001", "A", []), ("0002", "A", []), ("0001", "R", ["23"])]}))


def test_st02_may_repeat_across_groups():
    groups = [GROUP([SET("0001")], number="1"), GROUP([SET("0001")], number="2")]
    _check(ISA(groups), S.accepted(groups=2, sets=(1, 1)))


def test_bad_29_30_se_problems_come_from_the_set_validator():
    groups = [GROUP([SET("0001", count=4), SET("0002")[:-1] + ["SE*5*0009"]])]
    _check(ISA(groups), _group_only({"status": "R", "ak9": [], "sets": [
        ("0001", "R", ["4"]), ("0002", "R", ["3"])]}))


def test_bad_34_st03_names_another_release_than_gs08_code_i6():
    groups = [GROUP([SET("0001", extra="*004010VICS"), SET("0002", extra="*005010X230")],
                    version="005010")]
    report = validate(ISA(groups).encode(), S.OPTIONS)
    assert S.summary(report) == _group_only({"status": "P", "ak9": [], "sets": [
        ("0001", "R", ["I6"]), ("0002", "A", [])]})
    error = report.interchanges[0].groups[0].transactions[0].errors[0]
    assert (error.level, error.segment_id, error.element_position, error.bad_value) == (
        "set", "ST", 3, "004010VICS")


def test_all_sets_rejected_rejects_the_group():
    groups = [GROUP([SET("0001", count=9), SET("0002", count=9)])]
    _check(ISA(groups), _group_only({"status": "R", "ak9": [], "sets": [
        ("0001", "R", ["4"]), ("0002", "R", ["4"])]}))


def test_empty_group_is_accepted():
    _check(ISA([GROUP([])]), _group_only({"status": "A", "ak9": [], "sets": []}))


def test_code_tables_are_complete():
    assert sorted(envelope_codes.TA1_TEXT) == [f"{n:03d}" for n in range(32)]
    assert envelope_codes.AK9_TEXT[envelope_codes.AK9_DUPLICATE_CONTROL_NUMBER] == (
        "Functional Group Control Number not Unique within Interchange")
    assert envelope_codes.AK5_DUPLICATE_CONTROL_NUMBER == "23"
