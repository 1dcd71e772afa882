"""Prometheus metrics for ``/metrics``, derived from the database the whole hub writes to.

Decision (multi-process): the API process that serves ``/metrics`` reads what *every* process
recorded — the timeline (``events``: one row per stage with its duration and outcome), delivery
attempts and received acknowledgements — incrementally at scrape time, and computes the queue
gauges from the work table. Workers therefore need no HTTP port and no
``PROMETHEUS_MULTIPROC_DIR``: their stage durations, failures and deliveries are in the rows they
commit, so the figures are cluster-wide and survive a worker's ``kill -9``. Scrape one API process
(several API replicas each report the whole hub: aggregate with ``max``, not ``sum``).

Counters and histograms start at zero when the process starts (the tail starts at the newest row)
and only count what commits afterwards, as Prometheus expects of a restarted target.

Tailing by id: PostgreSQL hands out ids before commit, so a row with a lower id can become
visible after a higher one was read. :class:`IdTail` remembers the holes below its high-water mark
and re-reads them for :data:`GAP_TTL_S` (holes left by rolled-back transactions never fill).

=========================================  =========  ============================================
metric                                     type       labels
=========================================  =========  ============================================
crossdock_messages_received_total          counter    partner, direction, format, document_kind
crossdock_messages_processed_total         counter    partner, format, document_kind, status
crossdock_messages_failed_total            counter    partner, format, document_kind, stage
crossdock_stage_duration_seconds           histogram  stage, outcome
crossdock_delivery_attempts_total          counter    partner, outcome
crossdock_delivery_duration_seconds        histogram  outcome
crossdock_ack_latency_seconds              histogram  partner, kind
crossdock_work_items                       gauge      stage, state (pending, running, failed, dead)
crossdock_queue_oldest_age_seconds         gauge      stage (oldest due pending or running item)
crossdock_acks_overdue                     gauge      partner
crossdock_metrics_tail_rows_total          counter    table (rows read by the tail)
=========================================  =========  ============================================
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from sqlalchemy import Engine, Table, func, or_, select
from sqlalchemy.engine import Connection

from crossdock.gateway.store import schema as t

__all__ = ["GatewayMetrics", "IdTail", "CONTENT_TYPE", "GAP_TTL_S"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: how long a hole in the id sequence is re-read before it is taken as a rolled-back insert
GAP_TTL_S = 300.0
#: most rows read from one table per batch (a scrape loops until it has caught up)
TAIL_BATCH = 5000
STAGE_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
ACK_BUCKETS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600, 48 * 3600, 7 * 86400)
FAILED_OUTCOMES = ("failed", "dead")
OPEN_WORK = ("pending", "running", "failed", "dead")
UNKNOWN = "unknown"


@dataclass
class IdTail:
    """Read a table's new rows by increasing integer id, holes included (see module docstring).

    Attributes:
        table: the table (its ``id`` column is an increasing integer).
        high: highest id read so far; None until :meth:`start`.
        gaps: missing ids below ``high`` and when they were first missed.
    """

    table: Table
    high: int | None = None
    gaps: dict[int, float] = field(default_factory=dict)

    def start(self, conn: Connection) -> None:
        """Begin after the newest existing row (counters start at zero)."""
        self.high = conn.execute(select(func.coalesce(func.max(self.table.c.id), 0))).scalar_one()

    def read(self, conn: Connection, columns: Iterable, now: float, join=None) -> list:
        """Rows committed since the last read (each id once).

        Args:
            conn: a connection.
            columns: selected columns; the table's ``id`` is added first.
            now: monotonic seconds, to expire old holes.
            join: optional join target (a FROM clause built on ``table``).

        Returns:
            The new rows, ``row.id`` first.
        """
        if self.high is None:
            self.start(conn)
            return []
        self.gaps = {i: seen for i, seen in self.gaps.items() if now - seen < GAP_TTL_S}
        rows: list = []
        pending_gaps = sorted(self.gaps)
        while True:
            where = self.table.c.id > self.high
            if pending_gaps:
                where = or_(where, self.table.c.id.in_(pending_gaps))
            query = select(self.table.c.id, *columns).where(where).order_by(self.table.c.id).limit(TAIL_BATCH)
            if join is not None:
                query = query.select_from(join)
            batch = conn.execute(query).all()
            pending_gaps = []
            self._advance([r.id for r in batch], now)
            rows.extend(batch)
            if len(batch) < TAIL_BATCH:
                return rows

    def _advance(self, ids: list[int], now: float) -> None:
        previous = self.high or 0
        for row_id in ids:
            self.gaps.pop(row_id, None)
        fresh = [i for i in ids if i > previous]
        if not fresh:
            return
        seen = set(fresh)
        for missing in range(previous + 1, max(fresh)):
            if missing not in seen:
                self.gaps.setdefault(missing, now)
        self.high = max(fresh)


class GatewayMetrics:
    """The hub's metrics registry (one per API process), refreshed from the database per scrape.

    Args:
        engine: the hub's database.
        clock: epoch seconds (the runtime's clock, so tests can move time).
        process_metrics: include this process's CPU/memory/GC collectors.
    """

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time, *,
                 process_metrics: bool = True) -> None:
        self._engine = engine
        self._clock = clock
        self._lock = threading.Lock()
        self._partners: dict[int, str] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        if process_metrics:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        self._events = IdTail(t.events)
        self._attempts = IdTail(t.delivery_attempts)
        self._acks = IdTail(t.acks)
        self._declare()
        self.registry.register(_QueueCollector(self))

    def _declare(self) -> None:
        reg = self.registry
        self.received = Counter("crossdock_messages_received", "Messages received (stored after ingest).",
                                ["partner", "direction", "format", "document_kind"], registry=reg)
        self.processed = Counter("crossdock_messages_processed", "Messages whose processing finished (route).",
                                 ["partner", "format", "document_kind", "status"], registry=reg)
        self.failed = Counter("crossdock_messages_failed", "Stage runs that ended failed or dead.",
                              ["partner", "format", "document_kind", "stage"], registry=reg)
        self.stage_duration = Histogram("crossdock_stage_duration_seconds", "Duration of one stage run.",
                                        ["stage", "outcome"], buckets=STAGE_BUCKETS, registry=reg)
        self.delivery_attempts = Counter("crossdock_delivery_attempts", "Outbound delivery attempts.",
                                         ["partner", "outcome"], registry=reg)
        self.delivery_duration = Histogram("crossdock_delivery_duration_seconds", "Duration of one delivery attempt.",
                                           ["outcome"], buckets=STAGE_BUCKETS, registry=reg)
        self.ack_latency = Histogram("crossdock_ack_latency_seconds",
                                     "Time from sending a document to receiving its 997/999.",
                                     ["partner", "kind"], buckets=ACK_BUCKETS, registry=reg)
        self.tail_rows = Counter("crossdock_metrics_tail_rows", "Rows read by the metrics tail.", ["table"],
                                 registry=reg)

    def start(self) -> None:
        """Set the tails to the newest rows (call at process start; the first scrape does it too)."""
        with self._lock, self._engine.connect() as conn:
            for tail in (self._events, self._attempts, self._acks):
                tail.start(conn)

    def refresh(self) -> None:
        """Fold everything committed since the last call into the counters and histograms."""
        now = time.monotonic()
        with self._lock, self._engine.connect() as conn:
            self._fold_events(conn, now)
            self._fold_attempts(conn, now)
            self._fold_acks(conn, now)

    def render(self) -> bytes:
        """The exposition text (refreshes first)."""
        self.refresh()
        return generate_latest(self.registry)

    # ------------------------------------------------------------------ folding rows into metrics

    def partner_code(self, conn: Connection, partner_id: int | None) -> str:
        if partner_id is None:
            return UNKNOWN
        if partner_id not in self._partners:
            self._partners.update(conn.execute(select(t.partners.c.id, t.partners.c.code)).all())
        return self._partners.get(partner_id, UNKNOWN)

    def _fold_events(self, conn: Connection, now: float) -> None:
        e, m = t.events, t.messages
        rows = self._events.read(
            conn, [e.c.stage, e.c.outcome, e.c.duration_ms, m.c.direction, m.c.format, m.c.document_kind,
                   m.c.status, func.coalesce(m.c.partner_id, m.c.recipient_id).label("partner_id")],
            now, join=e.join(m, m.c.id == e.c.message_id))
        self.tail_rows.labels("events").inc(len(rows))
        for row in rows:
            partner = self.partner_code(conn, row.partner_id)
            kind = row.document_kind or UNKNOWN
            self.stage_duration.labels(row.stage, row.outcome).observe(max(row.duration_ms, 0.0) / 1000)
            if row.stage == "ingest":
                self.received.labels(partner, row.direction, row.format, kind).inc()
            elif row.stage == "route" and row.outcome == "ok":
                self.processed.labels(partner, row.format, kind, row.status).inc()
            if row.outcome in FAILED_OUTCOMES:
                self.failed.labels(partner, row.format, kind, row.stage).inc()

    def _fold_attempts(self, conn: Connection, now: float) -> None:
        d, m = t.delivery_attempts, t.messages
        rows = self._attempts.read(conn, [d.c.outcome, d.c.duration_ms, m.c.recipient_id], now,
                                   join=d.join(m, m.c.id == d.c.message_id))
        self.tail_rows.labels("delivery_attempts").inc(len(rows))
        for row in rows:
            self.delivery_attempts.labels(self.partner_code(conn, row.recipient_id), row.outcome).inc()
            self.delivery_duration.labels(row.outcome).observe(max(row.duration_ms, 0.0) / 1000)

    def _fold_acks(self, conn: Connection, now: float) -> None:
        a = t.acks
        received = [r for r in self._acks.read(
            conn, [a.c.direction, a.c.kind, a.c.message_id, a.c.partner_id, a.c.group_control, a.c.created_at],
            now) if r.direction == "received"]
        self.tail_rows.labels("acks").inc(len(received))
        for row in received:
            sent_at = conn.execute(select(func.min(a.c.created_at)).where(
                a.c.direction == "expected", a.c.ack_message_id == row.message_id,
                a.c.partner_id == row.partner_id, a.c.group_control == row.group_control)).scalar()
            if sent_at is not None:
                latency = (row.created_at - sent_at).total_seconds()
                self.ack_latency.labels(self.partner_code(conn, row.partner_id), row.kind).observe(max(latency, 0.0))

    # ------------------------------------------------------------------ gauges computed per scrape

    def queue_families(self) -> list[GaugeMetricFamily]:
        """Work-table depth per stage and state, oldest due work, overdue acks (one scrape's worth)."""
        w, a = t.work_items, t.acks
        now = self._clock()
        depth = GaugeMetricFamily("crossdock_work_items", "Work items not done, by stage and state.",
                                  labels=["stage", "state"])
        oldest = GaugeMetricFamily("crossdock_queue_oldest_age_seconds",
                                   "Age of the oldest due pending or running work item, by stage.", labels=["stage"])
        overdue = GaugeMetricFamily("crossdock_acks_overdue", "Expected 997/999 past their due time.",
                                    labels=["partner"])
        with self._engine.connect() as conn:
            for stage, state, count, first in conn.execute(
                    select(w.c.stage, w.c.state, func.count(), func.min(w.c.available_at))
                    .where(w.c.state.in_(OPEN_WORK)).group_by(w.c.stage, w.c.state)):
                depth.add_metric([stage, state], count)
                if state in ("pending", "running") and first is not None and first <= now:
                    oldest.add_metric([stage], max(now - first, 0.0))
            due = datetime.fromtimestamp(now, UTC)
            for partner_id, count in conn.execute(
                    select(a.c.partner_id, func.count()).where(
                        a.c.direction == "expected",
                        or_(a.c.status == "overdue", (a.c.status == "pending") & (a.c.due_at < due)))
                    .group_by(a.c.partner_id)):
                overdue.add_metric([self.partner_code(conn, partner_id)], count)
        return [depth, oldest, overdue]


class _QueueCollector:
    """Custom collector: gauges computed from the work and ack tables at scrape time."""

    def __init__(self, metrics: GatewayMetrics) -> None:
        self._metrics = metrics

    def describe(self) -> list:
        return []

    def collect(self):
        yield from self._metrics.queue_families()
