"""Replay: re-run a message from its stored raw bytes; effects stay exactly-once.

Failed or dead work items go back to ``pending`` with a fresh attempt budget; a message whose
work all finished starts again as a new generation, and every stage skips what already exists
(see :mod:`.workflow.stages`). Outbound messages replay their delivery.
"""

from __future__ import annotations

from datetime import UTC, datetime

from crossdock.gateway.queries import visible
from crossdock.gateway.runtime import Runtime
from crossdock.gateway.workflow.outbox import add_event, reset_for_replay
from crossdock.gateway.workflow.stages import INBOUND_FIRST_STAGE, set_message_status

__all__ = ["replay"]


def replay(runtime: Runtime, message_id: str, scope: int | None) -> str:
    """Queue a message again.

    Args:
        runtime: process runtime.
        message_id: the message.
        scope: the caller's partner id (None for the host), for visibility.

    Returns:
        The message status after queuing (``replaying`` when work was queued).

    Raises:
        MessageNotFound: no such message visible to the caller.
    """
    now = runtime.clock()
    with runtime.engine.begin() as conn:
        row = visible(conn, message_id, scope)
        first = "deliver" if row.direction == "outbound" else INBOUND_FIRST_STAGE
        work_ids = reset_for_replay(conn, message_id, first, now=now)
        status = row.status
        if work_ids:
            status = "replaying"
            set_message_status(conn, message_id, status, at=datetime.fromtimestamp(now, UTC))
            add_event(conn, message_id, "replay", "ok", 0.0, f"{len(work_ids)} work item(s) queued", now=now)
    for work_id in work_ids:
        runtime.dispatch(work_id)
    return status
