"""The work table (transactional outbox): claim or skip, fence the commit, retry, go dead.

A work item is one stage of one message. Its life::

    pending ──claim──► running ──stage commits + fence──► done
       ▲                  │ transient error (attempts < max)      permanent error ──► failed
       └──available_at────┘ transient error (attempts = max) ──► dead
    failed/dead ──replay──► pending

* **Claim** is ``UPDATE … WHERE state = 'pending' AND available_at <= now`` (or a ``running``
  item whose lease expired): exactly one worker wins, the others skip.
* **Fence**: the stage's own transaction ends with ``UPDATE … SET state = 'done' WHERE
  attempts = <the claim's attempts>``. A worker whose lease was taken over (it was presumed
  dead) matches no row and rolls back, so a stage's effects commit exactly once.
* **Dispatch** happens only after commit; the sweeper re-dispatches whatever was never
  dispatched, lost in the broker or held by a dead worker (see :mod:`.sweeper`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import Engine, and_, bindparam, func, or_, select, text, tuple_, update
from sqlalchemy.engine import Connection

from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import insert_rows

__all__ = [
    "WorkClaim",
    "LeaseLost",
    "add_work",
    "claim",
    "claim_many",
    "fence",
    "fence_many",
    "release_for_retry",
    "mark_terminal",
    "add_event",
    "add_events",
    "backoff_delay",
    "reset_for_replay",
]


class LeaseLost(Exception):
    """Our claim was taken over by another worker; this attempt must roll back."""


@dataclass(frozen=True, slots=True)
class WorkClaim:
    id: int
    message_id: str
    stage: str
    attempts: int
    generation: int


def _utc(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


def add_work(
    conn: Connection,
    message_id: str,
    stage: str,
    *,
    now: float,
    generation: int = 0,
    lease_s: float | None = None,
) -> WorkClaim | int:
    """Create a work item (inside the caller's transaction).

    Args:
        conn: connection in the transaction that produced the item's input.
        message_id: the message the stage works on.
        stage: stage name.
        now: epoch seconds.
        generation: replay generation.
        lease_s: when given, the item is created already claimed by the caller for this long
            (so one actor can run consecutive stages without a round trip through the broker).

    Returns:
        A :class:`WorkClaim` when pre-claimed, else the new item's id.
    """
    claimed = lease_s is not None
    work_id = conn.execute(
        t.work_items.insert().values(
            message_id=message_id,
            stage=stage,
            generation=generation,
            state="running" if claimed else "pending",
            attempts=1 if claimed else 0,
            available_at=now,
            lease_until=now + lease_s if claimed else None,
            # the creator dispatches right after commit; if that is lost, the sweeper redispatches
            dispatched_at=now,
            created_at=_utc(now),
            updated_at=_utc(now),
        )
    ).inserted_primary_key[0]
    if claimed:
        return WorkClaim(work_id, message_id, stage, 1, generation)
    return work_id


def claim(engine: Engine, work_id: int, *, now: float, lease_s: float) -> WorkClaim | None:
    """Claim a work item in its own committed transaction, or return None (someone else has it,
    it is done, or it is not due yet)."""
    items = t.work_items
    statement = (
        update(items)
        .where(
            items.c.id == work_id,
            or_(
                and_(items.c.state == "pending", items.c.available_at <= now),
                and_(items.c.state == "running", items.c.lease_until < now),
            ),
        )
        .values(state="running", attempts=items.c.attempts + 1, lease_until=now + lease_s,
                updated_at=_utc(now))
        .returning(items.c.id, items.c.message_id, items.c.stage, items.c.attempts, items.c.generation)
    )
    with engine.begin() as conn:
        row = conn.execute(statement).first()
    return None if row is None else WorkClaim(*row)


def claim_many(engine: Engine, work_ids: Sequence[int], *, now: float, lease_s: float, fill_to: int = 0,
               stages: Sequence[str] = ()) -> list[WorkClaim]:
    """:func:`claim` for several items in one committed transaction: each is claimed or skipped.

    With ``fill_to``, when one of ``work_ids`` is claimed, other due ``pending`` items of
    ``stages`` (oldest first) are claimed too, up to ``fill_to`` items in all: a worker that falls
    behind takes bigger batches, and the queue messages of the items it took skip them later.
    On PostgreSQL candidates are locked ``FOR UPDATE SKIP LOCKED``: an item another worker is
    claiming right now is left to it (claim or skip; never wait, never deadlock).

    Returns:
        The items this call claimed: those of ``work_ids`` first, in that order.
    """
    items = t.work_items
    wanted = list(dict.fromkeys(work_ids))
    if engine.dialect.name == "postgresql":
        rows = _claim_postgres(engine, wanted, now=now, lease_s=lease_s, fill_to=fill_to, stages=stages)
        return _in_claim_order(wanted, rows)
    # SQLite: transactions begin IMMEDIATE (one writer at a time), so no other claim runs between
    # these reads and the update
    due = and_(items.c.state == "pending", items.c.available_at <= now)
    claimable = or_(due, and_(items.c.state == "running", items.c.lease_until < now))
    with engine.begin() as conn:
        ids = list(conn.execute(select(items.c.id).where(items.c.id.in_(sorted(wanted)), claimable)).scalars())
        room = fill_to - len(ids)
        if ids and room > 0 and stages:
            ids += conn.execute(select(items.c.id).where(due, items.c.stage.in_(stages), items.c.id.not_in(wanted))
                                .order_by(items.c.id).limit(room)).scalars()
        if not ids:
            return []
        rows = conn.execute(
            update(items)
            .where(items.c.id.in_(ids))
            .values(state="running", attempts=items.c.attempts + 1, lease_until=now + lease_s,
                    updated_at=_utc(now))
            .returning(items.c.id, items.c.message_id, items.c.stage, items.c.attempts, items.c.generation)
        ).all()
    return _in_claim_order(wanted, rows)


def _in_claim_order(wanted: list[int], rows) -> list[WorkClaim]:
    claimed = {row[0]: WorkClaim(*row) for row in rows}
    first = [claimed.pop(work_id) for work_id in wanted if work_id in claimed]
    return first + sorted(claimed.values(), key=lambda work: work.id)


def _claim_postgres(engine: Engine, wanted: list[int], *, now: float, lease_s: float, fill_to: int,
                    stages: Sequence[str]):
    """:func:`claim_many` on PostgreSQL as one statement (lock, fill and update were three), in
    its own committed transaction."""
    params = {"ids": wanted, "now": now, "lease_until": now + lease_s, "at": _utc(now),
              "fill_to": fill_to if stages else 0, "stages": list(stages)}
    with engine.begin() as conn:
        conn.execute(_INDEX_ORDER)
        return conn.execute(_CLAIM_POSTGRES, params).all()


#: the fill must walk the pending items' partial index in id order and stop at its limit. The
#: planner estimates a queue table's pending rows from statistics that lag its backlog (a new or
#: quiet table: "10 rows"), and then collects every pending item with a bitmap scan and sorts
#: them all: 20 ms per claim with a backlog of 20,000 instead of 0.1 ms. For this transaction
#: only (it holds nothing else), plans that sort or build a bitmap are ruled out.
_INDEX_ORDER = text("SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)")


#: lock the wanted items that are claimable (skipping those another worker is locking), then, if
#: any, due items of the batched stages up to ``fill_to`` in all; claim them all
_CLAIM_POSTGRES = text("""
WITH wanted AS (
    SELECT id FROM work_items
    WHERE id = ANY(:ids)
      AND ((state = 'pending' AND available_at <= :now) OR (state = 'running' AND lease_until < :now))
    FOR UPDATE SKIP LOCKED
), fill AS (
    SELECT id FROM work_items
    WHERE state = 'pending' AND available_at <= :now AND stage = ANY(:stages) AND id <> ALL(:ids)
      AND EXISTS (SELECT 1 FROM wanted)
    ORDER BY id
    LIMIT greatest(:fill_to - (SELECT count(*) FROM wanted), 0)
    FOR UPDATE SKIP LOCKED
)
UPDATE work_items SET state = 'running', attempts = attempts + 1, lease_until = :lease_until, updated_at = :at
WHERE id = ANY(ARRAY(SELECT id FROM wanted UNION ALL SELECT id FROM fill))
RETURNING id, message_id, stage, attempts, generation
""").bindparams(bindparam("at", type_=t.work_items.c.updated_at.type))


def fence(conn: Connection, work: WorkClaim, *, now: float) -> None:
    """Mark the item done inside the stage's transaction, if the claim is still ours.

    Raises:
        LeaseLost: another worker re-claimed the item; the caller must roll back.
    """
    result = conn.execute(_fence_statement(), {"w_id": work.id, "w_attempts": work.attempts, "w_at": _utc(now)})
    if result.rowcount != 1:
        raise LeaseLost(f"work item {work.id} was re-claimed")


def fence_many(conn: Connection, works: Sequence[WorkClaim], *, now: float) -> None:
    """:func:`fence` for the items of a batch, in one statement.

    Raises:
        LeaseLost: one of them was re-claimed; the caller must roll back the whole batch.
    """
    if not works:
        return
    items = t.work_items
    fenced = set(conn.execute(
        update(items)
        .where(tuple_(items.c.id, items.c.attempts).in_([(w.id, w.attempts) for w in works]),
               items.c.state == "running")
        .values(updated_at=_utc(now), **_DONE)
        .returning(items.c.id)
    ).scalars())
    lost = [w.id for w in works if w.id not in fenced]
    if lost:
        raise LeaseLost(f"work item(s) {', '.join(map(str, lost))} were re-claimed")


#: the columns a fence sets on a finished item (besides ``updated_at``)
_DONE = {"state": "done", "lease_until": None, "last_error_code": None, "last_error": None}


@cache
def _fence_statement():
    items = t.work_items
    return (update(items)
            .where(items.c.id == bindparam("w_id"), items.c.state == "running",
                   items.c.attempts == bindparam("w_attempts"))
            .values(updated_at=bindparam("w_at", type_=items.c.updated_at.type), **_DONE))


def backoff_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in ``[base/2, min(cap, base * 2**(attempt-1))]``."""
    ceiling = min(cap_s, base_s * 2 ** max(attempt - 1, 0))
    return (rng or random).uniform(min(base_s / 2, ceiling), ceiling)


def release_for_retry(conn: Connection, work: WorkClaim, *, now: float, delay_s: float,
                      code: str, reason: str) -> bool:
    """Put a claimed item back to ``pending`` after a transient failure.

    Returns:
        False when the claim was no longer ours (nothing changed).
    """
    items = t.work_items
    result = conn.execute(
        update(items)
        .where(items.c.id == work.id, items.c.state == "running", items.c.attempts == work.attempts)
        .values(state="pending", available_at=now + delay_s, lease_until=None, dispatched_at=now + delay_s,
                last_error_code=code, last_error=reason[:2000], updated_at=_utc(now))
    )
    return result.rowcount == 1


def mark_terminal(conn: Connection, work: WorkClaim, state: str, *, now: float, code: str,
                  reason: str) -> bool:
    """Move a claimed item to ``failed`` (permanent) or ``dead`` (retries exhausted).

    Returns:
        False when the claim was no longer ours (nothing changed).
    """
    items = t.work_items
    result = conn.execute(
        update(items)
        .where(items.c.id == work.id, items.c.state == "running", items.c.attempts == work.attempts)
        .values(state=state, lease_until=None, last_error_code=code, last_error=reason[:2000],
                updated_at=_utc(now))
    )
    return result.rowcount == 1


def add_event(conn: Connection, message_id: str, stage: str, outcome: str, duration_ms: float,
              detail: str | None = None, *, now: float) -> None:
    """Append one timeline event (ids and counts in ``detail``, never payload)."""
    conn.execute(
        t.events.insert().values(message_id=message_id, stage=stage, outcome=outcome,
                                 duration_ms=round(duration_ms, 3), detail=detail, at=_utc(now))
    )


def add_events(conn: Connection, rows: list[dict]) -> None:
    """Append several timeline events in one statement (rows shaped like ``events`` columns)."""
    insert_rows(conn, t.events, rows)


def reset_for_replay(conn: Connection, message_id: str, first_stage: str, *, now: float) -> list[int]:
    """Make a message's work runnable again (inside the caller's transaction).

    Failed and dead items go back to ``pending`` with a fresh attempt budget. When nothing was
    failed or dead, the whole workflow starts again as a new generation from ``first_stage``;
    stages skip effects that already exist, so effects stay exactly-once.

    Returns:
        Ids of the items to dispatch.
    """
    items = t.work_items
    stuck = conn.execute(
        update(items)
        .where(items.c.message_id == message_id, items.c.state.in_(("failed", "dead")))
        .values(state="pending", attempts=0, available_at=now, lease_until=None, dispatched_at=now,
                updated_at=_utc(now))
        .returning(items.c.id)
    ).scalars().all()
    if stuck:
        return list(stuck)
    active = conn.execute(
        select(func.count()).select_from(items)
        .where(items.c.message_id == message_id, items.c.state.in_(("pending", "running")))
    ).scalar_one()
    if active:
        return []
    generation = conn.execute(
        select(func.coalesce(func.max(items.c.generation), -1) + 1).where(items.c.message_id == message_id)
    ).scalar_one()
    return [add_work(conn, message_id, first_stage, now=now, generation=generation)]
