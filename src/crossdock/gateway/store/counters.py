"""Durable outbound control numbers (ISA13, GS06, ST02) per partner: never reused, gaps allowed.

Each reservation is ``UPDATE … SET value = value + n RETURNING value`` in its *own* committed
transaction, before any number is used. Concurrent reservations serialize on the counter row; a
crash after the reservation only leaves a gap, never a reuse (FAULTS F21, F23). On PostgreSQL
the chains of a worker batch share one :class:`DurableAllocator` per partner, which reserves for
all of them at once: numbers a chain did not use (a duplicate, a rollback) are a gap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

from sqlalchemy import Engine, case, select, update
from sqlalchemy.engine import Connection

from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import insert_ignore

__all__ = ["ControlKind", "reserve", "reserve_in", "reserve_many", "reserve_many_in", "DurableAllocator",
           "MAX_CONTROL_NUMBER"]

ControlKind = Literal["ISA", "GS", "ST"]

#: ISA13 and GS06 are at most nine digits; numbering wraps to 1 after this.
MAX_CONTROL_NUMBER = 999_999_999


def reserve(engine: Engine, partner_id: int, kind: ControlKind, count: int = 1) -> list[int]:
    """Reserve ``count`` consecutive control numbers, committed before they are returned.

    Args:
        engine: database (a fresh connection and transaction is used).
        partner_id: the receiving partner the numbers are for.
        kind: which counter.
        count: how many numbers.

    Returns:
        The numbers, in order, each in ``1..MAX_CONTROL_NUMBER``.
    """
    with engine.begin() as conn:
        return reserve_in(conn, partner_id, kind, count)


def reserve_in(conn: Connection, partner_id: int, kind: ControlKind, count: int = 1) -> list[int]:
    """Reserve numbers inside the caller's transaction.

    Only for SQLite, where the stage already holds the single write lock (a second connection
    would wait for it forever); the numbers still reach a partner only after that commit, so
    a rollback cannot lead to reuse.
    """
    statement = (
        update(t.control_counters)
        .where(t.control_counters.c.partner_id == partner_id, t.control_counters.c.kind == kind)
        .values(value=t.control_counters.c.value + count)
        .returning(t.control_counters.c.value)
    )
    last = conn.execute(statement).scalar()
    if last is None:
        insert_ignore(conn, t.control_counters, {"partner_id": partner_id, "kind": kind, "value": 0},
                      ("partner_id", "kind"))
        last = conn.execute(statement).scalar_one()
    return _numbers(last, count)


def reserve_many(engine: Engine, partner_id: int, counts: Mapping[ControlKind, int]) -> dict[str, list[int]]:
    """Reserve numbers of several kinds in one committed transaction (one round of an ack or render).

    Args:
        engine: database (a fresh connection and transaction is used).
        partner_id: the receiving partner.
        counts: how many numbers of each kind; kinds with 0 are skipped.

    Returns:
        kind → the numbers, in order.
    """
    wanted = {kind: count for kind, count in sorted(counts.items()) if count > 0}
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql" and len(wanted) > 1:
            return _reserve_locked_in_order(conn, partner_id, wanted)
        return reserve_many_in(conn, partner_id, wanted)


def _reserve_locked_in_order(conn: Connection, partner_id: int, wanted: Mapping[str, int]) -> dict[str, list[int]]:
    """Every kind in ONE statement (PostgreSQL): the rows are locked in kind order first
    (``ORDER BY kind FOR UPDATE``), so concurrent reservations never deadlock; a counter that
    does not exist yet (first use) is then created and reserved on its own."""
    counters = t.control_counters
    locked = (select(counters.c.kind).where(counters.c.partner_id == partner_id, counters.c.kind.in_(list(wanted)))
              .order_by(counters.c.kind).with_for_update().cte("locked"))
    step = case({kind: count for kind, count in wanted.items()}, value=counters.c.kind, else_=0)
    rows = conn.execute(
        update(counters)
        .where(counters.c.partner_id == partner_id, counters.c.kind == locked.c.kind)
        .values(value=counters.c.value + step)
        .returning(counters.c.kind, counters.c.value)
    ).all()
    reserved = {kind: _numbers(last, wanted[kind]) for kind, last in rows}
    for kind in wanted:
        if kind not in reserved:
            reserved[kind] = reserve_in(conn, partner_id, kind, wanted[kind])  # type: ignore[arg-type]
    return reserved


def reserve_many_in(conn: Connection, partner_id: int, counts: Mapping[ControlKind, int]) -> dict[str, list[int]]:
    """:func:`reserve_many` inside the caller's transaction (SQLite only, see :func:`reserve_in`)."""
    # One UPDATE per kind, always in the same (sorted) order: concurrent reservations lock the
    # counter rows in the same order and never deadlock (a multi-row UPDATE locks in heap order,
    # which changes as rows are updated).
    return {kind: reserve_in(conn, partner_id, kind, count) for kind, count in sorted(counts.items()) if count > 0}


def _numbers(last: int, count: int) -> list[int]:
    return [((n - 1) % MAX_CONTROL_NUMBER) + 1 for n in range(last - count + 1, last + 1)]


class DurableAllocator:
    """The ``allocator`` the X12 envelope and ack builders take: ``next(kind) -> int``.

    Numbers are reserved in blocks by :meth:`prefetch` (one transaction for a whole ack or
    render), then served in order; running out reserves one more.
    """

    def __init__(self, reserve_fn: Callable[[Mapping[ControlKind, int]], dict[str, list[int]]]) -> None:
        self._reserve = reserve_fn
        self._pool: dict[str, list[int]] = {}
        #: how many users of this size will come (a batch's chains share one allocator)
        self.ahead = 1

    def prefetch(self, counts: Mapping[ControlKind, int]) -> None:
        """Have ``counts[kind]`` numbers of each kind ready, reserving what the pool lacks (for
        ``ahead`` users of this size at once, so the next ones find them in the pool)."""
        wanted = {kind: count - len(self._pool.get(kind, ())) + count * (self.ahead - 1)
                  for kind, count in counts.items() if count > len(self._pool.get(kind, ()))}
        if wanted:
            for kind, numbers in self._reserve(wanted).items():
                self._pool.setdefault(kind, []).extend(numbers)

    def next(self, kind: ControlKind) -> int:
        pool = self._pool.setdefault(kind, [])
        if not pool:
            pool.extend(self._reserve({kind: 1})[kind])
        return pool.pop(0)

    __call__ = next
