"""Durable ingest: raw bytes and the first work item in one small transaction, then dispatch.

Shared by the HTTP API, the directory inbox and replays. The caller answers the sender only
after :func:`ingest` returns, i.e. after the commit (fsync'd on both backends), and dispatches
the returned work item only after that commit too.

The transaction is as small as it can be: payload (keyed by sha256, computed by the HTTP edge
while the body streams in), message, ``ingest`` timeline event and work item. On PostgreSQL the
four rows go in as ONE statement (data-modifying CTEs) run in autocommit mode: PostgreSQL makes
the statement its own transaction (all four rows or none, committed before it returns), so a 202
costs one round trip, with no BEGIN or COMMIT around it; no SELECT runs unless an
``Idempotency-Key`` is given. On SQLite, where commits are
fsync'd one writer at a time, the HTTP edge stores concurrent requests through
:class:`GroupCommit`: one transaction and one commit for all of them.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import IntegrityError

from crossdock.gateway import pipeline
from crossdock.gateway.partners import Partner
from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import driver_error, insert_ignore, is_postgres
from crossdock.gateway.workflow.outbox import add_event, add_work
from crossdock.schemas.errors import InputRejected

__all__ = ["IngestRequest", "IngestResult", "EmptyBody", "ingest", "GroupCommit", "FIRST_STAGE", "new_message_id"]

FIRST_STAGE = "parse"


class EmptyBody(InputRejected):
    """The request carried no bytes (BAD_INPUT 1, 48): nothing is stored or queued."""

    code = "EMPTY_BODY"


@dataclass(frozen=True, slots=True)
class IngestRequest:
    """What arrived, before anything is stored.

    Attributes:
        body: the raw bytes (already size-capped and, if gzip, decompressed).
        channel: ``http``, ``inbox`` or ``internal``.
        partner: the authenticated sender, when known.
        recipient: for documents our host posts to a partner, that partner.
        content_type: declared media type, if any.
        filename: partner-supplied file name (metadata only, never used as a path).
        idempotency_key: the client's ``Idempotency-Key``.
        sha256: hex digest of ``body`` when the caller computed it while reading (else computed here).
    """

    body: bytes
    channel: str
    partner: Partner | None = None
    recipient: Partner | None = None
    content_type: str | None = None
    filename: str | None = None
    idempotency_key: str | None = None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Outcome: the stored message and whether this call created it.

    Attributes:
        message_id: id of the stored message.
        status: its status now.
        created: False when an ``Idempotency-Key`` matched an earlier message.
        work_id: the work item to dispatch after commit (None when nothing is queued).
        rejection: the input error when the bytes were kept but refused (e.g. 415).
    """

    message_id: str
    status: str
    created: bool
    work_id: int | None = None
    rejection: InputRejected | None = None


def new_message_id() -> str:
    """A new message id: 128 random bits as 32 hex digits (the shape of a ``uuid4().hex``).

    Drawn from a generator seeded once per process from the OS, not from ``os.urandom`` per id:
    that system call releases the GIL, and under load a worker thread then waited for it behind
    the others while holding its batch's transaction open (py-spy: 12% of worker samples). Ids
    only need to be unique (access is checked per partner, never by knowing an id); 128 bits
    from a per-process stream reseeded after a fork are.
    """
    return f"{_IDS.getrandbits(128):032x}"


#: the stream :func:`new_message_id` draws from (``random.Random()`` seeds itself from the OS)
_IDS = random.Random()
os.register_at_fork(after_in_child=_IDS.seed)


def ingest(engine: Engine, request: IngestRequest, *, now: float | None = None) -> IngestResult:
    """Store the bytes and queue the first stage, atomically.

    Args:
        engine: database.
        request: what arrived.
        now: epoch seconds (tests pass a clock).

    Returns:
        The stored message. Input the gateway refuses up front (content type contradicting the
        content, unknown format, unsupported encoding) is still stored, as ``rejected`` with its
        reason, when the sender is known; the result then carries ``rejection``.

    Raises:
        EmptyBody: nothing to store.
        InputRejected: refused input from an unknown sender (nothing stored).
    """
    now = time.time() if now is None else now
    detected, rejection = _detect(request)
    idem = _idempotency_column(request)
    if idem is not None:
        existing = _by_idempotency(engine, idem)
        if existing is not None:
            return existing
    try:
        return _store(engine, request, detected, rejection, idem, now)
    except IntegrityError:
        # Two retries with the same key raced; the unique index let exactly one through.
        existing = _by_idempotency(engine, idem) if idem is not None else None
        if existing is None:
            raise
        return existing


def _detect(request: IngestRequest) -> tuple[pipeline.Detected, InputRejected | None]:
    """What arrived, or why it is refused (raised when nothing is to be stored)."""
    if not request.body:
        raise EmptyBody("the request body is empty")
    try:
        return pipeline.detect(request.body, request.content_type), None
    except InputRejected as exc:
        if request.partner is None:
            raise
        return pipeline.Detected("unknown", None), exc


class GroupCommit:
    """Concurrent ingests stored in ONE transaction with one commit, each answered after it.

    For SQLite (embedded), where every commit is fsync'd and writers take turns: the first
    thread to arrive leads, stores what waits (up to ``max_batch``) in one transaction, commits
    once and wakes each waiter with its own result; it then hands the lead to a waiter if more
    arrived. Nobody is answered before the commit that holds its bytes. Requests with an
    ``Idempotency-Key`` (they read first) and any batch whose commit fails are stored one by one
    by :func:`ingest`, which keeps its exact semantics.
    """

    def __init__(self, engine: Engine, max_batch: int = 32) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._waiting: list[_Waiter] = []
        self._leading = False

    def ingest(self, request: IngestRequest, *, now: float | None = None) -> IngestResult:
        """:func:`ingest`, sharing the commit with whatever arrives meanwhile."""
        if request.idempotency_key:
            return ingest(self._engine, request, now=now)
        detected, rejection = _detect(request)
        waiter = _Waiter(request, detected, rejection, time.time() if now is None else now)
        with self._lock:
            self._waiting.append(waiter)
            waiter.leads = not self._leading
            self._leading = True
        while not waiter.done.is_set():
            if waiter.leads:
                self._lead()
            else:
                waiter.wake.wait()
                waiter.wake.clear()
        if waiter.error is not None:
            raise waiter.error
        assert waiter.result is not None
        return waiter.result

    def _lead(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting[:self._max_batch], self._waiting[self._max_batch:]
        self._commit(batch)
        with self._lock:
            if self._waiting:
                successor = self._waiting[0]
                successor.leads = True
                successor.wake.set()
            else:
                self._leading = False

    def _commit(self, batch: list[_Waiter]) -> None:
        try:
            with self._engine.begin() as conn:
                results = [_store_in(conn, w.request, w.detected, w.rejection, None, w.now) for w in batch]
        except Exception:  # noqa: BLE001 - nothing of the batch exists: store them one by one
            results = []
            for waiter in batch:
                try:
                    waiter.result = ingest(self._engine, waiter.request, now=waiter.now)
                except Exception as exc:  # noqa: BLE001 - handed to the waiting request
                    waiter.error = exc
        for waiter, result in zip(batch, results):
            waiter.result = result
        for waiter in batch:
            waiter.done.set()
            waiter.wake.set()


@dataclass(eq=False)
class _Waiter:
    request: IngestRequest
    detected: pipeline.Detected
    rejection: InputRejected | None
    now: float
    leads: bool = False
    result: IngestResult | None = None
    error: Exception | None = None
    done: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)


def _idempotency_column(request: IngestRequest) -> str | None:
    if not request.idempotency_key:
        return None
    scope = request.partner.id if request.partner is not None else 0
    return f"{scope}:{request.idempotency_key[:256]}"


def _by_idempotency(engine: Engine, idem: str) -> IngestResult | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(t.messages.c.id, t.messages.c.status).where(t.messages.c.idempotency_key == idem)
        ).first()
    return None if row is None else IngestResult(row.id, row.status, created=False)


def _store(engine: Engine, request: IngestRequest, detected: pipeline.Detected,
           rejection: InputRejected | None, idem: str | None, now: float) -> IngestResult:
    if rejection is None and is_postgres(engine):
        message = _message_row(request, detected, None, idem, now)
        work_id = _store_autocommitted(engine, request.body, message, _detail(request), now)
        return IngestResult(message["id"], message["status"], created=True, work_id=work_id)
    with engine.begin() as conn:
        return _store_in(conn, request, detected, rejection, idem, now)


def _store_in(conn: Connection, request: IngestRequest, detected: pipeline.Detected,
              rejection: InputRejected | None, idem: str | None, now: float) -> IngestResult:
    """The rows of one message, inside the caller's transaction."""
    message = _message_row(request, detected, rejection, idem, now)
    detail = _detail(request)
    if rejection is None and is_postgres(conn):
        work_id = _store_in_one_statement(conn, request.body, message, detail, now)
    else:
        work_id = _store_row_by_row(conn, request.body, message, detail, rejection, now)
    return IngestResult(message["id"], message["status"], created=True, work_id=work_id, rejection=rejection)


def _detail(request: IngestRequest) -> str:
    return f"{len(request.body)} bytes via {request.channel}"


def _message_row(request: IngestRequest, detected: pipeline.Detected, rejection: InputRejected | None,
                 idem: str | None, now: float) -> dict[str, Any]:
    """The ``messages`` row of what arrived (a new id)."""
    digest = request.sha256 or hashlib.sha256(request.body).hexdigest()
    at = datetime.fromtimestamp(now, UTC)
    status = "rejected" if rejection is not None else "received"
    return {
        "id": new_message_id(), "direction": "inbound", "channel": request.channel,
        "partner_id": request.partner.id if request.partner else None,
        "recipient_id": request.recipient.id if request.recipient else None,
        "format": detected.family, "document_kind": detected.kind, "sha256": digest, "size": len(request.body),
        "content_type": (request.content_type or None) and request.content_type[:128],
        "filename": (request.filename or None) and request.filename[:255],
        "idempotency_key": idem, "received_at": at, "updated_at": at, "status": status,
        "error_code": rejection.code if rejection else None,
        "error_reason": rejection.message if rejection else None, "test": False,
    }


def _store_row_by_row(conn: Connection, body: bytes, message: dict[str, Any], detail: str,
                      rejection: InputRejected | None, now: float) -> int | None:
    insert_ignore(conn, t.payloads, {"sha256": message["sha256"], "size": len(body), "data": body}, ("sha256",))
    conn.execute(t.messages.insert(), message)
    add_event(conn, message["id"], "ingest", "rejected" if rejection else "ok", 0.0, detail, now=now)
    return None if rejection else add_work(conn, message["id"], FIRST_STAGE, now=now)


def _store_in_one_statement(conn: Connection, body: bytes, message: dict[str, Any], detail: str, now: float) -> int:
    params = {f"m_{name}": value for name, value in message.items()}
    params.update(data=body, detail=detail, now=now, at=message["received_at"])
    return conn.execute(_one_statement(), params).scalar_one()


def _store_autocommitted(engine: Engine, body: bytes, message: dict[str, Any], detail: str, now: float) -> int:
    """:func:`_one_statement` in autocommit mode on a pooled driver connection; the work item's id.

    PostgreSQL runs the statement as its own transaction (all four rows or none, committed before
    it returns). It goes straight to the driver because SQLAlchemy's per-execution work
    (connection wrapper, isolation switch, parameter processing, result) cost the API more CPU
    than the statement; driver errors are translated to SQLAlchemy's classes as
    ``Connection.execute`` would (an ``IntegrityError`` for a raced ``Idempotency-Key``, the 503
    of the HTTP error table for the rest), without the parameters (they hold the payload).
    """
    sql, constants = _one_statement_sql(engine.dialect)
    params = {**constants, **{f"m_{name}": value for name, value in message.items()},
              "data": body, "detail": detail, "now": now}
    # what UtcDateTime does on the way in: naive UTC
    params["m_received_at"] = params["m_updated_at"] = params["at"] = message["received_at"].replace(tzinfo=None)
    pooled = engine.raw_connection()
    try:
        return _execute_autocommitted(pooled.driver_connection, sql, params)
    except engine.dialect.loaded_dbapi.Error as exc:
        raise driver_error(engine.dialect, sql, exc, pooled.driver_connection, pooled.invalidate) from exc
    finally:
        pooled.close()  # back to the pool


def _execute_autocommitted(driver, sql: str, params: dict[str, Any]) -> int:
    driver.autocommit = True
    try:
        cursor = driver.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
        finally:
            cursor.close()
    finally:
        if not driver.closed:
            driver.autocommit = False  # the pool's other users expect transactions


@lru_cache(maxsize=8)
def _one_statement_sql(dialect: Dialect) -> tuple[str, dict[str, Any]]:
    """:func:`_one_statement` compiled for ``dialect``, and the values of its constant parameters."""
    compiled = _one_statement().compile(dialect=dialect)
    constants = {name: bind.effective_value for bind, name in compiled.bind_names.items() if not bind.required}
    return compiled.string, constants


@cache
def _one_statement():
    """payload + message + event + work item as one PostgreSQL statement (data-modifying CTEs).

    Foreign keys are checked at the end of the statement, when every CTE's row exists.
    """
    payload = (pg_insert(t.payloads)
               .values(sha256=bindparam("m_sha256"), size=bindparam("m_size"), data=bindparam("data"))
               .on_conflict_do_nothing(index_elements=["sha256"]).cte("new_payload"))
    message = t.messages.insert().values(
        {name: bindparam(f"m_{name}", type_=column.type) for name, column in t.messages.c.items()
         if name not in ("source_key", "channel_config", "parent_id")}).cte("new_message")
    event = t.events.insert().values(
        message_id=bindparam("m_id"), stage="ingest", outcome="ok", duration_ms=0.0, detail=bindparam("detail"),
        at=bindparam("at", type_=t.events.c.at.type)).cte("new_event")
    return (t.work_items.insert()
            .values(message_id=bindparam("m_id"), stage=FIRST_STAGE, generation=0, state="pending", attempts=0,
                    available_at=bindparam("now"), dispatched_at=bindparam("now"),
                    created_at=bindparam("at", type_=t.work_items.c.created_at.type),
                    updated_at=bindparam("at", type_=t.work_items.c.updated_at.type))
            .returning(t.work_items.c.id)
            .add_cte(payload, message, event))
