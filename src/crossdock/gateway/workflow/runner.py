"""Run work items: claim, run the stage *and the stages that follow it* in one transaction, fence.

A claimed item runs as a **chain**: its stage, then (in the same transaction) each next stage the
previous one names, until a stage ends the chain, needs I/O outside a transaction (``pre``, e.g.
deliver) or fails. The transaction writes the timeline events of every stage it ran and ends by
fencing the claimed item ``done``; so a whole inbound message (parse → acknowledge → map → apply
→ route) costs one claim and one commit, and exactly-once stays guarded by the one claim:

* killed before the commit: nothing of the chain exists, the lease expires, the sweeper
  redispatches, the next claim reruns the chain;
* killed after it: the item is ``done``, redelivery skips it.

When a stage after the first fails, the transaction is rolled back and the stages before it run
again in a fresh one (stages are deterministic and idempotent; the X12 reading is cached), which
commits them with a claimed work item for the failed stage; the failure is then recorded on
that item exactly as if the stage had run alone: the retry, the ``dead`` state and a replay
resume at the failed stage. Failures cost a second pass; the common path pays no savepoints.

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.engine import Connection

from crossdock.gateway.observability.logs import bind_message
from crossdock.gateway.partners import partner_by_id
from crossdock.gateway.runtime import Runtime
from crossdock.gateway.store.engine import deferring_writes, sharing_reads
from crossdock.gateway.workflow.dedupe import preclaim, release_keys
from crossdock.gateway.workflow.outbox import (
    LeaseLost,
    WorkClaim,
    add_event,
    add_events,
    add_work,
    backoff_delay,
    claim_many,
    fence,
    fence_many,
    mark_terminal,
    release_for_retry,
)
from crossdock.gateway.workflow.stages import (
    INBOUND_FIRST_STAGE,
    PRECLAIMED,
    STAGES,
    StageContext,
    StageResult,
    keys_ahead,
    load_message,
    load_messages,
    load_payloads,
    write_later,
    set_message_status,
    set_message_statuses,
)
from crossdock.schemas.errors import CrossdockError, InputRejected

__all__ = ["run_work", "run_batch", "run_claimed"]

log = structlog.get_logger("crossdock.workflow")
#: stages that read the X12 of an inbound message anyway (so its control numbers are known to log)
_READS_X12 = frozenset({"parse", "acknowledge", "map"})
#: stages a batch may take on its own: no I/O outside the transaction
_BATCHED_STAGES = tuple(name for name, stage in STAGES.items() if stage.pre is None)
#: control numbers bound to a log line at most (a batch of sets is summarised by a count)
_MAX_LOGGED_NUMBERS = 5
#: a batch reads the payloads of its fresh messages up to this size in one query (larger ones are
#: read by their chain, so a batch never holds many big payloads at once)
_PRELOADED_PAYLOAD_BYTES = 256 * 1024


class _ChainRaised(Exception):
    """A chain of a batch raised: the batch's transaction is rolled back, the failure is recorded on
    that chain's item and the other items run alone."""

    def __init__(self, work: WorkClaim, cause: Exception, duration_ms: float) -> None:
        super().__init__(work.id)
        self.work, self.cause, self.duration_ms = work, cause, duration_ms


class _StageFailed(Exception):
    """A stage after the first of a chain raised; the stages before it are kept."""

    def __init__(self, stage: str, cause: Exception, duration_ms: float) -> None:
        super().__init__(stage)
        self.stage, self.cause, self.duration_ms = stage, cause, duration_ms


@dataclass
class _Chain:
    """What one chain did so far (the runner's bookkeeping, never stage data)."""

    work: WorkClaim
    now: float
    events: list[dict[str, Any]] = field(default_factory=list)
    spawned: list[int] = field(default_factory=list)
    #: the message columns the chain's stages changed, written when the chain ends
    updates: dict[str, Any] = field(default_factory=dict)
    #: in a batch, the writes its stages left to run with the other chains' (``insert_later``)
    later: list[tuple[Any, list[dict[str, Any]]]] = field(default_factory=list)
    #: the claimed item of the failed stage, left by a prefix run (``stop_at``)
    failed: WorkClaim | None = None
    retry: tuple[WorkClaim, float | None] | None = None
    #: in a batch the events and the fence of a chain that ends normally are written for all the
    #: batch's chains at once (:func:`_finish_batch`); ``finished`` says this chain's are due
    batched: bool = False
    finished: bool = False

    def event(self, stage: str, result: StageResult, duration_ms: float) -> None:
        self.events.append({"message_id": self.work.message_id, "stage": stage, "outcome": result.outcome,
                            "duration_ms": round(duration_ms, 3), "detail": result.detail or None,
                            "at": datetime.fromtimestamp(self.now, UTC)})


def run_work(runtime: Runtime, work_id: int | Sequence[int]) -> None:
    """Claim ``work_id`` (or each of several ids), skipping what is taken, and run the chains.

    The claim also takes other due items, up to ``workflow.batch_size`` in all, when the work
    queue has a backlog; several claimed items run as one batch (:func:`run_batch`), one alone.
    Ids this process is running or finished lately in a batch (their wake-ups arrive after a
    batch took them) are skipped without a query (:class:`~crossdock.gateway.runtime.OwnWork`).
    """
    settings = runtime.settings.workflow
    ids = runtime.own.unknown([work_id] if isinstance(work_id, int) else work_id)
    if not ids:
        return
    claims = claim_many(runtime.engine, ids, now=runtime.clock(), lease_s=settings.lease_s,
                        fill_to=settings.batch_size, stages=_BATCHED_STAGES)
    runtime.own.claimed(work.id for work in claims)
    try:
        alone = claims if len(claims) < 2 else run_batch(runtime, claims)
        for work in alone:
            while work is not None:
                work = run_claimed(runtime, work)
    finally:
        runtime.own.released(work.id for work in claims)


def run_batch(runtime: Runtime, claims: Sequence[WorkClaim]) -> list[WorkClaim]:
    """Run the chains of several claimed items in ONE transaction.

    One commit (and one fsync) serves the batch; its message rows and small payloads are read in
    one query each, registry and inventory master-data lookups are shared by its chains, and what
    no stage reads back in the transaction (timeline events, message columns, interchange / group
    / set / sent-ack rows, document statuses, order lines, the rows of acks with no channel) is
    written for all chains at the end, one ``executemany`` per statement (:func:`deferring_writes`),
    followed by one fence for all items. Every chain is still fenced by its own claim, so
    exactly-once is unchanged: a kill before the commit loses the whole batch (the leases expire,
    the sweeper redispatches), a kill after it finds the items ``done``; a lost lease rolls the
    whole batch back and its items run alone. So does a chain that raises: chains run without
    savepoints (two round trips each saved on the common path), so the batch is dropped, the
    failure is recorded on that chain's item just as :func:`run_claimed` records it (the stages
    before the failed one kept, the failed one not run again), and the other items, each with its
    claim, run alone. A stage that needs I/O first (``pre``) and a message's second item in the batch run
    alone after the batch, and every item does when the commit itself fails.

    Returns:
        Claims the caller runs alone, one by one.
    """
    alone: list[WorkClaim] = []
    done: list[_Chain] = []
    lookups: dict[Any, Any] = {}
    try:
        with runtime.engine.begin() as conn, sharing_reads(conn, lookups):
            messages, payloads = _preload(conn, claims)
            seen: set[str] = set()
            planned: list[tuple[int, WorkClaim, Any, dict[Any, Any]]] = []
            for index, work in enumerate(claims):
                if STAGES[work.stage].pre is not None or work.message_id in seen:
                    # (a message's second item runs after the batch: its rows are written then)
                    alone.append(work)
                    continue
                seen.add(work.message_id)
                message = messages.pop(work.message_id, None)
                memo = {("payload",): payloads[message.sha256]} if message and message.sha256 in payloads else {}
                planned.append((index, work, message, memo))
            _preclaim_keys(runtime, conn, planned, lookups)
            for index, work, message, memo in planned:
                chain = _Chain(work, runtime.clock(), batched=True)
                started = time.perf_counter()
                try:
                    with deferring_writes(conn, chain.later):
                        following = _run_chain(runtime, conn, chain, None, lookups=lookups,
                                               ahead=len(claims) - index, message=message, memo=memo)
                except LeaseLost:
                    raise
                except Exception as exc:  # noqa: BLE001 - the batch is dropped; the failure is recorded below
                    raise _ChainRaised(work, exc, (time.perf_counter() - started) * 1000) from exc
                unused = memo.pop(PRECLAIMED, None)
                if unused is not None:  # (its parse claimed nothing after all: as if never inserted)
                    release_keys(conn, unused[1], work.message_id)
                done.append(chain)
                if following is not None:
                    alone.append(following)
            _finish_batch(conn, [chain for chain in done if chain.finished])
    except LeaseLost:
        log.info("a batch item's lease was lost; batch rolled back, running its items one by one",
                 items=len(claims))
        return list(claims)
    except _ChainRaised as raised:
        log.info("a chain of the batch raised; batch rolled back, running the others one by one",
                 items=len(claims), work_id=raised.work.id)
        _settle_raised(runtime, raised)
        return [work for work in claims if work.id != raised.work.id]
    except Exception:  # noqa: BLE001 - nothing of the batch exists; our claims still stand
        log.warning("batch commit failed; running its items one by one", items=len(claims), exc_info=True)
        return list(claims)
    runtime.own.finished(chain.work.id for chain in done if chain.finished)
    for chain in done:
        _after_commit(runtime, chain)
    log.debug("batch done", items=len(claims), alone=len(alone))
    return alone


def _preclaim_keys(runtime: Runtime, conn: Connection, planned: list[tuple[int, WorkClaim, Any, dict[Any, Any]]],
                   lookups: dict[Any, Any]) -> None:
    """Insert the dedupe keys the batch's fresh X12 messages will claim in their parse, in one
    statement for all (one round trip per message saved: about a tenth of a worker's CPU per
    document), and leave each chain what it got (:data:`~.stages.PRECLAIMED`). The keys are
    found as the stage finds them (:func:`~.stages.keys_ahead`: the same reading, kept for the
    chain, and the same partner lookups); of two messages asking for one key the earlier in the
    batch gets it, as when they run in turn. The stage itself inserts any key it wants and was
    not given, and releases any it was given and does not want."""
    asked: list[tuple[str, list[tuple[str, str]], dict[Any, Any]]] = []
    for _, work, message, memo in planned:
        if work.stage != INBOUND_FIRST_STAGE or message is None:
            continue
        ctx = StageContext(runtime, conn, work, message, runtime.clock(), memo=memo, lookups=lookups)
        keys = keys_ahead(ctx)
        if keys:
            asked.append((work.message_id, keys, memo))
    if len(asked) < 2:  # (one message saves nothing: its stage inserts its own)
        return
    claimed = preclaim(conn, [(message_id, keys) for message_id, keys, _ in asked], now=runtime.clock())
    for message_id, _, memo in asked:
        memo[PRECLAIMED] = claimed[message_id]


def _preload(conn: Connection, claims: Sequence[WorkClaim]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The batch's message rows, and the payloads of its fresh small messages, in two queries.

    A message named by two items of the batch is left out (each chain reads it when it starts,
    after the other has changed it)."""
    counts: dict[str, int] = {}
    for work in claims:
        counts[work.message_id] = counts.get(work.message_id, 0) + 1
    messages = load_messages(conn, [m for m, n in counts.items() if n == 1])
    payloads = load_payloads(conn, [m.sha256 for m in messages.values()
                                    if m.status == "received" and m.size <= _PRELOADED_PAYLOAD_BYTES])
    return messages, payloads


def run_claimed(runtime: Runtime, work: WorkClaim) -> WorkClaim | None:
    """Run one claimed item's chain; return the claim of a stage that must run in a new transaction
    (one with ``pre`` I/O), when this worker continues with it."""
    stage = STAGES[work.stage]
    bound = log.bind(message_id=work.message_id, stage=work.stage, work_id=work.id, attempt=work.attempts)
    started = time.perf_counter()
    chain = _Chain(work, runtime.clock())
    try:
        pre = stage.pre(runtime, work) if stage.pre else None
        with runtime.engine.begin() as conn:
            following = _run_chain(runtime, conn, chain, pre)
    except LeaseLost:
        bound.info("lease lost, rolled back")
        return None
    except _StageFailed as failed:
        return _keep_prefix(runtime, work, failed)
    except Exception as exc:  # noqa: BLE001 - the one edge where stage errors are classified
        _record_failure(runtime, work, exc, (time.perf_counter() - started) * 1000, bound)
        return None
    _after_commit(runtime, chain)
    bound.debug("chain done", stages=len(chain.events), ms=round((time.perf_counter() - started) * 1000, 1))
    return following


def _after_commit(runtime: Runtime, chain: _Chain) -> None:
    """Dispatch what a committed chain created or put back for a retry."""
    for work_id in chain.spawned:
        runtime.dispatch(work_id)
    if chain.retry is not None:
        _dispatch_retry(runtime, *chain.retry)
    for event in chain.events:
        _pause(runtime, f"{event['stage']}:after_commit")


def _dispatch_retry(runtime: Runtime, work: WorkClaim, delay: float | None) -> None:
    """Queue an item put back for a retry, released first so its wake-up claims it whenever it comes."""
    runtime.own.released([work.id])
    runtime.dispatch(work.id, delay)


def _settle_raised(runtime: Runtime, raised: _ChainRaised) -> None:
    """Record the failure of a batch's chain as if it had run alone, without running its failed
    stage a second time: a poison stage costs one run per attempt, whether it ran in a batch."""
    work, cause = raised.work, raised.cause
    if isinstance(cause, _StageFailed):
        _keep_prefix(runtime, work, cause)
    else:
        bound = log.bind(message_id=work.message_id, stage=work.stage, work_id=work.id, attempt=work.attempts)
        _record_failure(runtime, work, cause, raised.duration_ms, bound)


def _keep_prefix(runtime: Runtime, work: WorkClaim, failed: _StageFailed) -> None:
    """Commit the stages before the failed one, then record the failure on the failed stage's item."""
    bound = log.bind(message_id=work.message_id, stage=failed.stage, work_id=work.id)
    chain = _Chain(work, runtime.clock())
    try:
        with runtime.engine.begin() as conn:
            _run_chain(runtime, conn, chain, None, stop_at=failed.stage)
    except LeaseLost:
        bound.info("lease lost, rolled back")
        return None
    except Exception as exc:  # noqa: BLE001 - the prefix itself failed now: record it on the claimed item
        _record_failure(runtime, work, exc, failed.duration_ms, bound)
        return None
    for work_id in chain.spawned:
        runtime.dispatch(work_id)
    if chain.failed is not None:  # else the prefix ended differently this time and settled itself
        _record_failure(runtime, chain.failed, failed.cause, failed.duration_ms, bound.bind(work_id=chain.failed.id))
    return None


def _run_chain(runtime: Runtime, conn: Connection, chain: _Chain, pre: Any, *,
               stop_at: str | None = None, lookups: dict[Any, Any] | None = None,
               ahead: int = 1, message: Any = None, memo: dict[Any, Any] | None = None) -> WorkClaim | None:
    """Inside the transaction: run stages until the chain ends; events, fence, next item.

    With ``stop_at``, stop before that stage and leave a claimed item for it in ``chain.failed``.
    ``lookups`` shares registry reads (and, on PostgreSQL, control-number reservations) with the
    other chains of the transaction (a batch); ``ahead`` chains, this one included, are to come.
    ``message`` (the row) and ``memo`` (e.g. the payload) are what the batch read for the chain.
    """
    work, now = chain.work, chain.now
    lease_s = runtime.settings.workflow.lease_s
    message = message if message is not None else load_message(conn, work.message_id)
    memo = memo if memo is not None else {}
    name: str | None = work.stage
    first = True
    while name is not None:
        stage = STAGES[name]
        if not first and (stage.pre is not None or name == stop_at):
            _finish(conn, chain)
            claimed = add_work(conn, work.message_id, name, now=now, generation=work.generation, lease_s=lease_s)
            if name == stop_at:
                chain.failed = claimed
                return None
            return claimed
        ctx = StageContext(runtime, conn, work, message, now, pre if first else None, memo=memo, lookups=lookups,
                           ahead=ahead)
        began = time.perf_counter()
        with bind_message(work.message_id, stage=name, **_log_ids(ctx, name)):
            try:
                result = stage.run(ctx)
            except Exception as exc:
                if first or stop_at is not None:
                    raise
                raise _StageFailed(name, exc, (time.perf_counter() - began) * 1000) from exc
            log.debug("stage done", outcome=result.outcome, ms=round((time.perf_counter() - began) * 1000, 1))
        chain.spawned.extend(ctx.spawned)
        chain.updates.update(ctx.updates)
        _pause(runtime, name)
        chain.event(name, result, (time.perf_counter() - began) * 1000)
        if result.failure is not None or result.retry is not None:
            _settle_outcome(runtime, conn, chain, name, result, first)
            return None
        name, first = result.next_stage, False
    _finish(conn, chain)
    return None


def _log_ids(ctx: StageContext, stage: str) -> dict[str, str]:
    """Partner code and the X12 control numbers (ISA13, GS06, ST02) of the message, for its log lines."""
    message = ctx.message
    partner_id = message.partner_id if message.direction == "inbound" else message.recipient_id
    known = ctx.memo.get(("log_ids", partner_id))  # the same for the chain's later stages
    if known is not None:
        return known
    ids: dict[str, str] = {}
    if partner_id is not None:
        code = ctx.remember(("partner_code", partner_id), lambda: getattr(partner_by_id(ctx.conn, partner_id), "code", None))
        if code is not None:
            ids["partner"] = code
    if message.format == "x12" and message.direction == "inbound":
        if stage not in _READS_X12 and ("x12",) not in ctx.memo:
            return ids  # (not kept: a later stage that reads the X12 adds its numbers)
        reading = ctx.x12()
        for name, numbers in (("isa13", [i.control_number for i in reading.interchanges]),
                              ("gs06", [g.control_number for i in reading.interchanges for g in i.groups]),
                              ("st02", [s.control_number for s in reading.sets])):
            if numbers:
                ids[name] = _summarise(numbers)
    ctx.memo[("log_ids", partner_id)] = ids
    return ids


def _summarise(numbers: list[str]) -> str:
    shown = ",".join(numbers[:_MAX_LOGGED_NUMBERS])
    return shown if len(numbers) <= _MAX_LOGGED_NUMBERS else f"{shown},+{len(numbers) - _MAX_LOGGED_NUMBERS}"


def _finish(conn: Connection, chain: _Chain) -> None:
    """The chain's events and the fence of its claimed item (raises LeaseLost if taken over);
    in a batch, left to :func:`_finish_batch`."""
    if chain.batched:
        chain.finished = True
        return
    _write_pending(conn, chain)
    add_events(conn, chain.events)
    fence(conn, chain.work, now=chain.now)


def _write_pending(conn: Connection, chain: _Chain) -> None:
    """The rows and message columns the chain's stages left to write at its end."""
    write_later(conn, chain.later)
    chain.later.clear()  # (the list a batch collects into: emptied, never replaced)
    if chain.updates:
        set_message_statuses(conn, [(chain.work.message_id, datetime.fromtimestamp(chain.now, UTC), chain.updates)])
        chain.updates = {}


def _finish_batch(conn: Connection, chains: list[_Chain]) -> None:
    """What a batch's chains left to write (their deferred rows, message columns, events) and the
    fences of their items: one statement per kind for the whole batch. A lost lease raises
    LeaseLost and so rolls back the whole batch (its items then run alone)."""
    if not chains:
        return
    write_later(conn, [write for chain in chains for write in chain.later])
    set_message_statuses(conn, [(chain.work.message_id, datetime.fromtimestamp(chain.now, UTC), chain.updates)
                                for chain in chains if chain.updates])
    add_events(conn, [event for chain in chains for event in chain.events])
    fence_many(conn, [chain.work for chain in chains], now=max(chain.now for chain in chains))


def _settle_outcome(runtime: Runtime, conn: Connection, chain: _Chain, name: str, result: StageResult,
                    first: bool) -> None:
    """A stage asked to fail or retry its item (after committing what it wrote)."""
    work, now = chain.work, chain.now
    _write_pending(conn, chain)
    add_events(conn, chain.events)
    if not first:
        fence(conn, work, now=now)
        work = add_work(conn, work.message_id, name, now=now, generation=work.generation,
                        lease_s=runtime.settings.workflow.lease_s)
    at = datetime.fromtimestamp(now, UTC)
    if result.failure is not None:
        code, reason = result.failure
        if not mark_terminal(conn, work, "failed", now=now, code=code, reason=reason):
            raise LeaseLost(work.id)
        set_message_status(conn, work.message_id, "failed", at=at, code=code, reason=reason)
        return
    retry = result.retry
    assert retry is not None
    if work.attempts >= _max_attempts(runtime, work):
        if not mark_terminal(conn, work, "dead", now=now, code=retry.code, reason=retry.reason):
            raise LeaseLost(work.id)
        set_message_status(conn, work.message_id, "dead", at=at, code=retry.code, reason=retry.reason)
        return
    delay = _retry_delay(runtime, work, retry.delay_s)
    if not release_for_retry(conn, work, now=now, delay_s=delay, code=retry.code, reason=retry.reason):
        raise LeaseLost(work.id)
    set_message_status(conn, work.message_id, "retrying", at=at, code=retry.code, reason=retry.reason)
    chain.retry = (work, delay)


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
        _dispatch_retry(runtime, work, delay)


def _pause(runtime: Runtime, point: str) -> None:
    """Test-only fault injection: sleep at ``testing.pause_at`` so a test can kill the worker."""
    testing = runtime.settings.testing
    if testing.pause_at != point:
        return
    if testing.pause_marker is not None:
        Path(testing.pause_marker).write_text(str(os.getpid()))
    time.sleep(testing.pause_s)
