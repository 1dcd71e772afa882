"""The fast canonical JSON path writes exactly the bytes the pydantic path writes, or steps aside.

``jsonout.canonical_json(model, data)`` must return ``model.model_validate(data)
.model_dump_json(exclude_none=True)`` byte for byte, or ``None`` — never bytes for data pydantic
rejects. Checked on every golden case, every corpus X12 set, mutated sets, and mapped data whose
values are swapped for wrong types, empty strings, bad codes and awkward text. The generated
mapper itself is compared with the compiled one in ``test_x12_compiled.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from crossdock.gateway.cli import main
from crossdock.mappings.api import to_canonical, to_canonical_json
from crossdock.mappings.spec import DocumentSpec
from crossdock.mappings.x12.codegen import generate_inbound
from crossdock.mappings.x12.jsonout import canonical_json
from crossdock.schemas.errors import CrossdockError
from crossdock.schemas.x12.tree import Composite, Segment, Transaction
from x12sets import GOLDEN, GOLDEN_SETS, mapped_sets



def _pydantic_line(model: type[BaseModel], data: dict[str, Any]) -> bytes | None:
    try:
        return model.model_validate(data).model_dump_json(exclude_none=True).encode("utf-8")
    except ValidationError:
        return None


def _check(model: type[BaseModel], data: dict[str, Any]) -> bool:
    """Assert the fast line is the pydantic line or absent; returns whether the fast path vouched."""
    fast = canonical_json(model, data)
    if fast is not None:
        assert fast == _pydantic_line(model, data)
    return fast is not None


def _mapped(spec: DocumentSpec, body: tuple[Segment, ...], version: str) -> dict[str, Any]:
    return generate_inbound(spec, version).read(body)[0]


@pytest.mark.parametrize("spec, body, version", GOLDEN_SETS, ids=lambda v: getattr(v, "name", ""))
def test_golden_sets_write_the_same_bytes(spec: DocumentSpec, body: tuple[Segment, ...], version: str) -> None:
    data = _mapped(spec, body, version)
    # every golden case is a valid document: the fast path must vouch for all of them
    assert _check(spec.model, data)
    transaction = Transaction((Segment("ST", (spec.set_id, "1")), *body, Segment("SE", ("0", "1"))))
    document, issues = to_canonical(transaction, version=version, spec=spec)
    assert to_canonical_json(transaction, version=version, spec=spec) == (
        document.model_dump_json(exclude_none=True).encode("utf-8"), issues)
    assert to_canonical_json(transaction, version=version, spec=spec, strict=True)[0] == \
        to_canonical_json(transaction, version=version, spec=spec)[0]


def test_corpus_sets_write_the_same_bytes(corpus_dir: Path) -> None:
    valid = vouched = 0
    for path in sorted((corpus_dir / "x12").rglob("*")):
        if not path.is_file():
            continue
        try:
            sets = mapped_sets(path.read_bytes())
        except CrossdockError:  # broken files that do not parse at all are the reader's concern
            continue
        for spec, body, version in sets:
            data = _mapped(spec, body, version)
            vouched += _check(spec.model, data)
            valid += _pydantic_line(spec.model, data) is not None
    assert valid > 50
    # the fast path is the common path: it vouches for (nearly) every valid document
    assert vouched >= valid * 9 // 10


def _mutate(body: tuple[Segment, ...], data: st.DataObject) -> tuple[Segment, ...]:
    segments = list(body)
    for _ in range(data.draw(st.integers(0, 4))):
        if not segments:
            break
        at = data.draw(st.integers(0, len(segments) - 1))
        action = data.draw(st.sampled_from(["drop", "duplicate", "blank", "composite", "text"]))
        seg = segments[at]
        if action == "drop":
            del segments[at]
        elif action == "duplicate":
            segments.insert(at, seg)
        elif seg.elements:
            index = data.draw(st.integers(0, len(seg.elements) - 1))
            if action == "blank":
                value: Any = ""
            elif action == "composite":
                value = Composite((str(seg.elements[index]), "X"))
            else:
                value = data.draw(st.text(min_size=1, max_size=6))
            segments[at] = Segment(seg.id, seg.elements[:index] + (value,) + seg.elements[index + 1:])
    return tuple(segments)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_sets_write_the_same_bytes(data: st.DataObject) -> None:
    spec, body, version = data.draw(st.sampled_from(GOLDEN_SETS))
    mutated = _mutate(body, data)
    _check(spec.model, _mapped(spec, mutated, version))


_ODD_VALUES = st.one_of(
    st.none(), st.just(""), st.text(max_size=8), st.integers(-5, 5), st.booleans(),
    st.decimals(allow_nan=True, allow_infinity=True, places=2), st.just(Decimal("1E+3")),
    st.dates(), st.times(), st.just(dt.datetime(2024, 1, 2, 3, 4)), st.just([]), st.just({}),
    st.just(("a",)), st.just(1.5), st.sampled_from(["USD", "usd", "USD\n", "original", "gtin", "EA", "\x00\x1f\x7f\u2028é"]),
)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in mapped data a value sits (dict keys and list indexes)."""
    found = [at] if at else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, at + (key,)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, at + (index,)))
    return found


def _replaced(value: Any, at: tuple[Any, ...], new: Any) -> Any:
    if not at:
        return new
    if isinstance(value, dict):
        copy = dict(value)
        copy[at[0]] = _replaced(value[at[0]], at[1:], new)
        return copy
    copy_list = list(value)
    copy_list[at[0]] = _replaced(value[at[0]], at[1:], new)
    return copy_list


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_odd_values_write_the_same_bytes_or_fall_back(data: st.DataObject) -> None:
    spec, body, version = data.draw(st.sampled_from(GOLDEN_SETS))
    mapped = _mapped(spec, body, version)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.sampled_from(_paths(mapped)))
        if data.draw(st.booleans()) and isinstance(at[-1], str):
            mapped = _replaced(mapped, at[:-1], {k: v for k, v in _lookup(mapped, at[:-1]).items() if k != at[-1]})
        else:
            mapped = _replaced(mapped, at, data.draw(_ODD_VALUES))
    if data.draw(st.booleans()):
        mapped = {**mapped, data.draw(st.sampled_from(["unknown_field", "document_type", "schema_version"])):
                  data.draw(_ODD_VALUES)}
    _check(spec.model, mapped)


def _lookup(value: Any, at: tuple[Any, ...]) -> Any:
    for key in at:
        value = value[key]
    return value


def test_translate_strict_writes_the_same_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = 0
    for source in sorted(GOLDEN.glob("*/*/input.x12")):
        fast, strict = tmp_path / "fast.jsonl", tmp_path / "strict.jsonl"
        assert main(["translate", str(source), "--to", "canonical", "-o", str(fast)]) == \
            main(["translate", str(source), "--to", "canonical", "--strict", "-o", str(strict)])
        capsys.readouterr()
        assert fast.read_bytes() == strict.read_bytes(), source
        lines += fast.read_bytes().count(b"\n")
    assert lines >= 1


def test_threads_meeting_new_plans_at_once_each_get_a_whole_plan() -> None:
    """A worker's threads share a spec's generated code: plans first met by several threads at the
    same moment are written one at a time (their source lines are shared), so each thread maps
    exactly what one thread alone maps."""
    import sys
    import threading

    from crossdock.mappings.x12.codegen import GeneratedSpec
    from crossdock.mappings.x12.compiled import compile_inbound

    cases = [(spec, body, version) for spec, body, version in GOLDEN_SETS]
    expected = [GeneratedSpec(compile_inbound(spec, version)).read(body) for spec, body, version in cases]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(3):
            fresh = {}  # one new generated spec per (spec, version), shared by the threads: no plan exists yet
            for spec, _, version in cases:
                fresh.setdefault((spec.name, version), GeneratedSpec(compile_inbound(spec, version)))
            start, results, errors = threading.Barrier(8), {}, []

            def run(offset: int) -> None:
                start.wait()
                order = cases[offset:] + cases[:offset]
                try:
                    results[offset] = {id(body): fresh[(spec.name, version)].read(body)
                                       for spec, body, version in order}
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=run, args=(i % len(cases),)) for i in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
            for found in results.values():
                assert [found[id(body)] for _, body, _ in cases] == expected
    finally:
        sys.setswitchinterval(switch)
