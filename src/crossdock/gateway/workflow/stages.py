"""The stages, as plain functions of a :class:`StageContext`; the runner owns the transaction.

Inbound chain (one work item each, one transaction and one timeline event each)::

    parse ─► acknowledge ─► map ─► apply ─► route          (X12)
    parse ─────────────────► map ─► apply ─► route          (XML / JSON)
                                           └─► deliver    (each outbound message: acks, renders)

Every stage is idempotent on a replay: rows it writes are keyed (``insert_ignore`` on unique
columns, ``source_key`` on derived messages), effects only touch documents still ``mapped``.

Test lane (decision): an interchange with ISA15 = ``T``, or any message from a partner whose
agreement is in ``test`` mode, is parsed, validated, acknowledged and mapped, its documents are
stored with ``test = true`` — but the effects service never sees them and nothing is routed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection, Row

from crossdock.adapters.transports import DeliveryResult, OutboundDelivery
from crossdock.gateway import pipeline
from crossdock.gateway.effects import AppliedDocument
from crossdock.gateway.ingest import new_message_id
from crossdock.gateway.partners import (
    AgreementConfig,
    ChannelConfig,
    find_agreement,
    isa_identity,
    partner_by_identity,
)
from crossdock.gateway.runtime import Runtime
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.counters import DurableAllocator, reserve, reserve_in
from crossdock.gateway.store.engine import insert_ignore, is_postgres
from crossdock.gateway.workflow.dedupe import claim_key
from crossdock.gateway.workflow.outbox import WorkClaim, add_work
from crossdock.schemas.errors import PartnerUnknown, has_errors

__all__ = ["StageContext", "StageResult", "Retry", "Stage", "STAGES", "INBOUND_FIRST_STAGE", "SenderMismatch"]

INBOUND_FIRST_STAGE = "parse"
DAY_S = 86400.0
_ACCEPTED_SETS = ("A", "E")


class SenderMismatch(PartnerUnknown):
    """The ISA sender is another partner than the authenticated one (BAD_INPUT 22)."""

    code = "SENDER_MISMATCH"


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
        next_stage: the stage to run next on the same message (pre-claimed by this worker).
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
class StageContext:
    runtime: Runtime
    conn: Connection
    work: WorkClaim
    message: Row
    now: float
    pre: Any = None
    #: work items created by the stage for other messages, dispatched after commit
    spawned: list[int] = field(default_factory=list)

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.now, UTC)

    def payload(self) -> bytes:
        return self.conn.execute(
            select(t.payloads.c.data).where(t.payloads.c.sha256 == self.message.sha256)
        ).scalar_one()

    def x12(self) -> pipeline.X12Reading:
        """The message's X12 reading (cached per process by content hash)."""
        message = self.message
        return self.runtime.readings.get(message.sha256, message.size, lambda: pipeline.read_x12(self.payload()))

    def allocator(self, partner_id: int) -> DurableAllocator:
        """Durable control numbers: own committed transaction on PostgreSQL, the stage's on SQLite."""
        if is_postgres(self.conn):
            engine = self.runtime.engine
            return DurableAllocator(lambda kind, count: reserve(engine, partner_id, kind, count))
        conn = self.conn
        return DurableAllocator(lambda kind, count: reserve_in(conn, partner_id, kind, count))

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


def set_message_status(conn: Connection, message_id: str, status: str, *, at: datetime,
                       code: str | None = None, reason: str | None = None, **extra: Any) -> None:
    conn.execute(update(t.messages).where(t.messages.c.id == message_id)
                 .values(status=status, error_code=code, error_reason=reason, updated_at=at, **extra))


def _first_set_type(view: pipeline.InterchangeView, sets: Iterable[pipeline.SetView]) -> str:
    for s in sets:
        if s.interchange_position == view.position:
            return pipeline.SET_DOCUMENT_TYPES.get(s.set_id, "*")
    return "*"


def _store_outbound(ctx: StageContext, *, source_key: str, payload: bytes, kind: str, fmt: str,
                    content_type: str, recipient_id: int | None, channel: ChannelConfig | None,
                    test: bool = False) -> str | None:
    """Store a derived outbound message (and queue its delivery); None if it already exists."""
    import hashlib

    conn = ctx.conn
    digest = hashlib.sha256(payload).hexdigest()
    insert_ignore(conn, t.payloads, {"sha256": digest, "size": len(payload), "data": payload}, ("sha256",))
    message_id = new_message_id()
    inserted = insert_ignore(conn, t.messages, {
        "id": message_id, "direction": "outbound", "channel": channel.kind if channel else "stored",
        "partner_id": None, "recipient_id": recipient_id, "parent_id": ctx.message.id, "format": fmt,
        "document_kind": kind, "sha256": digest, "size": len(payload), "content_type": content_type,
        "source_key": source_key, "channel_config": channel.model_dump(mode="json") if channel else None,
        "received_at": ctx.at, "updated_at": ctx.at, "status": "queued" if channel else "stored", "test": test,
    }, ("source_key",))
    if not inserted:
        return None
    if channel is not None:
        ctx.spawned.append(add_work(conn, message_id, "deliver", now=ctx.now))
    return message_id


def _ack_channel(conn: Connection, partner_id: int) -> ChannelConfig | None:
    agreement = find_agreement(conn, partner_id, "functional_ack", "outbound", required=False)
    return agreement.channel if agreement else None


# -------------------------------------------------------------------------------- parse


def parse(ctx: StageContext) -> StageResult:
    """Read and validate; resolve partners; detect duplicates; store the envelope structure."""
    message = ctx.message
    if message.format != "x12":
        return _parse_document_message(ctx)
    reading = ctx.x12()
    if reading.error is not None:
        raise reading.error
    conn = ctx.conn
    sha_owner = message.partner_id
    partners: dict[str, Any] = {}
    rows, group_rows, set_rows = [], [], []
    group_dups: set[tuple[int, int]] = set()
    for view in reading.interchanges:
        identity = isa_identity(*view.sender)
        if identity not in partners:
            partners[identity] = partner_by_identity(conn, "isa", identity)
        partner = partners[identity]
        status, duplicate_of, test = view.status, None, view.usage == "T"
        if partner is None:
            status = "partner_unknown"
        elif message.partner_id is not None and partner.id != message.partner_id:
            # Never file interchange data under a partner other than the authenticated one.
            status, partner = "sender_mismatch", None
        else:
            sha_owner = sha_owner or partner.id
            agreement = find_agreement(conn, partner.id, _first_set_type(view, reading.sets), "inbound")
            test = test or agreement.mode == "test"
            window = ctx.window_s(agreement)
            duplicate_of = claim_key(conn, "isa", f"{identity}:{view.control_number}", message.id,
                                     now=ctx.now, window_s=window)
            if duplicate_of is not None:
                status = "duplicate"
            else:
                for group in view.groups:
                    if claim_key(conn, "gs", f"{identity}:{group.application_sender}:{group.control_number}",
                                 message.id, now=ctx.now, window_s=window):
                        group_dups.add((view.position, group.position))
        rows.append({"message_id": message.id, "position": view.position,
                     "partner_id": partner.id if partner else None, "sender": identity,
                     "receiver": isa_identity(*view.receiver), "control_number": view.control_number,
                     "version": view.version, "usage": view.usage or "P", "status": status,
                     "ta1_code": view.ta1_code, "test": test, "duplicate_of": duplicate_of})
        group_rows.extend({"message_id": message.id, "interchange_position": view.position,
                           "position": g.position, "functional_id": g.functional_id,
                           "control_number": g.control_number, "version": g.version, "status": g.status,
                           "ak9_codes": list(g.ak9_codes)} for g in view.groups)
    if not any(r["partner_id"] for r in rows):
        identities = ", ".join(sorted(partners)) or "none"
        if any(r["status"] == "sender_mismatch" for r in rows):
            raise SenderMismatch(f"ISA sender(s) {identities} are not the authenticated partner")
        raise PartnerUnknown(f"no registered partner for ISA sender(s) {identities}")
    skipped = {r["position"] for r in rows if r["status"] != "accepted" and r["status"] != "rejected"}
    for s in reading.sets:
        duplicate = s.interchange_position in skipped or (s.interchange_position, s.group_position) in group_dups
        set_rows.append({"message_id": message.id, "position": s.position,
                         "interchange_position": s.interchange_position, "group_position": s.group_position,
                         "set_id": s.set_id, "control_number": s.control_number,
                         "status": "D" if duplicate else s.status, "errors": list(s.errors)})
    insert_ignore(conn, t.interchanges, rows, ("message_id", "position"))
    if group_rows:
        insert_ignore(conn, t.groups, group_rows, ("message_id", "interchange_position", "position"))
    if set_rows:
        insert_ignore(conn, t.transaction_sets, set_rows, ("message_id", "position"))
    content_dup = claim_key(conn, "sha", f"{sha_owner}:{message.sha256}", message.id, now=ctx.now,
                            window_s=ctx.window_s(None))
    all_dup = content_dup is not None or all(r["status"] == "duplicate" for r in rows)
    set_message_status(conn, message.id, "duplicate" if all_dup else "processing", at=ctx.at,
                       partner_id=message.partner_id or sha_owner, test=all(r["test"] for r in rows),
                       document_kind=message.document_kind if message.document_kind != "x12" else
                       ",".join(sorted({s.set_id for s in reading.sets})) or "x12")
    detail = f"{len(rows)} interchange(s), {len(group_rows)} group(s), {len(set_rows)} set(s)"
    if content_dup is not None:
        # Identical bytes: the first copy is answered already; a TA1 025 is sent per policy.
        conn.execute(update(t.interchanges).where(t.interchanges.c.message_id == message.id,
                                                  t.interchanges.c.status == "accepted")
                     .values(status="duplicate", duplicate_of=content_dup))
        conn.execute(update(t.transaction_sets).where(t.transaction_sets.c.message_id == message.id)
                     .values(status="D"))
        return StageResult("acknowledge", "duplicate", f"{detail}; same content as {content_dup}")
    return StageResult("acknowledge", "duplicate" if all_dup else "ok", detail)


def _parse_document_message(ctx: StageContext) -> StageResult:
    message = ctx.message
    if message.partner_id is None:
        raise PartnerUnknown("XML and JSON messages need an authenticated sender")
    agreement = find_agreement(ctx.conn, message.partner_id, "*", "inbound", required=False)
    duplicate_of = claim_key(ctx.conn, "sha", f"{message.partner_id}:{message.sha256}", message.id,
                             now=ctx.now, window_s=ctx.window_s(agreement))
    if duplicate_of is not None:
        set_message_status(ctx.conn, message.id, "duplicate", at=ctx.at)
        return StageResult(None, "duplicate", f"same content as {duplicate_of}")
    test = agreement is not None and agreement.mode == "test"
    set_message_status(ctx.conn, message.id, "processing", at=ctx.at, test=test)
    return StageResult("map", "ok", message.document_kind or "")


# -------------------------------------------------------------------------- acknowledge


def acknowledge(ctx: StageContext) -> StageResult:
    """Queue TA1/997/999 per the sender's agreement, numbered by the durable allocator."""
    conn, message = ctx.conn, ctx.message
    already = conn.execute(select(func.count()).select_from(t.acks).where(
        t.acks.c.message_id == message.id, t.acks.c.direction == "sent")).scalar_one()
    rows = {r.position: r for r in conn.execute(select(t.interchanges).where(t.interchanges.c.message_id == message.id))}
    if already or not rows:
        return StageResult("map", "skipped", "acks already sent" if already else "no interchange")
    reading = ctx.x12()
    dup_groups = {(r.interchange_position, r.group_position) for r in conn.execute(
        select(t.transaction_sets.c.interchange_position, t.transaction_sets.c.group_position)
        .where(t.transaction_sets.c.message_id == message.id, t.transaction_sets.c.status == "D"))}
    sent = 0
    for view in reading.interchanges:
        row = rows.get(view.position)
        if row is None or row.partner_id is None or row.status in ("partner_unknown", "sender_mismatch"):
            continue
        sent += _acknowledge_interchange(ctx, view, row, reading, dup_groups)
    next_stage = "map" if message.status != "duplicate" else "route"
    return StageResult(next_stage, "ok", f"{sent} ack interchange(s)")


def _acknowledge_interchange(ctx: StageContext, view: pipeline.InterchangeView, row: Row,
                             reading: pipeline.X12Reading, dup_groups: set[tuple[int, int]]) -> int:
    from dataclasses import replace

    agreement = find_agreement(ctx.conn, row.partner_id, _first_set_type(view, reading.sets), "inbound")
    allocator = ctx.allocator(row.partner_id)
    if row.status == "duplicate":
        # TA1 R/025 only where asked: ISA14 = 1 under "on_request", or always under "always".
        if agreement.ta1 == "never" or (agreement.ta1 == "on_request" and not view.report.ta1_requested):
            return 0
        allocator.prefetch("ISA", 1)
        rendered = pipeline.duplicate_ta1(view.report, allocator=allocator, clock=ctx.clock)
    else:
        report = view.report
        fresh = tuple(g for i, g in enumerate(report.groups) if (view.position, i) not in dup_groups)
        if len(fresh) != len(report.groups):
            report = replace(report, groups=fresh)
        allocator.prefetch("ISA", 1)
        allocator.prefetch("GS", len(fresh))
        allocator.prefetch("ST", len(fresh))
        rendered = pipeline.build_acks(report, allocator=allocator, clock=ctx.clock, ack_type=agreement.ack,
                                       ta1=agreement.ta1)
    channel = _ack_channel(ctx.conn, row.partner_id)
    for index, ack in enumerate(rendered):
        ack_id = _store_outbound(ctx, source_key=f"ack:{ctx.message.id}:{view.position}:{index}",
                                 payload=ack.payload, kind=ack.kind, fmt="x12", content_type="application/edi-x12",
                                 recipient_id=row.partner_id, channel=channel, test=row.test)
        ctx.conn.execute(t.acks.insert().values(
            direction="sent", kind=ack.kind, message_id=ctx.message.id, ack_message_id=ack_id,
            partner_id=row.partner_id, interchange_control=view.control_number,
            group_control=_answered_groups(view, ack), status=ack.status or "accepted",
            created_at=ctx.at, updated_at=ctx.at))
    return len(rendered)


def _answered_groups(view: pipeline.InterchangeView, ack: pipeline.RenderedInterchange) -> str | None:
    # The inbound GS06 a 997/999 answers is what an operator searches by.
    if ack.kind == "TA1" or not view.groups:
        return None
    return ",".join(g.control_number for g in view.groups)[:16]


# ---------------------------------------------------------------------------------- map


def map_documents(ctx: StageContext) -> StageResult:
    """Map accepted sets (or XML/JSON documents) to canonical documents and store them."""
    message, conn = ctx.message, ctx.conn
    existing = dict(conn.execute(select(t.documents.c.position, t.documents.c.status)
                                 .where(t.documents.c.message_id == message.id)).all())
    if message.format == "x12":
        mapped, owners = _map_x12(ctx, existing)
    else:
        detected = pipeline.Detected(message.format, message.document_kind)
        mapped = [d for d in pipeline.read_documents(ctx.payload(), detected)
                  if existing.get(d.position) in (None, "mapping_failed")]
        # Documents our host addresses to a partner belong to that trading relationship.
        owner = message.recipient_id or message.partner_id
        owners = defaultdict(lambda: (owner, bool(message.test)))
    _store_documents(ctx, mapped, owners, existing)
    failed = sum(1 for d in mapped if d.body is None or has_errors(d.issues))
    return StageResult("apply", "ok", f"{len(mapped)} document(s), {failed} failed")


def _map_x12(ctx: StageContext, existing: dict[int, str]):
    conn, message = ctx.conn, ctx.message
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
        if view.set_id in ("997", "999"):
            _record_received_ack(ctx, view, owners[view.position][0])
        mapped.append(pipeline.map_set(view))
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
    for row in retried:
        conn.execute(update(t.documents).where(t.documents.c.message_id == row["message_id"],
                                               t.documents.c.position == row["position"])
                     .values(**{k: v for k, v in row.items() if k not in ("message_id", "position", "created_at")}))
    if fresh:
        conn.execute(t.documents.insert(), fresh)
    keyed = [d for d in mapped if d.keys]
    if not keyed:
        return
    ids = dict(conn.execute(select(t.documents.c.position, t.documents.c.id).where(
        t.documents.c.message_id == ctx.message.id)).all())
    key_rows = [{"document_id": ids[d.position], "name": name, "value": value}
                for d in keyed for name, value in d.keys]
    insert_ignore(conn, t.document_keys, key_rows, ("document_id", "name", "value"))


# -------------------------------------------------------------------------------- apply

_LINKS = {"ship_notice": ("ships", ("purchase_order",)),
          "invoice": ("invoices", ("purchase_order", "ship_notice")),
          "order_response": ("acknowledges", ("purchase_order",)),
          "order_change": ("changes", ("purchase_order",))}


def apply(ctx: StageContext) -> StageResult:
    """Hand new production documents to the effects service, link related documents."""
    conn, message = ctx.conn, ctx.message
    docs = conn.execute(select(t.documents.c.id, t.documents.c.document_type, t.documents.c.partner_id,
                               t.documents.c.body, t.documents.c.test)
                        .where(t.documents.c.message_id == message.id, t.documents.c.status == "mapped")).all()
    production = [d for d in docs if not d.test]
    keys: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    if production:
        for key in conn.execute(select(t.document_keys).join(t.documents).where(
                t.documents.c.message_id == message.id)):
            keys[key.document_id][key.name].append(key.value)
    applied = [AppliedDocument(d.id, d.document_type, d.partner_id,
                               {k: tuple(v) for k, v in keys[d.id].items()}, json.loads(d.body))
               for d in production]
    issues = ctx.runtime.effects.apply(conn, applied, now=ctx.at) if applied else []
    links = _link(conn, applied)
    if production:
        conn.execute(update(t.documents).where(t.documents.c.message_id == message.id,
                                               t.documents.c.status == "mapped", t.documents.c.test.is_(False))
                     .values(status="applied"))
    if len(production) != len(docs):
        conn.execute(update(t.documents).where(t.documents.c.message_id == message.id,
                                               t.documents.c.status == "mapped", t.documents.c.test.is_(True))
                     .values(status="test"))
    return StageResult("route", "ok", f"{len(applied)} applied, {len(docs) - len(production)} test, "
                                      f"{links} link(s), {len(issues)} issue(s)")


def _link(conn: Connection, documents: list[AppliedDocument]) -> int:
    rows = []
    for document in documents:
        relation, targets = _LINKS.get(document.document_type, (None, ()))
        numbers = document.keys.get("po_number", ())
        if not relation or not numbers:
            continue
        found = conn.execute(
            select(t.documents.c.id).join(t.document_keys, and_(
                t.document_keys.c.document_id == t.documents.c.id, t.document_keys.c.name == "po_number"))
            .where(t.document_keys.c.value.in_(numbers), t.documents.c.partner_id == document.partner_id,
                   t.documents.c.document_type.in_(targets), t.documents.c.id != document.id)
        ).scalars().all()
        rows.extend({"from_document_id": document.id, "to_document_id": target, "relation": relation}
                    for target in set(found))
    if rows:
        insert_ignore(conn, t.document_links, rows, ("from_document_id", "to_document_id"))
    return len(rows)


# -------------------------------------------------------------------------------- route


def route(ctx: StageContext) -> StageResult:
    """Render what agreements ask for (forwards, documents for a recipient) and settle the status."""
    conn, message = ctx.conn, ctx.message
    docs = conn.execute(select(t.documents.c.id, t.documents.c.document_type, t.documents.c.partner_id,
                               t.documents.c.body)
                        .where(t.documents.c.message_id == message.id, t.documents.c.status == "applied")).all()
    rendered = 0
    for doc in docs:
        if message.recipient_id is not None:
            rendered += _render_for_recipient(ctx, doc)
        elif doc.partner_id is not None:
            rendered += _forward(ctx, doc)
    status = _final_status(conn, message)
    set_message_status(conn, message.id, status, at=ctx.at)
    return StageResult(None, "ok", f"{rendered} outbound, status {status}")


def _forward(ctx: StageContext, doc: Row) -> int:
    agreement = find_agreement(ctx.conn, doc.partner_id, doc.document_type, "inbound", required=False)
    if agreement is None or agreement.forward is None:
        return 0
    out = pipeline.render(doc.body, doc.document_type, fmt=agreement.forward.format, version=agreement.x12_version,
                          sender=(ctx.runtime.settings.hub_isa_qualifier, ctx.runtime.settings.hub_isa_id),
                          receiver=(ctx.runtime.settings.hub_isa_qualifier, ctx.runtime.settings.hub_isa_id),
                          allocator=ctx.allocator(doc.partner_id), clock=ctx.clock)
    stored = _store_outbound(ctx, source_key=f"fwd:{doc.id}", payload=out.payload, kind=out.kind,
                             fmt="json" if out.content_type == "application/json" else "x12",
                             content_type=out.content_type, recipient_id=None, channel=agreement.forward.channel)
    return int(stored is not None)


def _render_for_recipient(ctx: StageContext, doc: Row) -> int:
    recipient = ctx.message.recipient_id
    agreement = find_agreement(ctx.conn, recipient, doc.document_type, "outbound")
    receiver = _isa_of(ctx.conn, recipient)
    settings = ctx.runtime.settings
    out = pipeline.render(doc.body, doc.document_type, fmt=agreement.format, version=agreement.x12_version,
                          sender=(settings.hub_isa_qualifier, settings.hub_isa_id), receiver=receiver,
                          allocator=ctx.allocator(recipient), clock=ctx.clock,
                          usage="T" if agreement.mode == "test" else "P")
    stored = _store_outbound(ctx, source_key=f"render:{doc.id}:{recipient}", payload=out.payload, kind=out.kind,
                             fmt="x12" if agreement.format == "x12" else "json", content_type=out.content_type,
                             recipient_id=recipient, channel=agreement.channel)
    if stored is not None and agreement.format == "x12" and agreement.expect_ack:
        overdue = ctx.runtime.settings.workflow.ack_overdue_after_s
        ctx.conn.execute(t.acks.insert(), [
            {"direction": "expected", "kind": "997", "message_id": stored, "partner_id": recipient,
             "interchange_control": out.control_number, "group_control": control.lstrip("0") or "0",
             "status": "pending", "due_at": datetime.fromtimestamp(ctx.now + overdue, UTC),
             "created_at": ctx.at, "updated_at": ctx.at}
            for _functional_id, control in out.groups])
    return int(stored is not None)


def _isa_of(conn: Connection, partner_id: int) -> tuple[str, str]:
    value = conn.execute(select(t.partner_identities.c.value).where(
        t.partner_identities.c.partner_id == partner_id, t.partner_identities.c.kind == "isa")
        .order_by(t.partner_identities.c.id)).scalar()
    if value is None:
        raise PartnerUnknown(f"partner {partner_id} has no ISA identity to address X12 to")
    qualifier, _, identifier = value.partition(":")
    return qualifier, identifier


def _final_status(conn: Connection, message: Row) -> str:
    if message.status == "duplicate":
        return "duplicate"
    ok = bad = 0
    if message.format == "x12":
        for status, count in conn.execute(select(t.interchanges.c.status, func.count()).where(
                t.interchanges.c.message_id == message.id).group_by(t.interchanges.c.status)):
            if status != "accepted":
                bad += count
        for status, count in conn.execute(select(t.transaction_sets.c.status, func.count()).where(
                t.transaction_sets.c.message_id == message.id).group_by(t.transaction_sets.c.status)):
            if status == "R":
                bad += count
    for status, count in conn.execute(select(t.documents.c.status, func.count()).where(
            t.documents.c.message_id == message.id).group_by(t.documents.c.status)):
        if status == "mapping_failed":
            bad += count
        else:
            ok += count
    if bad == 0 and ok > 0:
        return "accepted"
    return "partially_accepted" if ok else "rejected"


# ------------------------------------------------------------------------------ deliver


def _deliver_pre(runtime: Runtime, work: WorkClaim) -> DeliveryResult | None:
    """Send outside any transaction (at-least-once: a crash before recording re-sends the same
    delivery id and idempotency key, which the receiver dedupes; FAULTS F3)."""
    with runtime.engine.connect() as conn:
        message = conn.execute(select(t.messages).where(t.messages.c.id == work.message_id)).one()
        if message.channel_config is None or _delivered(conn, message.id):
            return None
        payload = conn.execute(select(t.payloads.c.data).where(t.payloads.c.sha256 == message.sha256)).scalar_one()
    channel = ChannelConfig.model_validate(message.channel_config)
    delivery = OutboundDelivery(
        delivery_id=message.id, partner_id=str(message.recipient_id or ""), payload=payload,
        content_type=message.content_type or "application/octet-stream",
        filename_hint=f"{message.document_kind or 'message'}.{'x12' if message.format == 'x12' else 'json'}",
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
            set_message_status(ctx.conn, ctx.message.id, "delivered", at=ctx.at)
            return StageResult(None, "skipped", "already delivered")
        return StageResult(None, "skipped", "no channel")
    ctx.conn.execute(t.delivery_attempts.insert().values(
        message_id=ctx.message.id, attempt=ctx.work.attempts, outcome=result.outcome,
        status_code=result.status_code, error_code=result.error_code, detail=result.detail[:500],
        duration_ms=result.duration_ms, at=ctx.at))
    if result.outcome == "delivered":
        set_message_status(ctx.conn, ctx.message.id, "delivered", at=ctx.at)
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
