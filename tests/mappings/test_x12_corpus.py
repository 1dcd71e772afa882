"""Every valid X12 corpus file of a mapped set translates to canonical with no unexplained issue,
and every translated set survives X12 -> canonical -> X12 -> canonical unchanged.

``EXPECTED`` lists each file whose translation reports issues, with the codes and why; a code
that appears without being listed (or a listed one that disappears) fails the test.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from crossdock.adapters.x12 import parse
from crossdock.mappings import from_canonical, to_canonical

_FAKE_GTINS = "sample data uses made-up UPC/EAN/GTIN numbers whose mod-10 check digit is wrong (checked by hand)"

#: file (relative to corpus/x12) -> (issue codes reported, reason)
EXPECTED: dict[str, tuple[frozenset[str], str]] = {
    **{name: (frozenset({"GTIN_CHECK_DIGIT"}), _FAKE_GTINS) for name in (
        "810/bots__810-004010-01.x12", "810/bots__810-004010VICS-01.x12", "810/bots__810-004030-01.x12",
        "810/bots__810-004030VICS-01.x12", "810/oopfactory__ORD__810_Example3_MultiInvoice.txt",
        "810/staedi__simple810.edi", "830/bots__830-004010UCS-01.x12", "850/bots__850-004010-04.x12",
        "850/bots__850-004010-06.x12", "850/bots__850-004010-18.x12", "850/bots__850-004010-ascii-lf.x12",
        "850/bots__850-004010-ascii-st.x12", "850/bots__850-004010-ascii1.x12", "850/bots__850-004010VICS-02.x12",
        "850/bots__850-004030-03.x12", "850/bots__850-004030VICS-01.x12", "850/x12types__004010_850.edi",
        "855/bots__855-004010UCS-01.x12", "856/nodex12__856.edi", "856/oopfactory__ORD__856_edi1Source.txt",
        "856/x12types__004060_856.edi", "mixed/staedi__invoice810_po850_dual.edi",
    )},
    "810/oopfactory__ORD__810_Example5_Walmart.txt": (
        frozenset({"GTIN_FORMAT"}), "IT1 sends a UPC qualifier with an 11-digit number (no check digit)"),
    "856/oopfactory__ORD__856_FromGregarican.txt": (
        frozenset({"GTIN_FORMAT"}), "LIN sends a UPC qualifier with a number that is not 12 digits"),
    "850/bots__850-004010.15.x12": (
        frozenset({"GTIN_FORMAT", "GTIN_CHECK_DIGIT"}), "UPC values of the wrong length, and one bad check digit"),
    "850/edinet__x12.810.mandatory-conditions.edi": (
        frozenset({"MISSING_REQUIRED", "MODEL_INVALID"}),
        "EDI.Net test fixture: an 850 holding only BAL segments, no BEG (mandatory); its 'valid' label is wrong"),
    "856/oopfactory__ORD__856_Example2.txt": (
        frozenset({"MISSING_REQUIRED", "MODEL_INVALID"}),
        "BSN02 (shipment id, mandatory) is empty: the sample is not valid X12"),
    "860/oopfactory__ORD__860_Example1.txt": (
        frozenset({"DATE_INVALID"}), "BCH06 holds the placeholder text 'PO DATE' instead of a date"),
    "865/oopfactory__ORD__865_FromAdvanceAutoParts.txt": (
        frozenset({"SET_UNSUPPORTED"}), "865 is not one of the mapped sets"),
    "mixed/bots__mailbag01.x12": (
        frozenset({"SET_UNSUPPORTED", "GTIN_CHECK_DIGIT"}), "two 820 sets (not mapped) and " + _FAKE_GTINS),
}


def _rows(corpus: Path) -> list[dict[str, str]]:
    with (corpus / "SOURCES.tsv").open(encoding="utf-8") as handle:
        return [r for r in csv.DictReader(handle, delimiter="\t") if r["local_path"].startswith("x12/")]


def _translate_file(path: Path) -> tuple[int, int, Counter[str], list[str]]:
    """(sets, documents, issue codes, round-trip failures) for one file."""
    interchanges, _report = parse(path.read_bytes())
    sets = documents = 0
    codes: Counter[str] = Counter()
    failures: list[str] = []
    for interchange in interchanges:
        sources = [(s, interchange.version) for s in interchange.control_segments if s.id == "TA1"]
        sources += [(t, g.version) for g in interchange.groups for t in g.transactions]
        for source, version in sources:
            sets += 1
            document, issues = to_canonical(source, version=version)
            codes.update(i.code for i in issues)
            if document is None:
                continue
            documents += 1
            out_version = "005010" if version.startswith("005") else "004010"
            rendered, _ = from_canonical(document, version=out_version)
            again, _ = to_canonical(rendered.segments[0] if rendered.segments[0].id == "TA1" else rendered,
                                    version=out_version)
            if again != document:
                failures.append(f"{getattr(source, 'control_number', 'TA1')}")
    return sets, documents, codes, failures


def test_corpus_translates_with_only_expected_issues(corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = [f"{'file':58} {'label':8} {'sets':>4} {'docs':>4}  issues"]
    unexplained: list[str] = []
    for row in _rows(corpus_dir):
        name = row["local_path"].removeprefix("x12/")
        sets, documents, codes, failures = _translate_file(corpus_dir / row["local_path"])
        label = "valid" if row["valid_or_broken"].startswith("valid") else "broken"
        table.append(f"{name[:58]:58} {label:8} {sets:>4} {documents:>4}  {dict(codes) or ''}")
        unexplained += [f"{name}: set {f} changed in the X12 round trip" for f in failures]
        if label != "valid":
            continue
        expected = EXPECTED.get(name, (frozenset(), ""))[0]
        if set(codes) != expected:
            unexplained.append(f"{name}: issues {dict(codes)} but expected {sorted(expected)}")
    with capsys.disabled():
        print("\nX12 corpus -> canonical\n" + "\n".join(table))
    assert unexplained == []


def test_expectations_name_real_files(corpus_dir: Path) -> None:
    names = {r["local_path"].removeprefix("x12/") for r in _rows(corpus_dir)}
    assert set(EXPECTED) <= names
