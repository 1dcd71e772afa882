"""Everything about one message on one page: timeline, raw, issues, documents, relations, acks, deliveries.

Builds on :func:`crossdock.gateway.queries.message_detail` (status, envelope, documents, acks,
outbound children, deliveries, timeline) and adds what an operator needs to act: the raw bytes
laid out for reading with the validation errors pinned to their lines, the canonical bodies,
the documents on the other side of each link (the 850 behind an 856, the 856 that shipped an
850), the acknowledgement messages, each outbound child with every delivery attempt, and the
notes (resolutions, comments, ops actions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from crossdock.gateway.ops.rendering import RawView, render_raw
from crossdock.gateway.queries import message_detail
from crossdock.gateway.store import schema as t

__all__ = ["MessageView", "message_view", "LocatedIssue", "Related", "partner_codes", "is_resolved"]

#: business keys naming a purchase order (an ASN lists every PO it ships)
_PO_KEYS = ("po_number", "po_numbers")
MAX_RELATED = 50


@dataclass(frozen=True, slots=True)
class LocatedIssue:
    """A validation or mapping problem, located.

    Attributes:
        source: ``x12`` (set validation) or ``document`` (mapping and effects issues kept on the
            canonical document).
        code: stable code (X12 error code or mapping issue code).
        message: what is wrong.
        set_control: ST02 of the set, when known.
        segment_id: the segment, when known.
        segment_position: position inside the set (ST = 1).
        element_position: element number inside the segment.
        line: the raw line it points at (1-based), when it could be placed.
        severity: ``error`` or ``warning``.
    """

    source: str
    code: str
    message: str
    set_control: str | None = None
    segment_id: str | None = None
    segment_position: int | None = None
    element_position: int | None = None
    line: int | None = None
    severity: str = "error"


@dataclass(frozen=True, slots=True)
class Related:
    """A document on the other end of a link, and its message."""

    relation: str  # ships, invoices, acknowledges, changes (and "shipped by", "invoiced by" …)
    document_id: int
    document_type: str
    message_id: str
    status: str
    keys: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class MessageView:
    """The detail page's data."""

    message: dict[str, Any]
    partner: str | None
    recipient: str | None
    timeline: tuple[dict[str, Any], ...]
    raw: RawView
    issues: tuple[LocatedIssue, ...]
    documents: tuple[dict[str, Any], ...]
    related: tuple[Related, ...]
    acks: tuple[dict[str, Any], ...]
    outbound: tuple[dict[str, Any], ...]
    deliveries: tuple[dict[str, Any], ...]
    notes: tuple[dict[str, Any], ...]
    parent_id: str | None = None
    resolved: bool = False
    error_lines: frozenset[int] = field(default_factory=frozenset)


def partner_codes(conn: Connection) -> dict[int, str]:
    """Partner id → code (a small table, read per page)."""
    return dict(conn.execute(select(t.partners.c.id, t.partners.c.code)).all())


def _timeline(events: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """Events with the wait before each one (time since the previous event ended)."""
    out = []
    previous = None
    for event in events:
        waited = None if previous is None else max((event["at"] - previous).total_seconds(), 0.0)
        out.append({**event, "waited_s": waited})
        previous = event["at"]
    return tuple(out)


def _x12_issues(sets: list[dict[str, Any]], raw: RawView) -> list[LocatedIssue]:
    lines = {(line.set_index, line.set_position): line.number for line in raw.lines if line.set_index is not None}
    issues = []
    for index, row in enumerate(sets):
        for error in row.get("errors") or []:
            position = error.get("segment_position")
            issues.append(LocatedIssue("x12", str(error.get("code")), str(error.get("message") or ""),
                                       row["control_number"],
                                error.get("segment_id"), position, error.get("element_position"),
                                lines.get((index, position))))
    return issues


def _mapping_issues(documents: list[dict[str, Any]]) -> list[LocatedIssue]:
    issues = []
    for document in documents:
        for issue in document.get("issues") or []:
            loc = [str(part) for part in issue.get("loc") or []]
            issues.append(LocatedIssue("document", str(issue.get("code")), str(issue.get("msg") or ""),
                                segment_id="/".join(loc) or None, severity=str(issue.get("severity") or "error")))
    return issues


def _related(conn: Connection, document_ids: list[int]) -> list[Related]:
    if not document_ids:
        return []
    links = t.document_links
    rows = conn.execute(select(links).where(or_(links.c.from_document_id.in_(document_ids),
                                                links.c.to_document_id.in_(document_ids)))).all()
    others: dict[int, str] = {}
    for link in rows:
        if link.from_document_id in document_ids:
            others[link.to_document_id] = link.relation
        if link.to_document_id in document_ids:
            others[link.from_document_id] = f"{link.relation} this"
    if not others:
        return []
    d = t.documents
    docs = conn.execute(select(d.c.id, d.c.document_type, d.c.message_id, d.c.status)
                        .where(d.c.id.in_(list(others)))).all()
    keys: dict[int, list[tuple[str, str]]] = {}
    for key in conn.execute(select(t.document_keys).where(t.document_keys.c.document_id.in_(list(others)))):
        keys.setdefault(key.document_id, []).append((key.name, key.value))
    return [Related(others[doc.id], doc.id, doc.document_type, doc.message_id, doc.status,
                    tuple(sorted(keys.get(doc.id, ())))) for doc in sorted(docs, key=lambda r: r.id)]


def _same_po(conn: Connection, documents: list[dict[str, Any]]) -> list[Related]:
    """Documents of the same partner naming the same PO number (850, 855, 856, 810, 860 …).

    Stored links only exist where the apply stage made them; the PO number relates the whole
    order-to-cash chain either way.
    """
    k, d = t.document_keys, t.documents
    own = {doc["id"] for doc in documents}
    related: dict[int, Related] = {}
    for doc in documents:
        numbers = [v for name, v in doc["keys"].items() if name in _PO_KEYS]
        if not numbers or doc.get("partner_id") is None:
            continue
        rows = conn.execute(select(d.c.id, d.c.document_type, d.c.message_id, d.c.status, k.c.value)
                            .join(k, k.c.document_id == d.c.id)
                            .where(k.c.name.in_(_PO_KEYS), k.c.value.in_(numbers),
                                   d.c.partner_id == doc["partner_id"], d.c.id.not_in(own))
                            .order_by(d.c.id).limit(MAX_RELATED)).all()
        for row in rows:
            related.setdefault(row.id, Related(f"same PO {row.value}", row.id, row.document_type, row.message_id,
                                               row.status, (("po_number", row.value),)))
    return list(related.values())


def _bodies(conn: Connection, message_id: str) -> dict[int, str]:
    d = t.documents
    out = {}
    for doc_id, body in conn.execute(select(d.c.id, d.c.body).where(d.c.message_id == message_id)):
        if body:
            try:
                out[doc_id] = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
            except ValueError:
                out[doc_id] = body
    return out


def _acks(conn: Connection, detail: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """Ack rows with the message carrying the ack (our 997 child, or the partner's 997)."""
    ids = [a["ack_message_id"] for a in detail["acks"] if a.get("ack_message_id")]
    kinds = {}
    if ids:
        kinds = {r.id: (r.document_kind, r.status, r.direction) for r in conn.execute(
            select(t.messages.c.id, t.messages.c.document_kind, t.messages.c.status, t.messages.c.direction)
            .where(t.messages.c.id.in_(ids)))}
    return tuple({**a, "ack_message": kinds.get(a.get("ack_message_id"))} for a in detail["acks"])


def _outbound(conn: Connection, children: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict]]:
    ids = [c["id"] for c in children]
    if not ids:
        return [], []
    attempts: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(select(t.delivery_attempts).where(t.delivery_attempts.c.message_id.in_(ids))
                            .order_by(t.delivery_attempts.c.id)):
        attempts.setdefault(row.message_id, []).append(dict(row._mapping))
    out = [{**c, "attempts": attempts.get(c["id"], [])} for c in children]
    return out, [a for c in out for a in c["attempts"]]


def _notes(conn: Connection, message_id: str) -> list[dict[str, Any]]:
    n = t.message_notes
    return [dict(r._mapping) for r in conn.execute(
        select(n).where(n.c.message_id == message_id).order_by(n.c.id))]


def _merge(linked: list[Related], by_po: list[Related]) -> tuple[Related, ...]:
    seen = {r.document_id for r in linked}
    return tuple(linked + [r for r in by_po if r.document_id not in seen])


def is_resolved(notes: list[dict[str, Any]], updated_at) -> bool:
    """Resolved when the last ``resolved`` note is not older than the message's last change."""
    marks = [n["at"] for n in notes if n["action"] == "resolved"]
    return bool(marks) and max(marks) >= updated_at


def message_view(conn: Connection, message_id: str) -> MessageView:
    """Assemble the detail page (the console sees every partner's messages).

    Args:
        conn: a connection.
        message_id: the message.

    Returns:
        The view.

    Raises:
        MessageNotFound: no such message.
    """
    detail = message_detail(conn, message_id, None)
    codes = partner_codes(conn)
    data = conn.execute(select(t.payloads.c.data).where(t.payloads.c.sha256 == detail["sha256"])).scalar_one()
    raw = render_raw(data, detail["format"])
    bodies = _bodies(conn, message_id)
    documents = [{**doc, "body": bodies.get(doc["id"])} for doc in detail["documents"]]
    issues = _x12_issues(detail["sets"], raw) + _mapping_issues(documents)
    outbound, deliveries = _outbound(conn, detail["outbound"])
    own_attempts = [dict(a) for a in detail["deliveries"]]
    notes = _notes(conn, message_id)
    return MessageView(
        message=detail, partner=codes.get(detail["partner_id"]), recipient=codes.get(detail["recipient_id"]),
        timeline=_timeline(detail["events"]), raw=raw, issues=tuple(issues), documents=tuple(documents),
        related=_merge(_related(conn, [d["id"] for d in documents]), _same_po(conn, documents)),
        acks=_acks(conn, detail),
        outbound=tuple(outbound), deliveries=tuple(own_attempts or deliveries), notes=tuple(notes),
        parent_id=detail.get("parent_id"), resolved=is_resolved(notes, detail["updated_at"]),
        error_lines=frozenset(i.line for i in issues if i.line is not None))
