"""The stages, as plain functions of a :class:`StageContext`; the runner owns the transaction.

Inbound chain (the runner runs consecutive stages in one transaction, one timeline event each)::

    parse ─► acknowledge ─► map ─► apply ─► route          (X12)
    parse ─────────────────► map ─► apply ─► route          (XML / JSON)
                                           └─► deliver    (each outbound message: acks, renders)

Every stage is idempotent on a replay: rows it writes are keyed (``insert_ignore`` on unique
columns, ``source_key`` on derived messages), effects only touch documents still ``mapped``.

**Chain state.** A message seen for the first time (status ``received`` when parse starts) has
no rows but the ones this chain writes, so parse records what it wrote in a
:class:`ChainState` and the later stages of the same transaction read that instead of querying
it back. A stage that starts a chain (a retry, a replay) has no state and reads the database.

Test lane (decision): an interchange with ISA15 = ``T``, or any message from a partner whose
agreement is in ``test`` mode, is parsed, validated, acknowledged and mapped, its documents are
stored with ``test = true`` — but the effects service never sees them and nothing is routed.

Receivers (BAD_INPUT 21): an interchange addressed to an ISA08 that is not ours (the settings'
hub identity, or an ``isa`` identity of a ``host`` partner) is rejected with TA1 R/008, recorded
as a ``receiver_unknown`` security event, and filed under no partner: no sets are processed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache, lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import JSON, Insert, Integer, Table, Text, and_, bindparam, column, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from crossdock.adapters.transports import DeliveryResult, OutboundDelivery
from crossdock.gateway import pipeline
from crossdock.gateway.effects import AppliedDocument
from crossdock.gateway.ingest import new_message_id
from crossdock.gateway.partners import (
    AgreementConfig,
    ChannelConfig,
    EnvelopeConfig,
    Partner,
    find_agreement,
    isa_identity,
    partner_by_identity,
)
from crossdock.gateway.runtime import Runtime
from crossdock.gateway.security_events import record_security_event
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.counters import DurableAllocator, reserve_many, reserve_many_in
from crossdock.gateway.store.engine import (
    BULK_ROWS,
    among,
    array_parameters,
    driver_rows,
    execute_later,
    execute_rows,
    insert_ignore,
    insert_or_skip,
    insert_statement,
    is_postgres,
    parameters,
    unnested,
)
from crossdock.gateway.workflow.dedupe import claim_key, holder, insert_keys, release_keys
from crossdock.gateway.workflow.outbox import WorkClaim, add_work
from crossdock.schemas.errors import CrossdockError, PartnerUnknown, has_errors
from crossdock.schemas.x12.tree import Delimiters as X12Delimiters

__all__ = [
    "StageContext",
    "StageResult",
    "ChainState",
    "Retry",
    "Stage",
    "STAGES",
    "INBOUND_FIRST_STAGE",
    "SenderMismatch",
    "ReceiverUnknown",
    "load_message",
    "load_messages",
    "set_message_status",
    "set_message_statuses",
    "write_later",
    "PRECLAIMED",
    "keys_ahead",
]

INBOUND_FIRST_STAGE = "parse"
#: the X12 character set of a partner without an agreement (AgreementConfig's default)
DEFAULT_CHARSET = "extended"
DAY_S = 86400.0
HOUR_S = 3600.0
_ACCEPTED_SETS = ("A", "E")
#: interchange statuses whose sets are not processed
_SKIPPED = ("partner_unknown", "sender_mismatch", "receiver_unknown", "duplicate")
TA1_RECEIVER_UNKNOWN = "008"
#: memo keys of registry reads (no stage writes these tables), safe to share between the chains
#: of one transaction
SHARED_LOOKUPS = frozenset({"partner", "agreement", "partner_code", "identity"})


class SenderMismatch(PartnerUnknown):
    """The ISA sender is another partner than the authenticated one (BAD_INPUT 22)."""

    code = "SENDER_MISMATCH"


class ReceiverUnknown(PartnerUnknown):
    """The ISA receiver is not one of the hub's identities (BAD_INPUT 21); TA1 R/008."""

    code = "RECEIVER_UNKNOWN"


@dataclass(frozen=True, slots=True)
class Retry:
    """A transient outcome the stage records itself (e.g. a delivery attempt that must be kept)."""

    code: str
    reason: str
    delay_s: float | None = None


@dataclass(frozen=True, slots=True)
class StageResult:
    """What a stage did.

    Attributes:
        next_stage: the stage to run next on the same message (in the same transaction).
        outcome: timeline outcome (``ok``, ``duplicate``, ``skipped`` …).
        detail: timeline detail: ids and counts only.
        retry: set when the stage wants a retry after committing what it wrote.
        failure: (code, reason) when the stage ends the item as permanently ``failed``.
    """

    next_stage: str | None = None
    outcome: str = "ok"
    detail: str = ""
    retry: Retry | None = None
    failure: tuple[str, str] | None = None


@dataclass
class StoredDocument:
    """A document row as this chain wrote it."""

    id: int
    position: int
    document_type: str
    partner_id: int | None
    test: bool
    status: str
    body: str | None
    keys: tuple[tuple[str, str], ...]
    #: the row's issues as stored (JSON), when this chain stored it
    issues: list[dict[str, Any]] | None = None
    #: the canonical model of ``body``, when this chain mapped it
    model: Any = None


@dataclass
class ChainState:
    """The rows this chain wrote for a message seen for the first time (see the module docstring).

    Attributes:
        interchanges: position → the interchange row.
        sets: position → the transaction-set row.
        documents: the document rows, in position order.
    """

    interchanges: dict[int, dict[str, Any]] = field(default_factory=dict)
    sets: dict[int, dict[str, Any]] = field(default_factory=dict)
    documents: list[StoredDocument] = field(default_factory=list)


@dataclass
class StageContext:
    runtime: Runtime
    conn: Connection
    work: WorkClaim
    #: the message row as of now (:meth:`update_message` keeps it current)
    message: SimpleNamespace
    now: float
    pre: Any = None
    #: shared by the stages of one chain (one transaction): lookups and the :class:`ChainState`
    memo: dict[Any, Any] = field(default_factory=dict)
    #: work items created by the stage for other messages, dispatched after commit
    spawned: list[int] = field(default_factory=list)
    #: registry lookups (partners, agreements, identities) shared by the chains of one
    #: transaction (a batch); None keeps them in :attr:`memo`
    lookups: dict[Any, Any] | None = None
    #: chains of the transaction still to run, this one included: on PostgreSQL the chains of a
    #: batch share one reservation of control numbers per partner, sized for all of them
    ahead: int = 1
    #: columns of the message row the stage changed (:meth:`update_message`); the runner writes
    #: them, merged for the whole chain, when it ends the chain (no stage reads them back in SQL)
    updates: dict[str, Any] = field(default_factory=dict)

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)

    @property
    def state(self) -> ChainState | None:
        return self.memo.get("state")

    def remember(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per chain for ``key`` (once per transaction for registry lookups)."""
        store = self.lookups if self.lookups is not None and key[0] in SHARED_LOOKUPS else self.memo
        if key not in store:
            store[key] = compute()
        return store[key]

    def update_message(self, status: str, *, code: str | None = None, reason: str | None = None,
                       **extra: Any) -> None:
        """Set the message's status (and other columns) in :attr:`message` and in :attr:`updates`,
        which the runner writes before the chain's transaction commits."""
        values = {"status": status, "error_code": code, "error_reason": reason, **extra}
        for name, value in values.items():
            setattr(self.message, name, value)
        self.updates.update(values)

    def insert_later(self, table: Table, rows: list[dict[str, Any]], conflict: tuple[str, ...] | None = None,
                     ) -> None:
        """Insert rows that no stage of this transaction reads back (skipping those colliding on
        ``conflict``): in a batch, together with the same table's rows of the other chains."""
        self.execute_later(insert_statement(self.conn.dialect.name, table, conflict), rows)

    def execute_later(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        """Run a cached statement for ``rows`` whose effect no stage of this transaction reads back:
        in a batch, one statement with the other chains' rows before the commit.

        Only a fresh message's chain (:attr:`state` set) defers: its later stages read what the
        earlier ones wrote from that state. A replay or a retry has none and reads the rows back
        with SQL (the acknowledge stage its interchanges, map its sets), so it writes at once.
        """
        if self.state is not None:
            execute_later(self.conn, statement, rows)
        elif rows:
            execute_rows(self.conn, statement, rows)

    def payload(self) -> bytes:
        return self.remember(("payload",), lambda: self.conn.execute(
            _payload_query(), {"sha": self.message.sha256}).scalar_one())

    def x12(self) -> pipeline.X12Reading:
        """The message's X12 reading under the sender's agreed charset (cached per process by
        content hash and charset)."""
        return self.remember(("x12",), self._read_x12)

    def _read_x12(self) -> pipeline.X12Reading:
        # The charset is the sender's, and who sent it is in the bytes: read once with the
        # default, then again only when the sender's agreement names another charset.
        reading = self._cached_reading(DEFAULT_CHARSET)
        charset = self._sender_charset(reading)
        return reading if charset == DEFAULT_CHARSET else self._cached_reading(charset)

    def _cached_reading(self, charset: str) -> pipeline.X12Reading:
        message = self.message
        return self.runtime.readings.get(f"{message.sha256}:{charset}", message.size,
                                         lambda: pipeline.read_x12(self.payload(), charset=charset))

    def _sender_charset(self, reading: pipeline.X12Reading) -> str:
        if not reading.interchanges:
            return DEFAULT_CHARSET
        first = reading.interchanges[0]
        partner_id = self.message.partner_id
        if partner_id is None:
            partner = self.partner("isa", isa_identity(*first.sender))
            partner_id = partner.id if partner is not None else None
        if partner_id is None:
            return DEFAULT_CHARSET
        agreement = self.agreement(partner_id, _first_set_type(first, reading.sets), "inbound", required=False)
        return agreement.charset if agreement is not None else DEFAULT_CHARSET

    def documents_reading(self) -> pipeline.DocumentReading:
        """The message's XML/JSON documents, read once per chain."""
        detected = pipeline.Detected(self.message.format, self.message.document_kind)
        return self.remember(("documents",), lambda: pipeline.read_documents(self.payload(), detected))

    def agreement(self, partner_id: int, document_type: str, direction: str, *,
                  required: bool = True) -> AgreementConfig | None:
        found = self.remember(("agreement", partner_id, document_type, direction),
                           lambda: find_agreement(self.conn, partner_id, document_type, direction, required=False))
        if found is None and required:
            return find_agreement(self.conn, partner_id, document_type, direction)  # raises AgreementMissing
        return found

    def partner(self, kind: str, value: str) -> Partner | None:
        return self.remember(("partner", kind, value), lambda: partner_by_identity(self.conn, kind, value))

    def allocator(self, partner_id: int) -> DurableAllocator:
        """Durable control numbers: own committed transaction on PostgreSQL, the stage's on SQLite."""
        if is_postgres(self.conn):
            engine = self.runtime.engine
            if self.lookups is None:
                return DurableAllocator(lambda counts: reserve_many(engine, partner_id, counts))
            # Shared by the batch: its numbers are committed already, so a batch rolled back
            # only leaves a gap. (Not on SQLite: there the reservation is part of the transaction
            # and would roll back under numbers still in the pool.)
            shared = self.lookups.get(("allocator", partner_id))
            if shared is None:
                shared = self.lookups[("allocator", partner_id)] = DurableAllocator(
                    lambda counts: reserve_many(engine, partner_id, counts))
            shared.ahead = self.ahead
            return shared
        conn = self.conn
        return DurableAllocator(lambda counts: reserve_many_in(conn, partner_id, counts))

    def clock(self) -> datetime:
        return self.at

    def window_s(self, agreement: AgreementConfig | None) -> float:
        days = agreement.duplicate_window_days if agreement and agreement.duplicate_window_days is not None else None
        return (days if days is not None else self.runtime.settings.workflow.duplicate_window_days) * DAY_S


@dataclass(frozen=True, slots=True)
class Stage:
    """A stage: ``run`` inside the transaction, optional ``pre`` before it (external I/O)."""

    run: Callable[[StageContext], StageResult]
    pre: Callable[[Runtime, WorkClaim], Any] | None = None


# ------------------------------------------------------------------------------ helpers


@cache
def _message_query():
    return select(t.messages).where(t.messages.c.id == bindparam("id"))


@cache
def _payload_query():
    return select(t.payloads.c.data).where(t.payloads.c.sha256 == bindparam("sha"))


def load_message(conn: Connection, message_id: str) -> SimpleNamespace:
    """The message row, as attributes a stage may update (raises if it does not exist)."""
    return SimpleNamespace(**conn.execute(_message_query(), {"id": message_id}).one()._mapping)


def load_messages(conn: Connection, message_ids: Iterable[str]) -> dict[str, SimpleNamespace]:
    """:func:`load_message` for several messages in one query (those that exist)."""
    ids = sorted(set(message_ids))
    if not ids:
        return {}
    return {row.id: SimpleNamespace(**row._mapping)
            for row in conn.execute(select(t.messages).where(among(conn, t.messages.c.id, ids)))}


def load_payloads(conn: Connection, digests: Iterable[str]) -> dict[str, bytes]:
    """Payload bytes by SHA-256, in one query."""
    wanted = sorted(set(digests))
    if not wanted:
        return {}
    return dict(conn.execute(select(t.payloads.c.sha256, t.payloads.c.data)
                             .where(among(conn, t.payloads.c.sha256, wanted))).all())


def set_message_status(conn: Connection, message_id: str, status: str, *, at: datetime,
                       code: str | None = None, reason: str | None = None, **extra: Any) -> None:
    set_message_statuses(conn, [(message_id, at, {"status": status, "error_code": code, "error_reason": reason,
                                                  **extra})])


def write_later(conn: Connection, writes: Iterable[tuple[Any, list[dict[str, Any]]]]) -> None:
    """Run deferred writes (``StageContext.later`` of one or several chains): one ``executemany``
    per statement, inserts first in table dependency order (parents before children), then the
    rest in the order first seen."""
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for statement, rows in writes:
        grouped.setdefault(statement, []).extend(rows)
    for statement in sorted(grouped, key=_write_rank):
        execute_rows(conn, statement, grouped[statement])


def _write_rank(statement: Any) -> int:
    order = _table_order()
    return order[statement.table] if isinstance(statement, Insert) else len(order)


@cache
def _table_order() -> dict[Table, int]:
    """Tables in dependency order (parents first), computed once."""
    return {table: rank for rank, table in enumerate(t.metadata.sorted_tables)}


def set_message_statuses(conn: Connection, updates: Iterable[tuple[str, datetime, Mapping[str, Any]]]) -> None:
    """Write several messages' changed columns (``(message id, updated at, {column: value})``,
    each with a ``status``): one statement per set of columns (:func:`execute_rows`)."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for message_id, at, values in updates:
        values = {"error_code": None, "error_reason": None, **values, "updated_at": at}
        extra = tuple(sorted(k for k in values if k not in _STATUS_COLUMNS))
        shapes.setdefault(extra, []).append({"m_id": message_id, **{f"v_{k}": v for k, v in values.items()}})
    for extra, rows in shapes.items():
        execute_rows(conn, _status_update(extra), rows)


_STATUS_COLUMNS = frozenset({"status", "error_code", "error_reason", "updated_at"})


@lru_cache(maxsize=32)
def _status_update(extra: tuple[str, ...]):
    # Built once per set of columns: building an UPDATE costs more than running it.
    columns = ("status", "error_code", "error_reason", "updated_at", *extra)
    return (update(t.messages).where(t.messages.c.id == bindparam("m_id"))
            .values({name: bindparam(f"v_{name}", type_=t.messages.c[name].type) for name in columns}))


def _first_set_type(view: pipeline.InterchangeView, sets: Iterable[pipeline.SetView]) -> str:
    for s in sets:
        if s.interchange_position == view.position:
            return pipeline.SET_DOCUMENT_TYPES.get(s.set_id, "*")
    return "*"


def _store_outbound(ctx: StageContext, *, source_key: str, payload: bytes, kind: str, fmt: str,
                    content_type: str, recipient_id: int | None, channel: ChannelConfig | None,
                    test: bool = False) -> str | None:
    """Store a derived outbound message (and queue its delivery); None if it already exists.

    For a fresh message (first run, :attr:`StageContext.state` set) nothing derived from it can
    exist yet, so a message with no channel to deliver to (nothing reads it back: no delivery
    item) is written with the batch's other rows (:meth:`StageContext.insert_later`)."""
    conn = ctx.conn
    digest = hashlib.sha256(payload).hexdigest()
    message_id = new_message_id()
    payload_row = {"sha256": digest, "size": len(payload), "data": payload}
    message_row = {
        "id": message_id, "direction": "outbound", "channel": channel.kind if channel else "stored",
        "partner_id": None, "recipient_id": recipient_id, "parent_id": ctx.message.id, "format": fmt,
        "document_kind": kind, "sha256": digest, "size": len(payload), "content_type": content_type,
        "source_key": source_key, "channel_config": channel.model_dump(mode="json") if channel else None,
        "received_at": ctx.at, "updated_at": ctx.at, "status": "queued" if channel else "stored", "test": test,
    }
    if channel is None and ctx.state is not None:
        ctx.insert_later(t.payloads, [payload_row], ("sha256",))
        ctx.insert_later(t.messages, [message_row], ("source_key",))
        return message_id
    insert_ignore(conn, t.payloads, payload_row, ("sha256",))
    if not insert_ignore(conn, t.messages, message_row, ("source_key",)):
        return None
    if channel is not None:
        ctx.spawned.append(add_work(conn, message_id, "deliver", now=ctx.now))
    return message_id


def _ack_channel(ctx: StageContext, partner_id: int) -> ChannelConfig | None:
    agreement = ctx.agreement(partner_id, "functional_ack", "outbound", required=False)
    return agreement.channel if agreement else None


def _is_ours(ctx: StageContext, identity: str) -> bool:
    """Is an ISA receiver one of the hub's own identities?"""
    settings = ctx.runtime.settings
    if identity == isa_identity(settings.hub_isa_qualifier, settings.hub_isa_id):
        return True
    partner = ctx.partner("isa", identity)
    return partner is not None and partner.kind == "host"


# -------------------------------------------------------------------------------- parse


def parse(ctx: StageContext) -> StageResult:
    """Read and validate; resolve partners; detect duplicates; store the envelope structure."""
    message = ctx.message
    if message.format != "x12":
        return _parse_document_message(ctx)
    reading = ctx.x12()
    if reading.error is not None:
        raise reading.error
    rows, windows, owner = _interchange_rows(ctx, reading)
    if not _files_any(rows):
        identities = ", ".join(sorted({r["sender"] for r in rows})) or "none"
        if any(r["status"] == "sender_mismatch" for r in rows):
            return _refuse(SenderMismatch(f"ISA sender(s) {identities} are not the authenticated partner"))
        return _refuse(PartnerUnknown(f"no registered partner for ISA sender(s) {identities}"))
    group_dups, content_dup = _claim_duplicates(ctx, reading, rows, windows, owner)
    group_rows = [{"message_id": message.id, "interchange_position": view.position, "position": g.position,
                   "functional_id": g.functional_id, "control_number": g.control_number, "version": g.version,
                   "status": g.status, "ak9_codes": list(g.ak9_codes)}
                  for view in reading.interchanges for g in view.groups]
    skipped = {r["position"] for r in rows if r["status"] in _SKIPPED}
    set_rows = [{"message_id": message.id, "position": s.position, "interchange_position": s.interchange_position,
                 "group_position": s.group_position, "set_id": s.set_id, "control_number": s.control_number,
                 "status": "D" if s.interchange_position in skipped
                 or (s.interchange_position, s.group_position) in group_dups else s.status,
                 "errors": list(s.errors)} for s in reading.sets]
    if content_dup is not None:
        # Identical bytes: the first copy is answered already; a TA1 025 is sent per policy.
        for row in rows:
            if row["status"] == "accepted":
                row.update(status="duplicate", duplicate_of=content_dup)
        for row in set_rows:
            row["status"] = "D"
    if message.status == "received":  # fresh: later stages read these rows from the chain's state
        ctx.memo["state"] = ChainState({r["position"]: r for r in rows}, {r["position"]: r for r in set_rows})
    ctx.insert_later(t.interchanges, rows, ("message_id", "position"))
    ctx.insert_later(t.groups, group_rows, ("message_id", "interchange_position", "position"))
    ctx.insert_later(t.transaction_sets, set_rows, ("message_id", "position"))
    all_dup = content_dup is not None or all(r["status"] == "duplicate" for r in rows)
    unknown = all(r["status"] == "receiver_unknown" for r in rows)
    ctx.update_message("duplicate" if all_dup else "processing",
                       code=ReceiverUnknown.code if unknown else None,
                       reason="no interchange is addressed to this hub" if unknown else None,
                       partner_id=message.partner_id or owner, test=all(r["test"] for r in rows),
                       document_kind=message.document_kind if message.document_kind != "x12" else
                       ",".join(sorted({s.set_id for s in reading.sets})) or "x12")
    detail = f"{len(rows)} interchange(s), {len(group_rows)} group(s), {len(set_rows)} set(s)"
    if content_dup is not None:
        return StageResult("acknowledge", "duplicate", f"{detail}; same content as {content_dup}")
    return StageResult("acknowledge", "duplicate" if all_dup else "ok", detail)


def _refuse(error: PartnerUnknown) -> StageResult:
    """End the message as ``failed`` with the sender error, *committing* the security events the
    stage recorded (raising would roll them back with the stage; BAD_INPUT 22)."""
    return StageResult(None, "failed", f"{error.code}: {error.message}"[:500], failure=(error.code, error.message))


def _files_any(rows: list[dict[str, Any]]) -> bool:
    """Whether parse files the message (else it refuses it before claiming any key)."""
    return any(r["partner_id"] or r["status"] == "receiver_unknown" for r in rows)


def _interchange_rows(ctx: StageContext, reading: pipeline.X12Reading, *, record: bool = True):
    """One row per interchange with its partner and status; a security event per refused sender
    (none with ``record=False``: the same rows, looked at ahead of the stage).

    Returns:
        (rows, duplicate window per filed interchange position, the partner owning the content).
    """
    message, conn = ctx.message, ctx.conn
    record_event = record_security_event if record else _record_nothing
    owner = message.partner_id
    rows: list[dict[str, Any]] = []
    windows: dict[int, float] = {}
    for view in reading.interchanges:
        identity, receiver = isa_identity(*view.sender), isa_identity(*view.receiver)
        status, test, partner, ta1 = view.status, view.usage == "T", None, view.ta1_code
        if not _is_ours(ctx, receiver):
            status, ta1 = "receiver_unknown", TA1_RECEIVER_UNKNOWN
            record_event(conn, "receiver_unknown", partner_id=message.partner_id, message_id=message.id,
                         detail={"receiver": receiver, "interchange": view.control_number})
        elif (partner := ctx.partner("isa", identity)) is None:
            status = "partner_unknown"
            record_event(conn, "sender_unknown", partner_id=message.partner_id, message_id=message.id,
                         detail={"sender": identity, "interchange": view.control_number})
        elif message.partner_id is not None and partner.id != message.partner_id:
            # Never file interchange data under a partner other than the authenticated one.
            record_event(conn, "sender_mismatch", partner_id=message.partner_id, message_id=message.id,
                         detail={"sender": identity, "sender_partner_id": partner.id,
                                 "interchange": view.control_number})
            status, partner = "sender_mismatch", None
        else:
            owner = owner or partner.id
            agreement = ctx.agreement(partner.id, _first_set_type(view, reading.sets), "inbound")
            test = test or agreement.mode == "test"
            windows[view.position] = ctx.window_s(agreement)
        rows.append({"message_id": message.id, "position": view.position,
                     "partner_id": partner.id if partner else None, "sender": identity, "receiver": receiver,
                     "control_number": view.control_number, "version": view.version, "usage": view.usage or "P",
                     "status": status, "ta1_code": ta1, "test": test, "duplicate_of": None})
    return rows, windows, owner


def _claim_duplicates(ctx: StageContext, reading: pipeline.X12Reading, rows: list[dict[str, Any]],
                      windows: dict[int, float], owner: int | None):
    """Claim (sender, ISA13), content and GS06 keys; marks duplicate interchanges in ``rows``.

    Returns:
        (duplicate (interchange, group) positions, the message holding the same content or None).
    """
    message, conn, now = ctx.message, ctx.conn, ctx.now
    sha_key, isa_keys, group_keys = _dedupe_keys(message, reading, rows, windows, owner)
    # One INSERT for all keys (or the batch's, made ahead: :func:`preclaim`); the group keys of an
    # interchange that is a duplicate (rare) are deleted again, as if only fresh interchanges had
    # claimed theirs.
    inserted = _insert_keys_once(ctx, _all_keys(sha_key, isa_keys, group_keys))

    def held(key: tuple[str, str], window: float) -> str | None:
        return None if key in inserted else holder(conn, *key, message.id, now, window)

    content_dup = held(sha_key, ctx.window_s(None))
    for position, window in windows.items():
        row = rows[position]
        row["duplicate_of"] = held(isa_keys[position], window)
        if row["duplicate_of"] is not None:
            row["status"] = "duplicate"
    group_claims = {key: where for key, where in group_keys if rows[where[0]]["duplicate_of"] is None}
    release_keys(conn, [key for key, _ in group_keys if key in inserted and key not in group_claims], message.id)
    group_dups = {where for key, where in group_claims.items() if held(key, windows[where[0]]) is not None}
    return group_dups, content_dup


def _dedupe_keys(message: Any, reading: pipeline.X12Reading, rows: list[dict[str, Any]], windows: dict[int, float],
                 owner: int | None):
    """The content key, the (sender, ISA13) key per filed interchange and the (sender, GS06) keys
    of their groups with their (interchange, group) positions."""
    sha_key = ("sha", f"{owner}:{message.sha256}"[:200])
    isa_keys = {p: ("isa", f"{rows[p]['sender']}:{rows[p]['control_number']}"[:200]) for p in windows}
    group_keys = [(("gs", f"{rows[p]['sender']}:{g.application_sender}:{g.control_number}"[:200]), (p, g.position))
                  for p in windows for g in reading.interchanges[p].groups]
    return sha_key, isa_keys, group_keys


def _all_keys(sha_key: tuple[str, str], isa_keys: dict[int, tuple[str, str]],
              group_keys: list[tuple[tuple[str, str], tuple[int, int]]]) -> list[tuple[str, str]]:
    """The keys of :func:`_dedupe_keys` as one list, as the stage claims them."""
    return [sha_key, *isa_keys.values(), *(key for key, _ in group_keys)]


#: memo entry of a chain whose keys its batch inserted ahead: (keys asked for, keys inserted)
PRECLAIMED = ("preclaimed_keys",)


def keys_ahead(ctx: StageContext) -> list[tuple[str, str]]:
    """The dedupe keys :func:`parse` will claim for a fresh X12 message, found without writing
    anything (no security event, no key): the same reading, partners and rows the stage uses.
    Empty when it claims none (a message it refuses, an unreadable one, not X12)."""
    message = ctx.message
    if message.format != "x12" or message.status != "received":
        return []
    reading = ctx.x12()
    if reading.error is not None:
        return []
    try:
        rows, windows, owner = _interchange_rows(ctx, reading, record=False)
    except CrossdockError:  # (e.g. no agreement: the stage raises it, and claims nothing)
        return []
    if not _files_any(rows):
        return []
    return _all_keys(*_dedupe_keys(message, reading, rows, windows, owner))


def _insert_keys_once(ctx: StageContext, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """:func:`insert_keys` for ``keys``, except those the batch inserted ahead for this message
    (:data:`PRECLAIMED`): what it asked for and got counts, what it got and this stage does not
    want is released (as if never claimed), anything else is inserted now."""
    ahead = ctx.memo.pop(PRECLAIMED, None)
    if ahead is None:
        return insert_keys(ctx.conn, keys, ctx.message.id, now=ctx.now)
    asked, got = ahead
    wanted = set(keys)
    release_keys(ctx.conn, got - wanted, ctx.message.id)
    return (got & wanted) | insert_keys(ctx.conn, [key for key in keys if key not in asked], ctx.message.id, now=ctx.now)


def _record_nothing(*args: Any, **kwargs: Any) -> None:
    return None


def _parse_document_message(ctx: StageContext) -> StageResult:
    message = ctx.message
    if message.partner_id is None:
        record_security_event(ctx.conn, "sender_unknown", partner_id=None, message_id=message.id,
                              detail={"format": message.format})
        return _refuse(PartnerUnknown("XML and JSON messages need an authenticated sender"))
    sender = ctx.documents_reading().sender
    if sender is not None:
        claimed = ctx.partner("cxml", sender)
        if claimed is not None and claimed.id != message.partner_id:
            record_security_event(ctx.conn, "sender_mismatch", partner_id=message.partner_id,
                                  message_id=message.id, detail={"sender": sender, "sender_partner_id": claimed.id})
            return _refuse(SenderMismatch(f"cXML sender {sender} is not the authenticated partner"))
    agreement = ctx.agreement(message.partner_id, "*", "inbound", required=False)
    duplicate_of = claim_key(ctx.conn, "sha", f"{message.partner_id}:{message.sha256}", message.id,
                             now=ctx.now, window_s=ctx.window_s(agreement))
    if duplicate_of is not None:
        ctx.update_message("duplicate")
        return StageResult(None, "duplicate", f"same content as {duplicate_of}")
    test = agreement is not None and agreement.mode == "test"
    if message.status == "received":
        ctx.memo["state"] = ChainState()
    ctx.update_message("processing", test=test)
    return StageResult("map", "ok", message.document_kind or "")


# -------------------------------------------------------------------------- acknowledge


def acknowledge(ctx: StageContext) -> StageResult:
    """Queue TA1/997/999 per the sender's agreement, numbered by the durable allocator."""
    conn, message, state = ctx.conn, ctx.message, ctx.state
    if state is None:
        already = conn.execute(select(func.count()).select_from(t.acks).where(
            t.acks.c.message_id == message.id, t.acks.c.direction == "sent")).scalar_one()
        rows = {r.position: r._asdict() for r in conn.execute(
            select(t.interchanges).where(t.interchanges.c.message_id == message.id))}
        if already or not rows:
            return StageResult("map", "skipped", "acks already sent" if already else "no interchange")
        dup_groups = {(r.interchange_position, r.group_position) for r in conn.execute(
            select(t.transaction_sets.c.interchange_position, t.transaction_sets.c.group_position)
            .where(t.transaction_sets.c.message_id == message.id, t.transaction_sets.c.status == "D"))}
    else:
        rows = state.interchanges
        dup_groups = {(s["interchange_position"], s["group_position"]) for s in state.sets.values()
                      if s["status"] == "D"}
    reading = ctx.x12()
    sent = 0
    for view in reading.interchanges:
        row = rows.get(view.position)
        if row is None:
            continue
        if row["status"] == "receiver_unknown":
            sent += _reject_interchange(ctx, view, row)
        elif row["partner_id"] is not None and row["status"] not in ("partner_unknown", "sender_mismatch"):
            sent += _acknowledge_interchange(ctx, view, row, reading, dup_groups)
    next_stage = "map" if message.status != "duplicate" else "route"
    return StageResult(next_stage, "ok", f"{sent} ack interchange(s)")


def _acknowledge_interchange(ctx: StageContext, view: pipeline.InterchangeView, row: dict[str, Any],
                             reading: pipeline.X12Reading, dup_groups: set[tuple[int, int]]) -> int:
    partner_id = row["partner_id"]
    agreement = ctx.agreement(partner_id, _first_set_type(view, reading.sets), "inbound")
    allocator = ctx.allocator(partner_id)
    if row["status"] == "duplicate":
        # TA1 R/025 only where asked: ISA14 = 1 under "on_request", or always under "always".
        if agreement.ta1 == "never" or (agreement.ta1 == "on_request" and not view.report.ta1_requested):
            return 0
        allocator.prefetch({"ISA": 1})
        rendered = pipeline.rejection_ta1(view.report, "025", allocator=allocator, clock=ctx.clock)
    else:
        report = view.report
        fresh = tuple(g for i, g in enumerate(report.groups) if (view.position, i) not in dup_groups)
        if len(fresh) != len(report.groups):
            report = replace(report, groups=fresh)
        allocator.prefetch({"ISA": 1, "GS": len(fresh), "ST": len(fresh)})
        rendered = pipeline.build_acks(report, allocator=allocator, clock=ctx.clock, ack_type=agreement.ack,
                                       ta1=agreement.ta1)
    return _store_acks(ctx, view, rendered, partner_id, row["test"])


def _reject_interchange(ctx: StageContext, view: pipeline.InterchangeView, row: dict[str, Any]) -> int:
    """TA1 R/008 for an interchange addressed to someone else, back to the authenticated sender."""
    recipient = ctx.message.partner_id
    if recipient is None:
        return 0  # nobody authenticated to answer; the security event is the record
    agreement = ctx.agreement(recipient, "*", "inbound", required=False)
    if agreement is not None and agreement.ta1 == "never":
        return 0
    allocator = ctx.allocator(recipient)
    allocator.prefetch({"ISA": 1})
    rendered = pipeline.rejection_ta1(view.report, row["ta1_code"] or TA1_RECEIVER_UNKNOWN,
                                      allocator=allocator, clock=ctx.clock)
    return _store_acks(ctx, view, rendered, recipient, row["test"])


def _store_acks(ctx: StageContext, view: pipeline.InterchangeView, rendered: list[pipeline.RenderedInterchange],
                partner_id: int | None, test: bool) -> int:
    channel = _ack_channel(ctx, partner_id) if partner_id is not None else None
    rows = []
    for index, ack in enumerate(rendered):
        ack_id = _store_outbound(ctx, source_key=f"ack:{ctx.message.id}:{view.position}:{index}",
                                 payload=ack.payload, kind=ack.kind, fmt="x12", content_type="application/edi-x12",
                                 recipient_id=partner_id, channel=channel, test=test)
        if ack_id is None:
            continue  # a replay finds its acks already stored
        rows.append({"direction": "sent", "kind": ack.kind, "message_id": ctx.message.id, "ack_message_id": ack_id,
                     "partner_id": partner_id, "interchange_control": view.control_number,
                     "group_control": _answered_groups(view, ack), "status": ack.status or "accepted",
                     "created_at": ctx.at, "updated_at": ctx.at})
    ctx.insert_later(t.acks, rows)
    return len(rows)


def _answered_groups(view: pipeline.InterchangeView, ack: pipeline.RenderedInterchange) -> str | None:
    # The inbound GS06 a 997/999 answers is what an operator searches by.
    if ack.kind == "TA1" or not view.groups:
        return None
    return ",".join(g.control_number for g in view.groups)[:16]


# ---------------------------------------------------------------------------------- map


def map_documents(ctx: StageContext) -> StageResult:
    """Map accepted sets (or XML/JSON documents) to canonical documents and store them."""
    message, conn, state = ctx.message, ctx.conn, ctx.state
    existing: dict[int, str] = {} if state is not None else dict(conn.execute(
        select(t.documents.c.position, t.documents.c.status).where(t.documents.c.message_id == message.id)).all())
    if message.format == "x12":
        mapped, owners = _map_x12(ctx, existing)
    else:
        mapped = [d for d in ctx.documents_reading().documents if existing.get(d.position) in (None, "mapping_failed")]
        # Documents our host addresses to a partner belong to that trading relationship.
        owner = (message.recipient_id or message.partner_id, bool(message.test))
        owners = {d.position: owner for d in mapped}
    _store_documents(ctx, mapped, owners, existing)
    failed = sum(1 for d in mapped if d.body is None or has_errors(d.issues))
    return StageResult("apply", "ok", f"{len(mapped)} document(s), {failed} failed")


def _map_x12(ctx: StageContext, existing: dict[int, str]):
    conn, message, state = ctx.conn, ctx.message, ctx.state
    if state is not None:
        statuses = {p: s["status"] for p, s in state.sets.items()}
        interchanges = {p: (r["partner_id"], r["test"]) for p, r in state.interchanges.items()}
    else:
        statuses = dict(conn.execute(select(t.transaction_sets.c.position, t.transaction_sets.c.status)
                                     .where(t.transaction_sets.c.message_id == message.id)).all())
        interchanges = {r.position: (r.partner_id, r.test) for r in conn.execute(
            select(t.interchanges.c.position, t.interchanges.c.partner_id, t.interchanges.c.test)
            .where(t.interchanges.c.message_id == message.id))}
    reading = ctx.x12()
    owners = {s.position: interchanges.get(s.interchange_position, (None, False)) for s in reading.sets}
    mapped = []
    for view in reading.sets:
        if statuses.get(view.position) not in _ACCEPTED_SETS or existing.get(view.position) not in (None, "mapping_failed"):
            continue
        partner_id = owners[view.position][0]
        if view.set_id in ("997", "999"):
            _record_received_ack(ctx, view, partner_id)
        agreement = None if partner_id is None else ctx.agreement(
            partner_id, pipeline.SET_DOCUMENT_TYPES.get(view.set_id, "*"), "inbound", required=False)
        mapped.append(pipeline.map_set(view, agreement.mapping_overrides if agreement else ()))
    return mapped, owners


def _record_received_ack(ctx: StageContext, view: pipeline.SetView, partner_id: int | None) -> None:
    """A partner's 997/999 settles the acks we await for the groups it names."""
    if partner_id is None:
        return
    for _functional_id, group_control, status in pipeline.ack_results(view):
        ctx.conn.execute(update(t.acks).where(
            t.acks.c.direction == "expected", t.acks.c.partner_id == partner_id,
            t.acks.c.group_control == group_control, t.acks.c.status.in_(("pending", "overdue")),
        ).values(status=status, ack_message_id=ctx.message.id, updated_at=ctx.at))
        ctx.conn.execute(t.acks.insert().values(
            direction="received", kind=view.set_id, message_id=ctx.message.id, partner_id=partner_id,
            group_control=group_control, status=status, created_at=ctx.at, updated_at=ctx.at))


def _store_documents(ctx: StageContext, mapped: list[pipeline.MappedDocument], owners, existing) -> None:
    conn = ctx.conn
    fresh, retried = [], []
    for d in mapped:
        partner_id, test = owners[d.position]
        row = {"message_id": ctx.message.id, "position": d.position, "document_type": d.document_type,
               "partner_id": partner_id, "test": bool(test),
               "status": "mapping_failed" if d.body is None or has_errors(d.issues) else "mapped",
               "issues": [pipeline.issue_json(i) for i in d.issues], "body": d.body, "created_at": ctx.at}
        (retried if d.position in existing else fresh).append(row)
    keys = [(d.position, name, value) for d in mapped for name, value in d.keys]
    if fresh and not retried and len(fresh) < BULK_ROWS and is_postgres(conn):
        ids = _insert_documents_with_keys(conn, fresh, keys)
    else:
        ids = _insert_documents_then_keys(conn, ctx.message.id, fresh, retried, keys)
    if ctx.state is not None:
        by_position = {d.position: d for d in mapped}
        ctx.state.documents.extend(
            StoredDocument(ids[r["position"]], r["position"], r["document_type"], r["partner_id"], r["test"],
                           r["status"], r["body"], by_position[r["position"]].keys, r["issues"],
                           by_position[r["position"]].model) for r in fresh)


def _insert_documents_then_keys(conn: Connection, message_id: str, fresh: list[dict[str, Any]],
                                retried: list[dict[str, Any]], keys: list[tuple[int, str, str]]) -> dict[int, int]:
    """Insert fresh and update retried documents, then insert the keys; position → document id."""
    for row in retried:
        conn.execute(update(t.documents).where(t.documents.c.message_id == row["message_id"],
                                               t.documents.c.position == row["position"])
                     .values(**{k: v for k, v in row.items() if k not in ("message_id", "position", "created_at")}))
    ids: dict[int, int] = {}
    if len(fresh) >= BULK_ROWS:
        # executemany and one SELECT: cheaper than RETURNING pages for thousands of rows
        conn.execute(t.documents.insert(), fresh)
        ids = dict(conn.execute(select(t.documents.c.position, t.documents.c.id)
                                .where(t.documents.c.message_id == message_id)).all())
    elif fresh:
        ids = dict(conn.execute(_insert_documents(), parameters(fresh)).all())
    if retried:
        ids.update(conn.execute(select(t.documents.c.position, t.documents.c.id).where(
            t.documents.c.message_id == message_id,
            t.documents.c.position.in_([r["position"] for r in retried]))).all())
    if keys:
        insert_or_skip(conn, t.document_keys, [{"document_id": ids[position], "name": name, "value": value}
                                               for position, name, value in keys], ("document_id", "name", "value"))
    return ids


def _insert_documents_with_keys(conn: Connection, fresh: list[dict[str, Any]],
                                keys: list[tuple[int, str, str]]) -> dict[int, int]:
    """PostgreSQL, a message's new documents: documents and keys in ONE statement on the driver
    (:func:`_documents_with_keys`); position → document id."""
    one = len(fresh) == 1  # the common case: scalar parameters dump fastest
    params = dict(fresh[0]) if one else array_parameters(conn, fresh, _DOCUMENT_COLUMNS, ("issues",))
    params["keys"] = [{"key_position": position, "key_name": name, "key_value": value} for position, name, value in keys]
    return dict(driver_rows(conn, _documents_with_keys(one), params))


@cache
def _insert_documents():
    return t.documents.insert().returning(t.documents.c.position, t.documents.c.id, sort_by_parameter_order=True)


_DOCUMENT_COLUMNS = ("message_id", "position", "document_type", "partner_id", "test", "status", "issues", "body",
                     "created_at")


@cache
def _documents_with_keys(one: bool):
    """PostgreSQL: insert documents and their keys in one statement; returns (position, id).

    The documents' columns are scalar parameters (``one``) or arrays (:func:`unnested`); the keys
    are one JSON array of ``{"key_position", "key_name", "key_value"}`` (psycopg dumps arrays in
    Python, JSON in C), inserted by joining the documents' RETURNING on position.
    """
    d, k = t.documents, t.document_keys
    if one:
        insert = d.insert().values({name: bindparam(name, type_=d.c[name].type) for name in _DOCUMENT_COLUMNS})
    else:
        documents = unnested({name: d.c[name].type for name in _DOCUMENT_COLUMNS}, "v")
        insert = d.insert().from_select(list(_DOCUMENT_COLUMNS), select(*documents.c))
    inserted = insert.returning(d.c.position, d.c.id).cte("inserted")
    keys = (func.json_to_recordset(bindparam("keys", type_=JSON))
            .table_valued(column("key_position", Integer), column("key_name", Text), column("key_value", Text))
            .render_derived(name="k", with_types=True))
    keys_insert = (postgresql.insert(k).from_select(
        ["document_id", "name", "value"],
        select(inserted.c.id, keys.c.key_name, keys.c.key_value)
        .select_from(keys.join(inserted, inserted.c.position == keys.c.key_position)))
        .on_conflict_do_nothing().cte("inserted_keys"))
    return select(inserted.c.position, inserted.c.id).add_cte(keys_insert)


# -------------------------------------------------------------------------------- apply

#: the business keys naming an order: one PO (850, 855, 860, 810) or every PO of a shipment (856)
_PO_KEYS = ("po_number", "po_numbers")


@dataclass(frozen=True, slots=True)
class _LinkRule:
    """A document links to a ``target`` type whose ``target_key`` holds one of its ``own_keys``."""

    own_keys: tuple[str, ...]
    target: str
    target_key: str


_TO_ORDER = _LinkRule(_PO_KEYS, "purchase_order", "po_number")
_LINKS: dict[str, tuple[str, tuple[_LinkRule, ...]]] = {
    "ship_notice": ("ships", (_TO_ORDER,)),
    "invoice": ("invoices", (_TO_ORDER, _LinkRule(("asn_number",), "ship_notice", "asn_number"),
                             _LinkRule(("bill_of_lading",), "ship_notice", "bill_of_lading"))),
    "order_response": ("acknowledges", (_TO_ORDER,)),
    "order_change": ("changes", (_TO_ORDER,)),
}


def apply(ctx: StageContext) -> StageResult:
    """Hand new production documents to the effects service, link related documents."""
    conn, message, state = ctx.conn, ctx.message, ctx.state
    docs = _mapped_documents(ctx) if state is None else [d for d in state.documents if d.status == "mapped"]
    production = [d for d in docs if not d.test]
    applied = [AppliedDocument(d.id, d.document_type, d.partner_id, _key_map(d.keys), json.loads(d.body), d.issues,
                               d.model) for d in production]
    issues = ctx.runtime.effects.apply(conn, applied, now=ctx.at) if applied else []
    links = _link(conn, applied)
    if production:
        ctx.execute_later(_applied_update(), [{"m_id": message.id}])
    if len(production) != len(docs):
        conn.execute(update(t.documents).where(t.documents.c.message_id == message.id,
                                               t.documents.c.status == "mapped", t.documents.c.test.is_(True))
                     .values(status="test"))
    for d in docs:
        d.status = "test" if d.test else "applied"
    return StageResult("route", "ok", f"{len(applied)} applied, {len(docs) - len(production)} test, "
                                      f"{links} link(s), {len(issues)} issue(s)")


@cache
def _applied_update():
    d = t.documents
    return (update(d).where(d.c.message_id == bindparam("m_id"), d.c.status == "mapped", d.c.test.is_(False))
            .values(status="applied"))


def _mapped_documents(ctx: StageContext) -> list[StoredDocument]:
    conn, message = ctx.conn, ctx.message
    rows = conn.execute(select(t.documents.c.id, t.documents.c.position, t.documents.c.document_type,
                               t.documents.c.partner_id, t.documents.c.test, t.documents.c.body)
                        .where(t.documents.c.message_id == message.id, t.documents.c.status == "mapped")
                        .order_by(t.documents.c.position)).all()
    keys: dict[int, list[tuple[str, str]]] = {r.id: [] for r in rows}
    if any(not r.test for r in rows):
        for key in conn.execute(select(t.document_keys).join(t.documents).where(
                t.documents.c.message_id == message.id)):
            keys.setdefault(key.document_id, []).append((key.name, key.value))
    return [StoredDocument(r.id, r.position, r.document_type, r.partner_id, bool(r.test), "mapped", r.body,
                           tuple(keys[r.id])) for r in rows]


def _key_map(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return {name: tuple(values) for name, values in out.items()}


def _link(conn: Connection, documents: list[AppliedDocument]) -> int:
    """Link each document to the earlier documents of the same partner it refers to (856 → 850,
    810 → 850 and 856 …) by shared business keys; returns the number of links made."""
    rows = []
    for document in documents:
        relation, rules = _LINKS.get(document.document_type, (None, ()))
        targets: set[int] = set()
        for rule in rules:
            numbers = {v for name in rule.own_keys for v in document.keys.get(name, ())}
            if not numbers:
                continue
            targets.update(conn.execute(
                select(t.documents.c.id).join(t.document_keys, and_(
                    t.document_keys.c.document_id == t.documents.c.id, t.document_keys.c.name == rule.target_key))
                .where(t.document_keys.c.value.in_(sorted(numbers)), t.documents.c.partner_id == document.partner_id,
                       t.documents.c.document_type == rule.target, t.documents.c.id != document.id)
            ).scalars().all())
        rows.extend({"from_document_id": document.id, "to_document_id": target, "relation": relation}
                    for target in sorted(targets))
    if rows:
        insert_or_skip(conn, t.document_links, rows, ("from_document_id", "to_document_id"))
    return len(rows)


# -------------------------------------------------------------------------------- route


def route(ctx: StageContext) -> StageResult:
    """Render what agreements ask for (forwards, documents for a recipient) and settle the status."""
    conn, message, state = ctx.conn, ctx.message, ctx.state
    if state is None:
        docs = [StoredDocument(r.id, 0, r.document_type, r.partner_id, False, "applied", r.body, ())
                for r in conn.execute(select(t.documents.c.id, t.documents.c.document_type, t.documents.c.partner_id,
                                             t.documents.c.body)
                                      .where(t.documents.c.message_id == message.id,
                                             t.documents.c.status == "applied"))]
    else:
        docs = [d for d in state.documents if d.status == "applied"]
    rendered = 0
    for doc in docs:
        if message.recipient_id is not None:
            rendered += _render_for_recipient(ctx, doc)
        elif doc.partner_id is not None:
            rendered += _forward(ctx, doc)
    status = _final_status(ctx)
    keep = status == "rejected" and message.error_code is not None
    ctx.update_message(status, code=message.error_code if keep else None,
                       reason=message.error_reason if keep else None)
    return StageResult(None, "ok", f"{rendered} outbound, status {status}")


def _forward(ctx: StageContext, doc: StoredDocument) -> int:
    agreement = ctx.agreement(doc.partner_id, doc.document_type, "inbound", required=False)
    if agreement is None or agreement.forward is None:
        return 0
    hub = (ctx.runtime.settings.hub_isa_qualifier, ctx.runtime.settings.hub_isa_id)
    out = pipeline.render(doc.body, doc.document_type, fmt=agreement.forward.format, version=agreement.x12_version,
                          sender=hub, receiver=hub, allocator=_render_allocator(ctx, doc.partner_id,
                                                                                agreement.forward.format),
                          clock=ctx.clock, payload_id=f"{ctx.message.id}.{doc.id}")
    stored = _store_outbound(ctx, source_key=f"fwd:{doc.id}", payload=out.payload, kind=out.kind,
                             fmt=pipeline.FORMAT_FAMILIES[agreement.forward.format],
                             content_type=out.content_type, recipient_id=None, channel=agreement.forward.channel)
    return int(stored is not None)


def _render_for_recipient(ctx: StageContext, doc: StoredDocument) -> int:
    recipient = ctx.message.recipient_id
    agreement = ctx.agreement(recipient, doc.document_type, "outbound")
    sender, receiver = _addresses(ctx, recipient, agreement.format, agreement.envelope)
    out = pipeline.render(doc.body, doc.document_type, fmt=agreement.format, version=agreement.x12_version,
                          sender=sender, receiver=receiver, allocator=_render_allocator(ctx, recipient, agreement.format),
                          clock=ctx.clock, usage="T" if agreement.mode == "test" else "P",
                          payload_id=f"{ctx.message.id}.{doc.id}", envelope=_outbound_envelope(agreement.envelope),
                          overrides=agreement.mapping_overrides)
    stored = _store_outbound(ctx, source_key=f"render:{doc.id}:{recipient}", payload=out.payload, kind=out.kind,
                             fmt=pipeline.FORMAT_FAMILIES[agreement.format], content_type=out.content_type,
                             recipient_id=recipient, channel=agreement.channel)
    if stored is not None and agreement.format == "x12" and agreement.expect_ack:
        overdue = (agreement.ack_within_hours * HOUR_S if agreement.ack_within_hours is not None
                   else ctx.runtime.settings.workflow.ack_overdue_after_s)
        ctx.conn.execute(t.acks.insert(), [
            {"direction": "expected", "kind": "997", "message_id": stored, "partner_id": recipient,
             "interchange_control": out.control_number, "group_control": control.lstrip("0") or "0",
             "status": "pending", "due_at": datetime.fromtimestamp(ctx.now + overdue, UTC),
             "created_at": ctx.at, "updated_at": ctx.at}
            for _functional_id, control in out.groups])
    return int(stored is not None)


def _render_allocator(ctx: StageContext, partner_id: int, fmt: str) -> DurableAllocator:
    allocator = ctx.allocator(partner_id)
    if fmt == "x12":
        allocator.prefetch({"ISA": 1, "GS": 1, "ST": 1})  # one reservation for the whole envelope
    return allocator


def _outbound_envelope(envelope: EnvelopeConfig | None) -> pipeline.OutboundEnvelope | None:
    if envelope is None:
        return None
    d = envelope.delimiters
    return pipeline.OutboundEnvelope(
        authorization=(envelope.authorization_qualifier, envelope.authorization),
        security=(envelope.security_qualifier, envelope.security), ack_requested=envelope.ta1_requested,
        delimiters=X12Delimiters(element=d.element, segment=d.segment, component=d.component,
                                 repetition=d.repetition))


def _addresses(ctx: StageContext, partner_id: int, fmt: str, envelope: EnvelopeConfig | None = None,
               ) -> tuple[tuple[str, str], tuple[str, str]]:
    """(our address, the partner's) in the outbound format: ISA qualifier/id, or cXML domain/identity.

    For X12 the agreement's envelope values, when set, replace the hub settings (ours) and the
    partner's first ISA identity (theirs).
    """
    settings = ctx.runtime.settings
    if fmt not in ("x12", "cxml"):
        return ("", ""), ("", "")
    kind = "isa" if fmt == "x12" else "cxml"
    ours = (settings.hub_isa_qualifier if fmt == "x12" else pipeline.HUB_CXML_DOMAIN, settings.hub_isa_id)
    if fmt == "x12" and envelope is not None:
        ours = (envelope.sender_qualifier or ours[0], envelope.sender_id or ours[1])
        if envelope.receiver_qualifier and envelope.receiver_id:
            return ours, (envelope.receiver_qualifier, envelope.receiver_id)
    value = ctx.remember(("identity", partner_id, kind), lambda: ctx.conn.execute(
        select(t.partner_identities.c.value).where(t.partner_identities.c.partner_id == partner_id,
                                                   t.partner_identities.c.kind == kind)
        .order_by(t.partner_identities.c.id)).scalar())
    if value is None:
        raise PartnerUnknown(f"partner {partner_id} has no {kind} identity to address {fmt} to")
    qualifier, _, identifier = value.partition(":")
    if fmt == "x12" and envelope is not None:
        return ours, (envelope.receiver_qualifier or qualifier, envelope.receiver_id or identifier)
    return ours, (qualifier, identifier)


def _final_status(ctx: StageContext) -> str:
    message, state = ctx.message, ctx.state
    if message.status == "duplicate":
        return "duplicate"
    counts = _status_counts(ctx) if state is None else {
        "interchanges": _tally(r["status"] for r in state.interchanges.values()),
        "sets": _tally(s["status"] for s in state.sets.values()),
        "documents": _tally(d.status for d in state.documents)}
    bad = sum(n for s, n in counts["interchanges"].items() if s != "accepted")
    bad += counts["sets"].get("R", 0) + counts["documents"].get("mapping_failed", 0)
    ok = sum(n for s, n in counts["documents"].items() if s != "mapping_failed")
    if bad == 0 and ok > 0:
        return "accepted"
    return "partially_accepted" if ok else "rejected"


def _tally(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return out


def _status_counts(ctx: StageContext) -> dict[str, dict[str, int]]:
    conn, message_id = ctx.conn, ctx.message.id
    counts: dict[str, dict[str, int]] = {}
    for name, table in (("interchanges", t.interchanges), ("sets", t.transaction_sets), ("documents", t.documents)):
        counts[name] = dict(conn.execute(select(table.c.status, func.count()).where(
            table.c.message_id == message_id).group_by(table.c.status)).all())
    return counts


# ------------------------------------------------------------------------------ deliver


def _deliver_pre(runtime: Runtime, work: WorkClaim) -> DeliveryResult | None:
    """Send outside any transaction (at-least-once: a crash before recording re-sends the same
    delivery id and idempotency key, which the receiver dedupes; FAULTS F3)."""
    with runtime.engine.connect() as conn:
        message = load_message(conn, work.message_id)
        if message.channel_config is None or _delivered(conn, message.id):
            return None
        payload = conn.execute(_payload_query(), {"sha": message.sha256}).scalar_one()
    channel = ChannelConfig.model_validate(message.channel_config)
    extension = {"x12": "x12", "xml": "xml"}.get(message.format, "json")
    delivery = OutboundDelivery(
        delivery_id=message.id, partner_id=str(message.recipient_id or ""), payload=payload,
        content_type=message.content_type or "application/octet-stream",
        filename_hint=f"{message.document_kind or 'message'}.{extension}",
        idempotency_key=message.id, metadata={"Document-Kind": str(message.document_kind or "")},
    )
    return runtime.transports.for_channel(channel).send(delivery)


def _delivered(conn: Connection, message_id: str) -> bool:
    return conn.execute(select(func.count()).select_from(t.delivery_attempts).where(
        t.delivery_attempts.c.message_id == message_id, t.delivery_attempts.c.outcome == "delivered")).scalar_one() > 0


def deliver(ctx: StageContext) -> StageResult:
    """Record the attempt made in ``pre`` and move the outbound message on."""
    result: DeliveryResult | None = ctx.pre
    if result is None:
        if _delivered(ctx.conn, ctx.message.id):
            ctx.update_message("delivered")
            return StageResult(None, "skipped", "already delivered")
        return StageResult(None, "skipped", "no channel")
    ctx.conn.execute(t.delivery_attempts.insert().values(
        message_id=ctx.message.id, attempt=ctx.work.attempts, outcome=result.outcome,
        status_code=result.status_code, error_code=result.error_code, detail=result.detail[:500],
        duration_ms=result.duration_ms, at=ctx.at))
    if result.outcome == "delivered":
        ctx.update_message("delivered")
        return StageResult(None, "ok", f"attempt {ctx.work.attempts}: {result.status_code or 'ok'}")
    reason = result.detail or result.error_code or result.outcome
    if result.outcome == "failed":
        return StageResult(None, "failed", reason, failure=(result.error_code or "DELIVERY_FAILED", reason))
    return StageResult(None, "retry", reason, retry=Retry(result.error_code or "DELIVERY_RETRY", reason,
                                                        result.retry_after_s))


STAGES: dict[str, Stage] = {
    "parse": Stage(parse),
    "acknowledge": Stage(acknowledge),
    "map": Stage(map_documents),
    "apply": Stage(apply),
    "route": Stage(route),
    "deliver": Stage(deliver, pre=_deliver_pre),
}
