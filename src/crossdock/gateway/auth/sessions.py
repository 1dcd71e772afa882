"""Web sessions: a random cookie value (stored as sha256) and a CSRF token per session.

Cookie ``crossdock_session``: HttpOnly, SameSite=Lax, Secure in production (settings), path
``/``. Unsafe requests (POST, PUT, PATCH, DELETE) authenticated by the cookie must echo the
session's CSRF token in ``X-CSRF-Token`` or the form field ``_csrf`` (synchronizer token,
checked by the guard). Before login there is no session, so the login form uses a double-submit
token: the cookie ``crossdock_login_csrf`` and the form field must match.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from crossdock.gateway.auth.principal import Principal, roles_for_user
from crossdock.gateway.partners import Partner
from crossdock.gateway.store import schema as t

__all__ = ["SESSION_COOKIE", "LOGIN_CSRF_COOKIE", "CSRF_HEADER", "CSRF_FIELD", "open_session",
           "session_principal", "close_session", "revoke_sessions", "new_token"]

SESSION_COOKIE = "crossdock_session"
LOGIN_CSRF_COOKIE = "crossdock_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "_csrf"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(conn: Connection, user_id: int, ttl_s: float, now: datetime) -> tuple[str, str]:
    """Start a session; returns (cookie value, CSRF token)."""
    token, csrf = new_token(), new_token()
    conn.execute(t.sessions.insert().values(token_hash=_hash(token), user_id=user_id, csrf_token=csrf,
                                            created_at=now, expires_at=now + timedelta(seconds=ttl_s)))
    return token, csrf


def session_principal(conn: Connection, token: str, now: datetime | None = None) -> Principal | None:
    """The user behind a session cookie, or None (unknown, expired, revoked, user disabled)."""
    now = now or datetime.now(UTC)
    s, u, p = t.sessions, t.users, t.partners
    row = conn.execute(
        select(u.c.id, u.c.username, u.c.role, u.c.partner_id, s.c.csrf_token, p.c.code, p.c.name, p.c.kind,
               p.c.status, p.c.rate_limit_per_minute)
        .join(u, u.c.id == s.c.user_id).outerjoin(p, p.c.id == u.c.partner_id)
        .where(s.c.token_hash == _hash(token), s.c.revoked_at.is_(None), s.c.expires_at > now,
               u.c.disabled_at.is_(None))).first()
    if row is None:
        return None
    partner = None if row.partner_id is None else Partner(row.partner_id, row.code, row.name, row.kind, row.status,
                                                          row.rate_limit_per_minute)
    return Principal("user", roles_for_user(row.role), row.username, partner, row.id, row.csrf_token)


def close_session(conn: Connection, token: str, now: datetime) -> None:
    conn.execute(update(t.sessions).where(t.sessions.c.token_hash == _hash(token), t.sessions.c.revoked_at.is_(None))
                 .values(revoked_at=now))


def revoke_sessions(conn: Connection, user_id: int, now: datetime) -> None:
    conn.execute(update(t.sessions).where(t.sessions.c.user_id == user_id, t.sessions.c.revoked_at.is_(None))
                 .values(revoked_at=now))
