"""Message search for the console: every filter the ops staff asks for, fast on a million rows.

Query shape (checked with EXPLAIN in ``benchmarks/ops_search.py``): control numbers and business
keys are resolved first through their own indexes (``IN (…)`` semi-joins on a handful of ids);
partner, status and document kind filters each have an index ending in ``received_at``, so the
newest-first page walks one index backwards and stops after ``limit + 1`` rows. A partner is
sender *or* recipient: two index walks merged, never an ``OR`` that defeats both indexes.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select, union, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from crossdock.gateway.pipeline import SET_DOCUMENT_TYPES
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import is_postgres
from crossdock.schemas.errors import CrossdockError

__all__ = ["SearchCriteria", "SearchPage", "SearchRow", "SearchInvalid", "SearchTimeout", "search_messages",
           "criteria_from_query", "page_query", "encode_cursor", "decode_cursor", "KEY_KINDS", "CONTROL_KINDS",
           "MAX_LIMIT"]

MAX_LIMIT = 200
#: business key kinds offered in the console → the document key names behind them
KEY_KINDS: dict[str, tuple[str, ...]] = {
    "po": ("po_number", "po_numbers"),
    "asn": ("asn_number",),
    "invoice": ("invoice_number",),
    "bol": ("bill_of_lading",),
}
CONTROL_KINDS = ("isa13", "gs06", "st02")
_CANONICAL_TO_SETS: dict[str, tuple[str, ...]] = {}
for _set_id, _canonical in SET_DOCUMENT_TYPES.items():
    _CANONICAL_TO_SETS[_canonical] = (*_CANONICAL_TO_SETS.get(_canonical, ()), _set_id)


class SearchInvalid(CrossdockError):
    """A search parameter cannot be used (bad cursor, unknown key kind)."""

    code = "SEARCH_INVALID"


class SearchTimeout(CrossdockError):
    """The search ran past ``ops.search_timeout_ms``; narrow it (a date range, a partner)."""

    code = "SEARCH_TIMEOUT"
    transient = True


@dataclass(frozen=True, slots=True)
class SearchCriteria:
    """What to look for; every field optional.

    Attributes:
        partner_id: sender or recipient.
        direction: ``inbound`` / ``outbound``.
        status: message status.
        document_type: X12 set id (``856``), canonical type (``ship_notice``) or another kind.
        received_from: inclusive lower bound.
        received_to: exclusive upper bound.
        control_number: an ISA13, GS06 or ST02 value.
        control_kind: restrict ``control_number`` to ``isa13``, ``gs06`` or ``st02``.
        key: a business key value (PO, ASN, invoice or BOL number).
        key_kind: restrict ``key`` to ``po``, ``asn``, ``invoice`` or ``bol``.
        cursor: from the previous page.
        limit: page size (at most :data:`MAX_LIMIT`).
    """

    partner_id: int | None = None
    direction: str | None = None
    status: str | None = None
    document_type: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    control_number: str | None = None
    control_kind: str | None = None
    key: str | None = None
    key_kind: str | None = None
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class SearchRow:
    """One message in a result page, with what an operator recognises it by."""

    id: str
    direction: str
    partner_id: int | None
    recipient_id: int | None
    format: str
    document_kind: str | None
    status: str
    error_code: str | None
    size: int
    received_at: datetime
    test: bool
    keys: tuple[tuple[str, str], ...] = ()
    control_numbers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchPage:
    rows: tuple[SearchRow, ...]
    next_cursor: str | None = None
    criteria: SearchCriteria = field(default_factory=SearchCriteria)


_COLUMNS = ("id", "direction", "partner_id", "recipient_id", "format", "document_kind", "status", "error_code",
            "size", "received_at", "test")


def encode_cursor(received_at: datetime, message_id: str) -> str:
    return base64.urlsafe_b64encode(f"{received_at.isoformat()}|{message_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, _, message_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), message_id
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise SearchInvalid("the cursor is not one this console produced") from exc


def _control_ids(number: str, kind: str | None):
    tables = {"isa13": t.interchanges, "gs06": t.groups, "st02": t.transaction_sets}
    if kind is not None and kind not in tables:
        raise SearchInvalid(f"control number kind must be one of {', '.join(CONTROL_KINDS)}")
    chosen = [tables[kind]] if kind else list(tables.values())
    selects = [select(table.c.message_id).where(table.c.control_number == number) for table in chosen]
    return selects[0] if len(selects) == 1 else union(*selects)


def _key_ids(value: str, kind: str | None):
    if kind is not None and kind not in KEY_KINDS:
        raise SearchInvalid(f"business key kind must be one of {', '.join(KEY_KINDS)}")
    k, d = t.document_keys, t.documents
    query = select(d.c.message_id).join(k, k.c.document_id == d.c.id).where(k.c.value == value)
    if kind:
        query = query.where(k.c.name.in_(KEY_KINDS[kind]))
    return query


def _kind_condition(value: str):
    kinds = {value, *_CANONICAL_TO_SETS.get(value, ())}
    m = t.messages
    # multi-set X12 messages carry e.g. "810,856"
    listed = [or_(m.c.document_kind.like(f"{k},%"), m.c.document_kind.like(f"%,{k}"),
                  m.c.document_kind.like(f"%,{k},%")) for k in kinds if k.isdigit()]
    return or_(m.c.document_kind.in_(sorted(kinds)), *listed)


def _conditions(criteria: SearchCriteria) -> list:
    m = t.messages
    conditions = []
    for column, value in ((m.c.direction, criteria.direction), (m.c.status, criteria.status)):
        if value:
            conditions.append(column == value)
    if criteria.document_type:
        conditions.append(_kind_condition(criteria.document_type))
    if criteria.received_from:
        conditions.append(m.c.received_at >= criteria.received_from)
    if criteria.received_to:
        conditions.append(m.c.received_at < criteria.received_to)
    if criteria.control_number:
        conditions.append(m.c.id.in_(_control_ids(criteria.control_number.strip(), criteria.control_kind)))
    if criteria.key:
        conditions.append(m.c.id.in_(_key_ids(criteria.key.strip(), criteria.key_kind)))
    if criteria.cursor:
        stamp, last_id = decode_cursor(criteria.cursor)
        conditions.append(or_(m.c.received_at < stamp, and_(m.c.received_at == stamp, m.c.id < last_id)))
    return conditions


def page_query(criteria: SearchCriteria, limit: int):
    m = t.messages
    columns = [m.c[name] for name in _COLUMNS]
    conditions = _conditions(criteria)
    order = (m.c.received_at.desc(), m.c.id.desc())
    if criteria.partner_id is None:
        return select(*columns).where(*conditions).order_by(*order).limit(limit)
    partner = criteria.partner_id
    sent = select(*columns).where(m.c.partner_id == partner, *conditions).order_by(*order).limit(limit)
    received = (select(*columns).where(m.c.recipient_id == partner,
                                       or_(m.c.partner_id.is_(None), m.c.partner_id != partner), *conditions)
                .order_by(*order).limit(limit))
    merged = union_all(sent.subquery().select(), received.subquery().select()).subquery()
    return select(merged).order_by(merged.c.received_at.desc(), merged.c.id.desc()).limit(limit)


def search_messages(conn: Connection, criteria: SearchCriteria, *, timeout_ms: int | None = None) -> SearchPage:
    """One page of messages, newest first.

    Args:
        conn: a connection (a PostgreSQL statement timeout is set on its transaction).
        criteria: the filters.
        timeout_ms: cut a runaway search off after this long (PostgreSQL only).

    Returns:
        The page with each message's business keys and control numbers, and the next cursor.

    Raises:
        SearchInvalid: bad cursor or kind.
        SearchTimeout: the search took longer than ``timeout_ms``.
    """
    limit = max(1, min(criteria.limit, MAX_LIMIT))
    if timeout_ms and is_postgres(conn):
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
    try:
        rows = conn.execute(page_query(criteria, limit + 1)).all()
    except OperationalError as exc:
        if "statement timeout" in str(exc.orig):
            raise SearchTimeout(f"the search took longer than {timeout_ms} ms; narrow it") from exc
        raise
    page = rows[:limit]
    keys, controls = _labels(conn, [r.id for r in page])
    out = tuple(SearchRow(**{name: getattr(r, name) for name in _COLUMNS}, keys=tuple(keys.get(r.id, ())),
                          control_numbers=tuple(controls.get(r.id, ()))) for r in page)
    cursor = encode_cursor(page[-1].received_at, page[-1].id) if len(rows) > limit else None
    return SearchPage(out, cursor, criteria)


def _labels(conn: Connection, ids: list[str]) -> tuple[dict[str, list], dict[str, list]]:
    """Business keys and ISA13s of a page of messages (two small indexed queries)."""
    keys: dict[str, list] = {}
    controls: dict[str, list] = {}
    if not ids:
        return keys, controls
    d, k = t.documents, t.document_keys
    for message_id, name, value in conn.execute(
            select(d.c.message_id, k.c.name, k.c.value).join(k, k.c.document_id == d.c.id)
            .where(d.c.message_id.in_(ids)).order_by(d.c.message_id, d.c.position, k.c.name)):
        pairs = keys.setdefault(message_id, [])
        if (name, value) not in pairs:
            pairs.append((name, value))
    for message_id, number in conn.execute(
            select(t.interchanges.c.message_id, t.interchanges.c.control_number)
            .where(t.interchanges.c.message_id.in_(ids)).order_by(t.interchanges.c.position)):
        controls.setdefault(message_id, []).append(number)
    return keys, controls


def criteria_from_query(params: dict[str, Any], partner_ids: dict[str, int]) -> SearchCriteria:
    """Build criteria from the console's query string (empty fields ignored).

    Args:
        params: query parameters as strings.
        partner_ids: partner code → id.

    Returns:
        The criteria.

    Raises:
        SearchInvalid: an unknown partner, a malformed date or limit.
    """
    def value(name: str) -> str | None:
        raw = params.get(name)
        return raw.strip() if isinstance(raw, str) and raw.strip() else None

    partner = value("partner")
    if partner is not None and partner not in partner_ids:
        raise SearchInvalid(f"no partner {partner}")
    try:
        received_from = datetime.fromisoformat(value("from")) if value("from") else None
        received_to = datetime.fromisoformat(value("to")) if value("to") else None
        limit = int(value("limit") or 50)
    except ValueError as exc:
        raise SearchInvalid("dates are YYYY-MM-DD[THH:MM], the limit a number") from exc
    return SearchCriteria(
        partner_id=partner_ids[partner] if partner else None, direction=value("direction"),
        status=value("status"), document_type=value("document_type"),
        received_from=_aware(received_from), received_to=_aware(received_to),
        control_number=value("control"), control_kind=value("control_kind"), key=value("key"),
        key_kind=value("key_kind"), cursor=value("cursor"), limit=limit)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)

