"""Duplicate detection with a window, enforced by the primary key of ``dedupe_keys``.

Scopes: ``isa`` (sender, ISA13), ``sha`` (sender, content hash) and ``gs`` (sender, GS06). Within
a fresh group (GS06 not seen in the window) every (GS06, ST02) pair is fresh too, so set-level
duplicates are caught by the group key without a row per set.

Concurrent claims of one key serialize on the primary key: PostgreSQL makes the second
``INSERT … ON CONFLICT DO NOTHING`` wait for the first transaction, SQLite has one writer. So of
fifty simultaneous copies exactly one claims the key (FAULTS F16).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import insert_ignore, is_postgres

__all__ = ["claim_key"]


def claim_key(conn: Connection, scope: str, key: str, message_id: str, *, now: float,
              window_s: float) -> str | None:
    """Claim ``key`` for ``message_id`` unless another message holds it within the window.

    Args:
        conn: the stage's connection (the claim commits or rolls back with the stage).
        scope: ``isa``, ``sha`` or ``gs``.
        key: e.g. ``"ZZ:SENDER:000000001"``.
        message_id: the claiming message.
        now: epoch seconds.
        window_s: how long a claim blocks others.

    Returns:
        None when the key is ours (new, ours already on a replay, or the old claim expired);
        otherwise the id of the message that holds it.
    """
    key = key[:200]
    if insert_ignore(conn, t.dedupe_keys, {"scope": scope, "key": key, "message_id": message_id, "seen_at": now},
                     ("scope", "key")):
        return None
    keys = t.dedupe_keys
    query = select(keys.c.message_id, keys.c.seen_at).where(keys.c.scope == scope, keys.c.key == key)
    if is_postgres(conn):
        query = query.with_for_update()
    row = conn.execute(query).one()
    if row.message_id == message_id:
        return None
    if row.seen_at < now - window_s:
        conn.execute(update(keys).where(keys.c.scope == scope, keys.c.key == key)
                     .values(message_id=message_id, seen_at=now))
        return None
    return row.message_id
