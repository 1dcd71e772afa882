"""Golden X12 cases: ``tests/golden/x12/<set>/<case>/{input.x12, validation.json, ack.x12}``.

Each case directory holds an input, the verdict ``crossdock validate --json`` gives for it
(``validation.json``, one file object) and the acknowledgements the hub sends back
(``ack.x12``, empty when none is due), built with a fixed clock and control numbers from 1.
An optional ``options.json`` holds ``ReadOptions`` fields for the case.

``CROSSDOCK_UPDATE_GOLDEN=1`` rewrites the expected files from the current code; review the
diff before committing it (the expected files are checked by hand, not blessed blindly).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from crossdock.adapters.x12.acks import ack_bytes
from crossdock.adapters.x12.writer import CountingAllocator

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "x12"
UPDATE = os.environ.get("CROSSDOCK_UPDATE_GOLDEN") == "1"
SETS = ("850", "855", "856", "810", "846", "852", "830", "860", "997", "999")
CASES = sorted(p.parent for p in GOLDEN.glob("**/input.x12"))


def golden_clock() -> datetime:
    return datetime(2024, 6, 1, 12, 30)


def _run(case: Path) -> tuple[dict[str, object], bytes]:
    from crossdock.adapters.x12 import ReadOptions, validate

    options_file = case / "options.json"
    options = ReadOptions(**json.loads(options_file.read_text())) if options_file.exists() else None
    name = case.relative_to(GOLDEN).as_posix()
    report = validate(case / "input.x12", options, path=name)
    ack = ack_bytes(report, allocator=CountingAllocator(), clock=golden_clock)
    return report.as_json(), ack


def _check(path: Path, actual: str | bytes) -> None:
    if UPDATE:
        path.write_bytes(actual if isinstance(actual, bytes) else actual.encode())
        return
    if not path.exists():
        pytest.fail(f"{path.relative_to(GOLDEN)} is missing: run with CROSSDOCK_UPDATE_GOLDEN=1 and review it")
    expected = path.read_bytes()
    if isinstance(actual, bytes):
        assert actual == expected
    else:
        # Compared as pretty-printed text so a failure shows the differing lines.
        assert actual == json.dumps(json.loads(expected), indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.relative_to(GOLDEN).as_posix() for c in CASES])
def test_golden_case(case: Path) -> None:
    verdict, ack = _run(case)
    _check(case / "validation.json", json.dumps(verdict, indent=2, ensure_ascii=False) + "\n")
    _check(case / "ack.x12", ack)


@pytest.mark.parametrize("case", CASES, ids=[c.relative_to(GOLDEN).as_posix() for c in CASES])
def test_golden_acks_are_accepted_by_our_own_reader(case: Path) -> None:
    from crossdock.adapters.x12 import validate

    ack = (case / "ack.x12").read_bytes() if (case / "ack.x12").exists() else b""
    if not ack:
        return  # nothing was due for this input (see the case's validation.json)
    report = validate(ack, path="ack.x12")
    assert report.accepted, json.dumps(report.as_json(), indent=1)


@pytest.mark.parametrize("set_id", SETS)
def test_every_set_has_valid_golden_cases_in_both_versions(set_id: str) -> None:
    versions = {"004010", "005010"} if set_id != "999" else {"005010"}  # no 999 before 005010
    present = {p.name.split("-")[0] for p in (GOLDEN / set_id).glob("*-valid")}
    assert versions <= present
    broken = [p for p in (GOLDEN / set_id).iterdir() if not p.name.endswith("-valid")]
    assert broken, f"{set_id} needs at least one broken case"
    for version in versions:
        verdict = json.loads((GOLDEN / set_id / f"{version}-valid" / "validation.json").read_text())
        statuses = {t["status"] for i in verdict["interchanges"] for g in i["groups"] for t in g["transactions"]}
        assert statuses == {"A"}, f"{set_id}/{version}-valid is not accepted"
