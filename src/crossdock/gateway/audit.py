"""The audit log: security-relevant events as rows, written in the caller's transaction.

Kinds (stable strings; the detail holds ids and counts, never payloads, passwords or keys):

=======================  ==============================================================
kind                     when
=======================  ==============================================================
``login_ok``             a person logged in (``subject`` = user name)
``login_failed``         wrong user or password (counted for login throttling)
``login_throttled``      a login refused because of too many recent failures
``logout``               a session ended
``user_created``         ``crossdock users create`` or the API
``user_disabled``        a user can no longer log in
``key_created``          an API key was issued (``subject`` = key id)
``key_revoked``          an API key was revoked
``partner_created``      the registry gained a partner (``subject`` = partner code)
``partner_updated``      a partner's profile, identities or agreements changed
``partner_deleted``      a partner left the registry
``sender_mismatch``      authenticated as one partner, the envelope names another (spoofing)
``sender_unknown``       an envelope sender no partner owns
``receiver_unknown``     an envelope receiver that is not us
``signature_invalid``    a signed request failed verification
``csrf_rejected``        a form post without the session's CSRF token
``rate_limited``         a principal went over its request rate (first refusal per window)
``replay``               a message was replayed (``message_id``)
=======================  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from crossdock.gateway.store import schema as t

__all__ = ["AUDIT_KINDS", "AuditFilter", "record_audit", "list_audit"]

AUDIT_KINDS = frozenset({
    "login_ok", "login_failed", "login_throttled", "logout", "user_created", "user_disabled",
    "key_created", "key_revoked", "partner_created", "partner_updated", "partner_deleted",
    "sender_mismatch", "sender_unknown", "receiver_unknown", "signature_invalid", "csrf_rejected",
    "rate_limited", "replay",
})
MAX_PAGE = 500


def record_audit(conn: Connection, kind: str, *, actor: str, partner_id: int | None = None,
                 subject: str | None = None, message_id: str | None = None, client: str | None = None,
                 detail: dict[str, Any] | None = None, at: datetime | None = None) -> None:
    """Append one audit row inside the caller's transaction.

    Args:
        conn: connection in the transaction that makes the change (so both commit together).
        kind: one of :data:`AUDIT_KINDS`.
        actor: who did it: ``user:<name>``, ``key:<key id>``, ``cli:<os user>`` or ``system``.
        partner_id: the partner concerned, if any.
        subject: what was acted on (key id, partner code, user name).
        message_id: the message concerned, if any.
        client: the client address, if known.
        detail: ids and counts only.
        at: the time (default now).

    Raises:
        ValueError: an unknown kind (a programming error, never input).
    """
    if kind not in AUDIT_KINDS:
        raise ValueError(f"unknown audit kind {kind!r}")
    conn.execute(t.audit_log.insert().values(
        at=at or datetime.now(UTC), kind=kind, actor=actor[:160], partner_id=partner_id,
        subject=subject[:160] if subject else None, message_id=message_id,
        client=client[:64] if client else None, detail=detail or {}))


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Audit search; every field optional.

    Attributes:
        kind: one kind.
        partner_id: rows about this partner.
        subject: rows about this key id, partner code or user name.
        since: inclusive lower bound.
        before_id: cursor: rows older than this id (from the previous page).
        limit: page size (capped at 500).
    """

    kind: str | None = None
    partner_id: int | None = None
    subject: str | None = None
    since: datetime | None = None
    before_id: int | None = None
    limit: int = 100


def list_audit(conn: Connection, criteria: AuditFilter) -> dict[str, Any]:
    """One page of audit rows, newest first, and the cursor of the next page (None at the end)."""
    a = t.audit_log
    conditions = []
    for column, value in ((a.c.kind, criteria.kind), (a.c.partner_id, criteria.partner_id),
                          (a.c.subject, criteria.subject)):
        if value is not None:
            conditions.append(column == value)
    if criteria.since is not None:
        conditions.append(a.c.at >= criteria.since)
    if criteria.before_id is not None:
        conditions.append(a.c.id < criteria.before_id)
    limit = max(1, min(criteria.limit, MAX_PAGE))
    rows = conn.execute(select(a).where(*conditions).order_by(a.c.id.desc()).limit(limit + 1)).all()
    page = [dict(r._mapping) for r in rows[:limit]]
    return {"items": page, "next_cursor": page[-1]["id"] if len(rows) > limit else None}
