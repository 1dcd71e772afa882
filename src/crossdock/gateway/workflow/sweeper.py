"""The sweeper: the database, not the broker, decides what still has to run.

Every ``sweep_interval_s`` it re-dispatches work items that are

* ``pending``, due, and dispatched longer than ``redispatch_after_s`` ago: the enqueue after
  commit was lost (API crash, broker down) or the broker lost the message (Redis flushed or
  restarted). Creators stamp ``dispatched_at`` when they create the item and enqueue right after
  commit, so a healthy item is never swept twice;
* ``running`` with an expired lease (the worker was killed mid-stage).

and marks expected acknowledgements ``overdue``. Safe with many workers: on PostgreSQL the
candidates are locked ``FOR UPDATE SKIP LOCKED`` and stamped ``dispatched_at`` in the same
transaction, so two sweepers do not pick the same rows; a duplicate dispatch would be harmless
anyway (claims skip). It never relies on dramatiq's maintenance pass (FAULTS F4, F8, F9).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import and_, or_, select, update

from crossdock.gateway.runtime import Runtime
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import is_postgres

__all__ = ["Sweeper", "sweep", "SweepReport"]

log = structlog.get_logger("crossdock.sweeper")


@dataclass(frozen=True, slots=True)
class SweepReport:
    dispatched: int
    overdue_acks: int


def sweep(runtime: Runtime) -> SweepReport:
    """One pass; returns what it did."""
    settings = runtime.settings.workflow
    now = runtime.clock()
    items = t.work_items
    stale = or_(
        and_(items.c.state == "pending", items.c.available_at <= now,
             or_(items.c.dispatched_at.is_(None), items.c.dispatched_at < now - settings.redispatch_after_s)),
        and_(items.c.state == "running", items.c.lease_until < now),
    )
    query = select(items.c.id).where(stale).order_by(items.c.available_at).limit(settings.sweep_batch)
    with runtime.engine.begin() as conn:
        if is_postgres(conn):
            query = query.with_for_update(skip_locked=True)
        ids = conn.execute(query).scalars().all()
        if ids:
            conn.execute(update(items).where(items.c.id.in_(ids)).values(dispatched_at=now))
        overdue = conn.execute(
            update(t.acks).where(t.acks.c.direction == "expected", t.acks.c.status == "pending",
                                 t.acks.c.due_at < datetime.fromtimestamp(now, UTC))
            .values(status="overdue", updated_at=datetime.fromtimestamp(now, UTC))
        ).rowcount
    for work_id in ids:
        runtime.dispatch(work_id)
    if ids or overdue:
        log.info("sweep", dispatched=len(ids), overdue_acks=overdue)
    return SweepReport(len(ids), max(overdue, 0))


class Sweeper:
    """Runs :func:`sweep` periodically on a daemon thread."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="crossdock-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        interval = self._runtime.settings.workflow.sweep_interval_s
        while not self._stop.wait(interval):
            try:
                sweep(self._runtime)
            except Exception:  # noqa: BLE001 - a failed pass (DB down) is retried next period
                log.exception("sweep failed")
