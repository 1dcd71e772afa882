"""Acknowledgement tracking: what partners owe us (overdue 997/999) and what they refused.

* **Overdue**: an outbound X12 group we sent awaits a 997/999 (``acks`` row, direction
  ``expected``). It is overdue at ``now`` when it is still ``pending`` past its due time, or the
  sweeper already marked it ``overdue``. The due time is the partner's agreed window after the
  send (``AgreementConfig.ack_within_hours`` of the outbound agreement),
  else the ``due_at`` stamped at send time from ``workflow.ack_overdue_after_s``. ``now`` is
  always passed in, so a test moves the clock instead of waiting.
* **Rejected**: a partner's 997/999 with AK9/IK9 ``R`` (rejected) or ``P`` (partially accepted),
  listed with the set-level codes and segment/element errors it carried (from its canonical
  ``functional_ack`` document).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from crossdock.gateway.store import schema as t

__all__ = ["OverdueAck", "RejectedAck", "overdue_acks", "rejected_acks", "agreed_windows", "WINDOW_FIELD"]

#: the outbound agreement field giving the partner's ack window, in hours
WINDOW_FIELD = "ack_within_hours"
OPEN_STATUSES = ("pending", "overdue")


@dataclass(frozen=True, slots=True)
class OverdueAck:
    ack_id: int
    message_id: str
    partner: str | None
    kind: str
    interchange_control: str | None
    group_control: str | None
    sent_at: datetime
    due_at: datetime
    overdue_s: float


@dataclass(frozen=True, slots=True)
class RejectedAck:
    ack_message_id: str
    partner: str | None
    kind: str
    status: str
    group_control: str | None
    received_at: datetime
    answered_message_id: str | None
    reasons: tuple[str, ...]


def agreed_windows(conn: Connection) -> dict[int, float]:
    """Partner id → agreed ack window in seconds, from outbound agreements that state one."""
    windows: dict[int, float] = {}
    for partner_id, config in conn.execute(select(t.agreements.c.partner_id, t.agreements.c.config)
                                           .where(t.agreements.c.direction == "outbound")):
        hours = (config or {}).get(WINDOW_FIELD)
        if isinstance(hours, (int, float)) and hours > 0:
            windows[partner_id] = min(windows.get(partner_id, hours * 3600.0), hours * 3600.0)
    return windows


def overdue_acks(conn: Connection, now: datetime, *, partner_id: int | None = None,
                 limit: int = 200) -> list[OverdueAck]:
    """Expected acks past their due time at ``now``, most overdue first.

    Args:
        conn: a connection.
        now: the current time (injected).
        partner_id: only this partner's.
        limit: at most this many.

    Returns:
        The overdue acks.
    """
    a = t.acks
    query = select(a).where(a.c.direction == "expected", a.c.status.in_(OPEN_STATUSES))
    if partner_id is not None:
        query = query.where(a.c.partner_id == partner_id)
    windows = agreed_windows(conn)
    codes = dict(conn.execute(select(t.partners.c.id, t.partners.c.code)).all())
    found = []
    for row in conn.execute(query.order_by(a.c.created_at)):
        window = windows.get(row.partner_id)
        due = row.created_at + timedelta(seconds=window) if window is not None else row.due_at
        if due is None or (due >= now and row.status != "overdue"):
            continue
        found.append(OverdueAck(row.id, row.message_id, codes.get(row.partner_id), row.kind,
                                row.interchange_control, row.group_control, row.created_at, due,
                                max((now - due).total_seconds(), 0.0)))
    found.sort(key=lambda ack: -ack.overdue_s)
    return found[:limit]


def _reasons(body: str | None) -> tuple[str, ...]:
    """Readable reasons from a canonical functional_ack body: set codes and segment/element errors."""
    if not body:
        return ()
    try:
        document = json.loads(body)
    except ValueError:
        return ()
    reasons: list[str] = [f"group codes {', '.join(document['group_codes'])}"] if document.get("group_codes") else []
    for set_ack in document.get("sets") or []:
        if set_ack.get("status") in ("A", None) and not set_ack.get("codes"):
            continue
        text = f"{set_ack.get('set_id')} {set_ack.get('control_number')}: {set_ack.get('status')}"
        if set_ack.get("codes"):
            text += f" (codes {', '.join(set_ack['codes'])})"
        reasons.append(text)
        reasons.extend(_segment_reasons(set_ack.get("segment_errors") or []))
    return tuple(reasons)


def _segment_reasons(errors: list[dict[str, Any]]) -> list[str]:
    out = []
    for error in errors:
        where = f"{error.get('segment_id')}@{error.get('position')}"
        elements = ", ".join(f"{e.get('position')}: {e.get('code')}" for e in error.get("elements") or [])
        out.append(f"  segment {where} code {error.get('code')}" + (f"; elements {elements}" if elements else ""))
    return out


def rejected_acks(conn: Connection, *, since: datetime | None = None, limit: int = 200) -> list[RejectedAck]:
    """Partner 997/999s that rejected (or partially accepted) our groups, newest first.

    Args:
        conn: a connection.
        since: only those received at or after this time.
        limit: at most this many.

    Returns:
        The rejections with their reasons.
    """
    a = t.acks
    query = select(a).where(a.c.direction == "received", a.c.status.in_(("rejected", "partially_accepted")))
    if since is not None:
        query = query.where(a.c.created_at >= since)
    rows = conn.execute(query.order_by(a.c.created_at.desc(), a.c.id.desc()).limit(limit)).all()
    if not rows:
        return []
    codes = dict(conn.execute(select(t.partners.c.id, t.partners.c.code)).all())
    ack_messages = sorted({r.message_id for r in rows})
    d = t.documents
    bodies: dict[tuple[str, str], str] = {}
    for message_id, body in conn.execute(select(d.c.message_id, d.c.body).where(
            d.c.message_id.in_(ack_messages), d.c.document_type == "functional_ack")):
        group = (json.loads(body).get("group_control_number") or "").lstrip("0") or "0" if body else ""
        bodies[(message_id, group)] = body
    answered = {(r.ack_message_id, r.group_control): r.message_id for r in conn.execute(
        select(a.c.ack_message_id, a.c.group_control, a.c.message_id).where(
            a.c.direction == "expected", a.c.ack_message_id.in_(ack_messages)))}
    return [RejectedAck(r.message_id, codes.get(r.partner_id), r.kind, r.status, r.group_control, r.created_at,
                        answered.get((r.message_id, r.group_control)),
                        _reasons(bodies.get((r.message_id, r.group_control or ""))))
            for r in rows]
