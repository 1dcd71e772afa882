"""Golden cases: tests/golden/canonical/<set>/<case>/{input.x12, canonical.json, rendered.x12}.

``canonical.json`` holds the document and the issues; ``rendered.x12`` is the set rendered back
(one segment per line). ``CROSSDOCK_UPDATE_GOLDEN=1`` rewrites the expected files; review the
diff before committing. Each case also checks X12 -> canonical -> X12 -> canonical identity.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from crossdock.adapters.x12 import parse
from crossdock.mappings import from_canonical, to_canonical
from crossdock.schemas.x12.tree import Composite, Repeats, Segment, Transaction

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "canonical"
CASES = sorted(GOLDEN.glob("*/*/input.x12"))
UPDATE = os.environ.get("CROSSDOCK_UPDATE_GOLDEN") == "1"


def _element(value: object) -> str:
    if isinstance(value, Repeats):
        return "^".join(_element(v) for v in value)
    if isinstance(value, Composite):
        return ":".join(value)
    return str(value)


def render_text(transaction: Transaction) -> str:
    """One segment per line, ``*`` / ``:`` / ``^`` separators, ``~`` terminators."""
    return "".join("*".join((s.id, *(_element(e) for e in s.elements))) + "~\n" for s in transaction.segments)


def _source(case: Path) -> tuple[Transaction | Segment, str]:
    interchanges, _report = parse(case.read_bytes())
    (interchange,) = interchanges
    if not interchange.groups:
        (ta1,) = [s for s in interchange.control_segments if s.id == "TA1"]
        return ta1, interchange.version
    (group,) = interchange.groups
    (transaction,) = group.transactions
    return transaction, group.version


def _check(path: Path, text: str) -> None:
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with CROSSDOCK_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_golden_case(case: Path) -> None:
    source, version = _source(case)
    out_version = "005010" if version.startswith("005") or version.startswith("00501") else "004010"
    document, issues = to_canonical(source, version=version)
    assert document is not None, issues
    expected = {
        "document": document.model_dump(mode="json", exclude_defaults=True),
        "issues": [{"code": i.code, "loc": list(i.loc), "severity": i.severity, "input": i.input} for i in issues],
    }
    _check(case.parent / "canonical.json", json.dumps(expected, indent=2, ensure_ascii=False) + "\n")
    rendered, render_issues = from_canonical(document, version=out_version)
    assert render_issues == []
    _check(case.parent / "rendered.x12", render_text(rendered))
    again, _ = to_canonical(rendered.segments[0] if rendered.segments[0].id == "TA1" else rendered,
                            version=out_version)
    assert again == document
