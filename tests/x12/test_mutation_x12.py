"""Robustness: mutated interchanges never crash the reader, and memory stays bounded.

Properties checked on every mutant (segments deleted, duplicated or swapped, counts changed,
delimiters flipped, truncation, random bytes inserted):

* :func:`validate`, :func:`parse` and :func:`read` return our report types or raise only our
  error types (``CrossdockError``);
* the verdict does not depend on the chunk size (streaming is exact);
* :func:`parse` and :func:`validate` agree.
"""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossdock.adapters.x12 import ReadOptions, parse, read, validate
from crossdock.schemas.errors import CrossdockError
from crossdock.schemas.x12.report import FileReport, InterchangeReport, SetReport
from crossdock.schemas.x12.tree import Segment


def _load_support():
    """``test_reader_support.py``, loaded by path (works with or without ``__init__.py``)."""
    name = "crossdock_reader_test_support"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("test_reader_support.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


S = _load_support()
SMALL_CHUNKS = ReadOptions(validator=S.CountingValidator, chunk_size=13)

GENERATED = [
    S.interchange(suffix="\n").encode(),
    S.interchange([S.group([S.st_set("0001"), S.st_set("0002")]),
                   S.group([S.st_set("0001")], number="2")], element="|", terminator="\n",
                  isa11="^", isa12="00501").encode(),
    (S.interchange(suffix="\r\n") + S.interchange(element="\x1d", terminator="\x1e",
                                                  isa13="000000002")).encode(),
    S.interchange([S.group([S.st_set(body=("BEG*00*SA*X**20240101", "PO1*1*2*EA*1>2^3",
                                            "CTT*1"))])], isa11="^", isa12="00501",
                  terminator="'").encode(),
]
#: small public samples mixed in when the corpus is present
CORPUS_SAMPLE = 12


def _corpus_bases() -> list[bytes]:
    # the same place as conftest's ``corpus_dir`` (a fixture cannot feed a strategy)
    corpus = Path(__file__).resolve().parent.parent.parent.parent / "shared" / "corpus" / "x12"
    if not corpus.is_dir():
        return []
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.stat().st_size < 4000)
    step = max(1, len(files) // CORPUS_SAMPLE)
    return [p.read_bytes() for p in files[::step]][:CORPUS_SAMPLE]


BASES = GENERATED + _corpus_bases()


def _terminator(data: bytes) -> bytes:
    start = data.find(b"ISA")
    return data[start + 105:start + 106] if start >= 0 and len(data) > start + 105 else b"~"


@st.composite
def mutants(draw) -> bytes:
    data = draw(st.sampled_from(BASES))
    for _ in range(draw(st.integers(1, 3))):
        terminator = _terminator(data)
        segments = data.split(terminator)
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "count", "flip",
                                     "truncate", "insert"]))
        i = draw(st.integers(0, max(0, len(segments) - 1)))
        j = draw(st.integers(0, max(0, len(segments) - 1)))
        if kind == "delete" and len(segments) > 1:
            del segments[i]
        elif kind == "duplicate":
            segments.insert(i, segments[i])
        elif kind == "swap":
            segments[i], segments[j] = segments[j], segments[i]
        elif kind == "count":
            fields = segments[i].split(segments[i][3:4] or b"*")
            if len(fields) > 1:
                fields[1] = str(draw(st.integers(0, 999))).encode()
                segments[i] = (segments[i][3:4] or b"*").join(fields)
        data = terminator.join(segments)
        if kind == "flip" and data:
            at = draw(st.integers(0, len(data) - 1))
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
        elif kind == "truncate":
            data = data[:draw(st.integers(0, len(data)))]
        elif kind == "insert":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return data


def _codes(report: FileReport):
    """The verdict without the latin-1 note, whose place depends on where chunks end."""
    summary = S.summary(report)
    if isinstance(summary, dict):
        return summary
    for ic in summary:
        ic["errors"] = [e for e in ic["errors"] if e[0] != "LATIN1_FALLBACK"]
    return summary


def _read_all(data: bytes, options: ReadOptions) -> list:
    try:
        return list(read(data, options))
    except CrossdockError as exc:
        return [exc.code]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutants())
def test_mutants_get_a_verdict_independent_of_chunking(data: bytes):
    report = validate(data, S.OPTIONS)
    assert isinstance(report, FileReport)
    assert all(isinstance(ic, InterchangeReport) for ic in report.interchanges)
    assert _codes(validate(data, SMALL_CHUNKS)) == _codes(report)
    trees, parsed = parse(data, S.OPTIONS)
    assert parsed == report
    assert len(trees) == len(report.interchanges)
    events = _read_all(data, S.OPTIONS)
    if report.error is not None:
        assert events[-1] == report.error["code"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutants())
def test_mutants_through_the_real_set_validator(data: bytes):
    """The same inputs through the definitions-based validator: only our types surface."""
    pytest.importorskip("crossdock.adapters.x12.validator")
    report = validate(data)
    assert isinstance(report, FileReport)
    for ic in report.interchanges:
        assert all(isinstance(t, SetReport) for g in ic.groups for t in g.transactions)
    _read_all(data, ReadOptions())


# --- bounded memory ---------------------------------------------------------------------------

LIN_LOOPS = 1_000_000  # about 50 MB
LOOP = b"LIN**UP*012345678905*VN*ABC-1234~\nQTY*33*100*EA~\n"


class _Huge846(io.RawIOBase):
    """A single-set 846 of ``loops`` LIN/QTY loops, produced while it is read (never whole)."""

    def __init__(self, loops: int) -> None:
        header = (S.isa(isa12="00401") + "\nGS*IB*SENDER*RECEIVER*20240101*1200*1*X*004010~\n"
                  "ST*846*0001~\nBIA*00*MM*INV-1*20240101~\n").encode()
        trailer = (f"SE*{2 * loops + 3}*0001~\nGE*1*1~\nIEA*1*000000001~\n").encode()
        self._parts = iter([header, *([LOOP * 1000] * (loops // 1000)), trailer])
        self._buffer = b""
        self.size = len(header) + len(LOOP) * loops + len(trailer)

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while len(self._buffer) < len(target):
            part = next(self._parts, None)
            if part is None:
                break
            self._buffer += part
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


class _RssSampler(S.CountingValidator):
    """Counts like :class:`CountingValidator` and samples the process RSS as segments pass."""

    peak = 0

    def feed(self, segment: Segment) -> None:
        super().feed(segment)
        if self._count % 100_000 == 0:
            _RssSampler.peak = max(_RssSampler.peak, _PROCESS.memory_info().rss)


_PROCESS = None


@pytest.mark.slow
def test_huge_single_set_streams_in_bounded_memory():
    global _PROCESS
    psutil = pytest.importorskip("psutil")
    _PROCESS = psutil.Process()
    before = _PROCESS.memory_info().rss
    _RssSampler.peak = before
    source = _Huge846(LIN_LOOPS)
    report = validate(io.BufferedReader(source, 1 << 16), ReadOptions(validator=_RssSampler))
    assert S.summary(report) == [{"status": "accepted", "ta1": None, "errors": [], "groups": [
        {"status": "A", "ak9": [], "sets": [("0001", "A", [])]}]}]
    assert report.interchanges[0].groups[0].transactions[0].segment_count == 2 * LIN_LOOPS + 3
    assert source.size > 45_000_000
    growth_mb = (_RssSampler.peak - before) / 1e6
    print(f"RSS growth while streaming {source.size / 1e6:.0f} MB: {growth_mb:.1f} MB")
    assert growth_mb < 60
