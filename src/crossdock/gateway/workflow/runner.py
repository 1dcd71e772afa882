"""Run work items: claim, run the stage in one transaction, fence, continue with the next stage.

Error policy (STYLE items 18, 19, 25), decided once here:

==========================================  ===================================================
raised by a stage                           outcome
==========================================  ===================================================
``InputRejected`` (bad document)            item ``failed``; message ``rejected`` with code
other ``CrossdockError`` (not transient)    item ``failed``; message ``failed`` with code
``TransientError``, DB errors, anything     retry after exponential backoff; after the last
else                                        attempt item and message ``dead`` (replayable)
``LeaseLost``                               roll back silently: another worker owns the item
==========================================  ===================================================
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy import select

from crossdock.gateway.runtime import Runtime
from crossdock.gateway.store import schema as t
from crossdock.gateway.workflow.outbox import (
    LeaseLost,
    WorkClaim,
    add_event,
    add_work,
    backoff_delay,
    claim,
    fence,
    mark_terminal,
    release_for_retry,
)
from crossdock.gateway.workflow.stages import STAGES, StageContext, StageResult, set_message_status
from crossdock.schemas.errors import CrossdockError, InputRejected

__all__ = ["run_work", "run_claimed"]

log = structlog.get_logger("crossdock.workflow")


def run_work(runtime: Runtime, work_id: int) -> None:
    """Claim ``work_id`` (or skip it) and run it and the stages that follow it."""
    settings = runtime.settings.workflow
    work = claim(runtime.engine, work_id, now=runtime.clock(), lease_s=settings.lease_s)
    while work is not None:
        work = run_claimed(runtime, work)


def run_claimed(runtime: Runtime, work: WorkClaim) -> WorkClaim | None:
    """Run one claimed stage; return the next stage's claim when this worker continues with it."""
    stage = STAGES[work.stage]
    bound = log.bind(message_id=work.message_id, stage=work.stage, work_id=work.id, attempt=work.attempts)
    started = time.perf_counter()
    try:
        pre = stage.pre(runtime, work) if stage.pre else None
        with runtime.engine.begin() as conn:
            now = runtime.clock()
            message = conn.execute(select(t.messages).where(t.messages.c.id == work.message_id)).one()
            ctx = StageContext(runtime, conn, work, message, now, pre)
            result = stage.run(ctx)
            _pause(runtime, work.stage)
            duration = (time.perf_counter() - started) * 1000
            following = _settle(ctx, result, duration)
    except LeaseLost:
        bound.info("lease lost, rolled back")
        return None
    except Exception as exc:  # noqa: BLE001 - the one edge where stage errors are classified
        _record_failure(runtime, work, exc, (time.perf_counter() - started) * 1000, bound)
        return None
    for work_id in ctx.spawned:
        runtime.dispatch(work_id)
    if result.retry is not None and following is None:
        runtime.dispatch(work.id, _retry_delay(runtime, work, result.retry.delay_s))
    _pause(runtime, f"{work.stage}:after_commit")
    bound.debug("stage done", outcome=result.outcome, ms=round((time.perf_counter() - started) * 1000, 1))
    return following


def _settle(ctx: StageContext, result: StageResult, duration: float) -> WorkClaim | None:
    """Inside the stage transaction: timeline event, then done/next, retry or failed."""
    work, conn, now = ctx.work, ctx.conn, ctx.now
    add_event(conn, work.message_id, work.stage, result.outcome, duration, result.detail, now=now)
    if result.failure is not None:
        code, reason = result.failure
        if not mark_terminal(conn, work, "failed", now=now, code=code, reason=reason):
            raise LeaseLost(work.id)
        set_message_status(conn, work.message_id, "failed", at=ctx.at, code=code, reason=reason)
        return None
    if result.retry is not None:
        retry = result.retry
        if work.attempts >= _max_attempts(ctx.runtime, work):
            if not mark_terminal(conn, work, "dead", now=now, code=retry.code, reason=retry.reason):
                raise LeaseLost(work.id)
            set_message_status(conn, work.message_id, "dead", at=ctx.at, code=retry.code, reason=retry.reason)
            return None
        delay = _retry_delay(ctx.runtime, work, retry.delay_s)
        if not release_for_retry(conn, work, now=now, delay_s=delay, code=retry.code, reason=retry.reason):
            raise LeaseLost(work.id)
        set_message_status(conn, work.message_id, "retrying", at=ctx.at, code=retry.code, reason=retry.reason)
        return None
    fence(conn, work, now=now)
    if result.next_stage is None:
        return None
    return add_work(conn, work.message_id, result.next_stage, now=now, generation=work.generation,
                    lease_s=ctx.runtime.settings.workflow.lease_s)


def _max_attempts(runtime: Runtime, work: WorkClaim) -> int:
    if work.stage == "deliver":
        return runtime.settings.delivery.max_attempts
    return runtime.settings.workflow.max_attempts


def _retry_delay(runtime: Runtime, work: WorkClaim, hinted: float | None) -> float:
    settings = runtime.settings.workflow
    delay = backoff_delay(work.attempts, settings.backoff_base_s, settings.backoff_cap_s)
    return max(delay, min(hinted or 0.0, settings.backoff_cap_s))


def _record_failure(runtime: Runtime, work: WorkClaim, exc: Exception, duration: float, bound) -> None:
    """Classify ``exc`` and record it in a fresh transaction (the stage's was rolled back)."""
    permanent = isinstance(exc, CrossdockError) and not exc.transient
    code = exc.code if isinstance(exc, CrossdockError) else type(exc).__name__
    reason = exc.message if isinstance(exc, CrossdockError) else (str(exc) or type(exc).__name__)
    now = runtime.clock()
    at = datetime.fromtimestamp(now, UTC)
    exhausted = not permanent and work.attempts >= _max_attempts(runtime, work)
    delay = 0.0 if permanent or exhausted else _retry_delay(runtime, work, None)
    try:
        with runtime.engine.begin() as conn:
            if permanent or exhausted:
                state = "failed" if permanent else "dead"
                if not mark_terminal(conn, work, state, now=now, code=code, reason=reason):
                    return
                status = "rejected" if isinstance(exc, InputRejected) else state
                set_message_status(conn, work.message_id, status, at=at, code=code, reason=reason)
                add_event(conn, work.message_id, work.stage, state, duration, f"{code}: {reason}"[:500], now=now)
            else:
                if not release_for_retry(conn, work, now=now, delay_s=delay, code=code, reason=reason):
                    return
                add_event(conn, work.message_id, work.stage, "retry", duration,
                          f"{code}; retry in {delay:.1f}s", now=now)
    except Exception:  # noqa: BLE001 - DB down too: the lease expires and the sweeper retries
        bound.exception("could not record a stage failure; the sweeper will retry after the lease")
        return
    if permanent:
        bound.warning("stage failed", code=code)
    elif exhausted:
        bound.error("stage dead after retries", code=code, exc_info=exc)
    else:
        bound.warning("stage will retry", code=code, delay_s=round(delay, 2), exc_info=exc)
        runtime.dispatch(work.id, delay)


def _pause(runtime: Runtime, point: str) -> None:
    """Test-only fault injection: sleep at ``testing.pause_at`` so a test can kill the worker."""
    testing = runtime.settings.testing
    if testing.pause_at != point:
        return
    if testing.pause_marker is not None:
        Path(testing.pause_marker).write_text(str(os.getpid()))
    time.sleep(testing.pause_s)
