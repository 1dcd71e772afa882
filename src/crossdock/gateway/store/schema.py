"""The tables, as SQLAlchemy Core metadata (the Alembic migrations are the source of DDL).

Lineage (STYLE item 2): every derived row points at its parent, so an outbound file traces
back to the inbound bytes::

    payloads (sha256) ◄── messages ──► interchanges ──► groups ──► transaction_sets
                             │  ▲                                         │
                             │  └── parent_id (outbound acks, renders)    ▼
                             ├──► events (timeline)                  documents ──► document_keys
                             ├──► work_items (outbox)                    │   └──► document_links
                             ├──► acks, delivery_attempts                ▼
                             └──► dedupe_keys                       orders ──► order_lines

Times are timezone-aware UTC (:class:`UtcDateTime`); lease and retry instants are epoch seconds
(``Float``) because they are only compared, never shown.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "metadata",
    "UtcDateTime",
    "partners",
    "partner_identities",
    "agreements",
    "control_counters",
    "payloads",
    "messages",
    "interchanges",
    "groups",
    "transaction_sets",
    "documents",
    "document_keys",
    "document_links",
    "orders",
    "order_lines",
    "events",
    "acks",
    "delivery_attempts",
    "work_items",
    "dedupe_keys",
]


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite keeps no offset, so store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(32)

partners = Table(
    "partners",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False, default="partner"),  # partner | host
    Column("created_at", UtcDateTime, nullable=False),
)

partner_identities = Table(
    "partner_identities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("partner_id", ForeignKey("partners.id"), nullable=False, index=True),
    # isa: "ZZ:SENDERID"; gs: application code; api_key: sha256 hex of the key; cxml: domain:id
    Column("kind", String(16), nullable=False),
    Column("value", String(128), nullable=False),
    UniqueConstraint("kind", "value"),
)

agreements = Table(
    "agreements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("partner_id", ForeignKey("partners.id"), nullable=False),
    Column("document_type", String(40), nullable=False),  # canonical type or "*"
    Column("direction", String(8), nullable=False),  # inbound | outbound
    Column("config", JSON, nullable=False),  # AgreementConfig, validated on read and write
    UniqueConstraint("partner_id", "document_type", "direction"),
)

control_counters = Table(
    "control_counters",
    metadata,
    Column("partner_id", ForeignKey("partners.id"), primary_key=True),
    Column("kind", String(8), primary_key=True),  # ISA | GS | ST
    Column("value", BigInteger, nullable=False, default=0),
)

payloads = Table(
    "payloads",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", ID, primary_key=True),
    Column("direction", String(8), nullable=False),  # inbound | outbound
    Column("channel", String(16), nullable=False),  # http | inbox | replay | internal
    Column("partner_id", ForeignKey("partners.id"), nullable=True, index=True),
    Column("recipient_id", ForeignKey("partners.id"), nullable=True),
    Column("parent_id", ForeignKey("messages.id"), nullable=True, index=True),
    Column("format", String(16), nullable=False),  # x12 | xml | json | unknown
    Column("document_kind", String(40), nullable=True),  # e.g. 850, 997, cxml:OrderRequest
    Column("sha256", ForeignKey("payloads.sha256"), nullable=False, index=True),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(128), nullable=True),
    Column("filename", String(255), nullable=True),  # partner-supplied name: metadata only
    Column("idempotency_key", String(300), nullable=True, unique=True),
    # derived outbound messages: what produced them ("ack:<msg>:<n>", "render:<doc>"), unique so
    # a replayed stage finds its earlier output instead of producing a second one
    Column("source_key", String(200), nullable=True, unique=True),
    Column("channel_config", JSON, nullable=True),  # outbound: the channel used, as configured
    Column("received_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("status", String(24), nullable=False),
    Column("error_code", String(64), nullable=True),
    Column("error_reason", Text, nullable=True),
    Column("test", Boolean, nullable=False, default=False),
    Index(None, "received_at"),
    Index(None, "status"),
)

interchanges = Table(
    "interchanges",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", ForeignKey("messages.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("partner_id", ForeignKey("partners.id"), nullable=True),
    Column("sender", String(40), nullable=False),  # "ZZ:SENDERID"
    Column("receiver", String(40), nullable=False),
    Column("control_number", String(16), nullable=False, index=True),
    Column("version", String(8), nullable=False),
    Column("usage", String(1), nullable=False),
    Column("status", String(16), nullable=False),
    Column("ta1_code", String(4), nullable=True),
    Column("test", Boolean, nullable=False, default=False),
    Column("duplicate_of", ID, nullable=True),
    UniqueConstraint("message_id", "position"),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", ForeignKey("messages.id"), nullable=False, index=True),
    Column("interchange_position", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("functional_id", String(4), nullable=False),
    Column("control_number", String(16), nullable=False, index=True),
    Column("version", String(16), nullable=False),
    Column("status", String(2), nullable=False),
    Column("ak9_codes", JSON, nullable=False),
    UniqueConstraint("message_id", "interchange_position", "position"),
)

transaction_sets = Table(
    "transaction_sets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", ForeignKey("messages.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),  # order within the message, from 0
    Column("interchange_position", Integer, nullable=False),
    Column("group_position", Integer, nullable=False),
    Column("set_id", String(8), nullable=False),
    Column("control_number", String(16), nullable=False, index=True),
    Column("status", String(2), nullable=False),  # A | E | R | D (duplicate)
    Column("errors", JSON, nullable=False),
    UniqueConstraint("message_id", "position"),
)

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", ForeignKey("messages.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("document_type", String(40), nullable=False),
    Column("partner_id", ForeignKey("partners.id"), nullable=True),
    Column("status", String(16), nullable=False),  # mapped | mapping_failed | applied
    Column("test", Boolean, nullable=False, default=False),
    Column("issues", JSON, nullable=False),
    Column("body", Text, nullable=True),  # canonical JSON
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("message_id", "position"),
)

document_keys = Table(
    "document_keys",
    metadata,
    Column("document_id", ForeignKey("documents.id"), primary_key=True),
    Column("name", String(40), primary_key=True),
    Column("value", String(120), primary_key=True),
    Index(None, "name", "value"),
)

document_links = Table(
    "document_links",
    metadata,
    Column("from_document_id", ForeignKey("documents.id"), primary_key=True),
    Column("to_document_id", ForeignKey("documents.id"), primary_key=True),
    Column("relation", String(24), nullable=False),  # ships | invoices | acknowledges | changes
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("partner_id", ForeignKey("partners.id"), nullable=False),
    Column("po_number", String(80), nullable=False),
    Column("document_id", ForeignKey("documents.id"), nullable=False),
    Column("status", String(24), nullable=False),  # open | acknowledged | shipped | invoiced
    Column("line_count", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("partner_id", "po_number"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", ForeignKey("orders.id"), primary_key=True),
    Column("line_number", String(40), primary_key=True),
    Column("item", String(120), nullable=True),
    Column("quantity", String(40), nullable=True),
    Column("unit", String(8), nullable=True),
    Column("unit_price", String(40), nullable=True),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", ForeignKey("messages.id"), nullable=False, index=True),
    Column("stage", String(24), nullable=False),
    Column("outcome", String(16), nullable=False),  # ok | duplicate | retry | failed | dead | ...
    Column("duration_ms", Float, nullable=False),
    Column("detail", Text, nullable=True),
    Column("at", UtcDateTime, nullable=False),
)

acks = Table(
    "acks",
    metadata,
    Column("id", Integer, primary_key=True),
    # sent: our ack of message_id; expected: an ack we await for our outbound message_id;
    # received: an ack a partner sent (message_id is that inbound ack message)
    Column("direction", String(8), nullable=False),
    Column("kind", String(4), nullable=False),  # 997 | 999 | TA1
    Column("message_id", ForeignKey("messages.id"), nullable=False, index=True),
    Column("ack_message_id", ForeignKey("messages.id"), nullable=True),
    Column("partner_id", ForeignKey("partners.id"), nullable=True),
    Column("interchange_control", String(16), nullable=True),
    Column("group_control", String(16), nullable=True),
    # pending | accepted | partially_accepted | rejected | overdue
    Column("status", String(24), nullable=False),
    Column("due_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "partner_id", "group_control"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", ForeignKey("messages.id"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),  # delivered | retry | failed
    Column("status_code", Integer, nullable=True),
    Column("error_code", String(64), nullable=True),
    Column("detail", Text, nullable=True),
    Column("duration_ms", Float, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

work_items = Table(
    "work_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", ForeignKey("messages.id"), nullable=False, index=True),
    Column("stage", String(24), nullable=False),
    Column("generation", Integer, nullable=False, default=0),  # bumped by a full replay
    Column("state", String(12), nullable=False),  # pending | running | done | failed | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("available_at", Float, nullable=False),
    Column("lease_until", Float, nullable=True),
    Column("dispatched_at", Float, nullable=True),
    Column("last_error_code", String(64), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("message_id", "stage", "generation"),
    Index(None, "state", "available_at"),
)

dedupe_keys = Table(
    "dedupe_keys",
    metadata,
    Column("scope", String(8), primary_key=True),  # isa | sha | gs | st
    Column("key", String(200), primary_key=True),
    Column("message_id", ID, nullable=False),
    Column("seen_at", Float, nullable=False),
)
