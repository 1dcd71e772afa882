"""Golden cases: ``tests/golden/xml/<format>/<document>/<case>/{input.xml, canonical.json, rendered.xml}``.

``canonical.json`` is what reading ``input.xml`` must give; ``rendered.xml`` is what writing that
canonical document back must give (cXML with the input's own envelope), and reading it must give
the same canonical document. ``CROSSDOCK_UPDATE_GOLDEN=1`` rewrites the expected files: review the
diff before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from crossdock.adapters.xml import parse_xml, render_xml
from crossdock.mappings.cxml import read_cxml, write_cxml
from crossdock.mappings.ubl import read_ubl, write_ubl

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "xml"
CASES = sorted(path.parent for path in GOLDEN.glob("*/*/*/input.xml"))
UPDATE = os.environ.get("CROSSDOCK_UPDATE_GOLDEN") == "1"


def _read(fmt: str, data: bytes):
    document = parse_xml(data)
    if fmt == "cxml":
        result = read_cxml(document)
        return result.document, result.issues, result.envelope
    result = read_ubl(document)
    return result.document, result.issues, None


def _render(fmt: str, canonical, envelope) -> bytes:
    rendered, issues = write_cxml(canonical, envelope) if fmt == "cxml" else write_ubl(canonical)
    assert issues == []
    return render_xml(rendered)


def _check(path: Path, actual: bytes) -> None:
    if UPDATE:
        path.write_bytes(actual)
    assert path.is_file(), f"{path} is missing; run with CROSSDOCK_UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_bytes(), path


def test_there_are_golden_cases_for_both_formats() -> None:
    assert {case.relative_to(GOLDEN).parts[0] for case in CASES} == {"cxml", "ubl"}


@pytest.mark.parametrize("case", CASES, ids=lambda case: "/".join(case.relative_to(GOLDEN).parts))
def test_golden_case(case: Path) -> None:
    fmt = case.relative_to(GOLDEN).parts[0]
    canonical, issues, envelope = _read(fmt, (case / "input.xml").read_bytes())
    assert issues == []
    _check(case / "canonical.json", canonical.model_dump_json(indent=2, exclude_none=True).encode() + b"\n")
    rendered = _render(fmt, canonical, envelope)
    _check(case / "rendered.xml", rendered)
    again, issues, _ = _read(fmt, rendered)
    assert issues == [] and again == canonical
    assert json.loads((case / "canonical.json").read_bytes())["document_type"] == canonical.document_type
