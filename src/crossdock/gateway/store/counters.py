"""Durable outbound control numbers (ISA13, GS06, ST02) per partner: never reused, gaps allowed.

Each reservation is ``UPDATE … SET value = value + n RETURNING value`` in its *own* committed
transaction, before any number is used. Concurrent reservations serialize on the counter row; a
crash after the reservation only leaves a gap, never a reuse (FAULTS F21, F23).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

from sqlalchemy import Engine, update
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
    with engine.begin() as conn:
        return reserve_many_in(conn, partner_id, counts)


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

    def prefetch(self, counts: Mapping[ControlKind, int]) -> None:
        """Reserve ``counts[kind]`` more numbers of each kind ahead of use."""
        wanted = {kind: count for kind, count in counts.items() if count > 0}
        if wanted:
            for kind, numbers in self._reserve(wanted).items():
                self._pool.setdefault(kind, []).extend(numbers)

    def next(self, kind: ControlKind) -> int:
        pool = self._pool.setdefault(kind, [])
        if not pool:
            pool.extend(self._reserve({kind: 1})[kind])
        return pool.pop(0)

    __call__ = next
