"""Transaction sets of the canonical golden inputs, read without validation.

The compiled/generated mapping tests compare mappings, not verdicts, so the reader runs with a
set validator that accepts everything.
"""

from __future__ import annotations

from pathlib import Path

from crossdock.adapters.x12 import ReadOptions, parse
from crossdock.mappings import X12_SPECS
from crossdock.mappings.spec import DocumentSpec
from crossdock.schemas.x12.report import SetReport
from crossdock.schemas.x12.tree import Segment

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "canonical"
SPECS = {spec.set_id: spec for spec in X12_SPECS}


class Unchecked:
    """A set validator that accepts everything."""

    def __init__(self, st: Segment, functional_id: str, version: str, delimiters: object) -> None:
        self.st = st

    def feed(self, segment: Segment) -> None:
        return None

    def finish(self, se: Segment | None) -> SetReport:
        return SetReport(self.st.get(1), self.st.get(2), "A")


def mapped_sets(data: bytes) -> list[tuple[DocumentSpec, tuple[Segment, ...], str]]:
    """(spec, body, version) for every set of ``data`` that has a mapping spec, TA1s included."""
    interchanges, _report = parse(data, ReadOptions(validator=Unchecked))
    found = []
    for interchange in interchanges:
        for ta1 in (s for s in interchange.control_segments if s.id == "TA1"):
            found.append((SPECS["TA1"], (ta1,), interchange.version))
        for grp in interchange.groups:
            for transaction in grp.transactions:
                if transaction.set_id in SPECS:
                    found.append((SPECS[transaction.set_id], transaction.body, grp.version))
    return found


GOLDEN_SETS = [s for case in sorted(GOLDEN.glob("*/*/input.x12")) for s in mapped_sets(case.read_bytes())]
