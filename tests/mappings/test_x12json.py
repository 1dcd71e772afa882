"""X12 as JSON: lossless both ways on the corpus, shape errors as issues, foreign shapes read."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossdock.adapters.json import dump_json, load_json
from crossdock.adapters.x12 import parse, serialize
from crossdock.mappings.x12json import (
    guide_json_to_transaction,
    json_to_tree,
    segment_from_json,
    segment_to_json,
    tree_to_json,
)
from crossdock.schemas.errors import CrossdockError, Issue
from crossdock.schemas.x12.tree import Composite, Repeats, Segment


def _corpus_trees(corpus_dir: Path):
    for path in sorted((corpus_dir / "x12").glob("*/*")):
        try:
            trees, _ = parse(path.read_bytes())
        except Exception:  # noqa: BLE001 - files the reader refuses outright are the reader's tests
            continue
        if trees:
            yield path, trees


def test_json_form_is_lossless_for_every_corpus_interchange(corpus_dir: Path) -> None:
    checked = identical = 0
    for path, trees in _corpus_trees(corpus_dir):
        document = load_json(dump_json(tree_to_json(trees)))  # through real JSON text
        back, issues = json_to_tree(document)
        assert issues == [], path.name
        assert back == trees, path.name
        checked += 1
        try:
            expected = serialize(trees)
        except CrossdockError:  # the writer refuses some non-standard ISAs; the tree check stands
            continue
        written = serialize(back)
        assert written == expected, path.name
        # where the codec reproduces the file byte for byte, so does the JSON detour
        identical += written == path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    assert checked > 50 and identical > 30
    print(f"\nx12-json: {checked} corpus files lossless against the tree, {identical} byte-identical end to end")


def test_composites_repeats_and_empty_elements_survive() -> None:
    segment = Segment("SV1", (Composite(("HC", "99213", "")), "", Repeats(("A", Composite(("B", "C")))), "1"))
    as_json = ["SV1", ["HC", "99213", ""], "", {"repeats": ["A", ["B", "C"]]}, "1"]
    assert segment_to_json(segment) == as_json
    assert segment_from_json(load_json(dump_json(as_json))) == segment
    assert isinstance(segment_from_json(as_json).elements[2], Repeats)


@pytest.mark.parametrize(
    ("document", "issue"),
    [
        ({"format": "other"}, Issue("X12_JSON_SHAPE_UNKNOWN", "not a crossdock.x12-json document")),
        ({"format": "crossdock.x12-json", "version": 9}, Issue("X12_JSON_INVALID", "unsupported version, expected 1", ("version",))),
        (
            {"format": "crossdock.x12-json", "version": 1, "interchanges": [{"delimiters": {}, "header": ["ISA"], "groups": [{"header": ["GS"], "transactions": [[["ST", 5]]], "trailer": None}], "trailer": None}]},
            Issue(
                "X12_JSON_INVALID",
                "an element must be a string, a list (composite) or {'repeats': [...]}",
                ("interchanges", 0, "groups", 0, "transactions", 0, 0, 1),
            ),
        ),
        (
            {"format": "crossdock.x12-json", "version": 1, "interchanges": [{"delimiters": {"bogus": "*"}, "header": ["ISA"], "groups": [], "trailer": None}]},
            Issue("X12_JSON_INVALID", "unknown delimiter keys ['bogus']", ("interchanges", 0, "delimiters")),
        ),
    ],
)
def test_malformed_documents_give_located_issues(document: dict, issue: Issue) -> None:
    assert json_to_tree(document) == ((), [issue])


def test_stedi_guide_json_reads_as_a_transaction(corpus_dir: Path) -> None:
    document = load_json((corpus_dir / "json/850/stedi__stedi_guidejson_850_outbound.json").read_bytes())
    transaction, issues = guide_json_to_transaction(document)
    assert issues == []
    assert [s.id for s in transaction.segments] == [
        "ST", "BEG", "REF", "REF", "PER", "TD5", "N1", "N3", "N4", "PO1", "PID", "PO1", "PID", "CTT", "AMT", "SE",
    ]
    assert transaction.segments[1] == Segment("BEG", ("00", "DS", "365465413", "", "20220830"))
    assert transaction.segments[-1] == Segment("SE", ("16", "1"))


def test_node_x12_business_json_is_not_mistaken_for_x12(corpus_dir: Path) -> None:
    for name in ("json/850/nodex12__nodex12_850_map_result.json", "json/856/nodex12__nodex12_Transaction_data.json"):
        document = load_json((corpus_dir / name).read_bytes())
        assert json_to_tree(document)[1][0].code == "X12_JSON_SHAPE_UNKNOWN"
        assert guide_json_to_transaction(document)[1][0].code == "X12_JSON_SHAPE_UNKNOWN"
