"""Operator actions: replay one or many messages, retry a failed delivery, mark resolved with a comment.

Every action leaves a note on the message (``message_notes``: who, what, when, the comment),
shown on its detail page; replays and delivery retries also go to the audit log
(:func:`crossdock.gateway.audit.record_audit`, kind ``replay``). Replaying is
:func:`crossdock.gateway.replay.replay`: stages skip what already exists, so effects stay
exactly-once however often an operator presses the button.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import select
from sqlalchemy.engine import Connection

from crossdock.gateway.audit import record_audit
from crossdock.gateway.observability.logs import bind_message
from crossdock.gateway.queries import MessageNotFound
from crossdock.gateway.replay import replay
from crossdock.gateway.runtime import Runtime
from crossdock.gateway.store import schema as t
from crossdock.schemas.errors import CrossdockError

__all__ = ["ActionRefused", "ActionResult", "replay_messages", "retry_delivery", "resolve", "add_note",
           "MAX_BATCH", "MAX_COMMENT"]

log = structlog.get_logger("crossdock.ops")
MAX_BATCH = 500
MAX_COMMENT = 2000


class ActionRefused(CrossdockError):
    """The action does not apply (e.g. retrying the delivery of an inbound message)."""

    code = "ACTION_REFUSED"


@dataclass(frozen=True, slots=True)
class ActionResult:
    message_id: str
    status: str
    error: str | None = None


def add_note(conn: Connection, message_id: str, action: str, actor: str, comment: str | None, at: datetime) -> None:
    """Append a note (inside the caller's transaction)."""
    conn.execute(t.message_notes.insert().values(message_id=message_id, action=action, actor=actor[:120],
                                                 comment=(comment or None) and comment[:MAX_COMMENT], at=at))


def _now(runtime: Runtime) -> datetime:
    return datetime.fromtimestamp(runtime.clock(), UTC)


def _record(runtime: Runtime, message_id: str, action: str, actor: str, comment: str | None,
            status: str) -> None:
    at = _now(runtime)
    with runtime.engine.begin() as conn:
        add_note(conn, message_id, action, actor, comment, at)
        partner_id = conn.execute(select(t.messages.c.partner_id).where(t.messages.c.id == message_id)).scalar()
        record_audit(conn, "replay", actor=actor, partner_id=partner_id, message_id=message_id,
                     detail={"action": action, "status": status}, at=at)


def replay_messages(runtime: Runtime, message_ids: Iterable[str], *, actor: str,
                    comment: str | None = None) -> list[ActionResult]:
    """Replay messages one by one (each in its own transaction); a missing id does not stop the rest.

    Args:
        runtime: the process runtime (engine, dispatch, clock).
        message_ids: the messages (at most :data:`MAX_BATCH`).
        actor: who asked (``user:<name>``).
        comment: optional reason, kept in the note.

    Returns:
        One result per id, in order.

    Raises:
        ActionRefused: more than :data:`MAX_BATCH` ids.
    """
    ids = list(dict.fromkeys(i.strip() for i in message_ids if i and i.strip()))
    if len(ids) > MAX_BATCH:
        raise ActionRefused(f"replay at most {MAX_BATCH} messages at once")
    results = []
    for message_id in ids:
        with bind_message(message_id, stage="replay"):
            try:
                status = replay(runtime, message_id, None)
            except MessageNotFound as exc:
                results.append(ActionResult(message_id, "not_found", exc.code))
                continue
            _record(runtime, message_id, "replay", actor, comment, status)
            log.info("replayed by operator", actor=actor, status=status)
        results.append(ActionResult(message_id, status))
    return results


def retry_delivery(runtime: Runtime, message_id: str, *, actor: str, comment: str | None = None) -> ActionResult:
    """Queue the delivery of an outbound message again (after fixing the partner's channel).

    Raises:
        MessageNotFound: no such message.
        ActionRefused: the message is not outbound or has no channel.
    """
    with runtime.engine.connect() as conn:
        row = conn.execute(select(t.messages.c.direction, t.messages.c.channel_config)
                           .where(t.messages.c.id == message_id)).first()
    if row is None:
        raise MessageNotFound(f"no message {message_id}")
    if row.direction != "outbound" or row.channel_config is None:
        raise ActionRefused("only outbound messages with a delivery channel can be re-delivered")
    with bind_message(message_id, stage="deliver"):
        status = replay(runtime, message_id, None)
        _record(runtime, message_id, "retry_delivery", actor, comment, status)
        log.info("delivery retried by operator", actor=actor, status=status)
    return ActionResult(message_id, status)


def resolve(runtime: Runtime, message_id: str, *, actor: str, comment: str) -> ActionResult:
    """Mark a message resolved with a comment (it leaves the "needs attention" lists).

    Raises:
        MessageNotFound: no such message.
        ActionRefused: an empty comment (a resolution says what was done).
    """
    comment = (comment or "").strip()
    if not comment:
        raise ActionRefused("say what was done: a resolution needs a comment")
    at = _now(runtime)
    with runtime.engine.begin() as conn:
        status = conn.execute(select(t.messages.c.status).where(t.messages.c.id == message_id)).scalar()
        if status is None:
            raise MessageNotFound(f"no message {message_id}")
        add_note(conn, message_id, "resolved", actor, comment, at)
    with bind_message(message_id):
        log.info("resolved by operator", actor=actor)
    return ActionResult(message_id, status)
