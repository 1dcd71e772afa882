"""The X12 definitions load, are internally consistent, and resolve versions as documented."""

from __future__ import annotations

import pytest

from crossdock.schemas.x12.definitions import (
    DEFINED_VERSIONS,
    CompositeUse,
    ElementDef,
    ElementUse,
    LoopDef,
    SegmentDef,
    SegmentUse,
    composite,
    element,
    known_segment_ids,
    load_definition,
    resolve_version,
    segment,
    supported_sets,
)

DATA_TYPES = {"ID", "AN", "R", "DT", "TM", "B"} | {f"N{i}" for i in range(10)}
SETS = ("850", "855", "856", "810", "846", "852", "830", "860", "997")


def _segments(nodes) -> list[SegmentUse]:
    out: list[SegmentUse] = []
    for node in nodes:
        out.extend(_segments(node.children) if isinstance(node, LoopDef) else [node])
    return out


def _loops(nodes) -> list[LoopDef]:
    out: list[LoopDef] = []
    for node in nodes:
        if isinstance(node, LoopDef):
            out.append(node)
            out.extend(_loops(node.children))
    return out


def _element_problems(el: ElementDef, where: str) -> list[str]:
    problems = []
    if el.data_type not in DATA_TYPES:
        problems.append(f"{where}: unknown data type {el.data_type}")
    if not 1 <= el.min_length <= el.max_length:
        problems.append(f"{where}: lengths {el.min_length}/{el.max_length}")
    if el.codes is not None and el.data_type == "ID" and el.codes_closed:
        bad = [c for c in el.codes if not el.min_length <= len(c) <= el.max_length]
        if bad:
            problems.append(f"{where}: codes of the wrong length {sorted(bad)}")
    if el.data_type == "DT" and el.max_length not in (6, 8):
        problems.append(f"{where}: DT max length {el.max_length}")
    return problems


def _segment_problems(seg: SegmentDef) -> list[str]:
    problems = []
    positions = [u.position for u in seg.elements]
    if positions != list(range(1, len(positions) + 1)):
        problems.append(f"{seg.id}: element positions {positions}")
    for use in seg.elements:
        where = f"{seg.id}{use.position:02d}"
        if isinstance(use, CompositeUse):
            if not use.composite.components:
                problems.append(f"{where}: composite {use.composite.ref} has no components")
            for comp in use.composite.components:
                problems += _element_problems(comp.element, f"{where}-{comp.position:02d}")
        else:
            problems += _element_problems(use.element, where)
    named = {p for note in seg.syntax for p in note.positions}
    for note in seg.syntax:
        if max(note.positions) > len(seg.elements):
            problems.append(f"{seg.id}: syntax note {note.code} names a missing position")
    for use in seg.elements:
        if use.requirement == "X" and use.position not in named:
            problems.append(f"{seg.id}{use.position:02d}: conditional (X) without a syntax note")
        if use.position in named and use.requirement == "O":
            problems.append(f"{seg.id}{use.position:02d}: named by a syntax note but optional (O)")
    return problems


@pytest.mark.parametrize(("set_id", "version"), supported_sets())
def test_every_definition_is_consistent(set_id: str, version: str) -> None:
    lookup = load_definition(set_id, version)
    definition = lookup.definition
    assert definition is not None and lookup.exact and lookup.note is None
    assert (definition.set_id, definition.version) == (set_id, version)
    problems: list[str] = []
    for loop in _loops(definition.body):
        first = loop.children[0]
        if not (isinstance(first, SegmentUse) and first.requirement == "M" and first.max_use == 1):
            problems.append(f"loop {loop.id}: must start with a mandatory segment used once")
        if loop.id != (first.segment.id if isinstance(first, SegmentUse) else None):
            problems.append(f"loop {loop.id}: named after its first segment")
        if loop.repeat is not None and loop.repeat < 1:
            problems.append(f"loop {loop.id}: repeat {loop.repeat}")
    uses = _segments(definition.body)
    known = known_segment_ids(version)
    for use in uses:
        if use.max_use is not None and use.max_use < 1:
            problems.append(f"{use.segment.id}: max use {use.max_use}")
        if use.segment.id not in known:
            problems.append(f"{use.segment.id}: not a segment id of {version}")
        # the dictionary entry is the one the set uses (no stale copies)
        assert segment(use.segment.id, version) is use.segment
        problems += _segment_problems(use.segment)
    assert problems == []
    assert not {"ST", "SE"} & {u.segment.id for u in uses}, "ST/SE are the validator's, not the body's"


def test_every_named_set_is_defined_in_both_versions() -> None:
    defined = set(supported_sets())
    assert {(s, v) for s in SETS for v in DEFINED_VERSIONS} <= defined
    assert ("999", "005010") in defined
    assert ("999", "004010") not in defined  # the 999 first appears in 005010


@pytest.mark.parametrize(
    ("gs08", "used", "exact"),
    [
        ("004010", "004010", True),
        ("004010VICS", "004010", True),
        ("004010X098A1", "004010", True),
        ("005010", "005010", True),
        ("005010X231A1", "005010", True),
        ("004030", "004010", False),
        ("003040", "004010", False),
        ("003010", "004010", False),
        ("002001", "004010", False),
        ("004060", "004010", False),
        ("005030", "005010", False),
        ("006020", "005010", False),
        ("garbage", "004010", False),
        ("", "004010", False),
    ],
)
def test_version_resolution(gs08: str, used: str, exact: bool) -> None:
    version, is_exact, note = resolve_version(gs08)
    assert (version, is_exact) == (used, exact)
    assert (note is None) == exact
    lookup = load_definition("850", gs08)
    assert lookup.definition is not None and lookup.definition.version == used
    assert lookup.exact == exact and lookup.requested_version == gs08


def test_set_defined_only_in_another_version_is_used_with_a_note() -> None:
    lookup = load_definition("999", "004010")
    assert lookup.definition is not None and lookup.definition.version == "005010"
    assert not lookup.exact
    assert lookup.note == "transaction set 999 is not defined in 004010; validated against 005010"


def test_unknown_set_has_no_definition() -> None:
    lookup = load_definition("123", "004010")
    assert not lookup
    assert (lookup.definition, lookup.exact, lookup.note) == (None, False, "transaction set '123' is not supported")


def test_element_dictionary_facts() -> None:
    beg01 = element("353")
    assert beg01 is not None and (beg01.data_type, beg01.min_length, beg01.max_length) == ("ID", 2, 2)
    assert beg01.codes_closed and {"00", "01", "05"} <= beg01.codes and "ZZ" not in beg01.codes
    assert (element("373").data_type, element("373").max_length) == ("DT", 8)
    assert element("610").implied_decimals == 2 and element("380").implied_decimals is None
    assert element("127", "005010").max_length == 50 and element("127", "004010").max_length == 30
    assert element("355").codes is not None and not element("355").codes_closed  # a common subset
    assert element("no such") is None
    assert [c.element.ref for c in composite("C030", "005010").components] == ["722", "1528", "1686"]
    hl = segment("HL")
    assert [(u.element.ref, u.requirement) for u in hl.elements] == [("628", "M"), ("734", "O"), ("735", "M"), ("736", "O")]
    assert [n.code for n in segment("N1").syntax] == ["R0203", "P0304"]


def test_856_hierarchy_and_repeats() -> None:
    body = load_definition("856", "004010").definition.body
    hl = next(n for n in body if isinstance(n, LoopDef))
    assert (hl.id, hl.requirement, hl.repeat) == ("HL", "M", 200000)
    ctx = segment("CTX", "005010").elements[0]
    assert isinstance(ctx, CompositeUse) and ctx.repeat == 10


def test_every_element_use_points_at_the_dictionary() -> None:
    for version in DEFINED_VERSIONS:
        for set_id, defined in supported_sets():
            if defined != version:
                continue
            for use in _segments(load_definition(set_id, version).definition.body):
                for el_use in use.segment.elements:
                    if isinstance(el_use, ElementUse) and el_use.element.ref is not None:
                        assert element(el_use.element.ref, version) is el_use.element
