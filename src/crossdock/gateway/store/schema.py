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
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
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
    "message_notes",
    "alert_rules",
    "alert_firings",
    "api_keys",
    "users",
    "sessions",
    "audit_log",
    "inv_items",
    "inv_locations",
    "inv_item_locations",
    "inv_movements",
    "inv_reported_periods",
    "inv_forecasts",
    "inv_programs",
    "inv_proposals",
    "inv_replan_requests",
    "inv_runs",
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
    # identity issue (migration 0002): the profile beyond identities and agreements
    Column("roles", JSON, nullable=False, default=list),  # supplier | customer | carrier | 3pl
    Column("status", String(16), nullable=False, default="live"),  # onboarding | test | live | suspended
    Column("as2_id", String(128), nullable=True),
    Column("contacts", JSON, nullable=False, default=list),
    Column("rate_limit_per_minute", Integer, nullable=True),
    Column("updated_at", UtcDateTime, nullable=True),
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
    Column("partner_id", ForeignKey("partners.id"), nullable=True),  # (partner_id, received_at) below
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
    # status alone: (status, received_at) below (migration 0006)
)

interchanges = Table(
    "interchanges",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", ForeignKey("messages.id"), nullable=False),  # indexed by the unique constraint
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
    Column("message_id", ForeignKey("messages.id"), nullable=False),  # indexed by the unique constraint
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
    Column("message_id", ForeignKey("messages.id"), nullable=False),  # indexed by the unique constraint
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
    Column("message_id", ForeignKey("messages.id"), nullable=False),  # indexed by the unique constraint
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
    # a claim's fill: the oldest due pending items, in id order (migration 0005)
    Index("ix_work_items_pending_id", "id", postgresql_where=text("state = 'pending'"),
          sqlite_where=text("state = 'pending'")),
)

dedupe_keys = Table(
    "dedupe_keys",
    metadata,
    Column("scope", String(8), primary_key=True),  # isa | sha | gs | st
    Column("key", String(200), primary_key=True),
    Column("message_id", ID, nullable=False),
    Column("seen_at", Float, nullable=False),
)

# ----------------------------------------------------------------- operations (migration 0004)

# Ops search on a million messages (see benchmarks/ops_search.py): every filter is an index
# range ending in received_at, so "newest first, LIMIT 50" walks one index and stops early.
Index("ix_messages_partner_id_received_at", messages.c.partner_id, messages.c.received_at)
Index("ix_messages_recipient_id_received_at", messages.c.recipient_id, messages.c.received_at)
Index("ix_messages_status_received_at", messages.c.status, messages.c.received_at)
Index("ix_messages_document_kind_received_at", messages.c.document_kind, messages.c.received_at)
# business keys are searched by value alone (a PO number without saying it is one)
Index("ix_document_keys_value", document_keys.c.value)
# overdue and rejected acknowledgements
Index("ix_acks_direction_status_due_at", acks.c.direction, acks.c.status, acks.c.due_at)

message_notes = Table(
    "message_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", ForeignKey("messages.id"), nullable=False, index=True),
    Column("action", String(24), nullable=False),  # resolved | comment | replay | retry_delivery
    Column("actor", String(120), nullable=False),
    Column("comment", Text, nullable=True),
    Column("at", UtcDateTime, nullable=False),
)

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False, unique=True),
    # failures_per_hour | overdue_acks | delivery_failures | queue_backlog_age
    Column("kind", String(32), nullable=False),
    Column("partner_id", ForeignKey("partners.id"), nullable=True),  # None: every partner
    Column("threshold", Float, nullable=False),
    Column("window_s", Float, nullable=False),
    Column("webhook_url", String(500), nullable=True),
    Column("webhook_secret", String(200), nullable=True),
    Column("email_to", JSON, nullable=False),  # list of addresses
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
)

alert_firings = Table(
    "alert_firings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rule_id", ForeignKey("alert_rules.id"), nullable=False),
    # rule + subject + window bucket: one firing per breach and window, however many evaluators
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("subject", String(120), nullable=False),  # partner code, or "queue"
    Column("value", Float, nullable=False),
    Column("detail", Text, nullable=False),
    Column("fired_at", UtcDateTime, nullable=False),
    Column("notified", JSON, nullable=False),  # {"webhook": "delivered", "email": "sent"} …
    Index(None, "fired_at"),
)

# ------------------------------------------------------------------- identity (migration 0002)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(24), primary_key=True),  # public key id, e.g. "key_3f9a…" (revoke by it)
    Column("partner_id", ForeignKey("partners.id"), nullable=False, index=True),
    Column("key_hash", String(64), nullable=False, unique=True),  # sha256 hex of the key
    Column("prefix", String(12), nullable=False),  # first characters, to recognise a key
    Column("label", String(120), nullable=True),
    # HMAC secret for signed requests (a symmetric secret must be kept to verify); None: unsigned
    Column("signing_secret", String(128), nullable=True),
    Column("require_signature", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(160), nullable=False),
    Column("last_used_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(120), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),  # argon2id
    Column("role", String(16), nullable=False),  # supplier | ops | admin
    Column("partner_id", ForeignKey("partners.id"), nullable=True),  # supplier users only
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_login_at", UtcDateTime, nullable=True),
    Column("disabled_at", UtcDateTime, nullable=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 hex of the cookie value
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    # login_ok | login_failed | key_created | partner_updated | sender_mismatch | replay | …
    Column("kind", String(40), nullable=False),
    Column("actor", String(160), nullable=False),  # "user:alice", "key:key_…", "cli:root", "system"
    Column("partner_id", ForeignKey("partners.id"), nullable=True),
    Column("subject", String(160), nullable=True),  # what was acted on: key id, partner code, user
    Column("message_id", ID, nullable=True),
    Column("client", String(64), nullable=True),  # client address
    Column("detail", JSON, nullable=False),  # ids and counts, never payloads or secrets
    Index(None, "at"),
    Index(None, "kind", "at"),
    Index(None, "subject", "kind", "at"),
)

# ------------------------------------------------------------------ inventory (migration 0003)
# What each table holds and the rules around it: crossdock.gateway.inventory.store.

inv_items = Table(
    "inv_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("supplier_id", ForeignKey("partners.id"), nullable=False),
    Column("code", String(64), nullable=False),  # the supplier's item code (the API's item id)
    Column("description", String(200), nullable=True),
    Column("buyer_sku", String(64), nullable=True),
    Column("vendor_part", String(64), nullable=True),
    Column("gtin", String(14), nullable=True),  # GTIN-14, zero-padded (UPC-A and EAN-13 included)
    Column("pack_size", Numeric(18, 4), nullable=True),
    Column("unit", String(8), nullable=True),
    # bullwhip indicator from the last planning run: order variance / sales variance (NULL: too little data)
    Column("bullwhip", Float, nullable=True),
    Column("bullwhip_periods", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("supplier_id", "code"),
    Index(None, "gtin"),
    Index(None, "vendor_part"),
    Index(None, "buyer_sku"),
)

inv_locations = Table(
    "inv_locations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=True),
    Column("kind", String(8), nullable=False),  # store | dc
    Column("gln", String(13), nullable=True, unique=True),
    Column("customer_id", ForeignKey("partners.id"), nullable=True),  # the retailer it belongs to
    Column("partner_code", String(64), nullable=True),  # the retailer's own code (N1 qualifier 92)
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("customer_id", "partner_code"),
)

# One row per item × location: its policy (NULL method: tracked, not planned) and its position,
# materialised by every apply and planning run so the grid never aggregates the ledger.
inv_item_locations = Table(
    "inv_item_locations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", ForeignKey("inv_items.id"), nullable=False),
    Column("location_id", ForeignKey("inv_locations.id"), nullable=False),
    Column("supplier_id", ForeignKey("partners.id"), nullable=False),
    Column("item_code", String(64), nullable=False),
    Column("location_code", String(64), nullable=False),
    # policy (ReplenishmentPolicy field by field)
    Column("method", String(16), nullable=True),
    Column("min_qty", Numeric(18, 4), nullable=True),
    Column("max_qty", Numeric(18, 4), nullable=True),
    Column("reorder_point", Numeric(18, 4), nullable=True),
    Column("safety_stock_qty", Numeric(18, 4), nullable=True),
    Column("safety_stock_days", Numeric(18, 4), nullable=True),
    Column("service_level", Float, nullable=True),
    Column("min_days_of_supply", Numeric(18, 4), nullable=True),
    Column("target_days_of_supply", Numeric(18, 4), nullable=True),
    Column("lead_time_days", Integer, nullable=False, default=0),
    Column("review_period_days", Integer, nullable=False, default=7),
    Column("pack_multiple", Numeric(18, 4), nullable=False, default=1),
    Column("min_order_qty", Numeric(18, 4), nullable=False, default=0),
    Column("demand_window_days", Integer, nullable=False, default=56),
    Column("horizon_days", Integer, nullable=False, default=28),
    Column("use_forecast", Boolean, nullable=False, default=False),
    # position, as of planned_on
    Column("planned_on", Date, nullable=True),
    Column("on_hand", Numeric(18, 4), nullable=False, default=0),
    Column("in_transit", Numeric(18, 4), nullable=False, default=0),
    Column("on_order", Numeric(18, 4), nullable=False, default=0),
    Column("avg_daily", Float, nullable=False, default=0.0),
    Column("days_of_supply", Float, nullable=True),
    Column("min_level", Float, nullable=True),
    Column("max_level", Float, nullable=True),
    Column("reorder_level", Float, nullable=True),
    Column("target_level", Float, nullable=True),
    Column("stockout_date", Date, nullable=True),
    Column("flags", String(80), nullable=False, default=""),  # sorted, comma-separated ExceptionFlag values
    Column("demand_source", String(8), nullable=False, default="none"),
    # the same flags as bits (inventory.store.FLAG_BITS), so the grid filters on an integer
    Column("flag_bits", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("item_id", "location_id"),
    # one index per grid sort, ending with the tie-breakers so a page is an index range scan
    Index(None, "supplier_id", "item_code", "location_code"),
    Index(None, "supplier_id", "location_code", "item_code"),
    Index(None, "supplier_id", "days_of_supply", "item_code", "location_code"),
    Index(None, "supplier_id", "on_hand", "item_code", "location_code"),
    # the exception filters: only flagged rows (any flag, then each flag), in the default order
    Index("ix_inv_item_locations_exceptions", "supplier_id", "item_code", "location_code",
          postgresql_where=text("flag_bits <> 0"), sqlite_where=text("flag_bits <> 0")),
    *(Index(f"ix_inv_item_locations_flag_{bit}", "supplier_id", "item_code", "location_code",
            postgresql_where=text(f"flag_bits & {bit} <> 0"), sqlite_where=text(f"flag_bits & {bit} <> 0"))
      for bit in (1, 2, 4, 8)),
    # the item and location prefix filters (LIKE 'x%' as an index range whatever the collation)
    Index("ix_inv_item_locations_item_prefix", "supplier_id", "item_code",
          postgresql_ops={"item_code": "varchar_pattern_ops"}),
    Index("ix_inv_item_locations_location_prefix", "supplier_id", "location_code",
          postgresql_ops={"location_code": "varchar_pattern_ops"}),
    Index(None, "location_id"),
)

inv_movements = Table(
    "inv_movements",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),  # the ledger sequence
    Column("idempotency_key", String(32), nullable=False, unique=True),
    Column("item_location_id", ForeignKey("inv_item_locations.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("quantity", Numeric(18, 4), nullable=False),
    Column("effective", Date, nullable=False),
    Column("period_start", Date, nullable=True),
    Column("due", Date, nullable=True),
    Column("order_ref", String(80), nullable=True),
    Column("document_id", Integer, nullable=True),  # documents.id (NULL: imported or adjusted by hand)
    Column("document_type", String(16), nullable=False),  # 852, 846, 850, 860, 855, 856, import …
    Column("business_key", String(120), nullable=False),
    Column("line", String(80), nullable=False),
    Index(None, "item_location_id", "effective"),
    Index(None, "order_ref"),
)

inv_reported_periods = Table(
    "inv_reported_periods",
    metadata,
    Column("location_id", ForeignKey("inv_locations.id"), primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("period_end", Date, primary_key=True),
    Column("document_id", Integer, nullable=True),
)

inv_forecasts = Table(
    "inv_forecasts",
    metadata,
    Column("item_location_id", ForeignKey("inv_item_locations.id"), primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("period_end", Date, primary_key=True),
    Column("quantity", Numeric(18, 4), nullable=False),
    Column("firm", Boolean, nullable=False, default=False),
    Column("document_id", Integer, nullable=True),  # the latest 830 that set it
)

inv_programs = Table(
    "inv_programs",
    metadata,
    Column("supplier_id", ForeignKey("partners.id"), primary_key=True),
    Column("customer_id", ForeignKey("partners.id"), primary_key=True),
    # what an approved proposal sends the customer: order_response (855) | purchase_order (850)
    Column("order_document", String(24), nullable=False, default="order_response"),
    Column("po_prefix", String(16), nullable=False, default="VMI"),
)

inv_proposals = Table(
    "inv_proposals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_location_id", ForeignKey("inv_item_locations.id"), nullable=False),
    Column("supplier_id", ForeignKey("partners.id"), nullable=False),
    Column("state", String(12), nullable=False),  # open | approved | rejected | superseded
    Column("quantity", Numeric(18, 4), nullable=False),  # as proposed
    Column("approved_quantity", Numeric(18, 4), nullable=True),  # as edited by the supplier
    Column("needed_by", Date, nullable=False),
    Column("order_by", Date, nullable=False),
    Column("expedite", Boolean, nullable=False, default=False),
    Column("reasons", JSON, nullable=False),
    Column("flags", String(80), nullable=False, default=""),
    Column("projected_balance", Float, nullable=False),
    Column("trigger_level", Float, nullable=False),
    Column("target_level", Float, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decided_by", String(160), nullable=True),
    Column("po_number", String(80), nullable=True, unique=True),
    Column("message_id", ID, nullable=True),  # the outbound order's message
    Index(None, "supplier_id", "state", "needed_by"),
    Index(None, "item_location_id", "state"),
)

inv_replan_requests = Table(
    "inv_replan_requests",
    metadata,
    Column("supplier_id", ForeignKey("partners.id"), primary_key=True),
    Column("due_at", Float, nullable=False),  # epoch seconds; debounced: later documents push it on
    Column("requested_at", Float, nullable=False),
    Column("reason", String(12), nullable=False),  # documents | schedule | manual
)

inv_runs = Table(
    "inv_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("supplier_id", ForeignKey("partners.id"), nullable=True),  # None: every supplier
    Column("trigger", String(12), nullable=False),  # documents | schedule | manual
    Column("today", Date, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("item_locations", Integer, nullable=False),
    Column("proposals", Integer, nullable=False),
    Column("issues", Integer, nullable=False),
)
