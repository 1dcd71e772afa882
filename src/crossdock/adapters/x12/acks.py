"""Acknowledgements: the 997, 999 and TA1 a hub sends back, built from a validation report.

The report already carries the standard's code for every problem (see
:mod:`crossdock.schemas.x12.report`), so building a reply is a lookup, not a decision tree.
Policy, per inbound interchange:

=============================  ==========================  =====================================
inbound interchange            TA1                         997 / 999
=============================  ==========================  =====================================
rejected (envelope error)      R + its I18 note code,      none: its groups are not acknowledged
                               unless ``ta1="never"``
accepted, ISA14 = 1            A/000 (E + code when the    one set per functional group
                               interchange had warnings)
accepted, ISA14 = 0            only with ``ta1="always"``  one set per functional group
group GS01 = FA (997/999)      --                          none: acknowledgements are not acked
no readable ISA (file level)   none (nothing to reply to)  none
=============================  ==========================  =====================================

Which functional acknowledgement: ``ack_type="auto"`` sends a 997 for group versions before
005010 and a 999 from 005010 on; ``"997"``/``"999"`` force one (partner policy).

Envelopes: the reply swaps sender and receiver (ISA05/06 <-> ISA07/08, GS02 <-> GS03), reuses
the inbound delimiters (the defaults when those collide), takes ISA13/GS06/ST02 from the
allocator and dates/times from the clock. A TA1 travels alone in its own interchange, with the
inbound ISA12 (00401 when that version is not one we know). Functional acks travel in one
interchange per ISA version: a 997 keeps the inbound ISA12 and uses GS08 = the inbound group's
version (``004010VICS`` -> ``004010``); a 999 uses ISA12 ``00501`` (or the inbound one if later)
and GS08/ST03 ``005010X231A1``.

Detail: every set gets an AK2/AK5 (IK5); each segment with problems an AK3 (IK3) with its
position and loop, each element problem an AK4 (IK4) with its position, reference number,
code and a copy of the bad value (separators removed, 99 characters at most). Codes the reply's
version does not define are left out (the status still says R or E): before 004050 no AK9 code
names a duplicate GS06 (19 meant a missing security segment), so a 997 for such a group only
rejects it; a 997 for 004010 writes
element codes 12 and 13 (too many repetitions/components, added later) as 3 (too many data
elements). CTX segments are not written: our definitions carry no situational triggers or
business-unit identifiers for them to name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from crossdock.adapters.x12.envelope_codes import AK9_DUPLICATE_CONTROL_NUMBER, ak9_code_defined
from crossdock.adapters.x12.writer import (
    FIRST_VERSION_WITH_REPETITION,
    Clock,
    ControlNumberAllocator,
    build_group,
    build_interchange,
    build_transaction,
    check_delimiters,
    serialize,
)
from crossdock.schemas.errors import ConfigurationInvalid
from crossdock.schemas.x12.report import FileReport, GroupReport, InterchangeReport, SetReport, X12Error
from crossdock.schemas.x12.tree import (
    DEFAULT_DELIMITERS,
    Composite,
    Delimiters,
    Group,
    Interchange,
    Segment,
    Transaction,
    Value,
)

__all__ = ["AckType", "Ta1Policy", "ack_bytes", "build_acks", "functional_ack_type"]

AckType = Literal["auto", "997", "999"]
Ta1Policy = Literal["on_request", "always", "never"]

FUNCTIONAL_ACK_ID = "FA"
FIRST_999_GROUP_VERSION = "005010"
ACK_999_VERSION = "005010X231A1"
ISA_VERSION_999 = "00501"
FALLBACK_ISA_VERSION = "00401"
FALLBACK_GROUP_VERSION = "004010"
OLDEST_ISA_VERSION, NEWEST_ISA_VERSION = "00200", "00801"
ISA_DATE, ISA_TIME = 9, 10
GS_SENDER, GS_RECEIVER = 2, 3
TA1_ACCEPTED = "000"
#: used when a rejected interchange carries no note code: "invalid control structure"
TA1_FALLBACK_CODE = "022"
MAX_CODES = 5  # AK502-AK506, AK905-AK909
MAX_BAD_VALUE = 99  # AK404/IK404 maximum length
MAX_ELEMENT_NOTES = 99  # AK4/IK4 maximum use per segment note
SET_CODE_SEGMENTS_IN_ERROR = "5"
REPETITION_CANDIDATES = "^{}|!"

_RANGE = tuple(str(n) for n in range(1, 28))
#: the codes each acknowledgement element may carry, by ack type (X12 elements 715-723, 618-621)
AK304_CODES = frozenset(_RANGE[:8])
IK304_CODES = AK304_CODES | {"I4", "I6", "I7", "I8", "I9"}
AK403_CODES = frozenset(_RANGE[:10])
AK403_CODES_LATER = AK403_CODES | {"12", "13"}
IK403_CODES = frozenset(_RANGE[:13]) | {"I6", "I9", "I10", "I11", "I12", "I13"}
AK502_CODES = frozenset(_RANGE[:13]) | {"15", "16", "17", "23", "24", "25", "26", "27"}
IK502_CODES = AK502_CODES | {"18", "19", "I5", "I6"}
AK905_CODES = frozenset(_RANGE[:6]) | frozenset(_RANGE[9:18]) | {"23", "24", "25", "26"}
AK905_CODES_999 = AK905_CODES | {"19"}
#: element codes a 004010 997 lacks, written as "too many data elements"
AK403_OLDER_EQUIVALENT = {"12": "3", "13": "3"}


@dataclass(frozen=True, slots=True)
class _Style:
    """What differs between a 997 and a 999 reply."""

    set_id: str
    segment_note: str
    element_note: str
    set_trailer: str
    segment_codes: frozenset[str]
    element_codes: frozenset[str]
    set_codes: frozenset[str]
    group_codes: frozenset[str]

    @property
    def is_999(self) -> bool:
        return self.set_id == "999"


def _style(ack: Literal["997", "999"], group_version: str) -> _Style:
    if ack == "999":
        return _Style("999", "IK3", "IK4", "IK5", IK304_CODES, IK403_CODES, IK502_CODES, AK905_CODES_999)
    element_codes = AK403_CODES if group_version < FIRST_999_GROUP_VERSION else AK403_CODES_LATER
    # a 997 speaks the group's own release: code 19 names a duplicate GS06 only from 004050 on
    group_codes = AK905_CODES_999 if ak9_code_defined(AK9_DUPLICATE_CONTROL_NUMBER, group_version) else AK905_CODES
    return _Style("997", "AK3", "AK4", "AK5", AK304_CODES, element_codes, AK502_CODES, group_codes)


def functional_ack_type(group_version: str, ack_type: AckType = "auto") -> Literal["997", "999"]:
    """997 or 999 for a group of ``group_version`` (GS08) under the partner's ``ack_type``."""
    if ack_type != "auto":
        return ack_type
    return "999" if group_version[:6].isdigit() and group_version[:6] >= FIRST_999_GROUP_VERSION else "997"


# --------------------------------------------------------------------------- entry points


def build_acks(
    report: InterchangeReport,
    *,
    allocator: ControlNumberAllocator,
    clock: Clock,
    ack_type: AckType = "auto",
    ta1: Ta1Policy = "on_request",
) -> tuple[Interchange, ...]:
    """The acknowledgement interchanges for one inbound interchange (rules: module docstring).

    Args:
        report: the inbound interchange's verdict.
        allocator: control numbers for ISA13, GS06 and ST02 of the replies.
        clock: date and time of the replies' envelopes.
        ack_type: ``"auto"``, or force ``"997"``/``"999"``.
        ta1: ``"on_request"`` (ISA14 = 1 or a rejected interchange), ``"always"`` or ``"never"``.

    Returns:
        A TA1 interchange (when due), then the functional-ack interchange(s); empty when
        nothing is due.
    """
    delimiters = _reply_delimiters(report.delimiters)
    replies: list[Interchange] = []
    if _ta1_due(report, ta1):
        replies.append(_ta1_interchange(report, delimiters, allocator, clock))
    if report.status == "accepted":
        replies.extend(_functional_interchanges(report, delimiters, allocator, clock, ack_type))
    return tuple(replies)


def ack_bytes(
    file_report: FileReport,
    *,
    allocator: ControlNumberAllocator,
    clock: Clock,
    ack_type: AckType = "auto",
    ta1: Ta1Policy = "on_request",
) -> bytes:
    """Every acknowledgement for a file, serialized one interchange after another.

    Args:
        file_report: the file's verdict (a file with no readable ISA gets no reply).
        allocator, clock, ack_type, ta1: as for :func:`build_acks`.

    Returns:
        The X12 bytes, ``b""`` when nothing is due.
    """
    replies = [
        reply
        for report in file_report.interchanges
        for reply in build_acks(report, allocator=allocator, clock=clock, ack_type=ack_type, ta1=ta1)
    ]
    return serialize(replies) if replies else b""


# --------------------------------------------------------------------------- envelopes


def _reply_delimiters(inbound: Delimiters | None) -> Delimiters:
    if inbound is None:
        return DEFAULT_DELIMITERS
    try:
        check_delimiters(inbound)
    except ConfigurationInvalid:
        # The inbound set is unusable (e.g. terminator == element separator, TA1 004): answer
        # with the standard defaults so the partner can still read the rejection.
        return DEFAULT_DELIMITERS
    return inbound


def _with_repetition(delimiters: Delimiters, version: str) -> Delimiters:
    """00402+ replies need a repetition separator; pick one when the inbound set had none."""
    if version < FIRST_VERSION_WITH_REPETITION or delimiters.repetition is not None:
        return delimiters
    used = {delimiters.element, delimiters.segment, delimiters.component}
    spare = next(c for c in REPETITION_CANDIDATES if c not in used)
    return Delimiters(delimiters.element, delimiters.segment, delimiters.component, spare, delimiters.suffix)


def _known_isa_version(version: str) -> bool:
    return len(version) == 5 and version.isdigit() and OLDEST_ISA_VERSION <= version <= NEWEST_ISA_VERSION


def _reply_interchange(
    report: InterchangeReport,
    version: str,
    delimiters: Delimiters,
    allocator: ControlNumberAllocator,
    clock: Clock,
    groups: tuple[Group, ...] = (),
    control_segments: tuple[Segment, ...] = (),
) -> Interchange:
    """An interchange back to the sender: ids swapped, the inbound ISA15 kept."""
    return build_interchange(
        groups,
        sender=report.receiver,
        receiver=report.sender,
        version=version,
        allocator=allocator,
        clock=clock,
        usage=report.usage if report.usage in ("P", "T") else "P",
        delimiters=_with_repetition(delimiters, version),
        control_segments=control_segments,
    )


# --------------------------------------------------------------------------- TA1


def _ta1_due(report: InterchangeReport, policy: Ta1Policy) -> bool:
    if policy == "never":
        return False
    return policy == "always" or report.status == "rejected" or report.ta1_requested


def _ta1_interchange(
    report: InterchangeReport, delimiters: Delimiters, allocator: ControlNumberAllocator, clock: Clock
) -> Interchange:
    version = report.version if _known_isa_version(report.version) else FALLBACK_ISA_VERSION
    return _reply_interchange(
        report, version, delimiters, allocator, clock, control_segments=(_ta1_segment(report),)
    )


def _ta1_segment(report: InterchangeReport) -> Segment:
    """TA1*ISA13*ISA09*ISA10*A|E|R*note code, echoing the inbound values as received."""
    header = report.header
    sent_date = header.get(ISA_DATE).strip() if header else ""
    sent_time = header.get(ISA_TIME).strip() if header else ""
    if report.status == "rejected":
        status, note = "R", report.ta1_code or _first_interchange_code(report.errors, "error") or TA1_FALLBACK_CODE
    else:
        warning = _first_interchange_code(report.errors, "warning")
        status, note = ("E", warning) if warning else ("A", TA1_ACCEPTED)
    return Segment("TA1", (report.control_number, sent_date, sent_time, status, note))


def _first_interchange_code(errors: Iterable[X12Error], severity: str) -> str | None:
    return next((e.code for e in errors if e.level == "interchange" and e.severity == severity), None)


# --------------------------------------------------------------------------- 997 / 999


def _functional_interchanges(
    report: InterchangeReport,
    delimiters: Delimiters,
    allocator: ControlNumberAllocator,
    clock: Clock,
    ack_type: AckType,
) -> list[Interchange]:
    """One interchange per reply ISA version; within it one FA group per (set, GS08, GS02/03)."""
    by_isa: dict[str, dict[tuple[str, str, str, str], list[Transaction]]] = {}
    for group in report.groups:
        if group.functional_id == FUNCTIONAL_ACK_ID:
            continue
        ack = functional_ack_type(group.version, ack_type)
        isa_version, gs_version = _reply_versions(ack, report.version, group.version)
        style = _style(ack, group.version)
        transaction = build_transaction(
            style.set_id,
            _functional_ack_body(group, style, delimiters),
            allocator=allocator,
            implementation_ref=ACK_999_VERSION if style.is_999 else None,
        )
        app_sender, app_receiver = _application_ids(group, report)
        key = (style.set_id, gs_version, app_sender, app_receiver)
        by_isa.setdefault(isa_version, {}).setdefault(key, []).append(transaction)
    return [
        _reply_interchange(report, isa_version, delimiters, allocator, clock, groups=tuple(
            build_group(FUNCTIONAL_ACK_ID, sets, application_sender=app_sender, application_receiver=app_receiver,
                        version=gs_version, allocator=allocator, clock=clock)
            for (_, gs_version, app_sender, app_receiver), sets in groups.items()
        ))
        for isa_version, groups in by_isa.items()
    ]


def _reply_versions(ack: str, isa_version: str, group_version: str) -> tuple[str, str]:
    """(ISA12, GS08) of the reply interchange and group."""
    if ack == "999":
        later = _known_isa_version(isa_version) and isa_version > ISA_VERSION_999
        return (isa_version if later else ISA_VERSION_999), ACK_999_VERSION
    isa = isa_version if _known_isa_version(isa_version) else FALLBACK_ISA_VERSION
    gs = group_version[:6] if group_version[:6].isdigit() and len(group_version) >= 6 else FALLBACK_GROUP_VERSION
    return isa, gs


def _application_ids(group: GroupReport, report: InterchangeReport) -> tuple[str, str]:
    """Reply GS02/GS03: the inbound GS03/GS02 (the ISA ids when the GS was unreadable)."""
    if group.header is not None and group.header.get(GS_SENDER) and group.header.get(GS_RECEIVER):
        return group.header.get(GS_RECEIVER), group.header.get(GS_SENDER)
    return report.receiver[1], report.sender[1]


def _functional_ack_body(group: GroupReport, style: _Style, delimiters: Delimiters) -> list[Segment]:
    ak1 = [group.functional_id, group.control_number] + ([group.version] if style.is_999 else [])
    body = [_segment("AK1", *ak1)]
    for report in group.transactions:
        body.extend(_set_response(report, style, delimiters))
    body.append(_ak9(group, style))
    return body


def _set_response(report: SetReport, style: _Style, delimiters: Delimiters) -> list[Segment]:
    """AK2, the segment and element notes, AK5/IK5."""
    ak2 = [report.set_id, report.control_number] + ([report.implementation_ref or ""] if style.is_999 else [])
    segments = [_segment("AK2", *ak2)]
    has_notes = False
    for position_errors in _by_segment(report.errors):
        notes = _segment_notes(position_errors, style, delimiters)
        has_notes |= bool(notes)
        segments.extend(notes)
    codes = _codes([e.code_999 or e.code if style.is_999 else e.code for e in report.errors if e.level == "set"],
                   style.set_codes)
    if report.status == "R" and not codes and has_notes:
        codes = [SET_CODE_SEGMENTS_IN_ERROR]
    segments.append(_segment(style.set_trailer, report.status, *codes[:MAX_CODES]))
    return segments


def _by_segment(errors: Iterable[X12Error]) -> list[list[X12Error]]:
    """Segment- and element-level errors that have a position, grouped by segment, in order."""
    grouped: dict[int, list[X12Error]] = {}
    for error in errors:
        if error.level in ("segment", "element") and error.segment_position is not None and error.segment_id:
            grouped.setdefault(error.segment_position, []).append(error)
    return [grouped[position] for position in sorted(grouped)]


def _segment_notes(errors: list[X12Error], style: _Style, delimiters: Delimiters) -> list[Segment]:
    """AK3 (IK3) per segment-level code, or one with code 8 when only elements are wrong; then AK4s."""
    first = errors[0]
    loop = first.loop_id if first.loop_id and len(first.loop_id) <= 4 and first.loop_id.isalnum() else ""
    segment_codes = _codes([_code_for(e, style) for e in errors if e.level == "segment"], style.segment_codes)
    element_notes = [
        note for e in errors if e.level == "element" and (note := _element_note(e, style, delimiters))
    ][:MAX_ELEMENT_NOTES]
    if not segment_codes and element_notes:
        segment_codes = ["8"]  # "segment has data element errors"
    notes = [_segment(style.segment_note, first.segment_id, str(first.segment_position), loop, code)
             for code in segment_codes]
    return notes + element_notes if notes else []


def _element_note(error: X12Error, style: _Style, delimiters: Delimiters) -> Segment | None:
    if error.element_position is None:
        return None
    code = _code_for(error, style)
    if not style.is_999 and code not in style.element_codes:
        code = AK403_OLDER_EQUIVALENT.get(code, code)
    if code not in style.element_codes:
        return None
    position: Value = str(error.element_position)
    if error.component_position or (style.is_999 and error.repetition_position):
        parts = [position, str(error.component_position or "")]
        if style.is_999 and error.repetition_position:
            parts.append(str(error.repetition_position))
        position = Composite(parts)
    reference = error.element_ref if error.element_ref and error.element_ref.isdigit() else ""
    return _segment(style.element_note, position, reference, code, _bad_copy(error.bad_value, delimiters))


def _bad_copy(value: str | None, delimiters: Delimiters) -> str:
    """The bad value as AK404 may carry it: printable ASCII without separators, 99 characters at most.

    Non-ASCII characters are dropped: the reply must stay readable in the basic and extended
    X12 character sets whatever the inbound encoding was.
    """
    if not value:
        return ""
    separators = {delimiters.element, delimiters.segment, delimiters.component, delimiters.repetition}
    cleaned = "".join(c for c in value if c not in separators and c.isascii() and c.isprintable())
    return cleaned.strip()[:MAX_BAD_VALUE].strip()


def _ak9(group: GroupReport, style: _Style) -> Segment:
    included = group.declared_count if group.declared_count is not None else group.received_count
    group_codes = list(group.ak9_codes) + [e.code for e in group.errors if e.level == "group"]
    codes = _codes(group_codes, style.group_codes)
    # A rejected group accepts none of its sets, whatever each set's own verdict (AK5) says.
    accepted = 0 if group.status == "R" else group.accepted_count
    return _segment(
        "AK9", group.status, str(included), str(group.received_count), str(accepted), *codes[:MAX_CODES],
    )


def _code_for(error: X12Error, style: _Style) -> str:
    return (error.code_999 or error.code) if style.is_999 else error.code


def _codes(codes: Iterable[str], allowed: frozenset[str]) -> list[str]:
    """Distinct codes the reply may carry, in first-seen order."""
    return list(dict.fromkeys(c for c in codes if c in allowed))


def _segment(segment_id: str, *elements: Value) -> Segment:
    """A segment with trailing empty elements dropped (the tree's contract)."""
    values = list(elements)
    while values and values[-1] == "":
        values.pop()
    return Segment(segment_id, tuple(values))
