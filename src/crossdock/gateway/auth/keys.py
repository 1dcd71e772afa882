"""API keys: random, shown once, stored as sha256, several per partner, revocable, last-used time.

A key looks like ``cdk_<43 url-safe characters>`` (256 random bits); its public id
``key_<12 hex>`` names it in listings, the audit log and ``crossdock keys revoke``. A key may
carry a signing secret: requests then also send ``X-Crossdock-Timestamp`` and
``X-Crossdock-Signature: v1=HMAC-SHA256(secret, "{timestamp}.{body}")`` (the same scheme as our
outbound webhooks). The secret is kept in the database because HMAC verification needs it;
with ``require_signature`` unsigned requests with that key are refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection

from crossdock.gateway.audit import record_audit
from crossdock.gateway.auth.errors import NotVisible
from crossdock.gateway.partners import Partner, hash_api_key
from crossdock.gateway.store import schema as t

__all__ = ["KEY_PREFIX", "NewKey", "KeyRecord", "KeyMatch", "generate_key", "store_key", "create_key",
           "revoke_key", "list_keys", "lookup_key", "touch_key"]

KEY_PREFIX = "cdk_"
#: last-used times are written at most this often per key (a write per request would be waste)
TOUCH_EVERY_S = 60.0


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just created: the only moment ``key`` (and ``signing_secret``) exist in clear."""

    id: str
    partner_id: int
    key: str
    signing_secret: str | None
    require_signature: bool


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A key as listed: never the key itself, never its secret."""

    id: str
    partner_id: int
    partner_code: str
    prefix: str
    label: str | None
    signed: bool
    require_signature: bool
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class KeyMatch:
    """What authentication learns from a key."""

    id: str
    partner: Partner
    signing_secret: str | None
    require_signature: bool
    revoked: bool


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _key_id() -> str:
    return "key_" + secrets.token_hex(6)


def store_key(conn: Connection, partner_id: int, key: str, *, label: str | None, actor: str, now: datetime,
              signing_secret: str | None = None, require_signature: bool = False) -> str:
    """Insert the hash of a given key; returns its id (fixtures and the demo use known keys)."""
    key_id = _key_id()
    conn.execute(t.api_keys.insert().values(
        id=key_id, partner_id=partner_id, key_hash=hash_api_key(key), prefix=key[:8], label=label,
        signing_secret=signing_secret, require_signature=require_signature, created_at=now,
        created_by=actor[:160]))
    return key_id


def create_key(conn: Connection, partner_id: int, *, actor: str, label: str | None = None, signed: bool = False,
               client: str | None = None, now: datetime | None = None) -> NewKey:
    """Issue a new random key for a partner (audited; caller commits).

    Args:
        conn: connection inside the caller's transaction.
        partner_id: the partner.
        actor: audit actor.
        label: free text, e.g. ``"ERP 2025 rotation"``.
        signed: also issue a signing secret and require signed requests with this key.
        client: client address for the audit log.
        now: the time.

    Returns:
        The key in clear, to be shown once.
    """
    now = now or datetime.now(UTC)
    key = generate_key()
    secret = secrets.token_urlsafe(32) if signed else None
    key_id = store_key(conn, partner_id, key, label=label, actor=actor, now=now, signing_secret=secret,
                       require_signature=signed)
    record_audit(conn, "key_created", actor=actor, partner_id=partner_id, subject=key_id, client=client, at=now,
                 detail={"signed": signed})
    return NewKey(key_id, partner_id, key, secret, signed)


def _records(conn: Connection, *conditions) -> list[KeyRecord]:
    k = t.api_keys
    rows = conn.execute(select(k, t.partners.c.code).join(t.partners, t.partners.c.id == k.c.partner_id)
                        .where(*conditions).order_by(k.c.created_at, k.c.id)).all()
    return [KeyRecord(r.id, r.partner_id, r.code, r.prefix, r.label, r.signing_secret is not None,
                      r.require_signature, r.created_at, r.created_by, r.last_used_at, r.revoked_at) for r in rows]


def list_keys(conn: Connection, *, scope: int | None, partner_id: int | None = None,
              include_revoked: bool = True) -> list[KeyRecord]:
    """Keys visible to the caller (``scope``: its partner id, or None for admins)."""
    conditions = []
    for value in (scope, partner_id):
        if value is not None:
            conditions.append(t.api_keys.c.partner_id == value)
    if not include_revoked:
        conditions.append(t.api_keys.c.revoked_at.is_(None))
    return _records(conn, *conditions)


def revoke_key(conn: Connection, key_id: str, *, actor: str, scope: int | None, client: str | None = None,
               now: datetime | None = None) -> KeyRecord:
    """Revoke a key (idempotent; audited once).

    Raises:
        NotVisible: no such key, or another partner's (404 either way).
    """
    now = now or datetime.now(UTC)
    found = _records(conn, t.api_keys.c.id == key_id)
    if not found or (scope is not None and found[0].partner_id != scope):
        raise NotVisible(f"no key {key_id}", code="KEY_NOT_FOUND")
    if found[0].revoked_at is None:
        conn.execute(update(t.api_keys).where(t.api_keys.c.id == key_id).values(revoked_at=now))
        record_audit(conn, "key_revoked", actor=actor, partner_id=found[0].partner_id, subject=key_id,
                     client=client, at=now)
    return _records(conn, t.api_keys.c.id == key_id)[0]


def lookup_key(conn: Connection, key: str) -> KeyMatch | None:
    """The key's partner and signing policy, or None for a key we never issued."""
    row = conn.execute(select(t.api_keys, t.partners.c.code, t.partners.c.name, t.partners.c.kind,
                              t.partners.c.status, t.partners.c.rate_limit_per_minute)
                       .join(t.partners, t.partners.c.id == t.api_keys.c.partner_id)
                       .where(t.api_keys.c.key_hash == hash_api_key(key))).first()
    if row is None:
        return None
    partner = Partner(row.partner_id, row.code, row.name, row.kind, row.status, row.rate_limit_per_minute)
    return KeyMatch(row.id, partner, row.signing_secret, row.require_signature, row.revoked_at is not None)


def touch_key(conn: Connection, key_id: str, now: datetime) -> None:
    """Record use, at most once per :data:`TOUCH_EVERY_S` per key."""
    stale = now - timedelta(seconds=TOUCH_EVERY_S)
    conn.execute(update(t.api_keys).where(
        t.api_keys.c.id == key_id, or_(t.api_keys.c.last_used_at.is_(None), t.api_keys.c.last_used_at < stale))
        .values(last_used_at=now))
