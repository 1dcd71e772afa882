"""The hub's health in four figures: queue depth, oldest pending work, recent failures, overdue acks.

Shared by ``crossdock status``, the console header, the overview and the alert rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from crossdock.gateway.store import schema as t

__all__ = ["SystemStatus", "system_status", "FAILED_STATUSES", "overdue_condition"]

#: message statuses that need an operator
FAILED_STATUSES = ("failed", "dead", "rejected")
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SystemStatus:
    """A snapshot.

    Attributes:
        pending: work items waiting (due or scheduled for a retry).
        running: work items claimed by a worker.
        stuck: work items ``failed`` or ``dead`` (need a replay).
        oldest_pending_s: age of the oldest due pending item, seconds (None when the queue is empty).
        failures_last_hour: messages that ended failed, dead or rejected in the last hour.
        overdue_acks: expected 997/999 past their due time.
        at: the snapshot time.
    """

    pending: int
    running: int
    stuck: int
    oldest_pending_s: float | None
    failures_last_hour: int
    overdue_acks: int
    at: datetime

    @property
    def queue_depth(self) -> int:
        return self.pending + self.running


def overdue_condition(now: datetime):
    """SQL condition: an expected ack that is overdue at ``now`` (marked, or pending past due)."""
    a = t.acks
    return (a.c.direction == "expected") & or_(a.c.status == "overdue",
                                               (a.c.status == "pending") & (a.c.due_at < now))


def system_status(conn: Connection, now: datetime) -> SystemStatus:
    """Compute the snapshot.

    Args:
        conn: a connection.
        now: the current time (injected; aware UTC).

    Returns:
        The figures.
    """
    w = t.work_items
    epoch = now.timestamp()
    counts = dict(conn.execute(select(w.c.state, func.count()).where(
        w.c.state.in_(("pending", "running", "failed", "dead"))).group_by(w.c.state)).all())
    oldest = conn.execute(select(func.min(w.c.available_at)).where(
        w.c.state == "pending", w.c.available_at <= epoch)).scalar()
    m = t.messages
    failures = conn.execute(select(func.count()).select_from(m).where(
        m.c.status.in_(FAILED_STATUSES), m.c.updated_at >= now - HOUR)).scalar_one()
    overdue = conn.execute(select(func.count()).select_from(t.acks).where(overdue_condition(now))).scalar_one()
    return SystemStatus(
        pending=counts.get("pending", 0), running=counts.get("running", 0),
        stuck=counts.get("failed", 0) + counts.get("dead", 0),
        oldest_pending_s=None if oldest is None else max(epoch - oldest, 0.0),
        failures_last_hour=failures, overdue_acks=overdue, at=now)
