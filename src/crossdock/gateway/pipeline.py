"""The one module that calls the codecs and mappings: bytes → sets + issues → documents → bytes.

Stages never import an adapter or a mapping directly; when a codec's API changes, only this module
changes. Everything here is pure (no database, no clock of its own: clocks and control-number
allocators are passed in).

=====================  =====================================================================
function               calls
=====================  =====================================================================
:func:`detect`         ``crossdock.adapters.sniff.sniff`` + the declared ``Content-Type``
:func:`read_x12`       ``crossdock.adapters.x12.read`` (sets and interchange verdicts, one pass)
:func:`map_set`        ``crossdock.mappings.to_canonical``
:func:`read_documents` ``adapters.json.read_canonical``; ``adapters.xml.parse_xml`` +
                       ``mappings.cxml.read_cxml`` / ``mappings.ubl.read_ubl`` /
                       ``mappings.oagis.read_oagis``
:func:`build_acks`     ``crossdock.adapters.x12.acks.build_acks`` + ``writer.serialize``
:func:`render`         ``crossdock.mappings.from_canonical`` + envelope builders + ``serialize``;
                       ``write_cxml`` / ``write_ubl`` + ``render_xml``
:func:`ack_results`    reads AK1/AK9 of an inbound 997/999 (for acks we await)
=====================  =====================================================================
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from crossdock.adapters.sniff import sniff
from crossdock.adapters.x12 import ReadOptions, SetUnit, read
from crossdock.adapters.x12.acks import build_acks as build_ack_trees
from crossdock.adapters.x12.writer import build_group, build_interchange, build_transaction, serialize
from crossdock.adapters.json import load_json, read_canonical, validate_canonical
from crossdock.adapters.xml import parse_xml, render_xml
from crossdock.schemas.canonical import document_adapter
from crossdock.schemas.errors import CrossdockError, InputRejected, Issue, MappingRuleFailed, has_errors
from crossdock.schemas.x12.report import InterchangeReport, SetReport
from crossdock.schemas.x12.tree import Delimiters, Segment, Transaction

__all__ = [
    "Detected",
    "ContentTypeMismatch",
    "DocumentUnsupported",
    "GroupView",
    "InterchangeView",
    "SetView",
    "X12Reading",
    "MappedDocument",
    "DocumentReading",
    "RenderedInterchange",
    "Rendered",
    "OutboundEnvelope",
    "SET_DOCUMENT_TYPES",
    "FORMAT_FAMILIES",
    "HUB_CXML_DOMAIN",
    "detect",
    "read_x12",
    "map_set",
    "read_documents",
    "build_acks",
    "rejection_ta1",
    "render",
    "ack_results",
    "issue_json",
]

#: X12 set id → canonical document type.
SET_DOCUMENT_TYPES: dict[str, str] = {
    "850": "purchase_order",
    "855": "order_response",
    "856": "ship_notice",
    "810": "invoice",
    "846": "inventory_report",
    "852": "product_activity",
    "830": "planning_schedule",
    "860": "order_change",
    "997": "functional_ack",
    "999": "functional_ack",
}
#: canonical document type → (X12 set id, GS01 functional id) for outbound X12.
OUTBOUND_SETS: dict[str, tuple[str, str]] = {
    "purchase_order": ("850", "PO"),
    "order_response": ("855", "PR"),
    "ship_notice": ("856", "SH"),
    "invoice": ("810", "IN"),
    "inventory_report": ("846", "IB"),
    "product_activity": ("852", "PD"),
    "planning_schedule": ("830", "PS"),
    "order_change": ("860", "PC"),
}
#: outbound format (agreement) → the message format family it is stored as
FORMAT_FAMILIES: dict[str, str] = {"x12": "x12", "canonical_json": "json", "cxml": "xml", "ubl": "xml"}
#: the credential domain of our own cXML identity (From/Sender), next to ``hub_isa_id``
HUB_CXML_DOMAIN = "NetworkId"
_FAMILIES = {"x12": "x12", "cxml": "xml", "ubl": "xml", "oagis": "xml", "gs1": "xml", "xml": "xml"}
_DECLARED = {
    "application/edi-x12": "x12",
    "application/edi": "x12",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/json": "json",
    "application/x-ndjson": "json",
    "application/jsonl": "json",
}
#: ISA12 for outbound envelopes per GS08 version
_ISA_VERSION = {"004010": "00401", "005010": "00501"}
#: AK9/IK9 01 acknowledgement code → ack status
_AK9_STATUS = {"A": "accepted", "E": "accepted", "P": "partially_accepted", "R": "rejected",
               "M": "rejected", "W": "rejected", "X": "rejected"}
AK1_GROUP_CONTROL = 2
AK9_STATUS = 1
#: ISA01..ISA04 (authorization and security), 0-based positions in the ISA elements
ISA_AUTHORIZATION_FIELDS = slice(0, 4)
#: widths of ISA01..ISA04
_ISA_AUTH_WIDTHS = (2, 10, 2, 10)
#: overrides converted once per distinct agreement text (the registry memoizes per object)
_OVERRIDE_CACHE_SIZE = 64


class ContentTypeMismatch(InputRejected):
    """The declared ``Content-Type`` contradicts the content (HTTP 415)."""

    code = "CONTENT_TYPE_MISMATCH"


class DocumentUnsupported(InputRejected):
    """The format is recognised but no mapping reads this document."""

    code = "DOCUMENT_UNSUPPORTED"


@dataclass(frozen=True, slots=True)
class Detected:
    """Format family (``x12``, ``xml``, ``json``, ``unknown``) and the sniffed kind."""

    family: str
    kind: str | None


def detect(data: bytes, content_type: str | None) -> Detected:
    """Sniff the content; honour a declared type only as a check.

    Args:
        data: the raw bytes.
        content_type: the declared media type (parameters ignored), or None.

    Returns:
        The detected format.

    Raises:
        EncodingUnsupported: UTF-16/32, EBCDIC.
        FormatUnknown: neither X12, XML nor JSON.
        ContentTypeMismatch: the declared type names another family.
    """
    sniffed = sniff(data)
    family = _FAMILIES.get(sniffed.format, "json")
    declared_family = _DECLARED.get((content_type or "").split(";")[0].strip().lower())
    if declared_family is not None and declared_family != family:
        raise ContentTypeMismatch(
            f"Content-Type {content_type.split(';')[0].strip()} declares {declared_family} "
            f"but the content is {family}"
        )
    return Detected(family, sniffed.format)


# ----------------------------------------------------------------------------------- X12 in


@dataclass(frozen=True, slots=True)
class SetView:
    position: int
    interchange_position: int
    group_position: int
    set_id: str
    control_number: str
    status: str
    errors: tuple[dict[str, Any], ...]
    unit: Any = field(repr=False)


@dataclass(frozen=True, slots=True)
class GroupView:
    position: int
    functional_id: str
    control_number: str
    version: str
    status: str
    ak9_codes: tuple[str, ...]
    application_sender: str


@dataclass(frozen=True, slots=True)
class InterchangeView:
    position: int
    sender: tuple[str, str]
    receiver: tuple[str, str]
    control_number: str
    version: str
    usage: str
    status: str
    ta1_code: str | None
    groups: tuple[GroupView, ...]
    report: InterchangeReport = field(repr=False)


@dataclass(frozen=True, slots=True)
class X12Reading:
    interchanges: tuple[InterchangeView, ...]
    sets: tuple[SetView, ...]
    error: CrossdockError | None = None


def read_x12(data: bytes, *, charset: str | None = None) -> X12Reading:
    """Read every interchange, group and set with its verdict, in one pass.

    Args:
        data: the raw bytes of a message.
        charset: the sender's agreed X12 character set (``basic``, ``extended``, ``utf8``);
            characters outside it are element errors (AK4/IK4 6). None: the reader's default.

    Returns:
        The sets (with trees, for mapping) and the interchange verdicts (for acks). A file with
        no readable interchange gives ``error`` and nothing else.
    """
    sets: list[SetView] = []
    interchanges: list[InterchangeView] = []
    try:
        for item in read(data, ReadOptions(charset=charset) if charset else None):
            if isinstance(item, SetUnit):
                sets.append(_set_view(len(sets), item))
            else:
                interchanges.append(_interchange_view(len(interchanges), item))
    except InputRejected as exc:
        if not interchanges:
            return X12Reading((), (), exc)
    return X12Reading(tuple(interchanges), tuple(sets))


def _set_view(position: int, unit) -> SetView:
    report: SetReport = unit.report
    errors = tuple(e.as_json() for e in report.errors if e.severity == "error")
    return SetView(position, unit.interchange_index, unit.group_index, report.set_id or unit.transaction.set_id,
                   report.control_number, report.status, errors, unit)


def _interchange_view(position: int, report: InterchangeReport) -> InterchangeView:
    groups = tuple(
        GroupView(index, g.functional_id, g.control_number, g.version, g.status, tuple(g.ak9_codes),
                  g.header.get(2) if g.header is not None else "")
        for index, g in enumerate(report.groups)
    )
    return InterchangeView(position, report.sender, report.receiver, report.control_number, report.version,
                           report.usage, report.status, report.ta1_code, groups, report)


# ----------------------------------------------------------------------------- documents


@dataclass(frozen=True, slots=True)
class MappedDocument:
    """One canonical document (or the reason there is none).

    Attributes:
        position: order within the message (the set position for X12).
        document_type: canonical type, e.g. ``purchase_order``.
        body: canonical JSON, None when mapping failed.
        keys: business keys as (name, value) pairs, for search and links.
        issues: mapping issues (errors make the document ``mapping_failed``).
        model: the canonical model ``body`` was written from (the effects read it instead of
            validating ``body`` again), None when there is none.
    """

    position: int
    document_type: str
    body: str | None
    keys: tuple[tuple[str, str], ...] = ()
    issues: tuple[Issue, ...] = ()
    model: Any = field(default=None, compare=False, repr=False)


def map_set(view: SetView, overrides: Sequence[Mapping[str, Any]] = ()) -> MappedDocument:
    """Map one accepted X12 set to its canonical document.

    Args:
        view: the set.
        overrides: the sender agreement's mapping overrides (:mod:`crossdock.mappings.overrides` dicts).

    Returns:
        The document, or the issues saying why there is none.
    """
    from crossdock.mappings import to_canonical

    document_type = SET_DOCUMENT_TYPES.get(view.set_id, f"x12_{view.set_id}")
    version = view.unit.group_header.get(8)[:6] or "004010"
    try:
        document, issues = to_canonical(view.unit, version=version, overrides=spec_overrides(overrides))
    except CrossdockError as exc:
        return MappedDocument(view.position, document_type, None, (),
                              (Issue(exc.code, exc.message, ("ST", view.control_number)),))
    if document is None:
        return MappedDocument(view.position, document_type, None, (), tuple(issues))
    return _mapped(view.position, document, issues)


def spec_overrides(overrides: Sequence[Mapping[str, Any]]) -> tuple:
    """Agreement override dicts as ``SpecOverride`` objects (the same objects for the same text).

    Raises:
        SpecInvalid: an override is malformed (agreements are validated when saved, so rarely).
    """
    if not overrides:
        return ()
    return _overrides_from_json(json.dumps(list(overrides), sort_keys=True))


@lru_cache(maxsize=_OVERRIDE_CACHE_SIZE)
def _overrides_from_json(text: str) -> tuple:
    from crossdock.mappings import override_from_dict

    return tuple(override_from_dict(item) for item in json.loads(text))


def _mapped(position: int, document, issues: Iterable[Issue]) -> MappedDocument:
    body = document.model_dump_json(exclude_none=True)
    return MappedDocument(position, document.document_type, body, _keys(document), tuple(issues), document)


def _keys(document) -> tuple[tuple[str, str], ...]:
    raw = getattr(document, "business_keys", None)
    if callable(raw):
        raw = raw()
    if raw is None:
        return ()
    items = raw.items() if hasattr(raw, "items") else raw
    pairs: list[tuple[str, str]] = []
    for name, value in items:
        values = value if isinstance(value, (list, tuple, set, frozenset)) else (value,)
        pairs.extend((str(name), str(v)[:120]) for v in values if v not in (None, ""))
    return tuple(dict.fromkeys(pairs))


@dataclass(frozen=True, slots=True)
class DocumentReading:
    """The documents of one XML/JSON message.

    Attributes:
        documents: one per document, in order (failed ones carry their issues).
        sender: the cXML ``Header/Sender`` credential as ``"domain:identity"`` (the partner
            identity it claims), None for other formats.
    """

    documents: tuple[MappedDocument, ...]
    sender: str | None = None


def read_documents(data: bytes, detected: Detected) -> DocumentReading:
    """Read a non-X12 message (canonical JSON / JSON Lines, cXML, UBL, OAGIS) into canonical documents.

    Raises:
        InputRejected: the bytes are refused by the hardened codec (``XML_*``, ``JSON_*``).
        DocumentUnsupported: no mapping for this kind.
    """
    if detected.kind == "canonical-json":
        return DocumentReading(_canonical_json(data))
    if detected.kind == "cxml":
        return _cxml_documents(data)
    if detected.kind == "ubl":
        from crossdock.mappings.ubl import read_ubl

        result = read_ubl(parse_xml(data))
        return DocumentReading((_document_or_failure(0, f"ubl:{result.root}", result.document, result.issues),))
    if detected.kind == "oagis":
        from crossdock.mappings.oagis import read_oagis

        result = read_oagis(parse_xml(data))
        return DocumentReading((_document_or_failure(0, f"oagis:{result.root}", result.document, result.issues),))
    raise DocumentUnsupported(f"no mapping reads {detected.kind} documents")


def _canonical_json(data: bytes) -> tuple[MappedDocument, ...]:
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"[") or _is_json_lines(stripped):
        results = list(read_canonical(data))
    else:
        results = [validate_canonical(load_json(data))]
    return tuple(_document_or_failure(position, "unknown", document, issues)
                 for position, (document, issues) in enumerate(results))


def _is_json_lines(data: bytes) -> bool:
    lines = [line.strip() for line in data.strip().splitlines() if line.strip()]
    return len(lines) > 1 and all(line.startswith(b"{") and line.endswith(b"}") for line in lines)


def _cxml_documents(data: bytes) -> DocumentReading:
    from crossdock.mappings.cxml import read_cxml

    result = read_cxml(parse_xml(data))
    credential = result.envelope.sender_credential if result.envelope else None
    sender = f"{credential.domain}:{credential.identity}" if credential else None
    document = _document_or_failure(0, f"cxml:{result.message or 'unknown'}", result.document, result.issues)
    return DocumentReading((document,), sender)


def _document_or_failure(position: int, kind: str, document, issues: Iterable[Issue]) -> MappedDocument:
    issues = tuple(issues)
    if document is None:
        return MappedDocument(position, kind, None, (), issues)
    return _mapped(position, document, issues)


def issue_json(issue: Issue) -> dict[str, Any]:
    return {"code": issue.code, "msg": issue.msg, "loc": list(issue.loc), "severity": issue.severity}


# ------------------------------------------------------------------------------- X12 out


@dataclass(frozen=True, slots=True)
class RenderedInterchange:
    """One interchange we send: its bytes and what tracking needs.

    Attributes:
        kind: ``997``, ``999``, ``TA1`` or the set id of a rendered document.
        payload: the X12 bytes.
        control_number: ISA13.
        groups: (functional id, GS06) of each group.
        status: for acks, the verdict it carries (accepted / partially_accepted / rejected).
    """

    kind: str
    payload: bytes
    control_number: str
    groups: tuple[tuple[str, str], ...] = ()
    status: str | None = None


def build_acks(report: InterchangeReport, *, allocator, clock: Callable[[], datetime], ack_type: str,
               ta1: str) -> list[RenderedInterchange]:
    """The TA1/997/999 interchanges answering one inbound interchange.

    Args:
        report: the interchange's verdict.
        allocator: durable control numbers for the partner (``next(kind)``).
        clock: now, for envelope dates.
        ack_type: ``auto``, ``997``, ``999`` or ``none`` (TA1 only, per policy).
        ta1: ``on_request``, ``always`` or ``never``.

    Returns:
        Rendered acks, possibly none.
    """
    if ack_type == "none":
        report = replace(report, groups=())
        if ta1 == "on_request" and not (report.ta1_requested or report.status == "rejected"):
            return []
    trees = build_ack_trees(report, allocator=allocator, clock=clock, ack_type="auto" if ack_type == "none" else ack_type,
                  ta1=ta1)
    out: list[RenderedInterchange] = []
    for tree in trees:
        if not tree.groups:
            out.append(RenderedInterchange("TA1", serialize(tree), tree.control_number, (),
                                           "accepted" if report.status == "accepted" else "rejected"))
            continue
        sets = [s for g in tree.groups for s in g.transactions]
        kind = sets[0].set_id if sets else "997"
        out.append(RenderedInterchange(kind, serialize(tree), tree.control_number,
                                       tuple((g.functional_id, g.control_number) for g in tree.groups),
                                       _combine([_ack9_status(s) for s in sets])))
    return out


def rejection_ta1(report: InterchangeReport, note: str, *, allocator, clock) -> list[RenderedInterchange]:
    """A TA1 R/``note`` for an interchange refused as a whole (025 duplicate, 008 receiver unknown)."""
    rejected = replace(report, status="rejected", ta1_code=note, groups=())
    return build_acks(rejected, allocator=allocator, clock=clock, ack_type="none", ta1="always")


def _ack9_status(transaction: Transaction) -> str:
    for segment in reversed(transaction.segments):
        if segment.id in ("AK9", "IK9"):
            return _AK9_STATUS.get(segment.get(AK9_STATUS), "rejected")
    return "accepted"


def _combine(statuses: Sequence[str]) -> str:
    if not statuses or all(s == "accepted" for s in statuses):
        return "accepted"
    if all(s == "rejected" for s in statuses):
        return "rejected"
    return "partially_accepted"


def ack_results(view: SetView) -> list[tuple[str, str, str]]:
    """(functional id, GS06, status) acknowledged by an inbound 997/999 set."""
    results: list[tuple[str, str, str]] = []
    current: tuple[str, str] | None = None
    for segment in view.unit.transaction.segments:
        if segment.id == "AK1":
            current = (segment.get(1), segment.get(AK1_GROUP_CONTROL).lstrip("0") or "0")
        elif segment.id == "AK9" and current is not None:
            results.append((*current, _AK9_STATUS.get(segment.get(AK9_STATUS), "rejected")))
            current = None
    return results


@dataclass(frozen=True, slots=True)
class OutboundEnvelope:
    """Agreement values for the ISA of what we send a partner (sender/receiver are passed apart).

    Attributes:
        authorization: (ISA01 qualifier, ISA02).
        security: (ISA03 qualifier, ISA04).
        ack_requested: ISA14.
        delimiters: element, segment, component and repetition separators.
    """

    authorization: tuple[str, str] = ("00", "")
    security: tuple[str, str] = ("00", "")
    ack_requested: bool = False
    delimiters: Delimiters = field(default_factory=Delimiters)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A document rendered for a partner."""

    payload: bytes
    content_type: str
    kind: str
    control_number: str | None = None
    groups: tuple[tuple[str, str], ...] = ()


def render(body: str, document_type: str, *, fmt: str, version: str, sender: tuple[str, str],
           receiver: tuple[str, str], allocator, clock, usage: str = "P", payload_id: str = "",
           envelope: OutboundEnvelope | None = None, overrides: Sequence[Mapping[str, Any]] = ()) -> Rendered:
    """Render one canonical document in a partner's format.

    Args:
        body: canonical JSON.
        document_type: canonical type.
        fmt: ``x12``, ``canonical_json``, ``cxml`` or ``ubl``.
        version: X12 version (``004010``/``005010``).
        sender: our address: ISA (qualifier, id), or cXML (domain, identity).
        receiver: the partner's address in the same form.
        allocator: durable control numbers for the partner (X12 only).
        clock: now.
        usage: ISA15 (X12); ``T`` also marks cXML ``deploymentMode="test"``.
        payload_id: a stable id of this rendering (the cXML ``payloadID`` is built from it).
        envelope: ISA authorization/security, ISA14 and delimiters (X12 only; default ours).
        overrides: the agreement's mapping overrides (X12 only).

    Returns:
        The bytes to deliver.

    Raises:
        MappingRuleFailed: the document cannot be rendered (issues as the reason).
    """
    if fmt == "canonical_json":
        return Rendered(body.encode("utf-8"), "application/json", document_type)
    document = document_adapter().validate_json(body)
    if fmt == "cxml":
        return _render_cxml(document, sender, receiver, clock, usage, payload_id)
    if fmt == "ubl":
        from crossdock.mappings.ubl import write_ubl

        tree, issues = write_ubl(document)
        _raise_on_errors(issues, document_type, "UBL")
        return Rendered(render_xml(tree), "application/xml", "ubl")
    return _render_x12(document, version, sender, receiver, allocator, clock, usage,
                       envelope or OutboundEnvelope(), spec_overrides(overrides))


def _render_x12(document, version: str, sender: tuple[str, str], receiver: tuple[str, str], allocator, clock,
                usage: str, envelope: OutboundEnvelope, overrides: tuple) -> Rendered:
    from crossdock.mappings import from_canonical

    if document.document_type not in OUTBOUND_SETS:
        raise MappingRuleFailed(f"{document.document_type} cannot be sent as X12", code="RENDER_UNSUPPORTED")
    set_id, functional_id = OUTBOUND_SETS[document.document_type]
    transaction, issues = from_canonical(document, version=version, overrides=overrides)
    _raise_on_errors(issues, document.document_type, "X12")
    st = build_transaction(set_id, transaction.body, allocator=allocator)
    group = build_group(functional_id, (st,), application_sender=sender[1], application_receiver=receiver[1],
                        version=version, allocator=allocator, clock=clock)
    interchange = build_interchange((group,), sender=sender, receiver=receiver,
                                    version=_ISA_VERSION.get(version, "00401"), allocator=allocator,
                                    clock=clock, usage=usage, ack_requested=envelope.ack_requested,
                                    delimiters=envelope.delimiters)
    interchange = _with_authorization(interchange, envelope)
    return Rendered(serialize(interchange), "application/edi-x12", set_id, interchange.control_number,
                    ((functional_id, group.control_number),))


def _with_authorization(interchange, envelope: OutboundEnvelope):
    """ISA01..ISA04 from the agreement (the writer always writes ``00`` and blanks)."""
    values = (*envelope.authorization, *envelope.security)
    if values == ("00", "", "00", ""):
        return interchange
    padded = tuple(v.ljust(w) for v, w in zip(values, _ISA_AUTH_WIDTHS, strict=True))
    elements = list(interchange.header.elements)
    elements[ISA_AUTHORIZATION_FIELDS] = padded
    return replace(interchange, header=Segment("ISA", tuple(elements)))


def _render_cxml(document, sender: tuple[str, str], receiver: tuple[str, str], clock, usage: str,
                 payload_id: str) -> Rendered:
    from crossdock.mappings.cxml import CxmlCredential, CxmlEnvelope, write_cxml

    ours = (CxmlCredential(domain=sender[0], identity=sender[1]),)
    envelope = CxmlEnvelope(payload_id=f"{payload_id}@crossdock", timestamp=clock().isoformat(), from_=ours,
                            to=(CxmlCredential(domain=receiver[0], identity=receiver[1]),), sender=ours,
                            deployment_mode="test" if usage == "T" else None)
    tree, issues = write_cxml(document, envelope)
    _raise_on_errors(issues, document.document_type, "cXML")
    return Rendered(render_xml(tree), "application/xml", "cxml")


def _raise_on_errors(issues, document_type: str, target: str) -> None:
    if has_errors(issues):
        first = next(i for i in issues if i.severity == "error")
        raise MappingRuleFailed(f"{len(issues)} issue(s) rendering {document_type} as {target}: "
                                f"{first.code} {first.msg}", code="RENDER_FAILED")
