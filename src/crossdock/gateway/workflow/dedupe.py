"""Duplicate detection with a window, enforced by the primary key of ``dedupe_keys``.

Scopes: ``isa`` (sender, ISA13), ``sha`` (sender, content hash) and ``gs`` (sender, GS06). Within
a fresh group (GS06 not seen in the window) every (GS06, ST02) pair is fresh too, so set-level
duplicates are caught by the group key without a row per set.

Concurrent claims of one key serialize on the primary key: PostgreSQL makes the second
``INSERT … ON CONFLICT DO NOTHING`` wait for the first transaction, SQLite has one writer. So of
fifty simultaneous copies exactly one claims the key (FAULTS F16).

A worker batch inserts the keys of all its fresh messages ahead in one statement
(:func:`preclaim`), in batch order, so each message's parse finds its keys claimed or held just as
if the messages had run in turn.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from crossdock.gateway.store import schema as t
from crossdock.gateway.store.engine import insert_returning, is_postgres

__all__ = ["claim_key", "claim_keys", "holder", "insert_keys", "preclaim", "release_keys"]


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
    return claim_keys(conn, [(scope, key, window_s)], message_id, now=now)[(scope, key[:200])]


def claim_keys(conn: Connection, claims: list[tuple[str, str, float]], message_id: str, *,
               now: float) -> dict[tuple[str, str], str | None]:
    """:func:`claim_key` for several (scope, key, window_s) at once: one INSERT for the fresh ones.

    Returns:
        (scope, key truncated to 200) → None when ours, else the holding message id.
    """
    wanted = {(scope, key[:200]): window_s for scope, key, window_s in claims}
    inserted = insert_keys(conn, list(wanted), message_id, now=now)
    return {(scope, key): None if (scope, key) in inserted else holder(conn, scope, key, message_id, now, window)
            for (scope, key), window in wanted.items()}


def insert_keys(conn: Connection, keys: list[tuple[str, str]], message_id: str, *, now: float) -> set[tuple[str, str]]:
    """Insert the (scope, key) rows that do not exist yet, in one statement; returns those inserted.

    Keys must be truncated to 200 characters already. For each key not returned, :func:`holder`
    says whether it is ours anyway or another message's.
    """
    if not keys:
        return set()
    # Sorted, so concurrent claimers take the key locks in the same order (no deadlock).
    rows = [{"scope": scope, "key": key, "message_id": message_id, "seen_at": now} for scope, key in sorted(set(keys))]
    return set(insert_returning(conn, _insert_keys(conn.dialect.name), rows))  # type: ignore[arg-type]


def preclaim(conn: Connection, asked: Sequence[tuple[str, Sequence[tuple[str, str]]]], *,
             now: float) -> dict[str, tuple[frozenset[tuple[str, str]], set[tuple[str, str]]]]:
    """:func:`insert_keys` for several messages in one statement, as if each had inserted its keys
    in turn: of two messages asking for one key, the first in ``asked`` gets it.

    Args:
        asked: (message id, its keys truncated to 200) in the order the messages would claim.

    Returns:
        message id → (the keys it asked for, those inserted for it).
    """
    order = {message_id: n for n, (message_id, _) in enumerate(asked)}
    rows = sorted(({"scope": scope, "key": key, "message_id": message_id, "seen_at": now}
                   for message_id, keys in asked for scope, key in set(keys)),
                  key=lambda row: (row["scope"], row["key"], order[row["message_id"]]))
    inserted = set(insert_returning(conn, _insert_keys(conn.dialect.name), rows)) if rows else set()
    result = {message_id: (frozenset(keys), set()) for message_id, keys in asked}
    for row in rows:  # each inserted key is the first asker's (later rows hit its conflict)
        key = (row["scope"], row["key"])
        if key in inserted:
            result[row["message_id"]][1].add(key)
            inserted.discard(key)
    return result


def release_keys(conn: Connection, keys: Iterable[tuple[str, str]], message_id: str) -> None:
    """Delete key rows this message inserted in this transaction but turned out not to need (group
    keys of an interchange that is a duplicate): as if they had never been claimed."""
    wanted = sorted(keys)
    if wanted:
        d = t.dedupe_keys
        conn.execute(delete(d).where(tuple_(d.c.scope, d.c.key).in_(wanted), d.c.message_id == message_id))


@lru_cache(maxsize=2)
def _insert_keys(dialect_name: str):
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return (dialect.insert(t.dedupe_keys).on_conflict_do_nothing(index_elements=["scope", "key"])
            .returning(t.dedupe_keys.c.scope, t.dedupe_keys.c.key))


def holder(conn: Connection, scope: str, key: str, message_id: str, now: float, window_s: float) -> str | None:
    """A key that exists: None when ours (a replay) or expired (taken now), else its holder."""
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
