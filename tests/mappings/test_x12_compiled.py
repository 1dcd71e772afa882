"""The compiled and the generated inbound X12 mappings give exactly what the reference engine gives.

The reference is the generic engine (``engine.read_document``) walking an ``X12Scope``: every rule
resolves its path against the loop instance. The compiled form (``x12.compiled``) must produce the
same document and the same issues, in the same order, on every golden case, every corpus file and
on mutated sets (segments dropped, duplicated, moved, elements blanked or turned into composites),
which exercise consumption, qualifiers, leftovers and loop grouping off the happy path. The
generated form (``x12.codegen``) must produce the same mapped data and issues as the compiled one
on all of these.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossdock.mappings import MappingRegistry, X12_SPECS, override_from_dict, read_document, to_canonical
from crossdock.mappings.spec import Collect, DocumentSpec, Each, Field
from crossdock.mappings.x12 import X12Scope, group
from crossdock.mappings.x12.loops import shape
from crossdock.schemas.canonical import PurchaseOrder
from crossdock.mappings.x12 import codegen
from crossdock.mappings.x12.codegen import generate_inbound
from crossdock.mappings.x12.compiled import compile_inbound
from crossdock.schemas.errors import CrossdockError
from crossdock.schemas.x12.tree import Composite, Segment, Transaction
from x12sets import GOLDEN_SETS, SPECS, mapped_sets



def _reference(spec: DocumentSpec, body: tuple[Segment, ...], version: str) -> tuple[object, list[object]]:
    return read_document(spec, X12Scope.root(group(body, spec.structure), version), "x12")


def _compiled(spec: DocumentSpec, body: tuple[Segment, ...], version: str) -> tuple[object, list[object]]:
    return to_canonical(Transaction((Segment("ST", (spec.set_id, "1")), *body, Segment("SE", ("0", "1")))),
                        version=version, spec=spec)


def _same_data(spec: DocumentSpec, body: tuple[Segment, ...], version: str) -> bool:
    """Whether the generated mapping reads ``body`` exactly as the compiled one (data and issues)."""
    return generate_inbound(spec, version).read(body) == compile_inbound(spec, version).read(body)


@pytest.mark.parametrize("spec, body, version", GOLDEN_SETS, ids=lambda v: getattr(v, "name", ""))
def test_golden_sets_map_the_same(spec: DocumentSpec, body: tuple[Segment, ...], version: str) -> None:
    assert _compiled(spec, body, version) == _reference(spec, body, version)
    assert _same_data(spec, body, version)


def test_corpus_sets_map_the_same(corpus_dir: Path) -> None:
    compared = 0
    for path in sorted((corpus_dir / "x12").rglob("*")):
        if not path.is_file():
            continue
        try:
            sets = mapped_sets(path.read_bytes())
        except CrossdockError:  # broken files that do not parse at all are the reader's concern
            continue
        for spec, body, version in sets:
            assert _compiled(spec, body, version) == _reference(spec, body, version), path.name
            assert _same_data(spec, body, version), path.name
            compared += 1
    assert compared > 50


def test_partner_override_maps_the_same() -> None:
    override = override_from_dict({
        "name": "acme.850", "base": "x12.850",
        "rules": [{"target": "contract_number", "source": "REF[CT]02"},
                  {"table": "lines", "target": "notes", "source": "MSG", "each": [{"target": "text", "source": "MSG01"}]},
                  {"table": "lines", "target": "price_basis", "source": "PO105", "default": "PE"}],
        "remove": [{"target": "fob"}]})
    spec = MappingRegistry(X12_SPECS).with_override(override).spec("acme.850")
    body = (Segment("BEG", ("00", "SA", "P-1", "", "20240115")), Segment("REF", ("CT", "K-77")),
            Segment("REF", ("DP", "1")), Segment("FOB", ("PP",)), Segment("PO1", ("1", "2", "EA", "3.5")),
            Segment("MSG", ("hello",)), Segment("PO1", ("2", "1", "CA", "", "PE")))
    assert _compiled(spec, body, "004010") == _reference(spec, body, "004010")
    assert _same_data(spec, body, "004010")


def test_compiled_specs_are_cached_per_spec_and_version() -> None:
    spec = SPECS["850"]
    assert compile_inbound(spec, "004010") is compile_inbound(spec, "004010")
    assert compile_inbound(spec, "004010") is not compile_inbound(spec, "005010")
    assert generate_inbound(spec, "004010") is generate_inbound(spec, "004010")
    assert generate_inbound(spec, "004010") is not generate_inbound(spec, "005010")


def test_generated_mapping_without_plans_maps_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the plan cap (junk input with endless segment mixes) every table runs all its rules."""
    monkeypatch.setattr(codegen, "_MAX_PLANS", 0)
    for spec, body, version in GOLDEN_SETS:
        fresh = codegen.GeneratedSpec(compile_inbound(spec, version))
        assert fresh.read(body) == compile_inbound(spec, version).read(body), spec.name


def test_generated_mapping_checks_consumption_where_rules_overlap() -> None:
    """A later rule never reads what an earlier one took. The generated code leaves out only the
    consumption checks that cannot fail; here they can: fields reading the same elements, a
    collect and a nested table before a field on their segment, HL01..04 of hierarchical heads."""
    level = shape("HL", "LIN REF", hierarchical=True)
    spec = DocumentSpec(
        name="test.overlap", format="x12", document_type="purchase_order", model=PurchaseOrder,
        set_id="850", versions=("004010",), structure=shape("", "BEG REF MSG N9", level),
        rules=(
            Field("a", "BEG03"), Field("b", "BEG03"), Field("c", "BEG02"),
            Field("d", "REF[DP]02"), Field("e", "REF02"), Field("f", "REF01"),
            Collect("g", "MSG", "lines"), Field("h", "MSG01"),
            Each("i", "N9", (Field("x", "N901"),)), Field("j", "N901"), Field("k", "N902"),
            Each("levels", "HL", (Field("id", "HL01"), Field("kind", "HL03"), Field("item", "LIN03"),
                                  Field("again", "LIN03"), Field("qualifier", "LIN02"))),
        ))
    body = (Segment("BEG", ("00", "SA", "P-1")), Segment("REF", ("DP", "7")), Segment("REF", ("IA", "8")),
            Segment("REF", ("ZZ", "9")), Segment("MSG", ("hello",)), Segment("N9", ("AB", "one")),
            Segment("HL", ("1", "", "I")), Segment("LIN", ("", "UP", "1")), Segment("LIN", ("", "VN", "2")),
            Segment("HL", ("2", "", "I")), Segment("LIN", ("", "ZZ", "3")))
    data, issues = generate_inbound(spec, "004010").read(body)
    assert (data, issues) == compile_inbound(spec, "004010").read(body)
    assert {k: data.get(k) for k in "abcdefhjk"} == {
        "a": "P-1", "b": None, "c": "SA", "d": "7", "e": "8", "f": "IA", "h": None, "j": None, "k": "one"}
    assert [(level.get("id"), level.get("kind"), level.get("item"), level.get("again"), level.get("qualifier"))
            for level in data["levels"]] == [(None, None, "1", "2", "UP"), (None, None, "3", None, "ZZ")]


def _mutate(body: tuple[Segment, ...], data: st.DataObject) -> tuple[Segment, ...]:
    segments = list(body)
    for _ in range(data.draw(st.integers(0, 4))):
        if not segments:
            break
        at = data.draw(st.integers(0, len(segments) - 1))
        action = data.draw(st.sampled_from(["drop", "duplicate", "move", "blank", "composite", "swap_id"]))
        seg = segments[at]
        if action == "drop":
            del segments[at]
        elif action == "duplicate":
            segments.insert(at, seg)
        elif action == "move":
            segments.insert(data.draw(st.integers(0, len(segments) - 1)), segments.pop(at))
        elif action == "swap_id":
            other = segments[data.draw(st.integers(0, len(segments) - 1))]
            segments[at] = Segment(other.id, seg.elements)
        elif seg.elements:
            index = data.draw(st.integers(0, len(seg.elements) - 1))
            value = "" if action == "blank" else Composite((str(seg.elements[index]), "X"))
            segments[at] = Segment(seg.id, seg.elements[:index] + (value,) + seg.elements[index + 1:])
    return tuple(segments)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_sets_map_the_same(data: st.DataObject) -> None:
    spec, body, version = data.draw(st.sampled_from(GOLDEN_SETS))
    mutated = _mutate(body, data)
    assert _compiled(spec, mutated, version) == _reference(spec, mutated, version)
    assert _same_data(spec, mutated, version)
