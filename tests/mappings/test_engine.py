"""The mapping engine: paths, transforms, unmapped preservation, overrides, routing, spec checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from crossdock.mappings import (
    X12_SPECS, DocumentSpec, Each, Field, MappingRegistry, check_spec, check_specs, from_canonical,
    get_transform, load_override, override_from_dict, to_canonical,
)
from crossdock.mappings.transforms import TransformContext, TransformFailed
from crossdock.mappings.x12 import group, parse_path, shape
from crossdock.mappings.x12.elements import element_type, format_value
from crossdock.schemas.canonical import PurchaseOrder
from crossdock.schemas.errors import Issue, PartnerUnknown, SpecInvalid
from crossdock.schemas.x12.tree import Composite, Segment, Transaction


def _tx(*lines: str) -> Transaction:
    segments = []
    for line in lines:
        sid, *elements = line.split("*")
        segments.append(Segment(sid, tuple(Composite(e.split(">")) if ">" in e else e for e in elements)))
    return Transaction(tuple(segments))


PO = _tx("ST*850*1", "BEG*00*SA*P-1**20240115**AC", "MSG*keep me", "PO1*1*2*EA*3.5**UP*036000291452",
         "ZZZ*partner*data", "CTT*1", "SE*7*1")


@pytest.mark.parametrize(("text", "segment", "qualifier", "element", "component", "last"), [
    ("BEG03", "BEG", None, 3, None, None),
    ("N1[ST]02", "N1", (1, ("ST",)), 2, None, None),
    ("REF[PO|CO]02", "REF", (1, ("PO", "CO")), 2, None, None),
    ("HL[03=O]", "HL", (3, ("O",)), None, None, None),
    ("PO106..25", "PO1", None, 6, None, 25),
    ("UIT01-1", "UIT", None, 1, 1, None),
    ("SN102", "SN1", None, 2, None, None),
    ("G6201", "G62", None, 1, None, None),
])
def test_path_grammar(text, segment, qualifier, element, component, last) -> None:
    path = parse_path(text)
    assert path.step.segment == segment
    assert (None if path.step.qualifier is None else (path.step.qualifier.position, path.step.qualifier.codes)) == qualifier
    assert (path.element, path.component, path.last) == (element, component, last)


@pytest.mark.parametrize("text", ["beg03", "BEG3", "BEG03-", "[ST]02", "BEG-1", "PO110..05", "PO1/PID05"])
def test_bad_paths_are_spec_errors(text: str) -> None:
    with pytest.raises(SpecInvalid) as caught:
        parse_path(text)
    assert caught.value.code == "SPEC_PATH_INVALID"


@pytest.mark.parametrize(("name", "raw", "types", "parsed"), [
    ("decimal", "12.50", ("R",), Decimal("12.5")),
    ("decimal", "1250", ("N2",), Decimal("12.50")),
    ("decimal", "-005", ("N0",), Decimal("-5")),
    ("implied_decimal(3)", "12345", (None,), Decimal("12.345")),
    ("date", "20240229", ("DT",), dt.date(2024, 2, 29)),
    ("date", "991231", ("DT",), dt.date(1999, 12, 31)),
    ("date", "491231", ("DT",), dt.date(2049, 12, 31)),
    ("int", "007", ("N0",), 7),
    ("coded(party_role)", "ST", (None,), ("ship_to", "ST")),
    ("coded(party_role)", "Q9", (None,), ("other", "Q9")),
    ("datetime", ("20240115", "1230", "ET"), (None,), {"date": dt.date(2024, 1, 15), "time": dt.time(12, 30),
                                                       "time_precision": "minute", "time_code": "ET"}),
    ("datetime", ("", "12304599", ""), (None,), {"date": None, "time": dt.time(12, 30, 45, 990000),
                                                 "time_precision": "hundredth"}),
    ("quantity", ("3", "PC"), (None, None), {"value": Decimal(3), "unit": "EA", "unit_original": "PC"}),
])
def test_transforms_parse(name, raw, types, parsed) -> None:
    assert get_transform(name).parse(raw, TransformContext(element_types=types)) == parsed


@pytest.mark.parametrize(("name", "raw", "code"), [
    ("decimal", "1.2.3", "NUMBER_INVALID"),
    ("decimal", "NaN", "NUMBER_INVALID"),
    ("date", "20240230", "DATE_INVALID"),
    ("date", "2024-01-01", "DATE_INVALID"),
    ("time", "2460", "TIME_INVALID"),
    ("code(unit)", "??", "CODE_INVALID"),
])
def test_transform_failures_have_codes(name: str, raw: str, code: str) -> None:
    with pytest.raises(TransformFailed) as caught:
        get_transform(name).parse(raw, TransformContext())
    assert caught.value.code == code


@pytest.mark.parametrize(("value", "kind", "text"), [
    (Decimal("12.50"), ("R", 1, 10), "12.5"),
    (Decimal("100"), ("R", 1, 10), "100"),
    (Decimal("-0.010"), ("R", 1, 10), "-0.01"),
    (Decimal("12.5"), ("N2", 1, 10), "1250"),
    (Decimal("-3"), ("N2", 1, 10), "-300"),
    (Decimal("7"), ("N0", 3, 5), "007"),
    (dt.date(2024, 1, 5), ("DT", 8, 8), "20240105"),
    (dt.date(2024, 1, 5), ("DT", 6, 6), "240105"),
    (dt.time(9, 5), ("TM", 4, 8), "0905"),
    (dt.time(9, 5, 7), ("TM", 4, 8), "090507"),
])
def test_values_are_formatted_by_element_type(value, kind, text) -> None:
    from crossdock.mappings.x12.elements import ElementType
    assert format_value(value, ElementType(*kind)) == text


def test_element_types_come_from_the_definitions() -> None:
    assert element_type("TDS", 1, "004010").data_type == "N2"
    assert element_type("PO1", 4, "004010").data_type == "R"
    assert element_type("NOPE", 1, "004010") is None


def test_gtin_check_digit_is_a_warning_issue_not_a_crash() -> None:
    doc, issues = to_canonical(_tx("ST*850*1", "BEG*00*SA*P*1*20240101", "PO1*1*1*EA***UP*036000291453", "SE*4*1"))
    assert doc is not None and doc.lines[0].item.gtin == "036000291453"
    assert issues == [Issue("GTIN_CHECK_DIGIT", "UP id has a wrong check digit", ("PO1", 1, "PO106..25"),
                            "warning", "036000291453")]


def test_missing_required_and_bad_values_are_issues() -> None:
    doc, issues = to_canonical(_tx("ST*850*1", "BEG*00*SA**X*2024XX01", "SE*3*1"))
    assert doc is None
    assert [(i.code, i.loc, i.severity) for i in issues] == [
        ("MISSING_REQUIRED", ("BEG03",), "error"),
        ("DATE_INVALID", ("BEG05",), "warning"),
        ("MODEL_INVALID", ("po_number",), "error"),
    ]


def test_unmapped_data_lands_in_extensions_and_comes_back() -> None:
    doc, issues = to_canonical(PO)
    assert issues == []
    assert doc.extensions == {"x12": {"unmapped": [["BEG", [None] * 6 + ["AC"], 0, "merge"],
                                                   ["MSG", ["keep me"], 1]]}}
    assert doc.lines[0].extensions == {"x12": {"unmapped": [["ZZZ", ["partner", "data"], 1]]}}
    rendered, render_issues = from_canonical(doc, control_number="1")
    assert render_issues == []
    assert rendered.segments == PO.segments[:1] + (
        Segment("BEG", ("00", "SA", "P-1", "", "20240115", "", "AC")),) + PO.segments[2:]


def test_grouping_keeps_unknown_segments_in_the_innermost_loop() -> None:
    root = group(PO.body, shape("", "BEG CTT", shape("PO1", "PID")))
    assert [getattr(i, "id", "loop") for i in root.items] == ["BEG", "MSG", "loop", "CTT"]


def test_hierarchy_nests_by_parent_and_falls_back_to_rank() -> None:
    body = _tx("HL*1**S", "HL*2**O", "HL*3**I", "HL*4*2*I").segments
    root = group(body, shape("", "", shape("HL", "LIN", hierarchical=True)))
    (shipment,) = root.items
    (order,) = shipment.items[1:]
    assert [n.head.get(1) for n in order.items[1:]] == ["3", "4"]


def test_override_adds_and_replaces_rules_as_data(tmp_path: Path) -> None:
    spec_file = tmp_path / "acme.yaml"
    spec_file.write_text(
        "name: acme.850\nbase: x12.850\nroute: {sender: ACME}\n"
        "rules:\n"
        "  - {target: contract_number, source: 'REF[CT]02'}\n"
        "  - {table: lines, target: price_basis, source: PO105, default: PE}\n"
        "remove:\n  - {target: notes}\n")
    override = load_override(spec_file)
    tx = _tx("ST*850*1", "BEG*00*SA*P-1**20240115", "REF*CT*K-77", "PO1*1*2*EA*3.5", "SE*5*1")
    registry = MappingRegistry(X12_SPECS).with_override(override)
    assert registry.select_spec("ACME", "ANY", "850", "004010").name == "acme.850"
    assert registry.select_spec("OTHER", "ANY", "850", "004010").name == "x12.850"
    doc, _ = to_canonical(tx, overrides=override, sender="ACME")
    assert doc.contract_number == "K-77" and doc.lines[0].price_basis == "PE"
    assert doc.references == ()
    base_doc, _ = to_canonical(tx)
    assert base_doc.contract_number is None and base_doc.references[0].value == "K-77"


def test_override_errors_are_spec_errors() -> None:
    with pytest.raises(SpecInvalid) as caught:
        MappingRegistry(X12_SPECS).with_override(override_from_dict(
            {"name": "bad", "base": "x12.850", "rules": [{"table": "nope", "target": "x", "source": "BEG01"}]}))
    assert caught.value.code == "SPEC_OVERRIDE_INVALID"
    with pytest.raises(SpecInvalid):
        MappingRegistry(X12_SPECS).with_override(override_from_dict(
            {"name": "bad", "base": "x12.850", "rules": [{"target": "not_a_field", "source": "BEG01"}]}))


def test_routing_picks_the_most_specific_spec() -> None:
    registry = MappingRegistry(X12_SPECS)
    assert registry.select_spec("*", "*", "purchase_order", "005010").set_id == "850"
    assert registry.select_spec("A", "B", "856", "004010VICS").name == "x12.856"
    with pytest.raises(PartnerUnknown):
        registry.select_spec("A", "B", "820", "004010")


def test_every_registered_spec_checks_clean() -> None:
    check_specs()
    assert {s.set_id for s in X12_SPECS} == {"850", "855", "856", "810", "846", "852", "830", "860", "997", "999", "TA1"}


def test_spec_check_reports_every_problem() -> None:
    broken = DocumentSpec("broken", "x12", "purchase_order", PurchaseOrder, rules=(
        Field("po_number", "BEG3"),
        Field("nope", "BEG04"),
        Field("release_number", "BEG04", ("no_such_transform",)),
        Field(("purpose", "purpose_code"), "BEG01", ("coded(no_list)",)),
        Each("po_number", "PO1", ()),
    ))
    problems = check_spec(broken)
    assert len(problems) == 6, problems


def test_unsupported_set_is_an_issue() -> None:
    doc, issues = to_canonical(_tx("ST*820*1", "BPR*C", "SE*3*1"))
    assert doc is None and [i.code for i in issues] == ["SET_UNSUPPORTED"]
