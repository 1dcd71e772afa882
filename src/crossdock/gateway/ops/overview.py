"""The flow overview: traffic per hour, failures, ack latency, status counts, partners with problems first."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection

from crossdock.gateway.ops.acks import overdue_acks
from crossdock.gateway.ops.scorecard import PROBLEM_STATUSES
from crossdock.gateway.ops.status import SystemStatus, system_status
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import is_postgres

__all__ = ["Overview", "Flow", "PartnerHealth", "overview"]


@dataclass(frozen=True, slots=True)
class Flow:
    """Messages of one partner, direction and document kind in the window."""

    partner: str
    direction: str
    document_kind: str
    total: int
    problems: int


@dataclass(frozen=True, slots=True)
class PartnerHealth:
    partner: str
    total: int
    problems: int
    overdue_acks: int
    hourly: tuple[int, ...]

    @property
    def trouble(self) -> int:
        return self.problems + self.overdue_acks


@dataclass(frozen=True, slots=True)
class Overview:
    since: datetime
    hours: tuple[datetime, ...]
    volume: tuple[int, ...]
    failures: tuple[int, ...]
    ack_latency_s: tuple[float | None, ...]
    statuses: dict[str, int]
    flows: tuple[Flow, ...]
    partners: tuple[PartnerHealth, ...]
    status: SystemStatus


def _hour(conn: Connection, column):
    if is_postgres(conn):
        return func.date_trunc("hour", column)
    return func.strftime("%Y-%m-%d %H:00:00", column)


def _as_hour(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(minute=0, second=0, microsecond=0, tzinfo=UTC)


def overview(conn: Connection, now: datetime, *, hours: int = 24) -> Overview:
    """Compute the overview for the last ``hours`` hours.

    Args:
        conn: a connection.
        now: the current time (injected).
        hours: window length.

    Returns:
        Series per hour (oldest first) and the tables, partners with problems first.
    """
    start = (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    slots = tuple(start + timedelta(hours=i) for i in range(hours))
    index = {slot: i for i, slot in enumerate(slots)}
    codes = dict(conn.execute(select(t.partners.c.id, t.partners.c.code)).all())
    m = t.messages
    bucket = _hour(conn, m.c.received_at)
    partner = func.coalesce(m.c.partner_id, m.c.recipient_id)
    problem = case((m.c.status.in_(PROBLEM_STATUSES), 1), else_=0)
    volume, failures = [0] * hours, [0] * hours
    statuses: dict[str, int] = defaultdict(int)
    flows: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    per_partner: dict[str, list] = defaultdict(lambda: [0, 0, [0] * hours])
    rows = conn.execute(
        select(bucket.label("hour"), partner.label("partner_id"), m.c.direction, m.c.document_kind, m.c.status,
               func.count().label("n"), func.sum(problem).label("bad"))
        .where(m.c.received_at >= start, m.c.received_at <= now)
        .group_by(bucket, partner, m.c.direction, m.c.document_kind, m.c.status))
    for row in rows:
        slot = index.get(_as_hour(row.hour))
        code = codes.get(row.partner_id, "unknown")
        bad = int(row.bad or 0)
        statuses[row.status] += row.n
        flow = flows[(code, row.direction, row.document_kind or "unknown")]
        flow[0] += row.n
        flow[1] += bad
        health = per_partner[code]
        health[0] += row.n
        health[1] += bad
        if slot is not None:
            volume[slot] += row.n
            failures[slot] += bad
            health[2][slot] += row.n
    overdue_by_partner: dict[str, int] = defaultdict(int)
    for ack in overdue_acks(conn, now, limit=100_000):
        overdue_by_partner[ack.partner or "unknown"] += 1
    partners = [PartnerHealth(code, total, bad, overdue_by_partner.get(code, 0), tuple(hourly))
                for code, (total, bad, hourly) in per_partner.items()]
    partners += [PartnerHealth(code, 0, 0, n, (0,) * hours) for code, n in overdue_by_partner.items()
                 if code not in per_partner]
    partners.sort(key=lambda p: (-p.trouble, -p.total, p.partner))
    ordered_flows = sorted((Flow(code, direction, kind, total, bad) for (code, direction, kind), (total, bad)
                            in flows.items()), key=lambda f: (-f.problems, -f.total, f.partner))
    return Overview(start, slots, tuple(volume), tuple(failures), _ack_latency(conn, start, now, index, hours),
                    dict(statuses), tuple(ordered_flows), tuple(partners), system_status(conn, now))


def _ack_latency(conn: Connection, start: datetime, now: datetime, index: dict, hours: int):
    """Mean seconds from send to the partner's 997/999, per hour the ack arrived."""
    a = t.acks
    sums, counts = [0.0] * hours, [0] * hours
    for created, updated in conn.execute(select(a.c.created_at, a.c.updated_at).where(
            a.c.direction == "expected", a.c.status.in_(("accepted", "partially_accepted", "rejected")),
            a.c.updated_at >= start, a.c.updated_at <= now)):
        slot = index.get(_as_hour(updated))
        if slot is not None:
            sums[slot] += (updated - created).total_seconds()
            counts[slot] += 1
    return tuple(s / c if c else None for s, c in zip(sums, counts))
