"""Read side of the API: message search with cursor pagination, message detail, raw bytes, timeline.

Plain functions over a connection returning plain dicts; the HTTP layer only shapes them.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.engine import Connection

from crossdock.gateway.store import schema as t
from crossdock.schemas.errors import CrossdockError

__all__ = ["MessageFilter", "CursorInvalid", "MessageNotFound", "list_messages", "message_detail",
           "message_raw", "message_events", "visible"]

MAX_PAGE = 200


class CursorInvalid(CrossdockError):
    code = "CURSOR_INVALID"


class MessageNotFound(CrossdockError):
    code = "MESSAGE_NOT_FOUND"


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """Search criteria; every field optional.

    Attributes:
        partner_id: sender or recipient partner (forced to the caller's own for partners).
        direction: ``inbound`` / ``outbound``.
        status: message status.
        document_type: canonical type of a document in the message, or an X12 set id.
        received_from: inclusive lower bound.
        received_to: exclusive upper bound.
        control_number: ISA13, GS06 or ST02 of the message.
        key: business key value (e.g. a PO number), optionally ``name=value``.
        cursor: opaque cursor from the previous page.
        limit: page size (capped at 200).
    """

    partner_id: int | None = None
    direction: str | None = None
    status: str | None = None
    document_type: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    control_number: str | None = None
    key: str | None = None
    cursor: str | None = None
    limit: int = 50


def _encode_cursor(received_at: datetime, message_id: str) -> str:
    return base64.urlsafe_b64encode(f"{received_at.isoformat()}|{message_id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, _, message_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), message_id
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise CursorInvalid("the cursor is not one this API returned") from exc


def list_messages(conn: Connection, criteria: MessageFilter) -> dict[str, Any]:
    """One page of messages, newest first, plus the cursor of the next page (None at the end)."""
    m = t.messages
    query = select(m.c.id, m.c.direction, m.c.partner_id, m.c.recipient_id, m.c.format, m.c.document_kind,
                   m.c.status, m.c.error_code, m.c.size, m.c.received_at, m.c.test)
    conditions = []
    if criteria.partner_id is not None:
        conditions.append(or_(m.c.partner_id == criteria.partner_id, m.c.recipient_id == criteria.partner_id))
    for column, value in ((m.c.direction, criteria.direction), (m.c.status, criteria.status)):
        if value:
            conditions.append(column == value)
    if criteria.received_from:
        conditions.append(m.c.received_at >= criteria.received_from)
    if criteria.received_to:
        conditions.append(m.c.received_at < criteria.received_to)
    if criteria.document_type:
        conditions.append(or_(
            exists().where(t.documents.c.message_id == m.c.id,
                           t.documents.c.document_type == criteria.document_type),
            exists().where(t.transaction_sets.c.message_id == m.c.id,
                           t.transaction_sets.c.set_id == criteria.document_type)))
    if criteria.control_number:
        number = criteria.control_number
        conditions.append(or_(
            exists().where(t.interchanges.c.message_id == m.c.id, t.interchanges.c.control_number == number),
            exists().where(t.groups.c.message_id == m.c.id, t.groups.c.control_number == number),
            exists().where(t.transaction_sets.c.message_id == m.c.id,
                           t.transaction_sets.c.control_number == number)))
    if criteria.key:
        name, _, value = criteria.key.rpartition("=")
        key_match = [t.document_keys.c.value == value]
        if name:
            key_match.append(t.document_keys.c.name == name)
        conditions.append(exists().where(t.documents.c.message_id == m.c.id,
                                         t.document_keys.c.document_id == t.documents.c.id, *key_match))
    if criteria.cursor:
        stamp, last_id = _decode_cursor(criteria.cursor)
        conditions.append(or_(m.c.received_at < stamp, and_(m.c.received_at == stamp, m.c.id < last_id)))
    limit = max(1, min(criteria.limit, MAX_PAGE))
    rows = conn.execute(query.where(*conditions).order_by(m.c.received_at.desc(), m.c.id.desc())
                        .limit(limit + 1)).all()
    page = rows[:limit]
    next_cursor = _encode_cursor(page[-1].received_at, page[-1].id) if len(rows) > limit else None
    return {"items": [dict(r._mapping) for r in page], "next_cursor": next_cursor}


def visible(conn: Connection, message_id: str, partner_id: int | None) -> Any:
    """The message row if the caller may see it (``partner_id`` None: the host sees all)."""
    row = conn.execute(select(t.messages).where(t.messages.c.id == message_id)).first()
    if row is None or (partner_id is not None and partner_id not in (row.partner_id, row.recipient_id)):
        raise MessageNotFound(f"no message {message_id}")
    return row


def message_detail(conn: Connection, message_id: str, partner_id: int | None) -> dict[str, Any]:
    """Status, envelope, documents, acks, outbound children, deliveries and the timeline."""
    row = visible(conn, message_id, partner_id)

    def rows(table, where, order):
        return [dict(r._mapping) for r in conn.execute(select(table).where(where).order_by(order))]

    detail = {k: v for k, v in row._mapping.items() if k not in ("idempotency_key", "channel_config")}
    detail["interchanges"] = rows(t.interchanges, t.interchanges.c.message_id == message_id, t.interchanges.c.position)
    detail["groups"] = rows(t.groups, t.groups.c.message_id == message_id, t.groups.c.id)
    detail["sets"] = rows(t.transaction_sets, t.transaction_sets.c.message_id == message_id,
                          t.transaction_sets.c.position)
    documents = rows(t.documents, t.documents.c.message_id == message_id, t.documents.c.position)
    ids = [d["id"] for d in documents]
    keys = conn.execute(select(t.document_keys).where(t.document_keys.c.document_id.in_(ids))).all() if ids else []
    links = conn.execute(select(t.document_links).where(t.document_links.c.from_document_id.in_(ids))).all() if ids else []
    for document in documents:
        document["keys"] = {k.name: k.value for k in keys if k.document_id == document["id"]}
        document["links"] = [{"to": lk.to_document_id, "relation": lk.relation}
                             for lk in links if lk.from_document_id == document["id"]]
        document.pop("body", None)
    detail["documents"] = documents
    detail["acks"] = rows(t.acks, t.acks.c.message_id == message_id, t.acks.c.id)
    detail["outbound"] = rows(t.messages, t.messages.c.parent_id == message_id, t.messages.c.received_at)
    for child in detail["outbound"]:
        child.pop("channel_config", None)
        child.pop("idempotency_key", None)
    detail["deliveries"] = rows(t.delivery_attempts, t.delivery_attempts.c.message_id == message_id,
                                t.delivery_attempts.c.id)
    detail["events"] = message_events(conn, message_id)
    return detail


def message_events(conn: Connection, message_id: str) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(
        select(t.events.c.stage, t.events.c.outcome, t.events.c.duration_ms, t.events.c.detail, t.events.c.at)
        .where(t.events.c.message_id == message_id).order_by(t.events.c.id))]


def message_raw(conn: Connection, message_id: str, partner_id: int | None) -> tuple[bytes, str]:
    """The immutable raw bytes and their media type."""
    row = visible(conn, message_id, partner_id)
    data = conn.execute(select(t.payloads.c.data).where(t.payloads.c.sha256 == row.sha256)).scalar_one()
    media = {"x12": "application/edi-x12", "xml": "application/xml", "json": "application/json"}
    return data, media.get(row.format, row.content_type or "application/octet-stream")
