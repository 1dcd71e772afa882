"""997/999/TA1 generation from validation reports, and pyx12's own maps as the referee.

pyx12's bundled 997 (004010) and 999 (005010X231A1) maps are HIPAA maps: they restrict AK101
(functional id) and AK201 (set id) to healthcare codes and identify segments by those codes, so
an AK1*PO is "segment not found" for them. The referee therefore runs twice:

* on acks answering a healthcare-flavoured group (GS01=HC, ST01=837) with the maps exactly as
  bundled: no error allowed;
* on every other ack (the golden set included) with a copy of the bundled maps whose only change
  is dropping those two code lists: no error allowed.
"""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from crossdock.adapters.x12.acks import ack_bytes, build_acks, functional_ack_type
from crossdock.adapters.x12.writer import CountingAllocator, serialize
from crossdock.schemas.x12.report import FileReport, GroupReport, InterchangeReport, SetReport, X12Error
from crossdock.schemas.x12.tree import Delimiters, Interchange, Segment

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "x12"


def _clock() -> datetime:
    return datetime(2024, 5, 6, 7, 8, 9)


def _isa(version: str = "00401", control: str = "000000123", ta1: str = "0") -> Segment:
    return Segment("ISA", (
        "00", " " * 10, "00", " " * 10, "ZZ", "BUYER".ljust(15), "01", "123456789".ljust(15),
        "240101", "1200", "U" if version < "00402" else "^", version, control, ta1, "P", ":",
    ))


def _gs(functional_id: str, control: str, version: str) -> Segment:
    return Segment("GS", (functional_id, "BUYERAPP", "HUBAPP", "20240101", "1200", control, "X", version))


def _interchange(
    groups: tuple[GroupReport, ...],
    *,
    version: str = "00401",
    status: str = "accepted",
    ta1_code: str | None = None,
    ta1_requested: bool = False,
    delimiters: Delimiters | None = Delimiters(),
    errors: tuple[X12Error, ...] = (),
) -> InterchangeReport:
    return InterchangeReport(
        sender=("ZZ", "BUYER"), receiver=("01", "123456789"), control_number="000000123", version=version,
        status=status, ta1_code=ta1_code, groups=groups, header=_isa(version, ta1="1" if ta1_requested else "0"),
        delimiters=delimiters, ta1_requested=ta1_requested, errors=errors,
    )


def _group(sets: tuple[SetReport, ...], status: str, *, version: str = "004010", fid: str = "PO",
           codes: tuple[str, ...] = (), declared: int | None = None) -> GroupReport:
    return GroupReport(fid, "17", version, status, codes, sets, header=_gs(fid, "17", version),
                       declared_count=len(sets) if declared is None else declared)


BROKEN_850 = SetReport("850", "0001", "R", (
    X12Error("segment", "3", "BEG missing", segment_id="BEG", segment_position=2),
    X12Error("element", "7", "bad unit", segment_id="PO1", segment_position=5, element_position=3,
             element_ref="355", loop_id="PO1", bad_value="X*Y~Z"),
    X12Error("element", "5", "too long", segment_id="PO1", segment_position=5, element_position=7,
             element_ref="234", loop_id="PO1", bad_value="A" * 150),
    X12Error("element", "12", "too many repetitions", segment_id="REF", segment_position=4, element_position=2,
             element_ref="127", repetition_position=3, code_999="12"),
    X12Error("segment", "2", "unexpected", segment_id="ZZZ", segment_position=6, code_999="I4"),
    X12Error("element", "1", "mandatory missing", segment_id="N1", segment_position=7, element_position=4,
             component_position=2, element_ref="67", loop_id="N1"),
    X12Error("set", "5", "segments in error"),
    X12Error("set", "NEAREST_VERSION", "a note without a 718 code", severity="warning"),
))
GOOD_850 = SetReport("850", "0002", "A")
NOTED_850 = SetReport("850", "0003", "E", (
    X12Error("element", "6", "invalid character", segment_id="MSG", segment_position=3, element_position=1,
             element_ref="933", bad_value="caf\u00e9", severity="warning"),
))


def _segments(tree: Interchange) -> list[str]:
    return serialize(tree).decode().split("~")[:-1]


def test_997_carries_segment_and_element_detail() -> None:
    report = _interchange((_group((BROKEN_850, GOOD_850, NOTED_850), "P"),))
    (reply,) = build_acks(report, allocator=CountingAllocator(start=5), clock=_clock)
    assert _segments(reply) == [
        "ISA*00*          *00*          *01*123456789      *ZZ*BUYER          *240506*0708*U*00401*000000005*0*P*:",
        "GS*FA*HUBAPP*BUYERAPP*20240506*0708*5*X*004010",
        "ST*997*0005",
        "AK1*PO*17",
        "AK2*850*0001",
        "AK3*BEG*2**3",
        "AK3*REF*4**8",
        "AK4*2*127*3",  # 004010 has no code 12: written as "too many data elements"
        "AK3*PO1*5*PO1*8",
        "AK4*3*355*7*XYZ",  # separators removed from the copy of the bad element
        "AK4*7*234*5*" + "A" * 99,
        "AK3*ZZZ*6**2",
        "AK3*N1*7*N1*8",
        "AK4*4:2*67*1",
        "AK5*R*5",
        "AK2*850*0002",
        "AK5*A",
        "AK2*850*0003",
        "AK3*MSG*3**8",
        "AK4*1*933*6*caf",  # non-ASCII dropped from the copy
        "AK5*E",
        "AK9*P*3*3*2",
        "SE*21*0005",
        "GE*1*5",
        "IEA*1*000000005",
    ]


def test_999_uses_its_own_codes_versions_and_repetition_position() -> None:
    sets = (BROKEN_850, SetReport("850", "0002", "A", implementation_ref="005010X000"))
    report = _interchange((_group(sets, "P", version="005010"),), version="00501")
    (reply,) = build_acks(report, allocator=CountingAllocator(), clock=_clock)
    assert _segments(reply)[:20] == [
        "ISA*00*          *00*          *01*123456789      *ZZ*BUYER          *240506*0708*^*00501*000000001*0*P*:",
        "GS*FA*HUBAPP*BUYERAPP*20240506*0708*1*X*005010X231A1",
        "ST*999*0001*005010X231A1",
        "AK1*PO*17*005010",
        "AK2*850*0001",
        "IK3*BEG*2**3",
        "IK3*REF*4**8",
        "IK4*2::3*127*12",
        "IK3*PO1*5*PO1*8",
        "IK4*3*355*7*XYZ",
        "IK4*7*234*5*" + "A" * 99,
        "IK3*ZZZ*6**I4",
        "IK3*N1*7*N1*8",
        "IK4*4:2*67*1",
        "IK5*R*5",
        "AK2*850*0002*005010X000",
        "IK5*A",
        "AK9*P*2*2*1",
        "SE*17*0001",
        "GE*1*1",
    ]


def test_group_codes_and_counts() -> None:
    group = _group((GOOD_850,), "R", codes=("5", "4", "19", "5"), declared=3)
    (reply,) = build_acks(_interchange((group,)), allocator=CountingAllocator(), clock=_clock)
    assert "AK9*R*3*1*0*5*4" in _segments(reply)  # 19 (duplicate GS06) is not in 004010's list
    (reply_999,) = build_acks(_interchange((group,)), allocator=CountingAllocator(), clock=_clock, ack_type="999")
    assert "AK9*R*3*1*0*5*4*19" in _segments(reply_999)


def _kinds(replies: tuple[Interchange, ...]) -> list[str]:
    kinds = []
    for tree in replies:
        kinds += [s.id for s in tree.control_segments]
        kinds += [t.set_id for g in tree.groups for t in g.transactions]
    return kinds


@pytest.mark.parametrize(
    ("status", "requested", "policy", "expected"),
    [
        ("accepted", False, "on_request", ["997"]),
        ("accepted", True, "on_request", ["TA1", "997"]),
        ("accepted", False, "always", ["TA1", "997"]),
        ("accepted", True, "never", ["997"]),
        ("rejected", False, "on_request", ["TA1"]),
        ("rejected", True, "always", ["TA1"]),
        ("rejected", False, "never", []),
    ],
)
def test_ta1_policy(status: str, requested: bool, policy: str, expected: list[str]) -> None:
    report = _interchange((_group((GOOD_850,), "A"),), status=status, ta1_requested=requested,
                          ta1_code="018" if status == "rejected" else None)
    replies = build_acks(report, allocator=CountingAllocator(), clock=_clock, ta1=policy)  # type: ignore[arg-type]
    assert _kinds(replies) == expected


def test_rejected_interchange_gets_a_ta1_with_its_note_code_and_echoed_values() -> None:
    report = _interchange((_group((GOOD_850,), "A"),), status="rejected", ta1_code="021")
    (reply,) = build_acks(report, allocator=CountingAllocator(start=9), clock=_clock)
    assert _segments(reply) == [
        "ISA*00*          *00*          *01*123456789      *ZZ*BUYER          *240506*0708*U*00401*000000009*0*P*:",
        "TA1*000000123*240101*1200*R*021",
        "IEA*0*000000009",
    ]


def test_accepted_with_warning_gives_ta1_e() -> None:
    warning = X12Error("interchange", "020", "test indicator noted", severity="warning")
    report = _interchange((), ta1_requested=True, errors=(warning,))
    (reply,) = build_acks(report, allocator=CountingAllocator(), clock=_clock)
    assert reply.control_segments == (Segment("TA1", ("000000123", "240101", "1200", "E", "020")),)


def test_unknown_isa_version_is_answered_in_00401() -> None:
    report = _interchange((), status="rejected", ta1_code="017", version="00999")
    (reply,) = build_acks(report, allocator=CountingAllocator(), clock=_clock)
    assert reply.header.get(12) == "00401"


def test_acknowledgements_are_not_acknowledged() -> None:
    fa = _group((SetReport("997", "0001", "A"),), "A", fid="FA")
    po = _group((GOOD_850,), "A")
    replies = build_acks(_interchange((fa, po)), allocator=CountingAllocator(), clock=_clock)
    assert _kinds(replies) == ["997"]
    assert build_acks(_interchange((fa,)), allocator=CountingAllocator(), clock=_clock) == ()


@pytest.mark.parametrize(
    ("version", "forced", "expected"),
    [("003040", "auto", "997"), ("004010VICS", "auto", "997"), ("005010", "auto", "999"),
     ("006020", "auto", "999"), ("", "auto", "997"), ("004010", "999", "999"), ("005010", "997", "997")],
)
def test_functional_ack_type(version: str, forced: str, expected: str) -> None:
    assert functional_ack_type(version, forced) == expected  # type: ignore[arg-type]


def test_forced_types_pick_matching_versions() -> None:
    report = _interchange((_group((GOOD_850,), "A", version="004010VICS"),))
    (as_999,) = build_acks(report, allocator=CountingAllocator(), clock=_clock, ack_type="999")
    assert (as_999.header.get(12), as_999.groups[0].version) == ("00501", "005010X231A1")
    assert as_999.header.get(11) == "^"  # a 00501 reply needs a repetition separator
    (as_997,) = build_acks(report, allocator=CountingAllocator(), clock=_clock)
    assert (as_997.header.get(12), as_997.groups[0].version) == ("00401", "004010")


def test_mixed_versions_in_one_interchange_give_one_reply_per_isa_version() -> None:
    report = _interchange((_group((GOOD_850,), "A"), _group((GOOD_850,), "A", version="005010")))
    replies = build_acks(report, allocator=CountingAllocator(), clock=_clock)
    assert [(r.header.get(12), r.groups[0].version) for r in replies] == [("00401", "004010"), ("00501", "005010X231A1")]


def test_reply_uses_inbound_delimiters_or_defaults_when_they_collide() -> None:
    odd = Delimiters("|", "\n", "}", None, "")
    file_report = FileReport("in.x12", (_interchange((_group((GOOD_850,), "A"),), delimiters=odd),))
    out = ack_bytes(file_report, allocator=CountingAllocator(), clock=_clock)
    assert out.decode().split("\n")[3] == "AK1|PO|17"
    broken = FileReport("in.x12", (_interchange((), status="rejected", ta1_code="004",
                                                delimiters=Delimiters("*", "*", ":", None)),))
    assert ack_bytes(broken, allocator=CountingAllocator(), clock=_clock).startswith(b"ISA*00*")


def test_file_without_isa_gets_no_reply() -> None:
    report = FileReport("junk.x12", error={"code": "ENVELOPE_INVALID", "message": "no ISA"})
    assert ack_bytes(report, allocator=CountingAllocator(), clock=_clock) == b""


# ----------------------------------------------------------------------------- pyx12 as referee


def _pyx12_map_dir(tmp: Path, widened: bool) -> Path:
    """pyx12's bundled maps, or a copy without the HIPAA-only AK101/AK201 code lists."""
    pyx12 = pytest.importorskip("pyx12")
    bundled = Path(pyx12.__file__).parent / "map"
    if not widened:
        return bundled
    target = tmp / "pyx12-map"
    if not target.exists():
        shutil.copytree(bundled, target)
        for name in ("997.4010.xml", "999.5010X231.A1.xml"):
            text = (target / name).read_text()
            for xid in ("AK101", "AK201"):
                text, count = re.subn(rf'(<element xid="{xid}">.*?)<valid_codes>.*?</valid_codes>', r"\1", text,
                                      count=1, flags=re.S)
                assert count == 1, (name, xid)
            (target / name).write_text(text)
    return target


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _errors(node: object) -> Iterator[object]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "errors" and value:
                yield from value
            else:
                yield from _errors(value)
    elif isinstance(node, list):
        for item in node:
            yield from _errors(item)


def pyx12_errors(x12: bytes, map_dir: Path, tmp: Path) -> list[object]:
    """Every error pyx12 reports (its JSON error tree plus anything it logs at ERROR)."""
    import pyx12.params
    import pyx12.x12n_document

    source = tmp / "ack.x12"
    source.write_bytes(x12)
    params = pyx12.params.ParamsBase()  # explicit params: never read ~/.pyx12.conf.xml
    params.set("charset", "E")
    out = io.StringIO()
    handler = _Records()
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    try:
        valid = pyx12.x12n_document.x12n_document(params, str(source), None, None, None, out, map_path=str(map_dir))
    finally:
        logger.removeHandler(handler)
    found = list(_errors(json.loads(out.getvalue()))) + handler.messages
    if not valid and not found:
        found.append("pyx12 returned invalid without details")
    return found


def _functional_only(replies: tuple[Interchange, ...]) -> bytes:
    return serialize([r for r in replies if r.groups])


def _sample_reports() -> list[InterchangeReport]:
    return [
        _interchange((_group((BROKEN_850, GOOD_850, NOTED_850), "P"),)),
        _interchange((_group((BROKEN_850,), "R", codes=("5",), declared=2),)),
        _interchange((_group((GOOD_850,), "A"),), ta1_requested=True),
        _interchange((_group((BROKEN_850, GOOD_850), "P", version="005010"),), version="00501"),
        _interchange((_group((GOOD_850,), "A", version="005010", codes=()),), version="00501",
                     delimiters=Delimiters("|", "\n", "}", "^")),
    ]


@pytest.mark.parametrize("index", range(len(_sample_reports())))
def test_generated_acks_pass_pyx12(index: int, tmp_path: Path) -> None:
    replies = build_acks(_sample_reports()[index], allocator=CountingAllocator(), clock=_clock)
    assert pyx12_errors(_functional_only(replies), _pyx12_map_dir(tmp_path, widened=True), tmp_path) == []


@pytest.mark.parametrize(("ack_type", "version", "isa"), [("997", "004010X098A1", "00401"), ("999", "005010X222A1", "00501")])
def test_healthcare_acks_pass_pyx12_bundled_maps_unchanged(ack_type: str, version: str, isa: str, tmp_path: Path) -> None:
    claim = SetReport("837", "0001", "R", BROKEN_850.errors)
    report = _interchange((_group((claim, SetReport("837", "0002", "A")), "P", version=version, fid="HC"),),
                          version=isa)
    replies = build_acks(report, allocator=CountingAllocator(), clock=_clock, ack_type=ack_type)  # type: ignore[arg-type]
    assert pyx12_errors(_functional_only(replies), _pyx12_map_dir(tmp_path, widened=False), tmp_path) == []


def test_pyx12_referee_catches_a_broken_ack(tmp_path: Path) -> None:
    replies = build_acks(_sample_reports()[0], allocator=CountingAllocator(), clock=_clock)
    broken = _functional_only(replies).replace(b"AK9*P*3*3*2", b"AK9*Q*3*3*2").replace(b"AK5*A~", b"AK5~")
    assert len(pyx12_errors(broken, _pyx12_map_dir(tmp_path, widened=True), tmp_path)) >= 2


def _golden_acks() -> list[Path]:
    return sorted(GOLDEN.glob("**/ack.x12"))


def _pyx12_can_read(reply: bytes) -> bool:
    """pyx12 maps exist for 997 in ISA 00401/GS08 004010 and 999 in ISA 00501/GS08 005010X231A1."""
    text = reply.decode("latin-1")
    return ("*00401*" in text[:110] and "*004010" in text) or ("*00501*" in text[:110] and "005010X231A1" in text)


def test_every_golden_functional_ack_passes_pyx12(tmp_path: Path) -> None:
    from crossdock.adapters.x12 import parse

    checked = 0
    map_dir = _pyx12_map_dir(tmp_path, widened=True)
    for path in _golden_acks():
        trees, _ = parse(path.read_bytes())
        for tree in trees:
            if not tree.groups:
                continue  # TA1-only interchanges: pyx12's control map requires a GS loop
            reply = serialize(tree)
            if not _pyx12_can_read(reply):
                continue
            assert pyx12_errors(reply, map_dir, tmp_path) == [], path.relative_to(GOLDEN)
            checked += 1
    assert checked >= 20, f"only {checked} golden functional acks were checked by pyx12"
