"""Security events of the message flow (BAD_INPUT 21, 22): one function, one place to redirect.

The workflow calls :func:`record_security_event` when an envelope names a receiver that is not
us or a sender other than the authenticated partner; the event lands in the audit log
(:mod:`crossdock.gateway.audit`) in the stage's own transaction, so it exists exactly when the
stage's outcome does. A refused sender therefore ends the parse stage with a failure *result*
(not an exception, which would roll the event back), and the runner commits both. Details hold
ids and counts, never payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection

from crossdock.gateway.audit import record_audit

__all__ = ["record_security_event", "ACTOR"]

#: who records these events: the workflow itself
ACTOR = "system"


def record_security_event(conn: Connection, kind: str, *, partner_id: int | None, message_id: str | None = None,
                          detail: Mapping[str, Any] | None = None) -> None:
    """Record one security event inside the caller's transaction.

    Args:
        conn: the stage's connection.
        kind: an audit kind, e.g. ``receiver_unknown``, ``sender_mismatch``.
        partner_id: the authenticated partner concerned, if any.
        message_id: the message that carried it.
        detail: ids and counts (an ISA receiver id, a control number), never payload.
    """
    record_audit(conn, kind, actor=ACTOR, partner_id=partner_id, message_id=message_id, detail=dict(detail or {}))
