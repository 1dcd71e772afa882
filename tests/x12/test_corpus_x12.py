"""Every file under ``corpus/x12/`` gets a verdict, an acknowledgement, and a summary line.

``SOURCES.tsv``'s last column is the origin's claim (``valid ...`` or ``intentionally-broken
...``). Where our verdict differs from that claim, :data:`EXPECTED` records who is right and why.
Nothing may raise: every problem must surface as our own report data.

Round trip: for every interchange we accept whose tree is canonical (no trailing empty elements
in the source, fixed-width ISA), ``serialize(parse(x))`` reproduces the input bytes, modulo a BOM
and whitespace after segment terminators (indentation, blank lines); :data:`NOT_BYTE_IDENTICAL`
lists the accepted files that differ for a reason.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path

import pytest

from crossdock.adapters.x12.acks import ack_bytes
from crossdock.adapters.x12.writer import CountingAllocator, serialize
from crossdock.schemas.x12.report import FileReport

#: file -> (our verdict, why we differ from the origin's label)
#: verdicts: "accepted", or "rejected:<level>:<code>" naming the first rejection found
_NOT_FIXED_WIDTH = (
    "rejected:interchange:022",
    "ISA not fixed-width (short fields): TA1 022 by default (BAD_INPUT 3.2-7); "
    "a partner profile may allow it with ReadOptions(lenient_isa=True)",
)
_DTM_CENTURY = (
    "rejected:set:5",
    "DTM*...***19 uses DTM05 as the pre-4010 century (624); under GS08 004010 DTM05 is 1250 and "
    "syntax note P0506 requires DTM06",
)
_GS01_SC = "GS01 'SC' (price/sales catalog) does not carry this set (X12 functional group table); AK5 6"
EXPECTED: dict[str, tuple[str, str]] = {
    "x12/810/edinet__x12.810a.edi": _NOT_FIXED_WIDTH,
    "x12/810/oopfactory__ORD__810_Example5_Walmart.txt": (
        "rejected:interchange:017", "ISA12 is '00040', not a control version (typo for 00401): TA1 017"),
    "x12/810/stupidedi__004010_X348_pass_basic-invoice.edi": ("rejected:set:6", _GS01_SC),
    "x12/830/stupidedi__004010_PS830_pass_1.edi": _NOT_FIXED_WIDTH,
    "x12/846/oopfactory__ORD__846_Example1.txt": (
        "rejected:interchange:016", "ISA11 is a space; in 00401 it must be the standards id 'U': TA1 016"),
    "x12/846/oopfactory__ORD__846_Example2.txt": (
        "rejected:interchange:016", "ISA11 is a space; in 00401 it must be the standards id 'U': TA1 016"),
    "x12/850/bots__850-004010-02.x12": (
        "rejected:set:23", "both groups reuse GS06 5 and every set ST02 000000001 (BAD_INPUT 3.3-28/32)"),
    "x12/850/bots__850-004010-03.x12": _DTM_CENTURY,
    "x12/850/bots__850-004010-05.x12": _DTM_CENTURY,
    "x12/850/bots__850-004010-07.x12": _DTM_CENTURY,
    "x12/850/bots__850-004010-08.x12": _NOT_FIXED_WIDTH,
    "x12/850/bots__850-004010.16.x12": _NOT_FIXED_WIDTH,
    "x12/850/bots__ebcdic.x12": (
        "rejected:file:ENCODING_UNSUPPORTED", "EBCDIC is rejected unless agreed (BAD_INPUT 3.5-45)"),
    "x12/850/edinet__x12.810.mandatory-conditions.edi": _NOT_FIXED_WIDTH,
    "x12/850/edinet__x12.850.edi": ("rejected:interchange:001", "IEA02 000000001 differs from ISA13 000000055"),
    "x12/850/edinet__x12.850.issue135.edi": (
        "rejected:set:5",
        "ISA16 is '~' and the terminator LF, so every segment's trailing '~' is a stray component "
        "separator (AK4 13); the author meant ISA16 to be missing (BAD_INPUT 3.2-10) - rejected either way",
    ),
    "x12/850/edinet__x12.850a.edi": _NOT_FIXED_WIDTH,
    "x12/850/nodex12__850_fat.edi": (
        "rejected:interchange:025", "the second interchange repeats the first one's ISA13 (TA1 025)"),
    "x12/850/oopfactory__ORD__850_Example3_Adobe_CLP.txt": _NOT_FIXED_WIDTH,
    "x12/850/oopfactory__ORD__850_Example4_Adobe_ShrinkWrapped.txt": (
        "rejected:interchange:022",
        "the character after ISA16 is a space, not a usable terminator (004 is among the errors; the "
        "TA1 carries 022 because the rest of the interchange cannot be delimited)",
    ),
    "x12/850/stupidedi__004010_PO850_pass_1.edi": _NOT_FIXED_WIDTH,
    "x12/850/stupidedi__004010_X357_pass_basic-po.edi": ("rejected:set:6", _GS01_SC),
    "x12/850/stupidedi__004010_X357_pass_taxexempt-po.edi": ("rejected:set:6", _GS01_SC),
    "x12/852/oopfactory__MAN__852_hdexchange.txt": (
        "rejected:interchange:001", "the file ends 'IEA*1*000000002~^': IEA02 carries a stray '~'"),
    "x12/855/stupidedi__004010_X358_pass_basic-po-ack-rejected.edi": ("rejected:set:6", _GS01_SC),
    "x12/855/stupidedi__004010_X358_pass_po-ack-ship-details.edi": ("rejected:set:6", _GS01_SC),
    "x12/856/oopfactory__ORD__856_Example4.txt": ("rejected:set:5", "N402 (state, max 2) holds 8 characters"),
    "x12/860/oopfactory__ORD__860_Example1.txt": _NOT_FIXED_WIDTH,
    "x12/865/oopfactory__ORD__865_FromAdvanceAutoParts.txt": ("rejected:set:1", "865 is not a set we support"),
    "x12/997/stupidedi__004010_FA997_pass_1.edi": _NOT_FIXED_WIDTH,
    "x12/999/oopfactory__ACK__999_DHS_Wisconsin_Sample.txt": (
        "rejected:set:5", "AK202 (ST02 echoed, min 4) holds 3 characters"),
    "x12/mixed/bots__mailbag01.x12": (
        "rejected:set:1", "holds 820s (not supported: AK5 1), duplicate GS06/ST02 and data after an IEA"),
}

#: files we accept whose bytes legitimately differ from serialize(parse(...)) -> why
_ZERO_PADDED_COUNTS = "SE01/GE01 are zero-padded ('SE*0000000026'); the writer recomputes counts as plain numbers"
NOT_BYTE_IDENTICAL: dict[str, str] = {
    "x12/830/bots__830-004010UCS-01.x12": "wrapped at 80 columns inside segments; the reader drops those line breaks",
    "x12/850/bots__850-004010-11.x12": _ZERO_PADDED_COUNTS,
    "x12/850/bots__850-004010-12.x12": _ZERO_PADDED_COUNTS,
    "x12/850/bots__850-004010.13.x12": _ZERO_PADDED_COUNTS,
    "x12/850/bots__850-004010.14.x12": _ZERO_PADDED_COUNTS,
}


def _labels(corpus: Path) -> dict[str, str]:
    with (corpus / "SOURCES.tsv").open(newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    return {row[0]: row[-1] for row in rows if row and row[0].startswith("x12/")}


def _clock() -> datetime:
    return datetime(2024, 6, 1, 12, 30)


def verdict(report: FileReport) -> str:
    """``accepted`` or ``rejected:<level>:<code>`` for the first rejection in the file."""
    if report.error is not None:
        return f"rejected:file:{report.error['code']}"
    for interchange in report.interchanges:
        if interchange.status == "rejected":
            return f"rejected:interchange:{interchange.ta1_code}"
        for group in interchange.groups:
            if group.status == "R" and not any(t.status != "R" for t in group.transactions) and group.ak9_codes:
                return f"rejected:group:{group.ak9_codes[0]}"
            for transaction in group.transactions:
                if transaction.status == "R":
                    codes = [e.code for e in transaction.errors if e.severity == "error"]
                    return f"rejected:set:{codes[0] if codes else '?'}"
            if group.status == "R":
                return f"rejected:group:{(group.ak9_codes or ('?',))[0]}"
    return "accepted"


@pytest.fixture(scope="module")
def corpus_files(corpus_dir: Path) -> list[tuple[str, Path]]:
    files = sorted(p for p in (corpus_dir / "x12").rglob("*") if p.is_file())
    return [(p.relative_to(corpus_dir).as_posix(), p) for p in files]


@pytest.fixture(scope="module")
def verdicts(corpus_dir: Path, corpus_files: list[tuple[str, Path]]) -> dict[str, tuple[str, FileReport]]:
    from crossdock.adapters.x12 import validate

    return {name: (verdict(report := validate(path, path=name)), report) for name, path in corpus_files}


def test_every_corpus_file_gets_the_expected_verdict(
    corpus_dir: Path, verdicts: dict[str, tuple[str, FileReport]], request: pytest.FixtureRequest
) -> None:
    labels = _labels(corpus_dir)
    rows, wrong = [], []
    for name, (ours, _) in verdicts.items():
        label = labels.get(name, "unlabelled")
        claimed = "accepted" if label.startswith("valid") else "rejected"
        expected, why = EXPECTED.get(name, (claimed, ""))
        matches = ours == expected if expected != "rejected" else ours.startswith("rejected")
        if not matches:
            wrong.append(f"{name}: ours {ours}, expected {expected} ({label})")
        rows.append((name, label.split(" ")[0], ours, "ok" if matches else "MISMATCH", why))
    _print_summary(request, rows)
    assert not wrong, "\n".join(wrong)
    stale = set(EXPECTED) - set(verdicts)
    assert not stale, f"EXPECTED names files that are not in the corpus: {sorted(stale)}"


def _print_summary(request: pytest.FixtureRequest, rows: list[tuple[str, ...]]) -> None:
    """Write the files x verdict table straight to the terminal (visible without -s)."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{name:<78} {label:<22} {ours:<34} {state:<8} {why}" for name, label, ours, state, why in rows]
    accepted = sum(1 for r in rows if r[2] == "accepted")
    lines.append(f"{len(rows)} files: {accepted} accepted, {len(rows) - accepted} rejected")
    if reporter is None:
        print("\n".join(lines))
        return
    reporter.ensure_newline()
    reporter.section("x12 corpus verdicts", sep="-")
    for line in lines:
        reporter.write_line(line)


def test_every_corpus_file_can_be_acknowledged(verdicts: dict[str, tuple[str, FileReport]]) -> None:
    from crossdock.adapters.x12 import validate

    for name, (_, report) in verdicts.items():
        reply = ack_bytes(report, allocator=CountingAllocator(), clock=_clock, ta1="always")
        if report.error is not None:
            assert reply == b"", name
            continue
        assert reply.startswith(b"ISA"), name
        assert validate(reply, path="ack").accepted, (name, reply[:300])


def _normalized(data: bytes, terminators: set[str], encoding: str) -> bytes:
    """Without a BOM, and without whitespace after segment terminators (indentation, blank lines)."""
    text = data.decode(encoding).removeprefix("\ufeff").strip(" \t\r\n")
    for terminator in terminators:
        text = re.sub(re.escape(terminator) + r"[ \t\r\n]*", terminator, text)
    return text.encode(encoding)


def test_accepted_corpus_files_round_trip_byte_for_byte(
    corpus_files: list[tuple[str, Path]], verdicts: dict[str, tuple[str, FileReport]]
) -> None:
    from crossdock.adapters.x12 import parse

    checked, wrong = 0, []
    for name, path in corpus_files:
        if verdicts[name][0] != "accepted" or name in NOT_BYTE_IDENTICAL:
            continue
        data = path.read_bytes()
        trees, _ = parse(data)
        encoding = "utf-8"
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "latin-1"  # the reader's documented fallback; write back the same bytes
        terminators = {tree.delimiters.segment for tree in trees}
        if _normalized(serialize(trees, encoding=encoding), terminators, encoding) != _normalized(
            data, terminators, encoding
        ):
            wrong.append(name)
        checked += 1
    assert not wrong, f"not byte-identical after serialize(parse(x)): {wrong}"
    stale = {n for n in NOT_BYTE_IDENTICAL if verdicts.get(n, ("",))[0] != "accepted"}
    assert not stale, f"NOT_BYTE_IDENTICAL lists files that are no longer accepted: {sorted(stale)}"
    assert checked >= 30
